"""Layers whose parameters follow the input size: an ``fc`` after a flatten takes C·H·W
inputs, so the same file at another ``--input`` (or in a sweep) has other weights. Found by
building the file at its own input too and comparing layer by layer, by name."""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape
from cnncalc.model.graph import Graph, build_graph
from cnncalc.model.spec import NetworkSpec


@dataclass(frozen=True)
class Resized:
    """One layer at this input and at the file's: what it takes in and its parameters."""

    name: str
    kind: str
    in_shape: Shape
    file_in_shape: Shape
    out_shape: Shape
    params: int
    file_params: int


def resized_layers(spec: NetworkSpec, graph: Graph, file_graph: Graph | None = None) -> tuple:
    """The layers of ``graph`` whose parameters differ from the same layer's when the network
    is built at the file's own input; () when ``graph`` is built at that input."""
    if spec.input is None or tuple(graph.input) == tuple(spec.input):
        return ()
    if file_graph is None:
        try:
            file_graph = build_graph(spec)
        except CnnCalcError:  # the file's own input fails: nothing to compare with
            return ()
    at_file = {n.name: n for n in file_graph.nodes}
    out = []
    for node in graph.nodes:
        there = at_file.get(node.name)
        if there is None or type(there.layer) is not type(node.layer):
            continue
        here_params = node.layer.params(node.in_shape)
        file_params = there.layer.params(there.in_shape)
        if here_params != file_params:
            out.append(
                Resized(
                    node.name,
                    node.kind,
                    node.in_shape,
                    there.in_shape,
                    node.out_shape,
                    here_params,
                    file_params,
                )
            )
    return tuple(out)

"""Layers whose parameters follow the input size: an ``fc`` after a flatten takes C·H·W
inputs, so the same file at another ``--input`` (or in a sweep) has other weights. Found by
building the file at its own input too and comparing layer by layer, by name."""

from __future__ import annotations

from typing import NamedTuple, Sequence

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape
from cnncalc.model.graph import Graph, Node, build_graph
from cnncalc.model.spec import NetworkSpec


class Resized(NamedTuple):
    """One layer at this input and at the file's: what it takes in and its parameters. (A
    named tuple: a frozen dataclass compiles five methods at import, issue 11: start-up.)"""

    name: str
    kind: str
    in_shape: Shape
    file_in_shape: Shape
    out_shape: Shape
    params: int
    file_params: int


def file_params(file_graph: Graph) -> dict[str, tuple[Node, int]]:
    """Each layer of the network at the file's own input, by name, with its parameters
    (worked out once for a sweep of many sizes)."""
    return {n.name: (n, n.layer.params(n.in_shape)) for n in file_graph.nodes}


def resized_layers(
    spec: NetworkSpec,
    graph: Graph,
    file_graph: Graph | None = None,
    params: Sequence[int] | None = None,
    at_file: dict[str, tuple[Node, int]] | None = None,
) -> tuple:
    """The layers of ``graph`` whose parameters differ from the same layer's when the network
    is built at the file's own input; () when ``graph`` is built at that input. ``params``:
    the parameters of ``graph``'s nodes where already counted (an analysis's); ``at_file``:
    :func:`file_params` of the file's graph, where already worked out."""
    if spec.input is None or tuple(graph.input) == tuple(spec.input):
        return ()
    if at_file is None:
        if file_graph is None:
            try:
                file_graph = build_graph(spec)
            except CnnCalcError:  # the file's own input fails: nothing to compare with
                return ()
        at_file = file_params(file_graph)
    out = []
    for i, node in enumerate(graph.nodes):
        found = at_file.get(node.name)
        if found is None:
            continue
        there, file_count = found
        if type(there.layer) is not type(node.layer):
            continue
        here = node.layer.params(node.in_shape) if params is None else params[i]
        if here != file_count:
            out.append(
                Resized(
                    node.name,
                    node.kind,
                    node.in_shape,
                    there.in_shape,
                    node.out_shape,
                    here,
                    file_count,
                )
            )
    return tuple(out)

"""The working behind the numbers: each layer's formulas with its numbers in them.

The formulas themselves belong to the layer kinds (``Kind.explain``) and to
the conventions (``Convention.explain``); this module picks, for one command,
the lines that explain what that command prints, layer by layer. Nothing here
prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.analysis.stats import Analysis, layer_basis
from cnncalc.conventions.quantities import TERMS
from cnncalc.kinds.arith import Field, Shape
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.joins import JoinKind
from cnncalc.model.graph import INPUT, Graph, Node

TOPICS = ("shape", "params", "flops", "all")
"""What a working explains: the shapes, the parameters, the operations, or all three."""


@dataclass(frozen=True)
class LayerWorking:
    name: str
    kind: str
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    lines: tuple[Formula, ...]


@dataclass(frozen=True)
class Working:
    """One network's analysis with the working of each layer for one topic."""

    analysis: Analysis
    topic: str
    layers: tuple[LayerWorking, ...]

    def layer(self, name: str) -> LayerWorking:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)


def node_formulas(node: Node) -> list[Formula]:
    """Every line a node's kind can explain (a join explains its merge)."""
    if isinstance(node.layer, JoinKind):
        shapes = list(node.in_shapes)
        return node.layer.explain_merge(shapes, node.out_shape) + node.layer.explain_field(
            list(node.in_fields), shapes, node.out_shape
        )
    return node.layer.explain(node.in_shape, node.out_shape)


def node_lines(
    node: Node, topic: str, analysis: Analysis, before: Field | None = None
) -> tuple[Formula, ...]:
    """The lines of one node that explain ``topic``, per sample. For the shapes, the
    receptive field after them (``before``: the field the node's input carries). For the
    operations: the kind's lines for the counts the convention weighs, then the
    convention's own."""
    formulas = node_formulas(node)
    if before is not None and len(node.inputs) == 1:
        formulas += node.layer.explain_receptive(before, node.field)
    if topic in ("shape", "params"):
        return tuple(f for f in formulas if f.topic == topic)
    convention = analysis.convention
    ours = convention.explain(layer_basis(node, 1, analysis.deconv))
    if topic == "all":
        return tuple(formulas + ours)
    weighed = {TERMS[t] for t in convention.terms()}
    return tuple([f for f in formulas if f.what in weighed] + ours)


def work(graph: Graph, analysis: Analysis, topic: str) -> Working:
    """The working of every layer of an analysed graph, for one topic."""
    if topic not in TOPICS:
        raise ValueError(topic)
    start = Field.of_input(len(graph.input) - 1)

    def field_in(node: Node) -> Field:
        return start if node.inputs[0] == INPUT else graph.nodes[node.inputs[0]].field

    layers = tuple(
        LayerWorking(
            node.name,
            node.kind,
            node.in_shapes,
            node.out_shape,
            node_lines(node, topic, analysis, field_in(node)),
        )
        for node in graph.nodes
    )
    return Working(analysis, topic, layers)

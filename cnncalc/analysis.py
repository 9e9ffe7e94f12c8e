"""Layer graph → per-layer statistics and totals, under one convention.

Every count is an exact int for the whole batch. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .arith import Shape, prod
from .conventions import Basis, Convention, Figures, get_convention
from .graph import Graph, Node
from .kinds import Add, state_size
from .ops import Ops, total_ops

BYTES_PER_VALUE = 4
"""Memory columns assume float32, as torchinfo and Keras do."""


@dataclass(slots=True)
class LayerStats:
    name: str
    kind: str
    in_shape: Shape
    out_shape: Shape
    params: int
    buffers: int
    state_dict: tuple[tuple[str, Shape], ...]
    connections: int
    ops: Ops
    figures: Figures
    activations: int
    rf: tuple[Fraction, ...]
    jump: tuple[Fraction, ...]
    depth: int
    weighted: bool
    network_flops: int
    basis: Basis
    """What the conventions weigh (the raw ops and the textbook counts), whole batch."""

    @property
    def share(self) -> Fraction:
        """This layer's part of the network's FLOPs under the convention."""
        return Fraction(self.flops, self.network_flops) if self.network_flops else Fraction(0)

    @property
    def mults(self) -> int:
        return self.figures.mults

    @property
    def adds(self) -> int:
        return self.figures.adds

    @property
    def macs(self) -> int:
        return self.figures.macs

    @property
    def flops(self) -> int:
        return self.figures.flops

    @property
    def memory(self) -> int:
        """Bytes of parameters and buffers, float32."""
        return (self.params + self.buffers) * BYTES_PER_VALUE


@dataclass(frozen=True)
class Totals:
    params: int
    buffers: int
    connections: int
    ops: Ops
    figures: Figures
    activations: int
    depth: int
    basis: Basis

    @property
    def mults(self) -> int:
        return self.figures.mults

    @property
    def adds(self) -> int:
        return self.figures.adds

    @property
    def macs(self) -> int:
        return self.figures.macs

    @property
    def flops(self) -> int:
        return self.figures.flops

    @property
    def memory(self) -> int:
        return (self.params + self.buffers) * BYTES_PER_VALUE

    @property
    def activation_memory(self) -> int:
        return self.activations * BYTES_PER_VALUE


@dataclass(frozen=True)
class Analysis:
    network: str
    file: str | None
    input: Shape
    output: Shape
    batch: int
    convention: Convention
    layers: tuple[LayerStats, ...]
    total: Totals

    @property
    def depth(self) -> int:
        return self.total.depth


def node_ops(node: Node) -> Ops:
    """Raw operations of one node for one sample."""
    if isinstance(node.layer, Add):
        return node.layer.merge_ops(list(node.in_shapes))
    return node.layer.ops(node.in_shape, node.out_shape)


def layer_basis(node: Node, batch: int = 1) -> Basis:
    """The raw operations of one node and the counts textbooks weigh, for the batch."""
    layer, x, y = node.layer, node.in_shape, node.out_shape
    ops = node_ops(node).times(batch)
    if not layer.weighted:
        return Basis(ops)
    return Basis(ops, layer.weights(x), prod(y) * batch, layer.connections(x, y) * batch)


def analyse(graph: Graph, batch: int = 1, convention: str | Convention = "macs") -> Analysis:
    """Per-layer parameters, buffers, connections, operations and memory, and totals."""
    conv = get_convention(convention) if isinstance(convention, str) else convention
    raw = []
    for node in graph.nodes:
        x = node.in_shape
        basis = layer_basis(node, batch)
        raw.append((node, basis, conv.figures(basis), node.layer.state(x)))
    network_ops = total_ops(r[1].ops for r in raw)
    network = Basis(network_ops, *(sum(getattr(r[1], f) for r in raw)
                                   for f in ("weights", "maps", "connections")))
    total_figures = conv.figures(network)
    layers = []
    for node, basis, figures, state in raw:
        x = node.in_shape
        layers.append(LayerStats(
            name=node.name, kind=node.kind, in_shape=x, out_shape=node.out_shape,
            params=state_size(state, "param"), buffers=state_size(state, "buffer"),
            state_dict=tuple((f"{node.name}.{e.name}", e.shape) for e in state),
            connections=node.layer.connections(x, node.out_shape),
            ops=basis.ops, figures=figures, activations=prod(node.out_shape) * batch,
            rf=node.field.rf, jump=node.field.jump, depth=node.depth,
            weighted=node.layer.weighted,
            network_flops=total_figures.flops, basis=basis))
    total = Totals(
        params=sum(l.params for l in layers), buffers=sum(l.buffers for l in layers),
        connections=sum(l.connections for l in layers), ops=network_ops, figures=total_figures,
        activations=sum(l.activations for l in layers), depth=graph.depth, basis=network)
    return Analysis(graph.name, graph.file, graph.input, graph.out_shape, batch, conv,
                    tuple(layers), total)

"""Layer graph → per-layer statistics and totals, under one convention.

Every count is an exact int for the whole batch. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnncalc.conventions.engine import NO_FIGURES, Basis, Convention, Figures
from cnncalc.conventions.presets import CONVENTIONS, get_convention
from cnncalc.conventions.site import DeconvCount, Site
from cnncalc.kinds.arith import Shape, prod
from cnncalc.kinds.base import state_size
from cnncalc.kinds.joins import Broadcasting
from cnncalc.kinds.ops import Ops, total_ops
from cnncalc.model.graph import Graph, Node

FP32_BYTES = 4
"""Memory columns assume float32, as torchinfo and Keras do."""


class Counted:
    """The figures and parameter memory of a layer or a network, read off its fields."""

    __slots__ = ()
    figures: Figures
    params: int
    buffers: int

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
        return (self.params + self.buffers) * FP32_BYTES


@dataclass(slots=True)
class LayerStats(Counted):
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


@dataclass(frozen=True)
class NetworkBasis:
    """A network's quantities, each the sum of its layers' (a convention weighs each layer
    by its kind; a sum of quantities is the textbooks' total, e.g. weights + output maps)."""

    layers: tuple[Basis, ...]

    def value(self, term: str) -> int:
        return sum(b.value(term) for b in self.layers)

    @property
    def weights(self) -> int:
        return self.value("weights")

    @property
    def maps(self) -> int:
        return self.value("maps")

    @property
    def connections(self) -> int:
        return self.value("connections")


@dataclass(frozen=True)
class Totals(Counted):
    params: int
    buffers: int
    connections: int
    ops: Ops
    figures: Figures
    activations: int
    depth: int
    basis: NetworkBasis

    @property
    def activation_memory(self) -> int:
        return self.activations * FP32_BYTES


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
    deconv: DeconvCount | None = None
    """``--deconv-count`` when given; None: the convention's own."""
    file_input: Shape | None = None
    """The input the file was written for, when the analysis is at another (--input)."""
    resized: tuple = ()
    """:class:`cnncalc.analysis.resized.Resized`: layers whose parameters differ from
    the file's at its own input (an fc after a flatten)."""
    outputs: tuple[tuple[str, Shape], ...] = ()
    """(layer name, shape) of every output, in ``outputs:`` order; ``output`` is the first."""

    @property
    def depth(self) -> int:
        return self.total.depth


def node_ops(node: Node) -> Ops:
    """Raw operations of one node for one sample."""
    if isinstance(node.layer, Broadcasting):
        return node.layer.merge_ops(list(node.in_shapes))
    return node.layer.ops(node.in_shape, node.out_shape)


def layer_basis(node: Node, batch: int = 1, deconv: DeconvCount | None = None) -> Basis:
    """What the conventions may weigh for one node and a batch (``deconv``: --deconv-count)."""
    return Basis(Site(node.layer, node.in_shape, node.out_shape, node_ops(node)), batch, deconv)


def analyse_graph(
    graph: Graph,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
) -> Analysis:
    """Per-layer parameters, buffers, connections, operations and memory, and totals.
    A network's figure is the sum of its layers' (a convention weighs each kind its way)."""
    conv = get_convention(convention) if isinstance(convention, str) else convention
    raw = []
    seen: dict[tuple, tuple] = {}
    for node in graph.nodes:
        # a repeated block's layers are one object on the same shapes: count them once
        key = (id(node.layer), node.in_shapes, node.out_shape)
        if key not in seen:
            basis = layer_basis(node, batch, deconv)
            seen[key] = (
                basis,
                conv.figures(basis),
                node.layer.state(node.in_shape),
                node.layer.connections(node.in_shape, node.out_shape),
            )
        raw.append((node,) + seen[key])
    network_ops = total_ops(r[1].ops for r in raw)
    total_figures = sum((r[2] for r in raw), NO_FIGURES)
    layers = []
    for node, basis, figures, state, connections in raw:
        x = node.in_shape
        layers.append(
            LayerStats(
                name=node.name,
                kind=node.kind,
                in_shape=x,
                out_shape=node.out_shape,
                params=state_size(state, "param"),
                buffers=state_size(state, "buffer"),
                state_dict=tuple((e.key(node.name), e.shape) for e in state),
                connections=connections,
                ops=basis.ops,
                figures=figures,
                activations=prod(node.out_shape) * batch,
                rf=node.field.rf,
                jump=node.field.jump,
                depth=node.depth,
                weighted=node.layer.weighted,
                network_flops=total_figures.flops,
                basis=basis,
            )
        )
    total = Totals(
        params=sum(l.params for l in layers),
        buffers=sum(l.buffers for l in layers),
        connections=sum(l.connections for l in layers),
        ops=network_ops,
        figures=total_figures,
        activations=sum(l.activations for l in layers),
        depth=graph.depth,
        basis=NetworkBasis(tuple(r[1] for r in raw)),
    )
    return Analysis(
        graph.name,
        graph.file,
        graph.input,
        graph.out_shape,
        batch,
        conv,
        tuple(layers),
        total,
        deconv,
        outputs=tuple((graph.name_of(i), graph.shape_of(i)) for i in graph.output_nodes),
    )


@dataclass(frozen=True)
class ConventionTotal:
    """One convention's figures for a whole network, beside the ``macs`` convention's."""

    convention: Convention
    figures: Figures
    reference: Figures

    @property
    def reported(self) -> int:
        """The number the convention's tool prints."""
        return self.convention.reported(self.figures)

    @property
    def difference(self) -> Fraction:
        """(reported − the same figure under ``macs``) / that figure: +0.011 is 1.1 % more."""
        base = self.convention.reported(self.reference)
        return Fraction(self.reported - base, base) if base else Fraction(0)


@dataclass(frozen=True)
class ConventionTotals:
    """Every convention's totals for one network (``cnncalc flops NET --convention all``)."""

    network: str
    input: Shape
    batch: int
    deconv: DeconvCount | None
    rows: tuple[ConventionTotal, ...]


def convention_totals(
    graph: Graph, batch: int = 1, deconv: DeconvCount | None = None
) -> ConventionTotals:
    """The network's totals under every convention, each layer's quantities worked out once."""
    bases = [layer_basis(node, batch, deconv) for node in graph.nodes]
    totals = {
        name: sum((c.figures(b) for b in bases), NO_FIGURES) for name, c in CONVENTIONS.items()
    }
    rows = tuple(
        ConventionTotal(c, totals[name], totals["macs"]) for name, c in CONVENTIONS.items()
    )
    return ConventionTotals(graph.name, graph.input, batch, deconv, rows)

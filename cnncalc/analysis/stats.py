"""Layer graph → per-layer statistics and totals, under one convention.

Every count is an exact int for the whole batch. Nothing here prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat
from operator import attrgetter, mul
from typing import Any, NamedTuple

from cnncalc.conventions.engine import Basis, Convention, Figures, total_figures
from cnncalc.conventions.presets import CONVENTIONS, get_convention
from cnncalc.conventions.site import DeconvCount, Site
from cnncalc.kinds.arith import Shape, prod
from cnncalc.kinds.base import Kind, StateEntry, param_buffer_sizes
from cnncalc.kinds.ops import Ops
from cnncalc.model.graph import Graph, Node, layer_key

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


class SiteCounts(NamedTuple):
    """What a layer counts on its input and output shapes, whole batch: the same for every
    node that is one layer object on the same shapes (a repeated block's layers), so it is
    worked out once per analysis and shared by those nodes. (A named tuple, made in C.)"""

    layer: Kind
    x: Shape
    y: Shape
    raw: Ops
    """Raw operations for one sample."""
    batch: int
    deconv: DeconvCount | None
    figures: Figures
    ops: Ops
    """Raw operations, whole batch."""
    state: list[StateEntry]
    params: int
    buffers: int
    connections: int
    activations: int

    @property
    def basis(self) -> Basis:
        """What the conventions weigh (raw ops, textbook counts), whole batch: made when
        asked for (the figures read it only for a quantity other than a raw count)."""
        return Basis(Site(self.layer, self.x, self.y, self.raw), self.batch, self.deconv)


def _read(path: str, doc: str | None = None) -> Any:
    """A read-only attribute read through a dotted path (``node.name``). (Typed ``Any``:
    the class annotates each attribute's own type, which is what mypy should check.)"""
    return property(attrgetter(path), doc=doc)


class LayerStats(Counted):
    """One layer's statistics: its node in the graph (name, shapes, receptive field, depth)
    and the counts of its site, read through (nothing is copied per layer, so a network of
    100,000 layers stays small)."""

    __slots__ = ("node", "counts", "network_flops")

    def __init__(self, node: Node, counts: SiteCounts, network_flops: int):
        self.node, self.counts, self.network_flops = node, counts, network_flops

    def __repr__(self) -> str:
        return f"LayerStats({self.name!r}, {self.kind}, {self.out_shape})"

    name: str = _read("node.name")
    kind: str = _read("node.layer.kind")
    in_shape: Shape = _read("node.in_shape")
    out_shape: Shape = _read("node.out_shape")
    rf: tuple[Fraction, ...] = _read("node.field.rf")
    jump: tuple[Fraction, ...] = _read("node.field.jump")
    depth: int = _read("node.depth")
    weighted: bool = _read("node.layer.weighted")
    params: int = _read("counts.params")
    buffers: int = _read("counts.buffers")
    connections: int = _read("counts.connections")
    ops: Ops = _read("counts.ops")
    figures: Figures = _read("counts.figures")
    activations: int = _read("counts.activations")
    basis: Basis = _read(
        "counts.basis", "What the conventions weigh (raw ops, textbook counts), whole batch."
    )

    @property
    def state_dict(self) -> tuple[tuple[str, Shape], ...]:
        """(key, shape) of each tensor, keyed as PyTorch's ``state_dict`` keys it."""
        return tuple((e.key(self.name), e.shape) for e in self.counts.state)

    @property
    def share(self) -> Fraction:
        """This layer's part of the network's FLOPs under the convention."""
        return Fraction(self.flops, self.network_flops) if self.network_flops else Fraction(0)


@dataclass(frozen=True, eq=False)
class NetworkBasis:
    """A network's quantities, each the sum of its layers' (a convention weighs each layer
    by its kind; a sum of quantities is the textbooks' total, e.g. weights + output maps).
    ``counted`` holds each distinct site's counts once, ``times`` the number of layers that
    are it; a site's basis is made when a quantity is asked for."""

    counted: tuple[SiteCounts, ...]
    times: tuple[int, ...]

    def value(self, term: str) -> int:
        return sum(c.basis.value(term) * n for c, n in zip(self.counted, self.times))

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
    return node.layer.site_ops(node.in_shapes, node.out_shape)


def layer_basis(node: Node, batch: int = 1, deconv: DeconvCount | None = None) -> Basis:
    """What the conventions may weigh for one node and a batch (``deconv``: --deconv-count)."""
    return Basis(Site(node.layer, node.in_shapes[0], node.out_shape, node_ops(node)), batch, deconv)


def site_counts(
    node: Node, conv: Convention, batch: int = 1, deconv: DeconvCount | None = None
) -> SiteCounts:
    """The counts of one node's layer on its shapes, whole batch, under a convention."""
    layer, xs, y = node.layer, node.in_shapes, node.out_shape
    x = xs[0]
    raw, state, connections = layer.counts(xs, y)
    weights = conv.layer_weights(layer, len(x) - 1, deconv)
    basis = None
    if weights.terms:
        basis = Basis(Site(layer, x, y, raw), batch, deconv)
    params, buffers = param_buffer_sizes(state) if state else (0, 0)
    return _new(
        SiteCounts,
        (
            layer,
            x,
            y,
            raw,
            batch,
            deconv,
            weights.figures(raw, batch, basis),
            raw.times(batch),
            state,
            params,
            buffers,
            connections,
            prod(y) * batch,
        ),
    )


_new = tuple.__new__
"""A named tuple from all its fields in order, made in C (its own ``__new__`` runs Python)."""


class Sites(NamedTuple):
    """A graph's nodes grouped by site (a layer with equal options on the same shapes: a
    repeated block's layers count alike)."""

    first: list[Node]
    """One node of each distinct site."""
    site_of: list[int]
    """Each node's site, by its place in ``first``."""
    times: list[int]
    """How many nodes each site has."""


def distinct_sites(graph: Graph) -> Sites:
    """The graph's nodes grouped by site (:class:`Sites`)."""
    first: list[Node] = []
    index: list[int] = []
    seen: dict[tuple, int] = {}
    # a layer object's options key as a small int, looked up by the object (a repeated
    # block's nodes share theirs): hashing the options once a layer, not once a node
    options: dict[tuple, int] = {}
    by_layer: dict[int, int] = {}
    for node in graph.nodes:
        layer = node.layer
        known = by_layer.get(id(layer))
        if known is None:
            known = by_layer[id(layer)] = options.setdefault(layer_key(layer), len(options))
        key = (known, node.in_shapes, node.out_shape)
        i = seen.get(key)
        if i is None:
            i = seen[key] = len(first)
            first.append(node)
        index.append(i)
    times = [0] * len(first)
    for i, n in Counter(index).items():
        times[i] = n
    return Sites(first, index, times)


def _times_sum(values: Iterable[int], times: list[int]) -> int:
    """Σ value·times: a network's count from its distinct sites' counts."""
    return sum(map(mul, values, times))


def _site_total(counted: list[SiteCounts], field: str, times: list[int]) -> int:
    """Σ over the distinct sites of a count (``figures.macs``, ``params``) times its layers."""
    return sum(map(mul, map(attrgetter(field), counted), times))


def analyse_graph(
    graph: Graph,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
    sites: Sites | None = None,
) -> Analysis:
    """Per-layer parameters, buffers, connections, operations and memory, and totals.
    A network's figure is the sum of its layers' (a convention weighs each kind its way),
    worked out once per distinct site and weighted by how many layers are that site
    (``sites``: the graph's :func:`distinct_sites`, when already found)."""
    conv = get_convention(convention) if isinstance(convention, str) else convention
    first, index, times = sites or distinct_sites(graph)
    counted = [site_counts(node, conv, batch, deconv) for node in first]
    mults, adds, macs, flops, space = zip(*map(attrgetter("figures"), counted)) or ((),) * 5
    figures = Figures(
        _times_sum(mults, times),
        _times_sum(adds, times),
        _times_sum(macs, times),
        _times_sum(flops, times),
        None if conv.space is None else _times_sum(space, times),
    )
    network_flops = figures.flops
    layers = tuple(
        map(LayerStats, graph.nodes, map(counted.__getitem__, index), repeat(network_flops))
    )
    columns = zip(*map(attrgetter("ops"), counted))
    total = Totals(
        params=_site_total(counted, "params", times),
        buffers=_site_total(counted, "buffers", times),
        connections=_site_total(counted, "connections", times),
        ops=Ops(*[_times_sum(column, times) for column in columns]),
        figures=figures,
        activations=_site_total(counted, "activations", times),
        depth=graph.depth,
        basis=NetworkBasis(tuple(counted), tuple(times)),
    )
    return Analysis(
        graph.name,
        graph.file,
        graph.input,
        graph.out_shape,
        batch,
        conv,
        layers,
        total,
        deconv,
        outputs=tuple((graph.name_of(i), graph.shape_of(i)) for i in graph.output_nodes),
    )


def site_states(analysis: Analysis) -> list[list[StateEntry]]:
    """Each distinct site's :meth:`Kind.state`, in the order of the :class:`Sites` the
    analysis was made with (the memory pass reads them instead of working them out again)."""
    return [c.state for c in analysis.total.basis.counted]


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
    first, _, times = distinct_sites(graph)
    bases = [layer_basis(node, batch, deconv) for node in first]
    totals = {
        name: total_figures(c.figures(b).times(n) for b, n in zip(bases, times))
        for name, c in CONVENTIONS.items()
    }
    rows = tuple(
        ConventionTotal(c, totals[name], totals["macs"]) for name, c in CONVENTIONS.items()
    )
    return ConventionTotals(graph.name, graph.input, batch, deconv, rows)

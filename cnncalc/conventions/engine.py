"""Conventions: which counts a figure adds up, and with what weight — one table, one place.

cnncalc counts raw operations once per layer (:class:`~cnncalc.kinds.ops.Ops`). Beside them a
convention may weigh a few other quantities of a layer (:data:`QUANTITIES`): the counts
textbooks use (weights, output maps, LeNet-5 connections), input and output elements,
parameters, and the odd quantities some peer tool counts, each named with its reason. A
layer's :class:`Basis` gives them for a batch.

A convention is data: for each figure (mults, adds, MACs, FLOPs, and NNDL's space) a
:data:`Table` that gives, per layer kind, a :class:`Sum` of weighted quantities
(``2·MACs − outputs + bias adds``). Because a figure is such a sum, the same data computes
it, writes its working (``FLOPs = 2·MACs = 2·117600 = 235200``) and adds up over the
layers. Every convention names its source and version, says what it counts, and gives one
line on how it differs from ``macs``; the peer presets reproduce each tool's integer
exactly, including where the tool is wrong, and ``counts`` says so where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Mapping, NamedTuple

from cnncalc.conventions.quantities import QUANTITIES, TERMS
from cnncalc.conventions.site import DeconvCount, Site
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import OP_FIELDS, Ops

if TYPE_CHECKING:
    from cnncalc.kinds.base import Kind


class Basis:
    """What a convention may weigh for one layer and a batch: the quantities of
    :data:`QUANTITIES`, each worked out when first asked for. ``deconv`` is
    ``--deconv-count`` (None: each convention's own place for a transposed conv's MACs)."""

    __slots__ = ("site", "batch", "deconv", "_on_output", "_values")

    def __init__(self, site: Site, batch: int = 1, deconv: DeconvCount | None = None):
        self.site, self.batch, self.deconv = site, batch, deconv
        self._on_output = deconv == "output"
        self._values: dict[str, int] = {}

    @property
    def ops(self) -> Ops:
        return self.site.ops.times(self.batch)

    def counting(self, deconv: DeconvCount) -> "Basis":
        """The same basis with a transposed conv's MACs counted on ``deconv``, unless
        ``--deconv-count`` chose; it shares the worked-out values."""
        view = Basis.__new__(Basis)
        view.site, view.batch, view.deconv, view._values = (
            self.site,
            self.batch,
            self.deconv,
            self._values,
        )
        view._on_output = (self.deconv or deconv) == "output"
        return view

    def value(self, term: str) -> int:
        if term == "macs" and self._on_output:
            term = "output_macs"
        return self.quantity(term)

    def quantity(self, term: str) -> int:
        """One quantity of :data:`QUANTITIES` by its own name (``macs`` is the MACs where
        the layer's kind counts them, whatever ``deconv`` says)."""
        try:
            return self._values[term]
        except KeyError:
            value = self._values[term] = QUANTITIES[term].of(self.site, self.batch)
            return value


# --------------------------------------------------------------------------- sums and tables


@dataclass(frozen=True)
class Sum:
    """figure = Σ weight·term, e.g. 2·MACs, or 2·MACs − outputs + bias adds."""

    terms: tuple[tuple[str, int], ...]

    def of(self, basis: Basis) -> int:
        return sum(w * basis.value(t) for t, w in self.terms)

    def times(self, factor: int) -> "Sum":
        return Sum(tuple((t, w * factor) for t, w in self.terms))

    @staticmethod
    def _written(parts: list[tuple[str, int]]) -> str:
        weights = {w for _, w in parts}
        if len(weights) == 1:
            (w,) = weights
            inner = " + ".join(p for p, _ in parts)
            if w == 1:
                return inner
            return f"{w}·({inner})" if len(parts) > 1 else f"{w}·{inner}"
        text = ""
        for i, (p, w) in enumerate(parts):
            sign = "−" if w < 0 else "+"
            size = "" if abs(w) == 1 else f"{abs(w)}·"
            text += f"{'−' if w < 0 else ''}{size}{p}" if i == 0 else f" {sign} {size}{p}"
        return text

    def symbolic(self) -> str:
        return self._written([(TERMS[t], w) for t, w in self.terms])

    def written(self, basis: Basis) -> tuple[str, str]:
        """(symbolic, substituted), the terms that are zero here left out."""
        terms = [(t, w) for t, w in self.terms if basis.value(t)] or list(self.terms[:1])
        return (
            self._written([(TERMS[t], w) for t, w in terms]),
            self._written([(str(basis.value(t)), w) for t, w in terms]),
        )

    @property
    def trivial(self) -> bool:
        """One term, weight one: the figure is a basis count under another name."""
        return len(self.terms) == 1 and self.terms[0][1] == 1


def terms(*names: str, times: int = 1) -> Sum:
    """times·(a + b + …)"""
    return Sum(tuple((n, times) for n in names))


def weighted(**weights: int) -> Sum:
    """Σ weight·quantity, by keyword: weighted(macs=2, outputs=-1, bias_adds=1)."""
    return Sum(tuple(weights.items()))


NOTHING = Sum(())

Table = Mapping[str, Sum]
"""count key → the layer's sum. A layer's row is the first of its keys found, most
specific first (``pool.max.2d``, ``pool.max``, ``pool``: :meth:`Kind.count_keys`, each
tried with the number of spatial axes), else ``*``, else nothing. A layer PyTorch applies
as a function (``call: function``) is first looked up under ``F.`` + each key, then
``F.*``, then as the module, and one of a subclass of PyTorch's module (``call: subclass``)
likewise under ``subclass.``: a tool that sees them as it sees the module needs no such
row."""

CALL_PREFIXES = {"function": "F.", "subclass": "subclass."}
"""The prefix of a table's rows for the layers PyTorch applies as functions (``F.relu``,
``F.*``) and as subclasses of its modules (``subclass.*``)."""


def everywhere(row: Sum) -> Table:
    return {"*": row}


def rows(keys: str, row: Sum) -> dict[str, Sum]:
    """The same row for several space-separated keys."""
    return {key: row for key in keys.split()}


def _keys(layer: Kind) -> tuple[str, ...]:
    """The keys a layer's row is looked up under, in order (see :data:`Table`)."""
    keys = layer.count_keys()
    prefix = CALL_PREFIXES.get(layer.call)
    if prefix:
        return tuple(prefix + key for key in keys) + (prefix + "*",) + keys
    return keys


def _row(table: Table, layer: Kind, axes: int) -> Sum:
    for key in _keys(layer):
        for candidate in (f"{key}.{axes}d", key):
            if candidate in table:
                return table[candidate]
    return table.get("*", NOTHING)


class Figures(NamedTuple):
    """A layer's or a network's figures under a convention (``space``: None where it has
    none). A named tuple: a frozen dataclass's ``__init__`` was a tenth of an analysis
    (issue 11); ``+`` adds figure by figure (not tuple concatenation)."""

    mults: int
    adds: int
    macs: int
    flops: int
    space: int | None = None

    def __add__(self, other: "Figures") -> "Figures":  # type: ignore[override]
        space = (
            None
            if self.space is None and other.space is None
            else (self.space or 0) + (other.space or 0)
        )
        return Figures(
            self.mults + other.mults,
            self.adds + other.adds,
            self.macs + other.macs,
            self.flops + other.flops,
            space,
        )

    def times(self, n: int) -> "Figures":
        """The figures of n layers alike."""
        if n == 1:
            return self
        space = None if self.space is None else self.space * n
        return Figures(self.mults * n, self.adds * n, self.macs * n, self.flops * n, space)


FIGURES = ("mults", "adds", "macs", "flops")
NO_FIGURES = Figures(0, 0, 0, 0)


FigureRow = tuple[int, int, int, int, int]
"""A quantity's weight in mults, adds, MACs, FLOPs and space."""


@dataclass(frozen=True, slots=True)
class Weights:
    """One layer kind's figures under a convention as a matrix: for each quantity any of
    its sums weighs, that quantity's weight in mults, adds, MACs, FLOPs and space, so that
    figure_j = Σ_t weight[t][j]·value(t) is one pass over the quantities (its :class:`Sum`
    rows say the same, term by term, for the working). A raw operation count
    (:class:`~cnncalc.kinds.ops.Ops`) is read off the site's operations by its place, batch
    times (its quantity's rule, :func:`~cnncalc.conventions.site.raw`); any other quantity
    through the basis. ``space`` is None where the convention has no space figure."""

    raw: tuple[tuple[int, FigureRow], ...]
    """(place of the count in :data:`~cnncalc.kinds.ops.OP_FIELDS`, its weights)."""
    terms: tuple[tuple[str, FigureRow], ...]
    """(any other quantity, its weights)."""
    has_space: bool

    @staticmethod
    def of(rows: Mapping[str, "Sum"], on_output: bool) -> "Weights":
        """The matrix of a layer's rows (:meth:`Convention.rows`), its ``macs`` quantity
        read as ``output_macs`` when a transposed conv's MACs are counted on the output."""
        matrix: dict[str, list[int]] = {}
        for j, figure in enumerate((*FIGURES, "space")):
            for term, weight in rows[figure].terms if figure in rows else ():
                if term == "macs" and on_output:
                    term = "output_macs"
                matrix.setdefault(term, [0] * 5)[j] += weight
        weights = {t: (w[0], w[1], w[2], w[3], w[4]) for t, w in matrix.items()}
        return Weights(
            tuple((OP_FIELDS.index(t), w) for t, w in weights.items() if t in OP_FIELDS),
            tuple((t, w) for t, w in weights.items() if t not in OP_FIELDS),
            "space" in rows,
        )

    def figures(self, ops: Ops, batch: int, basis: Basis | None = None) -> Figures:
        """The figures of a layer of raw operations ``ops`` for one sample, ``batch`` samples;
        ``basis`` (the layer's :class:`Basis`) is read only for a quantity other than a raw
        count, and may be None when :attr:`terms` is empty."""
        mults = adds = macs = flops = space = 0
        if self.raw:
            for i, (wm, wa, wc, wf, ws) in self.raw:
                v = ops[i] * batch
                mults += wm * v
                adds += wa * v
                macs += wc * v
                flops += wf * v
                space += ws * v
        for term, (wm, wa, wc, wf, ws) in self.terms:
            assert basis is not None, "a quantity other than a raw count needs the basis"
            v = basis.quantity(term)
            mults += wm * v
            adds += wa * v
            macs += wc * v
            flops += wf * v
            space += ws * v
        return _new(Figures, (mults, adds, macs, flops, space if self.has_space else None))


_new = tuple.__new__
"""A named tuple from all its fields in order, made in C (its own ``__new__`` runs Python)."""


def total_figures(many) -> Figures:
    """Field-by-field sum of many Figures, as ``sum(many, NO_FIGURES)`` gives it (space is
    None when no layer has one) without a Figures per partial sum."""
    many = list(many)
    spaces = [f.space for f in many if f.space is not None]
    return Figures(
        sum(f.mults for f in many),
        sum(f.adds for f in many),
        sum(f.macs for f in many),
        sum(f.flops for f in many),
        sum(spaces) if spaces else None,
    )


@dataclass(frozen=True)
class Convention:
    name: str
    counts: str
    """What it counts, per kind, in words (printed under every table)."""
    source: str
    """Where the rule comes from, with the version it was read from and checked against."""
    reason: str
    """One line: how its total differs from ``macs``."""
    macs: Table
    flops: Table | None = None
    """None: FLOPs = 2·MACs."""
    mults: Table | None = None
    """None: mults = MACs."""
    adds: Table | None = None
    """None: adds = MACs."""
    space: Table | None = None
    reports: str = "macs"
    """The figure that is the tool's own number ('macs' or 'flops')."""
    label: str = "MACs"
    """What the tool calls its number."""
    flops_label: str = "FLOPs"
    """What the flops figure is called under this convention (NNDL: its 'time complexity')."""
    deconv: DeconvCount = "input"
    """Where it counts a transposed conv's MACs (``--deconv-count`` overrides)."""

    if TYPE_CHECKING:  # set in __post_init__, not fields
        _weights_cache: ClassVar[dict[tuple, "Weights"]]
        _row_cache: ClassVar[dict[tuple, dict[str, Sum]]]

    def __post_init__(self) -> None:
        # lookups of constant data, filled as layers are met (a convention never changes)
        object.__setattr__(self, "_weights_cache", {})
        object.__setattr__(self, "_row_cache", {})

    def rows(self, site: Site) -> dict[str, Sum]:
        """Each figure's sum for one layer, by figure name (looked up once per count key
        and number of axes: a convention is constant data)."""
        return self.layer_rows(site.layer, site.axes)

    def layer_rows(self, layer: Kind, axes: int) -> dict[str, Sum]:
        """:meth:`rows` of a layer on a map of ``axes`` spatial axes."""
        key = (_keys(layer), axes)
        cache = self._row_cache
        found = cache.get(key)
        if found is None:
            found = cache[key] = self._rows(layer, axes)
        return found

    def _rows(self, layer: Kind, axes: int) -> dict[str, Sum]:
        macs = _row(self.macs, layer, axes)
        rows = {
            "mults": _row(self.mults, layer, axes) if self.mults is not None else macs,
            "adds": _row(self.adds, layer, axes) if self.adds is not None else macs,
            "macs": macs,
            "flops": _row(self.flops, layer, axes) if self.flops is not None else macs.times(2),
        }
        if self.space is not None:
            rows["space"] = _row(self.space, layer, axes)
        return rows

    def weights(self, site: Site, deconv: DeconvCount | None = None) -> "Weights":
        """The layer's figures as one :class:`Weights` (its rows of :meth:`rows`, with a
        transposed conv's MACs on ``deconv or self.deconv``)."""
        return self.layer_weights(site.layer, site.axes, deconv)

    def layer_weights(self, layer: Kind, axes: int, deconv: DeconvCount | None) -> "Weights":
        """:meth:`weights` of a layer on a map of ``axes`` spatial axes, made once per count
        key, number of axes and place of a transposed conv's MACs: a convention is
        constant data."""
        on_output = (deconv or self.deconv) == "output"
        key = (layer.counted_as(), axes, on_output)
        cache = self._weights_cache
        found = cache.get(key)
        if found is None:
            found = cache[key] = Weights.of(self.layer_rows(layer, axes), on_output)
        return found

    def figures(self, basis: Basis) -> Figures:
        site = basis.site
        return self.weights(site, basis.deconv).figures(site.ops, basis.batch, basis)

    def reported(self, figures: Figures) -> int:
        """The tool's own number among the figures."""
        return getattr(figures, self.reports)

    def rules(self, site: Site) -> list[tuple[str, Sum]]:
        """(label, sum) of every figure of one layer, as the working names them; mults and
        adds only where the convention counts them apart from the MACs."""
        labels = {
            "mults": "mults",
            "adds": "adds",
            "macs": "MACs",
            "flops": self.flops_label,
            "space": "space",
        }
        own = {"mults": self.mults, "adds": self.adds}
        return [
            (labels[f], rule) for f, rule in self.rows(site).items() if own.get(f, True) is not None
        ]

    def terms(self) -> set[str]:
        """The quantities any figure of any kind adds up."""
        tables = (self.macs, self.flops, self.mults, self.adds, self.space)
        return {t for table in tables if table for row in table.values() for t, _ in row.terms}

    def explain(self, basis: Basis) -> list[Formula]:
        """The working of each figure this convention gives that is not zero and not
        just a count under another name (the FLOPs and space lines always show),
        named ``figure (convention)``."""
        counted = basis.counting(self.deconv)
        lines = []
        for label, rule in self.rules(basis.site):
            value = rule.of(counted)
            if value and (not rule.trivial or label in (self.flops_label, "space")):
                lines.append(Formula(f"{label} ({self.name})", *rule.written(counted), str(value)))
        return lines

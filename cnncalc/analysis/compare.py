"""Side by side: the variants of a study, or whole networks, with the ratios between them.

``cnncalc flops --compare bottleneck`` puts a study's variants next to each other;
``cnncalc flops a.yaml --compare b.yaml`` does the same for two networks. Each entry
is measured against another (``vs:`` in a study; otherwise the first entry) and every
ratio is an exact fraction, ``vs ÷ this``: how many times the other one costs this
one. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnncalc.analysis.explain import Working
from cnncalc.analysis.pipeline import analyze, explain, input_shape, load
from cnncalc.analysis.stats import Analysis
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape
from cnncalc.model.spec import NetworkSpec

METRICS = ("params", "macs", "mults", "adds", "flops")
"""The counts compared and divided, in order; ``space`` joins them under nndl."""
ALSO_DIVIDED = ("activations",)
"""Compared and divided too, shown after the depth-free counts."""


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    analysis: Analysis
    vs: str | None
    """The entry this one is measured against; None for a baseline."""
    working: Working | None = None


@dataclass(frozen=True)
class Ratio:
    name: str
    vs: str
    values: dict[str, Fraction | None]
    """vs ÷ this, per metric; None where this one is 0."""


@dataclass(frozen=True)
class Comparison:
    title: str
    entries: tuple[Entry, ...]
    ratios: tuple[Ratio, ...]
    metrics: tuple[str, ...]

    def entry(self, name: str) -> Entry:
        return next(e for e in self.entries if e.name == name)

    def ratio(self, name: str) -> Ratio:
        return next(r for r in self.ratios if r.name == name)


def metric(analysis: Analysis, name: str) -> int:
    """A network's total of one compared count (``space`` is the convention's)."""
    if name == "space":
        space = analysis.total.figures.space
        if space is None:
            raise CnnCalcError(
                "space is a figure of the nndl convention only", field="--convention"
            )
        return space
    return getattr(analysis.total, name)


def _candidates(nets: list[str]) -> list[tuple[str, NetworkSpec, str | None]]:
    """(name, spec, vs) for every network, a study counting for each of its variants.

    A variant is measured against the one its ``vs:`` names, and a variant without
    ``vs:`` against the study's first; the first is the baseline. A network on its own,
    after the first entry, is measured against the first entry."""
    out: list[tuple[str, NetworkSpec, str | None]] = []
    for net in nets:
        spec = load(net)
        if spec.variants is None:
            out.append((spec.name, spec, out[0][0] if out else None))
            continue
        prefix = f"{spec.name}: " if len(nets) > 1 else ""
        first = next(iter(spec.variants))
        for name, variant in spec.variants.items():
            vs = variant.vs or (None if name == first else first)
            out.append((prefix + name, variant, prefix + vs if vs else None))
    names = [n for n, _, _ in out]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise CnnCalcError(
            f"two of the compared networks are both called '{twice}'",
            field="--compare",
            hint="give them different 'name:'s",
        )
    return out


def compare_files(
    nets: list[str],
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str = "macs",
    topic: str | None = None,
) -> Comparison:
    """Load, analyse and compare networks and studies (with each one's working for
    ``topic`` when given). A network without ``vs`` after the first is measured
    against the first entry."""
    if not nets:
        raise CnnCalcError(
            "nothing to compare",
            field="--compare",
            hint="name a study (--compare bottleneck) or two networks (a.yaml --compare b.yaml)",
        )
    if isinstance(input, str):
        input = input_shape(input)
    entries = []
    for name, spec, vs in _candidates(nets):
        working = explain(spec, topic, input, batch, convention) if topic else None
        analysis = working.analysis if working else analyze(spec, input, batch, convention)
        entries.append(Entry(name, spec.description, analysis, vs, working))
    if len(entries) < 2:
        raise CnnCalcError(
            f"'{entries[0].name}' is one network: there is nothing to put beside it",
            field="--compare",
            hint="compare a study with variants, or give a second network",
        )
    return build(" vs ".join(load(net).name for net in nets), entries)


def build(title: str, entries: list[Entry]) -> Comparison:
    """The ratios of every entry that is measured against another."""
    metrics = METRICS + (("space",) if entries[0].analysis.convention.space else ())
    by_name = {e.name: e for e in entries}
    ratios = []
    for e in entries:
        if e.vs is None:
            continue
        other = by_name[e.vs].analysis
        ratios.append(
            Ratio(
                e.name,
                e.vs,
                {
                    m: Fraction(metric(other, m), metric(e.analysis, m))
                    if metric(e.analysis, m)
                    else None
                    for m in metrics + ALSO_DIVIDED
                },
            )
        )
    return Comparison(title, tuple(entries), tuple(ratios), metrics)

"""Conventions: which counts a figure adds up, and with what weight.

cnncalc counts raw operations once per layer (:class:`~cnncalc.ops.Ops`) and,
beside them, the few quantities textbooks weigh instead (a layer's weights,
its output maps, its LeNet-5 connections): together the :class:`Basis`. A
convention is data: its name, what it counts, its source, and for each figure
a :class:`Sum` of basis terms. Because every figure is such a sum, the same
data computes the figure, writes its working (``FLOPs = 2·MACs = 2·117600 =
235200``) and adds up over the layers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import CnnCalcError
from .formula import LABELS, Formula
from .ops import OP_FIELDS, Ops


@dataclass(frozen=True)
class Basis:
    """What a convention may weigh, for one layer or a whole network (whole batch)."""

    ops: Ops = Ops()
    weights: int = 0
    """Parameters that multiply an input, biases left out, of the weighted layers."""
    maps: int = 0
    """Output elements of the weighted layers (NNDL's 'output feature maps')."""
    connections: int = 0
    """LeNet-5 connections: each output's weighted inputs plus its bias."""

    def value(self, term: str) -> int:
        return getattr(self.ops, term) if term in OP_FIELDS else getattr(self, term)

    def __add__(self, other: "Basis") -> "Basis":
        return Basis(self.ops + other.ops, self.weights + other.weights,
                     self.maps + other.maps, self.connections + other.connections)


TERMS: dict[str, str] = {**LABELS, "weights": "weights", "maps": "output maps",
                         "connections": "connections"}
"""Every basis term and how a line of working names it."""


@dataclass(frozen=True)
class Sum:
    """figure = factor · (term + term + …)"""

    terms: tuple[str, ...]
    factor: int = 1

    def of(self, basis: Basis) -> int:
        return self.factor * sum(basis.value(t) for t in self.terms)

    def _written(self, parts: list[str]) -> str:
        inner = " + ".join(parts)
        if self.factor == 1:
            return inner
        return f"{self.factor}·({inner})" if len(parts) > 1 else f"{self.factor}·{inner}"

    def symbolic(self) -> str:
        return self._written([TERMS[t] for t in self.terms])

    def written(self, basis: Basis) -> tuple[str, str]:
        """(symbolic, substituted), the terms that are zero here left out."""
        terms = [t for t in self.terms if basis.value(t)] or list(self.terms[:1])
        return (self._written([TERMS[t] for t in terms]),
                self._written([str(basis.value(t)) for t in terms]))

    @property
    def trivial(self) -> bool:
        """One term, weight one: the figure is a basis count under another name."""
        return self.factor == 1 and len(self.terms) == 1


@dataclass(frozen=True)
class Figures:
    mults: int
    adds: int
    macs: int
    flops: int
    space: int | None = None


FIGURES = ("mults", "adds", "macs", "flops")


@dataclass(frozen=True)
class Convention:
    name: str
    counts: str
    source: str
    mults: Sum
    adds: Sum
    macs: Sum
    flops: Sum
    space: Sum | None = None
    flops_label: str = "FLOPs"
    """What the flops figure is called under this convention (NNDL: its 'time complexity')."""

    def figures(self, basis: Basis) -> Figures:
        return Figures(*(getattr(self, f).of(basis) for f in FIGURES),
                       space=self.space.of(basis) if self.space else None)

    def rules(self) -> list[tuple[str, Sum]]:
        """(label, sum) of every figure, as the working names them."""
        labels = {"mults": "mults", "adds": "adds", "macs": "MACs", "flops": self.flops_label}
        rules = [(labels[f], getattr(self, f)) for f in FIGURES]
        return rules + ([("space", self.space)] if self.space else [])

    def terms(self) -> set[str]:
        """The basis terms any figure adds up."""
        return {t for _, rule in self.rules() for t in rule.terms}

    def explain(self, basis: Basis) -> list[Formula]:
        """The working of each figure this convention gives that is not zero and not
        just a count under another name (the FLOPs and space lines always show),
        named ``figure (convention)``."""
        lines = []
        for label, rule in self.rules():
            value = rule.of(basis)
            if value and (not rule.trivial or label in (self.flops_label, "space")):
                lines.append(Formula(f"{label} ({self.name})", *rule.written(basis), str(value)))
        return lines


MACS = Sum(("macs",))

CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (
        Convention(
            "macs",
            "multiply-accumulates of the weighted layers (conv, deconv, fc, rbf, subsample), "
            "one per weight use; bias, BatchNorm, pooling, activations and residual adds "
            "not counted; mults = adds = MACs, FLOPs = 2·MACs",
            "torchvision model docs' GFLOPS column; PyTorch FlopCounterMode ÷ 2",
            mults=MACS, adds=MACS, macs=MACS, flops=Sum(("macs",), 2)),
        Convention(
            "exact",
            "every multiplication and addition a plain implementation performs: an output "
            "of fan-in n costs n mults and n − 1 adds, +1 add for a bias; BatchNorm, "
            "pooling sums, residual adds included; FLOPs = mults + adds",
            "d2l 7.4 exercise (multiplications and additions of a conv layer)",
            mults=Sum(("mults",)), adds=Sum(("adds", "bias_adds", "eltwise_adds")), macs=MACS,
            flops=Sum(("mults", "adds", "bias_adds", "eltwise_adds"))),
        Convention(
            "nndl",
            "NNDL's complexities of the weighted layers, biases left out: time = "
            "M²·K²·C_in·C_out for a conv, one per weight use (= MACs; shown in the FLOPs "
            "column, and as mults, adds and MACs); space = weights + output feature maps",
            "NNDL (Qiu Xipeng), ch. 5, exercise 5-4",
            mults=MACS, adds=MACS, macs=MACS, flops=MACS, space=Sum(("weights", "maps")),
            flops_label="time"),
        Convention(
            "lenet",
            "the connections of LeCun et al.: each output's weighted inputs plus its bias, "
            "one multiply-accumulate each (the bias multiplies a constant 1); layers "
            "without weights have none; mults = adds = MACs = connections, FLOPs = 2·MACs",
            "LeCun, Bottou, Bengio, Haffner 1998, section II.B (C1: 122,304 connections)",
            mults=Sum(("connections",)), adds=Sum(("connections",)), macs=Sum(("connections",)),
            flops=Sum(("connections",), 2)),
    )
}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CnnCalcError(f"unknown convention '{name}'", field="--convention",
                           hint=f"choose one of {', '.join(CONVENTIONS)}") from None

"""Raw operation counts of one layer, before any convention weighs them."""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple


class Ops(NamedTuple):
    """Operations a plain implementation performs, counted once each.

    ``macs`` are the multiply-accumulates of a layer's weights (one per
    weight use); the rest are what the arithmetic itself does: ``adds`` of a
    reduction, ``bias_adds``, ``compares`` (max, ReLU), ``divs``, ``exps``
    (exp, pow) and ``eltwise_adds`` of a residual ``add``.

    A named tuple, not a frozen dataclass: equal, hashable and read-only alike, but made
    without compiling five methods at import (issue 11: start-up). Its ``+`` adds counts.
    """

    mults: int = 0
    adds: int = 0
    bias_adds: int = 0
    compares: int = 0
    divs: int = 0
    exps: int = 0
    eltwise_adds: int = 0
    macs: int = 0

    def __add__(self, other: "Ops") -> "Ops":  # type: ignore[override]  # counts, not concatenation
        return Ops(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def times(self, n: int) -> "Ops":
        return self if n == 1 else Ops(*(a * n for a in astuple(self)))

    def as_dict(self) -> dict[str, int]:
        return dict(zip(OP_FIELDS, astuple(self)))


OP_FIELDS: tuple[str, ...] = Ops._fields


astuple = attrgetter(*OP_FIELDS)
"""The counts of an Ops as a plain tuple, in field order."""

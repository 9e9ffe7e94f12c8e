"""Raw operation counts of one layer, before any convention weighs them."""

from __future__ import annotations

from operator import add, attrgetter
from typing import NamedTuple


class Ops(NamedTuple):
    """Operations a plain implementation performs, counted once each.

    ``macs`` are the multiply-accumulates of a layer's weights (one per
    weight use); the rest are what the arithmetic itself does: ``adds`` of a
    reduction, ``bias_adds``, ``compares`` (max, ReLU), ``divs``, ``exps``
    (exp, pow) and ``eltwise_adds`` of a residual ``add``.

    A named tuple, whose counts a convention reads by place: a frozen dataclass's
    ``__init__`` was a fifth of an analysis (issue 11). ``+`` adds count by count (not
    tuple concatenation).
    """

    mults: int = 0
    adds: int = 0
    bias_adds: int = 0
    compares: int = 0
    divs: int = 0
    exps: int = 0
    eltwise_adds: int = 0
    macs: int = 0

    def __add__(self, other: Ops) -> Ops:  # type: ignore[override]
        return _counts(Ops, map(add, self, other))

    def times(self, n: int) -> Ops:
        if n == 1:
            return self
        a, b, c, d, e, f, g, h = self  # written out: a map over the counts costs twice this
        return _counts(Ops, (a * n, b * n, c * n, d * n, e * n, f * n, g * n, h * n))

    def as_dict(self) -> dict[str, int]:
        return dict(zip(OP_FIELDS, self))


_counts = tuple.__new__
"""An Ops from its eight counts in field order, made in C (``Ops(*counts)`` runs the named
tuple's Python ``__new__``)."""

NO_OPS = Ops()
"""No operations (a kind that only moves data)."""

OP_FIELDS: tuple[str, ...] = Ops.__match_args__
"""The counts' names, in field order."""


astuple = attrgetter(*OP_FIELDS)
"""The counts of an Ops as a plain tuple, in field order."""

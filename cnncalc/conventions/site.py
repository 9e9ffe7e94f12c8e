"""One layer as a convention sees it, and the quantities a convention may weigh."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal

from cnncalc.kinds.arith import Shape
from cnncalc.kinds.formula import LABELS
from cnncalc.kinds.ops import Ops

if TYPE_CHECKING:
    from cnncalc.kinds.base import Kind

DeconvCount = Literal["input", "output"]


@dataclass(slots=True)
class Site:
    """One layer as a convention sees it: the kind, its input and output shapes
    (channels first, no batch) and its raw operations for one sample. (Read-only by
    convention; not frozen, whose __init__ costs as much as a site's figures.)"""

    layer: "Kind"
    x: Shape
    y: Shape
    ops: Ops

    @property
    def axes(self) -> int:
        return len(self.x) - 1


# --------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Quantity:
    """A number a convention may weigh, for a whole batch, and how working names it."""

    label: str
    doc: str
    of: Callable[[Site, int], int]


def per_sample(label: str, doc: str | None, fn: Callable[[Site], int]) -> Quantity:
    return Quantity(label, doc or "", lambda site, batch: fn(site) * batch)


def per_call(label: str, doc: str | None, fn: Callable[[Site], int]) -> Quantity:
    """Counted once per layer, whatever the batch: NNDL's weights, a few tools' constants."""
    return Quantity(label, doc or "", lambda site, batch: fn(site))


def raw(field: str) -> Quantity:
    return per_sample(LABELS[field], f"raw count of Ops.{field}", lambda s: getattr(s.ops, field))

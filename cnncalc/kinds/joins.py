"""Joins: branches concatenated on channels or summed."""

from __future__ import annotations

from typing import ClassVar

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Shape,
    prod,
)
from cnncalc.kinds.base import Kind, dotted, fmt_shape, op_line
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class JoinKind(Kind):
    """A kind that joins branches: its rules take the shape of every branch."""

    def merge(self, shapes: list[Shape]) -> Shape:
        """The output shape of the joined branches."""
        raise NotImplementedError

    def merge_ops(self, shapes: list[Shape]) -> Ops:
        """Raw operations of the join itself, one sample."""
        return Ops()

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        """The working of the join's shape and operations."""
        return []


class Concat(JoinKind):
    """Branches joined along the channels; their spatial sizes must agree."""

    kind: ClassVar[str] = "concat"
    summary: ClassVar[str] = "branches joined on channels"

    def merge(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        for i, s in enumerate(shapes[1:], 1):
            if len(s) != len(first) or s[1:] != first[1:]:
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but branch 0 gives {fmt_shape(first)}: "
                    "concatenated branches must agree in every axis but the channels",
                    hint="check the stride and padding of each branch",
                )
        return (sum(s[0] for s in shapes),) + first[1:]

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        return [
            Formula(
                "C",
                "Σ c (each branch's channels)",
                " + ".join(str(s[0]) for s in shapes),
                str(y[0]),
            )
        ]


class Add(JoinKind):
    """Branches summed element by element; their shapes must be equal."""

    kind: ClassVar[str] = "add"
    summary: ClassVar[str] = "branches summed element by element"

    def merge(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        for i, s in enumerate(shapes[1:], 1):
            if s != first:
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but branch 0 gives {fmt_shape(first)}: "
                    "added branches must have the same shape",
                    hint="a residual shortcut that changes shape needs a 1×1 conv in its branch",
                )
        return first

    def merge_ops(self, shapes: list[Shape]) -> Ops:
        return Ops(eltwise_adds=(len(shapes) - 1) * prod(shapes[0]))

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        return [
            Formula("shape", "input shape", "", fmt_shape(y)),
            op_line(
                "eltwise_adds",
                "(branches − 1)·elements",
                f"({len(shapes)} − 1)·{dotted(*shapes[0])}",
                self.merge_ops(shapes).eltwise_adds,
            ),
        ]

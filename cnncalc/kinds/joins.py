"""Joins: branches concatenated on channels, summed, or multiplied element by element.

``add`` and ``mul`` broadcast as PyTorch does on the batched tensors: the branches have
the same number of axes, and along each axis their sizes are equal or 1 (a C×1×1
squeeze-and-excitation gate scales a C×H×W map). Different numbers of axes are refused:
with the batch axis in front, PyTorch would line the batch of one branch up with a
feature axis of the other.
"""

from typing import ClassVar, Sequence

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Field,
    Shape,
    prod,
)
from cnncalc.kinds.backward import Backward, Saved
from cnncalc.kinds.base import AXES, Kind, dotted, fmt_shape, op_line
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import NO_OPS, Ops


def axis_name(shape: Shape, axis: int) -> str:
    """``C`` for the channels, then ``L`` / ``H, W`` / ``D, H, W``."""
    names = ("C",) + {1: (), 2: ("L",), 3: ("H", "W"), 4: ("D", "H", "W")}[len(shape)]
    return names[axis]


def broadcast_shape(shapes: list[Shape], verb: str, hint: str | None = None) -> Shape:
    """PyTorch's broadcasting of branches with the same number of axes: along each axis the
    sizes are equal or 1, and the result takes the size that is not 1."""
    out = shapes[0]
    if shapes.count(out) == len(shapes):  # a residual add: nothing to broadcast
        return out
    for i, s in enumerate(shapes[1:], 1):
        against = "branch 0 gives" if out == shapes[0] else "the branches before it broadcast to"
        if len(s) != len(out):
            raise CnnCalcError(
                f"branch {i} gives {fmt_shape(s)} but {against} {fmt_shape(out)}: "
                f"{verb} branches must have the same number of axes",
                hint="flatten both, or keep both as feature maps",
            )
        for axis, (a, b) in enumerate(zip(out, s)):
            if a != b and 1 not in (a, b):
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but {against} {fmt_shape(out)}: "
                    f"{verb} branches must have the same shape, or size 1 where they differ "
                    f"(PyTorch's broadcasting); along {axis_name(s, axis)} {b} ≠ {a}",
                    hint=hint,
                )
        out = tuple(max(a, b) for a, b in zip(out, s))
    return out


def stepping_jumps(fields: Sequence[Field], shapes: list[Shape], y: Shape, axis: int) -> list:
    """The jumps along a spatial axis of the branches that are not broadcast along it (a
    branch of size 1 stretched over the axis has no step of its own there)."""
    return [f.jump[axis] for f, s in zip(fields, shapes) if s[axis + 1] == y[axis + 1]]


def broadcast_field(fields: Sequence[Field], shapes: list[Shape], y: Shape) -> Field:
    """Per axis: the branches that step along it are lined up by where unit 0's field
    starts, and the join's field runs from the earliest start to the latest end (as
    :meth:`Field.merge`); a branch broadcast along the axis (a global gate) adds its own
    field, which may be wider still. The jump is the coarsest of the stepping branches."""
    if shapes.count(y) == len(shapes):  # every branch steps along every axis
        return Field.merge(fields)
    rf, start = [], []
    for axis in range(len(fields[0].rf)):
        stepping = [f for f, s in zip(fields, shapes) if s[axis + 1] == y[axis + 1]]
        stretched = [f for f, s in zip(fields, shapes) if s[axis + 1] != y[axis + 1]]
        first = min(f.starts()[axis] for f in stepping)
        last = max(f.starts()[axis] + f.rf[axis] for f in stepping)
        rf.append(max([last - first] + [f.rf[axis] for f in stretched]))
        start.append(first)
    return Field(
        tuple(rf),
        tuple(max(stepping_jumps(fields, shapes, y, axis)) for axis in range(len(rf))),
        start=tuple(start),
    )


class JoinKind(Kind):
    """A kind that joins branches: its rules take the shape of every branch."""

    def merge(self, shapes: list[Shape]) -> Shape:
        """The output shape of the joined branches."""
        raise NotImplementedError

    def merge_field(self, fields: Sequence[Field], shapes: list[Shape], y: Shape) -> Field:
        """The receptive field and jump after the join: the widest and the coarsest."""
        return Field.merge(fields)

    def merge_ops(self, shapes: list[Shape]) -> Ops:
        """Raw operations of the join itself, one sample."""
        return NO_OPS

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        """The working of the join's shape and operations."""
        return []

    def explain_field(
        self, fields: Sequence[Field], shapes: list[Shape], y: Shape
    ) -> list[Formula]:
        """A line for each axis along which the branches step by different amounts (their
        jumps disagree): the join's jump is then the coarsest, and it says so."""
        lines = []
        for axis, name in enumerate(AXES.get(len(y) - 1, ())):
            jumps = stepping_jumps(fields, shapes, y, axis)
            if len(set(jumps)) > 1:
                lines.append(
                    Formula(
                        "jump",
                        f"max of the branches' j_{name}",
                        f"max({', '.join(str(j) for j in jumps)})",
                        str(max(jumps)),
                        f"the branches' jumps disagree along {name.upper()}: neighbouring "
                        "outputs are not one step apart in every branch; the coarsest is kept",
                    )
                )
        return lines


class Concat(JoinKind):
    """Branches joined along the channels; their spatial sizes must agree."""

    kind: ClassVar[str] = "concat"
    summary: ClassVar[str] = "branches joined on channels"

    def merge(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        sizes = first[1:]
        for i, s in enumerate(shapes[1:], 1):
            if s[1:] != sizes or len(s) != len(first):
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but branch 0 gives {fmt_shape(first)}: "
                    "concatenated branches must agree in every axis but the channels",
                    hint="check the stride and padding of each branch",
                )
        return (sum([s[0] for s in shapes]),) + sizes

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        return [
            Formula(
                "C",
                "Σ c (each branch's channels)",
                " + ".join(str(s[0]) for s in shapes),
                str(y[0]),
            )
        ]


class Broadcasting(JoinKind):
    """An element-wise join of branches, broadcast as PyTorch broadcasts: one operation per
    output element for each branch after the first."""

    verb: ClassVar[str] = ""
    op_field: ClassVar[str] = ""
    """The raw count the join's operations go to (:class:`~cnncalc.kinds.ops.Ops`)."""
    mismatch_hint: ClassVar[str | None] = None

    def merge(self, shapes: list[Shape]) -> Shape:
        return broadcast_shape(shapes, self.verb, self.mismatch_hint)

    def merge_field(self, fields: Sequence[Field], shapes: list[Shape], y: Shape) -> Field:
        return broadcast_field(fields, shapes, y)

    def merge_ops(self, shapes: list[Shape]) -> Ops:
        return self._join_ops(len(shapes), self.merge(shapes))

    def _join_ops(self, branches: int, y: Shape) -> Ops:
        """(branches − 1)·elements of the broadcast output ``y``."""
        return Ops(**{self.op_field: (branches - 1) * prod(y)})

    def site_ops(self, xs: tuple[Shape, ...], y: Shape) -> Ops:
        return self._join_ops(len(xs), y)

    def merge_backward(self, shapes: list[Shape], needs: list[bool], batch: int) -> Backward:
        """dX of each branch that needs one, whole batch, as autograd runs the forward's
        chain of binary ops ((a ∘ b) ∘ c): at each op, the gradient of an input of shape t
        is dY (``add``) or dY times the other input (``mul``: one mult per output element),
        summed over the axes where t was broadcast (one add per output element beyond t's)."""
        total = Ops()
        acc, acc_needs = shapes[0], needs[0]
        for s, need in zip(shapes[1:], needs[1:]):
            out = tuple(max(a, b) for a, b in zip(acc, s))
            for t, wanted in ((acc, acc_needs), (s, need)):
                if wanted:
                    products = prod(out) if self.op_field == "mults" else 0
                    total += Ops(mults=products, adds=prod(out) - prod(t)).times(batch)
            acc, acc_needs = out, acc_needs or need
        return Backward(dx=total)

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """``mul`` keeps its inputs (each one's gradient is dY times the others); ``add``
        keeps nothing."""
        return Saved(input=self.op_field == "mults")

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        broadcast = any(s != y for s in shapes)
        return [
            Formula(
                "shape",
                "broadcast of the branches" if broadcast else "input shape",
                " ∘ ".join(fmt_shape(s) for s in shapes) if broadcast else "",
                fmt_shape(y),
                "a size-1 axis is stretched over the other branches' size" if broadcast else "",
            ),
            op_line(
                self.op_field,
                "(branches − 1)·output elements",
                f"({len(shapes)} − 1)·{dotted(*y)}",
                getattr(self.merge_ops(shapes), self.op_field),
            ),
        ]


class Add(Broadcasting):
    """Branches summed element by element (broadcast like PyTorch's ``+``)."""

    kind: ClassVar[str] = "add"
    summary: ClassVar[str] = "branches summed element by element"
    verb: ClassVar[str] = "added"
    op_field: ClassVar[str] = "eltwise_adds"
    mismatch_hint: ClassVar[str | None] = (
        "a residual shortcut that changes shape needs a 1×1 conv in its branch"
    )


class Mul(Broadcasting):
    """Branches multiplied element by element (broadcast like PyTorch's ``*``): a
    squeeze-and-excitation gate, x·σ(W₂·relu(W₁·gap(x))) (Hu et al. 2018)."""

    kind: ClassVar[str] = "mul"
    summary: ClassVar[str] = "branches multiplied element by element, broadcast as PyTorch"
    verb: ClassVar[str] = "multiplied"
    op_field: ClassVar[str] = "mults"
    mismatch_hint: ClassVar[str | None] = (
        "a gate is C×1×1 (gap, then 1×1 convs back to C channels) or the map's own shape"
    )

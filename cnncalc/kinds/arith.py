"""Sliding-window arithmetic shared by every kind that slides a window.

All sizes are exact Python ints. ``n`` is the input extent along one axis,
``k`` the kernel, ``s`` the stride, ``d`` the dilation, ``lo``/``hi`` the
padding before/after (per side, as PyTorch and Keras take it; the textbook's
p = lo + hi is the total).
"""

from __future__ import annotations

from fractions import Fraction
from math import prod as math_prod
from typing import NamedTuple, Sequence

from cnncalc.errors import CnnCalcError

Shape = tuple[int, ...]


prod = math_prod
"""Π values, exact for ints (1 for none): :func:`math.prod` itself, which loops in C (a
Python loop, or a function around it, was a tenth of an analysis, issue 11)."""


def per_axis(value, ndim: int, field: str) -> tuple[int, ...]:
    """An int applies to every spatial axis; a list gives one value per axis."""
    if isinstance(value, int):
        return (value,) * ndim
    values = tuple(value)
    if len(values) != ndim:
        raise CnnCalcError(
            f"has {len(values)} values but the input has {ndim} spatial "
            f"ax{'is' if ndim == 1 else 'es'}",
            field=field,
            hint=f"give one int or a list of {ndim}",
        )
    return values


def effective_kernel(k: int, d: int) -> int:
    """Extent of a dilated kernel: d·(k − 1) + 1."""
    return d * (k - 1) + 1


def resolve_padding(
    padding, ndim: int, sizes: Shape, k_eff: Shape, stride: Shape, field: str = "padding"
) -> tuple[tuple[int, int], ...]:
    """Padding per side for each axis, from any of the accepted forms.

    int p: p on both sides of every axis; ``valid``: none; ``same``: the
    TensorFlow/Keras rule, total = max((⌈n/s⌉ − 1)·s + k − n, 0) with the
    smaller half first (PyTorch's ``same`` for stride 1); a list of ``ndim``
    ints: per axis, both sides; a list of ``2·ndim`` ints: (before, after)
    per axis, e.g. ``[top, bottom, left, right]``; or a list of pairs.
    """
    if padding == "valid":
        return ((0, 0),) * ndim
    if padding == "same":
        pads = []
        for n, k, s in zip(sizes, k_eff, stride):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, str):
        raise CnnCalcError(
            f"unknown padding '{padding}'",
            field=field,
            hint="use an int, 'same', 'valid', or a list",
        )
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    values = list(padding)
    if values and all(isinstance(v, (list, tuple)) for v in values):
        if len(values) != ndim or any(len(v) != 2 for v in values):
            raise CnnCalcError(f"needs {ndim} pairs [before, after]", field=field)
        return tuple((int(a), int(b)) for a, b in values)
    if len(values) == ndim and ndim != 1:
        return tuple((p, p) for p in values)
    if len(values) == 2 * ndim:
        return tuple((values[2 * i], values[2 * i + 1]) for i in range(ndim))
    if len(values) == ndim:
        return tuple((p, p) for p in values)
    raise CnnCalcError(
        f"has {len(values)} values; for {ndim} spatial ax{'is' if ndim == 1 else 'es'} give "
        f"{ndim} (one per axis, both sides) or {2 * ndim} (before and after per axis)",
        field=field,
    )


def window_out(n: int, k_eff: int, s: int, lo: int, hi: int, ceil_mode: bool = False) -> int:
    """Windows that fit: ⌊(n + p − k)/s⌋ + 1 with p = lo + hi (d2l 7.3, PyTorch).

    With ``ceil_mode`` the division rounds up, but the last window must
    start inside the input or the left padding (PyTorch's rule).
    """
    span = n + lo + hi - k_eff
    if not ceil_mode:
        return max(span // s + 1, 0)
    out = -(-span // s) + 1
    if (out - 1) * s >= n + lo:
        out -= 1
    return max(out, 0)


def window_taps(
    n: int, k: int, s: int, d: int, lo: int, hi: int, out: int, clip_to_input: bool = False
) -> int:
    """Σ over the ``out`` windows of the taps that fall inside the padded input.

    A tap is one of the k positions start + j·d, start = i·s − lo. Taps past
    the padded end (only possible with ceil_mode) are not visited; with
    ``clip_to_input`` the padding is not visited either.
    """
    first, end = (0, n) if clip_to_input else (-lo, n + hi)
    total = 0
    for j in range(k):
        # windows i whose tap j lands in [first, end): first <= i*s - lo + j*d < end
        offset = j * d - lo
        i_min = max(0, -((offset - first) // s)) if offset < first else 0
        i_max = min(out - 1, (end - 1 - offset) // s) if end - 1 - offset >= 0 else -1
        if i_max >= i_min:
            total += i_max - i_min + 1
    return total


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: [⌊i·n/out⌋, ⌈(i+1)·n/out⌉)."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def transposed_reach(n: int, k: int, s: int, d: int, p: int, out: int) -> tuple[int, int]:
    """For one axis of a transposed conv: (products that land in the output,
    output positions that receive at least one product).

    Input i and tap j land on position i·s − p + j·d; positions outside
    [0, out) are cropped away by the padding.
    """
    landed = 0
    hit = bytearray(out)
    for j in range(k):
        offset = j * d - p
        i_min = max(0, -(offset // s)) if offset < 0 else 0
        i_max = min(n - 1, (out - 1 - offset) // s) if out - 1 - offset >= 0 else -1
        if i_max >= i_min:
            count = i_max - i_min + 1
            landed += count
            start = i_min * s + offset
            hit[start : start + (count - 1) * s + 1 : s] = b"\x01" * count
    return landed, hit.count(1)


class Field(NamedTuple):
    """Receptive field and jump per spatial axis, in input pixels (Araujo et al. 2019), and
    where the field of the first output unit starts."""

    rf: tuple[int | Fraction, ...]
    jump: tuple[int | Fraction, ...]
    """Ints, except after a transposed conv, whose jump is a fraction of a pixel."""
    flattened: tuple[int, ...] = ()
    """After a flatten: the spatial size of the map it flattened, so that the fc after it
    can see that whole map (the flatten itself only reorders values)."""
    start: tuple[int | Fraction, ...] = ()
    """Where unit 0's field starts, in input pixels (negative: in the padding); () is 0 on
    every axis. Branches joined must be lined up by it."""

    @staticmethod
    def of_input(ndim: int) -> "Field":
        return Field((1,) * ndim, (1,) * ndim, start=(0,) * ndim)

    def starts(self) -> tuple[int | Fraction, ...]:
        return self.start or (0,) * len(self.rf)

    def slide(self, k_eff: Sequence[int], stride: Sequence, before: Sequence = ()) -> "Field":
        """r' = r + (k − 1)·j, j' = j·s; unit 0's window starts ``before`` pixels into the
        padding (0 when not given), so its field starts at start − before·j."""
        return slid(k_eff, stride, before, self)

    def flatten(self, sizes: Sequence[int]) -> "Field":
        """The same field, remembering the spatial size of the map a flatten made a vector."""
        return Field(self.rf, self.jump, flattened=tuple(sizes), start=self.start)

    def whole(self, sizes: Sequence[int]) -> "Field":
        """A layer that sees its whole input: a window as large as the map."""
        return self.slide(sizes, sizes)

    @staticmethod
    def merge(fields: Sequence["Field"]) -> "Field":
        """Branches joined: a position is reached through every branch, so its field runs
        from the earliest start to the latest end (the widest branch's when the branches
        are centred alike); the jump is the coarsest."""
        # one pass over the branches and axes (a DenseNet joins at every layer): the first
        # of equal values is kept, as min and max keep it
        rf, jump, _, start = fields[0]
        first = list(start or (0,) * len(rf))
        last = [a + r for a, r in zip(first, rf)]
        coarsest = list(jump)
        for rf, jump, _, start in fields[1:]:
            for i, (a, r, j) in enumerate(zip(start or (0,) * len(rf), rf, jump)):
                if a < first[i]:
                    first[i] = a
                if a + r > last[i]:
                    last[i] = a + r
                if j > coarsest[i]:
                    coarsest[i] = j
        return _field(
            tuple([e - a for e, a in zip(last, first)]), tuple(coarsest), (), tuple(first)
        )


def slid(k_eff: Sequence[int], stride: Sequence, before: Sequence, field: Field) -> Field:
    """:meth:`Field.slide` with the field last, so that a layer's step on one input binds
    its window first (``partial(slid, k_eff, stride, before)``); the graph slides nearly
    every layer, so a 2-D map (the most) is one expression per axis, without loops."""
    rf, jump, _, start = field
    if len(rf) == 2:
        (r0, r1), (j0, j1), (k0, k1), (s0, s1) = rf, jump, k_eff, stride
        a0, a1 = start or (0, 0)
        b0, b1 = before or (0, 0)
        return tuple.__new__(
            Field,
            (
                (r0 + (k0 - 1) * j0, r1 + (k1 - 1) * j1),
                (j0 * s0, j1 * s1),
                (),
                (a0 - b0 * j0, a1 - b1 * j1),
            ),
        )
    zeros = (0,) * len(rf)
    rfs, jumps, starts = [], [], []
    for r, j, a, k, s, b in zip(rf, jump, start or zeros, k_eff, stride, before or zeros):
        rfs.append(r + (k - 1) * j)
        jumps.append(j * s)
        starts.append(a - b * j)
    return _field(tuple(rfs), tuple(jumps), (), tuple(starts))


def _field(rf: tuple, jump: tuple, flattened: tuple, start: tuple) -> Field:
    """A :class:`Field` from all four of its parts, without NamedTuple's keyword handling
    (the graph makes one for nearly every layer)."""
    return tuple.__new__(Field, (rf, jump, flattened, start))

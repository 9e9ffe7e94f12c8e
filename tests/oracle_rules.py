"""Published rules, written out for the oracle tests, so that no oracle reads cnncalc's own.

Nothing here imports cnncalc: these are the textbooks' and frameworks' definitions.
"""

from __future__ import annotations


def tf_same_padding(n: int, k_eff: int, s: int) -> tuple[int, int]:
    """TensorFlow's 'SAME' padding of one axis (tf.nn.convolution docs, "padding"):
    out = ⌈n/s⌉, pad_total = max((out − 1)·s + k_eff − n, 0), pad_before = pad_total // 2,
    the larger half after."""
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def per_side_padding(padding, ndim: int, sizes, k_eff, stride) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis, read from a YAML ``padding`` as DESIGN.md defines
    it: an int on both sides of every axis; ``valid``; ``same`` (TensorFlow's rule); a
    list of ``ndim`` ints, one per axis on both sides; a list of ``2·ndim`` ints, before and
    after per axis (``[top, bottom, left, right]``); or a list of pairs."""
    if padding == "valid":
        return ((0, 0),) * ndim
    if padding == "same":
        return tuple(tf_same_padding(n, k, s) for n, k, s in zip(sizes, k_eff, stride))
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    if all(isinstance(v, (list, tuple)) for v in padding):
        return tuple((a, b) for a, b in padding)
    if len(padding) == ndim:
        return tuple((p, p) for p in padding)
    assert len(padding) == 2 * ndim, padding
    return tuple((padding[2 * i], padding[2 * i + 1]) for i in range(ndim))


def as_tuple(value, ndim: int) -> tuple[int, ...]:
    """An option that is an int for every axis or a list with one value per axis."""
    return (value,) * ndim if isinstance(value, int) else tuple(value)


def torch_pad_order(pads: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """``F.pad``'s order: the last axis first, (before, after) for each."""
    return tuple(v for lo_hi in reversed(pads) for v in lo_hi)

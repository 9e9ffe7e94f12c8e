"""Argument checking and index arithmetic shared by both implementations.

Only the *checking* and the output-size formulas live here; each
implementation does its own arithmetic on the data, so the naive loops and
the fast im2col/BLAS code check each other (and PyTorch checks both, in the
tests).

Conventions (both implementations):

* arrays are ``[N, C, *spatial]`` with 1, 2 or 3 spatial axes;
* ``pad`` is per side: an int (same on every side), one int per spatial
  axis (same on both sides of that axis), or one ``(lo, hi)`` pair per
  spatial axis (asymmetric, as ``same`` padding produces);
* kernel, stride, dilation, output_padding: an int or one int per axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "ExecutorError",
    "as_tuple",
    "as_pads",
    "spatial_ndim",
    "conv_out_len",
    "conv_transpose_out_len",
    "pool_out_len",
    "ConvGeometry",
    "conv_geometry",
    "ConvTransposeGeometry",
    "conv_transpose_geometry",
    "PoolGeometry",
    "pool_geometry",
    "adaptive_bounds",
    "broadcast_batch",
    "check_table",
    "init_weights",
    "nearest_sources",
    "linear_sources",
    "channel_groups",
    "channel_vectors",
    "check_select",
    "crop_window",
]


class ExecutorError(ValueError):
    """A layer configuration the executor cannot run; the message shows the values."""


def spatial_ndim(x: np.ndarray, op: str) -> int:
    nd = x.ndim - 2
    if nd not in (1, 2, 3):
        raise ExecutorError(
            f"{op}: input must be [N, C, *spatial] with 1, 2 or 3 spatial axes, got shape {tuple(x.shape)}"
        )
    return nd


def as_tuple(value, nd: int, name: str, minimum: int | None = None) -> tuple[int, ...]:
    """An int or a sequence of nd ints -> tuple of nd ints."""
    if isinstance(value, (int, np.integer)):
        out = (int(value),) * nd
    else:
        out = tuple(int(v) for v in value)
        if len(out) != nd:
            raise ExecutorError(
                f"{name}={tuple(value)!r} has {len(out)} values, expected 1 or {nd} (one per spatial axis)"
            )
    if minimum is not None and any(v < minimum for v in out):
        raise ExecutorError(f"{name}={out} must be >= {minimum} on every axis")
    return out


def as_pads(pad, nd: int, name: str = "pad") -> tuple[tuple[int, int], ...]:
    """Per-side padding -> ((lo, hi), ...) with one pair per spatial axis."""
    if isinstance(pad, (int, np.integer)):
        out = ((int(pad), int(pad)),) * nd
    else:
        items = list(pad)
        if len(items) != nd:
            raise ExecutorError(
                f"{name}={pad!r} has {len(items)} entries, expected {nd} (one per spatial axis)"
            )
        out = []
        for it in items:
            if isinstance(it, (int, np.integer)):
                out.append((int(it), int(it)))
            else:
                lo, hi = it
                out.append((int(lo), int(hi)))
        out = tuple(out)
    if any(v < 0 for pair in out for v in pair):
        raise ExecutorError(f"{name}={out} must be >= 0 on every side")
    return out


def conv_out_len(n: int, k: int, s: int, lo: int, hi: int, d: int) -> int:
    """floor((n + lo + hi - d(k - 1) - 1) / s) + 1 (lo, hi: padding per side)."""
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def conv_transpose_out_len(n: int, k: int, s: int, lo: int, hi: int, d: int, op: int) -> int:
    """(n - 1)s - lo - hi + d(k - 1) + op + 1 (PyTorch, padding per side)."""
    return (n - 1) * s - lo - hi + d * (k - 1) + op + 1


def pool_out_len(n: int, k: int, s: int, lo: int, hi: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size, including its ceil_mode rule.

    With ceil_mode the division rounds up, but the last window must start
    inside the input or the left padding, else it is dropped.
    """
    span = n + lo + hi - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + lo:
        out -= 1
    return out


def as_float(x) -> np.ndarray:
    """The input as a floating-point array (integers become float64), not copied if it is one."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


@dataclass(frozen=True)
class ConvGeometry:
    nd: int
    n: int
    cin: int
    cout: int
    groups: int
    cin_g: int
    cout_g: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]


def check_table(table, cin: int, cout: int) -> list[list[int]]:
    tab = [list(int(c) for c in row) for row in table]
    if len(tab) != cout:
        raise ExecutorError(f"table has {len(tab)} rows, expected one per output map ({cout})")
    for o, row in enumerate(tab):
        if not row:
            raise ExecutorError(
                f"table row {o} is empty: every output map must see at least one input map"
            )
        if len(set(row)) != len(row):
            raise ExecutorError(f"table row {o}={row} repeats an input map")
        bad = [c for c in row if not 0 <= c < cin]
        if bad:
            raise ExecutorError(f"table row {o}={row} names input maps {bad} outside 0..{cin - 1}")
    return tab


def conv_geometry(x, w, b, stride, pad, dilation, groups, table) -> ConvGeometry:
    nd = spatial_ndim(x, "conv")
    if w.ndim != nd + 2:
        raise ExecutorError(
            f"conv: weight shape {tuple(w.shape)} must be [Cout, Cin/groups, *kernel] with {nd} kernel axes"
        )
    n, cin = x.shape[:2]
    cout = w.shape[0]
    kernel = tuple(int(k) for k in w.shape[2:])
    stride = as_tuple(stride, nd, "stride", 1)
    dilation = as_tuple(dilation, nd, "dilation", 1)
    pads = as_pads(pad, nd)
    groups = int(groups)
    if table is not None:
        if groups != 1:
            raise ExecutorError(f"conv: a connection table cannot be combined with groups={groups}")
        if w.shape[1] != cin:
            raise ExecutorError(
                f"conv: with a table the weight must be [Cout, Cin, *kernel] = [{cout}, {cin}, ...], got {tuple(w.shape)}"
            )
        check_table(table, cin, cout)
        cin_g = cin
    else:
        if groups < 1 or cin % groups or cout % groups:
            raise ExecutorError(
                f"conv: groups={groups} must divide in_channels={cin} and out_channels={cout}"
            )
        cin_g = cin // groups
        if w.shape[1] != cin_g:
            raise ExecutorError(
                f"conv: weight shape {tuple(w.shape)} needs Cin/groups = {cin}/{groups} = {cin_g} in axis 1"
            )
    if min(kernel) < 1:
        raise ExecutorError(f"conv: kernel {kernel} must be >= 1 on every axis")
    if b is not None and tuple(b.shape) != (cout,):
        raise ExecutorError(f"conv: bias shape {tuple(b.shape)} must be ({cout},)")
    in_size = tuple(int(v) for v in x.shape[2:])
    out_size = tuple(
        conv_out_len(in_size[a], kernel[a], stride[a], *pads[a], dilation[a]) for a in range(nd)
    )
    if min(out_size) < 1:
        raise ExecutorError(
            f"conv: output size {out_size} is empty: input {in_size} + padding {pads} is smaller than "
            f"the dilated kernel {tuple(dilation[a] * (kernel[a] - 1) + 1 for a in range(nd))}"
        )
    return ConvGeometry(
        nd,
        n,
        cin,
        cout,
        groups,
        cin_g,
        cout // groups if table is None else cout,
        kernel,
        stride,
        pads,
        dilation,
        in_size,
        out_size,
    )


@dataclass(frozen=True)
class ConvTransposeGeometry:
    nd: int
    n: int
    cin: int
    cout: int
    groups: int
    cin_g: int
    cout_g: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]


def conv_transpose_geometry(
    x, w, b, stride, pad, output_padding, dilation, groups
) -> ConvTransposeGeometry:
    nd = spatial_ndim(x, "conv_transpose")
    if w.ndim != nd + 2:
        raise ExecutorError(
            f"conv_transpose: weight shape {tuple(w.shape)} must be [Cin, Cout/groups, *kernel] with {nd} kernel axes"
        )
    n, cin = x.shape[:2]
    groups = int(groups)
    if groups < 1 or cin % groups:
        raise ExecutorError(f"conv_transpose: groups={groups} must divide in_channels={cin}")
    if w.shape[0] != cin:
        raise ExecutorError(
            f"conv_transpose: weight shape {tuple(w.shape)} needs Cin={cin} in axis 0"
        )
    cout_g = int(w.shape[1])
    cout = cout_g * groups
    kernel = tuple(int(k) for k in w.shape[2:])
    stride = as_tuple(stride, nd, "stride", 1)
    dilation = as_tuple(dilation, nd, "dilation", 1)
    op = as_tuple(output_padding, nd, "output_padding", 0)
    pads = as_pads(pad, nd)
    for a in range(nd):
        if op[a] >= max(stride[a], dilation[a]):
            raise ExecutorError(
                f"conv_transpose: output_padding={op} must be smaller than stride={stride} or dilation={dilation} on every axis"
            )
    if min(kernel) < 1:
        raise ExecutorError(f"conv_transpose: kernel {kernel} must be >= 1 on every axis")
    if b is not None and tuple(b.shape) != (cout,):
        raise ExecutorError(f"conv_transpose: bias shape {tuple(b.shape)} must be ({cout},)")
    in_size = tuple(int(v) for v in x.shape[2:])
    out_size = tuple(
        conv_transpose_out_len(in_size[a], kernel[a], stride[a], *pads[a], dilation[a], op[a])
        for a in range(nd)
    )
    if min(out_size) < 1:
        raise ExecutorError(
            f"conv_transpose: output size {out_size} is empty (input {in_size}, padding {pads})"
        )
    return ConvTransposeGeometry(
        nd,
        n,
        cin,
        cout,
        groups,
        cin // groups,
        cout_g,
        kernel,
        stride,
        pads,
        op,
        dilation,
        in_size,
        out_size,
    )


@dataclass(frozen=True)
class PoolGeometry:
    nd: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]


def pool_geometry(x, kernel, stride, pad, ceil_mode, op: str, dilation=1) -> PoolGeometry:
    nd = spatial_ndim(x, op)
    kernel = as_tuple(kernel, nd, "kernel", 1)
    stride = kernel if stride is None else as_tuple(stride, nd, "stride", 1)
    dilation = as_tuple(dilation, nd, "dilation", 1)
    pads = as_pads(pad, nd)
    for a in range(nd):
        # PyTorch's rule, on the undilated kernel: pad <= k // 2
        if max(pads[a]) > kernel[a] // 2:
            raise ExecutorError(
                f"{op}: padding {pads} must be at most half the kernel {kernel} on every side"
            )
    in_size = tuple(int(v) for v in x.shape[2:])
    k_eff = tuple(dilation[a] * (kernel[a] - 1) + 1 for a in range(nd))
    out_size = tuple(
        pool_out_len(in_size[a], k_eff[a], stride[a], *pads[a], bool(ceil_mode)) for a in range(nd)
    )
    if min(out_size) < 1:
        raise ExecutorError(
            f"{op}: output size {out_size} is empty: input {in_size} + padding {pads} < kernel {k_eff}"
        )
    return PoolGeometry(nd, kernel, stride, pads, dilation, in_size, out_size)


def broadcast_batch(xs: Sequence[np.ndarray], op: str) -> tuple[int, ...]:
    """The shape an element-wise join of ``xs`` gives: numpy's (and PyTorch's) broadcasting
    of arrays with the same number of axes, batch first (a C×1×1 gate over C×H×W)."""
    if not xs:
        raise ExecutorError(f"{op}: needs at least one input")
    shapes = [tuple(v.shape) for v in xs]
    if len({len(s) for s in shapes}) != 1:
        raise ExecutorError(f"{op}: branches have different numbers of axes: {shapes}")
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ExecutorError(f"{op}: branch shapes do not broadcast: {shapes}") from None


def adaptive_bounds(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: [floor(i n / out), ceil((i + 1) n / out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def init_weights(
    rng: np.random.Generator, shape: Sequence[int], fan_in: int | None = None, dtype=np.float64
) -> np.ndarray:
    """Seeded uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights (PyTorch's default bound).

    ``fan_in`` defaults to prod(shape[1:]), right for conv [Cout, Cin/g, *k]
    and linear [out, in] weights.
    """
    shape = tuple(int(s) for s in shape)
    if fan_in is None:
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else max(shape[0], 1) if shape else 1
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def nearest_sources(n: int, out: int, scale: float | None = None) -> list[int]:
    """PyTorch's nearest-neighbour source index of each output (aten/src/ATen/native/UpSample.h,
    nearest_idx): the same index when out = n, o >> 1 when out = 2n, else
    min(⌊o·scale⌋, n − 1) in float32, scale = 1/scale_factor or n/out."""
    if out == n:
        return list(range(out))
    if out == 2 * n:
        return [o >> 1 for o in range(out)]
    f = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)
    return [min(int(math.floor(np.float32(o) * f)), n - 1) for o in range(out)]


def linear_sources(
    n: int, out: int, align_corners: bool, scale: float | None = None
) -> list[tuple[int, int, float, float]]:
    """PyTorch's linear interpolation of each output along one axis (UpSample.h,
    area_pixel_compute_source_index, in double): (i0, i1, λ0, λ1), the two neighbours and
    their weights."""
    if align_corners:
        step = (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        step = 1.0 / scale if scale else n / out
    sources = []
    for o in range(out):
        src = step * o if align_corners else max(step * (o + 0.5) - 0.5, 0.0)
        i0 = int(src)
        lam1 = min(max(src - i0, 0.0), 1.0)
        sources.append((i0, i0 + (1 if i0 < n - 1 else 0), 1.0 - lam1, lam1))
    return sources


def channel_groups(c: int, groups: int, op: str) -> int:
    """Channels per group; the groups must divide the channels."""
    if groups < 1 or c % groups:
        raise ExecutorError(f"{op}: groups={groups} must divide the {c} channels")
    return c // groups


def channel_vectors(x: np.ndarray, op: str) -> tuple[int, int, int]:
    """(batch, channels, positions) of an [N, C, ...] input, for the ops along the channels."""
    if x.ndim < 2:
        raise ExecutorError(f"{op}: input must be [N, C, ...], got shape {tuple(x.shape)}")
    return x.shape[0], x.shape[1], math.prod(x.shape[2:])


def check_select(x: np.ndarray, start: int, stop: int) -> None:
    if not 0 <= start < stop <= x.shape[1]:
        raise ExecutorError(f"select: [{start}, {stop}) is not inside the {x.shape[1]} channels")


def crop_window(x: np.ndarray, offsets, sizes) -> tuple[slice, ...]:
    """The index of a crop: every sample and channel, [offset, offset + size) on each axis."""
    nd = spatial_ndim(x, "crop")
    offsets, sizes = as_tuple(offsets, nd, "offsets", 0), as_tuple(sizes, nd, "sizes", 1)
    if any(o + s > n for o, s, n in zip(offsets, sizes, x.shape[2:])):
        raise ExecutorError(f"crop: {sizes} at {offsets} does not fit in {x.shape[2:]}")
    return (slice(None), slice(None)) + tuple(slice(o, o + s) for o, s in zip(offsets, sizes))

"""The fast implementation: im2col + BLAS, vectorised numpy everywhere else.

Same signatures and same results as :mod:`cnncalc.proof.executor.ops_naive`
(up to floating-point rounding), same counts.  Convolutions count from the
sizes of the matrix products they run (:func:`~.counting.gemm_count`); the
other ops count from their window sizes, which the naive loops count one by
one.

Memory: a convolution materialises at most one im2col buffer of one layer
(per group when groups > 1, and per band of output rows when it would be
larger than :data:`cnncalc.proof.impls.COLUMNS_PER_CHUNK`; none for 1x1 stride-1 unpadded
convolutions, which are a plain matrix product over channels).  The transposed
convolution needs no im2col buffer at all: it runs one small product per
kernel tap, on exactly the input positions whose products land inside the
output.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cnncalc.proof.executor.common import (
    ExecutorError,
    adaptive_bounds,
    as_tuple,
    broadcast_batch,
    channel_groups,
    channel_vectors,
    check_select,
    check_table,
    conv_geometry,
    conv_transpose_geometry,
    crop_window,
    linear_sources,
    nearest_sources,
    pool_geometry,
    spatial_ndim,
)
from cnncalc.proof.executor.common import (
    as_float as _float,
)
from cnncalc.proof.executor.counting import OpCount, gemm_count
from cnncalc.proof.impls import band_rows

IMPL = "fast"


def _like(v, x: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=x.dtype)


def _bshape(c: int, nd: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector over [N, C, *spatial]."""
    return (1, c) + (1,) * nd


# --------------------------------------------------------------------------- conv


def _im2col(xp: np.ndarray, c0: int, c1: int, g, rows: slice = slice(None)) -> np.ndarray:
    """[N, (c1-c0)*prod(k), positions] columns of maps c0..c1-1 of the padded input, for the
    output positions in ``rows`` of the first spatial axis (all of them by default)."""
    n = xp.shape[0]
    sub = xp[:, c0:c1]
    st = sub.strides
    view = as_strided(
        sub,
        shape=(n, c1 - c0) + g.kernel + g.out_size,
        strides=st[:2]
        + tuple(st[2 + a] * g.dilation[a] for a in range(g.nd))
        + tuple(st[2 + a] * g.stride[a] for a in range(g.nd)),
        writeable=False,
    )[(Ellipsis, rows) + (slice(None),) * (g.nd - 1)]
    return view.reshape(n, (c1 - c0) * math.prod(g.kernel), -1)  # the one copy


def conv(x, w, b=None, stride=1, pad=0, dilation=1, groups=1, table=None, flip=False):
    """N-d convolution layer as im2col + matrix product (see ``ops_naive.conv``).

    Per group, a [Cout/g, Cin/g * prod(k)] @ [Cin/g * prod(k), prod(out)]
    product per sample: counted as that many dot products of length
    Cin/g * prod(k).  With a connection table, each output map is a sum of
    one matrix-vector product per input map it sees; the sums of those
    partial results are the remaining adds.
    """
    x = _float(x)
    w = _like(w, x)
    g = conv_geometry(x, w, b, stride, pad, dilation, groups, table)
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * g.nd]
    n, L, K = g.n, math.prod(g.out_size), math.prod(g.kernel)
    pointwise = K == 1 and all(s == 1 for s in g.stride) and not any(p for pr in g.pads for p in pr)
    if pointwise:
        xp = None
    elif any(p for pr in g.pads for p in pr):
        xp = np.pad(x, ((0, 0), (0, 0)) + g.pads)
    else:
        xp = x

    row = L // g.out_size[0]  # output positions in one row of the first spatial axis

    def columns(c0, c1, r0=0, r1=g.out_size[0]):
        """Columns of maps c0..c1-1 for output rows r0..r1-1 of the first spatial axis."""
        if pointwise:
            return x[:, c0:c1].reshape(n, c1 - c0, L)[:, :, r0 * row : r1 * row]
        return _im2col(xp, c0, c1, g, slice(r0, r1))

    y = np.empty((n, g.cout, L), dtype=x.dtype)
    count = OpCount()
    if table is not None:
        tab = check_table(table, g.cin, g.cout)
        cols = columns(0, g.cin).reshape(n, g.cin, K, L)
        wk = w.reshape(g.cout, g.cin, K)
        for o, maps in enumerate(tab):
            acc = np.matmul(wk[o, maps[0]], cols[:, maps[0]])  # [N, L]
            count += gemm_count(1, K, L, n)
            for ci in maps[1:]:
                acc += np.matmul(wk[o, ci], cols[:, ci])
                count += gemm_count(1, K, L, n) + OpCount(adds=n * L)
            y[:, o] = acc
        del cols
    else:
        band = g.out_size[0] if pointwise else band_rows(n * g.cin_g * K * row)
        for grp in range(g.groups):
            o0, o1 = grp * g.cout_g, (grp + 1) * g.cout_g
            wg = w[o0:o1].reshape(g.cout_g, g.cin_g * K)
            for r0 in range(0, g.out_size[0], band):
                r1 = min(r0 + band, g.out_size[0])
                cols = columns(grp * g.cin_g, (grp + 1) * g.cin_g, r0, r1)
                np.matmul(wg, cols, out=y[:, o0:o1, r0 * row : r1 * row])
                del cols
            count += gemm_count(g.cout_g, g.cin_g * K, L, n)
    y = y.reshape((n, g.cout) + g.out_size)
    if b is not None:
        y += _like(b, x).reshape(_bshape(g.cout, g.nd))
        count += OpCount(bias_adds=n * g.cout * L)
    return y, count


def conv_transpose(x, w, b=None, stride=1, pad=0, output_padding=0, dilation=1, groups=1):
    """Transposed convolution (PyTorch semantics), one matrix product per kernel tap.

    For tap k, the input positions i whose products land inside the output
    (i*s + k*d - pad_lo in [0, out)) form a strided box; their
    [Cout/g, Cin/g] @ [Cin/g, box] product is added into the output at
    positions i*s + k*d - pad_lo.  Products that would fall into the cropped
    padding are never computed.  Count: the products' sizes, plus one add
    for every partial sum added onto an output position already written.
    """
    x = _float(x)
    w = _like(w, x)
    g = conv_transpose_geometry(x, w, b, stride, pad, output_padding, dilation, groups)
    n = g.n
    y = np.zeros((n, g.cout) + g.out_size, dtype=x.dtype)
    written = np.zeros(g.out_size, dtype=bool)
    mults = adds = landed = 0
    for kk in product(*(range(k) for k in g.kernel)):
        in_sl, out_sl, box = [], [], []
        for a in range(g.nd):
            s, off = g.stride[a], kk[a] * g.dilation[a] - g.pads[a][0]
            i0 = max(0, -(off // s))  # ceil(-off / s)
            i1 = min(g.in_size[a] - 1, (g.out_size[a] - 1 - off) // s)
            if i1 < i0:
                break
            in_sl.append(slice(i0, i1 + 1))
            o0 = i0 * s + off
            out_sl.append(slice(o0, o0 + (i1 - i0) * s + 1, s))
            box.append(i1 - i0 + 1)
        else:
            m = math.prod(box)
            landed += m
            written[tuple(out_sl)] = True
            for grp in range(g.groups):
                c0, c1 = grp * g.cin_g, (grp + 1) * g.cin_g
                xs = x[(slice(None), slice(c0, c1)) + tuple(in_sl)].reshape(n, g.cin_g, m)
                wk = w[(slice(c0, c1), slice(None)) + kk].T  # [Cout/g, Cin/g]
                part = np.matmul(wk, xs).reshape((n, g.cout_g) + tuple(box))
                y[(slice(None), slice(grp * g.cout_g, (grp + 1) * g.cout_g)) + tuple(out_sl)] += (
                    part
                )
                c = gemm_count(g.cout_g, g.cin_g, m, n)
                mults += c.mults
                adds += c.adds
    # accumulating the per-tap partial sums: every landing after the first is an add
    adds += n * g.cout * (landed - int(written.sum()))
    count = OpCount(mults=mults, adds=adds)
    if b is not None:
        y += _like(b, x).reshape(_bshape(g.cout, g.nd))
        count += OpCount(bias_adds=n * g.cout * math.prod(g.out_size))
    return y, count


# --------------------------------------------------------------------------- pooling


def _pool(x, kernel, stride, pad, ceil_mode, mode: str, count_include_pad: bool, dilation=1):
    x = _float(x)
    g = pool_geometry(x, kernel, stride, pad, ceil_mode, f"{mode}_pool", dilation)
    n, c = x.shape[:2]
    # pad far enough that every window (ceil_mode may overhang) is in range;
    # the overhang reads -inf / 0 and so changes neither max nor sum
    ext = []
    for a in range(g.nd):
        lo, hi = g.pads[a]
        need = max(
            g.in_size[a] + lo + hi,
            (g.out_size[a] - 1) * g.stride[a] + (g.kernel[a] - 1) * g.dilation[a] + 1,
        )
        ext.append((lo, need - g.in_size[a] - lo))
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(ext), constant_values=fill)
    y = None
    for kk in product(*(range(k) for k in g.kernel)):
        sl = tuple(
            slice(
                kk[a] * g.dilation[a],
                kk[a] * g.dilation[a] + (g.out_size[a] - 1) * g.stride[a] + 1,
                g.stride[a],
            )
            for a in range(g.nd)
        )
        v = xp[(slice(None), slice(None)) + sl]
        if y is None:
            y = v.copy()
        elif mode == "max":
            np.maximum(y, v, out=y)
        else:
            y += v
    # window sizes per axis: taps inside the padded extent, or inside the input
    sizes = []
    for a in range(g.nd):
        lo, hi = g.pads[a]
        first, end = (
            (0, g.in_size[a])
            if mode == "avg" and not count_include_pad
            else (-lo, g.in_size[a] + hi)
        )
        taps = (np.arange(g.out_size[a]) * g.stride[a] - lo)[:, None] + np.arange(
            g.kernel[a]
        ) * g.dilation[a]
        sizes.append(((taps >= first) & (taps < end)).sum(axis=1))
    outs = math.prod(g.out_size)
    window_total = math.prod(int(s.sum()) for s in sizes)  # sum over outputs of prod of sizes
    if mode == "max":
        return y, OpCount(compares=n * c * (window_total - outs))
    div = np.ones(g.out_size, dtype=x.dtype)
    for a, s in enumerate(sizes):
        div = div * s.astype(x.dtype).reshape((-1,) + (1,) * (g.nd - 1 - a))
    y /= div
    return y, OpCount(adds=n * c * (window_total - outs), divs=n * c * outs)


def max_pool(x, kernel, stride=None, pad=0, ceil_mode=False, dilation=1):
    """Max pooling (see ``ops_naive.max_pool``)."""
    return _pool(x, kernel, stride, pad, ceil_mode, "max", True, dilation)


def avg_pool(x, kernel, stride=None, pad=0, ceil_mode=False, count_include_pad=True):
    """Average pooling (see ``ops_naive.avg_pool``)."""
    return _pool(x, kernel, stride, pad, ceil_mode, "avg", count_include_pad)


def adaptive_pool(x, out_size, mode="avg"):
    """PyTorch's adaptive pooling (see ``ops_naive.adaptive_pool``)."""
    if mode not in ("avg", "max"):
        raise ExecutorError(f"adaptive_pool: mode={mode!r} must be 'avg' or 'max'")
    x = _float(x)
    nd = spatial_ndim(x, "adaptive_pool")
    out_size = as_tuple(out_size, nd, "out_size", 1)
    n, c = x.shape[:2]
    axes = [adaptive_bounds(x.shape[2 + a], out_size[a]) for a in range(nd)]
    spatial = tuple(range(2, 2 + nd))
    reduce = np.max if mode == "max" else np.mean
    y = np.empty((n, c) + out_size, dtype=x.dtype)
    for o in product(*(range(s) for s in out_size)):
        win = tuple(slice(*axes[a][o[a]]) for a in range(nd))
        y[(slice(None), slice(None)) + o] = reduce(
            x[(slice(None), slice(None)) + win], axis=spatial
        )
    outs = math.prod(out_size)
    window_total = math.prod(sum(e - s for s, e in ax) for ax in axes)
    if mode == "max":
        return y, OpCount(compares=n * c * (window_total - outs))
    return y, OpCount(adds=n * c * (window_total - outs), divs=n * c * outs)


def global_avg_pool(x):
    """Global average pooling = adaptive average pooling to size 1."""
    nd = spatial_ndim(x, "global_avg_pool")
    return adaptive_pool(x, (1,) * nd, "avg")


def subsample(x, coeff, bias, k):
    """LeNet-5's trainable sub-sampling (see ``ops_naive.subsample``)."""
    x = _float(x)
    nd = spatial_ndim(x, "subsample")
    k = as_tuple(k, nd, "k", 1)
    n, c = x.shape[:2]
    coeff, bias = _like(coeff, x).ravel(), _like(bias, x).ravel()
    if coeff.size != c or bias.size != c:
        raise ExecutorError(
            f"subsample: coeff and bias need {c} values (one per map), got {coeff.size} and {bias.size}"
        )
    out_size = tuple(x.shape[2 + a] // k[a] for a in range(nd))
    if min(out_size) < 1:
        raise ExecutorError(f"subsample: input {tuple(x.shape[2:])} is smaller than the window {k}")
    crop = x[(slice(None), slice(None)) + tuple(slice(0, out_size[a] * k[a]) for a in range(nd))]
    split = (n, c) + tuple(v for a in range(nd) for v in (out_size[a], k[a]))
    s = crop.reshape(split).sum(axis=tuple(3 + 2 * a for a in range(nd)))
    y = s * coeff.reshape(_bshape(c, nd)) + bias.reshape(_bshape(c, nd))
    outs = n * c * math.prod(out_size)
    return y, OpCount(mults=outs, adds=outs * (math.prod(k) - 1), bias_adds=outs)


# --------------------------------------------------------------------------- dense


def _rows(x) -> np.ndarray:
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"input must be [N, ...], got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], -1)


def linear(x, w, b=None):
    """Fully connected layer (see ``ops_naive.linear``): one [N, in] @ [in, out] product."""
    x2 = _rows(x)
    w = _like(w, x2)
    n, f = x2.shape
    if w.ndim != 2 or w.shape[1] != f:
        raise ExecutorError(
            f"linear: weight shape {tuple(w.shape)} must be [out, {f}] for input {tuple(np.shape(x))}"
        )
    y = x2 @ w.T
    count = gemm_count(n, f, w.shape[0])
    if b is not None:
        y += _like(b, x2)
        count += OpCount(bias_adds=n * w.shape[0])
    return y, count


def rbf(x, w):
    """Euclidean RBF units (see ``ops_naive.rbf``)."""
    x2 = _rows(x)
    w = _like(w, x2)
    n, f = x2.shape
    if w.ndim != 2 or w.shape[1] != f:
        raise ExecutorError(
            f"rbf: weight shape {tuple(w.shape)} must be [out, {f}] for input {tuple(np.shape(x))}"
        )
    d = x2[:, None, :] - w[None, :, :]
    y = np.einsum("nof,nof->no", d, d)
    units = n * w.shape[0]
    return y, OpCount(mults=units * f, adds=units * (2 * f - 1))


# --------------------------------------------------------------------------- elementwise


def relu(x):
    x = _float(x)
    return np.maximum(x, 0), OpCount(compares=x.size)


def relu6(x):
    x = _float(x)
    return np.clip(x, 0, 6), OpCount(compares=2 * x.size)


def sigmoid(x):
    x = _float(x)
    with np.errstate(over="ignore"):
        y = 1.0 / (1.0 + np.exp(-x))
    return y.astype(x.dtype, copy=False), OpCount(exps=x.size, adds=x.size, divs=x.size)


def tanh(x):
    x = _float(x)
    return np.tanh(x), OpCount(exps=2 * x.size, adds=2 * x.size, divs=x.size)


def softmax(x):
    """Softmax over axis 1; computed with the max shift, counted as the definition."""
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"softmax: input must be [N, C, ...], got shape {tuple(x.shape)}")
    e = np.exp(x - x.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    c = x.shape[1]
    vectors = x.size // c
    return y, OpCount(exps=vectors * c, adds=vectors * (c - 1), divs=vectors * c)


def batchnorm(x, gamma, beta, mean, var, eps=1e-5):
    """Inference batch norm folded into y = x * scale + shift (see ``ops_naive.batchnorm``)."""
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"batchnorm: input must be [N, C, ...], got shape {tuple(x.shape)}")
    c = x.shape[1]
    gamma, beta, mean, var = (
        np.asarray(p, dtype=np.float64).ravel() for p in (gamma, beta, mean, var)
    )
    if any(p.size != c for p in (gamma, beta, mean, var)):
        raise ExecutorError(f"batchnorm: gamma, beta, mean, var need {c} values each")
    scale = gamma / np.sqrt(var + eps)
    shift = beta - mean * scale
    shp = _bshape(c, x.ndim - 2)
    y = x * scale.astype(x.dtype).reshape(shp)
    y += shift.astype(x.dtype).reshape(shp)
    return y, OpCount(mults=x.size, adds=x.size)


def lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (see ``ops_naive.lrn``)."""
    x = _float(x)
    if x.ndim < 3:
        raise ExecutorError(f"lrn: input must be [N, C, *spatial], got shape {tuple(x.shape)}")
    size = int(size)
    if size < 1:
        raise ExecutorError(f"lrn: size={size} must be >= 1")
    n, c = x.shape[:2]
    sq = x * x
    padded = np.pad(sq, ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (x.ndim - 2))
    s = padded[:, 0:c].copy()
    for j in range(1, size):
        s += padded[:, j : j + c]
    d = (k + (alpha / size) * s) ** beta
    y = x / d
    # window of channel ci: [ci - size//2, ci + (size-1)//2] clipped to the maps
    wsum = sum(min(ci + (size - 1) // 2, c - 1) - max(ci - size // 2, 0) + 1 for ci in range(c))
    rest = x.size // (n * c)
    return y, OpCount(mults=n * rest * (wsum + c), adds=n * rest * wsum, exps=x.size, divs=x.size)


# --------------------------------------------------------------------------- structure


def dropout(x, p=0.5):
    return _float(x), OpCount()


def flatten(x):
    x = _float(x)
    return x.reshape(x.shape[0], -1), OpCount()


def add(xs):
    """Sum of B branches, broadcast: B - 1 eltwise adds per output element."""
    xs = [_float(v) for v in xs]
    y = np.zeros(broadcast_batch(xs, "add"), dtype=xs[0].dtype)
    y += xs[0]
    for v in xs[1:]:
        y += v
    return y, OpCount(eltwise_adds=(len(xs) - 1) * y.size)


def mul(xs):
    """Product of B branches, broadcast: B - 1 multiplications per output element."""
    xs = [_float(v) for v in xs]
    y = np.zeros(broadcast_batch(xs, "mul"), dtype=xs[0].dtype)
    y += xs[0]
    for v in xs[1:]:
        y *= v
    return y, OpCount(mults=(len(xs) - 1) * y.size)


def concat(xs):
    xs = [_float(v) for v in xs]
    if not xs:
        raise ExecutorError("concat: needs at least one input")
    if any(v.shape[:1] + v.shape[2:] != xs[0].shape[:1] + xs[0].shape[2:] for v in xs):
        raise ExecutorError(
            f"concat: branches differ outside the channel axis: {[tuple(v.shape) for v in xs]}"
        )
    return np.concatenate(xs, axis=1), OpCount()


# --------------------------------------------------------------------------- modern activations


def _per_element(x: np.ndarray, **counts: int) -> OpCount:
    return OpCount(**{field: n * x.size for field, n in counts.items()})


def hardswish(x):
    x = _float(x)
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, _per_element(
        x, adds=1, compares=2, mults=1, divs=1
    )


def hardsigmoid(x):
    x = _float(x)
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0, _per_element(x, adds=1, compares=2, divs=1)


def silu(x):
    x = _float(x)
    with np.errstate(over="ignore"):
        y = x / (1.0 + np.exp(-x))
    return y.astype(x.dtype, copy=False), _per_element(x, exps=1, adds=1, divs=1)


_ERF = np.frompyfunc(math.erf, 1, 1)


def gelu(x, approximate="none"):
    x = _float(x)
    if approximate == "none":
        erf = _ERF(x * math.sqrt(0.5)).astype(x.dtype)
        return 0.5 * x * (1.0 + erf), _per_element(x, mults=3, adds=1, exps=1)
    if approximate != "tanh":
        raise ExecutorError(f"gelu: approximate={approximate!r} must be 'none' or 'tanh'")
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1.0 + np.tanh(inner)), _per_element(x, mults=6, adds=4, exps=2, divs=1)


def leaky_relu(x, negative_slope=0.01):
    x = _float(x)
    return np.where(x > 0, x, negative_slope * x), _per_element(x, mults=1, compares=1)


def elu(x, alpha=1.0):
    x = _float(x)
    with np.errstate(over="ignore"):
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    return y, _per_element(x, exps=1, adds=1, mults=1, compares=1)


def prelu(x, weight):
    x = _float(x)
    channel_vectors(x, "prelu")
    a = np.asarray(weight, dtype=x.dtype).ravel()
    c = x.shape[1]
    if a.size not in (1, c):
        raise ExecutorError(f"prelu: {a.size} slopes for {c} channels (need 1 or {c})")
    a = a.reshape(_bshape(a.size, x.ndim - 2)) if a.size > 1 else a[0]
    return np.where(x > 0, x, a * x), _per_element(x, mults=1, compares=1)


def mish(x):
    x = _float(x)
    return x * np.tanh(np.logaddexp(0.0, x)), _per_element(x, exps=4, adds=3, divs=1, mults=1)


def log_softmax(x):
    """log-softmax over axis 1; computed with the max shift, counted as the definition."""
    x = _float(x)
    channel_vectors(x, "log_softmax")
    shifted = x - x.max(axis=1, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    c = x.shape[1]
    vectors = x.size // c
    return y, OpCount(exps=vectors * (c + 1), adds=vectors * (2 * c - 1))


def identity(x):
    return _float(x), OpCount()


# --------------------------------------------------------------------------- normalisations


def _normalize(groups: np.ndarray, eps: float) -> tuple[np.ndarray, OpCount]:
    """Rows [G, m] to (x − μ)/√(σ² + ε): per row 2m mults, 3m − 1 adds, 3 divs, 1 exp."""
    g, m = groups.shape
    centred = groups - groups.mean(axis=1, keepdims=True)
    inv = 1.0 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + eps)
    return centred * inv, OpCount(mults=2 * g * m, adds=g * (3 * m - 1), divs=3 * g, exps=g)


def _affine(y: np.ndarray, gamma, beta) -> tuple[np.ndarray, OpCount]:
    """γ·y + β (each broadcast to y, or None): one mult, one add per element."""
    mults = adds = 0
    if gamma is not None:
        y, mults = y * gamma, y.size
    if beta is not None:
        y, adds = y + beta, y.size
    return y, OpCount(mults=mults, adds=adds)


def _normalized(x, rows: int, shape, weight, bias, eps) -> tuple[np.ndarray, OpCount]:
    """x in ``rows`` groups normalised, then γ and β (None or broadcast as ``shape``)."""
    y, count = _normalize(x.reshape(rows, -1), eps)
    gamma = None if weight is None else np.asarray(weight, dtype=x.dtype).reshape(shape)
    beta = None if bias is None else np.asarray(bias, dtype=x.dtype).reshape(shape)
    y, more = _affine(y.reshape(x.shape), gamma, beta)
    return y, count + more


def layer_norm(x, k, weight=None, bias=None, eps=1e-5):
    x = _float(x)
    if not 1 <= k < x.ndim:
        raise ExecutorError(f"layer_norm: cannot normalise the last {k} axes of {x.shape}")
    tail = x.shape[x.ndim - k :]
    return _normalized(x, x.size // math.prod(tail), tail, weight, bias, eps)


def layer_norm_channels(x, weight=None, bias=None, eps=1e-5):
    x = _float(x)
    y, count = layer_norm(np.moveaxis(x, 1, -1), 1, weight, bias, eps)
    return np.moveaxis(y, -1, 1), count


def group_norm(x, groups, weight=None, bias=None, eps=1e-5):
    x = _float(x)
    n, c, _ = channel_vectors(x, "group_norm")
    channel_groups(c, int(groups), "group_norm")
    return _normalized(x, n * groups, _bshape(c, x.ndim - 2), weight, bias, eps)


def instance_norm(x, weight=None, bias=None, eps=1e-5):
    x = _float(x)
    spatial_ndim(x, "instance_norm")
    return group_norm(x, x.shape[1], weight, bias, eps)


# --------------------------------------------------------------------------- rearranging


def select(x, start, stop):
    x = _float(x)
    check_select(x, start, stop)
    return x[:, start:stop], OpCount()


def shuffle(x, groups):
    x = _float(x)
    n, c = x.shape[:2]
    per = channel_groups(c, int(groups), "shuffle")
    y = x.reshape((n, groups, per) + x.shape[2:]).swapaxes(1, 2)
    return y.reshape(x.shape), OpCount()


def crop(x, offsets, sizes):
    x = _float(x)
    return x[crop_window(x, offsets, sizes)], OpCount()


def upsample_nearest(x, size, scale=None):
    x = _float(x)
    nd = spatial_ndim(x, "upsample_nearest")
    size = as_tuple(size, nd, "size", 1)
    scales = (None,) * nd if scale is None else as_tuple(scale, nd, "scale", 1)
    y = x
    for a in range(nd):
        y = np.take(y, nearest_sources(x.shape[2 + a], size[a], scales[a]), axis=2 + a)
    return y, OpCount()


def upsample_bilinear(x, size, align_corners=False, scale=None):
    x = _float(x)
    if spatial_ndim(x, "upsample_bilinear") != 2:
        raise ExecutorError(f"upsample_bilinear: input must be [N, C, H, W], got {x.shape}")
    size = as_tuple(size, 2, "size", 1)
    scales = (None, None) if scale is None else as_tuple(scale, 2, "scale", 1)
    h0, h1, a0, a1 = (
        np.array(v) for v in zip(*linear_sources(x.shape[2], size[0], align_corners, scales[0]))
    )
    w0, w1, b0, b1 = (
        np.array(v) for v in zip(*linear_sources(x.shape[3], size[1], align_corners, scales[1]))
    )
    top = x[:, :, h0][:, :, :, w0] * b0 + x[:, :, h0][:, :, :, w1] * b1
    bottom = x[:, :, h1][:, :, :, w0] * b0 + x[:, :, h1][:, :, :, w1] * b1
    y = top * a0[:, None] + bottom * a1[:, None]
    return y, OpCount(mults=6 * y.size, adds=3 * y.size)


# --------------------------------------------------------------------------- scale and drop


def drop_path(x, p=0.0):
    return _float(x), OpCount()


def layer_scale(x, gamma):
    x = _float(x)
    c = x.shape[1]
    g = np.asarray(gamma, dtype=x.dtype).ravel()
    if g.size != c:
        raise ExecutorError(f"layer_scale: {g.size} values of γ for {c} channels")
    return x * g.reshape(_bshape(c, x.ndim - 2)), OpCount(mults=x.size)


def linear_positions(x, w, b=None):
    """nn.Linear over the channels at every position, as one matrix product."""
    x = _float(x)
    n, c = x.shape[:2]
    w = _like(w, x)
    if w.ndim != 2 or w.shape[1] != c:
        raise ExecutorError(f"linear_positions: weight {w.shape} must be [out, {c}]")
    y = np.matmul(w, x.reshape(n, c, -1)).reshape((n, w.shape[0]) + x.shape[2:])  # BLAS
    positions = n * (x.size // (n * c))
    count = gemm_count(w.shape[0], c, positions)
    if b is not None:
        y = y + _like(b, x).reshape(_bshape(w.shape[0], x.ndim - 2))
        count += OpCount(bias_adds=w.shape[0] * positions)
    return y, count

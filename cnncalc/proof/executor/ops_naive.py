"""The definition: every op as explicit Python loops, counting as it goes.

This is d2l's ``corr2d`` generalised (1-D/2-D/3-D, batch, channels,
stride, padding, dilation, groups, connection tables, flipped kernels):
one scalar multiplication or addition at a time, each one counted the
moment it is performed.  It is slow on purpose; it exists to be obviously
right, and the fast im2col/BLAS implementation is checked against it.

Arithmetic runs on Python floats (IEEE double) and the result is cast back
to the input dtype.  Every function returns ``(y, OpCount)`` with the
counts for the whole batch; see :mod:`cnncalc.proof.executor.counting`.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np

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
from cnncalc.proof.executor.counting import OpCount

IMPL = "naive"


def _strides(shape) -> list[int]:
    """Element strides of a C-ordered array of this shape."""
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= s
    return out[::-1]


def _result(values: list[float], shape, dtype) -> np.ndarray:
    return np.array(values, dtype=np.float64).astype(dtype, copy=False).reshape(shape)


# --------------------------------------------------------------------------- conv


def conv(x, w, b=None, stride=1, pad=0, dilation=1, groups=1, table=None, flip=False):
    """N-d convolution layer; cross-correlation, or true convolution if ``flip``.

    ``w`` is [Cout, Cin/groups, *k]; with a connection ``table`` (one list of
    input-map indices per output map, e.g. LeNet-5's C3) it is
    [Cout, Cin, *k] and the entries of unlisted input maps are ignored.
    ``flip=True`` reads the kernel reversed along every spatial axis.

    Count, per output element of fan-in n (maps seen x prod(k), padding zeros
    included): n mults, n - 1 adds, 1 bias add if ``b`` is given.
    """
    x, w = _float(x), _float(w)
    g = conv_geometry(x, w, b, stride, pad, dilation, groups, table)
    xp = np.pad(x, ((0, 0), (0, 0)) + g.pads)  # zeros, multiplied like any other input
    xs = _strides(xp.shape)
    xl, wl = xp.ravel().tolist(), w.ravel().tolist()
    bl = None if b is None else _float(b).tolist()
    ws = _strides(w.shape)

    # one tap = (offset into the padded input, offset into the kernel)
    taps = []
    for kk in product(*(range(k) for k in g.kernel)):
        xoff = sum(kk[a] * g.dilation[a] * xs[2 + a] for a in range(g.nd))
        widx = tuple(g.kernel[a] - 1 - kk[a] for a in range(g.nd)) if flip else kk
        woff = sum(widx[a] * ws[2 + a] for a in range(g.nd))
        taps.append((xoff, woff))
    bases = [
        sum(o[a] * g.stride[a] * xs[2 + a] for a in range(g.nd))
        for o in product(*(range(s) for s in g.out_size))
    ]
    tab = check_table(table, g.cin, g.cout) if table is not None else None

    mults = adds = bias_adds = 0
    out: list[float] = []
    for ni in range(g.n):
        for co in range(g.cout):
            if tab is not None:
                maps = [(ci, ci) for ci in tab[co]]  # (input map, weight slot)
            else:
                first_map = (co // g.cout_g) * g.cin_g
                maps = [(first_map + j, j) for j in range(g.cin_g)]
            for base in bases:
                acc, n = _accumulate(
                    xl[ni * xs[0] + ci * xs[1] + base + xo] * wl[co * ws[0] + slot * ws[1] + wo]
                    for ci, slot in maps
                    for xo, wo in taps
                )
                mults += n
                adds += max(n - 1, 0)
                if bl is not None:
                    acc += bl[co]
                    bias_adds += 1
                out.append(acc)
    y = _result(out, (g.n, g.cout) + g.out_size, x.dtype)
    return y, OpCount(mults=mults, adds=adds, bias_adds=bias_adds)


def _accumulate(products) -> tuple[float, int]:
    """Σ of the products as a plain loop adds them: (sum, how many). Each product is one
    multiplication; adding n of them takes n − 1 additions (the first starts the sum)."""
    acc, n = 0.0, 0
    for p in products:
        acc = p if n == 0 else acc + p
        n += 1
    return acc, n


def conv_transpose(x, w, b=None, stride=1, pad=0, output_padding=0, dilation=1, groups=1):
    """Transposed convolution with PyTorch's semantics; ``w`` is [Cin, Cout/groups, *k].

    Written as a gather: output position o receives x[i] * w[k] for every
    input position i and tap k with i*s + k*d = o + pad_lo (per axis).  Only
    products that land inside the output are performed.

    Count, per output element receiving n products (n may be 0): n mults,
    max(n - 1, 0) adds, 1 bias add if ``b`` is given.
    """
    x, w = _float(x), _float(w)
    g = conv_transpose_geometry(x, w, b, stride, pad, output_padding, dilation, groups)
    xs, ws = _strides(x.shape), _strides(w.shape)
    xl, wl = x.ravel().tolist(), w.ravel().tolist()
    bl = None if b is None else _float(b).tolist()

    # per axis, per output index: the (input index, tap) pairs landing on it
    axis_pairs = []
    for a in range(g.nd):
        lo = g.pads[a][0]
        lists = []
        for o in range(g.out_size[a]):
            pairs = []
            for k in range(g.kernel[a]):
                t = o + lo - k * g.dilation[a]
                if t >= 0 and t % g.stride[a] == 0 and t // g.stride[a] < g.in_size[a]:
                    pairs.append((t // g.stride[a], k))
            lists.append(pairs)
        axis_pairs.append(lists)
    positions = []  # per output position: [(input offset, kernel offset), ...]
    for o in product(*(range(s) for s in g.out_size)):
        combos = []
        for pick in product(*(axis_pairs[a][o[a]] for a in range(g.nd))):
            xoff = sum(pick[a][0] * xs[2 + a] for a in range(g.nd))
            woff = sum(pick[a][1] * ws[2 + a] for a in range(g.nd))
            combos.append((xoff, woff))
        positions.append(combos)

    mults = adds = bias_adds = 0
    out: list[float] = []
    for ni in range(g.n):
        for co in range(g.cout):
            grp, col = divmod(co, g.cout_g)
            maps = range(grp * g.cin_g, (grp + 1) * g.cin_g)
            for combos in positions:
                acc, n = _accumulate(
                    xl[ni * xs[0] + ci * xs[1] + xo] * wl[ci * ws[0] + col * ws[1] + wo]
                    for ci in maps
                    for xo, wo in combos
                )
                mults += n
                adds += max(n - 1, 0)
                if bl is not None:
                    acc += bl[co]
                    bias_adds += 1
                out.append(acc)
    y = _result(out, (g.n, g.cout) + g.out_size, x.dtype)
    return y, OpCount(mults=mults, adds=adds, bias_adds=bias_adds)


# --------------------------------------------------------------------------- pooling


def _pool_windows(g, clip_to_input: bool):
    """Per axis, per output index: the window's taps as indices into the padded input.

    Tap j of window o is o*s + j*d.  Taps past the padded extent (ceil_mode
    can push the last window there) are not visited; with ``clip_to_input``
    neither are taps in the padding.
    """
    axes = []
    for a in range(g.nd):
        lo, hi = g.pads[a]
        n = g.in_size[a]
        first, end = (lo, lo + n) if clip_to_input else (0, lo + n + hi)
        wins = []
        for o in range(g.out_size[a]):
            taps = [o * g.stride[a] + j * g.dilation[a] for j in range(g.kernel[a])]
            wins.append([t for t in taps if first <= t < end])
        axes.append(wins)
    return axes


def _pool(x, kernel, stride, pad, ceil_mode, mode: str, count_include_pad: bool, dilation=1):
    x = _float(x)
    op = f"{mode}_pool"
    g = pool_geometry(x, kernel, stride, pad, ceil_mode, op, dilation)
    fill = -math.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0)) + g.pads, constant_values=fill)
    xs = _strides(xp.shape)
    xl = xp.ravel().tolist()
    axes = _pool_windows(g, clip_to_input=(mode == "avg" and not count_include_pad))
    windows = []
    for o in product(*(range(s) for s in g.out_size)):
        offs = [
            sum(idx[a] * xs[2 + a] for a in range(g.nd))
            for idx in product(*(axes[a][o[a]] for a in range(g.nd)))
        ]
        windows.append(offs)

    n, c = x.shape[:2]
    adds = divs = compares = 0
    out: list[float] = []
    for ni in range(n):
        for ci in range(c):
            base = ni * xs[0] + ci * xs[1]
            for offs in windows:
                if mode == "max":
                    m = xl[base + offs[0]]
                    for off in offs[1:]:
                        v = xl[base + off]
                        compares += 1
                        if v > m:
                            m = v
                    out.append(m)
                else:
                    s = 0.0
                    for j, off in enumerate(offs):
                        if j:
                            s += xl[base + off]
                            adds += 1
                        else:
                            s = xl[base + off]
                    out.append(s / len(offs))
                    divs += 1
    y = _result(out, (n, c) + g.out_size, x.dtype)
    return y, OpCount(adds=adds, divs=divs, compares=compares)


def max_pool(x, kernel, stride=None, pad=0, ceil_mode=False, dilation=1):
    """Max pooling (PyTorch semantics, padding reads as -inf; stride defaults to the kernel).

    Count: w - 1 compares per output, w = the window's taps inside the
    padded extent.
    """
    return _pool(x, kernel, stride, pad, ceil_mode, "max", True, dilation)


def avg_pool(x, kernel, stride=None, pad=0, ceil_mode=False, count_include_pad=True):
    """Average pooling (PyTorch semantics, including its divisor; stride defaults to the kernel).

    Count: w - 1 adds and 1 div per output, w = window clipped to the padded
    extent, or to the real input when ``count_include_pad`` is False.
    """
    return _pool(x, kernel, stride, pad, ceil_mode, "avg", count_include_pad)


def adaptive_pool(x, out_size, mode="avg"):
    """PyTorch's adaptive pooling: window i is [floor(i n/out), ceil((i+1) n/out)).

    Count per output, w = window size: avg w - 1 adds, 1 div; max w - 1 compares.
    """
    if mode not in ("avg", "max"):
        raise ExecutorError(f"adaptive_pool: mode={mode!r} must be 'avg' or 'max'")
    x = _float(x)
    nd = spatial_ndim(x, "adaptive_pool")
    out_size = as_tuple(out_size, nd, "out_size", 1)
    xs = _strides(x.shape)
    xl = x.ravel().tolist()
    axes = [adaptive_bounds(x.shape[2 + a], out_size[a]) for a in range(nd)]
    windows = []
    for o in product(*(range(s) for s in out_size)):
        windows.append(
            [
                sum(idx[a] * xs[2 + a] for a in range(nd))
                for idx in product(*(range(*axes[a][o[a]]) for a in range(nd)))
            ]
        )
    n, c = x.shape[:2]
    adds = divs = compares = 0
    out: list[float] = []
    for ni in range(n):
        for ci in range(c):
            base = ni * xs[0] + ci * xs[1]
            for offs in windows:
                acc = xl[base + offs[0]]
                for off in offs[1:]:
                    v = xl[base + off]
                    if mode == "max":
                        compares += 1
                        if v > acc:
                            acc = v
                    else:
                        acc += v
                        adds += 1
                if mode == "avg":
                    acc /= len(offs)
                    divs += 1
                out.append(acc)
    y = _result(out, (n, c) + out_size, x.dtype)
    return y, OpCount(adds=adds, divs=divs, compares=compares)


def global_avg_pool(x):
    """Global average pooling = adaptive average pooling to size 1."""
    nd = spatial_ndim(x, "global_avg_pool")
    return adaptive_pool(x, (1,) * nd, "avg")


def subsample(x, coeff, bias, k):
    """LeNet-5's trainable sub-sampling: y = coeff[c] * (sum of the k-window) + bias[c].

    Windows of size k, stride k, no padding.  Count per output:
    prod(k) - 1 adds, 1 mult, 1 bias add.
    """
    x = _float(x)
    nd = spatial_ndim(x, "subsample")
    k = as_tuple(k, nd, "k", 1)
    n, c = x.shape[:2]
    coeff, bias = _float(coeff).ravel().tolist(), _float(bias).ravel().tolist()
    if len(coeff) != c or len(bias) != c:
        raise ExecutorError(
            f"subsample: coeff and bias need {c} values (one per map), got {len(coeff)} and {len(bias)}"
        )
    out_size = tuple(x.shape[2 + a] // k[a] for a in range(nd))
    if min(out_size) < 1:
        raise ExecutorError(f"subsample: input {tuple(x.shape[2:])} is smaller than the window {k}")
    xs = _strides(x.shape)
    xl = x.ravel().tolist()
    mults = adds = bias_adds = 0
    out: list[float] = []
    for ni in range(n):
        for ci in range(c):
            base = ni * xs[0] + ci * xs[1]
            for o in product(*(range(s) for s in out_size)):
                s, count = _accumulate(
                    xl[base + sum((o[a] * k[a] + kk[a]) * xs[2 + a] for a in range(nd))]
                    for kk in product(*(range(v) for v in k))
                )
                adds += count - 1
                s = coeff[ci] * s
                mults += 1
                s += bias[ci]
                bias_adds += 1
                out.append(s)
    y = _result(out, (n, c) + out_size, x.dtype)
    return y, OpCount(mults=mults, adds=adds, bias_adds=bias_adds)


# --------------------------------------------------------------------------- dense


def _rows(x) -> tuple[np.ndarray, int, int]:
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"input must be [N, ...], got shape {tuple(x.shape)}")
    n = x.shape[0]
    x2 = x.reshape(n, -1)
    return x2, n, x2.shape[1]


def linear(x, w, b=None):
    """Fully connected layer on the flattened input; ``w`` is [out, in].

    Count per sample: in*out mults, (in - 1)*out adds, out bias adds.
    """
    x2, n, f = _rows(x)
    w = _float(w)
    if w.ndim != 2 or w.shape[1] != f:
        raise ExecutorError(
            f"linear: weight shape {tuple(w.shape)} must be [out, {f}] for input {tuple(np.shape(x))}"
        )
    xl, wl = x2.tolist(), w.tolist()
    bl = None if b is None else _float(b).tolist()
    mults = adds = bias_adds = 0
    out = []
    for ni in range(n):
        row = []
        for o, wr in enumerate(wl):
            acc = xl[ni][0] * wr[0]
            mults += 1
            for j in range(1, f):
                acc += xl[ni][j] * wr[j]
                mults += 1
                adds += 1
            if bl is not None:
                acc += bl[o]
                bias_adds += 1
            row.append(acc)
        out.append(row)
    y = np.array(out, dtype=np.float64).astype(x2.dtype, copy=False)
    return y, OpCount(mults=mults, adds=adds, bias_adds=bias_adds)


def rbf(x, w):
    """LeNet-5's Euclidean RBF output units: y_i = sum_j (x_j - w_ij)^2.

    Count per sample: in*out mults (squares), (2 in - 1)*out adds (the
    subtractions count as adds).
    """
    x2, n, f = _rows(x)
    w = _float(w)
    if w.ndim != 2 or w.shape[1] != f:
        raise ExecutorError(
            f"rbf: weight shape {tuple(w.shape)} must be [out, {f}] for input {tuple(np.shape(x))}"
        )
    xl, wl = x2.tolist(), w.tolist()
    mults = adds = 0
    out = []
    for ni in range(n):
        row = []
        for wr in wl:
            acc, count = _accumulate((xl[ni][j] - wr[j]) ** 2 for j in range(f))
            adds += count + count - 1  # the subtractions, then the sum
            mults += count  # the squares
            row.append(acc)
        out.append(row)
    y = np.array(out, dtype=np.float64).astype(x2.dtype, copy=False)
    return y, OpCount(mults=mults, adds=adds)


# --------------------------------------------------------------------------- elementwise


def _map(x, fn):
    x = _float(x)
    return _result([fn(v) for v in x.ravel().tolist()], x.shape, x.dtype), x.size


def relu(x):
    """max(x, 0): 1 compare per element."""
    y, m = _map(x, lambda v: v if v > 0.0 else 0.0)
    return y, OpCount(compares=m)


def relu6(x):
    """min(max(x, 0), 6): 2 compares per element."""
    y, m = _map(x, lambda v: 6.0 if v > 6.0 else (v if v > 0.0 else 0.0))
    return y, OpCount(compares=2 * m)


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def sigmoid(x):
    """1 / (1 + e^-x): 1 exp, 1 add, 1 div per element."""
    y, m = _map(x, lambda v: 1.0 / (1.0 + _exp(-v)))
    return y, OpCount(exps=m, adds=m, divs=m)


def _tanh(v: float) -> float:
    # tanh(+-20) is +-1 to double precision; clamping keeps e^x finite
    v = max(min(v, 20.0), -20.0)
    ep, em = math.exp(v), math.exp(-v)
    return (ep - em) / (ep + em)


def tanh(x):
    """(e^x - e^-x) / (e^x + e^-x): 2 exps, 2 adds, 1 div per element."""
    y, m = _map(x, _tanh)
    return y, OpCount(exps=2 * m, adds=2 * m, divs=m)


def softmax(x):
    """Softmax over axis 1 (channels; features for [N, F]), e^x_i / sum_j e^x_j.

    The definition as written, without the max shift (so inputs above ~709
    overflow).  Count per vector of n: n exps, n - 1 adds, n divs.
    """
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"softmax: input must be [N, C, ...], got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    rest = math.prod(x.shape[2:])
    xl = x.reshape(n, c, rest).tolist()
    exps = adds = divs = 0
    y = np.empty((n, c, rest), dtype=np.float64)
    for ni in range(n):
        for p in range(rest):
            e = []
            for ci in range(c):
                e.append(_exp(xl[ni][ci][p]))
                exps += 1
            s = e[0]
            for v in e[1:]:
                s += v
                adds += 1
            for ci in range(c):
                y[ni, ci, p] = e[ci] / s
                divs += 1
    return y.astype(x.dtype, copy=False).reshape(x.shape), OpCount(exps=exps, adds=adds, divs=divs)


def batchnorm(x, gamma, beta, mean, var, eps=1e-5):
    """Inference batch norm from running statistics, folded per channel.

    y = x * scale + shift, scale = gamma / sqrt(var + eps),
    shift = beta - mean * scale.  The folding is done once per channel and
    not counted; per element: 1 mult, 1 add.
    """
    x = _float(x)
    if x.ndim < 2:
        raise ExecutorError(f"batchnorm: input must be [N, C, ...], got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    params = [_float(p).ravel().tolist() for p in (gamma, beta, mean, var)]
    if any(len(p) != c for p in params):
        raise ExecutorError(f"batchnorm: gamma, beta, mean, var need {c} values each")
    scale = [params[0][ci] / math.sqrt(params[3][ci] + eps) for ci in range(c)]
    shift = [params[1][ci] - params[2][ci] * scale[ci] for ci in range(c)]
    rest = math.prod(x.shape[2:])
    xl = x.reshape(n, c, rest).tolist()
    mults = adds = 0
    out = []
    for ni in range(n):
        for ci in range(c):
            for v in xl[ni][ci]:
                v = v * scale[ci]
                mults += 1
                v = v + shift[ci]
                adds += 1
                out.append(v)
    return _result(out, x.shape, x.dtype), OpCount(mults=mults, adds=adds)


def lrn(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (PyTorch's LocalResponseNorm).

    b_c = a_c / (k + alpha/size * sum_{c'} a_c'^2)^beta, c' over
    [c - size//2, c + (size-1)//2] clipped to the real channels.
    Count per element, w = clipped window: w + 1 mults, w adds, 1 exp (the
    power), 1 div.
    """
    x = _float(x)
    if x.ndim < 3:
        raise ExecutorError(f"lrn: input must be [N, C, *spatial], got shape {tuple(x.shape)}")
    size = int(size)
    if size < 1:
        raise ExecutorError(f"lrn: size={size} must be >= 1")
    n, c = x.shape[:2]
    rest = math.prod(x.shape[2:])
    xl = x.reshape(n, c, rest).tolist()
    a_over_n = alpha / size
    mults = adds = exps = divs = 0
    y = np.empty((n, c, rest), dtype=np.float64)
    for ni in range(n):
        for ci in range(c):
            lo, hi = max(ci - size // 2, 0), min(ci + (size - 1) // 2, c - 1)
            for p in range(rest):
                s, count = _accumulate(xl[ni][cj][p] * xl[ni][cj][p] for cj in range(lo, hi + 1))
                mults += count
                adds += count - 1
                d = k + a_over_n * s
                mults += 1
                adds += 1
                d = d**beta
                exps += 1
                y[ni, ci, p] = xl[ni][ci][p] / d
                divs += 1
    return y.astype(x.dtype, copy=False).reshape(x.shape), OpCount(
        mults=mults, adds=adds, exps=exps, divs=divs
    )


# --------------------------------------------------------------------------- structure


def dropout(x, p=0.5):
    """Identity at inference: no operations."""
    return _float(x).copy(), OpCount()


def flatten(x):
    """[N, ...] -> [N, prod(...)]: no operations."""
    x = _float(x)
    return x.reshape(x.shape[0], -1).copy(), OpCount()


def _check_same(xs, op: str):
    if not xs:
        raise ExecutorError(f"{op}: needs at least one input")
    return [_float(v) for v in xs]


def _eltwise(xs, op: str, step):
    """Fold B branches element by element, each stretched to the broadcast shape first:
    B - 1 operations per output element, counted one by one."""
    xs = _check_same(xs, op)
    shape = broadcast_batch(xs, op)
    lists = [np.broadcast_to(v, shape).ravel().tolist() for v in xs]
    performed = 0
    out = []
    for i in range(len(lists[0])):
        s = lists[0][i]
        for lst in lists[1:]:
            s = step(s, lst[i])
            performed += 1
        out.append(s)
    return _result(out, shape, xs[0].dtype), performed


def add(xs):
    """Sum of B branches (broadcast): B - 1 eltwise adds per output element."""
    y, performed = _eltwise(xs, "add", lambda a, b: a + b)
    return y, OpCount(eltwise_adds=performed)


def mul(xs):
    """Product of B branches (broadcast): B - 1 multiplications per output element."""
    y, performed = _eltwise(xs, "mul", lambda a, b: a * b)
    return y, OpCount(mults=performed)


def concat(xs):
    """Join branches on the channel axis: no operations."""
    xs = _check_same(xs, "concat")
    if any(v.shape[:1] + v.shape[2:] != xs[0].shape[:1] + xs[0].shape[2:] for v in xs):
        raise ExecutorError(
            f"concat: branches differ outside the channel axis: {[tuple(v.shape) for v in xs]}"
        )
    n, rest = xs[0].shape[0], xs[0].shape[2:]
    c = sum(v.shape[1] for v in xs)
    y = np.empty((n, c) + rest, dtype=xs[0].dtype)
    at = 0
    for v in xs:  # copy element by element, the definition of a concatenation
        for ni in range(n):
            for ci in range(v.shape[1]):
                y[ni, at + ci] = v[ni, ci]
        at += v.shape[1]
    return y, OpCount()


# --------------------------------------------------------------------------- modern activations


def _counted_map(x, fn):
    """Apply ``fn(v, tally)`` to every element; ``fn`` adds each operation it performs to
    ``tally`` (a dict of OpCount fields) as it performs it."""
    x = _float(x)
    tally: dict[str, int] = {}
    out = [fn(v, tally) for v in x.ravel().tolist()]
    return _result(out, x.shape, x.dtype), OpCount(**tally)


def _tick(tally: dict[str, int], **counts: int) -> None:
    for field, n in counts.items():
        tally[field] = tally.get(field, 0) + n


def _relu6_of_shift(v: float, tally) -> float:
    """min(max(v + 3, 0), 6): 1 add, 2 compares."""
    t = v + 3.0
    t = t if t > 0.0 else 0.0
    t = t if t < 6.0 else 6.0
    _tick(tally, adds=1, compares=2)
    return t


def hardswish(x):
    """x·min(max(x + 3, 0), 6)/6: 1 add, 2 compares, 1 mult, 1 div per element."""

    def fn(v, tally):
        t = v * _relu6_of_shift(v, tally)
        _tick(tally, mults=1, divs=1)
        return t / 6.0

    return _counted_map(x, fn)


def hardsigmoid(x):
    """min(max(x + 3, 0), 6)/6: 1 add, 2 compares, 1 div per element."""

    def fn(v, tally):
        t = _relu6_of_shift(v, tally)
        _tick(tally, divs=1)
        return t / 6.0

    return _counted_map(x, fn)


def silu(x):
    """x/(1 + e^-x): 1 exp, 1 add, 1 div per element."""

    def fn(v, tally):
        _tick(tally, exps=1, adds=1, divs=1)
        return v / (1.0 + _exp(-v))

    return _counted_map(x, fn)


def _counted_tanh(u: float, tally) -> float:
    """(e^u − e^−u)/(e^u + e^−u): 2 exps, 2 adds, 1 div."""
    _tick(tally, exps=2, adds=2, divs=1)
    return _tanh(u)


def gelu(x, approximate="none"):
    """x·Φ(x). Exact: 0.5·x·(1 + erf(x/√2)), 3 mults, 1 add, 1 exp (the erf) per element.
    tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), 6 mults, 4 adds, 2 exps, 1 div."""
    if approximate not in ("none", "tanh"):
        raise ExecutorError(f"gelu: approximate={approximate!r} must be 'none' or 'tanh'")
    beta = math.sqrt(2.0 / math.pi)

    def exact(v, tally):
        _tick(tally, mults=3, adds=1, exps=1)
        return 0.5 * v * (1.0 + math.erf(v * math.sqrt(0.5)))

    def tanh_form(v, tally):
        inner = beta * (v + 0.044715 * (v * v * v))
        _tick(tally, mults=4, adds=1)
        t = _counted_tanh(inner, tally)
        _tick(tally, adds=1, mults=2)
        return 0.5 * v * (1.0 + t)

    return _counted_map(x, exact if approximate == "none" else tanh_form)


def leaky_relu(x, negative_slope=0.01):
    """x if x > 0 else slope·x, the product made for every element: 1 compare, 1 mult."""

    def fn(v, tally):
        scaled = negative_slope * v
        _tick(tally, mults=1, compares=1)
        return v if v > 0.0 else scaled

    return _counted_map(x, fn)


def elu(x, alpha=1.0):
    """x if x > 0 else α·(e^x − 1), both made: 1 compare, 1 exp, 1 add, 1 mult."""

    def fn(v, tally):
        neg = alpha * (_exp(v) - 1.0)
        _tick(tally, exps=1, adds=1, mults=1, compares=1)
        return v if v > 0.0 else neg

    return _counted_map(x, fn)


def prelu(x, weight):
    """x if x > 0 else a·x, a per channel (or one for all): 1 compare, 1 mult per element."""
    x = _float(x)
    n, c, rest = channel_vectors(x, "prelu")
    a = _float(weight).ravel().tolist()
    if len(a) not in (1, c):
        raise ExecutorError(f"prelu: {len(a)} slopes for {c} channels (need 1 or {c})")
    xl = x.reshape(n, c, rest).tolist()
    out = []
    for ni in range(n):
        for ci in range(c):
            slope = a[ci if len(a) > 1 else 0]
            for v in xl[ni][ci]:
                scaled = slope * v
                out.append(v if v > 0.0 else scaled)
    return _result(out, x.shape, x.dtype), OpCount(mults=x.size, compares=x.size)


def mish(x):
    """x·tanh(ln(1 + e^x)): e^x, ln and tanh's two exps (4 exps), 3 adds, 1 div, 1 mult."""

    def fn(v, tally):
        softplus = math.log1p(_exp(v)) if v < 30.0 else v + math.log1p(math.exp(-v))
        _tick(tally, exps=2, adds=1)
        t = _counted_tanh(softplus, tally)
        _tick(tally, mults=1)
        return v * t

    return _counted_map(x, fn)


def log_softmax(x):
    """log of the softmax over axis 1, x_i − ln Σ_j e^(x_j) (no max shift, as ``softmax``).
    Per vector of n: n exps and 1 log, n − 1 adds, n subtractions."""
    x = _float(x)
    n, c, rest = channel_vectors(x, "log_softmax")
    xl = x.reshape(n, c, rest).tolist()
    exps = adds = 0
    y = np.empty((n, c, rest), dtype=np.float64)
    for ni in range(n):
        for p in range(rest):
            s, count = _accumulate(_exp(xl[ni][ci][p]) for ci in range(c))
            exps += count + 1
            adds += count - 1
            log_sum = math.log(s)
            for ci in range(c):
                y[ni, ci, p] = xl[ni][ci][p] - log_sum
                adds += 1
    return y.astype(x.dtype, copy=False).reshape(x.shape), OpCount(exps=exps, adds=adds)


def identity(x):
    """The input itself: no operations."""
    return _float(x).copy(), OpCount()


# --------------------------------------------------------------------------- normalisations


def _normalize_rows(rows: list[list[float]], eps: float, tally) -> list[list[float]]:
    """Each row (a group of m values) to (x − μ)/√(σ² + ε), σ² the biased variance:
    per row 2m mults, 3m − 1 adds, 3 divs, 1 exp (the square root)."""
    out = []
    for row in rows:
        m = len(row)
        total, _ = _accumulate(row)
        mean = total / m
        centred = [v - mean for v in row]
        squares, _ = _accumulate(d * d for d in centred)
        var = squares / m
        inv = 1.0 / math.sqrt(var + eps)
        out.append([d * inv for d in centred])
        _tick(tally, adds=(m - 1) + m + (m - 1) + 1, mults=2 * m, divs=3, exps=1)
    return out


def _affine(values: list[float], gamma, beta, tally) -> list[float]:
    """γ·x̂ + β element by element (γ, β: lists as long as ``values``, or None)."""
    if gamma is not None:
        values = [v * g for v, g in zip(values, gamma)]
        _tick(tally, mults=len(values))
    if beta is not None:
        values = [v + b for v, b in zip(values, beta)]
        _tick(tally, adds=len(values))
    return values


def layer_norm(x, k, weight=None, bias=None, eps=1e-5):
    """nn.LayerNorm over the last ``k`` axes of each sample; ``weight``/``bias`` have their
    shape. Per group of m: see :func:`_normalize_rows`; affine m mults and m adds."""
    x = _float(x)
    if not 1 <= k < x.ndim:
        raise ExecutorError(f"layer_norm: cannot normalise the last {k} axes of {x.shape}")
    m = math.prod(x.shape[x.ndim - k :])
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(np.shape(t)) != x.shape[x.ndim - k :]:
            raise ExecutorError(f"layer_norm: {name} shape {np.shape(t)} is not {x.shape[-k:]}")
    gamma = None if weight is None else _float(weight).ravel().tolist()
    beta = None if bias is None else _float(bias).ravel().tolist()
    tally: dict[str, int] = {}
    out = []
    for row in _normalize_rows(x.reshape(-1, m).tolist(), eps, tally):
        out += _affine(row, gamma, beta, tally)
    return _result(out, x.shape, x.dtype), OpCount(**tally)


def layer_norm_channels(x, weight=None, bias=None, eps=1e-5):
    """LayerNorm over the channels at each position (ConvNeXt's LayerNorm2d): the channels
    moved last, :func:`layer_norm` over them, moved back."""
    x = _float(x)
    y, count = layer_norm(np.moveaxis(x, 1, -1), 1, weight, bias, eps)
    return np.ascontiguousarray(np.moveaxis(y, -1, 1)), count


def group_norm(x, groups, weight=None, bias=None, eps=1e-5):
    """nn.GroupNorm: each group of c/G channels of each sample normalised over its channels
    and positions; γ, β per channel."""
    x = _float(x)
    n, c, rest = channel_vectors(x, "group_norm")
    per = channel_groups(c, int(groups), "group_norm")
    gamma = None if weight is None else _float(weight).ravel().tolist()
    beta = None if bias is None else _float(bias).ravel().tolist()
    tally: dict[str, int] = {}
    rows = _normalize_rows(x.reshape(n * groups, per * rest).tolist(), eps, tally)
    out = []
    for r, row in enumerate(rows):
        first = (r % groups) * per
        channel = [first + j // rest for j in range(per * rest)]
        out += _affine(
            row,
            None if gamma is None else [gamma[ci] for ci in channel],
            None if beta is None else [beta[ci] for ci in channel],
            tally,
        )
    return _result(out, x.shape, x.dtype), OpCount(**tally)


def instance_norm(x, weight=None, bias=None, eps=1e-5):
    """nn.InstanceNormNd without running statistics: each map of each sample normalised
    over its positions (a group norm with one channel per group)."""
    x = _float(x)
    spatial_ndim(x, "instance_norm")
    return group_norm(x, x.shape[1], weight, bias, eps)


# --------------------------------------------------------------------------- rearranging


def select(x, start, stop):
    """Channels start … stop − 1: no operations."""
    x = _float(x)
    check_select(x, start, stop)
    n, rest = x.shape[0], x.shape[2:]
    y = np.empty((n, stop - start) + rest, dtype=x.dtype)
    for ni in range(n):
        for ci in range(start, stop):
            y[ni, ci - start] = x[ni, ci]
    return y, OpCount()


def shuffle(x, groups):
    """Channel shuffle: output channel j·g + i is input channel i·(c/g) + j. No operations."""
    x = _float(x)
    c = x.shape[1]
    per = channel_groups(c, int(groups), "shuffle")
    y = np.empty_like(x)
    for i in range(groups):
        for j in range(per):
            y[:, j * groups + i] = x[:, i * per + j]
    return y, OpCount()


def crop(x, offsets, sizes):
    """The window [offset, offset + size) of each spatial axis, copied element by element:
    no operations."""
    x = _float(x)
    window = crop_window(x, offsets, sizes)
    sizes = tuple(w.stop - w.start for w in window[2:])
    y = np.empty(x.shape[:2] + sizes, dtype=x.dtype)
    for idx in product(*(range(s) for s in sizes)):
        at = tuple(w.start + i for w, i in zip(window[2:], idx))
        y[(slice(None), slice(None)) + idx] = x[(slice(None), slice(None)) + at]
    return y, OpCount()


def upsample_nearest(x, size, scale=None):
    """Each output copies its nearest input (PyTorch's index rule, :func:`nearest_sources`):
    no operations. ``scale``: the scale factor per axis when given as one, else None."""
    x = _float(x)
    nd = spatial_ndim(x, "upsample_nearest")
    size = as_tuple(size, nd, "size", 1)
    scales = (None,) * nd if scale is None else as_tuple(scale, nd, "scale", 1)
    sources = [nearest_sources(x.shape[2 + a], size[a], scales[a]) for a in range(nd)]
    y = np.empty(x.shape[:2] + size, dtype=x.dtype)
    for idx in product(*(range(s) for s in size)):
        y[(slice(None), slice(None)) + idx] = x[
            (slice(None), slice(None)) + tuple(sources[a][i] for a, i in enumerate(idx))
        ]
    return y, OpCount()


def upsample_bilinear(x, size, align_corners=False, scale=None):
    """2-D bilinear: λ_h0·(λ_w0·a + λ_w1·b) + λ_h1·(λ_w0·c + λ_w1·d) per output, 6 mults and
    3 adds; the weights (:func:`linear_sources`) are made once per row and column."""
    x = _float(x)
    if spatial_ndim(x, "upsample_bilinear") != 2:
        raise ExecutorError(f"upsample_bilinear: input must be [N, C, H, W], got {x.shape}")
    size = as_tuple(size, 2, "size", 1)
    scales = (None, None) if scale is None else as_tuple(scale, 2, "scale", 1)
    rows = linear_sources(x.shape[2], size[0], align_corners, scales[0])
    cols = linear_sources(x.shape[3], size[1], align_corners, scales[1])
    n, c = x.shape[:2]
    xl = x.tolist()
    out = []
    for ni in range(n):
        for ci in range(c):
            plane = xl[ni][ci]
            for h0, h1, a0, a1 in rows:
                for w0, w1, b0, b1 in cols:
                    top = b0 * plane[h0][w0] + b1 * plane[h0][w1]
                    bottom = b0 * plane[h1][w0] + b1 * plane[h1][w1]
                    out.append(a0 * top + a1 * bottom)
    outputs = len(out)
    return _result(out, (n, c) + size, x.dtype), OpCount(mults=6 * outputs, adds=3 * outputs)


# --------------------------------------------------------------------------- scale and drop


def drop_path(x, p=0.0):
    """Identity at inference: no operations."""
    return _float(x).copy(), OpCount()


def layer_scale(x, gamma):
    """γ·x with γ of shape (c, 1, …): 1 mult per element."""
    x = _float(x)
    n, c = x.shape[:2]
    g = _float(gamma).ravel().tolist()
    if len(g) != c:
        raise ExecutorError(f"layer_scale: {len(g)} values of γ for {c} channels")
    rest = math.prod(x.shape[2:])
    xl = x.reshape(n, c, rest).tolist()
    out = [v * g[ci] for ni in range(n) for ci in range(c) for v in xl[ni][ci]]
    return _result(out, x.shape, x.dtype), OpCount(mults=len(out))


def linear_positions(x, w, b=None):
    """nn.Linear over the channels at every position (``w`` [out, c]): per position c·out
    mults, (c − 1)·out adds, out bias adds."""
    x = _float(x)
    n, c = x.shape[:2]
    w = _float(w)
    if w.ndim != 2 or w.shape[1] != c:
        raise ExecutorError(f"linear_positions: weight {w.shape} must be [out, {c}]")
    rest = x.shape[2:]
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    y, count = linear(rows, w, b)
    y = np.moveaxis(y.reshape((n,) + rest + (w.shape[0],)), -1, 1)
    return np.ascontiguousarray(y), count

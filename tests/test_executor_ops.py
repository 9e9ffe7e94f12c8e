"""The reference executor's ops: naive == fast == PyTorch, and exact counts.

Every expected count is a formula written out here, from the counting rules
in the task (fan-in n: n mults, n - 1 adds, 1 bias add; ...), never a
number copied from the executor.  PyTorch is a test-only dependency.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tracemalloc
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.proof.executor import ExecutorError, OpCount, get_ops, init_weights
from cnncalc.proof.executor import ops_fast as FAST
from cnncalc.proof.executor import ops_naive as NAIVE

REPO = Path(__file__).resolve().parents[1]
RTOL = 1e-5  # against torch (float64 both sides)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def T(torch, a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def run_both(op: str, *args, **kwargs):
    """Run naive and fast; they must agree on shape, values and every count."""
    yn, cn = getattr(NAIVE, op)(*args, **kwargs)
    yf, cf = getattr(FAST, op)(*args, **kwargs)
    assert yn.shape == yf.shape, (op, yn.shape, yf.shape)
    np.testing.assert_allclose(yf, yn, rtol=1e-9, atol=1e-12, err_msg=op)
    assert cn == cf, f"{op}: naive counted {cn}, fast counted {cf}"
    return yn, cn


def close_to_torch(y, ref):
    ref = ref.detach().numpy()
    assert y.shape == ref.shape, (y.shape, ref.shape)
    np.testing.assert_allclose(y, ref, rtol=RTOL, atol=1e-10)


# ------------------------------------------------------------------ d2l demonstrations


def test_d2l_corr2d():
    X = np.array([[0.0, 1, 2], [3, 4, 5], [6, 7, 8]]).reshape(1, 1, 3, 3)
    K = np.array([[0.0, 1], [2, 3]]).reshape(1, 1, 2, 2)
    y, c = run_both("conv", X, K)
    assert y[0, 0].tolist() == [[19.0, 25.0], [37.0, 43.0]]
    assert c == OpCount(mults=2 * 2 * (2 * 2), adds=2 * 2 * (2 * 2 - 1))


def test_d2l_edge_detection():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    K = np.array([[1.0, -1.0]]).reshape(1, 1, 1, 2)
    y, c = run_both("conv", X.reshape(1, 1, 6, 8), K)
    expected = np.zeros((6, 7))
    expected[:, 1] = 1
    expected[:, 5] = -1
    assert (y[0, 0] == expected).all()
    assert c == OpCount(mults=6 * 7 * 2, adds=6 * 7 * 1)
    yt, _ = run_both("conv", X.T.reshape(1, 1, 8, 6), K)
    assert yt.shape == (1, 1, 8, 5)
    assert (yt == 0).all()  # the horizontal kernel finds no vertical edge in X transposed


@pytest.mark.parametrize(
    "script, expected",
    [
        ("corr2d.py", ["[[19. 25.]", " [37. 43.]]"]),
        ("edge_detection.py", ["[[ 0.  1.  0.  0.  0. -1.  0.]", "no edge"]),
        ("wide_convolution.py", ["commutative: True", "reversed on both axes? True"]),
        (
            "conv_as_matrix.py",
            [
                "Cᵀδ == conv_transpose(δ, w): True",
                "finite differences of L = Σ δ ⊙ conv(x, w): True",
            ],
        ),
        ("conv1x1.py", ["equals the loop convolution: True"]),
    ],
)
def test_example_scripts_run(script, expected):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for line in expected:
        assert line in out.stdout, out.stdout


@pytest.mark.parametrize(
    "x_shape, w_shape", [((4, 5), (2, 3)), ((7,), (3,)), ((3, 2, 4), (2, 2, 2))]
)
@pytest.mark.parametrize("ops", [NAIVE, FAST], ids=["naive", "fast"])
def test_nndl_5_2_wide_convolution_is_commutative(ops, x_shape, w_shape):
    """x ⊗̃ w = w ⊗̃ x: true convolution with kernel-size - 1 zero padding on both sides."""
    rng = np.random.default_rng(20)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)

    def wide(a, b, flip=True):
        pad = tuple((k - 1, k - 1) for k in b.shape)
        return ops.conv(a[None, None], b[None, None], pad=pad, flip=flip)[0][0, 0]

    xw = wide(x, w)
    assert xw.shape == tuple(m + u - 1 for m, u in zip(x_shape, w_shape))
    np.testing.assert_allclose(wide(w, x), xw, rtol=1e-12, atol=1e-12)
    # cross-correlation is not commutative: swapping the operands reverses every axis
    flipped = wide(w, x, flip=False)[(slice(None, None, -1),) * len(x_shape)]
    np.testing.assert_allclose(wide(x, w, flip=False), flipped, rtol=1e-12, atol=1e-12)
    assert not np.allclose(wide(x, w, flip=False), wide(w, x, flip=False))


@pytest.mark.parametrize(
    "hw, k, stride, pad", [((5, 6), (3, 3), 2, 1), ((4, 4), (2, 2), 1, 0), ((6, 5), (3, 2), 3, 2)]
)
@pytest.mark.parametrize("ops", [NAIVE, FAST], ids=["naive", "fast"])
def test_nndl_5_7_backward_is_transposed_convolution(torch, ops, hw, k, stride, pad):
    """vec(y) = C vec(x); dL/dx = Cᵀ δ = conv_transpose(δ, w) = PyTorch's autograd gradient."""
    rng = np.random.default_rng(21)
    (H, W), (U, V) = hw, k
    x, w = rng.standard_normal(hw), rng.standard_normal(k)
    Ho, Wo = (H + 2 * pad - U) // stride + 1, (W + 2 * pad - V) // stride + 1
    C = np.zeros((Ho * Wo, H * W))  # the definition, entry by entry
    for i, j, u, v in product(range(Ho), range(Wo), range(U), range(V)):
        r, c = i * stride + u - pad, j * stride + v - pad
        if 0 <= r < H and 0 <= c < W:
            C[i * Wo + j, r * W + c] += w[u, v]
    y, _ = ops.conv(x[None, None], w[None, None], None, stride, pad)
    np.testing.assert_allclose(C @ x.ravel(), y.ravel(), rtol=1e-12, atol=1e-12)
    delta = rng.standard_normal((Ho, Wo))
    op = ((H + 2 * pad - U) % stride, (W + 2 * pad - V) % stride)
    gt, _ = ops.conv_transpose(delta[None, None], w[None, None], None, stride, pad, op)
    np.testing.assert_allclose(
        gt[0, 0], (C.T @ delta.ravel()).reshape(H, W), rtol=1e-12, atol=1e-12
    )
    xt = T(torch, x[None, None]).requires_grad_(True)
    (
        torch.nn.functional.conv2d(xt, T(torch, w[None, None]), stride=stride, padding=pad)
        * T(torch, delta)
    ).sum().backward()
    close_to_torch(gt, xt.grad)


@pytest.mark.parametrize("ops", [NAIVE, FAST], ids=["naive", "fast"])
def test_d2l_1x1_convolution_is_matmul(ops):
    rng = np.random.default_rng(22)
    X, K = rng.normal(0, 1, (3, 3, 3)), rng.normal(0, 1, (2, 3, 1, 1))
    Y1 = (K.reshape(2, 3) @ X.reshape(3, 9)).reshape(2, 3, 3)
    Y2, c = ops.conv(X[None], K)
    assert float(np.abs(Y1 - Y2[0]).sum()) < 1e-6
    assert c == OpCount(mults=2 * 3 * 3 * 3, adds=2 * 3 * 3 * (3 - 1))


# ------------------------------------------------------------------ conv: table of cases

LENET5_TABLE = (
    [[i % 6, (i + 1) % 6, (i + 2) % 6] for i in range(6)]
    + [[i % 6, (i + 1) % 6, (i + 2) % 6, (i + 3) % 6] for i in range(6)]
    + [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]
    + [[0, 1, 2, 3, 4, 5]]
)


def torch_pads(torch, x, pads, value=0.0):
    """Apply per-side padding ((lo, hi), ...) with F.pad (which lists the last axis first)."""
    flat = [v for lo_hi in reversed(pads) for v in lo_hi]
    return torch.nn.functional.pad(x, flat, value=value)


def torch_conv(torch, x, w, b, stride, pads, dilation, groups, flip=False, table=None):
    nd = x.ndim - 2
    Fn = torch.nn.functional
    w = np.array(w, dtype=np.float64)
    if table is not None:
        mask = np.zeros(w.shape[:2])
        for o, row in enumerate(table):
            mask[o, row] = 1
        w = w * mask.reshape(mask.shape + (1,) * nd)
    tw = T(torch, w)
    if flip:
        tw = tw.flip(list(range(2, 2 + nd)))
    xt = torch_pads(torch, T(torch, x), pads)
    conv = [Fn.conv1d, Fn.conv2d, Fn.conv3d][nd - 1]
    return conv(
        xt,
        tw,
        None if b is None else T(torch, b),
        stride=stride,
        padding=0,
        dilation=dilation,
        groups=groups,
    )


def conv_case(
    id, x, w, counts, bias=True, stride=1, pad=0, dilation=1, groups=1, table=None, flip=False
):
    return pytest.param(
        dict(
            x=x,
            w=w,
            bias=bias,
            stride=stride,
            pad=pad,
            dilation=dilation,
            groups=groups,
            table=table,
            flip=flip,
        ),
        counts,
        id=id,
    )


CONV_CASES = [
    # LeNet-5 C1, batch 2: 6 maps 28x28, fan-in 1*5*5
    conv_case(
        "lenet-C1",
        (2, 1, 32, 32),
        (6, 1, 5, 5),
        OpCount(
            mults=2 * 6 * 28 * 28 * 1 * 5 * 5,
            adds=2 * 6 * 28 * 28 * (1 * 5 * 5 - 1),
            bias_adds=2 * 6 * 28 * 28,
        ),
    ),
    # LeNet-5 C3: partial table, 60 (output, input) map pairs in all
    conv_case(
        "lenet-C3-table",
        (1, 6, 14, 14),
        (16, 6, 5, 5),
        OpCount(
            mults=10 * 10 * 60 * 5 * 5, adds=10 * 10 * (60 * 5 * 5 - 16), bias_adds=16 * 10 * 10
        ),
        table=LENET5_TABLE,
    ),
    # 1-D, stride 2, asymmetric padding: out = floor((20 + 1 + 2 - 3) / 2) + 1 = 11
    conv_case(
        "1d-stride-asym",
        (2, 3, 20),
        (4, 3, 3),
        OpCount(mults=2 * 4 * 11 * 3 * 3, adds=2 * 4 * 11 * (3 * 3 - 1), bias_adds=2 * 4 * 11),
        stride=2,
        pad=((1, 2),),
    ),
    # 2-D, stride (2,1), pad (0,1)/(2,0), dilation (1,2), no bias:
    # out_h = floor((9 + 1 - 2 - 1) / 2) + 1 = 4, out_w = floor((8 + 2 - 2 - 1) / 1) + 1 = 8
    conv_case(
        "2d-asym-dilated",
        (1, 3, 9, 8),
        (5, 3, 3, 2),
        OpCount(mults=5 * 4 * 8 * 3 * 3 * 2, adds=5 * 4 * 8 * (3 * 3 * 2 - 1)),
        bias=False,
        stride=(2, 1),
        pad=((0, 1), (2, 0)),
        dilation=(1, 2),
    ),
    # groups 3: each output sees 6/3 = 2 maps; padding 1 keeps 7x7
    conv_case(
        "2d-groups",
        (2, 6, 7, 7),
        (9, 2, 3, 3),
        OpCount(
            mults=2 * 9 * 7 * 7 * 2 * 9, adds=2 * 9 * 7 * 7 * (2 * 9 - 1), bias_adds=2 * 9 * 7 * 7
        ),
        pad=1,
        groups=3,
    ),
    # depthwise, stride 2: out = floor((6 - 3) / 2) + 1 = 2
    conv_case(
        "2d-depthwise",
        (1, 4, 6, 6),
        (4, 1, 3, 3),
        OpCount(mults=4 * 2 * 2 * 9, adds=4 * 2 * 2 * 8),
        bias=False,
        stride=2,
        groups=4,
    ),
    # 1x1 convolution (a matrix product over channels)
    conv_case(
        "2d-pointwise",
        (2, 5, 4, 3),
        (7, 5, 1, 1),
        OpCount(mults=2 * 7 * 4 * 3 * 5, adds=2 * 7 * 4 * 3 * 4, bias_adds=2 * 7 * 4 * 3),
    ),
    # 1x1 stride 2 (ResNet downsample): out = floor((7 - 1) / 2) + 1 = 4
    conv_case(
        "2d-pointwise-stride",
        (1, 4, 7, 7),
        (6, 4, 1, 1),
        OpCount(mults=6 * 4 * 4 * 4, adds=6 * 4 * 4 * 3),
        bias=False,
        stride=2,
    ),
    # 3-D: out_d = (5 + 1 - 2 - 1) + 1 = 4, out_h = floor((6 + 2 - 2 - 1) / 2) + 1 = 3, out_w = (4 + 1 - 1 - 1) + 1 = 4
    conv_case(
        "3d-asym",
        (1, 2, 5, 6, 4),
        (3, 2, 2, 3, 2),
        OpCount(
            mults=3 * 4 * 3 * 4 * 2 * 2 * 3 * 2,
            adds=3 * 4 * 3 * 4 * (2 * 2 * 3 * 2 - 1),
            bias_adds=3 * 4 * 3 * 4,
        ),
        stride=(1, 2, 1),
        pad=((1, 0), (1, 1), (0, 1)),
        dilation=(2, 1, 1),
    ),
    # 3-D groups 2, stride 2, padding 1: out = floor((5 + 2 - 3) / 2) + 1 = 3
    conv_case(
        "3d-groups",
        (2, 4, 5, 5, 5),
        (6, 2, 3, 3, 3),
        OpCount(mults=2 * 6 * 27 * 2 * 27, adds=2 * 6 * 27 * (2 * 27 - 1), bias_adds=2 * 6 * 27),
        stride=2,
        pad=1,
        groups=2,
    ),
    # true convolution (flipped kernel), 2-D with padding
    conv_case(
        "2d-flip",
        (1, 2, 6, 6),
        (3, 2, 3, 2),
        OpCount(mults=3 * 6 * 7 * 2 * 6, adds=3 * 6 * 7 * (2 * 6 - 1), bias_adds=3 * 6 * 7),
        pad=1,
        flip=True,
    ),
    conv_case(
        "1d-flip-dilated",
        (1, 2, 11),
        (2, 2, 3),
        OpCount(mults=2 * 7 * 2 * 3, adds=2 * 7 * 5),
        bias=False,
        dilation=2,
        flip=True,
    ),
    conv_case(
        "3d-flip-groups",
        (1, 4, 4, 5, 3),
        (2, 2, 2, 2, 2),
        OpCount(
            mults=2 * 3 * 4 * 2 * 2 * 8, adds=2 * 3 * 4 * 2 * (2 * 8 - 1), bias_adds=2 * 3 * 4 * 2
        ),
        groups=2,
        flip=True,
    ),
    # the table with flip: true convolution on a partially connected layer
    conv_case(
        "2d-table-flip",
        (1, 3, 6, 6),
        (4, 3, 3, 3),
        OpCount(mults=4 * 4 * (2 + 2 + 1 + 3) * 9, adds=4 * 4 * ((2 + 2 + 1 + 3) * 9 - 4)),
        bias=False,
        table=[[0, 1], [1, 2], [2], [0, 1, 2]],
        flip=True,
    ),
]


@pytest.mark.parametrize("case, expected", CONV_CASES)
def test_conv_cases(torch, case, expected):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case["x"])
    w = init_weights(rng, case["w"])
    b = rng.standard_normal(case["w"][0]) if case["bias"] else None
    kw = {k: case[k] for k in ("stride", "pad", "dilation", "groups", "table", "flip")}
    y, c = run_both("conv", x, w, b, **kw)
    assert c == expected
    nd = x.ndim - 2
    pads = NAIVE_pads(case["pad"], nd)
    close_to_torch(
        y,
        torch_conv(
            torch,
            x,
            w,
            b,
            case["stride"],
            pads,
            case["dilation"],
            case["groups"],
            flip=case["flip"],
            table=case["table"],
        ),
    )


def NAIVE_pads(pad, nd):
    if isinstance(pad, int):
        return ((pad, pad),) * nd
    return tuple((p, p) if isinstance(p, int) else tuple(p) for p in pad)


def test_table_ignores_unused_weights():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 5, 5))
    w = rng.standard_normal((2, 3, 3, 3))
    table = [[0, 2], [1]]
    w2 = w.copy()
    w2[0, 1] = 1e6  # not in row 0
    w2[1, [0, 2]] = -1e6  # not in row 1
    for ops in (NAIVE, FAST):
        np.testing.assert_array_equal(
            ops.conv(x, w, table=table)[0], ops.conv(x, w2, table=table)[0]
        )


def test_flip_is_true_convolution():
    """True convolution: y[i] = sum_k x[i + K - 1 - k] w[k] -- a 1-D example by hand."""
    x = np.array([1.0, 2, 3, 4]).reshape(1, 1, 4)
    w = np.array([1.0, 10, 100]).reshape(1, 1, 3)
    # cross-correlation: 1*1 + 2*10 + 3*100; convolution: 1*100 + 2*10 + 3*1
    for ops in (NAIVE, FAST):
        assert ops.conv(x, w)[0].ravel().tolist() == [321.0, 432.0]
        assert ops.conv(x, w, flip=True)[0].ravel().tolist() == [123.0, 234.0]


# ------------------------------------------------------------------ conv_transpose


def axis_landings(n_in, k, s, lo, hi, d, op):
    """Per output index of one axis: how many (input index, tap) products land there."""
    out = (n_in - 1) * s - lo - hi + d * (k - 1) + op + 1
    counts = [0] * out
    for i in range(n_in):
        for t in range(k):
            o = i * s + t * d - lo
            if 0 <= o < out:
                counts[o] += 1
    return counts


def deconv_expected_counts(n, cin, cout, groups, in_size, kernel, stride, pads, dilation, op, bias):
    """sum n and sum max(n - 1, 0) over outputs, n = (Cin/g) * prod of per-axis landings."""
    per_axis = [
        axis_landings(in_size[a], kernel[a], stride[a], *pads[a], dilation[a], op[a])
        for a in range(len(in_size))
    ]
    landed = math.prod(sum(c) for c in per_axis)
    reached = math.prod(sum(1 for v in c if v) for c in per_axis)
    outs = math.prod(len(c) for c in per_axis)
    cin_g = cin // groups
    return OpCount(
        mults=n * cout * cin_g * landed,
        adds=n * cout * (cin_g * landed - reached),
        bias_adds=n * cout * outs if bias else 0,
    )


def torch_deconv(torch, x, w, b, stride, pads, op, dilation, groups):
    """PyTorch with padding 0, then the asymmetric crop ((lo, hi), ...)."""
    nd = x.ndim - 2
    Fn = torch.nn.functional
    fn = [Fn.conv_transpose1d, Fn.conv_transpose2d, Fn.conv_transpose3d][nd - 1]
    y = fn(
        T(torch, x),
        T(torch, w),
        None if b is None else T(torch, b),
        stride=stride,
        padding=0,
        output_padding=op,
        groups=groups,
        dilation=dilation,
    )
    crop = tuple(slice(pads[a][0], y.shape[2 + a] - pads[a][1]) for a in range(nd))
    return y[(slice(None), slice(None)) + crop]


DECONV_CASES = [
    # 2-D, stride 2, padding 1, output_padding 1: out = (5 - 1)*2 - 2 + 2 + 1 + 1 = 10;
    # per axis the 5*3 products land on 0..10 before the crop, one on the cropped 0
    pytest.param(
        dict(
            x=(1, 4, 5, 5), w=(4, 3, 3, 3), stride=2, pad=1, op=1, dilation=1, groups=1, bias=True
        ),
        OpCount(
            mults=3 * 4 * (5 * 3 - 1) ** 2,
            adds=3 * (4 * (5 * 3 - 1) ** 2 - 10 * 10),
            bias_adds=3 * 10 * 10,
        ),
        id="2d-s2-p1-op1",
    ),
    # 1-D, stride 3 > kernel 2: gaps with no product (n = 0): out = (4 - 1)*3 + (2 - 1) + 1 + 1 = 12;
    # products land on 0, 1, 3, 4, 6, 7, 9, 10 (8 of 12), one each
    pytest.param(
        dict(x=(2, 2, 4), w=(2, 3, 2), stride=3, pad=0, op=1, dilation=1, groups=1, bias=True),
        OpCount(mults=2 * 3 * 2 * 4 * 2, adds=2 * 3 * (2 * 4 * 2 - 4 * 2), bias_adds=2 * 3 * 12),
        id="1d-gaps",
    ),
    # 1-D no bias, stride 1, padding 2 (crops the 2 outer products on each side)
    pytest.param(
        dict(x=(1, 3, 6), w=(3, 2, 3), stride=1, pad=2, op=0, dilation=1, groups=1, bias=False),
        OpCount(mults=2 * 3 * (6 * 3 - 3 - 3), adds=2 * (3 * (6 * 3 - 3 - 3) - 4)),
        id="1d-crop",
    ),
]


@pytest.mark.parametrize("case, expected", DECONV_CASES)
def test_conv_transpose_cases(torch, case, expected):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(case["x"])
    w = init_weights(rng, case["w"])
    b = rng.standard_normal(case["w"][1] * case["groups"]) if case["bias"] else None
    y, c = run_both(
        "conv_transpose",
        x,
        w,
        b,
        stride=case["stride"],
        pad=case["pad"],
        output_padding=case["op"],
        dilation=case["dilation"],
        groups=case["groups"],
    )
    assert c == expected
    nd = x.ndim - 2
    Fn = torch.nn.functional
    fn = [Fn.conv_transpose1d, Fn.conv_transpose2d, Fn.conv_transpose3d][nd - 1]
    ref = fn(
        T(torch, x),
        T(torch, w),
        None if b is None else T(torch, b),
        stride=case["stride"],
        padding=case["pad"],
        output_padding=case["op"],
        groups=case["groups"],
        dilation=case["dilation"],
    )
    close_to_torch(y, ref)


def test_conv_transpose_3d_groups_asym_dilated(torch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3, 4, 2))
    w = init_weights(rng, (4, 3, 2, 3, 2))
    b = rng.standard_normal(6)
    kw = dict(
        stride=(2, 1, 3),
        pad=((1, 0), (0, 2), (1, 1)),
        output_padding=(1, 0, 2),
        dilation=(1, 2, 1),
        groups=2,
    )
    y, c = run_both("conv_transpose", x, w, b, **kw)
    close_to_torch(
        y,
        torch_deconv(
            torch, x, w, b, kw["stride"], kw["pad"], kw["output_padding"], kw["dilation"], 2
        ),
    )
    assert c == deconv_expected_counts(
        2,
        4,
        6,
        2,
        (3, 4, 2),
        (2, 3, 2),
        kw["stride"],
        kw["pad"],
        kw["dilation"],
        kw["output_padding"],
        True,
    )


def test_conv_transpose_total_mults_without_crop():
    """No padding: every product lands, so mults = N * Cin * prod(in) * (Cout/g) * prod(k)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 4, 5))
    w = rng.standard_normal((6, 2, 3, 2))
    for ops in (NAIVE, FAST):
        _, c = ops.conv_transpose(x, w, None, stride=2, groups=3)
        assert c.mults == 2 * 6 * 4 * 5 * 2 * 3 * 2


# ------------------------------------------------------------------ pooling


def torch_pool(torch, mode, x, kernel, stride, pad, ceil_mode, count_include_pad=True, dilation=1):
    nd = x.ndim - 2
    Fn = torch.nn.functional
    if mode == "max":
        fn = [Fn.max_pool1d, Fn.max_pool2d, Fn.max_pool3d][nd - 1]
        return fn(T(torch, x), kernel, stride, pad, dilation=dilation, ceil_mode=ceil_mode)
    fn = [Fn.avg_pool1d, Fn.avg_pool2d, Fn.avg_pool3d][nd - 1]
    return fn(
        T(torch, x), kernel, stride, pad, ceil_mode=ceil_mode, count_include_pad=count_include_pad
    )


POOL_CASES = [
    # out = floor((7 + 2 - 3) / 2) + 1 = 4; windows start -1, 1, 3, 5 and all fit the padded extent [-1, 8)
    pytest.param(
        "max",
        (2, 3, 7, 7),
        3,
        2,
        1,
        False,
        True,
        OpCount(compares=2 * 3 * 4 * 4 * (9 - 1)),
        id="max-k3s2p1",
    ),
    # ceil_mode: out = ceil((6 - 3) / 2) + 1 = 3, windows [0,3) [2,5) [4,6): sizes 3 + 3 + 2 per axis
    pytest.param(
        "max",
        (1, 2, 6, 6),
        3,
        2,
        0,
        True,
        True,
        OpCount(compares=2 * ((3 + 3 + 2) ** 2 - 3 * 3)),
        id="max-ceil",
    ),
    # ceil_mode drops a window starting in the right padding: n=5, k=2, s=2, p=1:
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 6 >= 5 + 1, so 3 outputs of size 2
    pytest.param(
        "max", (1, 1, 5), 2, 2, 1, True, True, OpCount(compares=3 * (2 - 1)), id="max-1d-ceil-drop"
    ),
    pytest.param(
        "avg",
        (1, 1, 5),
        2,
        2,
        1,
        True,
        True,
        OpCount(adds=3 * (2 - 1), divs=3),
        id="avg-1d-ceil-drop",
    ),
    # d2l: 2x2 average, stride 2
    pytest.param(
        "avg",
        (2, 3, 4, 4),
        2,
        2,
        0,
        False,
        True,
        OpCount(adds=2 * 3 * 2 * 2 * 3, divs=2 * 3 * 2 * 2),
        id="avg-k2s2",
    ),
    # ceil_mode + padding, windows clipped to the padded extent: n=6, k=3, s=2, p=1:
    # out = ceil((6 + 2 - 3) / 2) + 1 = 4, starts -1, 1, 3, 5, ends min(start + 3, 7): sizes 3, 3, 3, 2
    pytest.param(
        "avg",
        (1, 2, 6, 6),
        3,
        2,
        1,
        True,
        True,
        OpCount(adds=2 * ((3 + 3 + 3 + 2) ** 2 - 16), divs=2 * 16),
        id="avg-ceil-pad",
    ),
    # same without counting the padding: windows clipped to the input [0, 6): sizes 2, 3, 3, 1
    pytest.param(
        "avg",
        (1, 2, 6, 6),
        3,
        2,
        1,
        True,
        False,
        OpCount(adds=2 * ((2 + 3 + 3 + 1) ** 2 - 16), divs=2 * 16),
        id="avg-ceil-pad-exclude",
    ),
    # 3-D max, k2 s2 on 4x5x6 with ceil: out 2 x 3 x 3; axis sizes 2+2, 2+2+1, 2+2+2
    pytest.param(
        "max",
        (1, 2, 4, 5, 6),
        2,
        2,
        0,
        True,
        True,
        OpCount(compares=2 * ((2 + 2) * (2 + 2 + 1) * (2 + 2 + 2) - 2 * 3 * 3)),
        id="max-3d-ceil",
    ),
    # 3-D avg, kernel (3,2,2) stride (1,2,2) pad (1,1,0), count_include_pad False
    pytest.param(
        "avg",
        (2, 1, 3, 4, 4),
        (3, 2, 2),
        (1, 2, 2),
        (1, 1, 0),
        False,
        False,
        OpCount(adds=2 * ((2 + 3 + 2) * (1 + 2 + 1) * (2 + 2) - 3 * 3 * 2), divs=2 * 3 * 3 * 2),
        id="avg-3d-exclude",
    ),
    # 1-D max k3 s1 p1 (keeps the length): windows of size 3 in the padded extent
    pytest.param(
        "max", (2, 2, 7), 3, 1, 1, False, True, OpCount(compares=2 * 2 * 7 * 2), id="max-1d-same"
    ),
]


def test_max_pool_dilated(torch):
    """Kernel 3, dilation 2 (extent 5), stride 2, padding 1, ceil_mode on n = 8:
    out = ceil((8 + 2 - 5) / 2) + 1 = 4; window o taps 2o - 1 + {0, 2, 4}, the padded extent is [-1, 9):
    o = 0..2 keep all 3 taps, o = 3 keeps 5 and 7 (9 is past the end)."""
    x = np.random.default_rng(19).standard_normal((2, 3, 8, 8))
    y, c = run_both("max_pool", x, 3, 2, 1, True, dilation=2)
    assert y.shape == (2, 3, 4, 4)
    assert c == OpCount(compares=2 * 3 * ((3 + 3 + 3 + 2) ** 2 - 4 * 4))
    close_to_torch(y, torch_pool(torch, "max", x, 3, 2, 1, True, dilation=2))


@pytest.mark.parametrize(
    "mode, shape, kernel, stride, pad, ceil_mode, include, expected", POOL_CASES
)
def test_pool_cases(torch, mode, shape, kernel, stride, pad, ceil_mode, include, expected):
    x = np.random.default_rng(5).standard_normal(shape)
    if mode == "max":
        y, c = run_both("max_pool", x, kernel, stride, pad, ceil_mode)
    else:
        y, c = run_both("avg_pool", x, kernel, stride, pad, ceil_mode, count_include_pad=include)
    assert c == expected
    close_to_torch(y, torch_pool(torch, mode, x, kernel, stride, pad, ceil_mode, include))


def test_pool_asymmetric_padding():
    """'same' pooling with an even kernel pads 0 before and 1 after."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, c = run_both("max_pool", x, 2, 1, ((0, 1), (0, 1)))
    assert y.shape == (1, 1, 4, 4)
    assert y[0, 0, 3].tolist() == [13.0, 14.0, 15.0, 15.0]
    # windows (2 in the padded extent) per axis: 2 + 2 + 2 + 2
    assert c == OpCount(compares=(8 * 8 - 16))
    ya, ca = run_both("avg_pool", x, 2, 1, ((0, 1), (0, 1)))
    assert ya[0, 0, 3, 3] == 15.0 / 4  # count_include_pad: divisor 4 (PyTorch's)
    assert ca == OpCount(adds=8 * 8 - 16, divs=16)


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize(
    "shape, out",
    [
        ((2, 3, 7, 9), (3, 4)),
        ((1, 2, 10), (4,)),
        ((1, 2, 5, 6, 7), (2, 3, 3)),
        ((2, 3, 5, 5), (1, 1)),
    ],
)
def test_adaptive_pool(torch, mode, shape, out):
    x = np.random.default_rng(6).standard_normal(shape)
    y, c = run_both("adaptive_pool", x, out, mode)
    # per axis, window i = [floor(i n / o), ceil((i + 1) n / o))
    sizes = [
        sum(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)) for n, o in zip(shape[2:], out)
    ]
    nc, outs = shape[0] * shape[1], math.prod(out)
    if mode == "avg":
        assert c == OpCount(adds=nc * (math.prod(sizes) - outs), divs=nc * outs)
    else:
        assert c == OpCount(compares=nc * (math.prod(sizes) - outs))
    nd = len(out)
    Fn = torch.nn.functional
    fns = {
        "avg": [Fn.adaptive_avg_pool1d, Fn.adaptive_avg_pool2d, Fn.adaptive_avg_pool3d],
        "max": [Fn.adaptive_max_pool1d, Fn.adaptive_max_pool2d, Fn.adaptive_max_pool3d],
    }
    close_to_torch(y, fns[mode][nd - 1](T(torch, x), out))


def test_global_avg_pool(torch):
    x = np.random.default_rng(7).standard_normal((2, 4, 5, 6))
    y, c = run_both("global_avg_pool", x)
    assert c == OpCount(adds=2 * 4 * (5 * 6 - 1), divs=2 * 4)
    close_to_torch(y, T(torch, x).mean(dim=(2, 3), keepdim=True))


def test_subsample(torch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 6, 28, 28))
    coeff, bias = rng.standard_normal(6), rng.standard_normal(6)
    y, c = run_both("subsample", x, coeff, bias, 2)
    outs = 2 * 6 * 14 * 14
    assert c == OpCount(mults=outs, adds=outs * (2 * 2 - 1), bias_adds=outs)
    ref = torch.nn.functional.avg_pool2d(T(torch, x), 2) * 4 * T(torch, coeff).view(1, 6, 1, 1) + T(
        torch, bias
    ).view(1, 6, 1, 1)
    close_to_torch(y, ref)


# ------------------------------------------------------------------ dense and elementwise


def test_linear(torch):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 120, 1, 1))  # flattened to 120 features
    w, b = init_weights(rng, (84, 120)), rng.standard_normal(84)
    y, c = run_both("linear", x, w, b)
    assert c == OpCount(mults=3 * 120 * 84, adds=3 * (120 - 1) * 84, bias_adds=3 * 84)
    close_to_torch(y, torch.nn.functional.linear(T(torch, x).flatten(1), T(torch, w), T(torch, b)))
    _, c0 = run_both("linear", x, w, None)
    assert c0 == OpCount(mults=3 * 120 * 84, adds=3 * (120 - 1) * 84)


def test_rbf(torch):
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((2, 84)), rng.standard_normal((10, 84))
    y, c = run_both("rbf", x, w)
    assert c == OpCount(mults=2 * 84 * 10, adds=2 * (2 * 84 - 1) * 10)
    close_to_torch(y, ((T(torch, x)[:, None, :] - T(torch, w)[None]) ** 2).sum(-1))


@pytest.mark.parametrize(
    "op, counts_per_element",
    [
        ("relu", OpCount(compares=1)),
        ("relu6", OpCount(compares=2)),
        ("sigmoid", OpCount(exps=1, adds=1, divs=1)),
        ("tanh", OpCount(exps=2, adds=2, divs=1)),
    ],
)
def test_activations(torch, op, counts_per_element):
    x = np.random.default_rng(11).standard_normal((2, 3, 4, 5)) * 5
    x[0, 0, 0, :3] = [-800.0, 800.0, 7.0]  # far tails, and above relu6's cap
    y, c = run_both(op, x)
    m = x.size
    assert c == OpCount(**{k: v * m for k, v in counts_per_element.as_dict().items()})
    Fn = torch.nn.functional
    ref = {"relu": Fn.relu, "relu6": Fn.relu6, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[op](
        T(torch, x)
    )
    close_to_torch(y, ref)


@pytest.mark.parametrize("shape", [(3, 10), (2, 5, 3, 4)])
def test_softmax(torch, shape):
    x = np.random.default_rng(12).standard_normal(shape)
    y, c = run_both("softmax", x)
    n = shape[1]
    vectors = x.size // n
    assert c == OpCount(exps=vectors * n, adds=vectors * (n - 1), divs=vectors * n)
    close_to_torch(y, torch.softmax(T(torch, x), dim=1))


@pytest.mark.parametrize("shape", [(2, 4, 3, 3), (3, 5, 7), (1, 3, 2, 3, 4), (4, 6)])
def test_batchnorm(torch, shape):
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape)
    c = shape[1]
    gamma, beta, mean = rng.standard_normal(c), rng.standard_normal(c), rng.standard_normal(c)
    var = rng.uniform(0.5, 2.0, c)
    y, cnt = run_both("batchnorm", x, gamma, beta, mean, var, 1e-5)
    assert cnt == OpCount(mults=x.size, adds=x.size)
    ref = torch.nn.functional.batch_norm(
        T(torch, x),
        T(torch, mean),
        T(torch, var),
        T(torch, gamma),
        T(torch, beta),
        training=False,
        eps=1e-5,
    )
    close_to_torch(y, ref)


@pytest.mark.parametrize(
    "shape, size, window_sum",
    [
        # C = 7, size 5: window [c - 2, c + 2] clipped to 0..6 -> 3, 4, 5, 5, 5, 4, 3
        ((2, 7, 4, 5), 5, 3 + 4 + 5 + 5 + 5 + 4 + 3),
        # size 4: [c - 2, c + 1] -> 2, 3, 4, 4, 4, 3 on C = 6
        ((1, 6, 3), 4, 2 + 3 + 4 + 4 + 4 + 3),
        # 3-D input, size 1: the window is the element itself
        ((1, 3, 2, 2, 2), 1, 1 + 1 + 1),
    ],
)
def test_lrn(torch, shape, size, window_sum):
    x = np.random.default_rng(14).standard_normal(shape)
    y, c = run_both("lrn", x, size, 0.5, 0.75, 2.0)
    n, ch = shape[:2]
    rest = math.prod(shape[2:])
    assert c == OpCount(
        mults=n * rest * (window_sum + ch), adds=n * rest * window_sum, exps=x.size, divs=x.size
    )
    close_to_torch(
        y, torch.nn.functional.local_response_norm(T(torch, x), size, alpha=0.5, beta=0.75, k=2.0)
    )


def test_structure_ops():
    rng = np.random.default_rng(15)
    a, b, d = (rng.standard_normal((2, 3, 4, 4)) for _ in range(3))
    y, c = run_both("add", [a, b, d])
    np.testing.assert_allclose(y, a + b + d)
    assert c == OpCount(eltwise_adds=(3 - 1) * 2 * 3 * 4 * 4)
    y, c = run_both("concat", [a, b[:, :2]])
    assert y.shape == (2, 5, 4, 4) and c == OpCount()
    np.testing.assert_array_equal(y[:, 3:], b[:, :2])
    y, c = run_both("flatten", a)
    assert y.shape == (2, 48) and c == OpCount()
    y, c = run_both("dropout", a)
    np.testing.assert_array_equal(y, a)
    assert c == OpCount()


# ------------------------------------------------------------------ errors, dtype, memory


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda o: o.conv(np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3)), groups=3), "groups=3"),
        (lambda o: o.conv(np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 5, 5))), "empty"),
        (
            lambda o: o.conv(np.zeros((1, 2, 3)), np.zeros((2, 2, 1)), table=[[0]]),
            "table has 1 rows",
        ),
        (lambda o: o.conv(np.zeros((1, 2, 3)), np.zeros((2, 2, 1)), table=[[0], []]), "empty"),
        (lambda o: o.conv(np.zeros((1, 2, 3)), np.zeros((1, 2, 1)), table=[[5]]), "outside"),
        (
            lambda o: o.conv_transpose(
                np.zeros((1, 2, 3)), np.zeros((2, 1, 3)), stride=2, output_padding=2
            ),
            "output_padding",
        ),
        (lambda o: o.max_pool(np.zeros((1, 1, 5, 5)), 3, 1, 2), "at most half"),
        (
            lambda o: o.conv(np.zeros((1, 2, 3, 3, 3, 3)), np.zeros((1, 2, 1, 1, 1, 1))),
            "1, 2 or 3 spatial axes",
        ),
    ],
)
@pytest.mark.parametrize("ops", [NAIVE, FAST], ids=["naive", "fast"])
def test_bad_configurations_raise(ops, call, message):
    with pytest.raises(ExecutorError, match=message):
        call(ops)


def test_get_ops():
    assert get_ops("naive") is NAIVE and get_ops("fast") is FAST
    with pytest.raises(ExecutorError, match="unknown executor"):
        get_ops("gpu")


def test_float32_fast_matches_float64():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 8, 12, 12))
    w = init_weights(rng, (16, 8, 3, 3))
    y64, c64 = FAST.conv(x, w, None, 1, 1)
    y32, c32 = FAST.conv(x.astype(np.float32), w.astype(np.float32), None, 1, 1)
    assert y32.dtype == np.float32 and c32 == c64
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)


def test_fast_conv_holds_one_im2col_buffer():
    """Peak memory of fast.conv: padded input + one im2col buffer + output, nothing more."""
    x = np.random.default_rng(17).standard_normal((1, 16, 32, 32))
    w = np.random.default_rng(18).standard_normal((32, 16, 3, 3))
    padded = 16 * 34 * 34 * 8
    im2col = 16 * 9 * 32 * 32 * 8
    out = 32 * 32 * 32 * 8
    for groups, wshape in ((1, w), (4, w[:, :4])):
        tracemalloc.start()
        FAST.conv(x, wshape, None, 1, 1, groups=groups)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= (padded + im2col // groups + out) * 1.05 + 64 * 1024, (groups, peak)


@pytest.mark.parametrize(
    "xshape, wshape, kw",
    [
        ((2, 4, 9, 7), (6, 4, 3, 3), dict(stride=1, pad=1)),
        ((1, 6, 11, 10), (6, 2, 3, 2), dict(stride=(2, 1), pad=(1, 0), dilation=(1, 2), groups=3)),
        ((1, 2, 7, 5, 6), (4, 2, 3, 1, 2), dict(stride=(2, 1, 1), pad=1)),
    ],
)
def test_fast_conv_in_bands_of_output_rows_equals_the_loops(monkeypatch, xshape, wshape, kw):
    """A conv whose im2col would pass the chunk size makes it a band of output rows at a
    time; here a chunk of 50 values forces one row a band (or fewer rows than the map has):
    same values and same counts as the naive loops, which make no columns at all."""
    monkeypatch.setattr("cnncalc.proof.impls.COLUMNS_PER_CHUNK", 50)
    rng = np.random.default_rng(19)
    x, w = rng.standard_normal(xshape), init_weights(rng, wshape)
    b = rng.standard_normal(wshape[0])
    run_both("conv", x, w, b, **kw)


def test_fast_conv_never_holds_more_than_one_band_of_columns(monkeypatch):
    """With bands of 8 of the 32 output rows, the columns buffer is a quarter of the whole."""
    monkeypatch.setattr("cnncalc.proof.impls.COLUMNS_PER_CHUNK", 16 * 9 * 32 * 8)
    x = np.random.default_rng(17).standard_normal((1, 16, 32, 32))
    w = np.random.default_rng(18).standard_normal((32, 16, 3, 3))
    padded, band, out = 16 * 34 * 34 * 8, 16 * 9 * 32 * 8 * 8, 32 * 32 * 32 * 8
    tracemalloc.start()
    FAST.conv(x, w, None, 1, 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak <= (padded + band + out) * 1.05 + 64 * 1024, peak


# ------------------------------------------------------------------ property tests (hypothesis)

# CNNCALC_PROPERTY_EXAMPLES=3000 for a thorough run; the default keeps the suite quick
PROPS = settings(
    max_examples=int(os.environ.get("CNNCALC_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def conv_layers(draw):
    nd = draw(st.integers(1, 3))
    size_cap = {1: 12, 2: 7, 3: 5}[nd]
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    size = tuple(draw(st.integers(1, size_cap)) for _ in range(nd))
    for a in range(nd):
        assume(size[a] + sum(pads[a]) >= dilation[a] * (kernel[a] - 1) + 1)
    return dict(
        nd=nd,
        n=draw(st.integers(1, 2)),
        cin=cin,
        cout=cout,
        groups=groups,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        pads=pads,
        size=size,
        bias=draw(st.booleans()),
        flip=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


@PROPS
@given(conv_layers())
def test_property_conv(torch, L):
    rng = np.random.default_rng(L["seed"])
    x = rng.standard_normal((L["n"], L["cin"]) + L["size"])
    w = rng.standard_normal((L["cout"], L["cin"] // L["groups"]) + L["kernel"])
    b = rng.standard_normal(L["cout"]) if L["bias"] else None
    y, c = run_both(
        "conv", x, w, b, L["stride"], L["pads"], L["dilation"], L["groups"], flip=L["flip"]
    )
    out = tuple(
        (L["size"][a] + sum(L["pads"][a]) - L["dilation"][a] * (L["kernel"][a] - 1) - 1)
        // L["stride"][a]
        + 1
        for a in range(L["nd"])
    )
    assert y.shape == (L["n"], L["cout"]) + out
    fan_in = L["cin"] // L["groups"] * math.prod(L["kernel"])
    outs = L["n"] * L["cout"] * math.prod(out)
    assert c == OpCount(
        mults=outs * fan_in, adds=outs * (fan_in - 1), bias_adds=outs if L["bias"] else 0
    )
    close_to_torch(
        y,
        torch_conv(
            torch, x, w, b, L["stride"], L["pads"], L["dilation"], L["groups"], flip=L["flip"]
        ),
    )


@PROPS
@given(conv_layers(), st.data())
def test_property_conv_transpose(torch, L, data):
    nd = L["nd"]
    op = tuple(
        data.draw(st.integers(0, max(L["stride"][a], L["dilation"][a]) - 1)) for a in range(nd)
    )
    out = tuple(
        (L["size"][a] - 1) * L["stride"][a]
        - sum(L["pads"][a])
        + L["dilation"][a] * (L["kernel"][a] - 1)
        + op[a]
        + 1
        for a in range(nd)
    )
    assume(min(out) >= 1)
    rng = np.random.default_rng(L["seed"])
    x = rng.standard_normal((L["n"], L["cin"]) + L["size"])
    w = rng.standard_normal((L["cin"], L["cout"] // L["groups"]) + L["kernel"])
    b = rng.standard_normal(L["cout"]) if L["bias"] else None
    y, c = run_both(
        "conv_transpose", x, w, b, L["stride"], L["pads"], op, L["dilation"], L["groups"]
    )
    assert y.shape == (L["n"], L["cout"]) + out
    assert c == deconv_expected_counts(
        L["n"],
        L["cin"],
        L["cout"],
        L["groups"],
        L["size"],
        L["kernel"],
        L["stride"],
        L["pads"],
        L["dilation"],
        op,
        L["bias"],
    )
    close_to_torch(
        y, torch_deconv(torch, x, w, b, L["stride"], L["pads"], op, L["dilation"], L["groups"])
    )


@st.composite
def pool_layers(draw):
    nd = draw(st.integers(1, 3))
    size_cap = {1: 12, 2: 8, 3: 5}[nd]
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(1, size_cap)) for _ in range(nd))
    mode = draw(st.sampled_from(["max", "avg"]))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd)) if mode == "max" else (1,) * nd
    for a in range(nd):
        assume(size[a] + 2 * pad[a] >= dilation[a] * (kernel[a] - 1) + 1)
        if nd == 3 and mode == "avg":
            # PyTorch's avg_pool3d (only it) rejects an input smaller than the kernel even when the
            # padding makes up the difference; the executor computes it, but there is nothing to compare with
            assume(size[a] >= kernel[a])
    return dict(
        nd=nd,
        n=draw(st.integers(1, 2)),
        c=draw(st.integers(1, 3)),
        kernel=kernel,
        stride=stride,
        pad=pad,
        size=size,
        ceil_mode=draw(st.booleans()),
        include=draw(st.booleans()),
        mode=mode,
        dilation=dilation,
        seed=draw(st.integers(0, 2**16)),
    )


def window_taps(n, k, s, d, lo, hi, out, clip_to_input):
    """Per axis, sum over windows of the taps o s - lo + j d (j < k) inside [-lo, n + hi), or [0, n)."""
    first, end = (0, n) if clip_to_input else (-lo, n + hi)
    return sum(1 for o in range(out) for j in range(k) if first <= o * s - lo + j * d < end)


def pool_expected_counts(L, out):
    total = 1
    for a in range(L["nd"]):
        total *= window_taps(
            L["size"][a],
            L["kernel"][a],
            L["stride"][a],
            L["dilation"][a],
            L["pad"][a],
            L["pad"][a],
            out[a],
            L["mode"] == "avg" and not L["include"],
        )
    nc, outs = L["n"] * L["c"], math.prod(out)
    if L["mode"] == "max":
        return OpCount(compares=nc * (total - outs))
    return OpCount(adds=nc * (total - outs), divs=nc * outs)


@PROPS
@given(pool_layers())
def test_property_pool(torch, L):
    x = np.random.default_rng(L["seed"]).standard_normal((L["n"], L["c"]) + L["size"])
    if L["mode"] == "max":
        y, c = run_both(
            "max_pool",
            x,
            L["kernel"],
            L["stride"],
            L["pad"],
            L["ceil_mode"],
            dilation=L["dilation"],
        )
    else:
        y, c = run_both(
            "avg_pool",
            x,
            L["kernel"],
            L["stride"],
            L["pad"],
            L["ceil_mode"],
            count_include_pad=L["include"],
        )
    ref = torch_pool(
        torch,
        L["mode"],
        x,
        L["kernel"],
        L["stride"],
        L["pad"],
        L["ceil_mode"],
        L["include"],
        L["dilation"],
    )
    close_to_torch(y, ref)
    assert c == pool_expected_counts(L, y.shape[2:])


@PROPS
@given(conv_layers(), st.data())
def test_property_conv_table(torch, L, data):
    """Random partial connection tables (groups ignored: a table replaces them)."""
    cin, cout = L["cin"], L["cout"]
    table = [
        sorted(data.draw(st.sets(st.integers(0, cin - 1), min_size=1, max_size=cin)))
        for _ in range(cout)
    ]
    rng = np.random.default_rng(L["seed"])
    x = rng.standard_normal((L["n"], cin) + L["size"])
    w = rng.standard_normal((cout, cin) + L["kernel"])
    b = rng.standard_normal(cout) if L["bias"] else None
    y, c = run_both(
        "conv", x, w, b, L["stride"], L["pads"], L["dilation"], table=table, flip=L["flip"]
    )
    per_map = L["n"] * math.prod(y.shape[2:])
    K = math.prod(L["kernel"])
    assert c == OpCount(
        mults=per_map * sum(len(r) for r in table) * K,
        adds=per_map * sum(len(r) * K - 1 for r in table),
        bias_adds=per_map * cout if L["bias"] else 0,
    )
    close_to_torch(
        y,
        torch_conv(
            torch, x, w, b, L["stride"], L["pads"], L["dilation"], 1, flip=L["flip"], table=table
        ),
    )


@PROPS
@given(pool_layers(), st.data())
def test_property_pool_asymmetric_padding(L, data):
    """Per-side padding (as 'same' gives): naive == fast, counts by the window rule."""
    pads = tuple(
        (data.draw(st.integers(0, k // 2)), data.draw(st.integers(0, k // 2))) for k in L["kernel"]
    )
    d = L["dilation"]
    assume(
        all(L["size"][a] + sum(pads[a]) >= d[a] * (L["kernel"][a] - 1) + 1 for a in range(L["nd"]))
    )
    x = np.random.default_rng(L["seed"]).standard_normal((L["n"], L["c"]) + L["size"])
    if L["mode"] == "max":
        y, c = run_both("max_pool", x, L["kernel"], L["stride"], pads, L["ceil_mode"], dilation=d)
    else:
        y, c = run_both(
            "avg_pool",
            x,
            L["kernel"],
            L["stride"],
            pads,
            L["ceil_mode"],
            count_include_pad=L["include"],
        )
    total = 1
    for a in range(L["nd"]):
        n, k, s, (lo, hi) = L["size"][a], L["kernel"][a], L["stride"][a], pads[a]
        span = n + lo + hi - (d[a] * (k - 1) + 1)
        out = (-(-span // s) if L["ceil_mode"] else span // s) + 1
        if L["ceil_mode"] and (out - 1) * s >= n + lo:
            out -= 1
        assert y.shape[2 + a] == out
        total *= window_taps(n, k, s, d[a], lo, hi, out, L["mode"] == "avg" and not L["include"])
    nc, outs = L["n"] * L["c"], math.prod(y.shape[2:])
    if L["mode"] == "max":
        assert c == OpCount(compares=nc * (total - outs))
    else:
        assert c == OpCount(adds=nc * (total - outs), divs=nc * outs)


@PROPS
@given(st.integers(1, 3), st.data())
def test_property_adaptive(torch, nd, data):
    size = tuple(data.draw(st.integers(1, 9)) for _ in range(nd))
    out = tuple(data.draw(st.integers(1, 9)) for _ in range(nd))
    mode = data.draw(st.sampled_from(["avg", "max"]))
    x = np.random.default_rng(data.draw(st.integers(0, 999))).standard_normal((2, 2) + size)
    y, _ = run_both("adaptive_pool", x, out, mode)
    Fn = torch.nn.functional
    fn = {
        "avg": [Fn.adaptive_avg_pool1d, Fn.adaptive_avg_pool2d, Fn.adaptive_avg_pool3d],
        "max": [Fn.adaptive_max_pool1d, Fn.adaptive_max_pool2d, Fn.adaptive_max_pool3d],
    }[mode][nd - 1]
    close_to_torch(y, fn(T(torch, x), out))


@PROPS
@given(st.integers(1, 3), st.integers(1, 7), st.integers(1, 8), st.integers(0, 999))
def test_property_lrn(torch, nd, channels, size, seed):
    x = np.random.default_rng(seed).standard_normal((2, channels) + (3,) * nd)
    y, _ = run_both("lrn", x, size, 0.3, 0.6, 1.5)
    close_to_torch(
        y, torch.nn.functional.local_response_norm(T(torch, x), size, alpha=0.3, beta=0.6, k=1.5)
    )

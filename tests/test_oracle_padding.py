"""Padding against PyTorch's own ``padding='same'`` and TensorFlow's published rule.

Each case runs the layer in cnncalc's numpy executor (both implementations) and in PyTorch
with the padding the rule gives, applied by ``F.pad`` (or by ``padding='same'`` itself
for stride 1), and compares the output shape and every number: padding the larger half
before instead of after moves the window, which changes the numbers even where the
shape is the same. The expected padding is never cnncalc's: it is ``tf_same_padding``
(TensorFlow's rule, written out in ``oracle_rules.py``) or the per-side form read as
DESIGN.md defines it.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from oracle_rules import per_side_padding, tf_same_padding, torch_pad_order

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.proof.executor.run import random_state, run
from cnncalc.proof.impls import IMPLS


def conv_net(c_in: int, sizes: tuple[int, ...], options: str):
    spec = loads(f"input: {[c_in, *sizes]}\nlayers:\n  - {{conv: 3, {options}}}\n")
    return build(spec), analyze(spec).layers[0]


def executed(graph, x: np.ndarray, impl: str) -> np.ndarray:
    return run(graph, impl, weights=random_state(graph, seed=1), x=x).output


def torch_conv(torch, graph, x, pads, stride, dilation, same: bool = False):
    """PyTorch on cnncalc's weights: F.pad with the expected (before, after) per axis, then a
    padding-free conv; or PyTorch's own ``padding='same'``."""
    F = torch.nn.functional
    state = {k: torch.from_numpy(v) for k, v in random_state(graph, seed=1).items()}
    ndim = x.ndim - 2
    conv = (F.conv1d, F.conv2d, F.conv3d)[ndim - 1]
    xt = torch.from_numpy(x)
    if same:
        return conv(xt, state["conv.weight"], state["conv.bias"], padding="same", dilation=dilation)
    xt = F.pad(xt, torch_pad_order(pads))
    return conv(xt, state["conv.weight"], state["conv.bias"], stride=stride, dilation=dilation)


def check(graph, row, expected) -> None:
    """cnncalc's predicted shape, then both executors' shapes and numbers, against torch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + graph.input)
    assert row.out_shape[1:] == tuple(expected.shape[2:])
    for impl in IMPLS:
        ours = executed(graph, x, impl)
        assert ours.shape == tuple(expected.shape)
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-9, atol=1e-9, err_msg=impl)


def torch_expected(torch, graph, x_shape, pads, stride, dilation, same=False):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2,) + x_shape)
    return torch_conv(torch, graph, x, pads, stride, dilation, same)


@pytest.mark.parametrize("seed", range(25))
def test_same_with_stride_1_is_pytorchs_same(seed):
    """Stride 1: PyTorch's ``padding='same'`` (the smaller half before, as TensorFlow)."""
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 2, 3])
    k = [rng.randint(1, 6) for _ in range(ndim)]
    d = [rng.randint(1, 3) for _ in range(ndim)]
    sizes = tuple(rng.randint(4, 9) for _ in range(ndim))
    graph, row = conv_net(2, sizes, f"kernel: {k}, dilation: {d}, padding: same")
    expected = torch_expected(torch, graph, graph.input, None, 1, tuple(d), same=True)
    assert tuple(expected.shape[2:]) == sizes
    check(graph, row, expected)


@pytest.mark.parametrize("seed", range(40))
def test_same_with_stride_follows_tensorflows_rule(seed):
    """Stride s: out = ⌈n/s⌉, pad_total = max((out − 1)·s + k_eff − n, 0), pad_total // 2
    before and the larger half after (TensorFlow's published rule; PyTorch refuses 'same'
    with a stride)."""
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 2, 3])
    k = [rng.randint(1, 6) for _ in range(ndim)]
    s = [rng.randint(2, 4) for _ in range(ndim)]
    d = [rng.randint(1, 2) for _ in range(ndim)]
    sizes = tuple(rng.randint(5, 12) for _ in range(ndim))
    graph, row = conv_net(2, sizes, f"kernel: {k}, stride: {s}, dilation: {d}, padding: same")
    k_eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    pads = tuple(tf_same_padding(n, ke, ss) for n, ke, ss in zip(sizes, k_eff, s))
    expected = torch_expected(torch, graph, graph.input, pads, tuple(s), tuple(d))
    assert tuple(expected.shape[2:]) == tuple(-(-n // ss) for n, ss in zip(sizes, s))
    check(graph, row, expected)


def test_same_with_an_odd_total_puts_the_larger_half_after():
    """n = 8, k = 5, s = 2: out ⌈8/2⌉ = 4, pad_total = (4 − 1)·2 + 5 − 8 = 3: 1 before,
    2 after; the first window covers the pixels −1…3, not −2…2."""
    assert tf_same_padding(8, 5, 2) == (1, 2)
    torch = pytest.importorskip("torch")
    graph, row = conv_net(1, (8,), "kernel: 5, stride: 2, padding: same")
    expected = torch_expected(torch, graph, graph.input, ((1, 2),), (2,), (1,))
    check(graph, row, expected)


@pytest.mark.parametrize("seed", range(25))
def test_per_side_padding_forms_match_f_pad(seed):
    """``[top, bottom, left, right]``, pairs, one value per axis and a plain int, against
    F.pad with those sides and a padding-free conv."""
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    ndim = rng.choice([1, 2, 3])
    form = rng.choice(["int", "axis", "sides", "pairs"])
    sides = [rng.randint(0, 3) for _ in range(2 * ndim)]
    padding = {
        "int": sides[0],
        "axis": sides[:ndim],
        "sides": sides,
        "pairs": [sides[2 * i : 2 * i + 2] for i in range(ndim)],
    }[form]
    k = [rng.randint(1, 4) for _ in range(ndim)]
    s = [rng.randint(1, 3) for _ in range(ndim)]
    sizes = tuple(rng.randint(4, 8) for _ in range(ndim))
    graph, row = conv_net(2, sizes, f"kernel: {k}, stride: {s}, padding: {padding}")
    pads = per_side_padding(padding, ndim, sizes, k, s)
    expected = torch_expected(torch, graph, graph.input, pads, tuple(s), (1,) * ndim)
    check(graph, row, expected)


def test_top_bottom_left_right_is_read_in_that_order():
    """[0, 1, 2, 3] on 8×8 with 3×3: H = 8 + 0 + 1 − 3 + 1 = 7, W = 8 + 2 + 3 − 3 + 1 = 11."""
    torch = pytest.importorskip("torch")
    graph, row = conv_net(1, (8, 8), "kernel: 3, padding: [0, 1, 2, 3]")
    expected = torch_expected(torch, graph, graph.input, ((0, 1), (2, 3)), (1, 1), (1, 1))
    assert tuple(expected.shape[2:]) == (7, 11)
    check(graph, row, expected)


@pytest.mark.parametrize("n,k,s", [(7, 3, 2), (8, 4, 2), (10, 5, 3), (5, 1, 2), (9, 6, 4)])
def test_same_output_is_the_ceiling_of_n_over_s(n, k, s):
    """TensorFlow: 'SAME' gives ⌈n/s⌉ whatever the kernel (no torch needed)."""
    spec = loads(
        f"input: [1, {n}]\nlayers:\n  - {{conv: 1, kernel: {k}, stride: {s}, padding: same}}\n"
    )
    assert analyze(spec).layers[0].out_shape == (1, -(-n // s))

"""The fast tier: torch-free checks of the core's rules that a deliberate bug must not pass.

Each test pins one rule a reviewer broke on purpose (issue 8) and saw survive: its expected
numbers are derived in the test, from the definition (a 1-D index enumeration, a hand-written
numpy loop with ``np.pad``) or from the textbook formula written out, never from cnncalc.
Run this tier alone with ``python -m pytest -m fast`` (or ``python -m pytest tests/fast``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.kinds.conv import Conv
from cnncalc.proof.executor.run import run


def rows(yaml_layers: str, input: str) -> dict:
    """Analyse a small network under the ``exact`` convention; its rows by layer name."""
    net = loads(f"input: {input}\nlayers:\n{yaml_layers}")
    return {row.name: row for row in analyze(net, convention="exact").layers}


def executed(yaml_layers: str, input: str, impl: str, weights: dict, x: np.ndarray):
    """Run a small network in the numpy executor on given weights and input."""
    return run(build(loads(f"input: {input}\nlayers:\n{yaml_layers}")), impl, weights=weights, x=x)


# --------------------------------------------------------------------------- 1-D definitions
# Which input indices of a layer each output index reads, from the definition of the layer.


def conv_reads(n: int, k: int, s: int, lo: int = 0, d: int = 1):
    """Output o of a conv reads taps o·s − lo + j·d, j < k, that fall inside [0, n)."""
    return lambda o: {o * s - lo + j * d for j in range(k)} & set(range(n))


def deconv_reads(n: int, k: int, s: int, p: int = 0, d: int = 1):
    """Input i of a transposed conv scatters tap j onto output i·s − p + j·d: output o
    reads every i with o = i·s − p + j·d for some j < k."""
    return lambda o: {i for i in range(n) for j in range(k) if i * s - p + j * d == o}


def adaptive_reads(n: int, out: int):
    """PyTorch's adaptive pooling: output i reads [⌊i·n/out⌋, ⌈(i+1)·n/out⌉)."""
    return lambda o: set(range(o * n // out, -(-(o + 1) * n // out)))


def through(*layers):
    """Chain layers (first applied to the input first): the input indices an output reads."""

    def reads(o: int) -> set[int]:
        seen = {o}
        for layer in reversed(layers):
            seen = set().union(*(layer(i) for i in seen))
        return seen

    return reads


def widest_span(reads, outputs: int) -> int:
    """The receptive field: the widest span of input indices one output reads."""
    return max(max(s) - min(s) + 1 for s in map(reads, range(outputs)) if s)


# --------------------------------------------------------------------------- receptive field


def test_transposed_conv_divides_the_jump_by_its_stride():
    """A 3-tap, stride-2 transposed conv on 8 inputs: output o reads input m once (o = 2m)
    and m − 1 (o = 2m + 2), so 2 = ⌈3/2⌉ inputs; its outputs step half an input: jump 1/2.
    A 3-tap conv after it: three neighbouring outputs 2m, 2m+1, 2m+2 read m − 1, m, m + 1:
    3 = 2 + (3 − 1)·1/2. Had the jump been multiplied by the stride: 2 + (3 − 1)·2 = 6."""
    deconv_out = (8 - 1) * 2 + 3  # (n − 1)·s + k, no padding
    assert widest_span(deconv_reads(8, 3, 2), deconv_out) == 2
    assert widest_span(through(deconv_reads(8, 3, 2), conv_reads(deconv_out, 3, 1)), 15) == 3
    got = rows("  - {deconv: 1, kernel: 3, stride: 2, name: up}\n"
               "  - {conv: 1, kernel: 3, name: c}\n", "[1, 8]")  # fmt: skip
    assert got["up"].rf == (2,) and got["up"].jump == (Fraction(1, 2),)
    assert got["c"].rf == (3,) and got["c"].jump == (Fraction(1, 2),)


def test_adaptive_pool_receptive_field_is_its_widest_window():
    """Adaptive pooling 5 → 3 takes windows [0, 2), [1, 4), [3, 5): widths 2, 3, 2 (PyTorch's
    ⌊i·n/o⌋, ⌈(i+1)·n/o⌉); an output sees at most 3 inputs, not the smallest window's 2."""
    assert widest_span(adaptive_reads(5, 3), 3) == 3
    assert rows("  - {adaptive: 3, name: a}\n", "[1, 5]")["a"].rf == (3,)
    # 2-D: 7 → 3 gives [0, 3), [2, 5), [4, 7): all 3 wide; 5 → 2 gives [0, 3), [2, 5): 3
    assert widest_span(adaptive_reads(7, 3), 3) == 3 and widest_span(adaptive_reads(5, 2), 2) == 3
    assert rows("  - {adaptive: [3, 2], name: a}\n", "[1, 7, 5]")["a"].rf == (3, 3)


@pytest.mark.parametrize("join", ["add", "concat"])
def test_a_join_takes_the_widest_field_and_the_coarsest_jump(join):
    """Branch A: a 2-tap conv of stride 2 on 8 (rf 2, jump 2, 4 outputs); branch B: a 5-tap
    conv of stride 1 (rf 5, jump 1, 4 outputs). Output o of the join reads A's {2o, 2o+1}
    and B's {o, …, o+4}: the span is B's 5; its step is A's coarser 2."""
    a, b = conv_reads(8, 2, 2), conv_reads(8, 5, 1)
    assert widest_span(lambda o: a(o) | b(o), 4) == 5
    got = rows(
        f"  - {join}:\n    - [{{conv: 1, kernel: 2, stride: 2}}]\n    - [{{conv: 1, kernel: 5}}]\n",
        "[1, 8]",
    )
    assert got["add.0.conv" if join == "add" else "concat.0.conv"].rf == (2,)
    assert got[join].rf == (5,) and got[join].jump == (2,)
    # the other order of the branches gives the same join
    swapped = rows(
        f"  - {join}:\n    - [{{conv: 1, kernel: 5}}]\n    - [{{conv: 1, kernel: 2, stride: 2}}]\n",
        "[1, 8]",
    )
    assert swapped[join].rf == (5,) and swapped[join].jump == (2,)


# --------------------------------------------------------------------------- transposed conv


def transposed_conv_2d(x: np.ndarray, w: np.ndarray, s: int, p: int, op: int) -> np.ndarray:
    """One map: each input scatters w·x[i, j] onto [i·s, i·s + k); the full map is
    (n − 1)·s + k + op wide, then p is cropped from each side (PyTorch's ConvTranspose2d)."""
    n, k = x.shape[0], w.shape[0]
    full = np.zeros(((n - 1) * s + k + op,) * 2)
    for i in range(n):
        for j in range(n):
            full[i * s : i * s + k, j * s : j * s + k] += x[i, j] * w
    return full[p : full.shape[0] - p, p : full.shape[1] - p]


@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_output_padding_adds_to_the_transposed_conv_output(impl):
    """k 3, s 2, p 1, output_padding 1 on 4: (4 − 1)·2 − 2·1 + (3 − 1) + 1 + 1 = 8."""
    layer = "  - {deconv: 1, kernel: 3, stride: 2, padding: 1, output_padding: 1, name: up}\n"
    row = rows(layer, "[1, 4, 4]")["up"]
    assert row.out_shape == (1, 8, 8)
    assert row.ops.bias_adds == 8 * 8  # one per output
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 3, 3))
    result = executed(layer, "[1, 4, 4]", impl, {"up.weight": w, "up.bias": np.zeros(1)}, x)
    np.testing.assert_allclose(result.output[0, 0], transposed_conv_2d(x[0, 0], w[0, 0], 2, 1, 1))


# --------------------------------------------------------------------------- average pooling


def avg_pool_2d(x: np.ndarray, k: int, p: int, count_include_pad: bool) -> np.ndarray:
    """Stride-1 average pooling of one map: each window's sum over the zero-padded input,
    divided by k² or, without ``count_include_pad``, by how many of its k² are inside."""
    xp, inside = np.pad(x, p), np.pad(np.ones_like(x), p)
    m = xp.shape[0] - k + 1
    out = np.empty((m, m))
    for i in range(m):
        for j in range(m):
            count = k * k if count_include_pad else inside[i : i + k, j : j + k].sum()
            out[i, j] = xp[i : i + k, j : j + k].sum() / count
    return out


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool_count_include_pad_counts_and_values(include):
    """3×3, stride 1, padding 1 on 4×4: along an axis the windows hold 2, 3, 3, 2 taps inside
    the input (10 of 4·3 = 12). Per map, 16 windows: with the padding counted, 16·9 = 144
    taps summed; without it, 10·10 = 100 (the padding is not visited). Adds = taps − windows."""
    layer = f"  - {{pool: avg, kernel: 3, stride: 1, padding: 1, count_include_pad: {include}}}\n"
    row = rows(layer, "[2, 4, 4]")["pool"]
    taps = 16 * 9 if include else 10 * 10
    assert row.ops.adds == 2 * (taps - 16)
    assert row.ops.divs == 2 * 16
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    for impl in ("naive", "fast"):
        result = executed(layer, "[2, 4, 4]", impl, {}, x)
        for c in range(2):
            np.testing.assert_allclose(result.output[0, c], avg_pool_2d(x[0, c], 3, 1, include))
        assert result.nodes[0].count.adds == 2 * (taps - 16)


# --------------------------------------------------------------------------- element-wise


@pytest.mark.parametrize("branches", [2, 3, 4])
def test_an_add_of_b_branches_performs_b_minus_1_adds_per_element(branches):
    """a + b + c is two additions per element: b branches cost (b − 1)·elements."""
    layer = "  - add:\n" + "    - []\n" * branches
    elements = 2 * 3 * 3
    assert rows(layer, "[2, 3, 3]")["add"].ops.eltwise_adds == (branches - 1) * elements
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    for impl in ("naive", "fast"):
        result = executed(layer, "[2, 3, 3]", impl, {}, x)
        np.testing.assert_allclose(result.output, branches * x)
        assert result.nodes[-1].count.eltwise_adds == (branches - 1) * elements


def test_sigmoid_is_one_exp_one_add_one_division_per_element():
    """σ(x) = 1 / (1 + e^−x): e^−x is one exp, 1 + it one add, 1/it one division."""
    row = rows("  - {sigmoid: }\n", "[2, 3, 3]")["sigmoid"]
    elements = 2 * 3 * 3
    assert (row.ops.exps, row.ops.adds, row.ops.divs) == (elements, elements, elements)
    assert (row.ops.mults, row.ops.compares) == (0, 0)


# --------------------------------------------------------------------------- 'same' padding


def tf_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """TensorFlow's published rule (tf.nn.convolution docs): out = ⌈n/s⌉,
    total = max((out − 1)·s + k − n, 0), before = ⌊total/2⌋, after = total − before."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


@pytest.mark.parametrize(
    "n, k, s", [(8, 3, 2), (7, 2, 3), (9, 4, 2), (6, 4, 1), (5, 3, 1), (8, 2, 2), (6, 1, 1)]
)
def test_same_padding_puts_the_larger_half_after(n, k, s):
    """With stride 2 on 8 and k 3: out 4, total (4 − 1)·2 + 3 − 8 = 1 → (0, 1), never (1, 0);
    k 2 there: (4 − 1)·2 + 2 − 8 = 0, no padding at all."""
    lo, hi = tf_same_padding(n, k, s)
    assert lo <= hi
    geometry = Conv(out_channels=1, kernel=k, stride=s, padding="same").geometry((1, n, n))
    assert geometry.padding == ((lo, hi), (lo, hi))


@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_same_padding_with_stride_matches_numpy_on_the_tensorflow_padding(impl):
    """The executor's output against a correlation written here over np.pad with TF's
    (before, after) = (0, 1) on 8 with k 3, s 2: the larger half after."""
    lo, hi = tf_same_padding(8, 3, 2)
    assert (lo, hi) == (0, 1)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 3, 3))
    xp = np.pad(x[0, 0], (lo, hi))
    expected = np.array(
        [[(xp[2 * i : 2 * i + 3, 2 * j : 2 * j + 3] * w[0, 0]).sum() for j in range(4)]
         for i in range(4)]
    )  # fmt: skip
    layer = "  - {conv: 1, kernel: 3, stride: 2, padding: same, name: c}\n"
    result = executed(layer, "[1, 8, 8]", impl, {"c.weight": w, "c.bias": np.zeros(1)}, x)
    np.testing.assert_allclose(result.output[0, 0], expected)

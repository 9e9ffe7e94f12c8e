"""The fast tier: every kind's raw operation counts, written out from its definition.

Each row states what one layer performs on a small input, as the formula with the numbers
in it; the counts must be exact ``int`` (a float that happens to equal the count is a bug:
JSON would print ``8.0``). The numpy executor's naive loops, which count what they actually
perform, must agree. Where a window or a transposed conv's scatter is irregular the count
comes from enumerating the definition here, not from cnncalc's arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.kinds.ops import OP_FIELDS, Ops
from cnncalc.proof.executor.run import run


def network(layer: str, input: str) -> str:
    return f"input: {input}\nlayers:\n  - {layer}\n"


def deconv_reach(n: int, k: int, s: int, p: int, d: int, out: int) -> tuple[int, int]:
    """One axis of a transposed conv, enumerated: input i and tap j land on i·s − p + j·d;
    (products landing inside [0, out), output positions receiving at least one)."""
    spots = [i * s - p + j * d for i in range(n) for j in range(k)]
    inside = [o for o in spots if 0 <= o < out]
    return len(inside), len(set(inside))


def deconv_ops(c_in: int, c_out: int, g: int, sizes, k, s, p, op, d) -> tuple[tuple, Ops]:
    """Output sizes (n − 1)·s − 2p + d·(k − 1) + op + 1 and the counts of a transposed conv:
    each landed product one mult; an output receiving m products m − 1 adds; MACs on the
    input, c_in·n·(c_out/g)·k (PyTorch's FlopCounterMode counts it so)."""
    out = [(n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 for n, kk, ss, pp, oo, dd in
           zip(sizes, k, s, p, op, d)]  # fmt: skip
    landed, hit = 1, 1
    for n, kk, ss, pp, dd, o in zip(sizes, k, s, p, d, out):
        a, b = deconv_reach(n, kk, ss, pp, dd, o)
        landed, hit = landed * a, hit * b
    positions = 1
    for o in out:
        positions *= o
    in_positions, kernel = 1, 1
    for n, kk in zip(sizes, k):
        in_positions, kernel = in_positions * n, kernel * kk
    mults = c_in * (c_out // g) * landed
    return tuple(out), Ops(
        mults=mults,
        adds=mults - c_out * hit,
        bias_adds=c_out * positions,
        macs=c_in * in_positions * (c_out // g) * kernel,
    )


DECONVS = {
    # (c_in, c_out, groups, sizes, kernel, stride, padding, output_padding, dilation)
    "k3-s2-kernel-wider-than-stride": (2, 4, 2, [5], [3], [2], [0], [0], [1]),
    "k1-s2-gaps-between-products": (1, 2, 1, [4], [1], [2], [0], [1], [1]),
    "k3-s2-p1-output-padding": (2, 2, 1, [4], [3], [2], [1], [1], [1]),
    "k2-dilation-2-padding-1": (1, 3, 1, [3], [2], [1], [1], [0], [2]),
    "2d-per-axis": (2, 4, 2, [3, 4], [3, 2], [2, 3], [1, 0], [1, 0], [1, 1]),
    "output-of-one": (1, 1, 1, [1], [1], [1], [0], [0], [1]),
    # the padding crops the first tap of every input; output_padding adds a position no
    # product reaches, or one that only the dilated tap reaches
    "k1-d2-p1-output-padding": (1, 1, 1, [2], [1], [1], [1], [1], [2]),
    "k2-d2-p1-one-output": (1, 1, 1, [1], [2], [1], [1], [0], [2]),
    "k1-d2-output-padding-past-the-input": (1, 1, 1, [1], [1], [1], [0], [1], [2]),
}


def deconv_case(name: str):
    c_in, c_out, g, sizes, k, s, p, op, d = DECONVS[name]
    layer = (
        f"{{deconv: {c_out}, kernel: {k}, stride: {s}, padding: {p}, "
        f"output_padding: {op}, dilation: {d}, groups: {g}}}"
    )
    out, ops = deconv_ops(c_in, c_out, g, sizes, k, s, p, op, d)
    return f"[{c_in}, {', '.join(map(str, sizes))}]", layer, (c_out,) + out, ops


# name: (input, layer, output shape, counts written out)
COUNTS = {
    # LeNet-5 sub-sampling: window sum (k² − 1 adds), × coefficient (1 mult, 1 MAC), + bias
    "subsample-3-on-6x6": (
        "[2, 6, 6]", "{subsample: 3}", (2, 2, 2),
        Ops(mults=2 * 2 * 2, adds=2 * 2 * 2 * (3 * 3 - 1), bias_adds=8, macs=8),
    ),
    "subsample-2-in-3d": (  # window 2·2·2 = 8
        "[1, 4, 4, 4]", "{subsample: 2}", (1, 2, 2, 2),
        Ops(mults=8, adds=8 * (2 * 2 * 2 - 1), bias_adds=8, macs=8),
    ),
    # LeNet-5's RBF units: per unit Σ (x_j − w_ij)²: n subtractions, n squares, n − 1 sums
    "rbf-84-to-10": ("[84]", "{rbf: 10}", (10,), Ops(mults=84 * 10, adds=(84 + 83) * 10, macs=840)),
    # fully connected on a flattened 2·3·3 = 18: n mults, n − 1 adds, 1 bias add per unit
    "fc-18-to-5": (
        "[2, 3, 3]", "{fc: 5}", (5,), Ops(mults=18 * 5, adds=17 * 5, bias_adds=5, macs=90)
    ),
    # adaptive 5 → 3 windows [0,2) [1,4) [3,5): 2 + 3 + 2 = 7; 7 → 3: [0,3) [2,5) [4,7): 9;
    # per map 7·9 = 63 elements visited by 3·3 = 9 windows: w − 1 adds or compares each
    "adaptive-avg-uneven": (
        "[2, 5, 7]", "{adaptive: 3}", (2, 3, 3), Ops(adds=2 * (7 * 9 - 9), divs=2 * 9)
    ),
    "adaptive-max-uneven": (
        "[2, 5, 7]", "{adaptive: 3, mode: max}", (2, 3, 3), Ops(compares=2 * (7 * 9 - 9))
    ),
    "gap": ("[3, 4, 5]", "{gap: }", (3, 1, 1), Ops(adds=3 * (20 - 1), divs=3)),
    # softmax over 4 channels at each of 2·3 = 6 positions: 4 exps, 3 adds, 4 divisions
    "softmax-on-maps": (
        "[4, 2, 3]", "{softmax: }", (4, 2, 3), Ops(adds=3 * 6, divs=4 * 6, exps=4 * 6)
    ),
    # LRN over 5 channels, window of 3 centred ([i − 1, i + 1] cut at 0 and 4): 2+3+3+3+2 = 13
    # channels summed; per position Σ w squares + 5 scales, Σ w adds; per element 1 pow, 1 div
    "lrn-3": (
        "[5, 2, 2]", "{lrn: 3}", (5, 2, 2),
        Ops(mults=(13 + 5) * 4, adds=13 * 4, exps=20, divs=20),
    ),
    # an even window of 2 takes [i − 1, i] (PyTorch pads size//2 before, (size−1)//2 after):
    # 1+2+2+2+2 = 9
    "lrn-2": (
        "[5, 2, 2]", "{lrn: 2}", (5, 2, 2), Ops(mults=(9 + 5) * 4, adds=9 * 4, exps=20, divs=20)
    ),
    "batchnorm": ("[3, 2, 2]", "{batchnorm: }", (3, 2, 2), Ops(mults=12, adds=12)),
    "batchnorm-channels-given": ("[3, 2, 2]", "{batchnorm: 3}", (3, 2, 2), Ops(mults=12, adds=12)),
    "fc-without-bias": (
        "[2, 3, 3]", "{fc: 5, bias: false}", (5,), Ops(mults=18 * 5, adds=17 * 5, macs=90)
    ),
    "tanh": ("[3, 2, 2]", "{tanh: }", (3, 2, 2), Ops(adds=2 * 12, divs=12, exps=2 * 12)),
    "relu6": ("[3, 2, 2]", "{relu6: }", (3, 2, 2), Ops(compares=2 * 12)),
    # max pool, kernel 2 dilated 2 (extent 3), stride 2, ceil_mode on 6: ⌈(6 − 3)/2⌉ + 1 = 3
    # windows starting at 0, 2, 4 (4 < 6, kept); taps {0, 2}, {2, 4}, {4, 6}: 6 is past the
    # end, not visited: 5 taps, 5 − 3 = 2 compares
    "max-pool-dilated-ceil": (
        "[1, 6]", "{pool: max, kernel: 2, dilation: 2, stride: 2, ceil_mode: true}", (1, 3),
        Ops(compares=5 - 3),
    ),
    # avg pool 3, stride 2, padding 1 on 5, padding not counted: windows start at −1, 1, 3;
    # inside the input 2, 3, 2 taps = 7 per axis, 49 per map over 9 windows
    "avg-pool-strided-excluding-padding": (
        "[1, 5, 5]", "{pool: avg, kernel: 3, stride: 2, padding: 1, count_include_pad: false}",
        (1, 3, 3), Ops(adds=49 - 9, divs=9),
    ),
    "conv-without-bias": (  # 2 maps of 2·2, fan-in 3·2·2 = 12: no bias add
        "[3, 3, 3]", "{conv: 2, kernel: 2, bias: false}", (2, 2, 2),
        Ops(mults=8 * 12, adds=8 * 11, macs=96),
    ),
    # 3-D average pooling with the kernel as long as the input (allowed: not shorter)
    "avg-pool-3d-kernel-equals-input": (
        "[1, 2, 2, 2]", "{pool: avg, kernel: 2}", (1, 1, 1, 1), Ops(adds=8 - 1, divs=1),
    ),
    # 1-D, padding given as a one-value list: 1 on each side, 5 outputs of fan-in 3
    "conv-1d-padding-list": (
        "[1, 5]", "{conv: 1, kernel: 3, padding: [1]}", (1, 5),
        Ops(mults=5 * 3, adds=5 * (3 - 1), bias_adds=5, macs=15),
    ),
    # windows at the edges of the padded input, on a 1-pixel map
    "max-pool-kernel-1-on-1": ("[1, 1]", "{pool: max, kernel: 1}", (1, 1), Ops(compares=1 - 1)),
    # the one window [−1, 0]: the padding before and the input, both visited by max
    "max-pool-padded-before": (
        "[1, 1]", "{pool: max, kernel: 2, stride: 1, padding: [1, 0]}", (1, 1),
        Ops(compares=2 - 1),
    ),
    # the one window [0, 1]: 1 is padding after, not counted: 1 element, 0 adds, 1 division
    "avg-pool-padded-after-excluding-padding": (
        "[1, 1]", "{pool: avg, kernel: 2, stride: 1, padding: [0, 1], count_include_pad: false}",
        (1, 1), Ops(adds=1 - 1, divs=1),
    ),
    # a window as large as the input: one window visiting all 3
    "max-pool-whole-input": ("[2, 3]", "{pool: max, kernel: 3}", (2, 1), Ops(compares=2 * (3 - 1))),
}  # fmt: skip
COUNTS |= {f"deconv-{name}": deconv_case(name) for name in DECONVS}


def only_row(name: str):
    shape, layer, _, _ = COUNTS[name]
    return analyze(loads(network(layer, shape)), convention="exact").layers[0]


@pytest.mark.parametrize("name", COUNTS)
def test_counts_are_the_definition_in_exact_ints(name):
    _, _, out_shape, expected = COUNTS[name]
    row = only_row(name)
    assert row.out_shape == out_shape
    assert row.ops == expected
    assert all(type(v) is int for v in row.ops.as_dict().values()), row.ops


@pytest.mark.parametrize("name", COUNTS)
def test_the_naive_executor_performs_the_counted_operations(name):
    """The naive loops count what they do; batch 2 doubles every count."""
    shape, layer, _, expected = COUNTS[name]
    performed = run(build(loads(network(layer, shape))), "naive", batch=2).nodes[0].count
    assert {f: getattr(performed, f) for f in OP_FIELDS if f != "macs"} == {
        f: 2 * getattr(expected, f) for f in OP_FIELDS if f != "macs"
    }


@pytest.mark.parametrize(
    "layer, input, weights",
    [
        ("{conv: 4, kernel: [3, 2]}", "[3, 8, 8]", 4 * 3 * 3 * 2),  # c_o·c_i·k_h·k_w
        ("{conv: 6, kernel: 3, groups: 2}", "[4, 8, 8]", 6 * (4 // 2) * 3 * 3),  # c_o·(c_i/g)·k²
        ("{deconv: 6, kernel: 3, groups: 2}", "[4, 8, 8]", 4 * (6 // 2) * 3 * 3),  # c_i·(c_o/g)·k²
        ("{fc: 5}", "[2, 3, 3]", 18 * 5),
        ("{rbf: 10}", "[84]", 84 * 10),
        ("{subsample: 2}", "[3, 4, 4]", 3),  # one coefficient per map
        ("{batchnorm: }", "[3, 4, 4]", 0),  # not weighted
    ],
)
def test_weights_are_the_parameters_that_multiply_an_input(layer, input, weights):
    node = build(loads(network(layer, input))).nodes[0]
    got = node.layer.weights(node.in_shape)
    assert got == weights and type(got) is int


@pytest.mark.parametrize(
    "input, size, jump",
    [
        ("[1, 7]", 3, 2),  # windows start at ⌊i·7/3⌋ = 0, 2, 4: a step of 2
        ("[1, 5]", 5, 1),  # 5 → 5 starts at 0, 1, 2, 3, 4: a step of 1
        ("[1, 12]", 4, 3),  # 0, 3, 6, 9
    ],
)
def test_adaptive_pool_jump_is_the_step_of_its_window_starts(input, size, jump):
    row = analyze(loads(network(f"{{adaptive: {size}}}", input))).layers[0]
    assert row.jump == (jump,) and type(row.jump[0]) in (int, Fraction)


@pytest.mark.parametrize(
    "layer, input, connections",
    [
        # LeNet-5 (LeCun et al. 1998): each output's weighted inputs plus its bias
        ("{conv: 6, kernel: 5}", "[1, 32, 32]", 6 * 28 * 28 * (5 * 5 + 1)),  # C1: 122,304
        ("{subsample: 2}", "[6, 28, 28]", 6 * 14 * 14 * (2 * 2 + 1)),  # S2: 5,880
        ("{subsample: 3}", "[2, 6, 6]", 2 * 2 * 2 * (3 * 3 + 1)),
        ("{fc: 84}", "[120]", (120 + 1) * 84),  # F6: 10,164
        ("{rbf: 10}", "[84]", 84 * 10),
        # a transposed conv: the products that land in the output plus one bias per output;
        # 1-D k 3, s 2 on 5 → 11 outputs, every one of the 5·3 products lands
        ("{deconv: 1, kernel: 3, stride: 2}", "[1, 5]", 5 * 3 + 11),
    ],
)
def test_connections_are_the_lenet_papers_count(layer, input, connections):
    row = analyze(loads(network(layer, input))).layers[0]
    assert row.connections == connections and type(row.connections) is int


@pytest.mark.parametrize(
    "layers, input, rf",
    [
        ("  - {fc: 3}\n", "[1, 5, 7]", (5, 7)),  # an fc sees its whole input map
        ("  - {fc: 3}\n", "[2, 9]", (9,)),
        ("  - {flatten: }\n  - {fc: 3}\n", "[1, 5, 7]", (5, 7)),  # and keeps it once flat
        ("  - {gap: }\n  - {flatten: }\n  - {fc: 3}\n", "[1, 4, 6]", (4, 6)),
    ],
)
def test_a_layer_that_sees_the_whole_map_has_the_map_as_receptive_field(layers, input, rf):
    rows = analyze(loads(f"input: {input}\nlayers:\n{layers}")).layers
    assert rows[-1].rf == rf

"""The layer algebra, one kind at a time; each expected value is the formula written out."""

from fractions import Fraction

import pytest

from cnncalc.analysis.pipeline import analyze, loads
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import adaptive_windows, resolve_padding, window_out


def one(layer: str, input: str):
    """Analyse a one-layer network and return its row."""
    return analyze(loads(f"input: {input}\nlayers:\n  - {layer}\n"), convention="exact").layers[0]


# d2l 7.3 "Padding and Stride", all on an 8x8 input
@pytest.mark.parametrize(
    "layer,out",
    [
        ("{conv: 1, kernel: 3, padding: 1}", (1, 8, 8)),  # (8 - 3 + 2 + 1)/1 = 8
        ("{conv: 1, kernel: [5, 3], padding: [2, 1]}", (1, 8, 8)),  # (8-5+4+1)=8, (8-3+2+1)=8
        ("{conv: 1, kernel: 3, padding: 1, stride: 2}", (1, 4, 4)),  # ⌊(8-3+2+2)/2⌋ = 4
        (
            "{conv: 1, kernel: [3, 5], padding: [0, 1], stride: [3, 4]}",
            (1, 2, 2),
        ),  # ⌊(8-3+0+3)/3⌋=2, ⌊(8-5+2+4)/4⌋=2
    ],
)
def test_d2l_padding_and_stride_shapes(layer, out):
    assert one(layer, "[1, 8, 8]").out_shape == out


def test_padding_forms_agree():
    """An int is per side; [ph, pw] per axis; [top, bottom, left, right]; pairs."""
    assert resolve_padding(1, 2, (8, 8), (3, 3), (1, 1)) == ((1, 1), (1, 1))
    assert resolve_padding([2, 1], 2, (8, 8), (5, 3), (1, 1)) == ((2, 2), (1, 1))
    assert resolve_padding([0, 1, 2, 3], 2, (8, 8), (3, 3), (1, 1)) == ((0, 1), (2, 3))
    assert resolve_padding([[0, 1], [2, 3]], 2, (8, 8), (3, 3), (1, 1)) == ((0, 1), (2, 3))
    assert resolve_padding("valid", 2, (8, 8), (3, 3), (1, 1)) == ((0, 0), (0, 0))
    # 'same', stride 1, even kernel 4: total 3, smaller half first (PyTorch and TensorFlow)
    assert resolve_padding("same", 1, (10,), (4,), (1,)) == ((1, 2),)
    # 'same', stride 2 on 7: out ⌈7/2⌉ = 4, total (4-1)·2 + 3 - 7 = 2
    assert resolve_padding("same", 1, (7,), (3,), (2,)) == ((1, 1),)


def test_asymmetric_padding_counts_both_sides():
    # H: 8 + 0 + 1 - 3 + 1 = 7; W: 8 + 2 + 3 - 3 + 1 = 11
    assert one("{conv: 2, kernel: 3, padding: [0, 1, 2, 3]}", "[1, 8, 8]").out_shape == (2, 7, 11)


def test_same_padding_keeps_the_size_with_stride_one():
    assert one("{conv: 4, kernel: 4, padding: same}", "[3, 9, 10]").out_shape == (4, 9, 10)


def test_dilated_conv_uses_the_effective_kernel():
    # k_eff = 2·(3 - 1) + 1 = 5, out = 10 - 5 + 1 = 6
    row = one("{conv: 2, kernel: 3, dilation: 2}", "[1, 10, 10]")
    assert row.out_shape == (2, 6, 6)
    assert row.rf == (Fraction(5), Fraction(5))


def test_grouped_conv_params_and_macs():
    row = one("{conv: 8, kernel: 3, groups: 4, bias: false}", "[8, 6, 6]")
    assert row.out_shape == (8, 4, 4)
    assert row.params == 8 * (8 // 4) * 3 * 3
    assert row.macs == 8 * 4 * 4 * (8 // 4) * 3 * 3


def test_conv_exact_counts_n_mults_and_n_minus_1_adds_plus_bias():
    # c_i = 3, k = 3x3, fan-in n = 27; 4 output maps of 6x6
    row = one("{conv: 4, kernel: 3}", "[3, 8, 8]")
    outputs = 4 * 6 * 6
    assert row.mults == outputs * 27
    assert row.adds == outputs * (27 - 1) + outputs
    assert row.flops == row.mults + row.adds


def test_conv_1d_and_3d():
    assert one("{conv: 5, kernel: 3, stride: 2}", "[2, 11]").out_shape == (5, 5)  # ⌊(11-3)/2⌋+1
    row = one("{conv: 2, kernel: [1, 3, 3], padding: [0, 1, 1]}", "[3, 4, 8, 8]")
    assert row.out_shape == (2, 4, 8, 8)
    assert row.params == 2 * (3 * 1 * 3 * 3 + 1)


def test_partial_connection_table():
    row = one("{conv: 2, kernel: 3, table: [[0], [0, 2]]}", "[3, 5, 5]")
    assert row.params == (1 * 9 + 1) + (2 * 9 + 1)
    assert row.mults == 3 * 3 * (1 * 9 + 2 * 9)


def test_transposed_conv_shape_and_input_based_macs():
    # issue 5: 16→8, k 4, s 2, p 1 on 16×8×8: out (8-1)·2 - 2 + 4 = 16; MACs 16·8·8·8·4·4
    row = one("{deconv: 8, kernel: 4, stride: 2, padding: 1}", "[16, 8, 8]")
    assert row.out_shape == (8, 16, 16)
    assert row.macs == 16 * 8 * 8 * 8 * 4 * 4 == 131_072
    assert row.params == 16 * 8 * 4 * 4 + 8


def test_transposed_conv_mults_count_products_landing_in_the_output():
    # 1-D: n=3, k=3, s=2, p=1 → out (3-1)·2 - 2 + 3 = 5. Input i, tap j land at 2i - 1 + j:
    # i=0: -1(cut),0,1; i=1: 1,2,3; i=2: 3,4,5(cut) → 7 products land, on 5 positions.
    row = one("{deconv: 1, kernel: 3, stride: 2, padding: 1, bias: false}", "[1, 3]")
    assert row.out_shape == (1, 5)
    assert row.mults == 7
    assert row.adds == 7 - 5
    assert row.macs == 9


def test_output_padding_must_be_smaller_than_stride():
    with pytest.raises(CnnCalcError, match="output_padding 2 must be smaller"):
        one("{deconv: 1, kernel: 3, stride: 2, output_padding: 2}", "[1, 5, 5]")


def test_max_pool_ceil_mode_drops_a_window_that_starts_in_the_padding():
    # PyTorch: n=6, k=2, s=2, p=1, ceil: ⌈(6+2-2)/2⌉+1 = 4, and (4-1)·2 = 6 < 6+1 → 4
    assert window_out(6, 2, 2, 1, 1, ceil_mode=True) == 4
    # n=5, k=2, s=2, p=1: ⌈(5+2-2)/2⌉+1 = 4, (4-1)·2 = 6 >= 5+1 → 3
    assert window_out(5, 2, 2, 1, 1, ceil_mode=True) == 3
    # GoogLeNet: 112 → 56 with k=3, s=2, ceil: ⌈(112-3)/2⌉+1 = 56
    assert window_out(112, 3, 2, 0, 0, ceil_mode=True) == 56
    assert window_out(112, 3, 2, 0, 0, ceil_mode=False) == 55


def test_max_pool_compares_w_minus_1_per_window():
    row = one("{pool: max, kernel: 2}", "[3, 4, 4]")
    assert row.out_shape == (3, 2, 2)
    assert row.ops.compares == 3 * 2 * 2 * (4 - 1)


def test_avg_pool_with_ceil_mode_clips_the_last_window():
    # 1-D n=5, k=2, s=2, ceil → 3 windows: [0,2), [2,4), [4,5) → 2 + 2 + 1 elements
    row = one("{pool: avg, kernel: 2, ceil_mode: true}", "[1, 5]")
    assert row.out_shape == (1, 3)
    assert row.ops.adds == (2 - 1) + (2 - 1) + (1 - 1)
    assert row.ops.divs == 3


def test_pool_padding_over_half_the_window_is_refused():
    with pytest.raises(CnnCalcError, match="more than half the kernel"):
        one("{pool: max, kernel: 2, padding: 2}", "[1, 8, 8]")


def test_adaptive_pool_windows_follow_pytorch():
    # 10 → 4: [0,3), [2,5), [5,8), [7,10)
    assert adaptive_windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    row = one("{adaptive: [4, 4]}", "[2, 10, 10]")
    assert row.out_shape == (2, 4, 4)
    assert row.ops.adds == 2 * (12 * 12 - 4 * 4)


def test_global_average_pool():
    row = one("{gap: }", "[5, 7, 7]")
    assert row.out_shape == (5, 1, 1)
    assert row.ops.adds == 5 * (49 - 1)
    assert row.ops.divs == 5


def test_fc_flattens_its_input():
    row = one("{fc: 10}", "[4, 3, 3]")
    assert row.out_shape == (10,)
    assert row.params == 10 * (36 + 1)
    assert row.mults == 10 * 36
    assert row.adds == 10 * 35 + 10


def test_batchnorm_has_two_params_and_two_buffers_per_channel():
    row = one("{batchnorm: }", "[16, 4, 4]")
    assert row.params == 2 * 16
    assert row.buffers == 2 * 16
    assert [k for k, _ in row.state_dict] == [
        "batchnorm.weight",
        "batchnorm.bias",
        "batchnorm.running_mean",
        "batchnorm.running_var",
        "batchnorm.num_batches_tracked",
    ]


def test_lrn_window_is_clipped_at_the_channel_ends():
    # size 5 over 3 channels: windows cover channels {0,1,2}, {0,1,2}, {0,1,2} → w = 3 each
    row = one("{lrn: 5}", "[3, 2, 2]")
    assert row.ops.mults == (3 + 1) * 3 * 4
    assert row.ops.exps == 3 * 4


def test_activations_count_their_elementwise_operations():
    assert one("{relu: }", "[2, 3, 3]").ops.compares == 18
    assert one("{relu6: }", "[2, 3, 3]").ops.compares == 36
    assert one("{sigmoid: }", "[2, 3, 3]").ops.exps == 18
    sm = one("{softmax: }", "[10]")
    assert (sm.ops.exps, sm.ops.adds, sm.ops.divs) == (10, 9, 10)


def test_receptive_field_of_two_stacked_3x3_equals_one_5x5():
    rows = analyze(
        loads("input: [1, 32, 32]\nlayers:\n  - {conv: 1, kernel: 3}\n  - {conv: 1, kernel: 3}\n")
    ).layers
    assert rows[-1].rf == (Fraction(5), Fraction(5))


def test_receptive_field_and_jump_through_a_stride():
    # conv 3 s2: r = 3, j = 2; then conv 3: r = 3 + 2·2 = 7, j = 2
    rows = analyze(
        loads(
            "input: [1, 32, 32]\nlayers:\n  - {conv: 1, kernel: 3, stride: 2}\n"
            "  - {conv: 1, kernel: 3}\n"
        )
    ).layers
    assert rows[0].jump == (2, 2)
    assert rows[1].rf == (7, 7)


def test_residual_add_counts_one_add_per_element():
    rows = analyze(
        loads(
            "input: [4, 5, 5]\nlayers:\n  - add:\n"
            "    - [{conv: 4, kernel: 3, padding: 1}]\n    - []\n"
        ),
        convention="exact",
    ).layers
    add = rows[-1]
    assert add.kind == "add"
    assert add.ops.eltwise_adds == 4 * 5 * 5
    assert add.adds == 4 * 5 * 5


def test_counts_scale_with_the_batch_but_params_do_not():
    text = "input: [3, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3}\n"
    one_sample, four = analyze(loads(text)), analyze(loads(text), batch=4)
    assert four.total.macs == 4 * one_sample.total.macs == 4 * 4 * 6 * 6 * 27
    assert four.total.activations == 4 * 4 * 6 * 6
    assert four.total.params == one_sample.total.params == 4 * 28

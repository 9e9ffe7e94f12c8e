"""``cnncalc conv``: one layer from flags, no YAML, with the same working as a file.

Expected numbers are d2l 7.3's worked shapes on an 8×8 input and the counting formulas
written out with the flags' numbers.
"""

from __future__ import annotations

import json

import pytest


def conv_json(cli, *flags):
    result = cli("conv", *flags, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_issues_example_prints_the_shape_with_its_working(cli):
    """d2l 7.3: 3×5 kernel, padding (0, 1), stride (3, 4) on 8×8 → ⌊(8−3+0+3)/3⌋ × ⌊(8−5+2+4)/4⌋."""
    result = cli("conv", "--input", "8x8", "--kernel", "3x5", "--padding", "0,1", "--stride", "3,4")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "→ output 1×2×2" in out
    assert "H = ⌊(n_h − k_h + p_h + s_h) / s_h⌋ = ⌊(8 − 3 + 0 + 3) / 3⌋ = 2" in out
    assert "W = ⌊(n_w − k_w + p_w + s_w) / s_w⌋ = ⌊(8 − 5 + 2 + 4) / 4⌋ = 2" in out
    assert "p_w = 1 + 1 = 2, the total padding of both sides" in out


@pytest.mark.parametrize(
    "flags,shape",
    [
        (("--kernel", "3", "--padding", "1"), [1, (8 - 3 + 2 + 1) // 1, (8 - 3 + 2 + 1) // 1]),
        (("--kernel", "5x3", "--padding", "2,1"), [1, (8 - 5 + 4 + 1) // 1, (8 - 3 + 2 + 1) // 1]),
        (
            ("--kernel", "3", "--padding", "1", "--stride", "2"),
            [1, (8 - 3 + 2 + 2) // 2, (8 - 3 + 2 + 2) // 2],
        ),
        (
            ("--kernel", "3x5", "--padding", "0,1", "--stride", "3,4"),
            [1, (8 - 3 + 0 + 3) // 3, (8 - 5 + 2 + 4) // 4],
        ),
    ],
)
def test_d2l_padding_and_stride(cli, flags, shape):
    """d2l 7.3: 8×8 → 8×8, 8×8, 4×4, 2×2."""
    assert conv_json(cli, "--input", "8x8", *flags)["output"] == shape


def test_channels_add_params_and_counts(cli):
    """c_i = 3 → c_o = 16, 3×3 pad 1 on 32×32: params c_o·(c_i·9 + 1); MACs c_o·32·32·c_i·9."""
    data = conv_json(
        cli,
        "--input",
        "32x32",
        "--kernel",
        "3",
        "--padding",
        "1",
        "--in-channels",
        "3",
        "--out-channels",
        "16",
    )
    assert data["input"] == [3, 32, 32] and data["output"] == [16, 32, 32]
    assert data["total"]["params"] == 16 * (3 * 9 + 1)
    assert data["total"]["macs"] == 16 * 32 * 32 * 3 * 9
    assert data["layers"][0]["working"][2]["what"] == "params"


def test_groups_and_no_bias(cli):
    data = conv_json(
        cli,
        "-i",
        "6x6",
        "-k",
        "3",
        "--in-channels",
        "8",
        "--out-channels",
        "8",
        "--groups",
        "4",
        "--no-bias",
    )
    assert data["total"]["params"] == 8 * (8 // 4) * 3 * 3
    assert data["total"]["macs"] == 8 * 4 * 4 * (8 // 4) * 3 * 3


def test_dilation_uses_the_dilated_extent(cli):
    """k_eff = 2·(3 − 1) + 1 = 5 on 10 → 6, and the line says so."""
    result = cli("conv", "-i", "10x10", "-k", "3", "--dilation", "2")
    assert "⌊(10 − 5 + 0 + 1) / 1⌋ = 6" in result.stdout
    assert "dilated extent 2·(3 − 1) + 1 = 5" in result.stdout


def test_max_pool(cli):
    """d2l 7.5: 2×2 max pool, padding 1, stride 2 on 3×8×8 → ⌊(8 − 2 + 2 + 2)/2⌋ = 5;
    each window of 4 costs 3 compares: 3·5·5·3."""
    data = conv_json(
        cli, "-i", "8x8", "-k", "2", "--padding", "1", "--pool", "max", "--in-channels", "3"
    )
    assert data["output"] == [3, 5, 5]
    assert data["total"]["ops"]["compares"] == 3 * 5 * 5 * (2 * 2 - 1)
    assert data["total"]["params"] == 0


def test_avg_pool_default_stride_is_the_kernel(cli):
    data = conv_json(cli, "-i", "8x8", "-k", "2", "--pool", "avg")
    assert data["output"] == [1, 4, 4]
    assert data["total"]["ops"]["adds"] == 4 * 4 * (4 - 1) and data["total"]["ops"]["divs"] == 4 * 4


def test_same_padding_and_1d_input(cli):
    assert conv_json(cli, "-i", "9x10", "-k", "4", "--padding", "same")["output"] == [1, 9, 10]
    assert conv_json(cli, "-i", "11", "-k", "3", "--stride", "2")["output"] == [
        1,
        (11 - 3) // 2 + 1,
    ]


def test_markdown_is_latex(cli):
    out = cli("conv", "-i", "8x8", "-k", "3", "--padding", "1", "-f", "markdown").stdout
    assert r"\lfloor (8 - 3 + 2 + 1) / 1\rfloor = 8$" in out


@pytest.mark.parametrize(
    "flags,message",
    [
        (
            ("-i", "8x8", "-k", "9"),
            "error: --kernel: layer 'conv' (conv) on input 1×8×8: kernel 9 is larger",
        ),
        (("-i", "8xa", "-k", "3"), "error: --input: '8xa' is not a size"),
        (("-i", "8x8", "-k", "3x"), "error: --kernel: '3x' is not a size"),
        (("-i", "8x8", "-k", "3", "--groups", "2", "--in-channels", "3"), "error: --groups: "),
        (
            ("-i", "8x8", "-k", "3", "--pool", "max", "--out-channels", "4"),
            "error: --out-channels: pooling",
        ),
        (
            ("-i", "8x8", "-k", "3", "--out-channels", "0"),
            "error: --out-channels: must be at least 1",
        ),
        (("-i", "8x8", "-k", "3", "--in-channels", "0"), "error: --in-channels: must be from 1"),
        (
            ("-i", "8x8", "-k", "3x3x3"),
            "error: --kernel: layer 'conv' (conv) on input 1×8×8: has 3 values",
        ),
        (("-i", "8x8", "-k", "3", "--padding", "wide"), "error: --padding: 'wide' is not a size"),
    ],
)
def test_bad_flags_are_one_line_naming_the_flag(cli, flags, message):
    result = cli("conv", *flags)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message), result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_help_lists_the_new_commands(cli):
    out = cli("--help").stdout
    assert "conv" in out and "answers" in out
    assert "--compare" in cli("flops", "--help").stdout
    assert "--explain" in cli("shape", "--help").stdout


# ------------------------------------------------------------------ issue 10 §4: conv's flags


def test_short_flags_mean_kernel_stride_padding_dilation(cli):
    """d2l 7.3's example again, in short flags, and a dilation of 2 on 8×8 with a 3×3
    kernel: the dilated extent 2·(3 − 1) + 1 = 5, so ⌊(8 − 5 + 0 + 1)/1⌋ = 4."""
    short = conv_json(cli, "-i", "8x8", "-k", "3x5", "-p", "0,1", "-s", "3,4")
    long = conv_json(
        cli, "--input", "8x8", "--kernel", "3x5", "--padding", "0,1", "--stride", "3,4"
    )
    assert short["output"] == long["output"] == [1, (8 - 3 + 0 + 3) // 3, (8 - 5 + 2 + 4) // 4]
    assert conv_json(cli, "-i", "8x8", "-k", "3", "-d", "2")["output"] == [1, 8 - 5 + 1, 8 - 5 + 1]


def test_ceil_mode_rounds_a_pool_up(cli):
    """A 2×2 max pool, stride 2, on 5×5: ⌊(5 − 2 + 2)/2⌋ = 2, ⌈(5 − 2 + 2)/2⌉ = 3 (PyTorch's
    ceil_mode: the last window starts at 4, inside the input)."""
    flags = ("-i", "5x5", "-k", "2", "-s", "2", "--pool", "max")
    assert conv_json(cli, *flags)["output"] == [1, 2, 2]
    assert conv_json(cli, *flags, "--ceil-mode")["output"] == [1, 3, 3]
    out = cli("conv", *flags, "--ceil-mode").stdout
    assert "⌈(5 − 2 + 0 + 2) / 2⌉ = 3" in out


def test_ceil_mode_on_a_convolution_is_refused(cli):
    result = cli("conv", "-i", "8x8", "-k", "3", "--ceil-mode")
    assert result.exit_code == 2
    assert result.output.startswith("error: --ceil-mode: a convolution always rounds down")


def test_output_size_solves_for_the_padding(cli):
    """ResNet's stem (He et al. 2016; torchvision conv1: kernel 7, stride 2, padding 3):
    224 → 112 needs ⌊(224 + 2p − 7)/2⌋ + 1 = 112, 2p ≥ 5, so p = 3 (p = 2 gives 111)."""
    flags = ("-i", "224x224", "-k", "7", "-s", "2", "--output-size", "112")
    result = cli("conv", *flags)
    assert result.exit_code == 0, result.output
    assert "--output-size 112: padding 3 per side is the smallest that gives it." in result.stdout
    data = conv_json(cli, *flags)
    assert data["output"] == [1, 112, 112]
    assert data["notes"] == ["--output-size 112: padding 3 per side is the smallest that gives it."]


def test_output_size_per_axis(cli):
    """3×5 kernel, stride 1, on 8×8 to keep 8×8: p_h = (3 − 1)/2 = 1, p_w = (5 − 1)/2 = 2."""
    data = conv_json(cli, "-i", "8x8", "-k", "3x5", "--output-size", "8x8")
    assert data["output"] == [1, 8, 8]
    assert (
        data["notes"][-1]
        == "--output-size 8x8: padding 1x2 per side is the smallest that gives it."
    )


def test_output_size_no_integer_padding_does(cli):
    """Stride 1, kernel 3 on 224: n_o = 224 + 2p − 2 is even for every p, so 223 cannot be."""
    result = cli("conv", "-i", "224", "-k", "3", "--output-size", "223")
    assert result.exit_code == 2
    assert result.output == (
        "error: --output-size: no integer padding gives 223 along L: padding 0 gives 222, "
        "padding 1 gives 224 (change the stride or the kernel, or ask for 222 or 224)\n"
    )


def test_output_size_and_padding_together_are_refused(cli):
    result = cli("conv", "-i", "8x8", "-k", "3", "-p", "1", "--output-size", "8")
    assert result.exit_code == 2
    assert result.output.startswith("error: --output-size: --output-size solves for the padding")


def test_dash_o_with_a_size_points_to_output_size(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("conv", "-i", "224x224", "-k", "7", "-s", "2", "-o", "112")
    assert result.exit_code == 2
    assert "--output-size 112" in result.output
    assert not (tmp_path / "112").exists()


def test_three_sizes_say_how_they_were_read(cli):
    """-i 3x32x32 is D×H×W here (the channels are --in-channels): a 3×3×3 kernel gives
    1×30×30 at depth 3 − 3 + 1 = 1, and the note says how to write 3 channels of 32×32."""
    note = (
        "--input 3x32x32 is read as a 3-D input D×H×W = 3 × 32 × 32 with 1 channel "
        "(--input is the spatial size here); for 3 channels of 32 × 32, write "
        "--in-channels 3 -i 32x32."
    )
    result = cli("conv", "-i", "3x32x32", "-k", "3")
    assert result.exit_code == 0, result.output
    assert note in result.stdout
    data = conv_json(cli, "-i", "3x32x32", "-k", "3")
    assert data["output"] == [1, 3 - 3 + 1, 32 - 3 + 1, 32 - 3 + 1]
    assert data["notes"] == [note]
    assert note in cli("conv", "-i", "3x32x32", "-k", "3", "-f", "markdown").stdout
    other = conv_json(cli, "--in-channels", "3", "-i", "32x32", "-k", "3")
    assert other["output"] == [1, 30, 30] and "notes" not in other
    assert "notes" not in conv_json(cli, "--in-channels", "1", "-i", "3x32x32", "-k", "3")
    assert "notes" not in conv_json(cli, "-i", "8x8", "-k", "3")

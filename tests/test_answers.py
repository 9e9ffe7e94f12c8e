"""``cnncalc answers``: every worked answer against its source, each number derived here
independently (the formula written out, or the textbook's figure), and the errata notes.

Golden files pin the Markdown of ``answers lenet5`` and ``answers nndl-5-4``
(CNNCALC_REGEN_GOLDEN=1 rewrites them, as in test_cli.py).
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction

import pytest
from test_cli import check_golden

from cnncalc.answers.worked import ENTRIES, answer
from cnncalc.errors import CnnCalcError


@functools.lru_cache(maxsize=None)
def values(name: str) -> dict:
    return answer(name).values


def d2l_out(n: int, k: int, p_total: int = 0, s: int = 1) -> int:
    """d2l 7.3: ⌊(n − k + p + s)/s⌋ with p the total padding."""
    return (n - k + p_total + s) // s


ISSUE_ENTRIES = [
    "lenet5",
    "nndl-5-4",
    "d2l-padding-stride",
    "d2l-channels",
    "d2l-pooling",
    "nndl-5-7",
    "inception-1x1",
    "inception-naive",
    "resnet-bottleneck",
    "alexnet-shapes",
    "mnist-inception",
    "mnist-resnet",
    "depth",
]


def test_every_entry_of_the_issue_is_there():
    assert set(ISSUE_ENTRIES) <= set(ENTRIES)


@pytest.mark.parametrize("name", ISSUE_ENTRIES)
def test_every_entry_has_question_working_and_answer(name):
    a = answer(name)
    assert a.question and a.source and a.steps and a.answer


# --------------------------------------------------------------------------- LeNet-5


def test_lenet5():
    """LeCun et al. 1998, II.B: C3 1,516 params and 151,600 connections; 60,840 in all."""
    v = values("lenet5")
    assert v["C3 params"] == 6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + 1 * (6 * 25 + 1) == 1516
    assert v["C3 connections"] == 1516 * 10 * 10 == 151_600
    assert v["params"] == 60_840
    assert v["connections"] == 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840
    assert v["layers"]["C1"] == ((6, 28, 28), 6 * 26, 6 * 28 * 28 * 26)


def test_lenet5_table_has_maps_size_params_connections():
    table = answer("lenet5").steps[0]
    assert table.headers == ("Layer", "Maps", "Size", "Params", "Connections")
    assert table.rows[2] == ("C3", 16, "10×10", 1516, 151_600)


# --------------------------------------------------------------------------- NNDL 5-4


def test_nndl_5_4():
    """Time M²·K²·C_in·C_out and space = weights + output maps, no bias."""
    v = values("nndl-5-4")
    assert v["plain time"] == 100**2 * 3**2 * 256 * 256 == 5_898_240_000
    assert v["plain space"] == 3**2 * 256 * 256 + 256 * 100**2 == 3_149_824
    assert v["bottleneck time"] == 100**2 * (1 * 256 * 64 + 3**2 * 64 * 256) == 1_638_400_000
    assert v["bottleneck space"] == (256 * 64 + 9 * 64 * 256) + (64 + 256) * 100**2 == 3_363_840
    assert v["plain macs"] == v["plain time"] and v["plain flops"] == 2 * v["plain time"]
    assert v["bottleneck macs"] == v["bottleneck time"]
    assert v["time ratio"] == Fraction(5_898_240_000, 1_638_400_000)


def test_nndl_5_4_uses_nndls_letters():
    lines = answer("nndl-5-4").steps[0].lines
    assert (lines[0].symbolic, lines[0].substituted) == ("M²·K²·C_in·C_out", "100²·3²·256·256")


# --------------------------------------------------------------------------- d2l


def test_d2l_padding_and_stride():
    """d2l 7.3 on 8×8: 8×8, 8×8, 4×4, 2×2."""
    assert (
        list(values("d2l-padding-stride").values())
        == [
            (d2l_out(8, 3, 2), d2l_out(8, 3, 2)),
            (d2l_out(8, 5, 4), d2l_out(8, 3, 2)),
            (d2l_out(8, 3, 2, 2), d2l_out(8, 3, 2, 2)),
            (d2l_out(8, 3, 0, 3), d2l_out(8, 5, 2, 4)),
        ]
        == [(8, 8), (8, 8), (4, 4), (2, 2)]
    )


C_I, C_O, K, H = 3, 16, 3, 32  # the worked example: 3×32×32 → 16, 3×3, padding 1


def mults(c_i=C_I, c_o=C_O, h=H, k=K) -> int:
    return c_o * h * h * c_i * k * k


def adds(c_i=C_I, c_o=C_O, h=H, k=K) -> int:
    return c_o * h * h * (c_i * k * k - 1)


def test_d2l_channels_counts():
    v = values("d2l-channels")
    assert (v["mults"], v["adds"]) == (mults(), adds()) == (442_368, 425_984)
    assert v["c_i doubled"] == (mults(c_i=6), adds(c_i=6))
    assert v["c_o doubled"] == (2 * mults(), 2 * adds())
    assert v["c_i and c_o doubled"] == (4 * mults(), adds(c_i=6, c_o=32))
    h = d2l_out(32, 3, 4)  # padding 2 per side: 34
    assert v["padding doubled"] == (mults(h=h), adds(h=h)) and h == 34
    assert v["1x1"] == (mults(k=1), adds(k=1))


def test_d2l_channels_errata():
    """k_h·k_w·c_o·H_o·W_o lacks c_i; a 1×1 kernel takes adds per output from
    c_i·k_h·k_w − 1 to c_i − 1, not to 1/(k_h·k_w − 1) of them."""
    wrong_mults, wrong_adds = answer("d2l-channels").notes
    assert wrong_mults.stated.result == str(K * K * C_O * H * H)
    assert wrong_mults.correct[0].result == str(mults())
    assert wrong_adds.stated.result == f"1/{K * K - 1}"
    assert wrong_adds.correct[0].result == str(Fraction(C_I - 1, C_I * K * K - 1))
    assert values("d2l-channels")["1x1 adds per output"] == (C_I * K * K - 1, C_I - 1)


def test_d2l_pooling():
    """d2l 7.5: c·⌊(h + s)/s⌋²·(p_h·p_w − 1) with padding p_h on a p_h×p_w window;
    c = 3, h = 8, 2×2, stride 2."""
    v = values("d2l-pooling")
    out = (8 + 2) // 2
    assert v["max"] == {"out": out, "compares": 3 * out * out * (2 * 2 - 1), "adds": 0, "divs": 0}
    assert v["avg"] == {"out": out, "compares": 0, "adds": 3 * out * out * 3, "divs": 3 * out * out}


# --------------------------------------------------------------------------- NNDL 5-7


def test_nndl_5_7_output_sizes():
    """o = ⌊(i + 2p − k)/s⌋ + 1: (5 + 2 − 3)//2 + 1 = 3 and (6 + 2 − 3)//2 + 1 = 3."""
    v = values("nndl-5-7")
    assert v["o(5,3,2,1)"] == (5 + 2 * 1 - 3) // 2 + 1 == 3
    assert v["o(6,3,2,1)"] == (6 + 2 * 1 - 3) // 2 + 1 == 3


def test_nndl_5_7_matrix():
    """Dumoulin & Visin 2016, 4.1: C is 4×16; its first row is
    (w00 w01 w02 0 w10 w11 w12 0 w20 w21 w22 0 0 0 0 0), each next row shifted by one
    (then by two at the end of a line of outputs)."""
    c = values("nndl-5-7")["C"]
    assert len(c) == 4 and all(len(r) == 16 for r in c)
    first = [
        "w00",
        "w01",
        "w02",
        "0",
        "w10",
        "w11",
        "w12",
        "0",
        "w20",
        "w21",
        "w22",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]
    assert c[0] == first
    assert c[1] == ["0"] + first[:-1]
    assert c[2] == ["0"] * 4 + first[:-4]
    assert c[3] == ["0"] * 5 + first[:-5]
    assert values("nndl-5-7")["back"] == (1, 4, 4)


# --------------------------------------------------------------------------- studies


def test_inception_1x1_and_its_erratum():
    v = values("inception-1x1")
    assert v["plain"] == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    assert v["terms"] == (28 * 28 * 16 * 192, 28 * 28 * 32 * 25 * 16) == (2_408_448, 10_035_200)
    assert v["bottleneck"] == 12_443_648
    note = answer("inception-1x1").notes[0]
    assert note.stated.result == "12,433,648"
    assert (
        note.correct[0].substituted == "2408448 + 10035200" and note.correct[0].result == "12443648"
    )
    assert "12,443,648" in note.comment and "12,433,648" in note.comment


def test_inception_naive_and_the_358m_note():
    """Naive 28²·256·(128 + 9·192 + 25·96); reduced, the six convolutions; 358M does not
    follow; 271,351,808 + the 3×3's 28²·64·9·192 = 358,055,936."""
    v = values("inception-naive")
    reduced = 28 * 28 * (256 * 128 + 256 * 64 + 64 * 9 * 192 + 256 * 64 + 64 * 25 * 96 + 256 * 64)
    assert v["naive"] == 28 * 28 * 256 * (128 + 9 * 192 + 25 * 96) == 854_196_224
    assert v["reduced"] == reduced == 271_351_808
    assert v["channels"] == (128 + 192 + 96 + 256, 128 + 192 + 96 + 64)
    assert v["358M follows"] is False
    comment = answer("inception-naive").notes[0].comment
    assert "358M does not follow" in comment
    assert f"{reduced + 28 * 28 * 64 * 9 * 192:,}" in comment


def test_resnet_bottleneck():
    v = values("resnet-bottleneck")
    assert v["basic"] == 2 * 3 * 3 * 256 * 256 == 1_179_648
    assert v["bottleneck"] == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632
    assert f"{float(v['ratio']):.2f}" == "16.94"


# --------------------------------------------------------------------------- shapes and depth


def test_alexnet_shapes():
    """227 → ⌊(227 − 11)/4⌋ + 1 = 55 → ⌊(55 − 3)/2⌋ + 1 = 27 → 13 → 6; at 224 the first is 54."""
    assert values("alexnet-shapes")["chain"] == (
        227,
        (227 - 11) // 4 + 1,
        (55 - 3) // 2 + 1,
        (27 - 3) // 2 + 1,
        (13 - 3) // 2 + 1,
    )
    assert values("alexnet-shapes")["chain"] == (227, 55, 27, 13, 6)
    assert values("alexnet-shapes")["at 224"] == (224 - 11) // 4 + 1 == 54


@pytest.mark.parametrize("name,c,h", [("mnist-inception", 88, 4), ("mnist-resnet", 32, 4)])
def test_mnist_fc_inputs(name, c, h):
    """88 = 16 + 24 + 24 + 24 channels of 4×4; 32 channels of 4×4 (28 → 24 → 12 → 8 → 4)."""
    assert values(name)["fc in"] == c * h * h
    assert values(name)["fc params"] == 10 * (c * h * h + 1)


def test_depth():
    """VGG-16: 2+2+3+3+3 convs + 3 fc; ResNet-101: 1 + 3·(3+4+23+3) + 1; GoogLeNet:
    3 stem convs + 2·9 modules + 1 fc."""
    v = values("depth")
    assert v["vgg16"] == (16, (2, 2, 3, 3, 3, 3))
    assert v["resnet101"] == (1 + 3 * (3 + 4 + 23 + 3) + 1, 1, 3, (3, 4, 23, 3), 1)
    assert v["googlenet"] == (3 + 2 * 9 + 1, 3, 2, 9, 1)


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize("name", ["lenet5", "nndl-5-4"])
def test_answer_markdown_golden(cli, name):
    result = cli("answers", name, "--format", "markdown")
    assert result.exit_code == 0, result.output
    check_golden(f"answers-{name}.md", result.stdout)


def test_answers_lists_the_entries(cli):
    data = json.loads(cli("answers", "--format", "json").stdout)
    assert sorted(e["name"] for e in data) == sorted(ENTRIES)  # grouped by chapter section
    assert "lenet5" in cli("answers").stdout


@pytest.mark.parametrize("name", ISSUE_ENTRIES)
@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv"])
def test_every_answer_renders(cli, name, fmt):
    result = cli("answers", name, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_answer_json_carries_the_values(cli):
    data = json.loads(cli("answers", "nndl-5-4", "--format", "json").stdout)
    assert data["values"]["plain space"] == 3_149_824
    assert data["values"]["time ratio"] == "18/5"


def test_answer_text_shows_the_note(cli):
    out = cli("answers", "inception-1x1").stdout
    assert (
        "Note — often stated: multiplications = 1²·28²·192·16 + 5² + 28²·16·32 = 12,433,648" in out
    )
    assert "12,443,648" in out


def test_unknown_answer_is_one_line(cli):
    result = cli("answers", "lenet")
    assert result.exit_code == 2
    assert result.output.startswith("error: answers: no answer called 'lenet'")
    with pytest.raises(CnnCalcError):
        answer("nope")

"""The worked answers read every number from the network they explain: change the network
and the answer's text changes with it (no retyped 3×3, no AlexNet settings by hand)."""

from __future__ import annotations

from pathlib import Path

from cnncalc.analysis.pipeline import loads
from cnncalc.answers import worked
from cnncalc.answers.worked import answer
from cnncalc.model.zoo import zoo_path


def line(ans, what: str):
    return next(f for step in ans.steps for f in step.lines if f.what.startswith(what))


def test_d2l_channels_with_a_5x5_kernel_says_75_to_3(monkeypatch, cli):
    """c_i = 3: a 3×3 kernel has fan-in 3·3·3 = 27 and a 1×1 has 3 ("27 / 3"); with 5×5
    (padding 1, so 32 − 5 + 2 + 1 = 30 per side) the fan-in is 3·5·5 = 75, and the 1×1
    alternative (padding 0) no longer keeps the size: it gives 32×32, not 30×30."""
    assert line(answer("d2l-channels"), "mults per output").substituted == f"{3 * 3 * 3} / 3"
    monkeypatch.setattr(worked, "CHANNELS", {**worked.CHANNELS, "kernel": "5"})
    ans = answer("d2l-channels")
    assert line(ans, "mults per output").substituted == f"{3 * 5 * 5} / 3"
    assert line(ans, "adds per output").substituted == f"{3 * 5 * 5 - 1} / {3 - 1}"
    wrong_mults, wrong_adds = ans.notes
    h_o = 32 - 5 + 2 + 1
    assert wrong_mults.stated.substituted == f"5·5·16·{h_o}·{h_o}"
    assert wrong_mults.stated.result == str(5 * 5 * 16 * h_o * h_o)
    assert wrong_adds.stated.substituted == "1/(5·5 − 1)"
    assert ans.values["1x1 adds per output"] == (3 * 5 * 5 - 1, 3 - 1)
    titles = [step.title for step in ans.steps]
    assert f"A 1×1 kernel (padding 0 gives 32×32, not {h_o}×{h_o})" in titles
    text = cli("answers", "d2l-channels").stdout
    assert "75 / 3" in text and "27 / 3" not in text


def test_d2l_channels_with_another_input_keeps_reading_it(monkeypatch):
    """c_i = 4 on 16×16 with 3×3, padding 1: fan-in 4·9 = 36 → 4; H_o = 16."""
    monkeypatch.setattr(worked, "CHANNELS", {**worked.CHANNELS, "in_channels": 4, "input": "16x16"})
    ans = answer("d2l-channels")
    assert line(ans, "mults per output").substituted == "36 / 4"
    assert ans.notes[0].stated.substituted == "3·3·16·16·16"
    assert "c_i = 4" in ans.notes[0].comment
    assert "A 1×1 kernel (padding 0 keeps the 16×16 output)" in [s.title for s in ans.steps]


def test_alexnet_note_reads_conv1_from_the_network(monkeypatch):
    """With conv1 made 7×7 (stride 4): 227 → ⌊(227 − 7)/4⌋ + 1 = 56, and at 224
    ⌊(224 − 7)/4⌋ + 1 = 55; the note follows."""
    text = Path(zoo_path("alexnet-2gpu")).read_text(encoding="utf-8")
    changed = text.replace(
        "{conv: 96, kernel: 11, stride: 4, name: conv1}",
        "{conv: 96, kernel: 7, stride: 4, name: conv1}",
    )
    assert changed != text
    real_load = worked.load
    monkeypatch.setattr(
        worked,
        "load",
        lambda name: (
            loads(changed, "alexnet-2gpu.yaml") if name == "alexnet-2gpu" else real_load(name)
        ),
    )
    ans = answer("alexnet-shapes")
    assert ans.values["chain"][:2] == (227, (227 - 7) // 4 + 1)
    assert ans.values["at 224"] == (224 - 7) // 4 + 1 == 55
    assert ans.notes[0].comment.startswith("With 224 the first layer gives 55, not 56: the 56×56")
    assert "227×227 input" in ans.notes[0].comment


def test_googlenet_depth_note_names_the_zoo_networks_kernels():
    """torchvision's GoogLeNet (the zoo's) has 3×3, not the paper's 5×5, in its "5×5"
    branch (see examples/googlenet.yaml): the longest branches are 1×1 then 3×3."""
    (google,) = [f for f in answer("depth").answer if f.what == "GoogLeNet"]
    assert google.note.endswith("longest branch has 2 convs (1×1 then 3×3)")
    assert google.note.startswith("conv1, conv2, conv3;")


def test_d2l_padding_stride_titles_and_shapes_follow_the_settings(monkeypatch):
    """7×7, padding 3 per side (p_h = 6), stride 2 on 8×8: ⌊(8 − 7 + 6 + 2)/2⌋ = 4."""
    monkeypatch.setattr(worked, "D2L_PADDING_STRIDE", (dict(kernel="7", pad="3", stride="2"),))
    (result,) = answer("d2l-padding-stride").answer
    assert (result.what, result.result) == ("7×7, padding 3, stride 2", "4×4")

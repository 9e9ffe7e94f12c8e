"""A long network's plot folds its layers by block (issue 11: a readable plot of densenet201)."""

import pytest

from cnncalc.render.plot import folded


def test_a_short_network_keeps_one_bar_a_layer():
    rows = [{"name": "C1", "flops": 235200}, {"name": "S2", "flops": 2352}]
    assert folded(rows, ("flops",), limit=2) == rows


def test_layers_fold_into_the_deepest_blocks_that_fit():
    rows = [
        {"name": "a.b1.x", "flops": 1},
        {"name": "a.b1.y", "flops": 10},
        {"name": "a.b2.x", "flops": 100},
        {"name": "c", "flops": 1000},
    ]
    # names to two parts give a.b1 (x, y), a.b2 and c: three bars; three parts give four
    assert folded(rows, ("flops",), limit=3) == [
        {"name": "a.b1 (2 layers)", "flops": 1 + 10},
        {"name": "a.b2.x", "flops": 100},
        {"name": "c", "flops": 1000},
    ]


def test_flat_names_keep_the_largest_layers_and_sum_the_rest():
    rows = [
        {"name": f"l{i}", "params": p, "buffers": b}
        for i, (p, b) in enumerate([(5, 0), (1, 1), (50, 2), (3, 0), (7, 1)])
    ]
    bars = folded(rows, ("params", "buffers"), limit=3)
    # stacked sizes 5, 2, 52, 3, 8: l2 and l4 are kept, in network order
    assert [b["name"] for b in bars] == ["l2", "l4", "the other 3 layers"]
    assert bars[-1] == {"name": "the other 3 layers", "params": 5 + 1 + 3, "buffers": 0 + 1 + 0}


def test_densenet201_plot_is_a_readable_image(cli, tmp_path):
    """707 layers in at most 30 bars: the image stays a page high, not 12,000 pixels."""
    pytest.importorskip("matplotlib")
    from PIL import Image  # matplotlib's own dependency

    out = tmp_path / "flops.png"
    result = cli("flops", "densenet201", "--plot", out)
    assert result.exit_code == 0, result.output
    width, height = Image.open(out).size
    assert height < 1500, (width, height)

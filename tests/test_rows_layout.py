"""The one table model laid out at a width (render/tables.py), without the CLI: what gives
way first when a table is too wide."""

from __future__ import annotations

from fractions import Fraction

from rich.console import Console

from cnncalc.render.tables import Col, Rows, rich_rows

BIG = 8_178_368_512  # ResNet-50's FLOPs
COLS = (Col("name", "Layer", "text"), Col("flops", "FLOPs"), Col("share", "Share", "share"))
TABLE = Rows(
    "t",
    COLS,
    ({"name": "layer3 of the network", "flops": BIG, "share": Fraction(1)},),
    None,
    (),
    {},
)


def drawn(t: Rows, width: int, exact: bool = False) -> str:
    console = Console(width=width, force_terminal=True, color_system=None)
    with console.capture() as capture:
        console.print(rich_rows(t, exact), crop=False)
    return capture.get()


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_wide_enough_everything_shows():
    text = drawn(TABLE, 100)
    assert "8,178,368,512" in text and "██████████ 100.0%" in text
    assert "layer3 of the network" in text


def test_the_bar_goes_first():
    # name 21 + number 13 + share 17 + box 3·3 + 1 = 61 columns at full width
    text = drawn(TABLE, 55)
    assert "█" not in text and "100.0%" in text
    assert "8,178,368,512" in text
    assert widest(text) <= 55


def test_then_the_number_is_compacted_and_the_note_says_so():
    text = drawn(TABLE, 30)
    assert "8.18 G" in text and "8,178,368" not in text
    assert "--exact" in text
    assert widest(text) <= 30


def test_exact_splits_rather_than_compacts():
    text = drawn(TABLE, 30, exact=True)
    assert "8,178,368,512" in text and "8.18 G" not in text
    assert widest(text) <= 30


def test_text_wraps_whole_words_when_numbers_cannot_shrink_more():
    text = drawn(TABLE, 24)
    words = " ".join(text.split())
    for word in ("layer3", "of", "the", "network"):
        assert word in words
    assert "8.18 G" in text
    assert widest(text) <= 24

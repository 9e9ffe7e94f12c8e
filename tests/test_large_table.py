"""A table of thousands of rows is plain aligned text, every cell in full, and says how to
fold it (issue 11: a 100,000-layer summary took minutes in rich)."""

from cnncalc.render.analysis import LARGE_TABLE_ROWS

LONG = """
name: long
input: [4, 8, 8]
layers:
  - repeat: {count}
    layers:
      - {{conv: 4, kernel: 3, padding: 1}}
"""


def test_a_long_table_keeps_every_row_and_says_how_to_fold(cli, yaml_file):
    count = LARGE_TABLE_ROWS + 1
    result = cli("params", yaml_file(LONG.format(count=count)))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{count:,} rows" in out and "--depth" in out and "--format csv" in out
    assert out.count(" conv ") == count  # the kind column, once a layer
    # each conv: 4 maps of 4·3·3 weights and a bias
    assert f"{count * 4 * (4 * 3 * 3 + 1):,}" in out.splitlines()[-4]


def test_a_short_table_has_no_fold_note(cli, yaml_file):
    result = cli("params", yaml_file(LONG.format(count=3)))
    assert result.exit_code == 0, result.output
    assert "--depth" not in result.stdout


def test_a_long_network_folded_by_depth_is_a_short_table(cli, yaml_file):
    """--depth 1 folds the 2,001 repeats into one block: a fitted table, no fold note, its
    total still every layer's (2,001 convs of 4·(4·3·3 + 1) params)."""
    count = LARGE_TABLE_ROWS + 1
    result = cli("params", yaml_file(LONG.format(count=count)), "--depth", "1")
    assert result.exit_code == 0, result.output
    assert "rows. For a shorter table" not in result.stdout
    assert f"{count * 4 * (4 * 3 * 3 + 1):,}" in result.stdout

"""The graph builder works a layer's shape and field step out once per (options, input
shape) and reuses it (issue 11): these tests check that the reuse is exact, each figure
derived here by hand from the textbook rules.

Receptive field (Araujo et al. 2019): a window of extent k at stride s takes the field r
and jump j to r + (k − 1)·j and j·s. Output size: ⌊(n + 2p − k)/s⌋ + 1.
"""

from __future__ import annotations

from cnncalc.analysis.pipeline import build, loads
from cnncalc.kinds.arith import Field
from cnncalc.kinds.conv import Conv
from cnncalc.kinds.pool import Pool

THREE_CONVS = """
name: three equal convs
input: 8x32x32
layers:
  - repeat: 3
    layers:
      - {conv: 8, kernel: 3, padding: 1}
"""


def test_three_equal_3x3_convs_widen_the_field_to_7():
    """One layer, one input shape, three calls: r = 1 + 2 + 2 + 2 = 7, not 3 three times."""
    graph = build(loads(THREE_CONVS))
    assert [n.out_shape for n in graph.nodes] == [(8, 32, 32)] * 3  # (32 + 2 − 3)/1 + 1
    assert [n.field.rf for n in graph.nodes] == [(3, 3), (5, 5), (7, 7)]
    assert [n.field.jump for n in graph.nodes] == [(1, 1)] * 3
    # unit 0's field starts one pixel into the padding more at each conv
    assert [n.field.start for n in graph.nodes] == [(-1, -1), (-2, -2), (-3, -3)]


BLOCKS = """
name: one block called at two sizes
input: 16x32x32
blocks:
  down:
    args: [c]
    layers:
      - {conv: $c, kernel: 3, stride: 2, padding: 1, name: conv}
      - {relu: , name: relu}
layers:
  - {down: [16], name: a}
  - {down: [16], name: b}
  - {down: [32], name: c}
"""


def test_a_block_called_with_equal_arguments_on_new_shapes_is_worked_out_again():
    """a: 32 → ⌊(32 + 2 − 3)/2⌋ + 1 = 16; b, the same layer on 16×16: 8; c: 4 with 32
    channels. Fields: r = 1 + 2·1 = 3, j = 2; then 3 + 2·2 = 7, j = 4; then 7 + 2·4 = 15."""
    graph = build(loads(BLOCKS))
    convs = {n.name: n for n in graph.nodes if n.kind == "conv"}
    assert [convs[k].out_shape for k in ("a.conv", "b.conv", "c.conv")] == [
        (16, 16, 16),
        (16, 8, 8),
        (32, 4, 4),
    ]
    assert [convs[k].field.rf for k in ("a.conv", "b.conv", "c.conv")] == [
        (3, 3),
        (7, 7),
        (15, 15),
    ]
    assert [convs[k].field.jump for k in ("a.conv", "b.conv", "c.conv")] == [
        (2, 2),
        (4, 4),
        (8, 8),
    ]
    relu = {n.name: n for n in graph.nodes if n.kind == "relu"}
    assert relu["b.relu"].field == convs["b.conv"].field  # a relu moves no pixel


def test_layers_with_equal_list_options_share_one_key():
    """Equal options, lists included, give equal keys (the counts are shared exactly); a
    different option gives another key."""
    a = Conv(out_channels=8, kernel=[3, 5], padding=[1, 2])
    b = Conv(out_channels=8, kernel=[3, 5], padding=[1, 2])
    c = Conv(out_channels=8, kernel=[3, 5], padding=[2, 1])
    assert a is not b
    assert a.options_key() == b.options_key()
    assert hash(a.options_key()) == hash(b.options_key())
    assert a.options_key() != c.options_key()
    # a max and an average pool with the same window are different layers
    assert Pool(mode="max", kernel=2).options_key() != Pool(mode="avg", kernel=2).options_key()


def test_a_merged_field_runs_from_the_earliest_start_to_the_latest_end():
    """Branch A: r 3 from −1 (ends at 2); branch B: r 5 from −2 (ends at 3), jump 2:
    the join's field is 3 − (−2) = 5 from −2, its jump the coarser 2."""
    a = Field((3,), (1,), start=(-1,))
    b = Field((5,), (2,), start=(-2,))
    assert Field.merge([a, b]) == Field((5,), (2,), start=(-2,))
    # a window of 3 at stride 2 after b: r = 5 + 2·2 = 9, j = 4, start −2 − 1·2 = −4
    assert b.slide((3,), (2,), (1,)) == Field((9,), (4,), start=(-4,))

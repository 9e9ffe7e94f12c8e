"""LeNet-5 as LeCun, Bottou, Bengio and Haffner count it (Proc. IEEE 1998, section II.B).

Every expected number is the paper's own, quoted in the test, and re-derived from the
architecture as a check on the quotation.
"""

import pytest

from cnncalc.analysis.pipeline import analyze, load


@pytest.fixture(scope="module")
def lenet5():
    return {row.name: row for row in analyze(load("lenet5")).layers}


# (layer, maps, size, params, connections) as stated in section II.B
PAPER = [
    ("C1", 6, 28, 156, 122_304),
    ("S2", 6, 14, 12, 5_880),
    ("C3", 16, 10, 1_516, 151_600),
    ("S4", 16, 5, 32, 2_000),
    ("C5", 120, 1, 48_120, 48_120),
]


@pytest.mark.parametrize("name,maps,size,params,connections", PAPER)
def test_lenet5_layer_matches_the_paper(lenet5, name, maps, size, params, connections):
    row = lenet5[name]
    assert row.out_shape == (maps, size, size)
    assert row.params == params
    assert row.connections == connections


def test_lenet5_c1_has_156_params_and_122304_connections(lenet5):
    # 6 maps of 5x5 weights + bias; each of the 28x28 outputs has 25 inputs + bias
    assert lenet5["C1"].params == 6 * (5 * 5 + 1)
    assert lenet5["C1"].connections == 6 * 28 * 28 * (5 * 5 + 1)


def test_lenet5_c3_has_1516_params(lenet5):
    # Table I: six maps see 3 S2 maps, nine see 4, one sees all 6
    assert lenet5["C3"].params == 6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + 1 * (6 * 25 + 1) == 1516


def test_lenet5_c3_has_151600_connections(lenet5):
    assert lenet5["C3"].connections == 1516 * 10 * 10 == 151_600


def test_lenet5_s2_has_two_trainable_params_per_map(lenet5):
    assert lenet5["S2"].params == 2 * 6
    assert lenet5["S2"].connections == 6 * 14 * 14 * (2 * 2 + 1)


def test_lenet5_f6_and_output(lenet5):
    assert lenet5["F6"].out_shape == (84,)
    assert lenet5["F6"].params == lenet5["F6"].connections == 84 * (120 + 1) == 10_164
    assert lenet5["OUTPUT"].out_shape == (10,)
    assert lenet5["OUTPUT"].params == lenet5["OUTPUT"].connections == 84 * 10 == 840


def test_lenet5_has_60840_params_and_340908_connections():
    total = analyze(load("lenet5")).total
    assert total.params == 60_840
    assert total.connections == 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840
    assert total.depth == 7


def test_lenet5_c1_macs_are_one_per_weight_use(lenet5):
    assert lenet5["C1"].macs == 6 * 28 * 28 * 1 * 5 * 5 == 117_600

"""verify's time estimate counts what the fast executor pays per connection of a tabled conv
(issue 11: a ShuffleNet-like network with tables was estimated at 0.01 s and took 4.15 s)."""

import pytest

from cnncalc.analysis.pipeline import build, load, loads
from cnncalc.proof.verify import FAST_SECONDS_PER_MULT, estimate, table_connections

SHUFFLE = """
name: tabled
input: [8, 4, 4]
layers:
  - {conv: 8, kernel: 1, table: [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5], [6, 7], [6, 7]]}
  - {relu: }
  - {conv: 4, kernel: 3, padding: 1, table: [[0, 1, 2], [3, 4, 5], [6, 7, 0], [1]]}
"""


def test_lenet5_c3_table_has_60_connections():
    """LeCun et al. 1998, table I: six maps see 3 of S2's maps, nine see 4, one sees all 6."""
    assert table_connections(build(load("lenet5"))) == 6 * 3 + 9 * 4 + 1 * 6


def test_a_network_without_tables_has_no_connections_to_charge():
    assert table_connections(build(load("resnet18"))) == 0


def test_fast_estimate_charges_each_connection():
    graph = build(loads(SHUFFLE))
    connections = 8 * 2 + (3 + 3 + 3 + 1)
    assert table_connections(graph) == connections
    mults = 8 * 2 * 4 * 4 + (3 + 3 + 3 + 1) * 9 * 4 * 4  # each connection: k² taps a position
    est = estimate(graph, {"mults": mults}, 1, "fast", per_connection=1e-5)
    assert est.seconds == pytest.approx(mults * FAST_SECONDS_PER_MULT + connections * 1e-5)
    assert f"{connections:,} connections" in est.basis


def test_table_cost_is_measured_and_positive():
    pytest.importorskip("numpy")
    from cnncalc.proof.executor.run import table_cost

    assert 0 < table_cost(repeats=1) < 0.01

"""verify's time estimate: the fast executor's work, written as the terms its time is made of
(issue 11: DenseNets were estimated 7× under, their concat copies left out; a ShuffleNet-like
network with tables was estimated at 0.01 s and took 4.15 s). The structure is tested here,
from derivations written out; how near the seconds come is benchmarks/bench_instant.py's."""

import pytest

from cnncalc.analysis.pipeline import build, load, loads
from cnncalc.proof.verify import FastCost, FastWork, estimate, fast_work, table_connections

SHUFFLE = """
name: tabled
input: [8, 4, 4]
layers:
  - {conv: 8, kernel: 1, table: [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5], [6, 7], [6, 7]]}
  - {relu: }
  - {conv: 4, kernel: 3, padding: 1, table: [[0, 1, 2], [3, 4, 5], [6, 7, 0], [1]]}
"""


def one_layer(layer: str, input: str = "[16, 8, 8]", batch: int = 1) -> FastWork:
    graph = build(loads(f"name: one\ninput: {input}\nlayers:\n  - {layer}\n"))
    return fast_work(graph, batch, 0)


def test_lenet5_c3_table_has_60_connections():
    """LeCun et al. 1998, table I: six maps see 3 of S2's maps, nine see 4, one sees all 6."""
    assert table_connections(build(load("lenet5"))) == 6 * 3 + 9 * 4 + 1 * 6


def test_a_network_without_tables_has_no_connections_to_charge():
    assert table_connections(build(load("resnet18"))) == 0


def test_a_pointwise_conv_moves_its_input_and_output_only():
    """1×1, stride 1, no padding: the input is its own im2col (a reshape, no copy)."""
    work = one_layer("{conv: 32, kernel: 1}")
    assert work.values == 16 * 8 * 8 + 32 * 8 * 8
    assert work.calls == 1


def test_a_padded_3x3_conv_moves_the_padded_copy_and_its_columns():
    """16×8×8 padded by 1 is 16×10×10; im2col writes 16·9 rows of 8·8 positions."""
    work = one_layer("{conv: 32, kernel: 3, padding: 1}")
    assert work.values == 16 * 8 * 8 + 32 * 8 * 8 + 16 * 10 * 10 + 16 * 9 * 8 * 8


def test_a_depthwise_conv_takes_one_loop_step_per_group():
    """ops_fast runs a grouped conv group by group: 16 products for 16 groups."""
    assert one_layer("{conv: 16, kernel: 3, padding: 1, groups: 16}").calls == 16


def test_a_max_pool_passes_over_its_output_once_per_tap():
    """3×3 taps, stride 2, padding 1: 16×10×10 padded, 9 passes over 16×4×4."""
    work = one_layer("{pool: max, kernel: 3, stride: 2, padding: 1}")
    assert work.values == 16 * 8 * 8 + 16 * 4 * 4 + 16 * 10 * 10 + 9 * 16 * 4 * 4
    assert work.calls == 1 + 9


def test_a_concat_copies_every_branch_into_its_output():
    """DenseNet's join: the identity branch (16 maps) and a relu's (16 maps) are read, 32
    maps written; the relu reads 16 and writes 16."""
    work = one_layer("concat: [[], [{relu: }]]")
    maps = 8 * 8
    assert work.values == (16 + 16) * maps + (16 + 16 + 32) * maps
    assert work.calls == 2


def test_the_moved_values_grow_with_the_batch():
    assert one_layer("{relu: }", batch=3).values == 3 * one_layer("{relu: }").values


def test_fast_estimate_is_each_term_at_its_cost():
    graph = build(loads(SHUFFLE))
    connections = 8 * 2 + (3 + 3 + 3 + 1)
    assert table_connections(graph) == connections
    mults = 8 * 2 * 4 * 4 + (3 + 3 + 3 + 1) * 9 * 4 * 4  # each connection: k² taps a position
    work = fast_work(graph, 1, mults)
    cost = FastCost(per_mult=1e-9, per_value=2e-9, per_call=1e-5, per_connection=1e-4)
    est = estimate(graph, {"mults": mults}, 1, "fast", fast=cost)
    assert est.seconds == pytest.approx(
        mults * 1e-9 + work.values * 2e-9 + 3 * 1e-5 + connections * 1e-4
    )
    assert f"{connections:,} connections" in est.basis
    assert f"{mults:,} multiplications" in est.basis


@pytest.mark.requires("numpy")
def test_fast_costs_are_measured_and_positive():
    from cnncalc.proof.executor import run as runner
    from cnncalc.proof.verify import fast_cost

    cost = fast_cost(runner, tables=True, repeats=1)
    assert 0 < cost.per_mult < 1e-6
    assert 0 < cost.per_value < 1e-6
    assert 0 < cost.per_call < 0.01
    assert 0 < cost.per_connection < 0.01


@pytest.mark.requires("numpy")
def test_table_cost_is_measured_and_positive():
    from cnncalc.proof.executor.run import table_cost

    assert 0 < table_cost(repeats=1) < 0.01

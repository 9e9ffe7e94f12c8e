"""verify's time estimate: the fast executor's work, written as the terms its time is made of
(issue 11: DenseNets were estimated 7× under, their concat copies left out; a ShuffleNet-like
network with tables was estimated at 0.01 s and took 4.15 s). The structure is tested here,
from derivations written out; how near the seconds come is benchmarks/bench_instant.py's."""

import pytest

from cnncalc.analysis.pipeline import build, load, loads, variants
from cnncalc.proof.verify import (
    TERMS,
    FastCost,
    FastWork,
    estimate,
    fast_work,
    new_bytes,
    table_connections,
)

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
    return fast_work(graph, batch)


def test_lenet5_c3_table_has_60_connections():
    """LeCun et al. 1998, table I: six maps see 3 of S2's maps, nine see 4, one sees all 6."""
    assert table_connections(build(load("lenet5"))) == 6 * 3 + 9 * 4 + 1 * 6


def test_a_network_without_tables_has_no_connections_to_charge():
    assert table_connections(build(load("resnet18"))) == 0


def test_a_pointwise_conv_moves_its_input_and_output_only():
    """1×1, stride 1, no padding: the input is its own im2col (a reshape, no copy)."""
    work = one_layer("{conv: 32, kernel: 1, bias: false}")
    assert work.values == 16 * 8 * 8 + 32 * 8 * 8
    assert work.gathered == 0
    assert work.calls == 1


def test_a_conv_multiplies_every_weight_at_every_output_position():
    """32 filters of 16·3·3 weights, each at 8·8 positions."""
    work = one_layer("{conv: 32, kernel: 3, padding: 1}")
    assert work.weights == 32 * 16 * 3 * 3
    assert work.mults == 32 * 16 * 3 * 3 * 8 * 8


def test_a_padded_3x3_conv_moves_the_padded_copy_and_gathers_its_columns():
    """16×8×8 padded by 1 is 16×10×10; im2col gathers 16·9 rows of 8·8 positions; the bias
    is added to the 32×8×8 output in place (read and written)."""
    work = one_layer("{conv: 32, kernel: 3, padding: 1}")
    assert work.values == 16 * 8 * 8 + 32 * 8 * 8 + 16 * 10 * 10 + 2 * 32 * 8 * 8
    assert work.gathered == 16 * 9 * 8 * 8


def test_every_conv_sets_up_once_and_nothing_else_does():
    """LeNet-5: C1, C3 and C5 are convolutions; S2, S4 (subsampling), F6 and the output are
    not (LeCun et al. 1998)."""
    assert fast_work(build(load("lenet5")), 1).convs == 3


def test_a_depthwise_conv_takes_one_loop_step_per_group():
    """ops_fast runs a grouped conv group by group: 16 products for 16 groups."""
    assert one_layer("{conv: 16, kernel: 3, padding: 1, groups: 16}").calls == 16


def test_a_conv_on_a_large_map_takes_one_loop_step_per_band_of_rows(monkeypatch):
    """With room for 4·9·8·2 columns a band (a group's 4 maps, 9 taps, 8 positions a row, 2
    of the 8 rows), each of 4 groups makes 4 bands: 16 products, where one band a group
    would be 4."""
    monkeypatch.setattr("cnncalc.proof.impls.COLUMNS_PER_CHUNK", 4 * 9 * 8 * 2)
    assert one_layer("{conv: 16, kernel: 3, padding: 1, groups: 4}").calls == 4 * 4


def test_a_max_pool_gathers_its_output_once_per_tap():
    """3×3 taps, stride 2, padding 1: 16×10×10 padded, 9 strided passes over 16×4×4."""
    work = one_layer("{pool: max, kernel: 3, stride: 2, padding: 1}")
    assert work.values == 16 * 8 * 8 + 16 * 4 * 4 + 16 * 10 * 10
    assert work.gathered == 9 * 16 * 4 * 4
    assert work.calls == 1 + 9


def test_a_concat_copies_every_branch_into_its_output():
    """DenseNet's join: the identity branch (16 maps) and a relu's (16 maps) are read, 32
    maps written; the relu reads 16 and writes 16."""
    work = one_layer("concat: [[], [{relu: }]]")
    maps = 8 * 8
    assert work.values == (16 + 16) * maps + (16 + 16 + 32) * maps
    assert work.calls == 2


def test_a_residual_add_zeroes_its_output_then_adds_each_branch_in_place():
    """np.zeros writes the 16×8×8 sum once; each of the two branches is read with the sum
    and the sum written back (3 passes each); the relu branch reads and writes once more."""
    work = one_layer("add: [[], [{relu: }]]")
    maps = 16 * 8 * 8
    assert work.values == (1 + 3 * 2) * maps + 2 * maps


def test_a_view_moves_nothing():
    """Dropout at inference and flatten return their input as it is (a view)."""
    assert one_layer("{dropout: 0.5}").values == 0
    assert one_layer("{flatten: }").values == 0


def test_an_exact_gelu_calls_erf_once_per_element():
    """numpy has no erf: ops_fast calls math.erf for each of the 16·8·8 elements."""
    work = one_layer("{gelu: }")
    assert work.erfs == 16 * 8 * 8
    assert work.transcendentals == 0


def test_a_tanh_gelu_evaluates_one_tanh_per_element():
    work = one_layer("{gelu: tanh}")
    assert work.transcendentals == 16 * 8 * 8
    assert work.erfs == 0


def test_a_sigmoid_evaluates_one_exp_per_element_and_a_relu_none():
    assert one_layer("{sigmoid: }").transcendentals == 16 * 8 * 8
    assert one_layer("{relu: }").transcendentals == 0


def test_an_fc_at_batch_3_multiplies_each_weight_3_times_but_reads_it_once():
    """One [3, 1024] @ [1024, 10] product: 3·1024·10 multiplications, 10,240 weights read."""
    work = one_layer("{fc: 10, bias: false}", batch=3)
    assert work.mults == 3 * 16 * 8 * 8 * 10
    assert work.weights == 16 * 8 * 8 * 10


def test_a_linear_at_every_position_is_one_product_over_the_channels():
    """ConvNeXt's pointwise MLP: [24, 16] weights times 16 channels at each of 8·8 positions."""
    work = one_layer("{linear: 24, bias: false}")
    assert work.mults == 24 * 16 * 8 * 8
    assert work.weights == 24 * 16
    assert work.gathered == 0


def test_the_moved_values_grow_with_the_batch():
    assert one_layer("{relu: }", batch=3).values == 3 * one_layer("{relu: }").values


def test_the_loop_steps_and_weights_do_not_grow_with_the_batch():
    one, three = (
        one_layer("{conv: 16, kernel: 3, groups: 4}"),
        one_layer("{conv: 16, kernel: 3, groups: 4}", batch=3),
    )
    assert (three.calls, three.weights) == (one.calls, one.weights) == (4, 16 * 4 * 9)


def test_a_tabled_conv_charges_its_connections():
    graph = build(loads(SHUFFLE))
    connections = 8 * 2 + (3 + 3 + 3 + 1)
    assert table_connections(graph) == connections
    work = fast_work(graph, 1)
    assert work.connections == connections
    # each connection: one k² × positions product, as ops_fast makes it
    assert work.mults == 8 * 2 * 1 * 4 * 4 + (3 + 3 + 3 + 1) * 9 * 4 * 4
    assert work.calls == 3


MIB = 2**20
"""glibc maps an allocation of 32 MiB or more anew (its largest mmap threshold); the
executor's values are float64, 8 bytes each."""


def test_a_conv_output_of_32_mib_is_a_new_mapping_written_to_new_memory():
    """4 maps of 1024×1024, 8 bytes a value: 4·1024·1024·8 = 32 MiB, the threshold. A 1×1
    conv reads its input in place (no padding, no im2col)."""
    work = one_layer("{conv: 4, kernel: 1, bias: false}", input="[1, 1024, 1024]")
    assert work.fresh == work.new == 4 * 1024 * 1024 * 8 == 32 * MIB


def test_a_conv_output_under_32_mib_reuses_the_heap():
    """3 maps of 1024×1024 are 24 MiB: malloc serves them from memory it keeps."""
    work = one_layer("{conv: 3, kernel: 1, bias: false}", input="[1, 1024, 1024]")
    assert (work.fresh, work.new) == (0, 0)


def test_lenet5_has_no_array_large_enough_to_touch_first():
    """Its largest array is C1's 6×28×28 output, 37,632 bytes."""
    work = fast_work(build(load("lenet5")), 1)
    assert (work.fresh, work.new) == (0, 0)


def test_fc_vs_conv_conv_writes_its_9_6_gb_output_and_padded_input_to_new_memory():
    """d2l 7.1: 100 maps of 3000×4000 out, 8 bytes a value: 9.6 GB; the input padded by 1 is
    3×3002×4002. Its im2col bands stay under 32 MiB: a row of output needs 3·9·4000 =
    108,000 columns, 2^22 // 108,000 = 38 rows a band, 4,104,000 values, 32,832,000 bytes."""
    variant = variants(load("fc-vs-conv"))[1]
    work = fast_work(build(variant), 1)
    output, padded = 100 * 3000 * 4000 * 8, 3 * 3002 * 4002 * 8
    assert output == 9_600_000_000 and 38 * 108_000 * 8 < 32 * MIB
    assert work.fresh == work.new == output + padded


def test_im2col_bands_of_32_mib_or_more_are_each_a_new_mapping():
    """512 maps of 8×1024, 3×3, padding 1: a row of output needs 512·9·1024 columns (36 MiB,
    more than a band's 2^22 values), so each of the 8 rows is a band of its own; the padded
    input 512×10×1026 is another. At most the padded copy and one band are alive at once
    (the output, 1×8×1024, is small)."""
    work = one_layer("{conv: 1, kernel: 3, padding: 1, bias: false}", input="[512, 8, 1024]")
    band, padded = 512 * 9 * 1024 * 8, 512 * 10 * 1026 * 8
    assert work.fresh == padded + 8 * band
    assert work.new == padded + band


def test_a_silu_maps_four_arrays_but_holds_two_at_once():
    """ops_fast's x / (1 + exp(-x)): -x, exp, 1 +, the quotient, each 8×1024×1024 (64 MiB);
    each temporary is freed once the next is made."""
    work = one_layer("{silu: }", input="[8, 1024, 1024]")
    assert work.fresh == 4 * 64 * MIB
    assert work.new == 2 * 64 * MIB


def test_a_residual_shortcut_stays_alive_across_its_branch():
    """A 1×1 conv to 8 maps of 1024×1024 (64 MiB), then add(itself, relu(itself)): while
    the add writes its output, the conv's and the relu's outputs are both alive."""
    graph = build(
        loads(
            "name: res\ninput: [1, 1024, 1024]\nlayers:\n"
            "  - {conv: 8, kernel: 1, bias: false}\n"
            "  - add: [[], [{relu: }]]\n"
        )
    )
    work = fast_work(graph, 1)
    assert work.fresh == 3 * 64 * MIB
    assert work.new == new_bytes(graph, 1) == 3 * 64 * MIB


def test_a_chain_frees_each_large_output_after_its_reader():
    """Three ReLUs on 64 MiB: at most one input and one output alive at once."""
    graph = build(
        loads(
            "name: chain\ninput: [8, 1024, 1024]\nlayers:\n  - repeat: 3\n    layers: [{relu: }]\n"
        )
    )
    assert new_bytes(graph, 1) == 2 * 64 * MIB
    assert fast_work(graph, 1).fresh == 3 * 64 * MIB


def test_fast_estimate_is_each_term_at_its_cost():
    graph = build(loads(SHUFFLE))
    work = fast_work(graph, 1)
    prices = {t: (i + 1) * 1e-9 for i, t in enumerate(TERMS)}
    est = estimate(graph, {}, 1, "fast", fast=FastCost(**prices))
    assert est.seconds == pytest.approx(sum(getattr(work, t) * prices[t] for t in TERMS))
    assert f"{work.connections:,} connections" in est.basis
    assert f"{work.mults:,} multiplications" in est.basis
    assert "erfs" not in est.basis  # a term with no work is not mentioned


@pytest.mark.requires("numpy")
def test_fast_costs_are_measured_and_positive():
    from cnncalc.proof.executor import run as runner
    from cnncalc.proof.verify import fast_cost

    cost = fast_cost(runner, tables=True, repeats=1, fresh_sample=32 * 2**20)
    for term in TERMS:
        assert (
            0 < getattr(cost, term) < (0.01 if term in ("convs", "calls", "connections") else 1e-5)
        ), term


@pytest.mark.requires("numpy")
def test_first_touch_is_measured_on_a_new_mapping_and_on_new_memory():
    from cnncalc.proof.executor.run import fresh_cost

    mapped, new = fresh_cost(32 * 2**20)
    assert 0 < mapped < 1e-6 and 0 < new < 1e-6  # seconds a byte: a 4-KiB page under 4 ms


@pytest.mark.requires("numpy")
def test_table_cost_is_measured_and_positive():
    from cnncalc.proof.executor.run import table_cost

    assert 0 < table_cost(repeats=1) < 0.01


@pytest.mark.requires("numpy")
def test_a_run_with_large_arrays_samples_as_much_new_memory_as_it_takes(monkeypatch):
    """A 1×1 conv to 4 maps of 1024×1024 takes 32 MiB of new memory: the first touch is
    priced on a sample of that size, before the run."""
    from cnncalc.proof.executor import run as runner
    from cnncalc.proof.verify import verify_network

    sampled = []
    monkeypatch.setattr(runner, "fresh_cost", lambda size: sampled.append(size) or (1e-12, 1e-12))
    spec = loads(
        "name: big\ninput: [1, 1024, 1024]\nlayers:\n  - {conv: 4, kernel: 1, bias: false}\n"
    )
    assert verify_network(spec, max_seconds=600).ok
    assert sampled == [32 * MIB]


@pytest.mark.requires("numpy")
def test_a_run_refused_for_its_memory_fills_no_sample(monkeypatch):
    """VGG-16 at batch 100,000 needs far more than half the memory: it is refused without
    first filling a gigabyte to price a run that will not happen."""
    from cnncalc.errors import CnnCalcError
    from cnncalc.proof.executor import run as runner
    from cnncalc.proof.verify import verify_network

    def no_sample(size):
        raise AssertionError(f"sampled {size} bytes")

    monkeypatch.setattr(runner, "fresh_cost", no_sample)
    with pytest.raises(CnnCalcError, match="half this machine's memory"):
        verify_network(load("vgg16"), batch=100_000, max_seconds=1e12)

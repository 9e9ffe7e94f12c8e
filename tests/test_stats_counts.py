"""A site's counts in one pass (issue 11): a kind's operations, state and connections from
one call, a convention's figures read off the raw counts by place (the basis made only for
the other quantities), the memory pass reading the analysis' state. Each number below is
derived in its docstring, or is what the separate, slower path gives."""

from __future__ import annotations

import pytest

from cnncalc.analysis.memory import training_memory
from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.analysis.stats import analyse_graph, distinct_sites, layer_basis, site_states
from cnncalc.conventions.engine import FIGURES, Figures
from cnncalc.conventions.presets import CONVENTIONS
from cnncalc.kinds.base import param_buffer_sizes, state_size
from cnncalc.kinds.conv import Conv
from cnncalc.kinds.ops import Ops
from cnncalc.kinds.pointwise import BatchNorm, Gelu

ZOO_SAMPLE = ["lenet5", "resnet18", "googlenet", "mobilenet-v2", "unet-2015", "densenet121"]


def test_lenet5_c3_counts_give_1516_params_and_151600_connections():
    """LeCun et al. 1998: C3 takes 60 of the 6·16 input maps through 5×5 kernels, plus 16
    biases: 60·25 + 16 = 1,516 parameters; on 10×10 outputs 1,516·100 = 151,600
    connections; MACs 60·25·100 = 150,000."""
    c3 = Conv(out_channels=16, kernel=5, table="lenet5")
    ops, state, connections = c3.counts(((6, 14, 14),), (16, 10, 10))
    assert param_buffer_sizes(state) == (1_516, 0)
    assert connections == 151_600
    assert ops.macs == 150_000


def test_conv_3_to_16_on_32x32_counts_as_its_three_separate_rules():
    """A 3×3 conv 3→16, padding 1, on 3×32×32: fan-in 3·9 = 27, 16·1,024 outputs:
    MACs 27·16,384 = 442,368; adds 26·16,384 = 425,984; bias adds 16,384; params
    16·27 + 16 = 448; connections (27 + 1)·16,384 = 458,752."""
    conv, x, y = Conv(out_channels=16, kernel=3, padding=1), (3, 32, 32), (16, 32, 32)
    ops, state, connections = conv.counts((x,), y)
    assert ops == Ops(mults=442_368, adds=425_984, bias_adds=16_384, macs=442_368)
    assert param_buffer_sizes(state) == (448, 0)
    assert connections == 458_752
    assert (ops, state, connections) == (conv.ops(x, y), conv.state(x), conv.connections(x, y))


def test_batchnorm_of_64_channels_has_128_params_and_128_buffers():
    """γ and β per channel: 2·64 = 128 trainable; running mean and variance: 128 buffers;
    num_batches_tracked is a counter, in neither."""
    assert param_buffer_sizes(BatchNorm().state((64, 8, 8))) == (128, 128)


@pytest.mark.parametrize("net", ZOO_SAMPLE)
def test_every_sites_counts_are_its_kinds_three_rules(net):
    """:meth:`Kind.counts` gives what ``ops``/``merge_ops``, ``state`` and ``connections``
    give separately, and the sizes of its state are :func:`state_size` of each role."""
    for node in distinct_sites(build(load(net))).first:
        layer, x, y = node.layer, node.in_shape, node.out_shape
        ops, state, connections = layer.counts(node.in_shapes, y)
        merge = getattr(layer, "merge_ops", None)
        assert ops == (merge(list(node.in_shapes)) if merge else layer.ops(x, y)), node.name
        assert state == layer.state(x) and connections == layer.connections(x, y), node.name
        sizes = (state_size(state, "param"), state_size(state, "buffer"))
        assert param_buffer_sizes(state) == sizes, node.name


@pytest.mark.parametrize("deconv", [None, "output"])
@pytest.mark.parametrize("net", ZOO_SAMPLE)
def test_each_layers_figures_are_its_conventions_sums_term_by_term(net, deconv):
    """Every convention, batch 3: a layer's figures in the analysis (raw counts read by
    place, other quantities through the basis) are what its :class:`Sum` rows give on a
    basis of its own, term by term, as ``--explain`` writes them."""
    graph = build(load(net))
    for conv in CONVENTIONS.values():
        analysis = analyse_graph(graph, 3, conv, deconv)
        for node, layer in zip(graph.nodes, analysis.layers):
            counted = layer_basis(node, 3, deconv).counting(conv.deconv)
            rows = conv.rows(counted.site)
            by_sums = Figures(
                *(rows[f].of(counted) for f in FIGURES),
                space=rows["space"].of(counted) if "space" in rows else None,
            )
            assert layer.figures == by_sums, (conv.name, node.name)


def test_nndl_space_of_lenet5_is_weights_plus_output_maps_through_the_basis():
    """NNDL's space (weights + output maps) is a quantity other than a raw count: its
    total is Σ weights + Σ output maps of the weighted layers, read through the network
    basis made on demand."""
    analysis = analyze(load("lenet5"), convention="nndl")
    basis = analysis.total.basis
    assert analysis.total.figures.space == basis.weights + basis.maps
    weighted = [l for l in analysis.layers if l.weighted]
    assert basis.maps == sum(l.activations for l in weighted)


def test_ops_add_count_by_count_and_scale_by_a_batch():
    """(2 mults, 3 MACs) + (1 add, 1 MAC) = (2 mults, 1 add, 4 MACs), not a 16-tuple;
    times 5 is (10, 5, 20)."""
    total = Ops(mults=2, macs=3) + Ops(adds=1, macs=1)
    assert total == Ops(mults=2, adds=1, macs=4) and len(total) == 8
    assert total.times(5) == Ops(mults=10, adds=5, macs=20)
    assert sum([Ops(compares=1)] * 3, Ops()) == Ops(compares=3)


def test_figures_add_figure_by_figure_and_keep_no_space_when_neither_has_one():
    a, b = Figures(1, 2, 3, 4), Figures(10, 20, 30, 40)
    assert a + b == Figures(11, 22, 33, 44, None)
    assert a + Figures(0, 0, 0, 0, 7) == Figures(1, 2, 3, 4, 7)
    assert a.times(3) == Figures(3, 6, 9, 12)


def test_gelu_per_element_counts_follow_its_own_option():
    """Kept per layer, from its options only: exact GELU 3 mults, 1 add, 1 exp per element;
    tanh 6 mults, 4 adds, 1 division, 2 exps (Hendrycks and Gimpel 2016), on 2·4·4 = 32."""
    x = (2, 4, 4)
    assert Gelu().ops(x, x) == Ops(mults=96, adds=32, exps=32)
    assert Gelu(approximate="tanh").ops(x, x) == Ops(mults=192, adds=128, divs=32, exps=64)


NET = """name: two-sizes
input: [3, 32, 32]
layers:
  - {conv: 8, kernel: 3, padding: 1}
  - {batchnorm: }
  - {relu: }
  - {pool: max, kernel: 2}
  - {flatten: }
  - {fc: 10}
"""


def test_an_analysis_at_another_size_keeps_nothing_of_the_last():
    """32×32, then 64×64, then 32×32 again: the third equals the first. The fc after the
    flatten sees 8·16·16 = 2,048 inputs at 32 (20,490 params) and 8·32·32 = 8,192 at 64
    (81,930)."""
    spec = loads(NET)
    first = analyze(spec)
    other = analyze(spec, input=(3, 64, 64))
    again = analyze(spec)
    assert first.layers[-1].params == 2_048 * 10 + 10 == 20_490
    assert other.layers[-1].params == 8_192 * 10 + 10 == 81_930
    fields = ("params", "buffers", "connections", "ops", "figures", "activations", "depth")
    assert [getattr(again.total, f) for f in fields] == [getattr(first.total, f) for f in fields]
    assert again.total.basis.weights == first.total.basis.weights
    assert [l.figures for l in again.layers] == [l.figures for l in first.layers]


@pytest.mark.parametrize("net", ["resnet18", "densenet121", "lenet5"])
def test_memory_from_the_analysis_state_is_the_memory_worked_out_alone(net):
    """The sweep hands the memory pass the state its analysis worked out; Adam's bytes, layer
    by layer, are those of the memory pass on its own."""
    graph = build(load(net))
    sites = distinct_sites(graph)
    analysis = analyse_graph(graph, 2, sites=sites)
    shared = training_memory(graph, 2, "fp16", "adam", sites, site_states(analysis))
    alone = training_memory(graph, 2, "fp16", "adam")
    assert shared == alone

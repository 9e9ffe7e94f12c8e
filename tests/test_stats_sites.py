"""A network's statistics worked out once per distinct site (a layer with equal options on
the same shapes), and a convention's figures read off its per-kind weight matrix: the
totals are each layer's count times how many layers share it, and the matrix gives what
each figure's sum, term by term, gives."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pydantic import BaseModel

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.analysis.stats import distinct_sites, layer_basis
from cnncalc.conventions.engine import FIGURES, Figures
from cnncalc.conventions.presets import CONVENTIONS
from cnncalc.kinds.conv import Conv
from cnncalc.kinds.pointwise import Relu, Relu6

REPEATED = """name: three-alike
input: [8, 16, 16]
layers:
  - repeat: 3
    layers:
      - {conv: 8, kernel: 3, padding: 1}
      - {relu: }
  - {conv: 4, kernel: 1}
"""


def test_three_alike_conv_blocks_are_one_site_each_kind():
    """conv 8→8 3×3 and relu on 8×16×16, three times, then a 1×1 conv: 3 distinct sites
    among 7 layers, the repeated two each 3 times."""
    first, index, times = distinct_sites(build(loads(REPEATED)))
    assert len(first) == 3 and len(index) == 7
    assert sorted(times) == [1, 3, 3]


def test_three_alike_totals_are_three_times_a_blocks_counts():
    """params: 3·(3²·8·8 + 8) + (8·4 + 4) = 3·584 + 36 = 1,788; MACs: 3·(16²·3²·8·8)
    + 16²·8·4 = 3·147,456 + 8,192 = 450,560; ReLU compares: 3·8·16² = 6,144."""
    total = analyze(loads(REPEATED)).total
    assert total.params == 3 * (3**2 * 8 * 8 + 8) + (8 * 4 + 4) == 1_788
    assert total.macs == 3 * (16**2 * 3**2 * 8 * 8) + 16**2 * 8 * 4 == 450_560
    assert total.ops.compares == 3 * 8 * 16**2 == 6_144
    assert total.activations == 6 * 8 * 16**2 + 4 * 16**2


def test_three_alike_totals_scale_with_the_batch():
    """Batch 5: every per-sample count five times batch 1's (parameters stay)."""
    one, five = analyze(loads(REPEATED)).total, analyze(loads(REPEATED), batch=5).total
    assert five.params == one.params
    assert five.macs == 5 * (3 * (16**2 * 3**2 * 8 * 8) + 16**2 * 8 * 4)
    assert five.ops.compares == 5 * 3 * 8 * 16**2


def test_resnet50_has_torchvisions_25557032_params_from_55_sites():
    """torchvision's ResNet-50: 25,557,032 parameters (its model card), though its 175
    layers are only 55 distinct sites."""
    graph = build(load("resnet50"))
    first, index, _ = distinct_sites(graph)
    assert len(index) == len(graph.nodes)
    assert len(first) < len(graph.nodes)
    assert analyze(load("resnet50")).total.params == 25_557_032


@pytest.mark.parametrize("deconv", [None, "input", "output"])
@pytest.mark.parametrize("net", ["lenet5", "resnet18", "googlenet", "mobilenet-v2", "unet-2015"])
def test_weight_matrix_gives_each_figures_sum_term_by_term(net, deconv):
    """For every convention and every distinct site: the one-pass matrix gives each figure
    as its :class:`Sum` row gives it, term by term (``Sum.of`` on the basis)."""
    first, _, _ = distinct_sites(build(load(net)))
    for conv in CONVENTIONS.values():
        for node in first:
            basis = layer_basis(node, 2, deconv)
            counted = basis.counting(conv.deconv)
            rows = conv.rows(basis.site)
            by_sums = Figures(
                *(rows[f].of(counted) for f in FIGURES),
                space=rows["space"].of(counted) if "space" in rows else None,
            )
            assert conv.figures(basis) == by_sums, (conv.name, node.name)


def test_layers_with_equal_options_are_equal_as_pydantic_says():
    """Two conv layers with the same options are equal and hash alike; another option, or
    another kind with the same (no) options, is not equal: pydantic's own comparison."""
    a, b = Conv(out_channels=8, kernel=3), Conv(out_channels=8, kernel=3)
    c = Conv(out_channels=8, kernel=5)
    assert a is not b and a == b and hash(a) == hash(b)
    assert a != c and Relu() != Relu6() and Relu() == Relu()
    for x, y in ((a, b), (a, c), (Relu(), Relu6()), (Relu(), Relu())):
        assert (x == y) == BaseModel.__eq__(x, y)
    assert a != "conv"


def test_three_alike_json_records_share_counts_but_keep_each_layers_field(cli, tmp_path):
    """The three convs alike have one site but their own receptive fields: 3×3 stride 1
    grows it by 2 a conv, 3, 5, 7 (the ReLU after each keeps it), then the 1×1 keeps 7."""
    net = tmp_path / "three.yaml"
    net.write_text(REPEATED, encoding="utf-8")
    doc = json.loads(cli("flops", str(net), "--format", "json").stdout)
    assert [r["rf"] for r in doc["layers"]] == [[n, n] for n in (3, 3, 5, 5, 7, 7, 7)]
    assert [r["macs"] for r in doc["layers"]] == [16**2 * 9 * 64, 0] * 3 + [16**2 * 8 * 4]
    assert len({r["name"] for r in doc["layers"]}) == 7


def test_three_alike_csv_rows_share_counts_but_keep_each_layers_field(cli, tmp_path):
    net = tmp_path / "three.yaml"
    net.write_text(REPEATED, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(cli("flops", str(net), "--format", "csv").stdout)))
    layers, total = rows[:-1], rows[-1]
    assert [r["rf"] for r in layers] == [f"{n}x{n}" for n in (3, 3, 5, 5, 7, 7, 7)]
    assert [int(r["params"]) for r in layers] == [3**2 * 8 * 8 + 8, 0] * 3 + [8 * 4 + 4]
    assert [r["depth"] for r in layers] == ["1", "1", "2", "2", "3", "3", "4"]
    assert total["name"] == "total" and int(total["params"]) == 1_788

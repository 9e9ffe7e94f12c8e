"""The conventions: each figure is the rule its README row states, checked against the
source's own numbers (NNDL 5-4, LeNet-5's connections) and against each other."""

from __future__ import annotations

import functools
import json

import pytest

from cnncalc.analysis.pipeline import analyze, analyze_each, build, load, loads
from cnncalc.conventions.engine import Basis
from cnncalc.conventions.presets import CONVENTIONS, get_convention
from cnncalc.conventions.site import Site
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.ops import Ops


@functools.lru_cache(maxsize=None)
def study(name: str, convention: str):
    return {a.network: a for a in analyze_each(load(name), convention=convention)}


# --------------------------------------------------------------------------- nndl


def test_nndl_5_4_plain_time_and_space():
    """NNDL exercise 5-4: M²·K²·C_in·C_out = 100²·3²·256·256 = 5,898,240,000;
    space = weights 3²·256·256 + output maps 256·100² = 3,149,824."""
    total = study("bottleneck", "nndl")["plain"].total
    assert total.flops == 100**2 * 3**2 * 256 * 256 == 5_898_240_000
    assert total.figures.space == 3**2 * 256 * 256 + 256 * 100**2 == 3_149_824


def test_nndl_5_4_bottleneck_time_and_space():
    """With the 1×1/64 first: 100²·(1²·256·64 + 3²·64·256) = 1,638,400,000; space =
    weights 256·64 + 3²·64·256, plus both layers' output maps 64·100² + 256·100² = 3,363,840."""
    total = study("bottleneck", "nndl")["bottleneck"].total
    assert total.flops == 100**2 * (256 * 64 + 3**2 * 64 * 256) == 1_638_400_000
    assert total.figures.space == (256 * 64 + 9 * 64 * 256) + (64 + 256) * 100**2 == 3_363_840


def test_nndl_leaves_the_bias_out_of_the_weights():
    """A biased 3×3/8 conv on 4×6×6: weights 8·4·9, not 8·(4·9 + 1); maps 8·4·4."""
    from cnncalc.analysis.pipeline import loads

    net = loads("input: [4, 6, 6]\nlayers:\n  - {conv: 8, kernel: 3}\n  - {relu: }\n")
    total = analyze(net, convention="nndl").total
    assert total.figures.space == 8 * 4 * 9 + 8 * 4 * 4  # the ReLU's output is not a new map
    assert total.params == 8 * (4 * 9 + 1)


def test_nndl_space_counts_weights_once_and_maps_per_sample():
    one, four = (
        study("bottleneck", "nndl")["plain"],
        analyze_each(load("bottleneck"), batch=4, convention="nndl")[0],
    )
    assert four.total.figures.space == 3**2 * 256 * 256 + 4 * 256 * 100**2
    assert four.total.flops == 4 * one.total.flops


# --------------------------------------------------------------------------- lenet


def test_lenet_convention_counts_the_papers_connections():
    """LeCun et al. 1998: C1 122,304 connections ... 340,908 in all (section II.B)."""
    res = analyze(load("lenet5"), convention="lenet")
    c1 = res.layers[0]
    assert c1.macs == c1.mults == c1.adds == 6 * 28 * 28 * (5 * 5 + 1) == 122_304
    assert c1.flops == 2 * 122_304
    assert res.total.macs == 122_304 + 5_880 + 151_600 + 2_000 + 48_120 + 10_164 + 840


def test_lenet_convention_scales_connections_with_the_batch():
    assert analyze(load("lenet5"), batch=3, convention="lenet").total.macs == 3 * 340_908


# --------------------------------------------------------------------------- all of them


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
@pytest.mark.parametrize("net", ["lenet5", "resnet18", "googlenet", "mobilenet-v2"])
def test_every_convention_adds_up_over_the_layers(name, net):
    """A convention is a sum of counts, so the network's figure is the sum of its layers'."""
    res = analyze(load(net), convention=name)
    for figure in ("mults", "adds", "macs", "flops"):
        assert sum(getattr(r, figure) for r in res.layers) == getattr(res.total, figure)
    if res.convention.space:
        assert sum(r.figures.space for r in res.layers) == res.total.figures.space


def test_macs_and_exact_are_unchanged_by_the_basis():
    """The two original conventions read only the raw operations, though a conv's basis
    also holds weights, output maps and connections."""
    ops = Ops(mults=10, adds=9, bias_adds=1, compares=5, divs=2, exps=3, eltwise_adds=4, macs=10)
    conv = loads("input: [4, 6, 6]\nlayers:\n  - {conv: 8, kernel: 3}\n")
    node = build(conv).nodes[0]
    basis = Basis(Site(node.layer, node.in_shape, node.out_shape, ops))
    assert basis.value("weights") and basis.value("maps") and basis.value("connections")
    macs, exact = get_convention("macs"), get_convention("exact")
    assert (macs.figures(basis).mults, macs.figures(basis).flops) == (10, 20)
    assert exact.figures(basis).adds == 9 + 1 + 4
    assert exact.figures(basis).flops == 10 + 9 + 1 + 4


def test_unknown_convention_names_the_choices():
    with pytest.raises(CnnCalcError, match="choose one of macs, exact, nndl, lenet, torch"):
        get_convention("flopz")


def test_cli_prints_nndl_time_and_space_columns(cli):
    out = cli("flops", "bottleneck", "--convention", "nndl").stdout
    assert "Convention: nndl" in out
    assert "time" in out.lower() and "space" in out.lower()
    assert "3,149,824" in out and "3,363,840" in out


def test_json_carries_the_nndl_space(cli):
    data = json.loads(cli("flops", "bottleneck", "--convention", "nndl", "--format", "json").stdout)
    spaces = {v["network"]: v["total"]["space"] for v in data["variants"]}
    assert spaces == {"plain": 3_149_824, "bottleneck": 3_363_840}
    assert "space" not in json.loads(cli("flops", "lenet5", "--format", "json").stdout)["total"]

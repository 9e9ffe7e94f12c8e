"""The comparison studies of ``flops --compare``, each against its source's own arithmetic.

Every expected number is the textbook's formula written out with the study's sizes (or
the figure the source prints); the ratios are checked as exact fractions.
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction

import pytest

from cnncalc.analysis.compare import compare_files
from cnncalc.errors import CnnCalcError


@functools.lru_cache(maxsize=None)
def study(name: str, convention: str = "macs"):
    return compare_files([name], convention=convention)


def total(name: str, variant: str, field: str):
    return getattr(study(name).entry(variant).analysis.total, field)


def layer(name: str, variant: str, layer_name: str):
    return next(r for r in study(name).entry(variant).analysis.layers if r.name == layer_name)


# --------------------------------------------------------------------------- NNDL 5-4


def test_bottleneck_nndl_5_4():
    """256×100×100: 3×3/256 vs 1×1/64 then 3×3/256 (no bias)."""
    plain = 100 * 100 * 3 * 3 * 256 * 256
    reduced = 100 * 100 * (1 * 1 * 256 * 64 + 3 * 3 * 64 * 256)
    assert total("bottleneck", "plain", "macs") == plain == 5_898_240_000
    assert total("bottleneck", "bottleneck", "macs") == reduced == 1_638_400_000
    assert study("bottleneck").ratio("bottleneck").values["macs"] == Fraction(plain, reduced)


# --------------------------------------------------------------------------- inception 1x1


def test_inception_1x1_multiplications():
    """deeplearning.ai: 28·28·32·5·5·192 = 120,422,400 vs 28·28·16·192 + 28·28·32·5·5·16."""
    assert total("inception-1x1", "plain", "mults") == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    assert layer("inception-1x1", "bottleneck", "conv1x1").mults == 28 * 28 * 16 * 192 == 2_408_448
    assert (
        layer("inception-1x1", "bottleneck", "conv5x5").mults
        == 28 * 28 * 32 * 25 * 16
        == 10_035_200
    )
    assert total("inception-1x1", "bottleneck", "mults") == 2_408_448 + 10_035_200 == 12_443_648


def test_inception_1x1_keeps_the_size():
    """'same' padding: both variants give 28×28×32."""
    for variant in ("plain", "bottleneck"):
        assert study("inception-1x1").entry(variant).analysis.output == (32, 28, 28)


# --------------------------------------------------------------------------- inception module


def test_inception_naive_module():
    """1×1/128, 3×3/192, 5×5/96 and a max pool on 256×28×28: 128+192+96+256 = 672 channels;
    28²·256·(128 + 9·192 + 25·96) = 854,196,224 multiplications (the slides' 854M)."""
    a = study("inception-naive").entry("naive").analysis
    assert a.output == (128 + 192 + 96 + 256, 28, 28)
    assert a.total.macs == 28 * 28 * 256 * (128 + 9 * 192 + 25 * 96) == 854_196_224


def test_inception_module_with_reductions():
    """1×1/64 before the 3×3 and 5×5 and after the pool: 480 channels and
    28²·(256·128 + 256·64 + 64·9·192 + 256·64 + 64·25·96 + 256·64) multiplications."""
    a = study("inception-naive").entry("reduced").analysis
    assert a.output == (128 + 192 + 96 + 64, 28, 28)
    expected = 28 * 28 * (256 * 128 + 256 * 64 + 64 * 9 * 192 + 256 * 64 + 64 * 25 * 96 + 256 * 64)
    assert a.total.macs == expected == 271_351_808


# --------------------------------------------------------------------------- resnet


def test_resnet_bottleneck_weights():
    """He et al. 2016: 2·(3·3·256·256) = 1,179,648 vs 256·64 + 3·3·64·64 + 64·256 = 69,632."""
    basic, bottleneck = 2 * 3 * 3 * 256 * 256, 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256
    assert total("resnet-bottleneck", "basic", "params") == basic == 1_179_648
    assert total("resnet-bottleneck", "bottleneck", "params") == bottleneck == 69_632
    ratio = study("resnet-bottleneck").ratio("bottleneck").values["params"]
    assert ratio == Fraction(basic, bottleneck) and f"{float(ratio):.2f}" == "16.94"


def test_resnet_blocks_are_residual():
    for variant, depth in (("basic", 2), ("bottleneck", 3)):
        a = study("resnet-bottleneck").entry(variant).analysis
        assert a.output == (256, 56, 56) and a.depth == depth
        assert any(r.kind == "add" for r in a.layers)


# --------------------------------------------------------------------------- VGG


C = 256


def test_vgg_stack_weights():
    """Simonyan & Zisserman 2015, 2.3: 25C² vs 2·9C² = 18C², 49C² vs 3·9C² = 27C²."""
    assert total("vgg-stack", "5x5", "params") == 25 * C * C
    assert total("vgg-stack", "2x3x3", "params") == 18 * C * C
    assert total("vgg-stack", "7x7", "params") == 49 * C * C
    assert total("vgg-stack", "3x3x3", "params") == 27 * C * C
    assert study("vgg-stack").ratio("2x3x3").values["params"] == Fraction(25, 18)
    assert study("vgg-stack").ratio("3x3x3").values["params"] == Fraction(49, 27)
    # 7x7 names no vs:, so it is measured against the study's first (issue 10 §7)
    assert {r.name: r.vs for r in study("vgg-stack").ratios} == {
        "2x3x3": "5x5",
        "7x7": "5x5",
        "3x3x3": "7x7",
    }
    assert study("vgg-stack").ratio("7x7").values["params"] == Fraction(25, 49)


def test_vgg_stack_receptive_fields_are_equal():
    """Two 3×3 see 3 + (3 − 1) = 5; three see 7."""
    rf = {
        v: study("vgg-stack").entry(v).analysis.layers[-1].rf
        for v in ("5x5", "2x3x3", "7x7", "3x3x3")
    }
    assert rf["5x5"] == rf["2x3x3"] == (5, 5)
    assert rf["7x7"] == rf["3x3x3"] == (7, 7)


# --------------------------------------------------------------------------- fc vs conv


def test_fc_on_a_12_megapixel_image():
    """d2l 7.1: 3·(3000·4000) = 36 million inputs into 100 units: 3.6 billion weights."""
    inputs = 3 * 3000 * 4000
    assert inputs == 36_000_000
    assert total("fc-vs-conv", "fc", "params") == inputs * 100 + 100 == 3_600_000_100
    assert total("fc-vs-conv", "fc", "macs") == 3_600_000_000


def test_conv_on_the_same_image():
    """100 filters of 3×3×3 (+ bias): 100·28 = 2,800 parameters, 3000·4000·100·27 MACs."""
    assert total("fc-vs-conv", "conv", "params") == 100 * (3 * 3 * 3 + 1) == 2_800
    assert total("fc-vs-conv", "conv", "macs") == 3000 * 4000 * 100 * 27
    assert study("fc-vs-conv").ratio("conv").values["params"] == Fraction(3_600_000_100, 2_800)


# --------------------------------------------------------------------------- fc as conv


VGG16_PARAMS = 138_357_544
"""torchvision's VGG-16 (the paper's "138M"); its classifier 25088·4096 + 4096 + 4096·4096 +
4096 + 4096·1000 + 1000 = 123,642,856 of them."""


def test_fc_as_conv_has_identical_params():
    classifier = 25_088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    for variant in ("fc", "conv", "conv-384"):
        assert total("fc-as-conv", variant, "params") == VGG16_PARAMS
    fc6 = layer("fc-as-conv", "conv", "classifier.fc6")
    assert fc6.params == 4096 * (512 * 7 * 7) + 4096
    assert classifier == 123_642_856


def test_fc_as_conv_has_identical_macs_at_224():
    """torchvision's VGG-16: 15.47 GFLOPS (15,470,264,320 MACs), both ways."""
    assert (
        total("fc-as-conv", "fc", "macs") == total("fc-as-conv", "conv", "macs") == 15_470_264_320
    )


def test_fc_as_conv_at_384_gives_a_6x6_map():
    """384/32 = 12; the 7×7 conv gives 12 − 7 + 1 = 6; so 1000×6×6."""
    a = study("fc-as-conv").entry("conv-384").analysis
    assert a.output == (1000, 384 // 32 - 7 + 1, 384 // 32 - 7 + 1) == (1000, 6, 6)
    assert study("fc-as-conv").ratio("conv-384").vs == "conv"


# --------------------------------------------------------------------------- MobileNet


def test_depthwise_separable_cost():
    """Howard et al. 2017, eqs. 2 and 4: D_K²·M·N·D_F² vs D_K²·M·D_F² + M·N·D_F²,
    and the ratio is 1/N + 1/D_K² (eq. 5); D_K = 3, M = N = 512, D_F = 14."""
    dk, m, n, df = 3, 512, 512, 14
    standard, separable = dk * dk * m * n * df * df, dk * dk * m * df * df + m * n * df * df
    assert total("depthwise-separable", "standard", "macs") == standard
    assert total("depthwise-separable", "separable", "macs") == separable
    ratio = study("depthwise-separable").ratio("separable").values["macs"]
    assert 1 / ratio == Fraction(1, n) + Fraction(1, dk * dk)
    assert total("depthwise-separable", "separable", "params") == dk * dk * m + m * n


# --------------------------------------------------------------------------- the command


def test_compare_prints_the_variants_side_by_side(cli):
    out = cli("flops", "--compare", "inception-1x1").stdout
    assert "120,422,400" in out and "12,443,648" in out
    assert "plain ÷ bottleneck" in out and f"{120_422_400 / 12_443_648:.2f}×" in out
    for row in ("Params", "MACs", "Mults", "Adds", "FLOPs"):
        assert row in out


def test_compare_json_has_exact_ratios(cli):
    data = json.loads(cli("flops", "--compare", "resnet-bottleneck", "--format", "json").stdout)
    assert [e["name"] for e in data["entries"]] == ["basic", "bottleneck"]
    ratio = data["ratios"][0]
    assert (ratio["name"], ratio["vs"]) == ("bottleneck", "basic")
    assert Fraction(ratio["params"]) == Fraction(1_179_648, 69_632)


def test_compare_a_users_study_file(cli, yaml_file):
    path = yaml_file("""
        input: [16, 8, 8]
        variants:
          wide: [{conv: 32, kernel: 3, padding: 1, bias: false}]
          narrow: [{conv: 8, kernel: 3, padding: 1, bias: false}]
        """)
    data = json.loads(cli("flops", "--compare", path, "--format", "json").stdout)
    assert data["ratios"][0]["macs"] == 4  # 32·16·9·64 ÷ 8·16·9·64


def test_compare_two_network_files(cli, yaml_file):
    a = yaml_file("name: A\ninput: [3, 8, 8]\nlayers:\n  - {conv: 8, kernel: 3}\n", "a.yaml")
    b = yaml_file("name: B\ninput: [3, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3}\n", "b.yaml")
    result = cli("flops", a, "--compare", b, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = {line.split(",")[0]: line.split(",")[1:] for line in result.stdout.splitlines()}
    assert rows["metric"] == ["A", "B", "A / B"]
    assert rows["macs"] == [str(8 * 6 * 6 * 27), str(4 * 6 * 6 * 27), "2"]


def test_compare_under_nndl_adds_space(cli):
    out = cli("flops", "--compare", "bottleneck", "--convention", "nndl").stdout
    assert "Space" in out and "3,149,824" in out and "3,363,840" in out
    assert "Time" in out


def test_compare_with_explain_prints_each_working(cli):
    out = cli("flops", "--compare", "inception-1x1", "--explain", "--format", "markdown").stdout
    assert "| Params |" in out
    assert out.count("working for the operations") == 2
    assert (
        r"$\text{MACs} = c_o\cdot H_o\cdot W_o\cdot c_i\cdot k_h\cdot k_w = 32\cdot 28\cdot 28\cdot 192\cdot 5\cdot 5 = 120{,}422{,}400$"
        in out
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (("flops",), "error: give a network, or a study to compare"),
        (("flops", "--compare", "lenet5"), "error: --compare: 'LeNet-5' is one network"),
        (
            ("flops", "--compare", "no-such-study"),
            "error: no-such-study: 'no-such-study' is neither",
        ),
    ],
)
def test_compare_errors(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output


def test_a_vs_that_names_no_variant_is_refused(yaml_file):
    from cnncalc.analysis.pipeline import load

    path = yaml_file("""
        input: [1, 8, 8]
        variants:
          a: [{conv: 1, kernel: 3}]
          b:
            vs: c
            layers: [{conv: 1, kernel: 3}]
        """)
    with pytest.raises(CnnCalcError) as err:
        load(path)
    assert err.value.line == 5 and err.value.field == "variants.b.vs"
    assert "must name another variant" in str(err.value)

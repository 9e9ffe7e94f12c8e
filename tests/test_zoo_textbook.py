"""The textbook and paper networks of the zoo against their sources.

Networks: ``lenet`` (d2l 7.6), ``alexnet-2gpu`` (Krizhevsky et al. 2012),
``nin`` (d2l 8.3), ``mnist-inception`` and ``mnist-resnet`` (the course
networks of issue 2, part 5) and the study ``bottleneck`` (NNDL exercise 5-4).

Every expected number is written out here from its source -- the shapes a
textbook prints, a figure from a paper, or the counting formula with the
layer's own numbers in it:

* conv output size  ⌊(n − k + 2p) / s⌋ + 1                        (d2l 7.3)
* conv parameters   c_out · (c_in / groups) · k_h · k_w + c_out     (bias included)
* conv MACs         h_out · w_out · c_out · (c_in / groups) · k_h · k_w
* fc parameters     n_out · (n_in + 1);   fc MACs  n_out · n_in

None of them is cnncalc's own output pasted back.
"""

from __future__ import annotations

import functools
import json

import pytest
from typer.testing import CliRunner

from cnncalc.analysis.pipeline import analyze, load
from cnncalc.cli.app import app


@functools.lru_cache(maxsize=None)
def result(name: str):
    """analyze() of a built-in network at its declared input, batch 1, convention macs."""
    return analyze(load(name))


def layer(res, name: str):
    for row in res.layers:
        if row.name == name:
            return row
    raise AssertionError(f"no layer {name!r}; have {[r.name for r in res.layers]}")


def conv_params(c_in: int, c_out: int, k: int, groups: int = 1, bias: bool = True) -> int:
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0)


def conv_macs(c_in: int, c_out: int, k: int, h_out: int, w_out: int, groups: int = 1) -> int:
    return h_out * w_out * c_out * (c_in // groups) * k * k


def fc_params(n_in: int, n_out: int) -> int:
    return n_out * (n_in + 1)


def out_size(n: int, k: int, s: int = 1, p: int = 0) -> int:
    """d2l 7.3: ⌊(n − k + 2p + s) / s⌋ with p per side."""
    return (n - k + 2 * p + s) // s


# --------------------------------------------------------------------------- AlexNet, 2 GPUs


ALEXNET_SHAPES = {
    # Krizhevsky et al. 2012, Figure 2 and section 3.5, at 227x227 (the paper's
    # "224" does not give its own 55: (224 − 11)/4 + 1 is not whole).
    "conv1": (96, 55, 55),
    "norm1": (96, 55, 55),
    "pool1": (96, 27, 27),
    "conv2": (256, 27, 27),
    "norm2": (256, 27, 27),
    "pool2": (256, 13, 13),
    "conv3": (384, 13, 13),
    "conv4": (384, 13, 13),
    "conv5": (256, 13, 13),
    "pool5": (256, 6, 6),
    "fc6": (4096,),
    "fc7": (4096,),
    "fc8": (1000,),
}


def test_alexnet_2gpu_spatial_sizes_follow_the_formula():
    """The sizes of Figure 2 from ⌊(n − k + 2p)/s⌋ + 1: 227 → 55 → 27 → 27 → 13 → 13 → 6."""
    assert out_size(227, 11, 4) == 55
    assert out_size(55, 3, 2) == 27
    assert out_size(27, 5, 1, 2) == 27
    assert out_size(27, 3, 2) == 13
    assert out_size(13, 3, 1, 1) == 13
    assert out_size(13, 3, 2) == 6


@pytest.mark.parametrize("name,shape", sorted(ALEXNET_SHAPES.items()))
def test_alexnet_2gpu_shapes(name, shape):
    """Krizhevsky et al. 2012, Figure 2: 96×55×55 → 27 → 256×27×27 → 13 → 13 → 13 → 6."""
    assert layer(result("alexnet-2gpu"), name).out_shape == shape


def test_alexnet_2gpu_flattens_to_9216():
    """Section 3.5: fc6 sees 256·6·6 = 9,216 inputs (the fc6 weight is 4096 × 9216)."""
    res = result("alexnet-2gpu")
    assert layer(res, "flatten").out_shape == (256 * 6 * 6,) == (9216,)
    assert layer(res, "fc6").params == 4096 * 9216 + 4096
    assert dict(layer(res, "fc6").state_dict)["fc6.weight"] == (4096, 9216)


ALEXNET_PARAMS = {
    # weights + biases, by hand; groups 2 = each GPU's kernels see only its own half.
    "conv1": 96 * (3 * 11 * 11) + 96,  # 34,944
    "conv2": 256 * (48 * 5 * 5) + 256,  # 307,456: 48 = 96 / 2 maps per GPU
    "conv3": 384 * (256 * 3 * 3) + 384,  # 885,120: sees both GPUs
    "conv4": 384 * (192 * 3 * 3) + 384,  # 663,936: 192 = 384 / 2
    "conv5": 256 * (192 * 3 * 3) + 256,  # 442,624
    "fc6": 4096 * (256 * 6 * 6) + 4096,  # 37,752,832
    "fc7": 4096 * 4096 + 4096,  # 16,781,312
    "fc8": 1000 * 4096 + 1000,  # 4,097,000
}


@pytest.mark.parametrize("name,params", sorted(ALEXNET_PARAMS.items()))
def test_alexnet_2gpu_layer_params(name, params):
    """Per-layer weights + biases of the two-GPU AlexNet (Krizhevsky et al. 2012, section 3.5)."""
    assert layer(result("alexnet-2gpu"), name).params == params


def test_alexnet_2gpu_grouped_weights_have_half_the_input_maps():
    """Section 3.5: conv2/4/5 kernels connect only to the maps on the same GPU,
    i.e. a 256 × 48 × 5 × 5 conv2 weight (PyTorch layout out × in/groups × k × k)."""
    sd = {k: v for row in result("alexnet-2gpu").layers for k, v in row.state_dict}
    assert sd["conv2.weight"] == (256, 48, 5, 5)
    assert sd["conv3.weight"] == (384, 256, 3, 3)
    assert sd["conv4.weight"] == (384, 192, 3, 3)
    assert sd["conv5.weight"] == (256, 192, 3, 3)


def test_alexnet_2gpu_total_params():
    """The sum of the hand counts: 60,965,224 (the paper: "60 million parameters";
    LRN, pooling, ReLU and dropout have none)."""
    res = result("alexnet-2gpu")
    assert sum(ALEXNET_PARAMS.values()) == 60_965_224
    assert res.total.params == 60_965_224
    assert res.total.buffers == 0


def test_alexnet_2gpu_macs():
    """MACs per layer by the conv formula; rounded, they are the figures of Sze, Chen,
    Yang, Emer, "Efficient processing of deep neural networks", Proc. IEEE 2017, the
    AlexNet column of its table of networks: conv 666M, fc 58.6M, total 724M."""
    res = result("alexnet-2gpu")
    conv = {
        "conv1": conv_macs(3, 96, 11, 55, 55),
        "conv2": conv_macs(96, 256, 5, 27, 27, groups=2),
        "conv3": conv_macs(256, 384, 3, 13, 13),
        "conv4": conv_macs(384, 384, 3, 13, 13, groups=2),
        "conv5": conv_macs(384, 256, 3, 13, 13, groups=2),
    }
    fc = {"fc6": 9216 * 4096, "fc7": 4096 * 4096, "fc8": 4096 * 1000}
    for name, macs in {**conv, **fc}.items():
        assert layer(res, name).macs == macs, name
    assert round(sum(conv.values()) / 1e6) == 666
    assert round(sum(fc.values()) / 1e5) == 586
    assert round(res.total.macs / 1e6) == 724
    assert res.total.macs == sum(conv.values()) + sum(fc.values())


def test_alexnet_2gpu_depth():
    """Five conv layers and three fc layers in one chain: depth 8."""
    assert result("alexnet-2gpu").depth == 8


# --------------------------------------------------------------------------- d2l LeNet


def test_lenet_shapes():
    """d2l 7.6 prints: Conv2d 6×28×28, AvgPool2d 6×14×14, Conv2d 16×10×10,
    AvgPool2d 16×5×5, Flatten 400, Linear 120, 84, 10."""
    res = result("lenet")
    assert layer(res, "conv1").out_shape == (6, 28, 28)
    assert layer(res, "pool1").out_shape == (6, 14, 14)
    assert layer(res, "conv2").out_shape == (16, 10, 10)
    assert layer(res, "pool2").out_shape == (16, 5, 5)
    assert layer(res, "flatten").out_shape == (400,)
    assert layer(res, "fc1").out_shape == (120,)
    assert layer(res, "fc2").out_shape == (84,)
    assert layer(res, "fc3").out_shape == (10,)
    assert [r.kind for r in res.layers].count("sigmoid") == 4


def test_lenet_params():
    """Per layer by the formulas; total 61,706 (d2l's LeNet at 1×28×28)."""
    res = result("lenet")
    expected = {
        "conv1": conv_params(1, 6, 5),  # 156
        "conv2": conv_params(6, 16, 5),  # 2,416
        "fc1": fc_params(16 * 5 * 5, 120),  # 48,120
        "fc2": fc_params(120, 84),  # 10,164
        "fc3": fc_params(84, 10),  # 850
    }
    for name, params in expected.items():
        assert layer(res, name).params == params, name
    assert sum(expected.values()) == 61_706
    assert res.total.params == 61_706


def test_lenet_macs():
    """28·28·6·25 + 10·10·16·6·25 + 400·120 + 120·84 + 84·10 = 416,520."""
    expected = (
        conv_macs(1, 6, 5, 28, 28) + conv_macs(6, 16, 5, 10, 10) + 400 * 120 + 120 * 84 + 84 * 10
    )
    assert expected == 416_520
    assert result("lenet").total.macs == expected


def test_lenet_depth():
    """Two convs and three fc layers: depth 5."""
    assert result("lenet").depth == 5


# --------------------------------------------------------------------------- d2l NiN


NIN_SHAPES = [
    # d2l 8.3 prints, layer by layer (net[0] .. net[9]):
    ("nin1.conv3", (96, 54, 54)),
    ("pool1", (96, 26, 26)),
    ("nin2.conv3", (256, 26, 26)),
    ("pool2", (256, 12, 12)),
    ("nin3.conv3", (384, 12, 12)),
    ("pool3", (384, 5, 5)),
    ("dropout", (384, 5, 5)),
    ("nin4.conv3", (10, 5, 5)),
    ("gap", (10, 1, 1)),
    ("flatten", (10,)),
]


@pytest.mark.parametrize("name,shape", NIN_SHAPES)
def test_nin_shapes(name, shape):
    """d2l 8.3: 96×54×54, 96×26×26, 256×26×26, 256×12×12, 384×12×12, 384×5×5, 10×5×5, 10."""
    assert layer(result("nin"), name).out_shape == shape


def test_nin_first_conv_size():
    """⌊(224 − 11)/4⌋ + 1 = 54: d2l's first NiN block."""
    assert out_size(224, 11, 4, 0) == 54
    assert layer(result("nin"), "nin1.conv1").out_shape == (96, 54, 54)


def test_nin_output_is_ten_classes():
    res = result("nin")
    assert res.layers[-1].out_shape == (10,)


def test_nin_params():
    """nin_block(c, k) on c_in maps: conv c@k plus two 1×1 convs c → c, all with bias."""

    def block(c_in, c, k):
        return conv_params(c_in, c, k) + 2 * conv_params(c, c, 1)

    res = result("nin")
    assert layer(res, "nin1.conv1").params == 96 * 1 * 11 * 11 + 96
    assert layer(res, "nin2.conv2").params == 256 * 256 + 256
    expected = block(1, 96, 11) + block(96, 256, 5) + block(256, 384, 3) + block(384, 10, 3)
    assert expected == 1_992_166
    assert res.total.params == expected


def test_nin_depth():
    """Four blocks of three convs, no fc: depth 12."""
    assert result("nin").depth == 12


# --------------------------------------------------------------------------- MNIST Inception


def inception_a_params(c_in: int) -> int:
    """The four branches of InceptionA(c_in), weights + biases."""
    return (
        conv_params(c_in, 16, 1)  # branch1x1
        + conv_params(c_in, 16, 1)
        + conv_params(16, 24, 5)  # branch5x5
        + conv_params(c_in, 16, 1)
        + conv_params(16, 24, 3)
        + conv_params(24, 24, 3)  # branch3x3 (double)
        + conv_params(c_in, 24, 1)
    )  # branch_pool


def test_mnist_inception_flattens_to_1408():
    """Issue 2, part 5: 16 + 24 + 24 + 24 = 88 channels, 28 → 24 → 12 → 8 → 4: 88·4·4 = 1,408."""
    res = result("mnist-inception")
    assert layer(res, "incep1.concat").out_shape == (16 + 24 + 24 + 24, 12, 12)
    assert layer(res, "conv2").out_shape == (20, 8, 8)
    assert layer(res, "incep2.concat").out_shape == (88, 4, 4)
    assert layer(res, "flatten").out_shape == (88 * 4 * 4,) == (1408,)


def test_mnist_inception_fc_sees_1408_features():
    """nn.Linear(1408, 10): 10·(1408 + 1) = 14,090 parameters."""
    assert layer(result("mnist-inception"), "fc").params == 10 * (1408 + 1) == 14_090


def test_mnist_inception_params():
    """conv1 (1→10, 5×5), InceptionA(10), conv2 (88→20, 5×5), InceptionA(20), fc 1408→10."""
    res = result("mnist-inception")
    assert layer(res, "conv2").params == conv_params(88, 20, 5) == 44_020
    expected = (
        conv_params(1, 10, 5)
        + inception_a_params(10)
        + conv_params(88, 20, 5)
        + inception_a_params(20)
        + fc_params(1408, 10)
    )
    assert expected == 97_298
    assert res.total.params == expected


def test_mnist_inception_depth():
    """conv1, the 1×1 → 3×3 → 3×3 branch, conv2, that branch again, fc: 1 + 3 + 1 + 3 + 1 = 9."""
    assert result("mnist-inception").depth == 9


# --------------------------------------------------------------------------- MNIST ResNet


def test_mnist_resnet_flattens_to_512():
    """Issue 2, part 5: 28 → 24 → 12, then 12 → 8 → 4 with 32 channels: 32·4·4 = 512."""
    res = result("mnist-resnet")
    assert layer(res, "rblock1.add").out_shape == (16, 12, 12)
    assert layer(res, "rblock2.add").out_shape == (32, 4, 4)
    assert layer(res, "flatten").out_shape == (32 * 4 * 4,) == (512,)


def test_mnist_resnet_fc_sees_512_features():
    """nn.Linear(512, 10): 10·(512 + 1) = 5,130 parameters."""
    assert layer(result("mnist-resnet"), "fc").params == 10 * (512 + 1) == 5_130


def test_mnist_resnet_params():
    """conv1 (1→16, 5×5), ResBlock(16) = two 3×3 16→16, conv2 (16→32, 5×5),
    ResBlock(32) = two 3×3 32→32, fc 512→10; the identity shortcut has no weights."""
    res = result("mnist-resnet")
    expected = (
        conv_params(1, 16, 5)
        + 2 * conv_params(16, 16, 3)
        + conv_params(16, 32, 5)
        + 2 * conv_params(32, 32, 3)
        + fc_params(512, 10)
    )
    assert expected == 41_514
    assert res.total.params == expected
    assert layer(res, "rblock1.add").params == 0


def test_mnist_resnet_depth():
    """conv1, two convs of ResBlock(16), conv2, two of ResBlock(32), fc: 7."""
    assert result("mnist-resnet").depth == 7


# --------------------------------------------------------------------------- NNDL 5-4


@functools.lru_cache(maxsize=None)
def variant(name: str, convention: str = "macs"):
    return analyze(load("bottleneck").variants[name], convention=convention)


def test_bottleneck_is_a_study_of_two_variants():
    spec = load("bottleneck")
    assert spec.layers is None
    assert list(spec.variants) == ["plain", "bottleneck"]
    assert spec.input == (256, 100, 100)


def test_bottleneck_plain_macs():
    """NNDL 5-4, time complexity M²·K²·C_in·C_out = 100·100·3·3·256·256 = 5,898,240,000."""
    res = variant("plain")
    assert 100 * 100 * 3 * 3 * 256 * 256 == 5_898_240_000
    assert res.total.macs == 5_898_240_000
    assert res.layers[-1].out_shape == (256, 100, 100)


def test_bottleneck_bottleneck_macs():
    """NNDL 5-4, with the 1×1 reduction to 64 maps first:
    100·100·(1·1·256·64 + 3·3·64·256) = 1,638,400,000."""
    res = variant("bottleneck")
    assert 100 * 100 * (1 * 1 * 256 * 64 + 3 * 3 * 64 * 256) == 1_638_400_000
    assert res.total.macs == 1_638_400_000
    assert res.layers[0].out_shape == (64, 100, 100)
    assert res.layers[-1].out_shape == (256, 100, 100)


def test_bottleneck_params_without_bias():
    """NNDL ignores the bias: 3·3·256·256 = 589,824 against 256·64 + 3·3·64·256 = 163,840
    (the weights part of the exercise's space complexity)."""
    assert variant("plain").total.params == 3 * 3 * 256 * 256 == 589_824
    assert variant("bottleneck").total.params == 256 * 64 + 3 * 3 * 64 * 256 == 163_840


def test_bottleneck_exact_convention():
    """A plain implementation without bias: each of the 256·100·100 outputs takes
    n = 3·3·256 multiplications and n − 1 additions."""
    res = variant("plain", "exact")
    outputs = 256 * 100 * 100
    assert res.total.mults == outputs * 2304 == 5_898_240_000
    assert res.total.adds == outputs * 2303 == 5_895_680_000


def test_bottleneck_depth():
    assert variant("plain").depth == 1
    assert variant("bottleneck").depth == 2


# --------------------------------------------------------------------------- the CLI

runner = CliRunner()


def run(*args: str):
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, (args, res.output, res.exception)
    return res.output


NETWORKS = ["lenet", "alexnet-2gpu", "nin", "mnist-inception", "mnist-resnet"]


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("command", ["shape", "params", "flops", "summary"])
def test_cli_tables_run(command, net):
    assert run(command, net).strip()


@pytest.mark.parametrize(
    "net,params",
    [
        ("lenet", "61,706"),
        ("alexnet-2gpu", "60,965,224"),
        ("nin", "1,992,166"),
        ("mnist-inception", "97,298"),
        ("mnist-resnet", "41,514"),
    ],
)
def test_cli_params_prints_the_total(net, params):
    """The totals derived above (d2l LeNet 61,706; AlexNet by hand; NiN, course nets by formula)."""
    assert params in run("params", net)


def test_cli_shape_alexnet_2gpu():
    out = run("shape", "alexnet-2gpu")
    for shape in ("96×55×55", "96×27×27", "256×27×27", "256×13×13", "384×13×13", "256×6×6", "9216"):
        assert shape in out, shape


def test_cli_shape_lenet():
    out = run("shape", "lenet")
    for shape in ("6×28×28", "6×14×14", "16×10×10", "16×5×5", "400"):
        assert shape in out, shape


def test_cli_flops_json_lenet():
    """JSON contract (DESIGN.md): exact integers; MACs 416,520 = LeNet's by the formula."""
    data = json.loads(run("flops", "lenet", "--format", "json"))
    assert data["input"] == [1, 28, 28]
    assert data["convention"] == "macs"
    assert data["total"]["params"] == 61_706
    assert data["total"]["macs"] == 416_520
    assert data["total"]["flops"] == 2 * 416_520
    assert data["total"]["depth"] == 5
    rows = {r["name"]: r for r in data["layers"]}
    assert rows["conv1"]["out_shape"] == [6, 28, 28]
    assert rows["conv1"]["macs"] == 28 * 28 * 6 * 25


def test_cli_flops_json_alexnet_2gpu():
    data = json.loads(run("flops", "alexnet-2gpu", "--format", "json"))
    rows = {r["name"]: r for r in data["layers"]}
    assert rows["conv2"]["macs"] == 27 * 27 * 256 * 48 * 5 * 5
    assert rows["flatten"]["out_shape"] == [9216]
    assert data["total"]["params"] == 60_965_224
    assert data["total"]["depth"] == 8


def test_cli_params_json_mnist_nets():
    """The fc's in-features through its parameter count: 10·(1408 + 1) and 10·(512 + 1)."""
    inc = json.loads(run("params", "mnist-inception", "--format", "json"))
    res = json.loads(run("params", "mnist-resnet", "--format", "json"))
    assert {r["name"]: r for r in inc["layers"]}["fc"]["params"] == 14_090
    assert {r["name"]: r for r in res["layers"]}["fc"]["params"] == 5_130


def test_cli_summary_nin():
    out = run("summary", "nin")
    assert "96×54×54" in out
    assert "1,992,166" in out


def test_cli_zoo_lists_these():
    data = json.loads(run("zoo", "--format", "json"))
    entries = {e["name"]: e for e in data}
    for net in NETWORKS:
        assert entries[net]["type"] == "network"
    assert entries["bottleneck"]["type"] == "study"
    assert entries["bottleneck"]["variants"] == ["plain", "bottleneck"]

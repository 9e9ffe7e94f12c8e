"""The zoo networks rebuilt from torchvision (examples/*.yaml) against torchvision itself.

Two kinds of evidence, neither of them produced by cnncalc:

* reference/torchvision/<model>.json -- torchvision 0.29.1's own state_dict
  (every key with its shape, in order) and parameter count, dumped from
  ``torchvision.models.<model>(weights=None)``. Every weighted layer in the
  YAML is named by its torchvision module path, so the concatenation of the
  layers' state_dict entries must reproduce that list exactly.
* numbers documented by torchvision (the model docs' "num_params" and
  "GFLOPS" columns, i.e. the ``meta`` of each ``*_Weights`` enum in
  torchvision/models/*.py) and by the papers; each test names its source.
* torchvision itself (the test extra pins torch 2.14.1 with torchvision 0.29.1):
  ``torchvision.models.NAME(weights=None)`` is built for every network (tests/
  torchvision_model.py); the module ``cnncalc export --to pytorch`` writes loads its
  state_dict strictly and computes the same output, and sum(p.numel()) and
  FlopCounterMode / 2 on it equal cnncalc's parameters and MACs.
* PyTorch's own count on the exported module too: FlopCounterMode / 2 equals the MACs.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest

from cnncalc.analysis.pipeline import analyze, load

REPO = Path(__file__).resolve().parents[1]

# torchvision builder name -> built-in zoo name (examples/<zoo name>.yaml)
ZOO_NAME = {"vgg16_bn": "vgg16-bn", "mobilenet_v2": "mobilenet-v2"}


REF_DIR = REPO / "tests" / "reference" / "torchvision"
"""A verbatim copy of shared/reference/torchvision (torchvision 0.29.1 state_dicts), kept
in the repository so the tests never depend on a folder outside the clone."""
REF_FILES = sorted(REF_DIR.glob("*.json"))
assert len(REF_FILES) == 38, f"expected the 38 reference files in {REF_DIR}"


def zoo_name(torchvision_name: str) -> str:
    """``video.r3d_18`` -> ``r3d_18``; the zoo's own spelling where it differs."""
    name = torchvision_name.removeprefix("video.")
    return ZOO_NAME.get(name, name)


@functools.lru_cache(maxsize=None)
def result_of(name: str):
    """analyze() of a built-in network at its declared input (3x224x224 unless
    test_zoo_input_is_the_reference_input says otherwise), batch 1."""
    return analyze(load(name))


def row(result, name: str):
    rows = [r for r in result.layers if r.name == name]
    assert len(rows) == 1, f"expected exactly one layer named {name!r}, found {len(rows)}"
    return rows[0]


def first_difference(got: list, want: list) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"entry {i}: got {g}, torchvision has {w}"
    return f"lengths differ: got {len(got)} entries, torchvision has {len(want)}"


# --------------------------------------------------------------------------
# Against torchvision 0.29.1's state_dicts (reference/torchvision/*.json)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_zoo_input_is_the_reference_input(ref_file: Path):
    """The shape torchvision's dump was made at: 3x224x224, 3x299x299 for Inception v3,
    3x240x240 for EfficientNet-B1, 3x384x384 for EfficientNetV2-S (their weights'
    crop_size), 3x16x112x112 (16 frames) for the video models."""
    ref = json.loads(ref_file.read_text())
    assert load(zoo_name(ref["model"])).input == tuple(ref["input"])


def in_module_order(entries: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """The order nn.Module.state_dict() lists tensors in, given each tensor's first
    appearance: a module's own parameters and buffers first, then each submodule's, in
    the order the submodules were registered (torch/nn/modules/module.py, state_dict:
    ``_save_to_state_dict`` before the loop over ``self._modules``). cnncalc lists layers
    in the order they run; the two differ only where a module holds a tensor beside its
    submodules, as ConvNeXt's CNBlock holds ``layer_scale`` beside ``block``."""
    tree: dict = {}
    for key, shape in entries:
        *path, leaf = key.split(".")
        node = tree
        for segment in path:
            node = node.setdefault(segment, {})
        node[leaf] = (key, shape)

    def walk(node: dict) -> list[tuple[str, tuple]]:
        own = [v for v in node.values() if isinstance(v, tuple)]
        return own + [e for v in node.values() if isinstance(v, dict) for e in walk(v)]

    return walk(tree)


def test_module_order_puts_a_modules_own_tensor_before_its_submodules():
    """CNBlock registers ``block`` first and ``layer_scale`` after it, yet its state_dict
    starts with layer_scale (torchvision's convnext_tiny: features.1.0.layer_scale is
    entry 4, before features.1.0.block.0.weight)."""
    run_order = [("b.block.0.weight", (2,)), ("b.block.0.bias", (2,)), ("b.layer_scale", (2,))]
    assert in_module_order(run_order) == [run_order[2], run_order[0], run_order[1]]
    resnet = [("conv1.weight", (1,)), ("bn1.weight", (1,)), ("layer1.0.conv1.weight", (1,))]
    assert in_module_order(resnet) == resnet


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_state_dict_matches_torchvision(ref_file: Path):
    """Every key and shape of torchvision's state_dict, in PyTorch's order, and nothing
    else (test_export checks the exported module's own state_dict() in order)."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    got = in_module_order(
        [(key, tuple(shape)) for r in result.layers for key, shape in r.state_dict]
    )
    want = [(key, tuple(shape)) for key, shape in ref["state_dict"]]
    assert got == want, first_difference(got, want)


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_param_count_matches_torchvision(ref_file: Path):
    """Trainable parameters = sum(p.numel() for p in model.parameters()) in torchvision."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    assert result.total.params == ref["params"]


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_buffers_are_the_bn_running_statistics(ref_file: Path):
    """Non-trainable buffers = BatchNorm's running_mean and running_var entries of
    torchvision's state_dict (Keras' "non-trainable params"; DESIGN.md: "buffers
    (BN running statistics)"). The 0-d num_batches_tracked counter is in the
    state_dict but is not a statistic, so it is not counted."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    want = sum(
        math.prod(shape)
        for key, shape in ref["state_dict"]
        if key.rsplit(".", 1)[1] in ("running_mean", "running_var")
    )
    assert sum(r.buffers for r in result.layers) == want


def classes(torchvision_name: str) -> int:
    """The video models are trained on Kinetics-400 (400 actions), the others on
    ImageNet-1K (1000 classes): the "categories" of their weights' meta."""
    return 400 if torchvision_name.startswith("video.") else 1000


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_classifier_output_and_unique_names(ref_file: Path):
    """Every model ends in one logit per class; layer names are unique."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    assert tuple(result.layers[-1].out_shape) == (classes(ref["model"]),)
    names = [r.name for r in result.layers]
    assert len(names) == len(set(names))


# --------------------------------------------------------------------------
# Documented facts, independent of the reference dump
# --------------------------------------------------------------------------

# torchvision model docs, "Params" column / Weights.meta["num_params"]
# (e.g. https://pytorch.org/vision/stable/models.html, torchvision/models/*.py)
DOCUMENTED_PARAMS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "googlenet": 6_624_904,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336,
    "wide_resnet50_2": 68_883_240,
    "mnasnet0_5": 2_218_512,
    "mnasnet1_0": 4_383_312,
    "regnet_x_400mf": 5_495_976,
    "shufflenet_v2_x0_5": 1_366_792,
    "shufflenet_v2_x1_0": 2_278_604,
    "convnext_tiny": 28_589_128,
    "convnext_small": 50_223_688,
    "mobilenet_v3_small": 2_542_856,
    "mobilenet_v3_large": 5_483_032,
    "efficientnet_b0": 5_288_548,
    "efficientnet_b1": 7_794_184,
    "efficientnet_v2_s": 21_458_488,
    "regnet_y_400mf": 4_344_144,
    "r3d_18": 33_371_472,
    "mc3_18": 11_695_440,
    "r2plus1d_18": 31_505_325,
}


@pytest.mark.parametrize("name,params", sorted(DOCUMENTED_PARAMS.items()))
def test_documented_param_counts(name: str, params: int):
    """torchvision docs' parameter counts (Weights.meta["num_params"] in
    torchvision/models/alexnet.py, vgg.py, googlenet.py, resnet.py, densenet.py,
    squeezenet.py, mnasnet.py, regnet.py, shufflenetv2.py, convnext.py, mobilenetv3.py,
    efficientnet.py, video/resnet.py)."""
    assert result_of(name).total.params == params


def test_inception_v3_params_are_the_documented_count_without_the_aux_classifier():
    """torchvision documents 27,161,264 parameters for inception_v3 (Inception_V3_Weights
    meta), AuxLogits included; the zoo's inference graph leaves InceptionAux out
    (aux_logits=False, as reference/torchvision/inception_v3.json). InceptionAux(768, 1000)
    by hand: conv0 = BasicConv2d 768 -> 128, 1x1, no bias, + BatchNorm γ, β; conv1 =
    BasicConv2d 128 -> 768, 5x5, + BatchNorm; fc = Linear(768, 1000)."""
    aux = (768 * 128 + 2 * 128) + (128 * 768 * 5 * 5 + 2 * 768) + (768 * 1000 + 1000)
    assert aux == 3_326_696
    assert result_of("inception_v3").total.params == 27_161_264 - aux


# torchvision model docs, "GFLOPS" column / Weights.meta["_ops"]: multiply-adds
# of conv and linear layers at the model's input (224x224; 299x299 for Inception v3;
# 240x240 for EfficientNet-B1, 384x384 for EfficientNetV2-S; 16 frames of 112x112 for
# the video models), in units of 1e9, rounded to 3 decimals.
DOCUMENTED_GFLOPS = {
    "alexnet": 0.714,
    "vgg11": 7.609,
    "vgg13": 11.308,
    "vgg16": 15.47,
    "vgg19": 19.632,
    "vgg16-bn": 15.47,
    "googlenet": 1.498,
    "resnet18": 1.814,
    "resnet34": 3.664,
    "resnet50": 4.089,
    "resnet101": 7.801,
    "resnet152": 11.514,
    "densenet121": 2.834,
    "densenet169": 3.36,
    "densenet201": 4.291,
    "mobilenet-v2": 0.301,
    "squeezenet1_0": 0.819,
    "squeezenet1_1": 0.349,
    "resnext50_32x4d": 4.23,
    "resnext101_32x8d": 16.414,
    "wide_resnet50_2": 11.398,
    "inception_v3": 5.713,
    "mnasnet0_5": 0.104,
    "mnasnet1_0": 0.314,
    "regnet_x_400mf": 0.414,
    "shufflenet_v2_x0_5": 0.04,
    "shufflenet_v2_x1_0": 0.145,
    "convnext_tiny": 4.456,
    "convnext_small": 8.684,
    "mobilenet_v3_small": 0.057,
    "mobilenet_v3_large": 0.217,
    "efficientnet_b0": 0.386,
    "efficientnet_b1": 0.687,
    "efficientnet_v2_s": 8.366,
    "regnet_y_400mf": 0.402,
    "r3d_18": 40.697,
    "mc3_18": 43.343,
    "r2plus1d_18": 40.519,
}


@pytest.mark.parametrize("name,gflops", sorted(DOCUMENTED_GFLOPS.items()))
def test_macs_round_to_torchvision_gflops_column(name: str, gflops: float):
    """torchvision docs' "GFLOPS" (Weights.meta["_ops"] in torchvision 0.29.1
    models/*.py; it counts multiply-adds) equals our MACs / 1e9 to 3 decimals."""
    macs = result_of(name).total.macs
    assert round(macs / 1e9, 3) == pytest.approx(gflops, abs=1e-9)


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_macs_equal_flop_counter_mode_on_the_exported_module(ref_file: Path):
    """PyTorch's FlopCounterMode counts 2 FLOPs per multiply-accumulate of conv and
    linear (and nothing for BatchNorm, pooling, activations or adds): its total / 2 on
    the exported module, whose weights are torchvision's (test_export), equals the
    MACs exactly. Built on the meta device: shapes only, no memory, no arithmetic."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_module
    from torch.utils.flop_counter import FlopCounterMode

    ref = json.loads(ref_file.read_text())
    name = zoo_name(ref["model"])
    with torch.device("meta"):
        model = exported_module(name).build().eval()
        x = torch.zeros((1, *ref["input"]))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    assert tuple(y.shape) == (1, classes(ref["model"]))
    assert counter.get_total_flops() == 2 * result_of(name).total.macs


def test_resnet50_macs_exact():
    """ResNet-50 at 3x224x224: 4,089,184,256 MACs (conv + linear, bias not
    counted) -- torchvision's "4.09 GFLOPS" and PyTorch FlopCounterMode / 2;
    see DESIGN.md, "The numbers and their conventions"."""
    assert result_of("resnet50").total.macs == 4_089_184_256


def test_vgg16_macs_exact():
    """VGG-16 at 3x224x224: 15,470,264,320 MACs (conv + linear, bias not
    counted) -- torchvision's "15.47 GFLOPS"; 15,346,630,656 in the 13 convs
    plus 102,760,448 + 16,777,216 + 4,096,000 in the three Linear layers."""
    assert result_of("vgg16").total.macs == 15_470_264_320


def test_vgg16_macs_breakdown():
    """The same VGG-16 number split by layer kind, each part worked by hand:
    sum over convs of H*W*Cout*Cin*9, and in*out for the Linear layers."""
    convs = [
        (224, 3, 64),
        (224, 64, 64),
        (112, 64, 128),
        (112, 128, 128),
        (56, 128, 256),
        (56, 256, 256),
        (56, 256, 256),
        (28, 256, 512),
        (28, 512, 512),
        (28, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
        (14, 512, 512),
    ]
    conv_macs = sum(s * s * cout * cin * 9 for s, cin, cout in convs)
    fc_macs = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    result = result_of("vgg16")
    assert sum(r.macs for r in result.layers if r.kind == "conv") == conv_macs
    assert sum(r.macs for r in result.layers if r.kind == "fc") == fc_macs


def test_resnet50_last_stage_output():
    """ResNet-50's conv5_x (torchvision layer4) outputs 2048 x 7 x 7 at 224x224
    (He et al. 2015, Table 1), which the average pool then reduces to 2048."""
    result = result_of("resnet50")
    assert tuple(row(result, "layer4.2.bn3").out_shape) == (2048, 7, 7)
    names = [r.name for r in result.layers]
    i = names.index("avgpool")
    assert tuple(result.layers[i - 1].out_shape) == (
        2048,
        7,
        7,
    )  # after the last block's add + relu
    assert tuple(result.layers[i].out_shape) == (2048, 1, 1)


def test_googlenet_stage_shapes():
    """GoogLeNet's tensor sizes (Szegedy et al. 2014, Table 1; the shape comments
    in torchvision's googlenet.py): ceil-mode pools give 56, 28, 14, 7."""
    result = result_of("googlenet")
    expected = {
        "maxpool1": (64, 56, 56),
        "maxpool2": (192, 28, 28),
        "maxpool3": (480, 14, 14),
        "maxpool4": (832, 7, 7),
        "avgpool": (1024, 1, 1),
    }
    for name, shape in expected.items():
        assert tuple(row(result, name).out_shape) == shape, name


@pytest.mark.parametrize(
    "name,depth",
    [
        ("vgg16", 16),
        ("googlenet", 22),
        ("resnet101", 101),
        ("resnext50_32x4d", 50),
        ("resnext101_32x8d", 101),
        ("r3d_18", 18),
        ("mc3_18", 18),
    ],
)
def test_documented_depth(name: str, depth: int):
    """Depth = longest path counting conv/fc layers: VGG-16 has 16 weight layers
    (Simonyan & Zisserman, Table 1), GoogLeNet is "22 layers deep when counting
    only layers with parameters" (Szegedy et al., section 5), ResNet-101 has 101
    (He et al., Table 1), ResNeXt-50 and -101 the depth of the ResNet they widen (Xie
    et al., Table 1), and R3D-18 and MC3-18 the 18 of ResNet-18 (Tran et al. 2018,
    Table 1). R(2+1)D-18 is not here: each of its 3-D convs is two convs in a row, so
    its chain is longer."""
    assert result_of(name).depth == depth


def test_inception_v3_depth_is_its_longest_chain_of_convs():
    """The stem's 5 convs, then each module's longest branch (Szegedy et al. 2015,
    figures 5-7; torchvision's InceptionA-E): A 1x1-3x3-3x3 = 3 (three modules), B 3,
    C 1x1-7x1-1x7-7x1-1x7 = 5 (four modules), D 1x1-1x7-7x1-3x3 = 4, E 1x1-3x3-(1x3 or
    3x1) = 3 (two modules), and the fc: 48, the "48 layers deep" often quoted for it."""
    depth = 5 + 3 * 3 + 3 + 5 * 4 + 4 + 3 * 2 + 1
    assert depth == 48
    assert result_of("inception_v3").depth == depth


def test_inception_v3_stage_shapes():
    """The shapes Inception3._forward notes after each step at 3x299x299 (torchvision
    0.29.1, torchvision/models/inception.py)."""
    result = result_of("inception_v3")
    expected = {
        "Conv2d_1a_3x3.bn": (32, 149, 149),
        "Conv2d_2a_3x3.bn": (32, 147, 147),
        "Conv2d_2b_3x3.bn": (64, 147, 147),
        "maxpool1": (64, 73, 73),
        "Conv2d_3b_1x1.bn": (80, 73, 73),
        "Conv2d_4a_3x3.bn": (192, 71, 71),
        "maxpool2": (192, 35, 35),
        "avgpool": (2048, 1, 1),
    }
    for name, shape in expected.items():
        assert tuple(row(result, name).out_shape) == shape, name
    ends = {
        # the concat that ends each Inception module
        "Mixed_5b": (256, 35, 35),
        "Mixed_5c": (288, 35, 35),
        "Mixed_5d": (288, 35, 35),
        "Mixed_6a": (768, 17, 17),
        "Mixed_6e": (768, 17, 17),
        "Mixed_7a": (1280, 8, 8),
        "Mixed_7b": (2048, 8, 8),
        "Mixed_7c": (2048, 8, 8),
    }
    for name, shape in ends.items():
        last = [r for r in result.layers if r.name.startswith(name + ".")][-1]
        assert last.kind == "concat" and tuple(last.out_shape) == shape, name


def test_video_networks_stage_shapes():
    """Tran et al. 2018, Table 1 (and torchvision's strides): on 16 frames of 112x112,
    R3D-18 and R(2+1)D-18 halve time with space in conv3_x..conv5_x (L/2, L/4, L/8);
    MC3-18's stages above the first are 2-D (1x3x3 kernels, stride (1, 2, 2)), so its
    16 frames stay 16."""
    stages = {"layer1": 56, "layer2": 28, "layer3": 14, "layer4": 7}
    for name in ("r3d_18", "r2plus1d_18", "mc3_18"):
        result = result_of(name)
        for i, (stage, size) in enumerate(stages.items()):
            frames = 16 if name == "mc3_18" else 16 // 2**i
            channels = 64 * 2**i
            got = tuple(row(result, f"{stage}.1.relu").out_shape)
            assert got == (channels, frames, size, size), (name, stage)


# --------------------------------------------------------------------------
# Against torchvision's own models (torchvision 0.29.1, built here)
# --------------------------------------------------------------------------

SMALL_INPUT = {"inception_v3": (3, 96, 96)}
"""The input the output comparison runs at, to keep it to seconds: 3x64x64 (every 2-D
network here ends in an adaptive pool, so it accepts it), 3x96x96 for Inception v3 (it
needs at least 75x75: its stem and two reductions shrink 75 to 1), and 8 frames of 32x32
for the video networks (three stride-2 stages take 8 frames to 1)."""


def small_input(torchvision_name: str) -> tuple[int, ...]:
    if torchvision_name.startswith("video."):
        return (3, 8, 32, 32)
    return SMALL_INPUT.get(torchvision_name, (3, 64, 64))


@pytest.mark.requires("torch", "torchvision")
@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_exported_module_loads_torchvisions_weights_and_computes_its_function(ref_file: Path):
    """(a) The module ``cnncalc export --to pytorch`` writes loads torchvision's own model's
    state_dict with strict=True; (b) with those weights, both in eval mode, float64, the
    two give the same output on a seeded random input (batch 1, :func:`small_input`).
    Norm weights, running statistics, zero biases and layer scales are drawn at random
    first (:func:`randomize_constant_tensors`): torch's 1, 0, 0, 1 would hide a misplaced
    norm. The exported module is built on the meta device and takes torchvision's tensors
    (assign=True), so the check holds one copy of the weights."""
    import torch
    from pytorch_model import exported_module
    from torchvision_model import randomize_constant_tensors, torchvision_model

    ref = json.loads(ref_file.read_text())
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        reference = torchvision_model(ref["model"]).eval()
        with torch.device("meta"):
            exported = exported_module(zoo_name(ref["model"])).build().eval()
    finally:
        torch.set_default_dtype(default_dtype)
    randomize_constant_tensors(reference)
    exported.load_state_dict(reference.state_dict(), strict=True, assign=True)
    gen = torch.Generator().manual_seed(9)
    x = torch.randn((1, *small_input(ref["model"])), generator=gen, dtype=torch.float64)
    with torch.no_grad():
        want = reference(x)
        got = exported(x)
    assert tuple(want.shape) == (1, classes(ref["model"]))
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12 * float(want.abs().max()))


@pytest.mark.requires("torch", "torchvision")
@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_params_and_macs_equal_torchvisions_model(ref_file: Path):
    """(c) On torchvision's own model at the zoo input (batch 1), built on the meta device
    (shapes only, no memory, no arithmetic): sum(p.numel()) equals cnncalc's parameter
    count, and FlopCounterMode's total / 2 (2 FLOPs per multiply-accumulate of conv and
    linear, nothing for norms, pooling, activations, adds or gates) equals cnncalc's
    ``macs`` total."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from torchvision_model import torchvision_model

    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    reference = torchvision_model(ref["model"], device="meta").eval()
    x = torch.zeros((1, *ref["input"]), device="meta")
    assert sum(p.numel() for p in reference.parameters()) == result.total.params
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = reference(x)
    assert tuple(y.shape) == (1, classes(ref["model"]))
    assert counter.get_total_flops() == 2 * result.total.macs

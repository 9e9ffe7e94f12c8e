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
assert len(REF_FILES) == 16, f"expected the 16 reference files in {REF_DIR}"


def zoo_name(torchvision_name: str) -> str:
    return ZOO_NAME.get(torchvision_name, torchvision_name)


@functools.lru_cache(maxsize=None)
def result_of(name: str):
    """analyze() of a built-in network at its declared input (3x224x224), batch 1."""
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
def test_state_dict_matches_torchvision(ref_file: Path):
    """Every key and shape of torchvision's state_dict, in order, and nothing else."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    got = [(key, tuple(shape)) for r in result.layers for key, shape in r.state_dict]
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


@pytest.mark.parametrize("ref_file", REF_FILES, ids=[f.stem for f in REF_FILES])
def test_classifier_output_and_unique_names(ref_file: Path):
    """Every ImageNet model ends in 1000 logits; layer names are unique."""
    ref = json.loads(ref_file.read_text())
    result = result_of(zoo_name(ref["model"]))
    assert tuple(result.layers[-1].out_shape) == (1000,)
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
}


@pytest.mark.parametrize("name,params", sorted(DOCUMENTED_PARAMS.items()))
def test_documented_param_counts(name: str, params: int):
    """torchvision docs' parameter counts (Weights.meta["num_params"] in
    torchvision/models/alexnet.py, vgg.py, googlenet.py, resnet.py, densenet.py)."""
    assert result_of(name).total.params == params


# torchvision model docs, "GFLOPS" column / Weights.meta["_ops"]: multiply-adds
# of conv and linear layers at 224x224, in units of 1e9, rounded to 3 decimals.
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
}


@pytest.mark.parametrize("name,gflops", sorted(DOCUMENTED_GFLOPS.items()))
def test_macs_round_to_torchvision_gflops_column(name: str, gflops: float):
    """torchvision docs' "GFLOPS" (Weights.meta["_ops"] in torchvision 0.29.1
    models/*.py; it counts multiply-adds) equals our MACs / 1e9 to 3 decimals."""
    macs = result_of(name).total.macs
    assert round(macs / 1e9, 3) == pytest.approx(gflops, abs=1e-9)


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


@pytest.mark.parametrize("name,depth", [("vgg16", 16), ("googlenet", 22), ("resnet101", 101)])
def test_documented_depth(name: str, depth: int):
    """Depth = longest path counting conv/fc layers: VGG-16 has 16 weight layers
    (Simonyan & Zisserman, Table 1), GoogLeNet is "22 layers deep when counting
    only layers with parameters" (Szegedy et al., section 5), ResNet-101 has 101
    (He et al., Table 1)."""
    assert result_of(name).depth == depth

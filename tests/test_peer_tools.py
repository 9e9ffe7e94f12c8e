"""cnncalc's peer presets against the real tools, run on the exported PyTorch module and on
torchvision's own models.

Each preset of cnncalc.conventions reproduces one tool's own number: PyTorch's
FlopCounterMode, fvcore, ptflops (both backends), thop, torchinfo, torchscan and
calflops. The tools run here, on the module `cnncalc export --to pytorch` writes and on
``torchvision.models.NAME(weights=None)`` for every zoo network rebuilt from torchvision,
once per network per session; the expected numbers are theirs, or (single layers) the rule
written out.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter

import pytest
from peer_tools import (
    TOOLS,
    needs_tool,
    run_tool,
    run_tool_on_torchvision,
    tool_params,
    torchvision_builder,
)
from pytorch_model import exported_module, exported_yaml_module
from test_zoo_torchvision import REF_FILES, zoo_name

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.conventions.engine import CALL_PREFIXES
from cnncalc.conventions.presets import CONVENTIONS
from cnncalc.conventions.quantities import QUANTITIES
from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS

EVERY_TOOL = needs_tool(*TOOLS)

NETWORKS = ["resnet18", "resnet50", "vgg16", "googlenet", "densenet121", "mobilenet-v2", "lenet"]

EVERY_KIND = """
name: every kind the tools know
input: [3, 16, 16]
layers:
  - {conv: 8, kernel: 3, padding: 1}
  - {batchnorm: }
  - {relu: }
  - {deconv: 8, kernel: 4, stride: 2, padding: 1, groups: 2}
  - {relu6: }
  - {pool: max, kernel: 3, stride: 2, padding: 1}
  - {lrn: 3}
  - add:
      - [{conv: 8, kernel: 3, padding: 1, bias: false}, {tanh: }]
      - []
  - mul:
      - []
      - [{gap: }, {conv: 8, kernel: 1}, {sigmoid: }]
  - concat:
      - [{pool: avg, kernel: 3, stride: 1, padding: 1}]
      - [{pool: max, kernel: [3, 1], stride: 1, padding: [1, 0]}]
  - {adaptive: 6}
  - {sigmoid: }
  - {adaptive: 3, mode: max}
  - {gap: }
  - {flatten: }
  - {dropout: 0.5}
  - {fc: 10}
  - {softmax: }
"""
"""A network with every kind a PyTorch module stands for, and the odd cases: a grouped
transposed conv, a 3×1 pool kernel, adaptive pools whose sizes do not divide, a
squeeze-and-excitation gate broadcast by ``mul``."""

EVERY_NEW_KIND = """
name: every new kind
input: [4, 12, 12]
layers:
  - {conv: 8, kernel: 3, padding: 1}
  - {groupnorm: 2}
  - {silu: }
  - {prelu: 8}
  - {instancenorm: , affine: true}
  - {gelu: }
  - {layernorm: }
  - {leaky_relu: 0.1}
  - {elu: }
  - {hardswish: }
  - add:
      - [{linear: 8}, {layer_scale: 0.5, name: block.layer_scale}, {drop_path: 0.1}]
      - []
  - concat:
      - [{select: [0, 4]}]
      - [{select: [4, 8]}, {mish: }]
  - {shuffle: 2}
  - {upsample: 2}
  - {crop: 20}
  - {upsample: , size: [25, 25], mode: bilinear}
  - {instancenorm: , track_running_stats: true}
  - {layernorm: 3, bias: false}
  - {hardsigmoid: }
  - {gap: }
  - {flatten: }
  - {layernorm: }
  - {linear: 10}
  - {log_softmax: }
  - {identity: }
"""
"""Issue 9's kinds in one network: LayerNorm over channels (LayerNorm2d) and over a flat
vector (nn.LayerNorm), a Linear on a map and on a vector, both upsampling modes."""

SPECIAL = {"every-kind": EVERY_KIND, "every-new-kind": EVERY_NEW_KIND}

PRESET_FIGURES = [
    (tool, figure)
    for tool in TOOLS
    for figure in (
        ("flops", "macs") if tool in ("torchscan", "calflops") else (CONVENTIONS[tool].reports,)
    )
]
"""(preset, figure): the figures each tool prints; torchscan and calflops print both."""


@functools.lru_cache(maxsize=None)
def network_module(name: str):
    return exported_yaml_module(SPECIAL[name]) if name in SPECIAL else exported_module(name)


@functools.lru_cache(maxsize=None)
def tool_numbers(name: str, tool: str) -> dict[str, int]:
    """What the real tool prints for the exported network (cached for the session)."""
    return run_tool(tool, network_module(name))


def preset_total(spec, preset: str, figure: str, **options) -> int:
    return getattr(analyze(spec, convention=preset, **options).total, figure)


def spec_of(name: str):
    return loads(SPECIAL[name]) if name in SPECIAL else load(name)


# --------------------------------------------------------------------------- whole networks


@pytest.mark.parametrize("preset,figure", tool_params(PRESET_FIGURES))
@pytest.mark.parametrize("name", NETWORKS + list(SPECIAL))
def test_preset_total_equals_the_tool(name, preset, figure):
    expected = tool_numbers(name, preset)[figure]
    assert preset_total(spec_of(name), preset, figure) == expected


@needs_tool("torch")
@pytest.mark.parametrize("name", NETWORKS)
def test_macs_is_flop_counter_mode_halved(name):
    """DESIGN.md: macs is PyTorch's FlopCounterMode divided by two (conv and fc only here)."""
    assert analyze(load(name)).total.macs * 2 == tool_numbers(name, "torch")["flops"]


@needs_tool("torch", "fvcore")
def test_resnet50_acceptance_numbers():
    """The issue's numbers, as the real tools print them."""
    assert tool_numbers("resnet50", "torch")["flops"] == 2 * 4_089_184_256
    assert tool_numbers("resnet50", "fvcore")["macs"] == 4_111_512_576
    assert preset_total(load("resnet50"), "macs", "macs") == 4_089_184_256
    assert preset_total(load("resnet50"), "fvcore", "macs") == 4_111_512_576


@needs_tool("torch", "fvcore")
def test_fvcore_resnet50_is_macs_plus_batchnorm_and_pool_written_out():
    """fvcore = MACs + 2 per BatchNorm element + 1 per input element of the final
    adaptive average pool (2048×7×7); the BatchNorm elements are the outputs of the
    convs each BatchNorm follows, summed from the graph's shapes."""
    graph = build(load("resnet50"))
    bn_elements = sum(
        c * h * w for c, h, w in (node.in_shape for node in graph.nodes if node.kind == "batchnorm")
    )
    assert tool_numbers("resnet50", "fvcore")["macs"] == (
        tool_numbers("resnet50", "torch")["flops"] // 2 + 2 * bn_elements + 2048 * 7 * 7
    )


@pytest.mark.parametrize("name", list(SPECIAL))
@pytest.mark.parametrize(
    "tool",
    [pytest.param(t, marks=needs_tool(t)) for t, (_, device) in TOOLS.items() if device == "meta"],
)
def test_meta_device_gives_the_cpu_numbers(tool, name):
    """The shape-only tools run on the meta device to save time; here they run both ways."""
    module = network_module(name)
    assert run_tool(tool, module, "meta") == run_tool(tool, module, "cpu")


# --------------------------------------------------------------------------- torchvision's own

TORCHVISION_MODELS = [json.loads(f.read_text())["model"] for f in REF_FILES]
"""torchvision's name (``video.r3d_18``) of every zoo network rebuilt from torchvision, one
per reference dump (tests/reference/torchvision)."""


def small_input(model: str) -> tuple[int, ...]:
    """A small input each network takes, so the tools run quickly: 3×64×64 (the smallest
    AlexNet's three 3×3 stride-2 pools leave a map for); Inception v3's smallest, 3×75×75;
    the video networks 8 frames of 32×32."""
    if model.startswith("video."):
        return (3, 8, 32, 32)
    return (3, 75, 75) if model == "inception_v3" else (3, 64, 64)


@functools.lru_cache(maxsize=None)
def torchvision_numbers(model: str, tool: str) -> dict[str, int]:
    """What the real tool prints for torchvision's own model at its small input."""
    return run_tool_on_torchvision(tool, model, small_input(model))


TORCHVISION = needs_tool("torchvision")


@TORCHVISION
@pytest.mark.parametrize("preset,figure", tool_params(PRESET_FIGURES))
@pytest.mark.parametrize("model", TORCHVISION_MODELS)
def test_preset_on_the_zoo_network_equals_the_tool_on_torchvision(model, preset, figure):
    """Issue 9: the tool run on ``torchvision.models.NAME(weights=None)`` itself, not on
    cnncalc's export, prints the preset's number for the zoo network, functional calls
    (``call: function``) and ConvNeXt's channels-last LayerNorm included."""
    expected = torchvision_numbers(model, preset)[figure]
    spec = load(zoo_name(model))
    assert preset_total(spec, preset, figure, input=small_input(model)) == expected


@TORCHVISION
@pytest.mark.parametrize(
    "model,tool,number",
    [
        ("densenet121", "thop", 2_897_007_104),
        ("mobilenet_v2", "thop", 327_486_720),
        ("googlenet", "ptflops", 1_513_907_448),
    ],
)
def test_issue_9_numbers_on_torchvision_at_224(model, tool, number):
    """Issue 9's examples at 3×224×224: thop does not see DenseNet's and MobileNetV2's
    F.adaptive_avg_pool2d; ptflops counts GoogLeNet's F.relu once, not twice as a module."""
    assert run_tool_on_torchvision(tool, model, (3, 224, 224))["macs"] == number
    assert preset_total(load(zoo_name(model)), tool, "macs") == number


def called_layers(net, shape) -> Counter[str]:
    """How many times a forward pass at input ``shape`` calls a module of each class among
    the modules without children (the layers), as a tool that hooks modules sees them.
    Calls, not modules: torchvision's ResNet calls one ReLU module twice or three times per
    block, and its EfficientNet holds a StochasticDepth it never calls in the blocks without
    a shortcut."""
    import torch

    called: Counter[str] = Counter()

    def hook(module, inputs, output) -> None:
        if type(module).__name__ not in STRUCTURE_ONLY_IN_TORCHVISION:
            called[seen_as(type(module))] += 1

    for module in net.modules():
        if not any(module.children()):
            module.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros((1,) + tuple(shape), device="meta"))
    return called


def seen_as(cls: type) -> str:
    """A module's class as the tools tell classes apart: PyTorch's own by name; any other by
    the nearest PyTorch class it subclasses (torchvision's Conv3DSimple and cnncalc's
    Conv3dSubclass are both 'Conv3d subclass'), or 'Module subclass'."""
    if cls.__module__.startswith("torch.nn."):
        return cls.__name__
    base = next(b for b in cls.__mro__[1:] if b.__module__.startswith("torch.nn."))
    return f"{base.__name__} subclass"


STRUCTURE_ONLY_IN_TORCHVISION = {
    "Permute": "ConvNeXt's block moves the channels last and back with Permute modules "
    "(block.1, block.6); cnncalc's export permutes inside the forward (call: channels_last), "
    "and no tool counts a permute",
}
"""Layers of torchvision's models that cnncalc's export writes as no module, and why."""


@TORCHVISION
@pytest.mark.parametrize("model", TORCHVISION_MODELS)
def test_export_calls_the_modules_torchvision_calls(model):
    """The export's forward calls as many modules of each class as torchvision's: the
    layers torchvision applies as functions (call: function) are functions in the export
    too, so a tool that hooks modules or patches functions sees the same network. (Where the
    modules sit is test_zoo_torchvision's state_dict test.)"""
    shape = small_input(model)
    build = torchvision_builder(model, "meta")
    theirs = called_layers(build(), shape)
    exported = exported_module(zoo_name(model))
    with torch_device("meta"):
        ours = called_layers(exported.build().eval(), shape)
    assert ours == theirs


def torch_device(name: str):
    import torch

    return torch.device(name)


# --------------------------------------------------------------------------- single layers

# One layer (or two) per case, the tool's rule written out for each tool that counts it;
# every tool not listed counts 0. torchscan and calflops have "-macs" entries beside
# their FLOPs. n = elements of the input.

CASES = {
    # 8 maps · 8·8 positions · fan-in 3·3·3: M = 13,824 MACs; B = 8·8·8 = 512 bias adds.
    "conv": (
        "[3, 8, 8]",
        "{conv: 8, kernel: 3, padding: 1}",
        {
            "torch": 2 * 13824,
            "fvcore": 13824,
            "ptflops": 13824 + 512,
            "ptflops-aten": 13824 + 512,
            "thop": 13824,
            "torchinfo": 13824 + 512,
            "torchscan": 8 * 8 * 8 * (2 * 27 - 1 + 1),
            "torchscan-macs": 13824,
            "calflops": 2 * 13824 + 512,
            "calflops-macs": 13824,
        },
    ),
    # transposed 16→8, k4 s2 p1 on 8×8 → 16×16. On the input (the work done):
    # 16·8·8 · 8·4·4 = 131,072; on the output: 8·16·16 · 16·4·4 = 524,288; bias 8·16·16.
    "deconv": (
        "[16, 8, 8]",
        "{deconv: 8, kernel: 4, stride: 2, padding: 1}",
        {
            "torch": 2 * 131072,
            "fvcore": 131072,
            "ptflops": 131072 + 2048,
            "ptflops-aten": 131072 + 2048,
            "thop": 524288,
            "torchinfo": 524288 + 2048,
            # 2n − 1 + 1 per output of fan-in n = 16·4·4, plus 8 per spatial axis per call
            "torchscan": 8 * 16 * 16 * (2 * 256 - 1 + 1) + 8 * 2,
            "torchscan-macs": 524288 + 4 * 2,
            # bias on the size a conv would give: ⌊(8 + 2 − 3 − 1)/2⌋ + 1 = 4 per axis
            "calflops": 2 * 131072 + 8 * 4 * 4,
            "calflops-macs": 131072,
        },
    ),
    # grouped, 16→8 in 4 groups, k3 s2 on 5×5 → 11×11. Input-based 16·5·5·(8/4)·9 = 7,200;
    # output-based 8·11·11·(16/4)·9 = 34,848; bias 8·11·11 = 968.
    "deconv-groups": (
        "[16, 5, 5]",
        "{deconv: 8, kernel: 3, stride: 2, groups: 4}",
        {
            "torch": 2 * 7200,
            "fvcore": 7200,
            "ptflops": 7200 + 968,
            "ptflops-aten": 7200 + 968,
            "thop": 34848,
            "torchinfo": 34848 + 968,
            "torchscan": 8 * 11 * 11 * (2 * 4 * 9) + 8 * 2,
            "torchscan-macs": 34848 + 4 * 2,
            # calflops: c_o/g divided by g again, ⌊2/4⌋ = 0 MACs; bias (c_o/g)·2·2
            "calflops": 2 * 0 + 2 * 2 * 2,
            "calflops-macs": 0,
        },
    ),
    "fc": (
        "[20]",
        "{fc: 10}",
        {
            "torch": 2 * 200,
            "fvcore": 200,
            "ptflops": 200 + 10,
            "ptflops-aten": 200 + 10,
            "thop": 200,
            "torchinfo": 200 + 10,
            "torchscan": 10 * (2 * 20 - 1) + 10,
            "torchscan-macs": 200,
            "calflops": 2 * 200,
            "calflops-macs": 200,
        },
    ),
    # n = 4·5·5 = 100, 4 channels
    "batchnorm": (
        "[4, 5, 5]",
        "{batchnorm: }",
        {
            "fvcore": 2 * 100,
            "ptflops": 2 * 100,
            "thop": 4 * 100,
            "torchinfo": 2 * 4,
            "torchscan": 4 * 100 + 2 * 4,
            "torchscan-macs": 2 * 100,
            "calflops": 2 * 100,
        },
    ),
    # module hook and F.relu hook both fire in ptflops
    "relu": ("[4, 5, 5]", "{relu: }", {"ptflops": 2 * 100, "torchscan": 100, "calflops": 100}),
    # nn.ReLU6 calls hardtanh, which neither ptflops nor calflops patches
    "relu6": ("[4, 5, 5]", "{relu6: }", {"ptflops": 100, "torchscan": 2 * 100}),
    "sigmoid": ("[4, 5, 5]", "{sigmoid: }", {"torchscan": 4 * 100}),
    "tanh": ("[4, 5, 5]", "{tanh: }", {"torchscan": 6 * 100}),
    "dropout": ("[4, 5, 5]", "{dropout: 0.5}", {"torchscan": 100}),
    # 4×8×8 → 4×4×4 = 64 outputs; torchscan takes the int kernel 3 as a window of 3
    "maxpool": (
        "[4, 8, 8]",
        "{pool: max, kernel: 3, stride: 2, padding: 1}",
        {
            "ptflops": 2 * 256,
            "torchscan": 64 * (3 - 1),
            "torchscan-macs": 64 * (3 - 1),
            "calflops": 256,
        },
    ),
    # a 3×2 kernel is a tuple in PyTorch: its window is 6; outputs 4·4·5 = 80
    "maxpool-3x2": (
        "[4, 8, 8]",
        "{pool: max, kernel: [3, 2], stride: 2, padding: 1}",
        {
            "ptflops": 2 * 256,
            "torchscan": 80 * (6 - 1),
            "torchscan-macs": 80 * (6 - 1),
            "calflops": 256,
        },
    ),
    # 64 outputs; thop 1 per output; torchscan window − 1 + 2 axes per output
    "avgpool": (
        "[4, 8, 8]",
        "{pool: avg, kernel: 2}",
        {
            "ptflops": 2 * 256,
            "thop": 64,
            "torchscan": 64 * (2 - 1 + 2),
            "torchscan-macs": 64 * (2 - 1 + 2),
            "calflops": 256,
        },
    ),
    # TensorFlow 'same' on 7: pads 0 left, 1 right; PyTorch pools pad evenly, so the export
    # pads first and the pool sees 4·8·8 = 256 elements; 4·4·4 = 64 outputs
    "avgpool-uneven": (
        "[4, 7, 7]",
        "{pool: avg, kernel: 2, padding: same}",
        {
            "ptflops": 2 * 256,
            "thop": 64,
            "torchscan": 64 * (2 - 1 + 2),
            "torchscan-macs": 64 * (2 - 1 + 2),
            "calflops": 256,
        },
    ),
    # 4×7×7 → 4 outputs; thop (49/1 + 1) per output
    "gap": (
        "[4, 7, 7]",
        "{gap: }",
        {
            "fvcore": 196,
            "ptflops": 2 * 196,
            "thop": 4 * (49 + 1),
            "torchscan": 4 * (49 - 1 + 2),
            "torchscan-macs": 4 * (49 - 1 + 2),
            "calflops": 196,
        },
    ),
    # 7 → 3 per axis, 36 outputs: thop (7/3)² + 1 per output; torchscan window 7 mod 3 + 1
    "adaptive": (
        "[4, 7, 7]",
        "{adaptive: 3}",
        {
            "fvcore": 196,
            "ptflops": 2 * 196,
            "thop": 196 + 36,
            "torchscan": 36 * (2 * 2 - 1 + 2),
            "torchscan-macs": 36 * (2 * 2 - 1 + 2),
            "calflops": 196,
        },
    ),
    # 13 → 6: thop's float64 (13/6)²·144 + 144 truncates to one less than 676 + 144
    "adaptive-13-6": (
        "[4, 13, 13]",
        "{adaptive: 6}",
        {
            "fvcore": 676,
            "ptflops": 2 * 676,
            "thop": 676 + 144 - 1,
            "torchscan": 144 * (2 * 2 - 1 + 2),
            "torchscan-macs": 144 * (2 * 2 - 1 + 2),
            "calflops": 676,
        },
    ),
    "adaptive-max": (
        "[4, 7, 7]",
        "{adaptive: 1, mode: max}",
        {
            "ptflops": 2 * 196,
            "torchscan": 4 * (49 - 1),
            "torchscan-macs": 4 * (49 - 1),
            "calflops": 196,
        },
    ),
    # thop: n exps, n − 1 adds, n divisions; torchscan has no formula (0)
    "softmax": ("[10]", "{softmax: }", {"ptflops": 10, "thop": 3 * 10 - 1, "calflops": 10}),
    # n = 8·4·4 = 128: x·x, ·α, +k (3 per element) and an average pool over the channels
    # padded by 5 − 1 zeros: (8 + 4)·16
    "lrn": ("[8, 4, 4]", "{lrn: 5}", {"ptflops": 3 * 128 + 12 * 16, "calflops": 3 * 128 + 12 * 16}),
    # LeNet-5's sub-sampling is an F.avg_pool2d (1 per input element for ptflops and
    # calflops) and two tensor products nobody counts; torchinfo counts its 2·4 parameters
    "subsample": (
        "[4, 6, 6]",
        "{subsample: 2}",
        {"ptflops": 144, "torchinfo": 2 * 4, "calflops": 144},
    ),
    # Euclidean RBF units are tensor arithmetic, not a matmul: torchinfo counts parameters
    "rbf": ("[3, 4, 4]", "{rbf: 5}", {"torchinfo": 5 * 48}),
    # issue 9's activations, n = 100. ptflops: a module hook (nn.GELU, nn.ELU, nn.PReLU,
    # nn.LeakyReLU; not nn.SiLU) and a patched function (F.gelu, F.elu, F.prelu, F.silu; not
    # F.leaky_relu) count 1 per element each; calflops patches all five functions
    "silu": ("[4, 5, 5]", "{silu: }", {"ptflops": 100, "calflops": 100}),
    "gelu": ("[4, 5, 5]", "{gelu: tanh}", {"ptflops": 2 * 100, "calflops": 100}),
    # torchscan: compare, compare, mul, add (LeakyReLU); compare, exp, sub, mul, compare,
    # add (ELU), per element
    "leaky_relu": (
        "[4, 5, 5]",
        "{leaky_relu: 0.1}",
        {"ptflops": 100, "torchscan": 4 * 100, "calflops": 100},
    ),
    "elu": ("[4, 5, 5]", "{elu: }", {"ptflops": 2 * 100, "torchscan": 6 * 100, "calflops": 100}),
    # thop 1 per element in eval; torchinfo counts a parameter named weight once
    "prelu": (
        "[4, 5, 5]",
        "{prelu: 4}",
        {"ptflops": 2 * 100, "thop": 100, "torchinfo": 4, "calflops": 100},
    ),
    "hardswish": ("[4, 5, 5]", "{hardswish: }", {}),
    "hardsigmoid": ("[4, 5, 5]", "{hardsigmoid: }", {}),
    "mish": ("[4, 5, 5]", "{mish: }", {}),
    "log_softmax": ("[4, 5, 5]", "{log_softmax: }", {}),
    "identity": ("[4, 5, 5]", "{identity: }", {}),
    "select": ("[4, 5, 5]", "{select: [1, 3]}", {}),
    "shuffle": ("[4, 5, 5]", "{shuffle: 2}", {}),
    "crop": ("[4, 5, 5]", "{crop: 3}", {}),
    "drop_path": ("[4, 5, 5]", "{drop_path: 0.2}", {}),
    # torchinfo counts only parameters named weight or bias; the product is a tensor *
    "layer_scale": ("[4, 5, 5]", "{layer_scale: 1.0e-6}", {}),
    # LayerNorm over the channels is LayerNorm2d, an nn.LayerNorm subclass: thop and ptflops
    # look the class up exactly and skip it; torchscan (isinstance) counts 6 per element,
    # 2 per normalised row (25 positions) and 1 per element each for γ and β; fvcore and
    # calflops 5 per element with γ
    "layernorm": (
        "[4, 5, 5]",
        "{layernorm: }",
        {
            "fvcore": 5 * 100,
            "torchinfo": 2 * 4,
            "torchscan": 6 * 100 + 2 * 25 + 100 + 100,
            "calflops": 5 * 100,
        },
    ),
    # nn.LayerNorm([4, 5, 5]): one row. ptflops 1 per element (it doubles for `.affine`,
    # which LayerNorm does not have); thop 2 per element, doubled for elementwise_affine
    "layernorm-whole": (
        "[4, 5, 5]",
        "{layernorm: 3}",
        {
            "fvcore": 5 * 100,
            "ptflops": 100,
            "thop": 2 * 2 * 100,
            "torchinfo": 2 * 100,
            "torchscan": 6 * 100 + 2 * 1 + 100 + 100,
            "calflops": 5 * 100,
        },
    ),
    "layernorm-flat": (
        "[10]",
        "{layernorm: }",
        {
            "fvcore": 5 * 10,
            "ptflops": 10,
            "thop": 2 * 2 * 10,
            "torchinfo": 2 * 10,
            "torchscan": 6 * 10 + 2 + 10 + 10,
            "calflops": 5 * 10,
        },
    ),
    "layernorm-no-affine": (
        "[4, 5, 5]",
        "{layernorm: 2, elementwise_affine: false}",
        {
            "fvcore": 4 * 100,
            "ptflops": 100,
            "thop": 2 * 100,
            "torchscan": 6 * 100 + 2 * 4,
            "calflops": 4 * 100,
        },
    ),
    # thop has no GroupNorm hook; ptflops 1 per element, doubled with affine
    "groupnorm": (
        "[4, 5, 5]",
        "{groupnorm: 2}",
        {"fvcore": 5 * 100, "ptflops": 2 * 100, "torchinfo": 2 * 4, "calflops": 5 * 100},
    ),
    "instancenorm": (
        "[4, 5, 5]",
        "{instancenorm: }",
        {"fvcore": 4 * 100, "ptflops": 100, "thop": 2 * 100, "calflops": 4 * 100},
    ),
    "instancenorm-running": (
        "[4, 5, 5]",
        "{instancenorm: , affine: true, track_running_stats: true}",
        {
            "fvcore": 5 * 100,
            "ptflops": 2 * 100,
            "thop": 2 * 2 * 100,
            "torchinfo": 2 * 4,
            "calflops": 5 * 100,
        },
    ),
    # 4×5×5 → 4×10×10 = 400 outputs. fvcore 1 per output of upsample_nearest2d; ptflops
    # module hook and F.interpolate, 1 per output each; thop 1 per output; calflops the
    # input's elements (its scale factor multiplies nothing)
    "upsample": (
        "[4, 5, 5]",
        "{upsample: 2}",
        {"fvcore": 400, "ptflops": 2 * 400, "thop": 400, "calflops": 100},
    ),
    # 224 outputs; calflops takes the size tuple's product alone, 7·8
    "upsample-size": (
        "[4, 5, 5]",
        "{upsample: , size: [7, 8]}",
        {"fvcore": 224, "ptflops": 2 * 224, "thop": 224, "calflops": 7 * 8},
    ),
    # 4·15 = 60 outputs; fvcore has no handle for upsample_nearest1d
    "upsample-1d": (
        "[4, 5]",
        "{upsample: 3}",
        {"ptflops": 2 * 60, "thop": 60, "calflops": 20},
    ),
    # fvcore 4 and thop 11 per output of a bilinear upsampling
    "upsample-bilinear": (
        "[4, 5, 5]",
        "{upsample: 2, mode: bilinear}",
        {"fvcore": 4 * 400, "ptflops": 2 * 400, "thop": 11 * 400, "calflops": 100},
    ),
    # size 8 on a 2-D map: 4·8·8 = 256 outputs, and calflops counts the int 8 as it is
    "upsample-bilinear-size": (
        "[4, 5, 5]",
        "{upsample: , size: 8, mode: bilinear}",
        {"fvcore": 4 * 256, "ptflops": 2 * 256, "thop": 11 * 256, "calflops": 8},
    ),
    # ConvNeXt's order: LayerNorm over the channels (as the "layernorm" case: L below), then
    # nn.Linear 4 → 6 at 25 positions, M = 600 MACs, B = 150 bias adds; its input is
    # channels-last in memory, so aten runs one addmm, bias included; torchinfo counts the
    # Linear's 30 parameters once
    "linear": (
        "[4, 5, 5]",
        "{layernorm: }\n  - {linear: 6}",
        {
            "torch": 2 * 600,
            "fvcore": 5 * 100 + 600,  # L + M
            "ptflops": 600 + 150,
            "ptflops-aten": 600 + 150,
            "thop": 600,
            "torchinfo": 2 * 4 + 4 * 6 + 6,
            "torchscan": (6 * 100 + 2 * 25 + 100 + 100) + 150 * (2 * 4 - 1) + 150,
            "torchscan-macs": 600,
            "calflops": 5 * 100 + 2 * 600,
            "calflops-macs": 600,
        },
    ),
    # on a vector it is aten.addmm, bias included
    "linear-flat": (
        "[4]",
        "{linear: 6}",
        {
            "torch": 2 * 24,
            "fvcore": 24,
            "ptflops": 24 + 6,
            "ptflops-aten": 24 + 6,
            "thop": 24,
            "torchinfo": 24 + 6,
            "torchscan": 6 * (2 * 4 - 1) + 6,
            "torchscan-macs": 24,
            "calflops": 2 * 24,
            "calflops-macs": 24,
        },
    ),
    # residual adds: nobody counts them
    "add": (
        "[4, 5, 5]",
        "{add: [[{relu: }], []]}",
        {"ptflops": 2 * 100, "torchscan": 100, "calflops": 100},
    ),
    # element-wise products (the exported forward's `*`, as an SE gate's): nobody counts them
    "mul": (
        "[4, 5, 5]",
        "{mul: [[{relu: }], []]}",
        {"ptflops": 2 * 100, "torchscan": 100, "calflops": 100},
    ),
    # call: function, as torchvision's forward calls them. The module hooks of thop,
    # torchinfo and torchscan see nothing; ptflops counts the patched function alone (once,
    # where the module counted twice); calflops patches the same function the module calls
    "relu-function": ("[4, 5, 5]", "{relu: , call: function}", {"ptflops": 100, "calflops": 100}),
    # F.max_pool2d / F.avg_pool2d: 1 per input element, 4·8·8 = 256
    "maxpool-function": (
        "[4, 8, 8]",
        "{pool: max, kernel: 3, stride: 2, padding: 1, call: function}",
        {"ptflops": 256, "calflops": 256},
    ),
    "avgpool-function": (
        "[4, 8, 8]",
        "{pool: avg, kernel: 2, call: function}",
        {"ptflops": 256, "calflops": 256},
    ),
    # F.pad to 4·8·8 first, as the module case
    "avgpool-uneven-function": (
        "[4, 7, 7]",
        "{pool: avg, kernel: 2, padding: same, call: function}",
        {"ptflops": 256, "calflops": 256},
    ),
    # F.adaptive_avg_pool2d traces to the module's aten::adaptive_avg_pool2d: fvcore 1 per
    # input element (4·7·7 = 196), as for the module
    "adaptive-function": (
        "[4, 7, 7]",
        "{adaptive: 3, call: function}",
        {"fvcore": 196, "ptflops": 196, "calflops": 196},
    ),
    "adaptive-max-function": (
        "[4, 7, 7]",
        "{adaptive: 1, mode: max, call: function}",
        {"ptflops": 196, "calflops": 196},
    ),
    # x.mean([2, 3]) (ShuffleNet v2, MNASNet): aten::mean, which no tool counts
    "gap-function": ("[4, 7, 7]", "{gap: , call: function}", {}),
    "flatten-function": ("[4, 5, 5]", "{flatten: , call: function}", {}),
    "shuffle-function": ("[4, 5, 5]", "{shuffle: 2, call: function}", {}),
    "select-function": ("[4, 5, 5]", "{select: [1, 3], call: function}", {}),
    # an nn.Conv2d subclass (as torchvision's video ResNets' Conv3DSimple of nn.Conv3d), the
    # "conv" case otherwise: thop and ptflops look its class up exactly and count nothing;
    # torchinfo reads "Conv" in its class name, torchscan its isinstance, the rest its ops
    "conv-subclass": (
        "[3, 8, 8]",
        "{conv: 8, kernel: 3, padding: 1, call: subclass}",
        {
            "torch": 2 * 13824,
            "fvcore": 13824,
            "ptflops-aten": 13824 + 512,
            "torchinfo": 13824 + 512,
            "torchscan": 8 * 8 * 8 * (2 * 27 - 1 + 1),
            "torchscan-macs": 13824,
            "calflops": 2 * 13824 + 512,
            "calflops-macs": 13824,
        },
    ),
    # nn.LayerNorm(4) itself on the channels-last map (ConvNeXt's block), not the LayerNorm2d
    # subclass: thop 2 per element, doubled for elementwise_affine; ptflops 1 per element
    # (no `.affine`); the others as for LayerNorm2d (the "layernorm" case)
    "layernorm-channels-last": (
        "[4, 5, 5]",
        "{layernorm: channels, call: channels_last}",
        {
            "fvcore": 5 * 100,
            "ptflops": 100,
            "thop": 2 * 2 * 100,
            "torchinfo": 2 * 4,
            "torchscan": 6 * 100 + 2 * 25 + 100 + 100,
            "calflops": 5 * 100,
        },
    ),
}

CASE_FIGURES = [
    ("torch", "flops"),
    ("fvcore", "macs"),
    ("ptflops", "macs"),
    ("ptflops-aten", "macs"),
    ("thop", "macs"),
    ("torchinfo", "macs"),
    ("torchscan", "flops"),
    ("torchscan-macs", "macs"),
    ("calflops", "flops"),
    ("calflops-macs", "macs"),
]


def case_yaml(case: str) -> str:
    shape, layer, _ = CASES[case]
    return f"input: {shape}\nlayers:\n  - {layer}\n"


@functools.lru_cache(maxsize=None)
def case_module(case: str):
    return exported_yaml_module(case_yaml(case))


@functools.lru_cache(maxsize=None)
def case_tool(case: str, tool: str) -> dict[str, int]:
    return run_tool(tool, case_module(case))


@pytest.mark.parametrize("entry,figure", tool_params(CASE_FIGURES))
@pytest.mark.parametrize("case", CASES)
def test_single_layer_rule(case, entry, figure):
    """The written-out rule is what the tool prints and what the preset gives."""
    expected = CASES[case][2].get(entry, 0)
    preset = entry.removesuffix("-macs")
    assert case_tool(case, preset)[figure] == expected, "the tool's rule"
    assert preset_total(loads(case_yaml(case)), preset, figure) == expected, "cnncalc's preset"


def test_transposed_conv_acceptance():
    """16→8, kernel 4, stride 2, padding 1 on 16×8×8: the MACs are done per input."""
    spec = loads(case_yaml("deconv"))
    assert preset_total(spec, "macs", "macs") == 16 * 8 * 8 * 8 * 4 * 4 == 131_072
    assert preset_total(spec, "macs", "macs", deconv="output") == 8 * 16 * 16 * 16 * 4 * 4
    assert preset_total(spec, "thop", "macs") == 8 * 16 * 16 * 16 * 4 * 4
    assert preset_total(spec, "thop", "macs", deconv="input") == 131_072


# --------------------------------------------------------------------------- the data


@pytest.mark.parametrize("name", CONVENTIONS)
def test_every_convention_says_what_where_and_why(name):
    c = CONVENTIONS[name]
    assert c.counts and c.reason and c.label
    if name in TOOLS:
        assert re.search(r"\d+\.\d+", c.source), "a peer preset names its tool's version"
    assert c.reports in ("macs", "flops")


KNOWN_KEYS = set(LAYER_KINDS) | set(JOIN_KINDS) | {"*"}


@pytest.mark.parametrize("name", CONVENTIONS)
def test_tables_name_only_known_kinds_and_quantities(name):
    """A misspelt key or quantity would silently count nothing."""
    c = CONVENTIONS[name]
    assert c.terms() <= set(QUANTITIES)
    for table in (c.macs, c.flops, c.mults, c.adds, c.space):
        for key in table or {}:
            call, prefix = next(
                ((c, p) for c, p in CALL_PREFIXES.items() if key.startswith(p)), (None, "")
            )
            kind = re.sub(r"\.\dd$", "", key.removeprefix(prefix)).split(".")[0]
            assert kind in KNOWN_KEYS, key
            if call and kind != "*":
                assert getattr(LAYER_KINDS[kind], call), f"{key}: '{kind}' is never a {call}"


# --------------------------------------------------------------------------- the command


@EVERY_TOOL
def test_convention_all_prints_every_tool_number(cli):
    result = cli("flops", "resnet50", "--convention", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["convention"]: r for r in json.loads(result.stdout)["conventions"]}
    assert list(rows) == list(CONVENTIONS)
    for preset, figure in PRESET_FIGURES:
        assert rows[preset][figure] == tool_numbers("resnet50", preset)[figure], preset
    assert rows["macs"]["total"] == 4_089_184_256
    assert rows["fvcore"]["total"] == 4_111_512_576
    assert all(r["reason"] for r in rows.values())


def test_convention_all_table_has_one_row_per_convention(cli):
    result = cli("flops", "lenet", "--convention", "all")
    assert result.exit_code == 0, result.output
    for name, c in CONVENTIONS.items():
        assert re.search(rf"│ {re.escape(name)} +│", result.stdout), name


def test_convention_all_is_for_flops_only(cli):
    result = cli("summary", "lenet", "--convention", "all")
    assert result.exit_code == 2
    assert "cnncalc flops" in result.output and "Traceback" not in result.output


def test_deconv_count_option(cli, yaml_file):
    path = yaml_file(case_yaml("deconv"))
    out = json.loads(cli("flops", path, "--format", "json", "--deconv-count", "output").stdout)
    assert out["total"]["macs"] == 8 * 16 * 16 * 16 * 4 * 4
    table = cli("flops", path, "--convention", "thop", "--deconv-count", "input").stdout
    assert "counted on their input" in table
    bad = cli("flops", path, "--deconv-count", "middle")
    assert bad.exit_code == 2


def test_calflops_crashes_on_a_per_axis_scale_factor():
    """calflops 0.3.2 raises on nn.Upsample(scale_factor=(2.0, 3.0)): its F.interpolate hook
    compares the tuple's length with the batch size and then raises a tuple to a power. The
    preset gives the count its code means (the input's elements). Run apart: the crash
    leaves torch.nn.functional patched."""
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).parent
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from peer_tools import run_tool\n"
        "from pytorch_model import exported_yaml_module\n"
        "m = exported_yaml_module('input: [4, 5, 5]\\nlayers:\\n  - {upsample: [2, 3]}\\n')\n"
        "try:\n    run_tool('calflops', m)\nexcept TypeError as e:\n    print('TypeError', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tests)], capture_output=True, text=True, check=True
    ).stdout
    assert "TypeError" in out and "tuple" in out
    spec = loads("input: [4, 5, 5]\nlayers:\n  - {upsample: [2, 3]}\n")
    assert preset_total(spec, "calflops", "flops") == 100


def test_ptflops_aten_leaves_out_a_linear_bias_on_a_map_in_the_usual_layout():
    """The one place the ptflops-aten preset does not follow the tool: a Linear at every
    position straight after the input (or a conv) gets a permuted, non-contiguous map, and
    aten runs matmul and a separate add; the tool then counts the 600 MACs without the 150
    bias adds, while the preset counts ConvNeXt's case (the "linear" case) for every Linear."""
    module = exported_yaml_module("input: [4, 5, 5]\nlayers:\n  - {linear: 6}\n")
    assert run_tool("ptflops-aten", module)["macs"] == 600
    spec = loads("input: [4, 5, 5]\nlayers:\n  - {linear: 6}\n")
    assert preset_total(spec, "ptflops-aten", "macs") == 600 + 150


# --------------------------------------------------------------------------- the call option

CALLED_BOTH_WAYS = """
input: [4, 9, 9]
layers:
  - {{relu: , call: {call}}}
  - {{pool: max, kernel: 3, stride: 2, call: {call}}}
  - {{pool: avg, kernel: 2, padding: same, call: {call}}}
  - {{shuffle: 2, call: {call}}}
  - {{select: [0, 2], call: {call}}}
  - {{adaptive: 2, call: {call}}}
  - {{gap: , call: {call}}}
  - {{flatten: , call: {call}}}
  - {{fc: 3}}
"""


@needs_tool("torch")
def test_a_layer_called_as_a_function_computes_what_its_module_computes():
    """The export writes each kind's function (F.relu, F.max_pool2d, F.avg_pool2d after an
    uneven F.pad, a channel shuffle by view and transpose, a slice, F.adaptive_avg_pool2d,
    x.mean, torch.flatten) and the forward gives the module version's output, with only
    the fc as a submodule."""
    import torch

    as_modules = exported_yaml_module(CALLED_BOTH_WAYS.format(call="module")).build().eval()
    as_functions = exported_yaml_module(CALLED_BOTH_WAYS.format(call="function")).build().eval()
    assert [n for n, _ in as_functions.named_modules() if n] == ["fc"]
    as_functions.load_state_dict(as_modules.state_dict(), strict=True)
    x = torch.randn(2, 4, 9, 9)
    with torch.no_grad():
        assert torch.equal(as_functions(x), as_modules(x))


@pytest.mark.parametrize(
    "layer,says",
    [
        ("{conv: 8, kernel: 3, call: function}", "call: function is for adaptive, flatten"),
        ("{relu: , call: subclass}", "call: subclass is for conv"),
        ("{batchnorm: , call: channels_last}", "call: channels_last is for layernorm"),
        ("{relu: , call: functional}", "must be 'module', 'function', 'channels_last' or"),
    ],
)
def test_a_call_pytorch_does_not_make_is_refused_in_one_line(cli, yaml_file, layer, says):
    path = yaml_file(f"input: [3, 8, 8]\nlayers:\n  - {{conv: 8, kernel: 3}}\n  - {layer}\n")
    result = cli("flops", path)
    assert result.exit_code == 2
    assert f"{path.name}:4: layers.1.call: " in result.output
    assert says in result.output and "Traceback" not in result.output

"""``cnncalc answers`` for d2l's modern-CNN chapter and the VGG/ResNet/DenseNet tables
(issue 12): every expected number comes from outside cnncalc — the papers' tables, the
book's PyTorch model (tests/d2l_book.py), a torch module written here, PyTorch's
FlopCounterMode and saved tensors, or a formula written out in the test.

Golden files pin the Markdown of three answers (CNNCALC_REGEN_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction

import pytest
from test_cli import check_golden

from cnncalc.answers import answer, entries, section
from cnncalc.answers.modern import MODERN, SECTION_ORDER


@functools.lru_cache(maxsize=None)
def values(name: str) -> dict:
    return answer(name).values


def conv_params(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return c_out * c_in * k * k + (c_out if bias else 0)


# --------------------------------------------------------------------------- torch oracles


def numel(model) -> int:
    return sum(p.numel() for p in model.parameters())


def fc_numel(model) -> int:
    from torch import nn

    return sum(
        p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters()
    )


def flop_counter_macs(model, shape) -> int:
    """PyTorch's FlopCounterMode total (2 per multiply-add) halved, one sample."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros((1, *shape)))
    return counter.get_total_flops() // 2


def shaped(model, shape):
    """A model with Lazy layers, shaped by one pass over zeros, in eval mode."""
    import torch

    model.eval()
    with torch.no_grad():
        model(torch.zeros((1, *shape)))
    return model


def saved_bytes(model, shape, batch: int) -> int:
    """Bytes autograd saves for backward (test_memory.torch_memory), training mode."""
    import torch
    from test_memory import torch_memory

    torch.manual_seed(0)
    return torch_memory(model.train(), torch.randn((batch, *shape)))[0]


def saved_at(model, shape, batch: int) -> int:
    """Saved bytes at ``batch``, from PyTorch at batches 1 and 2: what autograd saves is
    an affine function of the batch (per-sample tensors, plus per-channel statistics)."""
    one, two = saved_bytes(model, shape, 1), saved_bytes(model, shape, 2)
    return one + (batch - 1) * (two - one)


# --------------------------------------------------------------------------- the list


ISSUE_12 = [
    "d2l-batch-memory",
    "d2l-vgg-vs-alexnet",
    "d2l-input-96",
    "vgg-configurations",
    "d2l-nin-1x1",
    "d2l-parameter-sizes",
    "d2l-bias-before-bn",
    "d2l-bn-not-affine",
    "resnet-table1",
    "d2l-preactivation",
    "d2l-densenet-params",
    "d2l-densenet-memory",
    "densenet-table1",
    "d2l-edges",
    "d2l-im2col",
]


def test_every_new_answer_is_listed():
    assert [e.name for e in MODERN] == ISSUE_12
    assert set(ISSUE_12) <= {e.name for e in entries()}


@pytest.mark.parametrize("name", ISSUE_12)
def test_every_new_answer_has_question_working_and_answer(name):
    a = answer(name)
    assert a.question and a.source and a.steps and a.answer


def test_the_list_is_grouped_by_chapter_section(cli):
    data = json.loads(cli("answers", "--format", "json").stdout)
    sections = [e["section"] for e in data]
    order = [SECTION_ORDER.index(s) for s in sections]
    assert order == sorted(order)
    assert {e["name"] for e in data} == {e.name for e in entries()}
    assert section("d2l-densenet-memory") == "d2l 8.7 DenseNet"
    assert section("resnet-table1") == "papers"
    markdown = cli("answers", "--format", "markdown").stdout
    assert "### d2l 8.7 DenseNet" in markdown and "### papers" in markdown


@pytest.mark.parametrize("name", ISSUE_12)
@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv"])
def test_every_new_answer_renders(cli, name, fmt):
    result = cli("answers", name, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


@pytest.mark.parametrize("name", ["d2l-bias-before-bn", "resnet-table1", "d2l-im2col", "d2l-edges"])
def test_answer_markdown_golden(cli, name):
    result = cli("answers", name, "--format", "markdown")
    assert result.exit_code == 0, result.output
    check_golden(f"answers-{name}.md", result.stdout)


# --------------------------------------------------------------------------- 1. batch and memory


def test_batch_memory_grows_only_in_the_kept_activations():
    v = values("d2l-batch-memory")
    runs = v["batches"]
    assert len({(r["weights"], r["gradients"], r["optimizer"]) for r in runs.values()}) == 1
    assert runs[256]["activations"] == 256 * runs[1]["activations"]
    assert v["per sample"] == runs[1]["activations"]


def test_batch_memory_equals_pytorch():
    pytest.importorskip("torch")
    from d2l_book import alexnet

    shape = (1, 224, 224)
    model = shaped(alexnet(), shape)
    runs = values("d2l-batch-memory")["batches"]
    for batch in (1, 128, 256):
        assert runs[batch]["weights"] == 4 * numel(model)
        assert runs[batch]["gradients"] == 4 * numel(model)
        assert runs[batch]["optimizer"] == 0  # plain SGD keeps no state
    assert runs[1]["activations"] == saved_bytes(model, shape, 1)
    assert runs[128]["activations"] == saved_at(model, shape, 128)
    assert runs[256]["activations"] == saved_at(model, shape, 256)


# --------------------------------------------------------------------------- 2. VGG vs AlexNet


def test_vgg_vs_alexnet_big_convs_by_formula():
    v = values("d2l-vgg-vs-alexnet")
    assert v["big convs"] == {
        "net.0.0": 224 * 224 * 64 * 1 * 3 * 3,
        "net.1.0": 112 * 112 * 128 * 64 * 3 * 3,
    }


def test_vgg_vs_alexnet_equal_the_books_models():
    pytest.importorskip("torch")
    from d2l_book import alexnet, vgg

    shape = (1, 224, 224)
    for key, build in (("vgg", vgg), ("alexnet", alexnet)):
        model = shaped(build(), shape)
        params, macs, kept = values("d2l-vgg-vs-alexnet")[key]
        assert params == numel(model)
        assert macs == flop_counter_macs(model, shape)
        assert kept == saved_bytes(model, shape, 1)


# --------------------------------------------------------------------------- 3. 224 → 96


def test_input_96_shapes_by_formula():
    v = values("d2l-input-96")
    size = (96 - 11 + 2) // 4 + 1  # 22
    for k, s, p in ((3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)):
        size = (size - k + 2 * p) // s + 1
    assert v["fc in"] == (256 * 5 * 5, 256 * size * size) == (6400, 256)


def test_input_96_equals_the_books_model():
    pytest.importorskip("torch")
    from d2l_book import alexnet

    v = values("d2l-input-96")
    for i, side in enumerate((224, 96)):
        model = shaped(alexnet(), (1, side, side))
        assert model.net[14].in_features == v["fc in"][i]
        assert numel(model) == v["params"][i]
        assert flop_counter_macs(model, (1, side, side)) == v["macs"][i]


# --------------------------------------------------------------------------- 4. VGG's configurations


VGG_TABLE2_MILLIONS = {"A": 133, "B": 133, "C": 134, "D": 138, "E": 144}
"""Simonyan & Zisserman 2015, Table 2."""

VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1:256", "M"]
    + [512, 512, "1:512", "M", 512, 512, "1:512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"]
    + [512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
    + [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
"""Table 1, column by column ('1:c' is C's conv1-c)."""


def vgg_paper(config):
    from torch import nn

    layers, c_in = [], 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        k, c = (1, int(item[2:])) if isinstance(item, str) else (3, item)
        layers += [nn.Conv2d(c_in, c, k, padding=k // 2), nn.ReLU()]
        c_in = c
    layers += [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU()]
    layers += [nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000)]
    return nn.Sequential(*layers)


def test_vgg_configurations_are_table_2():
    v = values("vgg-configurations")
    assert {n: round(p / 1e6) for n, (p, _) in v.items()} == VGG_TABLE2_MILLIONS
    # C against D: three 3x3 convs become 1x1, 9 - 1 = 8 weights of every 9 saved
    assert v["D"][0] - v["C"][0] == 8 * (256 * 256 + 512 * 512 + 512 * 512)


def test_vgg_configurations_equal_pytorch():
    pytest.importorskip("torch")
    v = values("vgg-configurations")
    for name, config in VGG_CONFIGS.items():
        model = vgg_paper(config)
        assert v[name][0] == numel(model), name
        assert v[name][1] == flop_counter_macs(model, (3, 224, 224)), name


# --------------------------------------------------------------------------- 5. NiN


def nin_one(num_classes=10):
    """d2l's NiN (8.3) with one 1x1 conv per block."""
    from torch import nn

    def block(c, k, s, p):
        return nn.Sequential(nn.LazyConv2d(c, k, s, p), nn.ReLU(), nn.LazyConv2d(c, 1), nn.ReLU())

    return nn.Sequential(
        block(96, 11, 4, 0),
        nn.MaxPool2d(3, stride=2),
        block(256, 5, 1, 2),
        nn.MaxPool2d(3, stride=2),
        block(384, 3, 1, 1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        block(num_classes, 3, 1, 1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


def test_nin_blocks_by_formula():
    blocks = values("d2l-nin-1x1")["blocks"]
    assert blocks["nin1"] == (54 * 54 * 96 * 1 * 11 * 11, 2 * 54 * 54 * 96 * 96)
    assert blocks["nin2"] == (26 * 26 * 256 * 96 * 5 * 5, 2 * 26 * 26 * 256 * 256)


def test_nin_two_and_one_equal_pytorch():
    pytest.importorskip("torch")
    from d2l_book import nin

    shape = (1, 224, 224)
    v = values("d2l-nin-1x1")
    for key, build in (("two", nin), ("one", nin_one)):
        model = shaped(build(), shape)
        assert v[key] == (numel(model), flop_counter_macs(model, shape)), key


# --------------------------------------------------------------------------- 6. parameter sizes


def test_parameter_sizes_equal_the_books_models():
    pytest.importorskip("torch")
    from d2l_book import BOOK, alexnet, googlenet, nin, vgg

    v = values("d2l-parameter-sizes")
    for name, build in (
        ("d2l-alexnet", alexnet),
        ("d2l-vgg11", vgg),
        ("nin", nin),
        ("d2l-googlenet", googlenet),
    ):
        model = shaped(build(), BOOK[name][1])
        assert v[name] == (numel(model), fc_numel(model)), name


def test_parameter_sizes_nin_has_no_fc():
    assert values("d2l-parameter-sizes")["nin"][1] == 0
    # VGG-11's first fc: 512·7·7 inputs, 4096 outputs, with bias
    a = answer("d2l-parameter-sizes")
    assert str(512 * 7 * 7 * 4096 + 4096) == a.answer[-1].result


# --------------------------------------------------------------------------- 7. bias before BN


def test_bias_before_bn_by_formula():
    v = values("d2l-bias-before-bn")
    assert v["dropped"] == {"net.0": 6, "net.4": 16, "net.9": 120, "net.12": 84}
    assert v["with"] - v["without"] == 6 + 16 + 120 + 84


def bn_lenet_no_bias():
    from torch import nn

    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, bias=False),
        nn.LazyBatchNorm2d(),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5, bias=False),
        nn.LazyBatchNorm2d(),
        nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120, bias=False),
        nn.LazyBatchNorm1d(),
        nn.Sigmoid(),
        nn.LazyLinear(84, bias=False),
        nn.LazyBatchNorm1d(),
        nn.Sigmoid(),
        nn.LazyLinear(10),
    )


def test_bias_before_bn_equals_pytorch_and_changes_nothing():
    """The parameter counts of the book's BNLeNet and of it without the biases; and in
    training mode the two compute the same function when they share their weights."""
    torch = pytest.importorskip("torch")
    from d2l_book import bn_lenet

    shape = (1, 28, 28)
    with_bias, no_bias = shaped(bn_lenet(), shape).net, shaped(bn_lenet_no_bias(), shape)
    v = values("d2l-bias-before-bn")
    assert (v["with"], v["without"]) == (numel(with_bias), numel(no_bias))
    state = {k: t for k, t in with_bias.state_dict().items() if k in no_bias.state_dict()}
    no_bias.load_state_dict(state)
    x = torch.randn((8, *shape))
    with torch.no_grad():
        assert torch.allclose(with_bias.train()(x), no_bias.train()(x), atol=1e-5)


# --------------------------------------------------------------------------- 9. ResNet's Table 1


RESNET_TABLE1 = {
    "resnet18": 1.8,
    "resnet34": 3.6,
    "resnet50": 3.8,
    "resnet101": 7.6,
    "resnet152": 11.3,
}
"""He et al. 2016, Table 1, FLOPs (× 10⁹, multiply-adds), given to two figures."""

TORCHVISION_PARAMS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
}
"""torchvision's model documentation, 'num_params' of each ResNet's ImageNet weights."""


def test_resnet_table1_matches_the_paper_to_its_figures():
    v = values("resnet-table1")
    assert v["params"] == TORCHVISION_PARAMS
    for name, paper in RESNET_TABLE1.items():
        assert abs(v["paper macs"][name] / 1e9 - paper) < 0.07, name
    for name in ("resnet50", "resnet101", "resnet152"):
        assert v["torchvision macs"][name] / 1e9 - RESNET_TABLE1[name] > 0.2, name


def test_resnet_v15_extra_by_formula():
    """v1.5's first 1x1 conv of layer2.0/3.0/4.0 runs on the full map (c_in·width·H²)
    where v1's runs at stride 2 (c_in·width·(H/2)²)."""
    extra = sum(
        c * w * (h * h - (h // 2) ** 2)
        for c, w, h in ((256, 128, 56), (512, 256, 28), (1024, 512, 14))
    )
    assert values("resnet-table1")["v1.5 extra"] == extra


# --------------------------------------------------------------------------- 10. pre-activation


def residual_block(pre: bool):
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(64, 64, 3, padding=1)
            self.conv2 = nn.Conv2d(64, 64, 3, padding=1)
            self.bn1, self.bn2 = nn.BatchNorm2d(64), nn.BatchNorm2d(64)
            self.relu = nn.ReLU()

        def forward(self, x):
            if pre:
                y = self.conv1(self.relu(self.bn1(x)))
                return x + self.conv2(self.relu(self.bn2(y)))
            y = self.relu(self.bn1(self.conv1(x)))
            return self.relu(x + self.bn2(self.conv2(y)))

    return Block()


def test_preactivation_equals_pytorch():
    pytest.importorskip("torch")
    v = values("d2l-preactivation")
    shape = (64, 56, 56)
    for key in ("post", "pre"):
        block = residual_block(key == "pre")
        expected = (
            numel(block),
            flop_counter_macs(block.eval(), shape),
            saved_bytes(block, shape, 1),
        )
        assert v[key] == expected, key
    assert (
        v["post"][:2]
        == v["pre"][:2]
        == (2 * conv_params(64, 64, 3) + 4 * 64, 2 * 56 * 56 * 64 * 64 * 9)
    )


# --------------------------------------------------------------------------- 11, 13. DenseNet


def densenet_bc(growth, blocks, init):
    """DenseNet-BC (Huang et al. 2017) written from the paper: stem, dense layers
    BN-ReLU-1x1(4k)-BN-ReLU-3x3(k), transitions halving the channels, 1000-way fc."""
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.f = nn.Sequential(
                nn.BatchNorm2d(c),
                nn.ReLU(),
                nn.Conv2d(c, 4 * growth, 1, bias=False),
                nn.BatchNorm2d(4 * growth),
                nn.ReLU(),
                nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False),
            )

        def forward(self, x):
            return torch.cat([x, self.f(x)], 1)

    layers = [
        nn.Conv2d(3, init, 7, 2, 3, bias=False),
        nn.BatchNorm2d(init),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    c = init
    for i, n in enumerate(blocks):
        for _ in range(n):
            layers.append(Layer(c))
            c += growth
        if i < len(blocks) - 1:
            layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False)]
            layers.append(nn.AvgPool2d(2, 2))
            c //= 2
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers, nn.Linear(c, 1000))


DENSENET_TABLE1 = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
    "densenet264": (32, (6, 12, 64, 48), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
}
"""Table 1 of the paper (growth k, layers per block, stem width 2k)."""

TORCHVISION_DENSENET_PARAMS = {
    "densenet121": 7_978_856,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "densenet161": 28_681_000,
}
"""torchvision's model documentation, 'num_params'."""


def test_densenet_table1_params_are_torchvisions():
    v = values("densenet-table1")
    for name, params in TORCHVISION_DENSENET_PARAMS.items():
        assert v[name][0] == params, name


@pytest.mark.parametrize("name", list(DENSENET_TABLE1))
def test_densenet_table1_equals_pytorch(name):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = densenet_bc(*DENSENET_TABLE1[name])
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model.eval()(torch.zeros((1, 3, 224, 224)))
    assert values("densenet-table1")[name] == (numel(model), counter.get_total_flops() // 2)


def test_densenet_params_equal_the_books_models():
    pytest.importorskip("torch")
    from d2l_book import densenet, resnet18

    v = values("d2l-densenet-params")
    shape = (1, 96, 96)
    for name, build in (("d2l-densenet", densenet), ("d2l-resnet18", resnet18)):
        model = shaped(build(), shape)
        assert v[name] == (numel(model), flop_counter_macs(model, shape)), name
    assert v["densenet121"][0] == TORCHVISION_DENSENET_PARAMS["densenet121"]
    assert v["resnet50"][0] == TORCHVISION_PARAMS["resnet50"]


def test_densenet_params_growth_by_formula():
    """A dense layer's 3x3 conv writes 32 channels whatever it reads: 9·c_in·32 + 32."""
    a = answer("d2l-densenet-params")
    dense = a.steps[1].rows
    assert [r[3] for r in dense[:4]] == [conv_params(c, 32, 3) for c in (64, 96, 128, 160)]


# --------------------------------------------------------------------------- 12. DenseNet's memory


@pytest.mark.parametrize("name", ["d2l-densenet", "d2l-resnet18"])
@pytest.mark.parametrize("side", [96, 224])
def test_densenet_memory_equals_pytorch(name, side):
    pytest.importorskip("torch")
    from d2l_book import densenet, resnet18

    build = {"d2l-densenet": densenet, "d2l-resnet18": resnet18}[name]
    shape = (1, side, side)
    model = shaped(build(), shape)
    v = values("d2l-densenet-memory")[f"{name} {side}"]
    assert v["weights"] == v["gradients"] == 4 * numel(model)
    assert v["activations"] == saved_at(model, shape, 256)


def test_densenet_keeps_more_than_resnet18():
    v = values("d2l-densenet-memory")
    for side in (96, 224):
        assert v[f"d2l-densenet {side}"]["activations"] > v[f"d2l-resnet18 {side}"]["activations"]
        assert v[f"d2l-densenet {side}"]["weights"] < v[f"d2l-resnet18 {side}"]["weights"]


# --------------------------------------------------------------------------- 14. im2col


def test_im2col_shapes_by_formula():
    v = values("d2l-im2col")
    # d2l's AlexNet net.3: 96x26x26 in, 256 filters of 5x5, padding 2
    assert v["columns"] == (96 * 5 * 5, 26 * 26)
    assert v["weights"] == (256, 96 * 5 * 5)
    assert v["bytes"] == (4 * 96 * 25 * 26 * 26, 4 * 96 * 26 * 26)
    assert v["macs"] == 256 * 96 * 25 * 26 * 26
    assert Fraction(*v["bytes"]) == 25


def test_im2col_is_the_executors_conv():
    """torch's unfold has the answer's column shape, and the weight matrix times the
    columns is the conv that cnncalc's fast executor computes."""
    torch = pytest.importorskip("torch")
    import numpy as np

    from cnncalc.executor import get_ops

    v = values("d2l-im2col")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 96, 26, 26)).astype(np.float32)
    w = rng.standard_normal((256, 96, 5, 5)).astype(np.float32)
    cols = torch.nn.functional.unfold(torch.from_numpy(x), 5, padding=2)
    assert tuple(cols.shape[1:]) == v["columns"]
    product = (torch.from_numpy(w).reshape(v["weights"]) @ cols[0]).reshape(256, 26, 26)
    y, _ = get_ops("fast").conv(x, w, pad=2)
    assert np.allclose(y[0], product.numpy(), atol=1e-3)


# --------------------------------------------------------------------------- 8. γ and β not learnt


def test_bn_not_affine_by_formula():
    v = values("d2l-bn-not-affine")
    channels = {"net.1": 6, "net.5": 16, "net.10": 120, "net.13": 84}
    assert v["per layer"] == {n: (2 * c, 2 * c) for n, c in channels.items()}
    assert v["params"] - v["params without affine"] == 2 * sum(channels.values())


def test_bn_not_affine_equals_pytorch():
    """BNLeNet with affine=False BatchNorms: its parameters; its buffers, less the four
    int64 num_batches_tracked counters that cnncalc counts apart from the statistics."""
    pytest.importorskip("torch")
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.BatchNorm2d(6, affine=False),
        nn.Sigmoid(),
        nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5),
        nn.BatchNorm2d(16, affine=False),
        nn.Sigmoid(),
        nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.BatchNorm1d(120, affine=False),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.BatchNorm1d(84, affine=False),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )
    v = values("d2l-bn-not-affine")
    assert v["params without affine"] == numel(model)
    stats = [b for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")]
    assert v["buffers"] == sum(b.numel() for b in stats)


# --------------------------------------------------------------------------- 15. edges


def edge_images():
    """d2l 7.2.4's stripe, transposed (8×6, rows 2 to 5 black), and a 6×6 triangle white
    strictly above the main diagonal."""
    import numpy as np

    stripe = np.ones((6, 8))
    stripe[:, 2:6] = 0
    return stripe.T.copy(), np.triu(np.ones((6, 6)), k=1)


def test_edges_by_hand():
    v = values("d2l-edges")
    horizontal = v["horizontal"]
    assert horizontal[1] == (1,) * 6 and horizontal[5] == (-1,) * 6
    assert all(not any(r) for i, r in enumerate(horizontal) if i not in (1, 5))
    assert not any(map(any, v["vertical"])) and not any(map(any, v["anti-diagonal"]))
    # X[i, j+1] − X[i+1, j] on the triangle: 1 where j = i or j = i + 1
    assert v["diagonal"] == tuple(tuple(int(j in (i, i + 1)) for j in range(5)) for i in range(5))


def test_edges_equal_the_executor_and_pytorch():
    torch = pytest.importorskip("torch")
    import numpy as np

    from cnncalc.answers.modern import EDGE_KERNELS
    from cnncalc.executor import get_ops

    horizontal_image, triangle = edge_images()
    v = values("d2l-edges")
    for name, image in (
        ("horizontal", horizontal_image),
        ("vertical", horizontal_image),
        ("diagonal", triangle),
        ("anti-diagonal", triangle),
    ):
        k = np.array(EDGE_KERNELS[name], dtype=float)
        x4, k4 = image[None, None], k[None, None]
        by_torch = torch.nn.functional.conv2d(torch.from_numpy(x4), torch.from_numpy(k4))
        by_executor, _ = get_ops("fast").conv(x4, k4)
        assert np.array_equal(by_torch[0, 0].numpy(), np.array(v[name], dtype=float)), name
        assert np.array_equal(by_executor[0, 0], np.array(v[name], dtype=float)), name

"""d2l's own CNNs in the zoo against the book ("Dive into Deep Learning", PyTorch edition).

Zoo networks: ``d2l-alexnet`` (8.1), ``d2l-vgg11`` (8.2), ``d2l-googlenet`` (8.4),
``d2l-lenet-bn`` (8.5), ``d2l-resnet18`` (8.6), ``d2l-densenet`` (8.7), and the older
``nin`` (8.3) and ``lenet`` (7.6), which were d2l's from the start.

Two kinds of evidence, neither produced by cnncalc:

* torch-free: the shapes the book prints, and parameters and MACs from the counting
  formulas with the book's numbers in them (the helpers below);
* the book's model itself, written from the book's code in ``d2l_book.py``: its
  parameters, state_dict keys and shapes, output shape and FlopCounterMode count, and
  its output on random weights, against cnncalc's numbers and exported module.
"""

from __future__ import annotations

import functools
import json

import pytest

from cnncalc.analysis.pipeline import analyze, load


@functools.lru_cache(maxsize=None)
def result(name: str):
    """analyze() of a built-in network at its declared input, batch 1, convention macs."""
    return analyze(load(name))


def shapes(name: str) -> dict:
    return {row.name: tuple(row.out_shape) for row in result(name).layers}


def conv_params(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """c_out · c_in · k² weights, plus c_out biases (d2l's LazyConv2d keeps its bias)."""
    return c_out * c_in * k * k + (c_out if bias else 0)


def conv_macs(c_in: int, c_out: int, k: int, h_out: int, w_out: int | None = None) -> int:
    """h_out · w_out · c_out · c_in · k²: one multiply-accumulate per weight use."""
    return h_out * (h_out if w_out is None else w_out) * c_out * c_in * k * k


def fc_params(n_in: int, n_out: int) -> int:
    return n_out * (n_in + 1)


def bn_params(c: int) -> int:
    """γ and β per channel (the running mean and variance are buffers)."""
    return 2 * c


def assert_totals(name: str, params: int, macs: int, depth: int | None = None) -> None:
    """The network's total parameters and MACs (and depth) equal the hand counts."""
    res = result(name)
    assert res.total.params == params
    assert res.total.macs == macs
    if depth is not None:
        assert res.depth == depth


def out_size(n: int, k: int, s: int = 1, p: int = 0) -> int:
    """d2l 7.3: ⌊(n − k + 2p + s) / s⌋ with p per side."""
    return (n - k + 2 * p + s) // s


# --------------------------------------------------------------------------- the zoo lists them


def test_zoo_titles_say_d2l(cli):
    """`cnncalc zoo` tells the book's versions from torchvision's and the papers'."""
    run = cli("zoo", "--format", "json")
    assert run.exit_code == 0, run.output
    entries = {e["name"]: e for e in json.loads(run.output)}
    for name in ("d2l-alexnet", "d2l-vgg11", "d2l-googlenet", "d2l-lenet-bn"):
        assert entries[name]["title"].endswith("(d2l)"), name
        assert entries[name]["source"].startswith("d2l.ai, ch. 8."), name
    for name in ("d2l-resnet18", "d2l-densenet", "nin", "lenet"):
        assert "(d2l)" in entries[name]["title"], name
    assert "(d2l)" not in entries["alexnet"]["title"]


# --------------------------------------------------------------------------- 8.1 AlexNet


def test_d2l_alexnet_shapes():
    """8.1 prints: Conv2d 96×54×54, MaxPool2d 96×26×26, Conv2d 256×26×26, MaxPool2d
    256×12×12, three Conv2d at 12×12 (384, 384, 256), MaxPool2d 256×5×5, Flatten 6400,
    Linear 4096, 4096, 10."""
    assert out_size(224, 11, 4, 1) == 54
    got = shapes("d2l-alexnet")
    assert got["net.0"] == (96, 54, 54)
    assert got["net.2"] == (96, 26, 26)
    assert got["net.3"] == (256, 26, 26)
    assert got["net.5"] == (256, 12, 12)
    assert [got["net.6"], got["net.8"], got["net.10"]] == [
        (384, 12, 12),
        (384, 12, 12),
        (256, 12, 12),
    ]
    assert got["net.12"] == (256, 5, 5)
    assert got["net.13"] == (256 * 5 * 5,) == (6400,)
    assert [got["net.14"], got["net.17"], got["net.20"]] == [(4096,), (4096,), (10,)]


def test_d2l_alexnet_params_and_macs():
    """Five convs and three fc layers by the formulas, on one input channel."""
    params = (
        conv_params(1, 96, 11)
        + conv_params(96, 256, 5)
        + conv_params(256, 384, 3)
        + conv_params(384, 384, 3)
        + conv_params(384, 256, 3)
        + fc_params(6400, 4096)
        + fc_params(4096, 4096)
        + fc_params(4096, 10)
    )
    macs = (
        conv_macs(1, 96, 11, 54)
        + conv_macs(96, 256, 5, 26)
        + conv_macs(256, 384, 3, 12)
        + conv_macs(384, 384, 3, 12)
        + conv_macs(384, 256, 3, 12)
        + 6400 * 4096
        + 4096 * 4096
        + 4096 * 10
    )
    assert params == 46_764_746
    assert_totals("d2l-alexnet", params, macs, depth=8)


# --------------------------------------------------------------------------- 8.2 VGG-11


VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def test_d2l_vgg11_shapes():
    """8.2 prints each block's output: 64×112×112, 128×56×56, 256×28×28, 512×14×14,
    512×7×7, then Flatten 25088, Linear 4096, 4096, 10."""
    got = shapes("d2l-vgg11")
    size = 224
    for i, (num_convs, c) in enumerate(VGG11_ARCH):
        size //= 2
        assert got[f"net.{i}.{2 * num_convs}"] == (c, size, size), i
    assert got["net.5"] == (512 * 7 * 7,) == (25088,)
    assert [got["net.6"], got["net.9"], got["net.12"]] == [(4096,), (4096,), (10,)]


def test_d2l_vgg11_params_and_macs_follow_the_arch():
    """Walk the book's conv_arch: each conv is 3×3 with padding 1 at the block's size,
    each block halves the size; then 25088 → 4096 → 4096 → 10."""
    params = macs = 0
    c_in, size = 1, 224
    for num_convs, c in VGG11_ARCH:
        for _ in range(num_convs):
            params += conv_params(c_in, c, 3)
            macs += conv_macs(c_in, c, 3, size)
            c_in = c
        size //= 2
    params += fc_params(25088, 4096) + fc_params(4096, 4096) + fc_params(4096, 10)
    macs += 25088 * 4096 + 4096 * 4096 + 4096 * 10
    assert params == 128_806_154
    assert_totals("d2l-vgg11", params, macs, depth=8 + 3)


# --------------------------------------------------------------------------- 8.4 GoogLeNet


GOOGLENET_INCEPTIONS = [
    # (c_in, c1, (c2a, c2b), (c3a, c3b), c4, size): the book's b3, b4, b5 at 96×96
    (192, 64, (96, 128), (16, 32), 32, 12),
    (256, 128, (128, 192), (32, 96), 64, 12),
    (480, 192, (96, 208), (16, 48), 64, 6),
    (512, 160, (112, 224), (24, 64), 64, 6),
    (512, 128, (128, 256), (24, 64), 64, 6),
    (512, 112, (144, 288), (32, 64), 64, 6),
    (528, 256, (160, 320), (32, 128), 128, 6),
    (832, 256, (160, 320), (32, 128), 128, 3),
    (832, 384, (192, 384), (48, 128), 128, 3),
]


def test_d2l_googlenet_shapes():
    """8.4 prints the five modules' outputs at 96×96: 64×24×24, 192×12×12, 480×6×6,
    832×3×3, 1024, and the Linear's 10."""
    got = shapes("d2l-googlenet")
    assert got["net.0.2"] == (64, 24, 24)
    assert got["net.1.4"] == (192, 12, 12)
    assert got["net.2.2"] == (480, 6, 6)
    assert got["net.3.5"] == (832, 3, 3)
    assert got["net.4.3"] == (1024,)
    assert got["net.5"] == (10,)
    for c_in, c1, c2, c3, c4, _ in GOOGLENET_INCEPTIONS[1:]:
        assert c_in in (256, 480, 512, 528, 832)  # the previous block's c1 + c2b + c3b + c4


def test_d2l_googlenet_params_and_macs():
    """b1: 7×7 conv 1 → 64 at 48×48; b2: 1×1 64 → 64 and 3×3 64 → 192 at 24×24; each
    Inception's six convs at its size; Linear 1024 → 10."""
    params = conv_params(1, 64, 7) + conv_params(64, 64, 1) + conv_params(64, 192, 3)
    macs = conv_macs(1, 64, 7, 48) + conv_macs(64, 64, 1, 24) + conv_macs(64, 192, 3, 24)
    for c_in, c1, (c2a, c2b), (c3a, c3b), c4, s in GOOGLENET_INCEPTIONS:
        convs = [(c_in, c1, 1), (c_in, c2a, 1), (c2a, c2b, 3), (c_in, c3a, 1), (c3a, c3b, 5)]
        convs.append((c_in, c4, 1))
        params += sum(conv_params(i, o, k) for i, o, k in convs)
        macs += sum(conv_macs(i, o, k, s) for i, o, k in convs)
    params += fc_params(1024, 10)
    macs += 1024 * 10
    assert_totals("d2l-googlenet", params, macs, depth=22)


# --------------------------------------------------------------------------- 8.5 BNLeNet


def test_d2l_lenet_bn_shapes_params_and_macs():
    """BNLeNet at 28×28: the unpadded 5×5 convs give 24 and 8, the pools 12 and 4; a
    BatchNorm (γ, β) after each conv and hidden Linear."""
    assert out_size(28, 5) == 24 and out_size(12, 5) == 8
    got = shapes("d2l-lenet-bn")
    assert got["net.0"] == (6, 24, 24)
    assert got["net.3"] == (6, 12, 12)
    assert got["net.4"] == (16, 8, 8)
    assert got["net.7"] == (16, 4, 4)
    assert got["net.8"] == (256,)
    assert [got["net.9"], got["net.10"], got["net.12"], got["net.15"]] == [
        (120,),
        (120,),
        (84,),
        (10,),
    ]
    params = (
        conv_params(1, 6, 5)
        + bn_params(6)
        + conv_params(6, 16, 5)
        + bn_params(16)
        + fc_params(256, 120)
        + bn_params(120)
        + fc_params(120, 84)
        + bn_params(84)
        + fc_params(84, 10)
    )
    macs = conv_macs(1, 6, 5, 24) + conv_macs(6, 16, 5, 8) + 256 * 120 + 120 * 84 + 84 * 10
    res = result("d2l-lenet-bn")
    assert res.total.params == params == 44_878
    assert res.total.buffers == 2 * (6 + 16 + 120 + 84)  # running mean and variance
    assert res.total.macs == macs


# --------------------------------------------------------------------------- 8.6 ResNet-18


def test_d2l_resnet18_shapes():
    """8.6 prints at 96×96: 64×24×24, then the four modules 64×24×24, 128×12×12,
    256×6×6, 512×3×3, then 10."""
    got = shapes("d2l-resnet18")
    assert got["net.0.3"] == (64, 24, 24)
    assert got["net.b2.1.bn2"] == (64, 24, 24)
    assert got["net.b3.1.bn2"] == (128, 12, 12)
    assert got["net.b4.1.bn2"] == (256, 6, 6)
    assert got["net.b5.1.bn2"] == (512, 3, 3)
    assert got["net.b3.0.conv3"] == (128, 12, 12)
    assert got["net.last.2"] == (10,)


def test_d2l_resnet18_params_and_macs():
    """b1: 7×7 conv with bias + BN at 48×48; each Residual two 3×3 convs (with bias) and
    two BNs, the first of b3, b4, b5 also a strided 1×1 conv3; Linear 512 → 10."""
    params = conv_params(1, 64, 7) + bn_params(64)
    macs = conv_macs(1, 64, 7, 48)
    c_in, size = 64, 24
    for stage, c in enumerate((64, 128, 256, 512)):
        for i in range(2):
            first = i == 0 and stage > 0
            out = size // 2 if first else size
            params += conv_params(c_in, c, 3) + conv_params(c, c, 3) + 2 * bn_params(c)
            macs += conv_macs(c_in, c, 3, out) + conv_macs(c, c, 3, out)
            if first:
                params += conv_params(c_in, c, 1)
                macs += conv_macs(c_in, c, 1, out)
            c_in, size = c, out
    params += fc_params(512, 10)
    macs += 512 * 10
    assert_totals("d2l-resnet18", params, macs, depth=18)


# --------------------------------------------------------------------------- 8.7 DenseNet


def test_d2l_densenet_channels_and_params():
    """num_channels 64, growth 32, arch (4, 4, 4, 4): each dense block adds 4·32 = 128
    channels, each transition halves them: 192 → 96 → 224 → 112 → 240 → 120 → 248."""
    got = shapes("d2l-densenet")
    params = conv_params(1, 64, 7) + bn_params(64)
    macs = conv_macs(1, 64, 7, 48)
    c, size = 64, 24
    for i in range(4):
        for j in range(4):
            params += bn_params(c) + conv_params(c, 32, 3)
            macs += conv_macs(c, 32, 3, size)
            c += 32
        assert got[f"net.dense_blk{i + 1}.net.3.concat"] == (c, size, size)
        if i < 3:
            params += bn_params(c) + conv_params(c, c // 2, 1)
            macs += conv_macs(c, c // 2, 1, size)
            c, size = c // 2, size // 2
            assert got[f"net.tran_blk{i + 1}.3"] == (c, size, size)
    assert (c, size) == (248, 3)
    params += bn_params(248) + fc_params(248, 10)
    macs += 248 * 10
    assert_totals("d2l-densenet", params, macs)


# --------------------------------------------------------------------------- the book's models


D2L_NAMES = [
    "d2l-alexnet",
    "d2l-vgg11",
    "d2l-googlenet",
    "d2l-lenet-bn",
    "d2l-resnet18",
    "d2l-densenet",
]
"""Named by the book's module paths, so their state_dicts are the book's model's."""
BOOK_NAMES = D2L_NAMES + ["nin", "lenet"]


@pytest.mark.parametrize("name", BOOK_NAMES)
def test_params_shape_and_flop_counter_equal_the_books_model(name):
    """The book's model on the meta device (shapes only): its parameter count, output
    shape, and FlopCounterMode total / 2 (conv and linear multiply-adds) equal cnncalc's."""
    torch = pytest.importorskip("torch")
    from d2l_book import BOOK, book_model
    from torch.utils.flop_counter import FlopCounterMode

    model = book_model(name, device="meta")
    _, shape = BOOK[name]
    res = result(name)
    assert load(name).input == shape
    assert sum(p.numel() for p in model.parameters()) == res.total.params
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(torch.zeros((1, *shape), device="meta"))
    assert tuple(y.shape) == (1, *res.layers[-1].out_shape)
    assert counter.get_total_flops() == 2 * res.total.macs


@pytest.mark.parametrize("name", D2L_NAMES)
def test_state_dict_is_the_books_model(name):
    """Every key of the book's model's state_dict with its shape, and no other: a
    checkpoint trained with the book's code loads into `cnncalc export --to pytorch`."""
    pytest.importorskip("torch")
    from d2l_book import book_model

    want = {k: tuple(v.shape) for k, v in book_model(name, device="meta").state_dict().items()}
    got = {k: tuple(s) for row in result(name).layers for k, s in row.state_dict}
    assert got == want


@pytest.mark.parametrize("name", D2L_NAMES)
def test_exported_module_computes_the_books_function(name):
    """The book's model in float64 with its BatchNorm affine parameters and statistics
    drawn at random (torch initialises them to 1, 0, 0, 1, which would hide a misplaced
    BatchNorm), loaded strictly into the exported module: on the same input both give
    the same output, so the layers, their order and their wiring are the book's."""
    torch = pytest.importorskip("torch")
    from d2l_book import BOOK, book_model
    from pytorch_model import torch_model

    book = book_model(name).double()
    gen = torch.Generator().manual_seed(8)
    with torch.no_grad():
        for module in book.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                for t in (module.weight, module.running_var):
                    t.copy_(torch.rand(t.shape, generator=gen, dtype=t.dtype) + 0.5)
                for t in (module.bias, module.running_mean):
                    t.copy_(torch.rand(t.shape, generator=gen, dtype=t.dtype) - 0.5)
    exported = torch_model(name).double()
    exported.load_state_dict(book.state_dict(), strict=True)
    _, shape = BOOK[name]
    x = torch.rand((1, *shape), generator=gen, dtype=torch.float64)
    with torch.no_grad():
        want = book(x)
        torch.testing.assert_close(
            exported(x), want, rtol=1e-9, atol=1e-12 * float(want.abs().max())
        )

"""The 2015 U-Net (examples/unet-2015.yaml) against the paper and a PyTorch model of it.

Ronneberger, Fischer, Brox, "U-Net: Convolutional networks for biomedical image
segmentation" (MICCAI 2015): Fig. 1 gives every map's size for a 572 x 572 tile, section
2 the layers ("The network has 23 convolutional layers in total"). Evidence not made by
cnncalc: those sizes; parameters and MACs counted by the formulas below with the paper's
widths; and ``unet_paper.UNet2015``, written from the paper's text, whose crop is worked
out from the tensors it joins: its parameters, state_dict, FlopCounterMode count and its
output, loaded into cnncalc's exported module and run by cnncalc's executor.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.model.zoo import zoo_path

LEVELS = (64, 128, 256, 512, 1024)
"""Channels of the five levels (section 2: doubled at each downsampling step)."""


@functools.lru_cache(maxsize=None)
def result():
    return analyze(load("unet-2015"))


def out_shape(name: str) -> tuple:
    rows = [r for r in result().layers if r.name == name]
    assert len(rows) == 1, name
    return tuple(rows[0].out_shape)


def test_unet_map_sizes_are_fig_1s():
    """Fig. 1, 572 x 572 tile: each unpadded 3x3 conv loses 2, each pool halves, each
    up-convolution doubles; the output segmentation map is 388 x 388 with 2 classes."""
    assert load("unet-2015").input == (1, 572, 572)
    contracting = {"enc1": 568, "enc2": 280, "enc3": 136, "enc4": 64, "bottom": 28}
    for (name, size), c in zip(contracting.items(), LEVELS):
        assert out_shape(f"{name}.3") == (c, size, size), name
    expanding = {
        "up4": (512, 56),
        "dec4.3": (512, 52),
        "up3": (256, 104),
        "dec3.3": (256, 100),
        "up2": (128, 200),
        "dec2.3": (128, 196),
        "up1": (64, 392),
        "dec1.3": (64, 388),
        "head": (2, 388),
    }
    for name, (c, size) in expanding.items():
        assert out_shape(name) == (c, size, size), name
    crops = [tuple(r.out_shape) for r in result().layers if r.kind == "crop"]
    assert sorted(crops) == sorted(
        [(64, 392, 392), (128, 200, 200), (256, 104, 104), (512, 56, 56)]
    )


def test_unet_has_the_papers_23_convolutional_layers():
    """Section 3: "The network has 23 convolutional layers in total": two 3x3 convs at
    each of 5 levels down, 4 up-convolutions and 2 convs at each of 4 levels up, and the
    final 1x1 conv, all on one chain."""
    assert 5 * 2 + 4 * (1 + 2) + 1 == 23
    assert result().depth == 23


def conv_params(c_in: int, c_out: int, k: int) -> int:
    """c_out · c_in · k² weights and c_out biases (a 2015 conv has a bias, no BatchNorm)."""
    return c_out * c_in * k * k + c_out


def test_unet_params_are_31_030_658():
    down = [(1, 64), (64, 128), (128, 256), (256, 512), (512, 1024)]
    params = sum(conv_params(a, b, 3) + conv_params(b, b, 3) for a, b in down)
    for c in (1024, 512, 256, 128):  # up-convolution to c/2, then c -> c/2 -> c/2
        params += conv_params(c, c // 2, 2) + conv_params(c, c // 2, 3)
        params += conv_params(c // 2, c // 2, 3)
    params += conv_params(64, 2, 1)
    assert params == 31_030_658
    assert result().total.params == params


def test_unet_macs_by_hand():
    """One multiply-accumulate per weight use: a 3x3 conv c_in -> c_out onto an n x n
    map costs n² · c_out · c_in · 9; a 2x2 up-convolution c_in -> c_out, stride 2, costs
    its input's m² · c_in · c_out · 4 (each input value meets each of its weights once)."""
    down = [(1, 64, 570, 568), (64, 128, 282, 280), (128, 256, 138, 136)]
    down += [(256, 512, 66, 64), (512, 1024, 30, 28)]
    macs = sum(n1 * n1 * b * a * 9 + n2 * n2 * b * b * 9 for a, b, n1, n2 in down)
    up = [(1024, 28, 54, 52), (512, 52, 102, 100), (256, 100, 198, 196), (128, 196, 390, 388)]
    for c, m, n1, n2 in up:
        macs += m * m * c * (c // 2) * 4  # up-convolution
        macs += n1 * n1 * (c // 2) * c * 9 + n2 * n2 * (c // 2) * (c // 2) * 9
    macs += 388 * 388 * 2 * 64
    assert result().total.macs == macs


# --------------------------------------------------------------------------
# Against the paper's model in PyTorch (tests/unet_paper.py)
# --------------------------------------------------------------------------


def test_params_state_dict_and_flop_counter_equal_the_papers_model():
    """On the meta device (shapes only): the parameter count, every state_dict key and
    shape, the output shape and FlopCounterMode's total / 2 (conv and transposed-conv
    multiply-adds) of the model written from the paper equal cnncalc's."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    from unet_paper import UNet2015

    with torch.device("meta"):
        model = UNet2015()
        x = torch.zeros((1, 1, 572, 572))
    assert sum(p.numel() for p in model.parameters()) == result().total.params
    want = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert [(k, tuple(s)) for r in result().layers for k, s in r.state_dict] == want
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    assert tuple(y.shape) == (1, 2, 388, 388)
    assert counter.get_total_flops() == 2 * result().total.macs


SMALL_TILE = 188
"""The smallest tile whose maps stay even down to the bottom level: 188 -> 184, 92 -> 88,
44 -> 40, 20 -> 16, 8 -> 4, then up 8 -> 4 at each level; a 2 x 4 x 4 output."""


def at_small_tile() -> str:
    """The zoo file at the small tile: its crops match the up-sampled maps (``match:``), so
    only the input changes (the crops become 8 at every level, as SMALL_TILE's note works
    out)."""
    text = zoo_path("unet-2015").read_text()
    return text.replace("input: [1, 572, 572]", f"input: [1, {SMALL_TILE}, {SMALL_TILE}]")


def test_unet_crops_follow_the_tile():
    """With ``crop: , match: upN`` each skip is cropped to the size of the map it joins at
    any tile: at 188 the four up-convolutions give 8, 8, 8, 8 (SMALL_TILE's note), at the
    paper's 572 they give 56, 104, 200, 392 (Fig. 1)."""
    crops = {
        SMALL_TILE: [8, 8, 8, 8],
        572: [56, 104, 200, 392],
    }
    for tile, sizes in crops.items():
        graph = build(loads(zoo_path("unet-2015").read_text()), input=(1, tile, tile))
        got = [n.out_shape[1:] for n in graph.nodes if n.name.startswith("crop")]
        assert got == [(s, s) for s in sizes], tile


@pytest.mark.parametrize("tile", [SMALL_TILE, SMALL_TILE + 16, SMALL_TILE + 64])
def test_unet_at_other_tiles_equals_the_papers_model(tile):
    """The paper's model crops from the two tensors it joins (tests/unet_paper.py), so it
    runs at any tile whose maps stay even: 188 + 16k. Each of the 4 pooling levels
    trims 4 pixels (two valid 3x3 convs) before halving and 4 after doubling, so the
    output is tile - 184 on each side (572 -> 388, 188 -> 4). Output shape, and
    FlopCounterMode / 2 on the meta device, equal cnncalc's at that tile."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode
    from unet_paper import UNet2015

    graph = build(loads(zoo_path("unet-2015").read_text()), input=(1, tile, tile))
    assert graph.nodes[-1].out_shape == (2, tile - 184, tile - 184)
    with torch.device("meta"):
        model = UNet2015()
        x = torch.zeros((1, 1, tile, tile))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = model(x)
    assert tuple(y.shape[1:]) == graph.nodes[-1].out_shape
    assert (
        counter.get_total_flops()
        == 2 * analyze(load("unet-2015"), input=(1, tile, tile)).total.macs
    )


def test_exported_module_and_executor_compute_the_papers_function():
    """The paper's model in float64 on a small tile, its state_dict loaded strictly into
    cnncalc's exported module and given to cnncalc's executor: all three give the same
    2 x 4 x 4 output, so the layers, their wiring, the crops and the concatenation order
    (skip first) are the paper's."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module
    from unet_paper import UNet2015

    from cnncalc.proof.executor.run import run

    torch.manual_seed(15)
    paper = UNet2015().double().eval()
    graph = build(loads(at_small_tile()))
    x = torch.rand((1, 1, SMALL_TILE, SMALL_TILE), dtype=torch.float64)
    with torch.no_grad():
        want = paper(x)
    assert tuple(want.shape) == (1, 2, 4, 4) == (1, *graph.nodes[-1].out_shape)
    exported = exported_yaml_module(at_small_tile()).build().double().eval()
    exported.load_state_dict(paper.state_dict(), strict=True)
    scale = float(want.abs().max())
    with torch.no_grad():
        torch.testing.assert_close(exported(x), want, rtol=1e-9, atol=1e-12 * scale)
    state = {k: v.numpy() for k, v in paper.state_dict().items()}
    done = run(graph, "fast", weights=state, x=x.numpy())
    np.testing.assert_allclose(done.nodes[-1].output, want.numpy(), rtol=1e-9, atol=1e-12 * scale)

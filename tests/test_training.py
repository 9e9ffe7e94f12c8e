"""Backward operations (dX and dW) per kind: formulas written out, and PyTorch's
FlopCounterMode on real backward passes.

d2l asks for exactly this: "What is the computational cost (multiplications and
additions) for the forward propagation? ... for the backward propagation?" (Dive into
Deep Learning, 7.4 Multiple Input and Multiple Output Channels, exercises), and the
issue's acceptance: the backward counts of a conv equal the multiplications PyTorch
autograd performs; dX and dW each equal the forward MACs for a stride-1 conv with
size-keeping padding.
"""

from __future__ import annotations

import pytest
from needs import optional_module
from pytorch_model import torch_model
from torchvision_model import NEW_KIND_NETWORKS

from cnncalc.analysis.pipeline import build, load, loads, training
from cnncalc.analysis.training import grad_flow
from cnncalc.conventions.presets import get_convention
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.conv import Conv

torch = optional_module("torch")


def net(layers: str, input: str = "[3, 16, 16]"):
    return loads(f"name: t\ninput: {input}\nlayers:\n{layers}")


def only(cost, name):
    return next(l for l in cost.layers if l.name == name)


# --------------------------------------------------------------------------- formulas (d2l 7.4)


def test_d2l_conv_forward_and_backward_by_formula():
    """c_i = 3, c_o = 8, 3×3, padding 1 on 16×16, batch 4: forward mults c_o·h·w·c_i·k²;
    dX and dW repeat every product once (∂y/∂x = w, ∂y/∂w = x)."""
    c_i, c_o, k, h, w, b = 3, 8, 3, 16, 16, 4
    spec = net(
        "  - {conv: 8, kernel: 3, padding: 1, name: c1}\n"
        "  - {conv: 8, kernel: 3, padding: 1, name: c2}"
    )
    cost = training(spec, batch=b, convention="exact")
    c2 = only(cost, "c2")
    fwd = c_o * h * w * c_o * k * k * b  # c2 sees 8 input channels
    assert c2.forward.mults == fwd
    assert c2.forward.adds == c_o * h * w * (c_o * k * k - 1) * b + c_o * h * w * b  # + bias
    # dX: Wᵀ·δ then col2im, every product accumulated once into a zeroed gradient
    assert (c2.dx.mults, c2.dx.adds) == (fwd, fwd)
    # dW: each of the c_o·c_i·k² weights sums its b·h·w products; the bias sums b·h·w δ's
    weights = c_o * c_o * k * k
    assert c2.dw.mults == fwd
    assert c2.dw.adds == (fwd - weights) + c_o * (b * h * w - 1)
    # macs convention: dX and dW each equal the forward MACs
    macs = training(spec, batch=b)
    assert only(macs, "c2").dx.macs == only(macs, "c2").dw.macs == c_o * h * w * c_o * k * k * b
    # c1 reads the network input: no dX, as in PyTorch (the input does not require grad)
    c1 = only(cost, "c1")
    assert not c1.needs_dx and c1.dx.flops == 0
    assert c1.dw.mults == c_o * h * w * c_i * k * k * b


def test_fc_backward_by_formula():
    n, out, b = 12, 5, 3
    cost = training(
        net("  - {fc: 6, name: f1}\n  - {fc: 5, name: f2}", "[12]"), batch=b, convention="exact"
    )
    f2 = only(cost, "f2")
    n = 6
    assert (f2.dx.mults, f2.dx.adds) == (
        b * n * out,
        b * (n * out - n),
    )  # each input sums out terms
    assert f2.dw.mults == b * n * out
    assert f2.dw.adds == (b - 1) * n * out + (b - 1) * out  # weights, then biases


@pytest.mark.parametrize(
    "layer,dx",
    [
        # (layer, input 4×8×8, batch 2: dX raw counts written out)
        ("{relu: }", {"compares": 2 * 4 * 8 * 8}),
        ("{relu6: }", {"compares": 2 * 2 * 4 * 8 * 8}),
        ("{sigmoid: }", {"mults": 2 * 2 * 256, "adds": 2 * 256}),  # δ·y·(1 − y)
        ("{tanh: }", {"mults": 2 * 2 * 256, "adds": 2 * 256}),  # δ·(1 − y²)
        ("{softmax: }", {"mults": 2 * 64 * 2 * 4, "adds": 2 * 64 * (2 * 4 - 1)}),  # y·(δ − Σ y·δ)
        ("{pool: max, kernel: 2}", {"adds": 2 * 4 * 4 * 4}),  # one per output
        (
            "{pool: avg, kernel: 3, stride: 1, padding: 1}",  # δ/w per window, added
            {"adds": 2 * 4 * (8 + 2 * 7) ** 2, "divs": 2 * 4 * 8 * 8},
        ),  # to taps inside the input
        ("{gap: }", {"adds": 2 * 256, "divs": 2 * 4}),
        ("{dropout: 0.5}", {"mults": 2 * 256}),
        ("{flatten: }", {}),
    ],
)
def test_unweighted_kinds_dx_by_formula(layer, dx):
    """A trained conv first, so the layer under test needs its dX; its dW is empty."""
    spec = net(
        f"  - {{conv: 4, kernel: 1, name: first}}\n  - {layer[:-1]}, name: it}}", "[4, 8, 8]"
    )
    cost = training(spec, batch=2, convention="exact")
    it = only(cost, "it")
    assert {k: v for k, v in it.dx_ops.as_dict().items() if v} == dx
    assert it.dw_ops.as_dict() == dict.fromkeys(it.dw_ops.as_dict(), 0)


def test_batchnorm_backward_by_formula():
    c, m, b = 4, 8 * 8, 2
    n = c * m * b
    cost = training(
        net("  - {conv: 4, kernel: 1}\n  - {batchnorm: , name: bn}", "[4, 8, 8]"),
        batch=b,
        convention="exact",
    )
    bn = only(cost, "bn")
    assert bn.dw_ops.mults == 2 * n and bn.dw_ops.adds == 2 * n - c and bn.dw_ops.bias_adds == n - c
    assert (bn.dx_ops.mults, bn.dx_ops.adds, bn.dx_ops.divs) == (3 * n + 2 * c, 2 * n, c)


def test_residual_fork_sums_gradients_on_the_producer():
    """The block input is read by the conv branch and the identity: autograd sums two
    gradients there, one add per element, counted on the layer that made it."""
    spec = net(
        "  - {conv: 4, kernel: 1, name: stem}\n"
        "  - add:\n      - [{conv: 4, kernel: 3, padding: 1}]\n      - []\n",
        "[4, 8, 8]",
    )
    cost = training(spec, batch=3, convention="exact")
    assert only(cost, "stem").dy_sum.adds == 4 * 8 * 8 * 3
    assert training(spec, batch=3).dy_sum.adds == 0  # macs counts no adds of this kind


def test_layers_before_the_first_trained_layer_have_no_backward():
    spec = net(
        "  - {pool: max, kernel: 2, name: p}\n  - {relu: , name: r}\n"
        "  - {conv: 4, kernel: 1, name: c}\n  - {relu: , name: r2}"
    )
    flow = grad_flow(build(spec))
    assert flow.trains == (False, False, True, True)
    assert flow.needs_dx == (False, False, False, True)
    cost = training(spec, convention="exact")
    assert only(cost, "p").backward.flops == only(cost, "r").backward.flops == 0


def test_training_refuses_forward_only_conventions():
    with pytest.raises(CnnCalcError, match="backward counts are defined under macs and exact"):
        training(load("lenet5"), convention="nndl")


def test_totals_add_up():
    cost = training(load("googlenet"), batch=2, convention="exact")
    for part in ("dx", "dw", "dy_sum", "backward"):
        for f in ("mults", "adds", "macs", "flops"):
            assert sum(getattr(getattr(l, part), f) for l in cost.layers) == getattr(
                getattr(cost, part), f
            ), (part, f)


# --------------------------------------------------------------------------- PyTorch


def flop_counter():
    """PyTorch's FlopCounterMode, silent."""
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode(display=False)


def backward_flops(model, x):
    y = model(x)
    with flop_counter() as counter:
        y.sum().backward()
    return counter.get_total_flops()


@pytest.mark.requires("torch")
@pytest.mark.parametrize(
    "options,input",
    [
        ("kernel: 3, padding: 1", (4, 10, 10)),  # stride 1, size kept: the acceptance case
        ("kernel: 3, stride: 2, padding: 1", (4, 11, 11)),
        ("kernel: [3, 5], padding: [0, 2], dilation: 2", (4, 12, 12)),
        ("kernel: 1", (4, 7, 7)),
        ("kernel: 3, padding: 1", (4, 10)),  # 1-D
        ("kernel: 3, padding: 1, bias: false", (4, 5, 6, 6)),  # 3-D
    ],
)
def test_conv_backward_equals_flop_counter(options, input):
    """FlopCounterMode counts 2 FLOPs per multiplication: grad_input and grad_weight each
    2·(forward MACs); with the input requiring grad both run."""
    c_o, batch = 6, 2
    spec = net(f"  - {{conv: {c_o}, {options}, name: c}}", list(input))
    cost = training(spec, batch=batch)
    c = only(cost, "c")
    graph = build(spec)
    layer: Conv = graph.nodes[0].layer
    ndim = len(input) - 1
    module = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[ndim - 1](
        input[0],
        c_o,
        layer.kernel,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        bias=layer.bias,
    )
    x = torch.randn((batch,) + tuple(input), requires_grad=True)
    with flop_counter() as counter:
        module(x)
    forward = counter.get_total_flops()
    assert forward == 2 * c.forward.macs
    # as the network's first layer, cnncalc runs no dX, and neither does PyTorch
    assert not c.needs_dx
    assert backward_flops(module, x.detach()) == 2 * c.dw.macs == 2 * c.forward.macs
    # with an input that requires grad (a layer inside a network), both gradients run
    grads = layer.backward(graph.nodes[0].in_shape, graph.nodes[0].out_shape, batch)
    assert backward_flops(module, x) == 2 * (grads.dx.macs + grads.dw.macs) == 4 * c.forward.macs
    if options == "kernel: 3, padding: 1" and len(input) == 3:
        macs = c_o * 10 * 10 * 4 * 3 * 3 * batch  # c_o·H·W·c_i·k²·batch
        assert grads.dx.macs == grads.dw.macs == c.forward.macs == macs


@pytest.mark.requires("torch")
def test_deconv_backward_equals_flop_counter():
    spec = net("  - {deconv: 8, kernel: 4, stride: 2, padding: 1, name: d}", "[16, 8, 8]")
    d = only(training(spec, batch=2), "d")
    assert d.forward.macs == 16 * 8 * 8 * 8 * 4 * 4 * 2  # the 131,072 per sample
    node = build(spec).nodes[0]
    grads = node.layer.backward(node.in_shape, node.out_shape, 2)
    module = torch.nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    assert backward_flops(module, x) == 2 * (grads.dx.macs + grads.dw.macs) == 4 * d.forward.macs
    assert backward_flops(module, x.detach()) == 2 * d.dw.macs


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", ["resnet18", "vgg16", "googlenet", "densenet121", "alexnet"])
def test_network_backward_equals_flop_counter(name):
    """Whole networks, input not requiring grad: the first conv computes only its dW."""
    cost = training(load(name), input=(3, 64, 64), batch=2)
    x = torch.randn(2, 3, 64, 64)
    assert backward_flops(torch_model(name).train(), x) == 2 * (cost.dx.macs + cost.dw.macs)


def grouped_weight_gradient_excess(spec, input, cost) -> int:
    """The MACs FlopCounterMode adds to the dW of grouped convs: (g − 1)·dW each
    (test_grouped_conv_weight_gradient_flop_counter_ignores_groups)."""
    graph = build(spec, input)
    return sum(
        (node.layer.groups - 1) * layer.dw.macs
        for node, layer in zip(graph.nodes, cost.layers)
        if node.kind == "conv"
    )


@pytest.mark.requires("torch")
def test_grouped_conv_weight_gradient_flop_counter_ignores_groups():
    """FlopCounterMode's grad_weight formula transposes the input to (C_in, N, ...) and
    takes C_in as the batch, so a grouped conv's dW is counted g times (MobileNetV2's
    depthwise convs). cnncalc counts each weight's products once; the difference is
    exactly (g − 1)·dW per grouped conv."""
    spec = load("mobilenet-v2")
    cost = training(spec, input=(3, 64, 64), batch=2)
    excess = grouped_weight_gradient_excess(spec, (3, 64, 64), cost)
    assert excess > 0
    x = torch.randn(2, 3, 64, 64)
    assert backward_flops(torch_model("mobilenet-v2").train(), x) == 2 * (
        cost.dx.macs + cost.dw.macs + excess
    )
    assert get_convention("macs").name == cost.convention.name


@pytest.mark.requires("torch", "torchvision")
@pytest.mark.parametrize("name", NEW_KIND_NETWORKS)
def test_new_kinds_backward_equals_flop_counter_on_torchvisions_model(name):
    """torchvision's own model (not cnncalc's export), training mode, batch 2 of 3×64×64,
    input not requiring grad: FlopCounterMode's backward FLOPs = 2·(dX + dW MACs), plus
    its known (g − 1)·dW on grouped convs (depthwise in all five). The gates, norms,
    activations, layer scales and shuffles cost no multiply-accumulates under ``macs``,
    and FlopCounterMode counts none for them either; ConvNeXt's per-position Linear is
    counted by both as matrix products (dX: N·H·W·in·out, dW the same)."""
    from torchvision_model import torchvision_model

    shape = (3, 64, 64)
    spec = load(name)
    cost = training(spec, input=shape, batch=2)
    torch.manual_seed(0)
    model = torchvision_model(name).train()
    x = torch.randn(2, *shape)
    excess = grouped_weight_gradient_excess(spec, shape, cost)
    assert backward_flops(model, x) == 2 * (cost.dx.macs + cost.dw.macs + excess)

"""cnncalc import: the operators beyond the zoo's (issue 13 §1), each from a real export.

Each test builds the PyTorch module, writes it with ``torch.onnx.export`` (the
TorchScript exporter, dynamo=False, as tests/test_import_onnx.py), imports it, and checks
the imported network against two independent sources: the YAML a person would write for
that module (written out in the test), under every convention, and PyTorch's own output
shape and parameter count. Operators PyTorch never writes (auto_pad, GlobalMaxPool,
output_shape, GroupNormalization) are built by hand with onnx.helper and checked against
the ONNX reference evaluator's output shape, which runs the file.
"""

from __future__ import annotations

import pytest
from error_lines import one_error_line
from typer.testing import CliRunner

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.analysis.stats import convention_totals
from cnncalc.cli.app import app

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

nn = torch.nn
F = torch.nn.functional
runner = CliRunner()


def _import(path):
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def _export(module, shape, tmp_path, opset=17, batch=1):
    """torch.onnx.export of the module (eval mode) → the imported YAML, PyTorch's output
    shape (without the batch) and its parameter count."""
    path = tmp_path / "m.onnx"
    x = torch.randn(batch, *shape)
    torch.onnx.export(module.eval(), (x,), str(path), dynamo=False, opset_version=opset)
    with torch.no_grad():
        out = tuple(module(x).shape[1:])
    return _import(path), out, sum(p.numel() for p in module.parameters())


def _same_as_hand_written(text: str, hand: str, out, params: int | None = None):
    """The imported network is the hand-written one: every layer's shape, the parameters,
    and every convention's totals; its output shape and parameters are PyTorch's."""
    imported, written = loads(text, "imported"), loads(hand, "hand")
    a, b = analyze(imported), analyze(written)
    assert [(x.kind, x.out_shape) for x in a.layers] == [(x.kind, x.out_shape) for x in b.layers]
    assert a.layers[-1].out_shape == tuple(out)
    assert (a.total.params, a.total.buffers) == (b.total.params, b.total.buffers)
    if params is not None:
        assert a.total.params == params
    totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    expected = {r.convention.name: r.figures for r in convention_totals(build(written)).rows}
    assert totals == expected
    return a


def _one_error_line(path) -> str:
    return one_error_line(runner.invoke(app, ["import", str(path)]))


# ---------------------------------------------------------------- activations


def test_leaky_relu_keeps_its_slope(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.LeakyReLU(0.2))
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    assert "{leaky_relu: 0.2}" in text  # float32's 0.2, written as PyTorch's 0.2
    hand = "input: [3, 10, 10]\nlayers:\n  - {conv: 8, kernel: 3}\n  - {leaky_relu: 0.2}\n"
    _same_as_hand_written(text, hand, out, params)


def test_elu_keeps_its_alpha(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ELU(alpha=0.5))
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    hand = "input: [3, 10, 10]\nlayers:\n  - {conv: 8, kernel: 3}\n  - {elu: 0.5}\n"
    _same_as_hand_written(text, hand, out, params)


@pytest.mark.parametrize("slopes", [8, 1])
def test_prelu_has_one_slope_per_channel_or_one_for_all(slopes, tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.PReLU(slopes))
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    hand = f"input: [3, 10, 10]\nlayers:\n  - {{conv: 8, kernel: 3}}\n  - {{prelu: {slopes}}}\n"
    a = _same_as_hand_written(text, hand, out, params)
    assert a.total.params == 8 * 27 + 8 + slopes


def test_mish_written_as_x_tanh_softplus_is_one_mish(tmp_path):
    """Opset 17 has no Mish: torch writes x·tanh(softplus(x)) (Softplus, Tanh, Mul)."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Mish())
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    hand = "input: [3, 10, 10]\nlayers:\n  - {conv: 8, kernel: 3}\n  - {mish: }\n"
    _same_as_hand_written(text, hand, out, params)


# ---------------------------------------------------------------- normalisations


@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm_written_as_reshape_instancenorm_reshape_mul_add(affine, tmp_path):
    """nn.GroupNorm(4, 16) (Wu and He 2018): torch writes Reshape to (N, 4, −1),
    InstanceNormalization, Reshape back, Mul γ, Add β; γ and β are 2·16 parameters."""
    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.GroupNorm(4, 16, eps=1e-3, affine=affine))
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    option = "" if affine else ", affine: false"
    hand = (
        "input: [3, 10, 10]\nlayers:\n  - {conv: 16, kernel: 3}\n"
        f"  - {{groupnorm: 4, eps: 0.001{option}}}\n"
    )
    a = _same_as_hand_written(text, hand, out, params)
    assert a.total.params == 16 * 27 + 16 + (2 * 16 if affine else 0)


@pytest.mark.parametrize("affine", [True, False])
def test_instancenorm_with_and_without_gamma_and_beta(affine, tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.InstanceNorm2d(8, affine=affine))
    text, out, params = _export(net, (3, 10, 10), tmp_path)
    option = ", affine: true" if affine else ""
    hand = (
        f"input: [3, 10, 10]\nlayers:\n  - {{conv: 8, kernel: 3}}\n  - {{instancenorm: {option}}}\n"
    )
    _same_as_hand_written(text, hand, out, params)


def _hand_model(tmp_path, nodes, x_shape, inits=(), opset=17, name="h.onnx"):
    graph = helper.make_graph(
        nodes,
        "hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path, model


def _reference_shape(model, x_shape) -> tuple[int, ...]:
    """The output shape the ONNX reference evaluator computes, without the batch."""
    (y,) = ReferenceEvaluator(model).run(None, {"x": np.zeros(x_shape, np.float32)})
    return tuple(y.shape[1:])


def _weight(name, *shape):
    return numpy_helper.from_array(np.random.rand(*shape).astype(np.float32), name)


def test_groupnormalization_of_opset_21_is_groupnorm(tmp_path):
    """Opset 21's GroupNormalization has γ and β per channel, as nn.GroupNorm."""
    nodes = [
        helper.make_node(
            "GroupNormalization",
            ["x", "gn.weight", "gn.bias"],
            ["y"],
            num_groups=4,
            name="gn",
        )
    ]
    inits = [_weight("gn.weight", 16), _weight("gn.bias", 16)]
    path, model = _hand_model(tmp_path, nodes, (1, 16, 5, 5), inits, opset=21)
    text = _import(path)
    hand = "input: [16, 5, 5]\nlayers:\n  - {groupnorm: 4}\n"
    torch_params = sum(p.numel() for p in nn.GroupNorm(4, 16).parameters())
    _same_as_hand_written(text, hand, _reference_shape(model, (1, 16, 5, 5)), torch_params)


def test_groupnormalization_of_opset_18_scales_per_group_and_is_refused(tmp_path):
    nodes = [helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=4)]
    inits = [_weight("s", 4), _weight("b", 4)]
    path, _ = _hand_model(tmp_path, nodes, (1, 16, 5, 5), inits, opset=18)
    line = _one_error_line(path)
    assert "GroupNormalization" in line and "opset 21" in line


# ---------------------------------------------------------------- padding


class _PadThenConv(nn.Module):
    """F.pad(x, (left, right, top, bottom)) then an unpadded conv: TensorFlow's 'same'
    ported by hand (EfficientNet ports, detection backbones)."""

    def __init__(self, pad, mode="constant"):
        super().__init__()
        self.pad, self.mode = pad, mode
        self.conv = nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad, mode=self.mode))


def test_a_zero_pad_before_a_conv_is_its_padding(tmp_path):
    text, out, params = _export(_PadThenConv((0, 1, 0, 1)), (3, 9, 9), tmp_path)
    # F.pad's (left 0, right 1, top 0, bottom 1) is cnncalc's [top, bottom, left, right]
    hand = "input: [3, 9, 9]\nlayers:\n  - {conv: 8, kernel: 3, stride: 2, padding: [0, 1, 0, 1]}\n"
    _same_as_hand_written(text, hand, out, params)
    assert out == (8, (9 + 1 - 3) // 2 + 1, (9 + 1 - 3) // 2 + 1)


def test_zeropad2d_adds_to_the_convs_own_padding(tmp_path):
    net = nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(3, 8, 3, padding=1))
    text, out, params = _export(net, (3, 9, 9), tmp_path)
    hand = "input: [3, 9, 9]\nlayers:\n  - {conv: 8, kernel: 3, padding: 2}\n"
    _same_as_hand_written(text, hand, out, params)


def test_a_reflection_pad_has_no_kind_and_is_one_line(tmp_path):
    path = tmp_path / "reflect.onnx"
    torch.onnx.export(
        _PadThenConv((1, 1, 1, 1), "reflect").eval(),
        (torch.zeros(1, 3, 9, 9),),
        str(path),
        dynamo=False,
    )
    line = _one_error_line(path)
    assert "(Pad)" in line and "reflect" in line and "after the input" in line


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_auto_pad_on_a_conv(auto_pad, tmp_path):
    """ONNX's auto_pad: SAME pads to ⌈n/s⌉ outputs, the odd row at the end (UPPER) or at
    the start (LOWER); VALID pads nothing. 8×8, 3×3 stride 2: 4×4 (SAME), 3×3 (VALID)."""
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "conv.weight"],
            ["c"],
            kernel_shape=[3, 3],
            strides=[2, 2],
            auto_pad=auto_pad,
            name="conv",
        ),
        helper.make_node(
            "MaxPool", ["c"], ["y"], kernel_shape=[2, 2], strides=[2, 2], auto_pad=auto_pad
        ),
    ]
    path, model = _hand_model(tmp_path, nodes, (1, 3, 8, 8), [_weight("conv.weight", 8, 3, 3, 3)])
    text = _import(path)
    # SAME on 8: total = (4 − 1)·2 + 3 − 8 = 1 → [0, 1] (UPPER) or [1, 0] (LOWER) per axis;
    # the pool on 4: total = (2 − 1)·2 + 2 − 4 = 0
    padding = {"SAME_UPPER": "[0, 1, 0, 1]", "SAME_LOWER": "[1, 0, 1, 0]", "VALID": "0"}
    hand = (
        "input: [3, 8, 8]\nlayers:\n"
        f"  - {{conv: 8, kernel: 3, stride: 2, padding: {padding[auto_pad]}, bias: false}}\n"
        "  - {pool: max, kernel: 2, stride: 2}\n"
    )
    out = _reference_shape(model, (1, 3, 8, 8))
    assert out == ((8, 2, 2) if auto_pad != "VALID" else (8, 1, 1))
    _same_as_hand_written(text, hand, out, 8 * 3 * 3 * 3)


# ---------------------------------------------------------------- transposed convolution


def test_conv_transpose_with_output_padding(tmp_path):
    net = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
    text, out, params = _export(net, (3, 7, 7), tmp_path)
    hand = (
        "input: [3, 7, 7]\nlayers:\n"
        "  - {deconv: 4, kernel: 3, stride: 2, padding: 1, output_padding: 1}\n"
    )
    _same_as_hand_written(text, hand, out, params)
    assert out == (4, 14, 14)  # (7 − 1)·2 − 2 + 3 + 1


@pytest.mark.parametrize("size", [13, 14])
def test_conv_transpose_with_output_shape(size, tmp_path):
    """ONNX works the padding out from output_shape: total = 2·(7 − 1) + 3 − size, 2 for
    13, 1 for 14: cnncalc's padding 1 with output_padding 0 or 1. PyTorch's
    ConvTranspose2d(…)(x, output_size=…) gives the same size."""
    nodes = [
        helper.make_node(
            "ConvTranspose",
            ["x", "up.weight", "up.bias"],
            ["y"],
            kernel_shape=[3, 3],
            strides=[2, 2],
            output_shape=[size, size],
            name="up",
        )
    ]
    inits = [_weight("up.weight", 3, 4, 3, 3), _weight("up.bias", 4)]
    path, _ = _hand_model(tmp_path, nodes, (1, 3, 7, 7), inits)
    text = _import(path)
    extra = size - 13
    hand = (
        "input: [3, 7, 7]\nlayers:\n"
        f"  - {{deconv: 4, kernel: 3, stride: 2, padding: 1, output_padding: {extra}}}\n"
    )
    up = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)
    torch_out = tuple(up(torch.zeros(1, 3, 7, 7), output_size=[size, size]).shape[1:])
    assert torch_out == (4, size, size)  # (onnx 1.23's reference evaluator has no output_shape)
    _same_as_hand_written(text, hand, torch_out, sum(p.numel() for p in up.parameters()))


# ---------------------------------------------------------------- pooling, resizing, reshaping


def test_global_max_pool_is_adaptive_max_to_1(tmp_path):
    """torch writes AdaptiveMaxPool2d(1) as a MaxPool over the whole map; other exporters
    write GlobalMaxPool, built here by hand."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], name="conv"),
        helper.make_node("GlobalMaxPool", ["c"], ["y"], name="gmp"),
    ]
    path, model = _hand_model(tmp_path, nodes, (1, 3, 9, 9), [_weight("w", 8, 3, 3, 3)])
    text = _import(path)
    hand = (
        "input: [3, 9, 9]\nlayers:\n  - {conv: 8, kernel: 3, bias: false}\n"
        "  - {adaptive: 1, mode: max}\n"
    )
    pooled = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.AdaptiveMaxPool2d(1))
    torch_out = tuple(pooled(torch.zeros(1, 3, 9, 9)).shape[1:])
    assert _reference_shape(model, (1, 3, 9, 9)) == torch_out
    _same_as_hand_written(text, hand, torch_out, sum(p.numel() for p in pooled.parameters()))


class _AmaxHW(nn.Module):
    def __init__(self, keepdim):
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x):
        return x.amax(dim=(2, 3), keepdim=self.keepdim)


@pytest.mark.parametrize("keepdim", [True, False])
def test_reduce_max_over_h_and_w_is_a_global_max_pool(keepdim, tmp_path):
    text, out, _ = _export(_AmaxHW(keepdim), (8, 5, 6), tmp_path)
    tail = "" if keepdim else "  - {flatten: }\n"
    hand = "input: [8, 5, 6]\nlayers:\n  - {adaptive: 1, mode: max}\n" + tail
    _same_as_hand_written(text, hand, out)


class _Interpolate(nn.Module):
    def __init__(self, size, mode):
        super().__init__()
        self.size, self.mode = size, mode

    def forward(self, x):
        return F.interpolate(x, size=self.size, mode=self.mode)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_to_a_size(mode, tmp_path):
    """F.interpolate(x, size=(12, 10)): torch writes Resize with sizes, not scales."""
    text, out, _ = _export(_Interpolate((12, 10), mode), (4, 6, 5), tmp_path)
    option = "" if mode == "nearest" else ", mode: bilinear"
    hand = f"input: [4, 6, 5]\nlayers:\n  - {{upsample: , size: [12, 10]{option}}}\n"
    _same_as_hand_written(text, hand, out)


class _ReshapeFlat(nn.Module):
    def __init__(self, *target):
        super().__init__()
        self.target = target
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(x.reshape(*self.target))


@pytest.mark.parametrize("target", [(2, -1), (2, 128), (-1, 128)])
def test_a_reshape_that_keeps_the_batch_is_a_flatten(target, tmp_path):
    """At batch 2, x.reshape(2, −1), (2, 128) and (−1, 128) of an 8×4×4 map are flattens."""
    text, out, params = _export(_ReshapeFlat(*target), (8, 4, 4), tmp_path, batch=2)
    hand = "input: [8, 4, 4]\nlayers:\n  - {flatten: }\n  - {fc: 10}\n"
    _same_as_hand_written(text, hand, out, params)


def test_a_reshape_that_moves_the_batch_is_refused(tmp_path):
    path = tmp_path / "m.onnx"
    module = _ReshapeFlat(-1, 64).eval()
    module.fc = nn.Linear(64, 10)
    torch.onnx.export(module, (torch.zeros(1, 8, 4, 4),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert "(Reshape)" in line and "not a flatten" in line


# ---------------------------------------------------------------- constants


class _LayerScale(nn.Module):
    """ConvNeXt's layer scale (Touvron et al. 2021): y = γ·x, γ of shape (C, 1, 1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.layer_scale = nn.Parameter(torch.full((8, 1, 1), 1e-6))

    def forward(self, x):
        return self.conv(x) * self.layer_scale


def test_mul_by_a_per_channel_constant_is_a_layer_scale(tmp_path):
    text, out, params = _export(_LayerScale(), (3, 6, 6), tmp_path)
    assert "name: layer_scale" in text  # the parameter's own name
    hand = "input: [3, 6, 6]\nlayers:\n  - {conv: 8, kernel: 1}\n  - {layer_scale: }\n"
    _same_as_hand_written(text, hand, out, params)


class _SeparateBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.shift = nn.Parameter(torch.zeros(8, 1, 1))

    def forward(self, x):
        return self.conv(x) + self.shift


def test_add_of_a_per_channel_constant_after_a_biasless_conv_is_its_bias(tmp_path):
    text, out, params = _export(_SeparateBias(), (3, 6, 6), tmp_path)
    hand = "input: [3, 6, 6]\nlayers:\n  - {conv: 8, kernel: 3}\n"
    _same_as_hand_written(text, hand, out, params)


class _PlusScalar(nn.Module):
    def forward(self, x):
        return torch.relu(x) + 1.0


def test_adding_a_scalar_has_no_kind_and_is_one_line(tmp_path):
    path = tmp_path / "m.onnx"
    torch.onnx.export(_PlusScalar(), (torch.zeros(1, 3, 4, 4),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert "(Add)" in line and "after node" in line and "Relu" in line


# ---------------------------------------------------------------- still unmapped


@pytest.mark.parametrize(
    "module, op", [(nn.SELU(), "Selu"), (nn.Softplus(), "Softplus"), (nn.CELU(), "Celu")]
)
def test_an_activation_with_no_kind_is_one_line_naming_node_op_and_place(module, op, tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 4, 1), module)
    path = tmp_path / "m.onnx"
    torch.onnx.export(net.eval(), (torch.zeros(1, 3, 4, 4),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert f"({op})" in line and "has no cnncalc kind" in line and "after node" in line


class _ScaleLastAxis(nn.Module):
    """γ of shape (W,) broadcasts over the last axis, W, not over the channels."""

    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(6))

    def forward(self, x):
        return torch.relu(x) * self.gamma


def test_a_scale_along_the_width_is_not_a_layer_scale(tmp_path):
    path = tmp_path / "m.onnx"
    torch.onnx.export(_ScaleLastAxis(), (torch.zeros(1, 6, 6, 6),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert "(Mul)" in line and "[6]" in line and "no cnncalc kind" in line


@pytest.mark.parametrize(
    "norm, hand",
    [
        (nn.LayerNorm([6, 6]), "{layernorm: 2}"),
        (
            nn.LayerNorm([6, 6], elementwise_affine=False),
            "{layernorm: 2, elementwise_affine: false}",
        ),
        (nn.LayerNorm(6, bias=False, eps=1e-6), "{layernorm: 1, bias: false, eps: 1.0e-6}"),
    ],
)
def test_layernorm_of_opset_16_written_as_mean_sub_pow_sqrt_div(norm, hand, tmp_path):
    """Before opset 17 torch writes LayerNorm as μ = mean(x), d = x − μ,
    y = d/√(mean(d²) + ε), then ·γ + β: the layer over the last k axes it reduces."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), norm)
    text, out, params = _export(net, (3, 8, 8), tmp_path, opset=16)
    written = f"input: [3, 8, 8]\nlayers:\n  - {{conv: 4, kernel: 3}}\n  - {hand}\n"
    _same_as_hand_written(text, written, out, params)


@pytest.mark.parametrize(
    "activation, opset, hand",
    [(nn.SiLU(), 17, "{silu: }"), (nn.Hardswish(), 13, "{hardswish: }")],
)
def test_x_times_its_own_gate_is_silu_or_hardswish(activation, opset, hand, tmp_path):
    """torch writes nn.SiLU as Sigmoid then Mul by x, and before opset 14 nn.Hardswish as
    HardSigmoid (α = 1/6) then Mul by x: one layer each, not a mul of two branches."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3), activation)
    text, out, params = _export(net, (3, 10, 10), tmp_path, opset=opset)
    assert "mul:" not in text
    written = f"input: [3, 10, 10]\nlayers:\n  - {{conv: 8, kernel: 3}}\n  - {hand}\n"
    _same_as_hand_written(text, written, out, params)


# ---------------------------------------------------------------- channels-last regions (ConvNeXt)


def test_convnext_block_permuted_to_channels_last_and_back(tmp_path):
    """torchvision's CNBlock (Liu et al. 2022): 7×7 depthwise conv, permute to (N, H, W, C),
    LayerNorm over C, Linear C → 4C, GELU, Linear 4C → C, permute back, layer scale γ,
    plus the input. The permutes are views; LayerNorm and Linear act on the channels at
    each position: cnncalc's layernorm over channels and linear."""
    from torchvision.models.convnext import CNBlock

    net = nn.Sequential(nn.Conv2d(3, 16, 1), CNBlock(16, 1e-6, 0.0))
    text, out, params = _export(net, (3, 8, 8), tmp_path)
    hand = """input: [3, 8, 8]
layers:
  - {conv: 16, kernel: 1}
  - add:
      - - {conv: 16, kernel: 7, padding: 3, groups: 16}
        - {layernorm: channels, eps: 1.0e-6}
        - {linear: 64}
        - {gelu: }
        - {linear: 16}
        - {layer_scale: }
      - []
"""
    _same_as_hand_written(text, hand, out, params)
    assert 'name: "1.layer_scale"' in text and 'name: "1.block.3"' in text


# ---------------------------------------------------------------- drop path in training mode


class _StochasticDepthBlock(nn.Module):
    def __init__(self, p, mode):
        super().__init__()
        from torchvision.ops import StochasticDepth

        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.drop = StochasticDepth(p, mode)

    def forward(self, x):
        return x + self.drop(self.conv(x))


@pytest.mark.parametrize("p, mode", [(0.2, "row"), (0.0125, "batch")])
def test_stochastic_depth_in_training_mode_is_a_drop_path(p, mode, tmp_path):
    """In training mode torchvision's stochastic_depth is written as a random mask:
    RandomUniformLike of (N, 1, 1, 1) ('row') or (1, 1, 1, 1) ('batch'), Less than 1 − p,
    Cast, Div by 1 − p, times x (Huang et al. 2016): one drop_path, the identity at
    inference. Exported in training mode, as the round trips are, to keep BatchNorm."""
    block = _StochasticDepthBlock(p, mode).train()
    path = tmp_path / "sd.onnx"
    torch.onnx.export(
        block,
        (torch.zeros(2, 4, 6, 6),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.TRAINING,
    )
    text = _import(path)
    option = "" if mode == "row" else ", mode: batch"
    hand = (
        "input: [4, 6, 6]\nlayers:\n  - add:\n      - []\n"
        f"      - - {{conv: 4, kernel: 3, padding: 1}}\n        - {{drop_path: {p}{option}}}\n"
    )
    assert f"{{drop_path: {p}{option}}}" in text
    _same_as_hand_written(text, hand, (4, 6, 6), sum(q.numel() for q in block.parameters()))


# ---------------------------------------------------------------- crops (U-Net)


class _CropSkip(nn.Module):
    """U-Net's join (Ronneberger et al. 2015): the skip cropped at its centre to the
    up-path's size, then concatenated: x[:, :, a:a + s, a:a + s], a = ⌊(n − s)/2⌋."""

    def __init__(self, start, size):
        super().__init__()
        self.start, self.size = start, size
        self.down = nn.Conv2d(4, 4, 3)
        self.more = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        a, s = self.start, self.size
        y = self.more(self.down(x))
        return torch.cat([x[:, :, a : a + s, a : a + s], y], dim=1)


def test_a_centre_slice_of_h_and_w_is_a_crop(tmp_path):
    text, out, params = _export(_CropSkip(2, 6), (4, 10, 10), tmp_path)
    hand = """input: [4, 10, 10]
layers:
  - concat:
      - - {crop: 6}
      - - {conv: 4, kernel: 3}
        - {conv: 4, kernel: 3}
"""
    _same_as_hand_written(text, hand, out, params)
    assert out == (8, 6, 6)


def test_an_off_centre_slice_of_h_and_w_is_refused(tmp_path):
    path = tmp_path / "m.onnx"
    torch.onnx.export(_CropSkip(0, 6).eval(), (torch.zeros(1, 4, 10, 10),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert "(Slice)" in line and "not a centre crop" in line


# ---------------------------------------------------------------- zoo round trips


def _zoo_round_trip(name: str, tmp_path, training: bool, batch: int = 2):
    """Zoo → PyTorch module (cnncalc export) → torch.onnx.export → cnncalc import: the
    zoo's layers, its parameters (and PyTorch's count) and every convention's totals."""
    from pytorch_model import torch_model
    from zoo_calls import zoo_as_modules

    from cnncalc.analysis.pipeline import load

    spec = load(name)
    module = torch_model(name).train(training)
    path = tmp_path / f"{name}.onnx"
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    x = torch.zeros(batch, *spec.input)
    torch.onnx.export(module, (x,), str(path), dynamo=False, training=mode)
    imported = loads(_import(path), "imported")
    zoo, back = analyze(spec), analyze(imported)
    assert back.total.params == sum(p.numel() for p in module.parameters()) == zoo.total.params
    assert back.total.buffers == zoo.total.buffers
    totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    # ONNX holds operators, not modules: compared with the zoo's layers all as modules
    as_modules = build(zoo_as_modules(name))
    expected = {r.convention.name: r.figures for r in convention_totals(as_modules).rows}
    assert totals == expected
    return zoo, back


def _as_written(layers, drop_paths: bool = True) -> list:
    """(kind, shape) of each layer as torch.onnx writes it: AdaptiveAvgPool2d(1) is a
    GlobalAveragePool, read back as gap; in eval mode a drop path is not written at all."""
    return [
        ("gap" if x.kind == "adaptive" and set(x.out_shape[1:]) == {1} else x.kind, x.out_shape)
        for x in layers
        if drop_paths or x.kind != "drop_path"
    ]


@pytest.mark.parametrize(
    "name", ["efficientnet-b0", "mobilenet-v3-small", "regnet-y-400mf", "r2plus1d-18"]
)
def test_round_trip_of_the_newer_zoo_networks(name, tmp_path):
    """Exported in training mode (BatchNorm kept): SiLU and Hardswish, squeeze-and-
    excitation gates, stochastic depth's random mask, 3-D convolutions."""
    zoo, back = _zoo_round_trip(name, tmp_path, training=True)
    assert _as_written(back.layers) == _as_written(zoo.layers)


def test_convnext_tiny_round_trip_in_eval_mode(tmp_path):
    """ConvNeXt has no BatchNorm to lose in eval mode, and there its stochastic depth is
    the identity, not written: the zoo's layers less its drop paths; the classifier's
    AdaptiveAvgPool2d(1) comes back as the GlobalAveragePool torch writes for it."""
    zoo, back = _zoo_round_trip("convnext-tiny", tmp_path, training=False)
    assert _as_written(back.layers) == _as_written(zoo.layers, drop_paths=False)


def test_unet_round_trip_nests_its_skips(tmp_path):
    """The zoo's U-Net is written flat, with from: references; each crop-and-concatenate
    is a nesting, so it imports as nested concats: the same layers in nesting order."""
    zoo, back = _zoo_round_trip("unet-2015", tmp_path, training=True, batch=1)
    assert sorted(_as_written(back.layers)) == sorted(_as_written(zoo.layers))
    assert back.layers[-1].out_shape == zoo.layers[-1].out_shape == (2, 388, 388)


def test_prelu_slopes_along_the_width_are_refused(tmp_path):
    """ONNX broadcasts PRelu's slopes from the right: (6,) on (N, 6, 6, 6) is one slope per
    column, not per channel as PyTorch's PReLU(6), which torch writes as (6, 1, 1)."""
    nodes = [helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu")]
    path, _ = _hand_model(tmp_path, nodes, (1, 6, 6, 6), [_weight("slope", 6)])
    line = _one_error_line(path)
    assert "(PRelu)" in line and "[6]" in line


class _ScaleChannelsLast(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return (x.permute(0, 2, 3, 1) * self.gamma).permute(0, 3, 1, 2)


def test_an_operation_of_a_channels_last_tensor_with_no_kind_is_one_line(tmp_path):
    path = tmp_path / "m.onnx"
    torch.onnx.export(_ScaleChannelsLast(), (torch.zeros(1, 4, 5, 5),), str(path), dynamo=False)
    line = _one_error_line(path)
    assert "(Mul)" in line and "channels-last" in line

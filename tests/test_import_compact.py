"""cnncalc import writes YAML a person would write (issue 13 §3): repeated modules as
blocks with arguments, calls and repeats; ``from:`` references only where the graph is not
a nesting of branches; ``outputs:`` for several outputs.

The oracles are independent of cnncalc: the torchvision-built zoo YAML (written by hand
from torchvision's source), the torch module's own ``state_dict`` and forward pass, and the
counts derived in the tests. The step-graph tests build :class:`Step` graphs by hand, as a
reader would, and need no torch.
"""

from __future__ import annotations

import struct

import pytest
import yaml
from typer.testing import CliRunner
from zoo_calls import zoo_as_modules

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.analysis.stats import convention_totals
from cnncalc.cli.app import app
from cnncalc.model.importgraph import Step, float_text, same_network, write_yaml
from cnncalc.model.yamlsource import parse_yaml

runner = CliRunner()


# ---------------------------------------------------------------- hand-built step graphs


def _conv(n: int, name: str, inputs: list[str], output: str, out: int, **options) -> Step:
    return Step(
        n, name, "Conv", inputs, output, {"conv": out, "kernel": 3, **options, "name": name}
    )


def _relu(n: int, inputs: list[str], output: str) -> Step:
    return Step(n, "", "Relu", inputs, output, {"relu": None})


def _yaml(steps: list[Step], output: str | list[str] = "", **extra) -> str:
    return write_yaml(
        steps,
        "x",
        output or steps[-1].output,
        comments=["hand-built"],
        name="net",
        source="test",
        input=(3, 16, 16),
        **extra,
    )


def _residual_stage(widths: list[int]) -> list[Step]:
    """stage.k = relu(x + conv2(relu(conv1(x)))), one per width, all 3×3 padding 1."""
    steps: list[Step] = []
    cur = "x"
    for k, width in enumerate(widths):
        n = len(steps)
        steps += [
            _conv(n, f"stage.{k}.conv1", [cur], f"a{k}", width, padding=1),
            _relu(n + 1, [f"a{k}"], f"b{k}"),
            _conv(n + 2, f"stage.{k}.conv2", [f"b{k}"], f"c{k}", 3, padding=1),
            Step(n + 3, "", "Add", [f"c{k}", cur], f"d{k}", join="add"),
            _relu(n + 4, [f"d{k}"], f"e{k}"),
        ]
        cur = f"e{k}"
    return steps


def test_four_alike_residual_modules_are_one_block_called_with_their_width():
    text = _yaml(_residual_stage([8, 16, 16, 16]))
    assert "blocks:\n  residual:\n    args: [channels]\n" in text
    assert "{conv: $channels, kernel: 3, padding: 1, name: conv1}" in text
    assert "{residual: [8], name: stage.0}" in text
    # stage.1 … stage.3 share their width: one repeat that graph.py names stage.1 … stage.3
    assert '{repeat: 3, name: stage, label: "", start: 1, layers: [{residual: [16]}]}' in text
    assert "from:" not in text
    a = analyze(loads(text))
    weighted = [(layer.name, layer.params) for layer in a.layers if layer.params]
    # conv1: width·3·9 + width; conv2: 3·width·9 + 3
    assert weighted == [
        ("stage.0.conv1", 8 * 27 + 8),
        ("stage.0.conv2", 3 * 8 * 9 + 3),
        *[(f"stage.{k}.conv{j}", p) for k in (1, 2, 3) for j, p in ((1, 16 * 27 + 16), (2, 435))],
    ]
    assert all(layer.out_shape[1:] == (16, 16) for layer in a.layers)


def _stage_with_downsample(widths_strides: list[tuple[int, int]]) -> list[Step]:
    """stage.k = relu(conv2(relu(conv1(x))) + skip): the skip is x where the stride is 1,
    a 1×1 conv ``downsample`` with the stride otherwise (torchvision's BasicBlock)."""
    steps: list[Step] = []
    cur = "x"
    for k, (width, stride) in enumerate(widths_strides):
        n = len(steps)
        steps += [
            _conv(n, f"stage.{k}.conv1", [cur], f"a{k}", width, padding=1, stride=stride),
            _relu(n + 1, [f"a{k}"], f"b{k}"),
            _conv(n + 2, f"stage.{k}.conv2", [f"b{k}"], f"c{k}", width, padding=1),
        ]
        skip = cur
        if stride != 1:
            name = f"stage.{k}.downsample"
            steps.append(_conv(len(steps), name, [cur], f"p{k}", width, kernel=1, stride=stride))
            skip = f"p{k}"
        steps.append(Step(len(steps), "", "Add", [f"c{k}", skip], f"d{k}", join="add"))
        steps.append(_relu(len(steps), [f"d{k}"], f"e{k}"))
        cur = f"e{k}"
    return steps


def test_a_module_without_its_downsample_shares_the_block_with_if():
    """The first module projects its input, the three after it add it as it is: one
    block whose downsample is ``if: $use_downsample`` (left out, the branch is ``[]``)."""
    text = _yaml(_stage_with_downsample([(8, 2), (8, 1), (8, 1), (8, 1)]))
    assert "  residual:\n    args: [stride, use_downsample]\n" in text
    assert "{conv: 8, kernel: 1, stride: 2, name: downsample, if: $use_downsample}" in text
    assert "{residual: [2, true], name: stage.0}" in text
    assert '{repeat: 3, name: stage, label: "", start: 1, layers: [{residual: [1, false]}]}' in text
    a = analyze(loads(text))
    weighted = [(layer.name, layer.params, layer.out_shape) for layer in a.layers if layer.params]
    # stage.0: conv1 3·8·9 + 8, conv2 8·8·9 + 8, downsample 3·8 + 8, at ⌊(16 + 2 − 3)/2⌋ + 1 = 8
    assert weighted[:3] == [
        ("stage.0.conv1", 224, (8, 8, 8)),
        ("stage.0.conv2", 584, (8, 8, 8)),
        ("stage.0.downsample", 32, (8, 8, 8)),
    ]
    assert weighted[3:] == [
        (f"stage.{k}.conv{j}", 8 * 8 * 9 + 8, (8, 8, 8)) for k in (1, 2, 3) for j in (1, 2)
    ]


def test_two_alike_modules_of_two_lines_stay_written_out():
    """A block costs its name, args and layers lines: for 2 layers used twice it is longer
    than the layers themselves, so they stay as they are."""
    steps = [
        _conv(0, "m.0.conv", ["x"], "a", 4, padding=1),
        _relu(1, ["a"], "b"),
        _conv(2, "m.1.conv", ["b"], "c", 4, padding=1),
        _relu(3, ["c"], "d"),
    ]
    text = _yaml(steps)
    assert "blocks:" not in text
    assert "{conv: 4, kernel: 3, padding: 1, name: m.0.conv}" in text


def test_a_missing_option_counts_as_its_default_and_channels_multiply():
    """Two modules whose first conv has stride 2 in one and none (1) in the other, and
    whose last conv has 4× the channels of the first: one block, stride and channels
    as arguments, the last conv ``$channels * 4``."""
    steps: list[Step] = []
    cur = "x"
    for k, (width, stride) in enumerate([(4, 1), (8, 2), (2, 1)]):
        n = len(steps)
        first = {"stride": stride} if stride != 1 else {}
        steps += [
            _conv(n, f"b.{k}.conv1", [cur], f"a{k}", width, padding=1, **first),
            _relu(n + 1, [f"a{k}"], f"r{k}"),
            _conv(n + 2, f"b.{k}.conv2", [f"r{k}"], f"c{k}", width, padding=1),
            _conv(n + 3, f"b.{k}.conv3", [f"c{k}"], f"d{k}", 4 * width, kernel=1),
        ]
        cur = f"d{k}"
    text = _yaml(steps)
    assert "args: [channels, stride]" in text
    assert '{conv: "$channels * 4", kernel: 1, name: conv3}' in text
    assert "{block: [4, 1], name: b.0}" in text and "{block: [8, 2], name: b.1}" in text
    a = analyze(loads(text))
    shapes = {layer.name: layer.out_shape for layer in a.layers}
    # 16 → 16 (stride 1) → ⌊(16 + 2 − 3)/2⌋ + 1 = 8 → 8
    assert shapes["b.0.conv3"] == (16, 16, 16)
    assert shapes["b.1.conv1"] == (8, 8, 8) and shapes["b.1.conv3"] == (32, 8, 8)
    assert shapes["b.2.conv3"] == (8, 8, 8)


def _crossing() -> list[Step]:
    """a = relu(x); b = conv(a); c = a + b; d = a · c; y = b + d: b and d each read two
    earlier layers whose branches cross, so no nesting says it."""
    return [
        _relu(0, ["x"], "a"),
        _conv(1, "b", ["a"], "b", 3, padding=1),
        Step(2, "", "Add", ["a", "b"], "c", join="add"),
        Step(3, "", "Mul", ["a", "c"], "d", join="mul"),
        Step(4, "", "Add", ["b", "d"], "y", join="add"),
    ]


def test_crossing_branches_read_earlier_layers_by_name():
    text = _yaml(_crossing())
    layers = text.split("layers:\n", 1)[1].splitlines()
    assert layers == [
        "  - {relu: , name: relu_1}",
        "  - {conv: 3, kernel: 3, padding: 1, name: b}",
        "  - {add: [relu_1, []]}",
        "  - {mul: [relu_1, []]}",
        "  - {add: [b, []]}",
    ]
    a = analyze(loads(text))
    assert [layer.kind for layer in a.layers] == ["relu", "conv", "add", "mul", "add"]
    assert a.total.params == 3 * 3 * 9 + 3


def test_several_outputs_are_named_in_outputs():
    """y1 = conv1(x), y2 = conv2(relu(y1)): the network returns both."""
    steps = [
        _conv(0, "head1", ["x"], "y1", 2, padding=1),
        _relu(1, ["y1"], "r"),
        _conv(2, "head2", ["r"], "y2", 5),
    ]
    text = _yaml(steps, ["y1", "y2"])
    assert "outputs: [head1, head2]" in text
    graph = build(loads(text))
    assert [graph.shape_of(i) for i in graph.output_nodes] == [(2, 16, 16), (5, 14, 14)]


def test_nesting_stays_where_the_graph_nests_before_a_crossing():
    """A residual module, then the crossing graph: the residual module keeps its nested
    add, references appear only after it."""
    head = _residual_stage([3])
    cross = _crossing()
    for step in cross:
        step.index += len(head)
        step.inputs = ["e0" if i == "x" else f"k{i}" for i in step.inputs]
        step.output = f"k{step.output}"
    text = _yaml(head + cross)
    before, after = text.split("relu_1", 1)
    assert "from:" not in before and "- add:\n" in before and "- []" in before
    assert "relu_1" in after


def test_a_compaction_that_changed_the_network_would_not_be_written():
    """The safety net: the compacted file must build the plain file's network, layer for
    layer (made-up names aside); a changed kernel or a renamed weight is caught."""
    plain = _yaml(_residual_stage([8, 16, 16, 16]), compact=False)
    compacted = _yaml(_residual_stage([8, 16, 16, 16]))
    assert "blocks:" in compacted and "blocks:" not in plain
    names = {f"stage.{k}.conv{j}" for k in range(4) for j in (1, 2)}
    assert same_network(compacted, plain, names)
    wrong_kernel = compacted.replace("kernel: 3, padding: 1, name: conv2", "kernel: 1, name: conv2")
    assert not same_network(wrong_kernel, plain, names)
    renamed = compacted.replace("name: conv1}", "name: first}")
    assert not same_network(renamed, plain, names)


def test_names_yaml_would_misread_are_quoted():
    """PyYAML reads on/off/yes/no as booleans and 0 as a number: such module names are
    quoted, so each layer keeps its name."""
    names = ["on", "0", "No", "null", "block.1"]
    steps = [_conv(n, name, [f"t{n}"], f"t{n + 1}", 3, padding=1) for n, name in enumerate(names)]
    steps[0].inputs = ["x"]
    a = analyze(loads(_yaml(steps)))
    assert [layer.name for layer in a.layers] == names


def test_float32_attributes_are_written_as_the_decimal_pytorch_was_given():
    """ONNX stores BatchNorm's eps and Dropout's ratio as float32: MobileNetV3's eps 0.001
    arrives as 0.0010000000474974513, the float32 nearest 0.001, and is written 0.001.
    YAML reads 1e-05 as a string (a float needs a dot), so it is written 1.0e-05."""
    single = struct.unpack("f", struct.pack("f", 0.001))[0]
    assert single == 0.0010000000474974513
    assert float_text(single) == "0.001"
    assert float_text(struct.unpack("f", struct.pack("f", 0.2))[0]) == "0.2"
    assert float_text(1e-05) == "1.0e-05"
    assert float_text(0.1 + 0.2) == "0.30000000000000004"  # a float64, kept whole
    for value in (0.001, 1e-05, 0.30000000000000004, 2.5e300):
        assert parse_yaml(f"v: {float_text(value)}\n", "t.yaml")["v"] == value


# ---------------------------------------------------------------- torch modules through ONNX


def _import(module, shape, tmp_path, name="m"):
    torch = pytest.importorskip("torch")
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(
        module,
        (torch.zeros(2, *shape),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.TRAINING,
    )
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def _same_function(text: str, module, shape) -> None:
    """The module exported from the imported YAML loads the original weights strictly
    and computes the same outputs (eval mode, BatchNorm on its running statistics)."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module

    rebuilt = exported_yaml_module(text).build()
    rebuilt.load_state_dict(module.state_dict(), strict=True)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        want, got = module.eval()(x), rebuilt.eval()(x)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def _weighted_paths(module) -> list[str]:
    """The module paths holding weights, in order: what the imported names must be."""
    return list(dict.fromkeys(k.rsplit(".", 1)[0] for k in module.state_dict()))


def _crossing_module():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Crossing(nn.Module):
        """a = relu(stem(x)); b = left(a); c = a + b; d = right(c) · a; head(b + d)."""

        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.left = nn.Conv2d(8, 8, 3, padding=1)
            self.right = nn.Conv2d(8, 8, 1)
            self.head = nn.Conv2d(8, 4, 1)

        def forward(self, x):
            a = torch.relu(self.stem(x))
            b = self.left(a)
            d = self.right(a + b) * a
            return self.head(b + d)

    return Crossing()


@pytest.mark.requires("torch", "onnx")
def test_crossing_torch_module_imports_with_from_and_computes_the_same(tmp_path):
    module = _crossing_module()
    text = _import(module, (3, 12, 12), tmp_path)
    layers = text.split("layers:\n", 1)[1]
    # a is read by name twice (relu_1), b once (left); the rest reads the layer before it
    assert "{relu: , name: relu_1}" in layers and "{add: [relu_1, []]}" in layers
    assert "{mul: [[], relu_1]}" in layers and "{add: [left, []]}" in layers
    a = analyze(loads(text))
    assert [layer.name for layer in a.layers if layer.params] == _weighted_paths(module)
    assert a.total.params == sum(p.numel() for p in module.parameters())
    # MACs: 12·12 outputs per map; stem 8·3·9, left 8·8·9, right 8·8, head 4·8
    assert a.total.macs == 144 * (8 * 27 + 8 * 72 + 64 + 32)
    assert a.layers[-1].out_shape == (4, 12, 12)
    _same_function(text, module, (3, 12, 12))


@pytest.mark.requires("torch", "onnx")
def test_feature_pyramid_with_three_outputs(tmp_path):
    """A small FPN returning p3, p4, p5 (Lin et al. 2017): lateral 1×1 convs plus the
    upsampled coarser level. The graph has three outputs, so it is written with outputs:."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Pyramid(nn.Module):
        def __init__(self):
            super().__init__()
            self.c3 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.c4 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.c5 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
            self.lat5, self.lat4, self.lat3 = (nn.Conv2d(c, 8, 1) for c in (32, 16, 8))
            self.up5, self.up4 = nn.ConvTranspose2d(8, 8, 2, 2), nn.ConvTranspose2d(8, 8, 2, 2)

        def forward(self, x):
            c3 = torch.relu(self.c3(x))
            c4 = torch.relu(self.c4(c3))
            p5 = self.lat5(torch.relu(self.c5(c4)))
            p4 = self.lat4(c4) + self.up5(p5)
            p3 = self.lat3(c3) + self.up4(p4)
            return p3, p4, p5

    module = Pyramid()
    text = _import(module, (3, 32, 32), tmp_path)
    # p3 and p4 are adds, named after their kind; c4's ReLU is read by the lateral conv
    assert "\noutputs: [add_2, add_1, lat5]\n" in text
    assert "{conv: 8, kernel: 1, from: relu_2, name: lat4}" in text
    graph = build(loads(text))
    assert [graph.shape_of(i) for i in graph.output_nodes] == [(8, 16, 16), (8, 8, 8), (8, 4, 4)]
    assert analyze(loads(text)).total.params == sum(p.numel() for p in module.parameters())
    _same_function(text, module, (3, 32, 32))


@pytest.mark.requires("torch", "onnx")
def test_a_unet_is_written_flat_with_its_skips_by_name(tmp_path):
    """A three-level U-Net (Ronneberger et al. 2015, with padded convs): its graph is a
    nesting of branches four deep, written as a person writes a U-Net (examples/
    unet-2015.yaml): the path in line, each skip a concat naming the encoder it reads."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def double_conv(i, o):
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1), nn.ReLU(), nn.Conv2d(o, o, 3, padding=1), nn.ReLU()
        )

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2, self.enc3 = (
                double_conv(3, 8),
                double_conv(8, 16),
                double_conv(16, 32),
            )
            self.bottom = double_conv(32, 64)
            self.up3, self.up2, self.up1 = (
                nn.ConvTranspose2d(c, c // 2, 2, 2) for c in (64, 32, 16)
            )
            self.dec3, self.dec2, self.dec1 = (
                double_conv(64, 32),
                double_conv(32, 16),
                double_conv(16, 8),
            )
            self.head = nn.Conv2d(8, 2, 1)

        def forward(self, x):
            pool = nn.functional.max_pool2d
            e1 = self.enc1(x)
            e2 = self.enc2(pool(e1, 2))
            e3 = self.enc3(pool(e2, 2))
            d3 = self.dec3(torch.cat([e3, self.up3(self.bottom(pool(e3, 2)))], 1))
            d2 = self.dec2(torch.cat([e2, self.up2(d3)], 1))
            return self.head(self.dec1(torch.cat([e1, self.up1(d2)], 1)))

    module = UNet()
    text = _import(module, (3, 32, 32), tmp_path)
    layers = text.split("layers:\n")[-1].splitlines()
    assert "  - {double_conv_relu: [64], name: bottom}" in layers
    skips = [line for line in layers if "concat" in line]
    assert skips == [f"  - {{concat: [enc{k}, []]}}" for k in (3, 2, 1)]
    assert "    - " not in text.split("layers:\n")[-1]  # nothing nested
    weighted = [layer.name for layer in analyze(loads(text)).layers if layer.params]
    assert sorted(weighted) == sorted(_weighted_paths(module))  # declared ≠ run order
    _same_function(text, module, (3, 32, 32))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """name → (zoo spec, torch module, imported YAML text): each exported once."""
    pytest.importorskip("onnx")
    pytest.importorskip("torch")
    from pytorch_model import torch_model

    found = {}

    def get(name):
        if name not in found:
            spec = zoo_as_modules(name)
            module = torch_model(name).train()
            text = _import(module, spec.input, tmp_path_factory.mktemp(name), name)
            found[name] = spec, module, text
        return found[name]

    return get


def _assert_round_trip(spec, module, text) -> None:
    """Per-layer shapes and names, parameters, buffers and every convention's totals
    identical to the zoo network's; weighted layers named by the module's own paths."""
    zoo, back = analyze(spec), analyze(loads(text, "imported"))
    assert [layer.out_shape for layer in back.layers] == [layer.out_shape for layer in zoo.layers]
    assert [layer.name for layer in back.layers if layer.params] == _weighted_paths(module)
    assert (back.total.params, back.total.buffers) == (zoo.total.params, zoo.total.buffers)
    zoo_totals = {r.convention.name: r.figures for r in convention_totals(build(spec)).rows}
    back_totals = {r.convention.name: r.figures for r in convention_totals(build(loads(text))).rows}
    assert back_totals == zoo_totals


@pytest.mark.requires("torch", "onnx")
def test_imported_resnet50_is_one_bottleneck_block_with_an_optional_downsample(imported):
    """193 lines one per node before. torchvision's Bottleneck is one module whose
    ``downsample`` (1×1 conv with the stride + BatchNorm) is there in the first block of
    each stage only (He et al. 2016, Table 1 and eq. 2): one block whose downsample branch
    is ``if: $use_downsample``, the identity where it is left out."""
    spec, module, text = imported("resnet50")
    assert len(text.splitlines()) <= 40, text
    assert "  bottleneck:\n    args: [channels, stride, use_downsample]\n" in text
    assert "bottleneck_down" not in text
    # ResNet's expansion 4: conv3 and the projection have 4 × the width
    assert '{conv: "$channels * 4", kernel: 1, bias: false, name: conv3}' in text
    assert (
        '{conv: "$channels * 4", kernel: 1, stride: $stride, bias: false, name: downsample.0, '
        "if: $use_downsample}"
    ) in text
    assert "{batchnorm: , name: downsample.1, if: $use_downsample}" in text
    for stage, (width, stride, blocks) in enumerate(
        [(64, 1, 3), (128, 2, 4), (256, 2, 6), (512, 2, 3)], 1
    ):
        assert f"{{bottleneck: [{width}, {stride}, true], name: layer{stage}.0}}" in text
        assert (
            f'{{repeat: {blocks - 1}, name: layer{stage}, label: "", start: 1, '
            f"layers: [{{bottleneck: [{width}, 1, false]}}]}}"
        ) in text
    _assert_round_trip(spec, module, text)


@pytest.mark.requires("torch", "onnx")
def test_export_of_imported_resnet50_loads_the_original_weights(imported):
    spec, module, text = imported("resnet50")
    _same_function(text, module, spec.input)


BNECK_CONF = [
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
]
"""torchvision's ``bneck_conf`` rows of mobilenet_v3_large, features.1 … features.15
(Howard et al. 2019, Table 1): input, kernel, expanded, out, use_se, activation, stride."""


def _make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible`` (from the TensorFlow MobileNet code): the squeeze
    width of SqueezeExcitation."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


def _calls(items: list, found: list) -> list:
    """Every block call in parsed YAML layers, with whether an ``add`` holds it."""
    for item in items:
        kind = next(iter(item))
        if kind == "add":
            found += [(c, True) for b in item["add"] if b for c in b]
        elif isinstance(item[kind], list):
            found.append((item, False))
    return found


@pytest.mark.requires("torch", "onnx")
def test_imported_mobilenet_v3_large_is_one_inverted_residual_block(imported):
    """211 lines one per node before, 86 with a block per shape. torchvision builds every
    bneck from one InvertedResidual: an expansion Conv2dNormActivation where the expanded
    width differs from the input's, the depthwise one, SqueezeExcitation where use_se, the
    projection (a Conv2dNormActivation without activation), numbered 0, 1, … in that order
    in ``.block``; ReLU ("RE") or Hardswish ("HS"). So one Conv2dNormActivation block with
    its activation an argument (optional, for the projection) and one InvertedResidual
    block with the expansion and the squeeze-and-excitation optional and the later parts
    named by their position."""
    spec, module, text = imported("mobilenet-v3-large")
    assert len(text.splitlines()) <= 60, text
    assert (
        "  conv_bn_act:\n    args: [channels, kernel, stride, padding, groups, act, use_act]\n"
    ) in text
    data = yaml.safe_load(text)
    activation = data["blocks"]["conv_bn_act"]["layers"][2]  # ONNX names no activation
    assert {k: v for k, v in activation.items() if k != "name"} == {"$act": None, "if": "$use_act"}
    assert list(data["blocks"]) == ["conv_bn_act", "inverted_bottleneck"]
    args = data["blocks"]["inverted_bottleneck"]["args"]
    assert args == [
        "channels", "act", "kernel", "stride", "padding", "channels2", "channels3",
        "use_conv_bn_act", "use_squeeze_excitation",
    ]  # fmt: skip
    body = data["blocks"]["inverted_bottleneck"]["layers"]
    assert body[0]["if"] == "$use_conv_bn_act"  # the expansion
    assert body[1]["name"] == "$use_conv_bn_act + 0"  # the depthwise conv: 0 or 1
    assert body[2]["if"] == "$use_squeeze_excitation"
    assert body[3]["name"] == "$use_conv_bn_act + $use_squeeze_excitation + 1"  # projection
    calls = _calls(data["layers"], [])
    assert calls[0] == (
        {"conv_bn_act": [16, 3, 2, 1, 1, "hardswish", True], "name": "features.0"},
        False,
    )
    assert calls[-1] == (
        {"conv_bn_act": [960, 1, 1, 0, 1, "hardswish", True], "name": "features.16"},
        False,
    )
    assert len(calls) == 2 + len(BNECK_CONF)
    for n, (row, (call, in_add)) in enumerate(zip(BNECK_CONF, calls[1:-1]), 1):
        cin, kernel, expanded, out, use_se, act, stride = row
        given = dict(zip(args, call["inverted_bottleneck"]))
        assert call["name"] == f"features.{n}.block"
        assert given["channels"] == expanded and given["channels3"] == out
        assert (given["kernel"], given["stride"], given["padding"]) == (kernel, stride, kernel // 2)
        assert given["act"] == {"RE": "relu", "HS": "hardswish"}[act]
        assert given["use_conv_bn_act"] == (expanded != cin)
        assert given["use_squeeze_excitation"] == use_se
        if use_se:
            assert given["channels2"] == _make_divisible(expanded // 4)
        assert in_add == (stride == 1 and cin == out)  # use_res_connect
    _assert_round_trip(spec, module, text)
    _same_function(text, module, spec.input)


@pytest.mark.requires("torch", "onnx")
def test_imported_mobilenet_v3_small_numbers_its_se_after_a_missing_expansion(imported):
    """MobileNetV3-Small's features.1 is bneck_conf(16, 3, 16, 16, True, "RE", 2): no
    expansion (16 = 16) but squeeze-and-excitation, so torchvision numbers it block.0
    (depthwise), block.1 (SE), block.2 (projection); features.2 (16, 3, 72, 24, False,
    "RE", 2) has the expansion and no SE. One block says both."""
    spec, module, text = imported("mobilenet-v3-small")
    assert len(text.splitlines()) <= 50, text
    data = yaml.safe_load(text)
    args = data["blocks"]["inverted_bottleneck"]["args"]
    calls = {c["name"]: dict(zip(args, c["inverted_bottleneck"])) for c, _ in _calls(data["layers"], [])
             if "inverted_bottleneck" in c}  # fmt: skip
    first, second = calls["features.1.block"], calls["features.2.block"]
    assert (first["use_conv_bn_act"], first["use_squeeze_excitation"]) == (False, True)
    assert (second["use_conv_bn_act"], second["use_squeeze_excitation"]) == (True, False)
    assert first["channels2"] == _make_divisible(16 // 4)  # the squeeze width, 8
    assert [layer.name for layer in analyze(loads(text)).layers if layer.params][2:6] == [
        "features.1.block.0.0",
        "features.1.block.0.1",
        "features.1.block.1.fc1",
        "features.1.block.1.fc2",
    ]
    _assert_round_trip(spec, module, text)


@pytest.mark.requires("torch", "onnx")
def test_imported_densenet121_repeats_each_dense_block(imported):
    """DenseNet-121 (Huang et al. 2017, Table 1): dense blocks of 6, 12, 24 and 16 layers,
    each layer BN-ReLU-1×1 conv (4·32 = 128) - BN-ReLU-3×3 conv (growth 32) concatenated
    to its input. The layers differ only in their input's channels, which BatchNorm reads
    from its input, so each dense block is one repeat of one block."""
    spec, module, text = imported("densenet121")
    assert len(text.splitlines()) <= 45, text
    assert "{conv: 128, kernel: 1, bias: false, name: conv1}" in text
    assert "{conv: 32, kernel: 3, padding: 1, bias: false, name: conv2}" in text
    for block, layers in enumerate((6, 12, 24, 16), 1):
        assert (
            f"{{repeat: {layers}, name: features.denseblock{block}, label: denselayer, "
            "start: 1, layers: [{dense_layer: }]}"
        ) in text
    _assert_round_trip(spec, module, text)

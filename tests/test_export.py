"""`cnncalc export --to pytorch`: PyTorch builds the network and checks cnncalc's numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from needs import optional_module
from pytorch_model import exported_yaml_module, torch_model

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.model.zoo import zoo_names

torch = optional_module("torch")

REFERENCE = Path(__file__).parent / "reference" / "torchvision"
TORCHVISION_NAMES = {"vgg16_bn": "vgg16-bn", "mobilenet_v2": "mobilenet-v2"}
NETWORKS = [n for n in zoo_names() if load(n).variants is None]
SMALL_BATCH = 2


# Counts and shapes need no values: the module is built on the meta device, where PyTorch
# works out every shape without allocating or computing (the 3-D video networks' forward
# passes alone would take seconds each).


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", NETWORKS)
def test_exported_parameter_count_equals_cnncalc(name):
    with torch.device("meta"):
        model = torch_model(name)
    assert sum(p.numel() for p in model.parameters()) == analyze(load(name)).total.params


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", NETWORKS)
def test_every_intermediate_shape_equals_pytorch(name):
    graph = build(load(name))
    with torch.device("meta"), torch.no_grad():
        model = torch_model(name)
        values = model(torch.zeros((SMALL_BATCH,) + graph.input), return_all=True)
    for node in graph.nodes:
        assert tuple(values[node.index].shape) == (SMALL_BATCH,) + node.out_shape, node.name


@pytest.mark.requires("torch")
@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.json")), ids=lambda p: p.stem)
def test_exported_state_dict_is_torchvisions(path):
    """Keys and shapes, in order, equal torchvision 0.29.1's, so a strict load works."""
    reference = json.loads(path.read_text())
    name = TORCHVISION_NAMES.get(path.stem, path.stem)
    with torch.device("meta"):
        model = torch_model(name)
        state = model.state_dict()
        assert [(k, list(v.shape)) for k, v in state.items()] == [
            (k, shape) for k, shape in reference["state_dict"]
        ]
        # a state_dict with exactly torchvision's keys and shapes loads strictly
        foreign = {
            k: torch.zeros(shape) if k.endswith("num_batches_tracked") is False else torch.tensor(0)
            for k, shape in reference["state_dict"]
        }
        model.load_state_dict(foreign, strict=True)


@pytest.mark.requires("torch")
def test_generated_file_runs_and_prints_its_parameter_count(cli, tmp_path):
    out = tmp_path / "lenet5_model.py"
    result = cli("export", "lenet5", "--to", "pytorch", "--output", out)
    assert result.exit_code == 0, result.output
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, check=True)
    assert "60,840 trainable parameters" in run.stdout  # LeCun et al. 1998
    assert "output shape: (1, 10)" in run.stdout


@pytest.mark.requires("torch")
def test_export_keeps_a_user_networks_names_and_asymmetric_padding(cli, yaml_file):
    path = yaml_file("""
        input: [3, 9, 10]
        layers:
          - {conv: 4, kernel: 4, padding: same, name: stem}
          - {pool: max, kernel: 2, padding: [0, 1, 0, 1]}
          - add:
              - [{conv: 4, kernel: 3, padding: 1, name: body}]
              - []
          - {gap: }
          - {fc: 2, name: head}
        """)
    result = cli("export", path)
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(result.stdout, namespace)
    model = namespace["build"]().eval()
    assert set(model.state_dict()) == {
        "stem.weight",
        "stem.bias",
        "body.weight",
        "body.bias",
        "head.weight",
        "head.bias",
    }
    graph = build(load(str(path)))
    with torch.no_grad():
        values = model(torch.randn(1, 3, 9, 10), return_all=True)
    for node in graph.nodes:
        assert tuple(values[node.index].shape[1:]) == node.out_shape, node.name


def test_export_does_not_import_torch(yaml_file):
    """Writing the module needs no torch (it is a test dependency, not a runtime one)."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from cnncalc.cli import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['export', 'resnet18'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'class ResNet18' in r.stdout\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.requires("torch")
@pytest.mark.parametrize("name", ["lenet5", "resnet18", "googlenet", "densenet121", "mobilenet-v2"])
def test_torch_export_traces_the_exported_module(name):
    """torch.export.export takes the generated module as it is (no Python control flow on
    tensors), and the exported program computes what the module computes."""
    model = torch_model(name)
    x = torch.randn((1,) + build(load(name)).input)
    program = torch.export.export(model, (x,))
    with torch.no_grad():
        assert torch.allclose(program.module()(x), model(x), rtol=1e-4, atol=1e-5)


def test_exported_source_reads_like_code_a_person_wrote(cli, yaml_file):
    """Named submodules built with PyTorch's defaults left out, a forward that calls them
    in order, and only the helper classes the network needs."""
    lenet = cli("export", "lenet").stdout
    assert "self.conv1 = nn.Conv2d(1, 6, 5, padding=2)" in lenet
    assert "conv1 = self.conv1(x)" in lenet and "fc3 = self.fc3(sigmoid4)" in lenet
    for helper in ("TableConv", "Subsample", "RBF", "AvgPoolOverRealInputs", "PLAN", "Select"):
        assert helper not in lenet
    lenet5 = cli("export", "lenet5").stdout
    assert "class TableConv" in lenet5 and "class Subsample" in lenet5 and "class RBF" in lenet5
    assert "class AvgPoolOverRealInputs" not in lenet5
    resnet = cli("export", "resnet18").stdout
    assert 'self.layer2["0"].downsample["0"] = nn.Conv2d(64, 128, 1, stride=2, bias=False)' in (
        resnet
    )
    path = yaml_file(
        "input: [3, 9, 10]\nlayers:\n  - {conv: 4, kernel: 3, name: stem}\n"
        "  - {pool: max, kernel: 2, padding: [0, 1, 0, 1], name: pool}\n"
        "  - {concat: [[{conv: 2, kernel: 1, name: a}], []], name: join}\n"
    )
    user = cli("export", path).stdout
    assert 'pool = self.pool(F.pad(stem, (0, 1, 0, 1), value=float("-inf")))' in user
    assert "join_a = self.join.a(pool)" in user
    assert "join = torch.cat([join_a, pool], 1)" in user


MODERN = """
name: modern
input: [8, 6, 6]
layers:
  - concat:
      - [{select: [0, 4]}]
      - [{select: [4, 8]}, {conv: 4, kernel: 1, bias: false}, {batchnorm: }, {relu: },
         {conv: 4, kernel: 3, padding: 1, groups: 4, bias: false}, {batchnorm: }]
    name: unit
  - {shuffle: 2, name: shuffle}
  - add:
      - [{conv: 8, kernel: 7, padding: 3, groups: 8, name: dwconv},
         {layernorm: , eps: 1.0e-6, name: norm}, {linear: 32, name: pwconv1}, {gelu: },
         {linear: 8, name: pwconv2}, {layer_scale: 1.0e-6, name: layer_scale},
         {drop_path: 0.1}]
      - []
    name: block
  - mul:
      - []
      - [{gap: }, {conv: 2, kernel: 1, name: fc1}, {relu: }, {conv: 8, kernel: 1, name: fc2},
         {sigmoid: }]
    name: se
"""
"""A ShuffleNet v2 unit, a ConvNeXt block and a squeeze-and-excitation gate in a row."""


def test_new_kinds_are_exported_as_calls_a_person_writes(cli, yaml_file):
    source = cli("export", yaml_file(MODERN)).stdout
    assert "unit = torch.cat([unit_0_select, unit_1_batchnorm2], 1)" in source
    assert "self.block.norm = LayerNorm2d(8, eps=1e-06" in source
    # the positionwise linear moves the channels last and back, as ConvNeXt's Permute does
    assert "self.block.pwconv1(block_norm.movedim(1, -1)).movedim(-1, 1)" in source
    # layer scale is the block's own parameter, as in torchvision's CNBlock
    assert "self.block.layer_scale = nn.Parameter(torch.full((8, 1, 1), 1e-06))" in source
    assert "block_layer_scale = block_pwconv2 * self.block.layer_scale" in source
    assert "block = block_drop_path + shuffle" in source  # beside block.norm, block.pwconv1
    assert "se = block * se_sigmoid" in source
    for helper in ("Select", "LayerNorm2d", "StochasticDepth"):
        assert f"class {helper}(" in source
    for helper in ("TableConv", "CenterCrop", "AvgPoolOverRealInputs", "RBF"):
        assert f"class {helper}(" not in source


@pytest.mark.requires("torch")
def test_torch_export_traces_new_kinds_and_several_outputs():
    """The exported program equals the module on the new kinds (select, shuffle, layer norm
    over channels, positionwise linear, layer scale, drop path, the mul gate) and on a
    feature pyramid that reads earlier layers by name and returns three outputs."""
    pyramid = (
        "input: [3, 32, 32]\noutputs: [p3, p4, p5]\nlayers:\n"
        "  - {conv: 8, kernel: 3, stride: 2, padding: 1, name: c3}\n"
        "  - {conv: 16, kernel: 3, stride: 2, padding: 1, name: c4}\n"
        "  - {conv: 32, kernel: 3, stride: 2, padding: 1, name: c5}\n"
        "  - {conv: 8, kernel: 1, name: p5}\n"
        "  - {deconv: 8, kernel: 2, stride: 2, name: up5}\n"
        "  - {add: [[], [{conv: 8, kernel: 1, from: c4, name: lat4}]], name: p4}\n"
        "  - {deconv: 8, kernel: 2, stride: 2, name: up4}\n"
        "  - {add: [[], [{conv: 8, kernel: 1, from: c3, name: lat3}]], name: p3}\n"
    )
    for text, shapes in (
        (MODERN, [(1, 8, 6, 6)]),
        (pyramid, [(1, 8, 16, 16), (1, 8, 8, 8), (1, 8, 4, 4)]),
    ):
        model = exported_yaml_module(text).build().eval()
        x = torch.randn((1,) + build(loads(text)).input)
        program = torch.export.export(model, (x,))
        with torch.no_grad():
            expected, got = model(x), program.module()(x)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = got if isinstance(got, tuple) else (got,)
        assert [tuple(t.shape) for t in expected] == shapes
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)

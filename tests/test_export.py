"""`cnncalc export --to pytorch`: PyTorch builds the network and checks cnncalc's numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from needs import optional_module
from pytorch_model import torch_model

from cnncalc.analysis.pipeline import analyze, build, load
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

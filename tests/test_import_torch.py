"""cnncalc import torch:MODULE:CALLABLE: PyTorch modules traced with torch.fx (issue 13 §2).

The oracles are PyTorch and torchvision themselves: the imported network must have the
zoo network's shapes and every convention's totals, the parameters and BatchNorm buffers
torchvision's module holds (counted here with ``p.numel()``), and its export must load
torchvision's own ``state_dict`` strictly (every key, every shape). The zoo networks'
own exports (``cnncalc export --to pytorch``) make the same round trip back. Bad sources
each fail in one line, exit 2, and write no file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import yaml
from error_lines import one_error_line
from typer.testing import CliRunner

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.analysis.stats import convention_totals
from cnncalc.cli.app import app

runner = CliRunner()
needs_torch = pytest.mark.requires("torch")
needs_torchvision = pytest.mark.requires("torch", "torchvision")


def _run(*args: str):
    return runner.invoke(app, list(args))


def _totals(spec) -> dict:
    return {r.convention.name: r.figures for r in convention_totals(build(spec)).rows}


GAP_AS_ADAPTIVE = {"gap": "adaptive"}
"""cnncalc's export writes a ``gap`` as nn.AdaptiveAvgPool2d(1), the module an
``adaptive: 1`` also becomes, so the exported file no longer says which it was and the
import reads ``adaptive``: the same shape, and (asserted with it) the same counts under
every convention."""


def _same_network(imported, zoo, same_kind: dict[str, str] | None = None) -> None:
    """Per layer: kind and shape; in total: params, buffers, every convention's figures."""
    got, want = analyze(imported), analyze(zoo)
    same_kind = same_kind or {}
    assert [(r.kind, r.out_shape) for r in got.layers] == [
        (same_kind.get(r.kind, r.kind), r.out_shape) for r in want.layers
    ]
    assert [r.params for r in got.layers] == [r.params for r in want.layers]
    assert got.total.params == want.total.params
    assert got.total.buffers == want.total.buffers
    assert _totals(imported) == _totals(zoo)


# ---------------------------------------------------------------- torchvision's own models

TORCHVISION = [
    # (torch: source, zoo name)
    ("torchvision.models:resnet18", "resnet18"),
    ("torchvision.models:resnet50", "resnet50"),
    ("torchvision.models:resnext50_32x4d", "resnext50-32x4d"),
    ("torchvision.models:wide_resnet50_2", "wide-resnet50-2"),
    ("torchvision.models:vgg11", "vgg11"),
    ("torchvision.models:vgg16_bn", "vgg16-bn"),
    ("torchvision.models:alexnet", "alexnet"),
    ("torchvision.models:googlenet(aux_logits=False, init_weights=False)", "googlenet"),
    ("torchvision.models:inception_v3(aux_logits=False, init_weights=False)", "inception-v3"),
    ("torchvision.models:densenet121", "densenet121"),
    ("torchvision.models:squeezenet1_0", "squeezenet1-0"),
    ("torchvision.models:squeezenet1_1", "squeezenet1-1"),
    ("torchvision.models:mobilenet_v2", "mobilenet-v2"),
    ("torchvision.models:mobilenet_v3_small", "mobilenet-v3-small"),
    ("torchvision.models:mobilenet_v3_large", "mobilenet-v3-large"),
    ("torchvision.models:efficientnet_b0", "efficientnet-b0"),
    ("torchvision.models:efficientnet_v2_s", "efficientnet-v2-s"),
    ("torchvision.models:shufflenet_v2_x1_0", "shufflenet-v2-x1-0"),
    ("torchvision.models:regnet_x_400mf", "regnet-x-400mf"),
    ("torchvision.models:regnet_y_400mf", "regnet-y-400mf"),
    ("torchvision.models:convnext_tiny", "convnext-tiny"),
    ("torchvision.models:mnasnet0_5", "mnasnet0-5"),
    ("torchvision.models.video:r3d_18", "r3d-18"),
    ("torchvision.models.video:r2plus1d_18", "r2plus1d-18"),
]


def _torchvision_module(source: str):
    """The module the source names, built here by the test itself (not by cnncalc)."""
    import importlib

    from cnncalc.model.torch_import import parse_source

    where, name, kwargs = parse_source(source)
    return getattr(importlib.import_module(where), name)(**kwargs).eval()


@needs_torchvision
@pytest.mark.parametrize("source, zoo", TORCHVISION, ids=[z for _, z in TORCHVISION])
def test_torchvision_model_imports_as_the_zoo_network(source, zoo, tmp_path):
    """import torch:torchvision.models:NAME at the zoo's input = the zoo network, and the
    import's export loads torchvision's state_dict strictly."""
    from pytorch_model import exported_yaml_module

    spec = load(zoo)
    size = "x".join(map(str, spec.input))
    out = tmp_path / "imported.yaml"
    result = _run("import", f"torch:{source}", "--input", size, "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    imported = loads(text, "imported")
    _same_network(imported, load(zoo))

    module = _torchvision_module(source)
    got = analyze(imported)
    assert got.total.params == sum(p.numel() for p in module.parameters())
    statistics = [
        t.numel()
        for k, t in module.state_dict().items()
        if k.endswith(("running_mean", "running_var"))
    ]
    assert got.total.buffers == sum(statistics)
    rebuilt = exported_yaml_module(text).build()
    rebuilt.load_state_dict(module.state_dict(), strict=True)


CALLED_AS_TORCHVISION_DOES = [
    # (torch: source, zoo name, how one of its layers is called)
    ("torchvision.models:densenet121", "densenet121", "function"),  # F.relu, F.adaptive_…
    ("torchvision.models:googlenet(aux_logits=False, init_weights=False)", "googlenet", "function"),
    ("torchvision.models:mobilenet_v2", "mobilenet-v2", "function"),  # F.adaptive_avg_pool2d
    ("torchvision.models.video:r3d_18", "r3d-18", "subclass"),  # Conv3DSimple(nn.Conv3d)
    ("torchvision.models:convnext_tiny", "convnext-tiny", "channels_last"),  # nn.LayerNorm
]


@needs_torchvision
@pytest.mark.parametrize("source, zoo, call", CALLED_AS_TORCHVISION_DOES)
def test_imported_torchvision_model_counts_as_thop_and_ptflops_do(source, zoo, call, tmp_path):
    """torch.fx tells a call_function/call_method from a call_module, and a subclass from
    torch.nn's class: the import writes those as ``call:`` marks, so the thop and ptflops
    presets on the imported YAML are the zoo network's (the tools' own numbers on
    torchvision's model, which test_peer_tools checks by running the tools)."""
    size = "x".join(map(str, load(zoo).input))
    result = _run("import", f"torch:{source}", "--input", size)
    assert result.exit_code == 0, result.output
    assert f"call: {call}" in result.stdout
    imported = loads(result.stdout, "imported")
    for preset in ("thop", "ptflops", "ptflops-aten"):
        got = analyze(imported, convention=preset).total
        want = analyze(load(zoo), convention=preset).total
        assert (got.macs, got.params) == (want.macs, want.params), preset


@needs_torchvision
@pytest.mark.parametrize(
    "source, tool, number",
    [
        ("torchvision.models:densenet121", "thop", 2_897_007_104),
        ("torchvision.models:mobilenet_v2", "thop", 327_486_720),
        (
            "torchvision.models:googlenet(aux_logits=False, init_weights=False)",
            "ptflops",
            1_513_907_448,
        ),
    ],
)
def test_issue_9_numbers_from_the_imported_torchvision_model(source, tool, number):
    """Issue 9's figures, the tools' MACs on torchvision's models at 3×224×224 (run by
    test_peer_tools.py::test_issue_9_numbers_on_torchvision_at_224): thop does not see
    DenseNet's and MobileNetV2's F.adaptive_avg_pool2d, ptflops counts GoogLeNet's F.relu
    once; the imported YAML says so with ``call: function``."""
    result = _run("import", f"torch:{source}", "--input", "3x224x224")
    assert result.exit_code == 0, result.output
    assert analyze(loads(result.stdout, "imported"), convention=tool).total.macs == number


@needs_torchvision
def test_imported_resnet18_names_are_torchvisions_module_paths(tmp_path):
    result = _run("import", "torch:torchvision.models:resnet18", "--input", "3x224x224")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Imported by 'cnncalc import' from torch:torchvision")
    names = [r.name for r in analyze(loads(result.stdout)).layers]
    for name in ("conv1", "layer1.0.conv1", "layer2.0.downsample.0", "layer4.1.bn2", "fc"):
        assert name in names
    # torch.flatten(x, 1) and the residual add: layers with no module of their own
    assert "add:" in result.stdout and "{flatten: , call: function}" in result.stdout


@needs_torchvision
def test_googlenet_with_its_auxiliary_classifiers_is_refused_naming_them(tmp_path):
    """In eval mode GoogLeNet's forward never calls aux1 and aux2: the import would count
    fewer parameters than the module holds and its export would not load the state_dict,
    so the default googlenet() is refused; googlenet(aux_logits=False) imports (above)."""
    out = tmp_path / "g.yaml"
    line = one_error_line(
        _run(
            "import",
            "torch:torchvision.models:googlenet(init_weights=False)",
            "--input",
            "3x224x224",
            "-o",
            str(out),
        )
    )
    assert "aux1" in line and "aux_logits=False" in line
    assert not out.exists()


# ---------------------------------------------------------------- zoo → export → torch: import

ZOO_EXPORTS = [
    "lenet",
    "resnet18",
    "googlenet",
    "densenet121",
    "inception-v3",
    "mobilenet-v3-small",
    "shufflenet-v2-x0-5",
    "convnext-tiny",
    "efficientnet-b0",
    "regnet-y-400mf",
    "squeezenet1-0",
    "nin",
    "r3d-18",
    "alexnet-2gpu",
    "d2l-googlenet",
    "d2l-densenet",
    "d2l-lenet-bn",
    "mnist-resnet",
    "alexnet",
    "vgg11",
    "d2l-alexnet",
    "d2l-vgg11",
    "d2l-resnet18",
    "mnist-inception",
    "resnext50-32x4d",
    "wide-resnet50-2",
    "mobilenet-v2",
    "efficientnet-v2-s",
    "regnet-x-400mf",
    "mnasnet0-5",
    "mc3-18",
    "r2plus1d-18",
]
"""One network of every zoo family (LeNet-5 and U-Net have tests of their own below)."""


@needs_torch
@pytest.mark.parametrize("zoo", ZOO_EXPORTS)
def test_zoo_export_imports_back_as_the_same_network(zoo, tmp_path):
    """cnncalc export --to pytorch -o model.py, then import torch:model.py:build with no
    --input (the file's INPUT_SHAPE): the zoo network again."""
    model = tmp_path / "model.py"
    result = _run("export", zoo, "--to", "pytorch", "-o", str(model))
    assert result.exit_code == 0, result.output
    back = _run("import", f"torch:{model}:build")
    assert back.exit_code == 0, back.output
    # a gap applied as x.mean (call: function, ShuffleNet's) is written so and reads back
    # as a gap; one written as nn.AdaptiveAvgPool2d(1) reads back as adaptive
    gaps = {node.layer.call for node in build(load(zoo)).nodes if node.kind == "gap"}
    same_kind = {} if gaps == {"function"} else GAP_AS_ADAPTIVE
    _same_network(loads(back.stdout, "imported"), load(zoo), same_kind)


@needs_torch
def test_unet_written_flat_imports_back_nested(tmp_path):
    """The zoo's U-Net (Ronneberger et al. 2015) is written flat, each crop reading its skip
    by ``from:``; traced, the skips nest as concat branches, so the layers come back in
    another order: the same layers by name (every conv and each centre crop, 64×568×568 →
    392×392 for crop1: offset ⌊(568 − 392)/2⌋ = 88), the same kinds and shapes, and the
    same totals under every convention."""
    model = tmp_path / "model.py"
    assert _run("export", "unet-2015", "--to", "pytorch", "-o", str(model)).exit_code == 0
    back = _run("import", f"torch:{model}:build")
    assert back.exit_code == 0, back.output
    assert "{crop: 392, name: crop1}" in back.stdout
    imported, zoo = loads(back.stdout, "imported"), load("unet-2015")
    got, want = analyze(imported), analyze(zoo)

    def named(result):
        return {r.name: (r.kind, r.out_shape, r.params) for r in result.layers if r.params}

    assert named(got) == named(want)
    crops = {r.name: r.out_shape for r in got.layers if r.kind == "crop"}
    assert crops == {r.name: r.out_shape for r in want.layers if r.kind == "crop"}
    assert crops["crop1"] == (64, 392, 392)
    assert sorted((r.kind, r.out_shape) for r in got.layers) == sorted(
        (r.kind, r.out_shape) for r in want.layers
    )
    assert (
        got.total.params == want.total.params == 31_030_658
    )  # derived conv by conv in test_zoo_unet.py
    assert _totals(imported) == _totals(zoo)


LENET5_TABLE_I = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5],
]  # fmt: skip
"""LeCun et al. 1998, Table I: the S2 maps (of 6) each C3 map (of 16) is connected to."""


@needs_torch
def test_lenet5_export_imports_back_with_its_helpers_as_one_layer_each(tmp_path):
    """LeNet-5 (LeCun et al. 1998): the export's Subsample, TableConv and RBF classes say
    which cnncalc kind they are (``cnncalc_kind``, ``cnncalc_layer``), so the torch: reader
    takes each whole instead of tracing its arithmetic. C3 comes back with Table I's rows:
    6·(3·25 + 1) + 9·(4·25 + 1) + 1·(6·25 + 1) = 1516 parameters; S2 has 6 coefficients and
    6 biases = 12. The one new layer is the ``flatten`` the export writes before F6's
    nn.Linear (cnncalc's ``fc`` flattens by itself): no parameters, and every convention's
    totals stay the zoo network's."""
    from pytorch_model import torch_model

    model = tmp_path / "model.py"
    assert _run("export", "lenet5", "--to", "pytorch", "-o", str(model)).exit_code == 0
    back = _run("import", f"torch:{model}:build")
    assert back.exit_code == 0, back.output
    imported, zoo = loads(back.stdout, "imported"), load("lenet5")
    got, want = analyze(imported), analyze(zoo)
    layers = {r.name: r for r in got.layers}
    assert layers["C3"].params == 1516 and layers["S2"].params == 12
    assert [r.kind for r in got.layers] == [
        "conv", "subsample", "conv", "subsample", "conv", "flatten", "fc", "rbf"
    ]  # fmt: skip
    c3 = next(layer for layer in yaml.safe_load(back.stdout)["layers"] if layer["name"] == "C3")
    assert c3["table"] == LENET5_TABLE_I
    kept = [r for r in got.layers if r.kind != "flatten"]
    assert [(r.name, r.kind, r.out_shape, r.params) for r in kept] == [
        (r.name, r.kind, r.out_shape, r.params) for r in want.layers
    ]
    assert got.total.params == sum(p.numel() for p in torch_model("lenet5").parameters())
    assert got.total.params == want.total.params
    assert _totals(imported) == _totals(zoo)


@needs_torch
def test_a_module_naming_a_kind_it_is_not_is_refused(tmp_path):
    """A module whose ``cnncalc_layer`` does not start with its ``cnncalc_kind`` is refused
    in one line naming the class, not read as a layer it is not."""
    path = tmp_path / "odd.py"
    path.write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            INPUT_SHAPE = (1, 8, 8)

            class Odd(nn.Module):
                cnncalc_kind = "subsample"

                def __init__(self):
                    super().__init__()
                    self.cnncalc_layer = {"rbf": 10}

                def forward(self, x):
                    return x

            def build():
                return nn.Sequential(Odd())
            """
        )
    )
    line = one_error_line(_run("import", f"torch:{path}:build"))
    assert "Odd says it is a cnncalc 'subsample' layer" in line


# ---------------------------------------------------------------- a file of the user's own

LENET_FILE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


print("building LeNet")  # a model file that prints: kept off the YAML on stdout


class Net(nn.Module):
    """LeCun et al. 1998's layout with ReLU and max pooling (d2l's LeNet, 6.6)."""

    input_size = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
'''


def _write(tmp_path, text: str, name: str = "model.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@needs_torch
def test_a_file_of_my_own_lenet_from_its_input_size(tmp_path):
    """d2l 6.6's LeNet: 28×28 padded by 2 → 6@28×28, pool → 14×14, 16@10×10, pool → 5×5,
    then 400 → 120 → 84 → 10. Parameters: conv1 6·(1·25) + 6 = 156, conv2 16·(6·25) + 16 =
    2416, fc1 400·120 + 120 = 48120, fc2 120·84 + 84 = 10164, fc3 84·10 + 10 = 850."""
    path = _write(tmp_path, LENET_FILE)
    result = _run("import", f"torch:{path}:Net")  # no --input: Net.input_size
    assert result.exit_code == 0, result.output
    assert "building LeNet" not in result.stdout  # the file's print went to stderr
    a = analyze(loads(result.stdout))
    shapes = {r.name: r.out_shape for r in a.layers}
    assert shapes["conv1"] == (6, 28, 28)
    assert shapes["conv2"] == (16, 10, 10)
    assert shapes["fc1"] == (120,)
    assert a.layers[-1].out_shape == (10,)
    assert {r.name: r.params for r in a.layers if r.params} == {
        "conv1": 156,
        "conv2": 2416,
        "fc1": 48120,
        "fc2": 10164,
        "fc3": 850,
    }
    assert a.total.params == 156 + 2416 + 48120 + 10164 + 850 == 61706
    # MACs: 28·28·6·25 + 10·10·16·150 + 400·120 + 120·84 + 84·10
    assert a.total.macs == 117600 + 240000 + 48000 + 10080 + 840


@needs_torch
def test_an_input_the_module_cannot_take_is_one_line(tmp_path):
    """--input overrides Net.input_size; at 32×32 conv2 gives 16×6×6 = 576 features, and
    fc1 takes 400: PyTorch's own complaint, in one line."""
    quiet = LENET_FILE.replace('print("building LeNet")', "")
    path = _write(tmp_path, quiet)
    line = one_error_line(_run("import", f"torch:{path}:Net", "--input", "1x32x32"))
    assert "--input" in line and "1x32x32" in line and "576" in line


@needs_torch
def test_chunk_cat_and_channel_shuffle_of_a_shufflenet_unit(tmp_path):
    """ShuffleNet v2's unit (Ma et al. 2018): chunk in two, convolve one half, cat, shuffle
    in 2 groups by view–transpose–view."""
    path = _write(
        tmp_path,
        """
        import torch
        import torch.nn as nn

        class Unit(nn.Module):
            def __init__(self):
                super().__init__()
                self.branch = nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU())

            def forward(self, x):
                x1, x2 = x.chunk(2, dim=1)
                y = torch.cat((x1, self.branch(x2)), dim=1)
                n, c, h, w = y.size()
                y = y.view(n, 2, c // 2, h, w)
                return torch.transpose(y, 1, 2).contiguous().view(n, c, h, w)
        """,
    )
    result = _run("import", f"torch:{path}:Unit", "--input", "16x6x6")
    assert result.exit_code == 0, result.output
    # x.chunk and the view–transpose–view are calls, not modules: call: function
    assert "{select: [0, 8], call: function}" in result.stdout
    assert "{select: [8, 16], call: function}" in result.stdout
    assert "{shuffle: 2, call: function}" in result.stdout
    a = analyze(loads(result.stdout))
    assert a.layers[-1].out_shape == (16, 6, 6)
    assert a.total.params == 8 * 8 + 8


MANY_MODULES = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    input_size = (3, 17, 17)

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding="same", dilation=2, bias=False),
            nn.BatchNorm2d(8, eps=1e-3, momentum=0.01),
            nn.LeakyReLU(0.2),
            nn.Conv2d(8, 8, (3, 5), stride=(1, 2), padding=(1, 2), groups=4),
            nn.GroupNorm(2, 8),
            nn.ELU(alpha=0.5),
            nn.PReLU(8),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.InstanceNorm2d(8, affine=True),
            nn.LocalResponseNorm(3, alpha=2e-4),
            nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1),
            nn.Hardswish(),
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
            nn.Upsample(scale_factor=2),
            nn.Dropout2d(0.1),
            nn.AdaptiveMaxPool2d((3, 2)),
            nn.Flatten(),
            nn.Linear(36, 10),
            nn.Softmax(dim=1),
        )
        self.side = nn.Conv1d(4, 4, 1)  # never called: refused unless unused is allowed

    def forward(self, x):
        return F.log_softmax(F.elu(F.leaky_relu(self.body(x), 0.3)), dim=1)
"""


@needs_torch
def test_every_mapped_module_has_pytorchs_shapes_and_parameters(tmp_path):
    """Each layer's output shape and parameter count against PyTorch's own module (a
    forward hook on every leaf, p.numel() of its parameters, its running statistics)."""
    import torch

    text = MANY_MODULES.replace("        self.side = nn.Conv1d(4, 4, 1)", "        pass")
    path = _write(tmp_path, text.replace("  # never called: refused unless unused is allowed", ""))
    result = _run("import", f"torch:{path}:Net")
    assert result.exit_code == 0, result.output
    got = {r.name: r for r in analyze(loads(result.stdout)).layers}

    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    net = namespace["Net"]().eval()
    seen = {}
    for name, module in net.body.named_children():
        module.register_forward_hook(
            lambda m, i, o, name=f"body.{name}": seen.__setitem__(name, tuple(o.shape[1:]))
        )
    with torch.no_grad():
        net(torch.zeros(1, *net.input_size))
    assert len(seen) == 19
    for name, shape in seen.items():
        module = net.get_submodule(name)
        assert got[name].out_shape == shape, name
        assert got[name].params == sum(p.numel() for p in module.parameters()), name
    assert got["body.1"].buffers == 8 + 8  # running mean and variance
    assert analyze(loads(result.stdout)).layers[-1].out_shape == (10,)
    kinds = [r.kind for r in analyze(loads(result.stdout)).layers[-3:]]
    assert kinds == ["leaky_relu", "elu", "log_softmax"]
    from pytorch_model import exported_yaml_module

    exported_yaml_module(result.stdout).build().load_state_dict(net.state_dict(), strict=True)


@needs_torch
def test_parameters_the_forward_never_uses_are_refused(tmp_path):
    path = _write(tmp_path, MANY_MODULES)
    line = one_error_line(_run("import", f"torch:{path}:Net"))
    assert "never uses the parameters of side" in line


# ---------------------------------------------------------------- bad sources: one line, exit 2


@needs_torch
def test_no_such_module_is_one_line():
    line = one_error_line(_run("import", "torch:no_such_package.models:Net", "-i", "3x8x8"))
    assert "no_such_package" in line


@needs_torch
def test_no_such_file_is_one_line(tmp_path):
    line = one_error_line(_run("import", f"torch:{tmp_path}/absent.py:Net", "-i", "3x8x8"))
    assert "absent.py" in line


@needs_torch
def test_a_callable_that_is_not_a_module_is_one_line(tmp_path):
    path = _write(tmp_path, "def Net():\n    return 42\n")
    line = one_error_line(_run("import", f"torch:{path}:Net", "-i", "3x8x8"))
    assert "int" in line and "not a torch.nn.Module" in line


@needs_torch
def test_an_untraceable_forward_is_one_line_saying_why(tmp_path):
    path = _write(
        tmp_path,
        """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                if x.sum() > 0:  # control flow on a tensor's value
                    return self.conv(x)
                return x
        """,
    )
    out = tmp_path / "out.yaml"
    line = one_error_line(_run("import", f"torch:{path}:Net", "-i", "3x8x8", "-o", str(out)))
    assert "cannot trace" in line and "control flow" in line
    assert not out.exists()


@needs_torch
def test_an_unmapped_call_names_its_node_target_and_place(tmp_path):
    path = _write(
        tmp_path,
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                return torch.roll(self.conv(x), 1, dims=2)
        """,
    )
    out = tmp_path / "out.yaml"
    line = one_error_line(_run("import", f"torch:{path}:Net", "-i", "3x8x8", "-o", str(out)))
    assert "node 'roll'" in line and "torch.roll" in line and "after node 'conv'" in line
    assert not out.exists()  # never a partial file


@needs_torch
def test_an_unmapped_module_names_its_qualified_name(tmp_path):
    path = _write(
        tmp_path,
        """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.PixelShuffle(2))

            def forward(self, x):
                return self.body(x)
        """,
    )
    line = one_error_line(_run("import", f"torch:{path}:Net", "-i", "3x8x8"))
    assert "node 'body.1'" in line and "PixelShuffle" in line and "after node 'body.0'" in line


@needs_torch
def test_a_module_without_a_size_needs_input(tmp_path):
    path = _write(tmp_path, "import torch.nn as nn\n\ndef Net():\n    return nn.ReLU()\n")
    line = one_error_line(_run("import", f"torch:{path}:Net"))
    assert "--input" in line


def test_without_torch_it_is_one_line_naming_the_extra(monkeypatch):
    """torch is an optional extra: without it, one line and the pip command."""
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    line = one_error_line(_run("import", "torch:torchvision.models:resnet18", "-i", "3x8x8"))
    assert "cnncalc[torch]" in line


def test_the_rest_of_cnncalc_runs_without_torch():
    """Importing the CLI, the API and running a summary never imports torch."""
    code = (
        "import sys; import cnncalc.cli.app, cnncalc.api, cnncalc.cli.importer; "
        "from cnncalc.analysis.pipeline import analyze, load; analyze(load('resnet18')); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""cnncalc import: ONNX files read (never run) into cnncalc YAML (issue 13 §1).

The round trip's oracle is PyTorch's own exporter: a zoo network is built as a torch
module (``cnncalc export --to pytorch``), written by ``torch.onnx.export``, read back by
``cnncalc import``; the imported network must have the zoo network's shapes, parameters
and totals under every convention. The hand-built files check single operators against
the textbook's counts, and the corpus of bad files that each fails in one line, exit 2.
"""

from __future__ import annotations

import pytest
import yaml
from error_lines import one_error_line
from typer.testing import CliRunner
from zoo_calls import zoo_as_modules

from cnncalc.analysis.pipeline import analyze, build, load, loads
from cnncalc.analysis.stats import convention_totals
from cnncalc.cli.app import app
from cnncalc.model.zoo import zoo_names

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

np = pytest.importorskip("numpy")

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


# ---------------------------------------------------------------- hand-built graphs


def _save(tmp_path, nodes, inputs, output, initializers=(), opset=17, name="g.onnx"):
    graph = helper.make_graph(nodes, "hand", inputs, [output], initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def _tensor(name, *shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def _conv_net(tmp_path, op="Relu", **conv_attrs):
    """x[1,3,32,32] → Conv(16 filters of 5×5, bias) → op → y."""
    nodes = [
        helper.make_node(
            "Conv", ["x", "conv1.weight", "conv1.bias"], ["c"], name="conv1", **conv_attrs
        ),
        helper.make_node(op, ["c"], ["y"], name="act"),
    ]
    inits = [_weight("conv1.weight", 16, 3, 5, 5), _weight("conv1.bias", 16)]
    return _save(tmp_path, nodes, [_tensor("x", 1, 3, 32, 32)], _tensor("y"), inits)


def test_conv_reads_filters_kernel_and_bias_from_the_weight(tmp_path):
    path = _conv_net(tmp_path, kernel_shape=[5, 5])
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    spec = loads(result.stdout)
    a = analyze(spec)
    assert a.layers[0].name == "conv1"
    assert a.layers[0].out_shape == (16, 28, 28)  # 32 − 5 + 1
    assert a.total.params == 16 * 3 * 5 * 5 + 16
    assert a.total.macs == 28 * 28 * 16 * 3 * 5 * 5


def test_asymmetric_pads_become_top_bottom_left_right(tmp_path):
    # ONNX pads are [top, left, bottom, right]: 1, 2, 0, 3 → H: 32 + 1 − 5 + 1, W: 32 + 5 − 5 + 1
    path = _conv_net(tmp_path, kernel_shape=[5, 5], pads=[1, 2, 0, 3], strides=[1, 2])
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "padding: [1, 0, 2, 3]" in result.stdout
    a = analyze(loads(result.stdout))
    assert a.layers[0].out_shape == (16, 32 + 1 - 5 + 1, (32 + 5 - 5) // 2 + 1)


def test_clip_to_0_6_is_relu6(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Clip", ["c", "lo", "hi"], ["y"], name="clip"),
    ]
    inits = [
        _weight("w", 8, 3, 1, 1),
        numpy_helper.from_array(np.array(0, np.float32), "lo"),
        numpy_helper.from_array(np.array(6, np.float32), "hi"),
    ]
    path = _save(tmp_path, nodes, [_tensor("x", 1, 3, 4, 4)], _tensor("y"), inits)
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "{relu6: }" in result.stdout
    assert "bias: false" in result.stdout  # a Conv without a third input
    assert analyze(loads(result.stdout)).total.params == 8 * 3


def test_matmul_then_constant_add_is_one_fc_with_bias(tmp_path):
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "W"], ["m"], name="mm"),
        helper.make_node("Add", ["m", "b"], ["y"], name="bias"),
    ]
    inits = [_weight("W", 48, 10), _weight("b", 10)]
    path = _save(tmp_path, nodes, [_tensor("x", 1, 3, 4, 4)], _tensor("y"), inits)
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    assert analyze(loads(result.stdout)).total.params == 48 * 10 + 10


def test_output_file_and_summary_of_the_onnx_file(tmp_path):
    path = _conv_net(tmp_path, kernel_shape=[5, 5])
    out = tmp_path / "net.yaml"
    result = _run("import", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Imported by 'cnncalc import' from g.onnx")
    summary = _run("params", str(path), "--format", "json")
    assert summary.exit_code == 0, summary.output
    assert '"params": ' + str(16 * 3 * 5 * 5 + 16) in summary.stdout


# ---------------------------------------------------------------- bad files: one line, exit 2


def test_an_unmappable_operator_is_named_with_its_node_and_place(tmp_path):
    path = _conv_net(tmp_path, op="Cos", kernel_shape=[5, 5])
    line = one_error_line(_run("import", str(path), "-o", str(tmp_path / "out.yaml")))
    assert "'act'" in line and "Cos" in line and "after node 'conv1' (Conv)" in line
    assert not (tmp_path / "out.yaml").exists()  # never a partial file


def test_a_truncated_protobuf_is_one_line(tmp_path):
    whole = _conv_net(tmp_path, kernel_shape=[5, 5]).read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(whole[: len(whole) // 2])
    line = one_error_line(_run("import", str(cut)))
    assert "cut.onnx" in line


def test_an_unknown_opset_is_one_line(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    path = _save(tmp_path, nodes, [_tensor("x", 1, 3, 4, 4)], _tensor("y"), opset=999)
    line = one_error_line(_run("import", str(path)))
    assert "opset 999" in line


def test_a_symbolic_input_needs_input(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    x = _tensor("x", "N", 3, "height", "width")
    path = _save(tmp_path, nodes, [x], _tensor("y"))
    line = one_error_line(_run("import", str(path)))
    assert "symbolic dimension 'height'" in line and "--input" in line
    summary = one_error_line(_run("summary", str(path)))
    assert "cnncalc import" in summary and "--input" in summary
    given = _run("import", str(path), "--input", "3x8x8")
    assert given.exit_code == 0, given.output
    assert "input: [3, 8, 8]" in given.stdout


def test_a_graph_whose_branches_cross_reads_earlier_layers_by_name(tmp_path):
    """a → b, and both a and b feed c and d that join apart: not a nesting of branches,
    so the joins name the layers they read (tests/test_import_compact.py has the rest)."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="a"),
        helper.make_node("Sigmoid", ["a"], ["b"], name="b"),
        helper.make_node("Add", ["a", "b"], ["c"], name="c"),
        helper.make_node("Mul", ["a", "c"], ["d"], name="d"),
        helper.make_node("Add", ["b", "d"], ["y"], name="y"),
    ]
    path = _save(tmp_path, nodes, [_tensor("x", 1, 3, 4, 4)], _tensor("y"))
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "{add: [relu_1, []]}" in result.stdout and "{add: [sigmoid_1, []]}" in result.stdout
    kinds = [layer.kind for layer in analyze(loads(result.stdout)).layers]
    assert kinds == ["relu", "sigmoid", "add", "mul", "add"]


def test_no_onnx_file_at_all(tmp_path):
    path = tmp_path / "text.onnx"
    path.write_text("not a protobuf at all, just words\n")
    one_error_line(_run("summary", str(path)))


# ---------------------------------------------------------------- round trip through PyTorch

ADAPTIVE_POOL_LOST = {
    "alexnet": 256 * 6 * 6,
    **{vgg: 512 * 7 * 7 for vgg in ("vgg11", "vgg13", "vgg16", "vgg16-bn", "vgg19")},
}
"""Networks whose AdaptiveAvgPool2d meets a map already of its size (AlexNet's 256×6×6,
VGG's 512×7×7): torch.onnx.export writes it as an AveragePool of kernel 1, so the file no
longer says it was adaptive, and cnncalc imports the pool it says. Two peer tools count
the two pools differently, one operation per pooled output apart: fvcore counts one per
output of adaptive_avg_pool2d and has no rule for avg_pool2d (1 − 0); thop 0.1.1 counts an
adaptive pool's kernel adds plus its division, 1 + 1, and an AvgPool's kernel_ops = 1
(2 − 1). Their totals for the imported network are lower by exactly the map's size."""

POOL_COUNTED_APART = ("fvcore", "thop")

ROUND_TRIP = [
    "lenet",
    "alexnet",
    "vgg11",
    "resnet18",
    "googlenet",
    "densenet121",
    "mobilenet-v2",
    "squeezenet1-0",
    "nin",
    "resnet50",
    "inception-v3",  # InceptionE's cat of a cat, written by the exporter as one Concat
    "mnasnet0-5",
    "regnet-x-400mf",
    "regnet-y-400mf",
    "resnext50-32x4d",
    "mobilenet-v3-small",
    "d2l-alexnet",
    "d2l-resnet18",
    "d2l-googlenet",
    "d2l-densenet",
    "d2l-lenet-bn",
    "mnist-inception",
    "mnist-resnet",
    "r3d-18",
    "mc3-18",
    "r2plus1d-18",
    "efficientnet-b0",
    "convnext-tiny",
    "alexnet-2gpu",  # its LRN layers, written by PyTorch in pieces
    # the rest of the zoo's single networks, each family's other depths and widths
    "vgg13",
    "vgg16",
    "vgg16-bn",
    "vgg19",
    "d2l-vgg11",
    "resnet34",
    "resnet101",
    "resnet152",
    "resnext101-32x8d",
    "wide-resnet50-2",
    "densenet169",
    "densenet201",
    "squeezenet1-1",
    "mnasnet1-0",
    "mobilenet-v3-large",
    "efficientnet-b1",
    "efficientnet-v2-s",
    "convnext-small",
    "shufflenet-v2-x0-5",
    "shufflenet-v2-x1-0",
]
"""Every single network of the zoo but two: U-Net (exported at 188, a tile the test can
afford) and LeNet-5 (its partial connection table and RBF output, exported as marked
helpers) have tests of their own. The comparison studies are variants of these kinds and
are not one network each."""

SMALL_INPUT = {"r3d-18": (3, 8, 56, 56), "mc3-18": (3, 8, 56, 56), "r2plus1d-18": (3, 8, 56, 56)}
"""The video networks exported at 8 frames of 56×56, not the zoo's 16 of 112×112: they end
in an adaptive pool, so every layer exists at that size, and the export is ~8× cheaper.
The zoo network is analysed at the same input."""


def _imported_in_training(module, shape, tmp_path, batch: int = 2):
    """The result of ``cnncalc import`` of ``module`` exported with torch.onnx.export in
    training mode (dynamo=False), on a batch of ``batch`` inputs of ``shape``."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.onnx"
    torch.onnx.export(
        module.train(),
        (torch.zeros(batch, *shape),),
        str(path),
        dynamo=False,
        training=torch.onnx.TrainingMode.TRAINING,
    )
    return _run("import", str(path))


STUDY_VARIANTS = [
    (name, variant)
    for name in zoo_names()
    if (study := load(name)).variants
    for variant in study.variants
    if (name, variant) != ("fc-vs-conv", "fc")
]
"""Every variant of every comparison study but one: fc-vs-conv's fc, a fully connected
layer over a 12-megapixel image's 100 maps (6.7 G weights, 26.8 GB in float32), more than
the machine's memory, so PyTorch cannot build it to export it."""


@pytest.mark.parametrize(("name", "variant"), STUDY_VARIANTS)
def test_study_variant_round_trips_through_torch_onnx_export(name, variant, tmp_path):
    """Each study's variant → PyTorch module → torch.onnx.export (training mode) → cnncalc
    import: the same per-layer shapes, the module's own parameter count, and every
    convention's totals."""
    pytest.importorskip("torch")
    from pytorch_model import spec_model

    spec = load(name).variants[variant]
    module = spec_model(spec, f"{name}-{variant}").train()
    result = _imported_in_training(module, spec.input, tmp_path)
    assert result.exit_code == 0, result.output
    imported = loads(result.stdout, "imported")
    zoo, back = analyze(spec), analyze(imported)
    assert [layer.out_shape for layer in back.layers] == [layer.out_shape for layer in zoo.layers]
    assert back.total.params == sum(p.numel() for p in module.parameters()) == zoo.total.params
    zoo_totals = {r.convention.name: r.figures for r in convention_totals(build(spec)).rows}
    back_totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    assert back_totals == zoo_totals


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_round_trip_through_torch_onnx_export(name, tmp_path):
    """Zoo → PyTorch module → torch.onnx.export → cnncalc import: the same network.

    Exported in training mode, because in eval mode PyTorch's exporter folds each
    BatchNorm into the conv before it (the file then holds another network: a conv with
    a bias, no BatchNorm). Dropout is kept the same way."""
    pytest.importorskip("torch")
    from pytorch_model import torch_model

    _same_after_round_trip(name, torch_model(name), tmp_path)


def _same_after_round_trip(name, module, tmp_path):
    """Export ``module`` (the zoo network ``name``) to ONNX in training mode, import it, and
    compare per-layer shapes, parameters (also against the module's own ``numel``),
    buffers and every convention's totals with the zoo network at the same input. A
    StochasticDepth of p = 0 (ConvNeXt's first block) returns its input, so the exporter
    writes no node for it: the zoo's ``drop_path: 0`` layers are the only ones not in the
    file, and they count nothing under any convention (the totals still agree)."""
    spec = load(name)
    shape = SMALL_INPUT.get(name, spec.input)
    module = module.train()
    result = _imported_in_training(module, shape, tmp_path)
    assert result.exit_code == 0, result.output
    imported = loads(result.stdout, "imported")
    assert tuple(imported.input) == tuple(shape)
    zoo, back = analyze(spec, shape), analyze(imported)
    graph = build(spec, shape)
    unwritten = {n.name for n in graph.nodes if n.layer.kind == "drop_path" and n.layer.p == 0}
    kept = [layer for layer in zoo.layers if layer.name not in unwritten]
    assert [layer.out_shape for layer in back.layers] == [layer.out_shape for layer in kept]
    assert [layer.params for layer in back.layers] == [layer.params for layer in kept]
    assert back.total.params == sum(p.numel() for p in module.parameters())
    assert back.total.params == zoo.total.params
    assert back.total.buffers == zoo.total.buffers
    zoo_rows = convention_totals(build(zoo_as_modules(name), shape)).rows
    zoo_totals = {r.convention.name: r.figures for r in zoo_rows}
    back_totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    assert back_totals.keys() == zoo_totals.keys()
    lost = ADAPTIVE_POOL_LOST.get(name, 0)
    for tool in POOL_COUNTED_APART:
        assert zoo_totals[tool].macs - back_totals[tool].macs == lost, tool
        if lost:
            zoo_totals.pop(tool), back_totals.pop(tool)
    assert back_totals == zoo_totals


@pytest.mark.requires("torch", "torchvision")
def test_shufflenet_from_torchvision_round_trips(tmp_path):
    """cnncalc's export writes ShuffleNet's shuffle as nn.ChannelShuffle, which
    torch.onnx.export cannot write (no ONNX symbolic for aten::channel_shuffle); torchvision's
    own shufflenet_v2_x0_5, the zoo network's source, writes it as view–transpose–view,
    and that file imports as the zoo network."""
    import torchvision

    module = torchvision.models.shufflenet_v2_x0_5()
    _same_after_round_trip("shufflenet-v2-x0-5", module, tmp_path)


@pytest.mark.requires("torch")
def test_unet_round_trips_with_its_skips_nested(tmp_path):
    """The zoo's U-Net (Ronneberger et al. 2015) is written flat, each crop reading its skip
    by ``from:``; read back from ONNX the skips nest as concat branches, so the layers come
    in another order: the same weighted layers by name with the same shapes and
    parameters, the same multiset of (kind, shape), and the same totals under every
    convention. At the 188×188 tile (the crops match the up-convolutions at any tile; the
    smallest whose maps stay even, 188 → 4×4 out), so crop1 is 64×184×184 → 64×8×8; the
    parameters do not depend on the tile: 31,030,658 (Fig. 1's network)."""
    from pytorch_model import exported_yaml_module

    from cnncalc.model.zoo import zoo_path

    text = zoo_path("unet-2015").read_text().replace("input: [1, 572, 572]", "input: [1, 188, 188]")
    spec = loads(text)
    module = exported_yaml_module(text).build().train()
    result = _imported_in_training(module, spec.input, tmp_path, batch=1)
    assert result.exit_code == 0, result.output
    imported = loads(result.stdout, "imported")
    got, want = analyze(imported), analyze(spec)

    def weighted(result):
        return {r.name: (r.kind, r.out_shape, r.params) for r in result.layers if r.params}

    assert weighted(got) == weighted(want)
    assert sorted((r.kind, r.out_shape) for r in got.layers) == sorted(
        (r.kind, r.out_shape) for r in want.layers
    )
    assert (64, 8, 8) in [r.out_shape for r in got.layers if r.kind == "crop"]
    assert got.total.params == sum(p.numel() for p in module.parameters()) == 31_030_658
    assert got.total.buffers == want.total.buffers
    back_totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    zoo_totals = {r.convention.name: r.figures for r in convention_totals(build(spec)).rows}
    assert back_totals == zoo_totals


def _refused(module, shape, tmp_path) -> str:
    """The one error line of importing ``module`` exported in training mode."""
    return one_error_line(_imported_in_training(module, shape, tmp_path))


LENET5_TABLE_I = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5],
]  # fmt: skip
"""LeCun et al. 1998, Table I: the S2 maps (of 6) each C3 map (of 16) is connected to."""


@pytest.mark.requires("torch")
def test_lenet5_round_trips_with_its_subsampling_table_and_rbf(tmp_path):
    """LeNet-5 (LeCun et al. 1998) through ONNX: S2/S4 are written as AveragePool · k² ·
    a + b (a, b per map), C3 as 16 Gather → one-filter Conv branches and a Concat, the
    output as Σ (x − w)²; each comes back as one layer. C3 has Table I's rows and
    6·(3·25 + 1) + 9·(4·25 + 1) + 1·(6·25 + 1) = 1516 parameters, S2 6 + 6 = 12. The one
    new layer is the Flatten the export writes before F6's Linear (cnncalc's ``fc``
    flattens by itself): no parameters, and every convention's totals stay the zoo's."""
    from pytorch_model import torch_model

    spec, module = load("lenet5"), torch_model("lenet5").train()
    result = _imported_in_training(module, spec.input, tmp_path)
    assert result.exit_code == 0, result.output
    imported = loads(result.stdout, "imported")
    got, want = analyze(imported), analyze(spec)
    assert [r.kind for r in got.layers] == [
        "conv", "subsample", "conv", "subsample", "conv", "flatten", "fc", "rbf"
    ]  # fmt: skip
    assert [r.params for r in got.layers] == [156, 12, 1516, 32, 48_120, 0, 10_164, 840]
    c3 = next(
        layer for layer in yaml.safe_load(result.stdout)["layers"] if layer.get("name") == "C3"
    )
    assert c3["table"] == LENET5_TABLE_I
    kept = [r for r in got.layers if r.kind != "flatten"]
    assert [(r.kind, r.out_shape, r.params) for r in kept] == [
        (r.kind, r.out_shape, r.params) for r in want.layers
    ]
    assert got.total.params == sum(p.numel() for p in module.parameters()) == want.total.params
    back_totals = {r.convention.name: r.figures for r in convention_totals(build(imported)).rows}
    zoo_totals = {r.convention.name: r.figures for r in convention_totals(build(spec)).rows}
    assert back_totals == zoo_totals


@pytest.mark.requires("torch")
@pytest.mark.parametrize("size, alpha, beta, k", [(5, 1e-4, 0.75, 2.0), (4, 0.001, 0.5, 1.0)])
def test_local_response_norm_pieces_read_back_as_one_lrn(size, alpha, beta, k, tmp_path):
    """PyTorch has no ONNX symbolic for LocalResponseNorm: it writes F.local_response_norm's
    pieces (x·x, a 5-D reshape, pad, a size×1×1 average pool, an If on axis 1's size, Mul α,
    Add k, Pow β, Div). They read back as the one lrn layer nn.LocalResponseNorm was, with
    its options, its output shape (PyTorch's) and no parameters."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    module = nn.Sequential(nn.Conv2d(3, 8, 3), nn.LocalResponseNorm(size, alpha, beta, k))
    result = _imported_in_training(module, (3, 10, 10), tmp_path)
    assert result.exit_code == 0, result.output
    a = analyze(loads(result.stdout, "imported"))
    assert [layer.kind for layer in a.layers] == ["conv", "lrn"]
    lrn = build(loads(result.stdout, "imported")).nodes[-1].layer
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (size, alpha, beta, k)
    with torch.no_grad():
        assert a.layers[-1].out_shape == tuple(module(torch.zeros(1, 3, 10, 10)).shape[1:])
    assert a.total.params == 8 * 3 * 3 * 3 + 8


# ---------------------------------------------------------------- operators PyTorch writes in pieces


def _export(module, shape, tmp_path, opset=None):
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.onnx"
    extra = {"opset_version": opset} if opset else {}
    torch.onnx.export(module.eval(), (torch.zeros(1, *shape),), str(path), dynamo=False, **extra)
    result = _run("import", str(path))
    assert result.exit_code == 0, result.output
    with torch.no_grad():
        out = tuple(module(torch.zeros(1, *shape)).shape[1:])
    return result.stdout, analyze(loads(result.stdout)), out


@pytest.mark.parametrize("opset", [17, 20])
def test_gelu_as_erf_pieces_or_one_operator(opset, tmp_path):
    """Opset 17 has no Gelu: PyTorch writes x·0.5·(1 + erf(x/√2)); opset 20 writes Gelu."""
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.GELU())
    text, a, out = _export(net, (3, 10, 10), tmp_path, opset)
    assert [layer.kind for layer in a.layers] == ["conv", "gelu"]
    assert a.layers[-1].out_shape == out == (8, 8, 8)
    assert a.total.params == 8 * 3 * 3 * 3 + 8


def test_shufflenet_unit_split_concat_and_shuffle(tmp_path):
    """ShuffleNet v2's unit (Ma et al. 2018): split the channels in two, convolve one half,
    concatenate, shuffle in 2 groups (torchvision's channel_shuffle: view, transpose, view)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Unit(nn.Module):
        def __init__(self):
            super().__init__()
            self.branch = nn.Sequential(
                nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)
            )

        def forward(self, x):
            x1, x2 = x.chunk(2, dim=1)
            y = torch.cat((x1, self.branch(x2)), dim=1)
            n, c, h, w = y.shape  # the tracer writes Shape, Gather, Div…: folded on import
            return y.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)

    unit = Unit()
    text, a, out = _export(unit, (16, 6, 6), tmp_path)
    assert "concat:" in text and "{shuffle: 2}" in text
    assert "{select: [0, 8]}" in text and "{select: [8, 16]}" in text
    assert a.layers[-1].out_shape == out == (16, 6, 6)
    assert (
        a.total.params == sum(p.numel() for p in unit.parameters()) == (8 * 8 + 8) + (8 * 8 * 9 + 8)
    )


def test_slice_of_channels_is_select(tmp_path):
    torch = pytest.importorskip("torch")

    class Head(torch.nn.Module):
        def forward(self, x):
            return x[:, 2:]

    text, a, out = _export(Head(), (5, 4, 4), tmp_path)
    assert "{select: [2, 5]}" in text
    assert a.layers[-1].out_shape == out == (3, 4, 4)


def test_layernorm_over_the_last_two_axes(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.LayerNorm([6, 6]))
    text, a, out = _export(net, (3, 8, 8), tmp_path)
    assert a.layers[-1].kind == "layernorm"
    assert a.layers[-1].out_shape == out
    assert a.total.params == (4 * 3 * 9 + 4) + 2 * 6 * 6  # γ and β over 6×6


def test_squeeze_and_excitation_is_a_mul_of_the_input_and_its_gate(tmp_path):
    """SE (Hu et al. 2018): x · σ(W2·relu(W1·gap(x))), the gate broadcast over H×W."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Conv2d(16, 4, 1), nn.Conv2d(4, 16, 1)

        def forward(self, x):
            s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))
            return x * s

    se = SE()
    text, a, out = _export(se, (16, 7, 7), tmp_path)
    assert "mul:" in text and "- []" in text
    assert a.layers[-1].out_shape == out == (16, 7, 7)
    assert a.total.params == (16 * 4 + 4) + (4 * 16 + 16)

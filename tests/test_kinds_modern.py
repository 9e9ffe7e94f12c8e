"""Issue 9's new kinds, one at a time: activations (hardswish … identity), layer, group and
instance norm, channel select and shuffle, crop, upsample, drop path, layer scale and a
Linear at every position.

Each expected count is the kind's formula written out in the test; PyTorch, built here by
hand from its own modules (not through cnncalc's export), gives the state_dict names and
shapes and the output the executor must reproduce in float64; the naive loops, the fast
executor and the exported module agree with the prediction on every node
(``assert_four_ways``); the tensors autograd saves are PyTorch's own.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.errors import CnnCalcError

N = 4 * 5 * 5
"""Elements of the [4, 5, 5] input most cases use."""


def net(layer: str, input: str = "[4, 5, 5]"):
    return loads(f"name: t\ninput: {input}\nlayers:\n  - {layer[:-1]}, name: it}}\n")


def row(layer: str, input: str = "[4, 5, 5]"):
    return analyze(net(layer, input), convention="exact").layers[0]


def raw(layer: str, input: str = "[4, 5, 5]") -> dict[str, int]:
    return {k: v for k, v in row(layer, input).ops.as_dict().items() if v}


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    "layer,expected",
    [
        # x·min(max(x + 3, 0), 6)/6: + 3, two compares, ·x, /6
        ("{hardswish: }", {"adds": N, "compares": 2 * N, "mults": N, "divs": N}),
        ("{hardsigmoid: }", {"adds": N, "compares": 2 * N, "divs": N}),
        # x/(1 + e^−x)
        ("{silu: }", {"exps": N, "adds": N, "divs": N}),
        ("{swish: }", {"exps": N, "adds": N, "divs": N}),
        # 0.5·x·(1 + erf(x/√2)): x·(1/√2), ·0.5, ·x; 1 +; erf
        ("{gelu: }", {"mults": 3 * N, "adds": N, "exps": N}),
        # x³ (2), ·κ, ·β, ·0.5, ·x = 6 mults; x +, 1 +, tanh's 2 = 4 adds; tanh's 2 exps, 1 div
        ("{gelu: tanh}", {"mults": 6 * N, "adds": 4 * N, "exps": 2 * N, "divs": N}),
        ("{leaky_relu: 0.1}", {"mults": N, "compares": N}),
        # α·(e^x − 1) made for every element, then the sign test
        ("{elu: }", {"mults": N, "adds": N, "exps": N, "compares": N}),
        ("{prelu: 4}", {"mults": N, "compares": N}),
        # e^x, ln, tanh (2 exps, 2 adds, 1 div), 1 +, ·x
        ("{mish: }", {"exps": 4 * N, "adds": 3 * N, "divs": N, "mults": N}),
        # 25 vectors of 4: 4 exps and a log; 3 adds for the sum and 4 subtractions
        ("{log_softmax: }", {"exps": 25 * (4 + 1), "adds": 25 * (3 + 4)}),
        ("{identity: }", {}),
        # 25 positions, each a group of m = 4: 2m mults, 3m − 1 adds, 3 divs, 1 sqrt; γ, β
        (
            "{layernorm: }",
            {"mults": 25 * (2 * 4 + 4), "adds": 25 * (3 * 4 - 1 + 4), "divs": 3 * 25, "exps": 25},
        ),
        # the last 2 axes: 4 groups of 25; γ only
        (
            "{layernorm: 2, bias: false}",
            {"mults": 4 * (2 * 25 + 25), "adds": 4 * (3 * 25 - 1), "divs": 3 * 4, "exps": 4},
        ),
        # 2 groups of 2 channels·25 positions = 50
        (
            "{groupnorm: 2}",
            {"mults": 2 * (2 * 50 + 50), "adds": 2 * (3 * 50 - 1 + 50), "divs": 3 * 2, "exps": 2},
        ),
        # each of the 4 maps over its 25 positions, no affine
        (
            "{instancenorm: }",
            {"mults": 4 * 2 * 25, "adds": 4 * (3 * 25 - 1), "divs": 3 * 4, "exps": 4},
        ),
        # running statistics at inference: folded, as BatchNorm's
        ("{instancenorm: , track_running_stats: true}", {"mults": N, "adds": N}),
        ("{select: [1, 3]}", {}),
        ("{shuffle: 2}", {}),
        ("{crop: 3}", {}),
        ("{upsample: 2}", {}),
        # 4·10·10 outputs, each λ_h0·(λ_w0·a + λ_w1·b) + λ_h1·(λ_w0·c + λ_w1·d)
        ("{upsample: 2, mode: bilinear}", {"mults": 6 * 400, "adds": 3 * 400}),
        ("{drop_path: 0.2}", {}),
        ("{layer_scale: 1.0e-6}", {"mults": N}),
        # 25 positions, 6 outputs of 4 inputs each
        (
            "{linear: 6}",
            {"mults": 25 * 6 * 4, "adds": 25 * 6 * 3, "bias_adds": 25 * 6, "macs": 25 * 6 * 4},
        ),
    ],
)
def test_raw_operations_by_formula(layer, expected):
    assert raw(layer) == expected


@pytest.mark.parametrize(
    "layer,input,shape,params,buffers",
    [
        ("{prelu: }", "[4, 5, 5]", (4, 5, 5), 1, 0),
        ("{prelu: 4}", "[4, 5, 5]", (4, 5, 5), 4, 0),
        ("{layernorm: }", "[4, 5, 5]", (4, 5, 5), 2 * 4, 0),
        ("{layernorm: 3}", "[4, 5, 5]", (4, 5, 5), 2 * 100, 0),
        ("{layernorm: 2, elementwise_affine: false}", "[4, 5, 5]", (4, 5, 5), 0, 0),
        ("{groupnorm: 2}", "[4, 5, 5]", (4, 5, 5), 2 * 4, 0),
        ("{instancenorm: , affine: true, track_running_stats: true}", "[4, 5]", (4, 5), 8, 8),
        ("{select: [1, 3]}", "[4, 5, 5]", (2, 5, 5), 0, 0),
        ("{crop: [3, 2]}", "[4, 5, 5]", (4, 3, 2), 0, 0),
        ("{upsample: [2, 3]}", "[4, 5, 5]", (4, 10, 15), 0, 0),
        ("{upsample: , size: 7, mode: bilinear}", "[4, 5, 5]", (4, 7, 7), 0, 0),
        ("{upsample: 3}", "[2, 4, 3, 2]", (2, 12, 9, 6), 0, 0),
        ("{layer_scale: 1.0e-6}", "[4, 5, 5]", (4, 5, 5), 4, 0),
        ("{linear: 6}", "[4, 5, 5]", (6, 5, 5), 4 * 6 + 6, 0),
        ("{linear: 6, bias: false}", "[4]", (6,), 24, 0),
    ],
)
def test_shapes_and_parameters(layer, input, shape, params, buffers):
    r = row(layer, input)
    assert (r.out_shape, r.params, r.buffers) == (shape, params, buffers)


def test_linear_is_a_weighted_layer_counted_as_macs():
    """ConvNeXt's pointwise Linear 96 → 384 on 56×56: 56·56·96·384 MACs, as a 1×1 conv."""
    total = analyze(net("{linear: 384}", "[96, 56, 56]")).total
    assert total.macs == 56 * 56 * 96 * 384
    assert total.params == 96 * 384 + 384


def test_upsample_divides_the_jump_and_bilinear_widens_the_field():
    """A stride-2 conv makes the jump 2; upsampling by 2 brings it back to 1 (nearest keeps
    the field, bilinear reads one more input step), by 4 to 1/2."""
    spec = loads(
        "input: [1, 16, 16]\nlayers:\n"
        "  - {conv: 1, kernel: 3, stride: 2}\n"
        "  - {upsample: 2, name: near}\n"
        "  - {upsample: 2, mode: bilinear, name: bil}\n"
        "  - {upsample: , size: [90, 60], name: sized}\n"
    )
    rows = {r.name: r for r in analyze(spec).layers}
    assert (rows["near"].rf, rows["near"].jump) == ((3, 3), (1, 1))
    assert (rows["bil"].rf, rows["bil"].jump) == ((4, 4), (Fraction(1, 2), Fraction(1, 2)))
    # 28 → 90 and 28 → 60: the jump times 28/90 and 28/60
    assert rows["sized"].jump == (
        Fraction(1, 2) * Fraction(28, 90),
        Fraction(1, 2) * Fraction(28, 60),
    )


def test_select_and_crop_keep_the_field():
    spec = loads(
        "input: [4, 9, 9]\nlayers:\n  - {conv: 4, kernel: 3}\n  - {select: [0, 2]}\n  - {crop: 5}\n"
    )
    last = analyze(spec).layers[-1]
    assert (last.rf, last.jump) == ((3, 3), (1, 1))


@pytest.mark.parametrize(
    "layer,input,message",
    [
        ("{select: [2, 5]}", "[4, 5, 5]", "selects channels [2, 5) but its input has 4"),
        ("{select: [3, 3]}", "[4, 5, 5]", "selects channels [3, 3)"),
        ("{crop: 6}", "[4, 5, 5]", "crops h to 6"),
        ("{shuffle: 3}", "[4, 5, 5]", "3 groups do not divide the input's 4 channels"),
        ("{groupnorm: 3}", "[4, 5, 5]", "3 groups do not divide"),
        ("{prelu: 3}", "[4, 5, 5]", "has 3 slopes but its input has 4 channels"),
        ("{layernorm: 4}", "[4, 5, 5]", "normalises the last 4 axes"),
        ("{upsample: 2, size: 4}", "[4, 5, 5]", "needs a scale or a size, not both"),
        ("{upsample: , mode: bilinear}", "[4, 5, 5]", "needs a scale or a size"),
        ("{upsample: 2, mode: bilinear}", "[4, 5]", "bilinear upsampling needs a 2-D map"),
        ("{instancenorm: }", "[4]", "needs positions"),
        # PyTorch refuses these too: "Expected more than 1 value per channel"
        ("{groupnorm: 4}", "[4, 1, 1]", "each of its 4 groups holds a single value"),
        ("{instancenorm: }", "[4, 1]", "each of its 4 groups holds a single value"),
    ],
)
def test_bad_options_are_one_clear_error(layer, input, message):
    with pytest.raises(CnnCalcError, match=message.replace("[", r"\[").replace(")", r"\)")):
        build(net(layer, input))


def test_bad_option_in_a_file_names_the_line_and_exits_2(cli, yaml_file):
    path = yaml_file(
        """
        input: [4, 5, 5]
        layers:
          - {relu: }
          - {select: [0, 9]}
        """
    )
    result = cli("shape", path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:4" in result.output and "select" in result.output


def test_every_new_kind_is_in_the_schema(cli):
    schema = json.loads(cli("schema").stdout)
    titles = {v.get("title") for v in schema["$defs"]["layer"]["anyOf"]}
    new = "hardswish hardsigmoid silu swish gelu leaky_relu elu prelu mish log_softmax identity"
    new += " layernorm groupnorm instancenorm select shuffle upsample crop drop_path"
    new += " layer_scale linear"
    assert set(new.split()) <= titles


def test_explain_works_through_every_new_kind(cli, yaml_file):
    path = yaml_file(
        """
        input: [8, 6, 6]
        layers:
          - {gelu: tanh, name: g}
          - {layernorm: , name: ln}
          - {select: [2, 8], name: sel}
          - {upsample: 2, mode: bilinear, name: up}
          - {linear: 12, name: lin}
        """
    )
    out = cli("flops", path, "--explain", "--convention", "exact").stdout
    assert "mults = 6·elements = 6·8·6·6 = 1728" in out
    # 36 positions, 8 channels each
    assert f"mults = G·(2·m + m) = 36·(2·8 + 8) = {36 * 24}" in out
    assert f"mults = 6·outputs = 6·6·12·12 = {6 * 6 * 144}" in out
    assert f"MACs = out·in·positions = 12·6·12·12 = {12 * 6 * 144:,}" in out
    shape = cli("shape", path, "--explain").stdout
    assert "C = stop − start = 8 − 2 = 6" in shape and "costs nothing" in shape


# --------------------------------------------------------------------------- PyTorch


def torch_cases():
    """(layer, input, module factory, forward(module, x)) — the module as PyTorch writes it."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def call(m, x):
        return m(x)

    def channels_last(m, x):
        return m(x.movedim(1, -1)).movedim(-1, 1)

    class Holder(nn.Module):
        """ConvNeXt's CNBlock holds layer_scale as its own parameter."""

        def __init__(self, c):
            super().__init__()
            self.it = nn.Parameter(torch.full((c, 1, 1), 1e-6))

    return {
        "hardswish": ("{hardswish: }", (4, 5, 5), nn.Hardswish, call),
        "hardsigmoid": ("{hardsigmoid: }", (4, 5, 5), nn.Hardsigmoid, call),
        "silu": ("{silu: }", (4, 5, 5), nn.SiLU, call),
        "gelu": ("{gelu: }", (4, 5, 5), nn.GELU, call),
        "gelu-tanh": ("{gelu: tanh}", (4, 5, 5), lambda: nn.GELU(approximate="tanh"), call),
        "leaky_relu": ("{leaky_relu: 0.2}", (4, 5, 5), lambda: nn.LeakyReLU(0.2), call),
        "elu": ("{elu: 0.7}", (4, 5, 5), lambda: nn.ELU(0.7), call),
        "prelu": ("{prelu: 4}", (4, 5, 5), lambda: nn.PReLU(4), call),
        "prelu-1": ("{prelu: 1}", (4, 5), lambda: nn.PReLU(1), call),
        "mish": ("{mish: }", (4, 5, 5), nn.Mish, call),
        "log_softmax": ("{log_softmax: }", (4, 5, 5), lambda: nn.LogSoftmax(dim=1), call),
        "identity": ("{identity: }", (4, 5, 5), nn.Identity, call),
        "layernorm-channels": (
            "{layernorm: , eps: 1.0e-6}",
            (4, 5, 5),
            lambda: nn.LayerNorm(4, eps=1e-6),
            channels_last,
        ),
        "layernorm-last-2": ("{layernorm: 2}", (4, 5, 5), lambda: nn.LayerNorm([5, 5]), call),
        "layernorm-no-bias": (
            "{layernorm: 3, bias: false}",
            (3, 4, 5),
            lambda: nn.LayerNorm([3, 4, 5], bias=False),
            call,
        ),
        "groupnorm": ("{groupnorm: 2}", (4, 5, 5), lambda: nn.GroupNorm(2, 4), call),
        "groupnorm-3d": (
            "{groupnorm: 1, affine: false}",
            (4, 3, 3, 3),
            lambda: nn.GroupNorm(1, 4, affine=False),
            call,
        ),
        "instancenorm": ("{instancenorm: }", (4, 5, 5), lambda: nn.InstanceNorm2d(4), call),
        "instancenorm-affine-1d": (
            "{instancenorm: , affine: true}",
            (4, 9),
            lambda: nn.InstanceNorm1d(4, affine=True),
            call,
        ),
        "instancenorm-running": (
            "{instancenorm: , affine: true, track_running_stats: true}",
            (4, 5, 5),
            lambda: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
            call,
        ),
        "select": ("{select: [1, 3]}", (4, 5, 5), nn.Identity, lambda m, x: x[:, 1:3]),
        "shuffle": ("{shuffle: 2}", (4, 5, 5), lambda: nn.ChannelShuffle(2), call),
        # 9 → 6: offset ⌊3/2⌋ = 1, rows 1..6; 8 → 5: offset 1
        ("crop"): ("{crop: [6, 5]}", (4, 9, 8), nn.Identity, lambda m, x: x[:, :, 1:7, 1:6]),
        "upsample": ("{upsample: 2}", (4, 5, 5), lambda: nn.Upsample(scale_factor=2.0), call),
        "upsample-size": (
            "{upsample: , size: [7, 13]}",
            (4, 5, 5),
            lambda: nn.Upsample(size=(7, 13)),
            call,
        ),
        "upsample-1d": ("{upsample: 3}", (4, 5), lambda: nn.Upsample(scale_factor=3.0), call),
        "upsample-bilinear": (
            "{upsample: 2, mode: bilinear}",
            (4, 5, 5),
            lambda: nn.Upsample(scale_factor=2.0, mode="bilinear"),
            call,
        ),
        "upsample-bilinear-corners": (
            "{upsample: , size: [9, 11], mode: bilinear, align_corners: true}",
            (4, 5, 5),
            lambda: nn.Upsample(size=(9, 11), mode="bilinear", align_corners=True),
            call,
        ),
        "drop_path": ("{drop_path: 0.3}", (4, 5, 5), nn.Identity, call),
        "layer_scale": (
            "{layer_scale: 1.0e-6}",
            (4, 5, 5),
            lambda: Holder(4),
            lambda m, x: m.it * x,
        ),
        "linear": ("{linear: 6}", (4, 5, 5), lambda: nn.Linear(4, 6), channels_last),
        "linear-flat": (
            "{linear: 6, bias: false}",
            (4,),
            lambda: nn.Linear(4, 6, bias=False),
            call,
        ),
    }


CASE_NAMES = [
    "hardswish", "hardsigmoid", "silu", "gelu", "gelu-tanh", "leaky_relu", "elu", "prelu",
    "prelu-1", "mish", "log_softmax", "identity", "layernorm-channels", "layernorm-last-2",
    "layernorm-no-bias", "groupnorm", "groupnorm-3d", "instancenorm", "instancenorm-affine-1d",
    "instancenorm-running", "select", "shuffle", "crop", "upsample", "upsample-size",
    "upsample-1d", "upsample-bilinear", "upsample-bilinear-corners", "drop_path",
    "layer_scale", "linear", "linear-flat",
]  # fmt: skip


def one_layer(case):
    layer, shape, factory, forward = torch_cases()[case]
    return net(layer, json.dumps(list(shape))), shape, factory, forward


@pytest.mark.parametrize("case", CASE_NAMES)
def test_state_dict_names_and_shapes_are_pytorchs(case):
    spec, _, factory, _ = one_layer(case)
    node = build(spec).nodes[0]
    ours = {e.key("it"): e.shape for e in node.layer.state(node.in_shape)}
    module = factory()
    theirs = {
        (f"it.{k}" if k != "it" else k): tuple(v.shape) for k, v in module.state_dict().items()
    }
    assert ours == theirs
    trainable = sum(p.numel() for p in module.parameters())
    assert analyze(spec).total.params == trainable


@pytest.mark.parametrize("impl", ["fast", "naive"])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_executor_output_is_pytorchs_and_counts_are_predicted(case, impl):
    """PyTorch's module in float64 with the executor's random weights loaded, on the same
    batch of 2; the counts the executor performed are the prediction for a batch of 2."""
    import torch

    from cnncalc.analysis.stats import node_ops
    from cnncalc.proof.executor import OpCount
    from cnncalc.proof.executor.run import random_input, random_state, run
    from cnncalc.proof.verify import predicted_counts

    spec, _, factory, forward = one_layer(case)
    graph = build(spec)
    state = random_state(graph, seed=5)
    x = random_input(graph, 2, seed=5)
    result = run(graph, impl, weights=state, x=x)
    module = factory().double().eval()
    module.load_state_dict(
        {(k[3:] if k != "it" else k): torch.from_numpy(np.asarray(v)) for k, v in state.items()}
    )
    with torch.no_grad():
        expected = forward(module, torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(result.output, expected, rtol=1e-9, atol=1e-12)
    node = graph.nodes[0]
    assert result.nodes[0].count == OpCount(**predicted_counts(node_ops(node).times(2)))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_four_ways_through_the_export(case):
    """Prediction, naive loops, fast executor and the exported module agree, node by node."""
    pytest.importorskip("torch")
    from test_executor_graphs import assert_four_ways

    spec, shape, _, _ = one_layer(case)
    layer = torch_cases()[case][0]
    text = (
        f"input: {json.dumps(list(shape))}\nlayers:\n  - {{relu6: }}\n  - {layer}\n  - {{tanh: }}\n"
    )
    assert_four_ways(json.dumps(__import__("yaml").safe_load(text)), batch=2, seed=1)


def test_shufflenet_unit_and_convnext_block_run_four_ways():
    """A ShuffleNet v2 unit (split, branch, concat, shuffle) and a ConvNeXt block (depthwise
    conv, LayerNorm over channels, Linear 4×, GELU, Linear back, layer scale, drop path,
    residual add), as the networks write them."""
    pytest.importorskip("torch")
    from test_executor_graphs import assert_four_ways

    shufflenet = {
        "input": [8, 6, 6],
        "layers": [
            {
                "concat": [
                    [{"select": [0, 4]}],
                    [
                        {"select": [4, 8]},
                        {"conv": 4, "kernel": 1, "bias": False},
                        {"batchnorm": None},
                        {"relu": None},
                        {"conv": 4, "kernel": 3, "padding": 1, "groups": 4, "bias": False},
                        {"batchnorm": None},
                    ],
                ]
            },
            {"shuffle": 2},
        ],
    }
    convnext = {
        "input": [8, 6, 6],
        "layers": [
            {
                "add": [
                    [
                        {"conv": 8, "kernel": 7, "padding": 3, "groups": 8},
                        {"layernorm": None, "eps": 1e-6},
                        {"linear": 32},
                        {"gelu": None},
                        {"linear": 8},
                        {"layer_scale": 1e-6, "name": "block.layer_scale"},
                        {"drop_path": 0.1},
                    ],
                    [],
                ]
            }
        ],
    }
    for network in (shufflenet, convnext):
        assert_four_ways(json.dumps(network), batch=2, seed=2)


def test_layer_scale_state_dict_key_is_torchvisions_cnblock():
    """torchvision's CNBlock: ``features.1.0.layer_scale`` of shape (96, 1, 1) beside
    ``features.1.0.block.0.weight``."""
    spec = loads(
        "input: [96, 56, 56]\nlayers:\n"
        "  - {conv: 96, kernel: 7, padding: 3, groups: 96, name: features.1.0.block.0}\n"
        "  - {layer_scale: 1.0e-6, name: features.1.0.layer_scale}\n"
    )
    keys = dict(analyze(spec).layers[1].state_dict)
    assert keys == {"features.1.0.layer_scale": (96, 1, 1)}


def test_select_out_of_range_in_the_executor_is_an_error():
    from cnncalc.proof.executor import ExecutorError, ops_fast, ops_naive

    for ops in (ops_fast, ops_naive):
        with pytest.raises(ExecutorError, match="select"):
            ops.select(np.zeros((1, 4, 2, 2)), 2, 6)


# --------------------------------------------------------------------------- training


def test_new_kinds_keep_what_pytorch_saves():
    """Each layer after a trained 1×1 conv, training mode, batch 3, through the exported
    module: the bytes autograd saves, the state_dict and the gradients are PyTorch's."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module
    from test_memory import torch_memory

    from cnncalc.analysis.pipeline import memory

    for case in CASE_NAMES:
        layer, shape, _, _ = torch_cases()[case]
        if case in ("prelu-1", "linear-flat", "instancenorm-affine-1d", "upsample-1d"):
            continue  # the conv in front needs a 2-D map
        if len(shape) != 3:
            continue
        text = (
            f"name: t\ninput: {json.dumps(list(shape))}\nlayers:\n"
            f"  - {{conv: {shape[0]}, kernel: 1}}\n  - {layer[:-1]}, name: it}}\n"
        )
        model = exported_yaml_module(text).build().train()
        torch.manual_seed(0)
        saved, state, grads, _ = torch_memory(model, torch.randn((3,) + shape))
        m = memory(loads(text), batch=3)
        assert (m.activations, m.params + m.buffers, m.gradients) == (saved, state, grads), case


@pytest.mark.parametrize(
    "layer,dx,dw",
    [
        # (input 4×8×8 after a trained conv, batch 2: N = 512 elements)
        ("{hardswish: }", {"mults": 2 * 512, "adds": 512, "compares": 2 * 512, "divs": 512}, {}),
        ("{silu: }", {"mults": 3 * 512, "adds": 3 * 512, "divs": 512, "exps": 512}, {}),
        (
            "{prelu: 4}",
            {"mults": 512, "compares": 512},
            {"mults": 512, "adds": 512 - 4, "compares": 512},
        ),
        ("{layer_scale: 0.1}", {"mults": 512}, {"mults": 512, "adds": 512 - 4}),
        ("{drop_path: 0.1}", {"mults": 512}, {}),
        ("{select: [0, 2]}", {}, {}),
        ("{upsample: 2}", {"adds": 2 * 4 * 16 * 16}, {}),
        # a 1×1 conv's rules: dX out·c products per position summed over out (c·(out − 1)
        # adds each); dW the same products summed over 2·64 positions, and the bias
        (
            "{linear: 6}",
            {"mults": 2 * 64 * 6 * 4, "adds": 2 * 64 * 4 * (6 - 1), "macs": 2 * 64 * 6 * 4},
            {
                "mults": 2 * 64 * 6 * 4,
                "adds": 2 * 64 * 6 * 4 - 6 * 4,
                "bias_adds": 6 * (2 * 64 - 1),
                "macs": 2 * 64 * 6 * 4,
            },
        ),
    ],
)
def test_backward_by_formula(layer, dx, dw):
    from cnncalc.analysis.pipeline import training

    spec = loads(
        f"name: t\ninput: [4, 8, 8]\nlayers:\n  - {{conv: 4, kernel: 1}}\n  - {layer[:-1]}, name: it}}\n"
    )
    it = next(l for l in training(spec, batch=2, convention="exact").layers if l.name == "it")
    assert {k: v for k, v in it.dx_ops.as_dict().items() if v} == dx
    assert {k: v for k, v in it.dw_ops.as_dict().items() if v} == dw


def test_linear_backward_equals_flop_counter():
    """FlopCounterMode counts the matrix products of nn.Linear's backward: 2 FLOPs per
    multiply, dX and dW each the forward MACs."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.analysis.pipeline import training

    spec = loads(
        "name: t\ninput: [4, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1}\n  - {linear: 6, name: it}\n"
    )
    it = next(l for l in training(spec, batch=2).layers if l.name == "it")
    module = torch.nn.Linear(4, 6)
    x = torch.randn(2, 8, 8, 4, requires_grad=True)
    y = module(x)
    with FlopCounterMode(display=False) as counter:
        y.sum().backward()
    assert counter.get_total_flops() == 2 * (it.dx.macs + it.dw.macs) == 4 * 2 * 64 * 6 * 4


BLOCKS = {
    "convnext-block": """
name: convnext block
input: [16, 8, 8]
layers:
  - {conv: 16, kernel: 3, padding: 1}
  - add:
      - - {conv: 16, kernel: 7, padding: 3, groups: 16, name: block.0}
        - {layernorm: , eps: 1.0e-6, name: block.2}
        - {linear: 64, name: block.3}
        - {gelu: }
        - {linear: 16, name: block.5}
        - {layer_scale: 1.0e-6, name: block.layer_scale}
        - {drop_path: 0.1}
      - []
  - {layernorm: }
""",
    "shufflenet-unit": """
name: shufflenet unit
input: [8, 8, 8]
layers:
  - {conv: 8, kernel: 1}
  - concat:
      - [{select: [0, 4]}]
      - [{select: [4, 8]}, {conv: 4, kernel: 1, bias: false}, {batchnorm: }, {relu: },
         {conv: 4, kernel: 3, padding: 1, groups: 4, bias: false}, {batchnorm: },
         {conv: 4, kernel: 1, bias: false}, {batchnorm: }, {relu: }]
  - {shuffle: 2}
  - {upsample: 2, mode: bilinear}
  - {crop: 12}
  - {hardswish: }
  - {groupnorm: 2}
""",
}


@pytest.mark.parametrize("name", BLOCKS)
def test_block_training_memory_and_backward_are_pytorchs(name):
    """Training mode, batch 2: the bytes autograd saves and the backward FLOPs that
    FlopCounterMode counts (2 per MAC of conv and Linear; a grouped conv's dW it counts
    g times, as in test_training.py, so the excess (g − 1)·dW is added here)."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module
    from test_memory import torch_memory
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.analysis.pipeline import memory, training

    spec = loads(BLOCKS[name])
    module = exported_yaml_module(BLOCKS[name])
    torch.manual_seed(0)
    x = torch.randn((2,) + tuple(spec.input))
    saved, state, grads, _ = torch_memory(module.build().train(), x)
    m = memory(spec, batch=2)
    assert (m.activations, m.params + m.buffers, m.gradients) == (saved, state, grads)

    cost = training(spec, batch=2)
    graph = build(spec)
    excess = sum(
        (node.layer.groups - 1) * layer.dw.macs
        for node, layer in zip(graph.nodes, cost.layers)
        if node.kind == "conv"
    )
    model = module.build().train()
    y = model(x)
    with FlopCounterMode(display=False) as counter:
        y.sum().backward()
    assert counter.get_total_flops() == 2 * (cost.dx.macs + cost.dw.macs + excess)


@pytest.mark.requires("torch")
@pytest.mark.parametrize("norm", ["{groupnorm: 2}", "{instancenorm: }", "{batchnorm: }"])
@pytest.mark.parametrize("view", ["{crop: 12}", "{select: [0, 2]}", "{select: [0, 4]}"])
@pytest.mark.parametrize("batch", [1, 2])
def test_a_norm_after_a_strided_view_keeps_what_pytorch_keeps(norm, view, batch):
    """instance_norm (batch_norm on input.contiguous().view(1, N·C, …)) copies a strided
    input and keeps the copy; group_norm (PyTorch 2.14) and batch_norm keep the view, so
    the map it is cut from stays alive. A centre crop is strided; a channel range is
    strided only for more than one sample (one sample's channels a…b lie together), and all
    the channels are no range at all. PyTorch's saved tensors decide, as in test_memory.py."""
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module
    from test_memory import torch_memory

    from cnncalc.analysis.pipeline import memory

    text = (
        "name: t\ninput: [4, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1}\n"
        f"  - {{upsample: 2}}\n  - {view}\n  - {norm}\n"
    )
    x = torch.randn(batch, 4, 8, 8)
    saved, *_ = torch_memory(exported_yaml_module(text).build().train(), x)
    assert memory(loads(text), batch=batch).activations == saved


def test_instance_norm_after_a_crop_keeps_its_copy_not_the_uncropped_map():
    """By hand, batch 1, fp32: the conv keeps its input 4·8·8 = 256 values; the upsampled
    map 4·16·16 = 1,024 is cut to 4·12·12 = 576, which instance norm copies and keeps, with
    a mean and a 1/σ per channel of the sample (4 + 4): (256 + 576 + 8)·4 = 3,360 bytes,
    not the (256 + 1,024 + 8)·4 = 5,152 of keeping the uncropped map. Group norm keeps the
    view: (256 + 1,024 + 2 + 2)·4 = 5,136."""
    from cnncalc.analysis.pipeline import memory

    text = (
        "name: t\ninput: [4, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1}\n"
        "  - {upsample: 2}\n  - {crop: 12}\n  - {norm}\n"
    )
    instance = memory(loads(text.replace("{norm}", "{instancenorm: }")), batch=1)
    group = memory(loads(text.replace("{norm}", "{groupnorm: 2}")), batch=1)
    assert instance.activations == (256 + 576 + 8) * 4
    assert group.activations == (256 + 1024 + 2 + 2) * 4


@pytest.mark.parametrize(
    "layers,line,message",
    [
        (
            "  - {conv: 8, kernel: 3, padding: 3, name: a}\n  - {crop: , match: a, from: input}\n",
            5,
            # conv: 32 + 2·3 − 3 + 1 = 36 > the input's 32
            "layers.1.match: layer 'crop' (crop) on input 3×32×32: crops h to 36 (the size of 'a')",
        ),
        (
            "  - {crop: , match: b}\n  - {conv: 8, kernel: 3, name: b}\n",
            4,
            "layers.0.match: 'b' comes later (line 5)",
        ),
        ("  - {crop: , match: nowhere}\n", 4, "layers.0.match: no layer named 'nowhere'"),
        ("  - {relu: , name: a}\n  - {crop: }\n", 5, "a crop takes a size"),
        ("  - {relu: , name: a}\n  - {crop: 4, match: a}\n", 5, "one of the two"),
        ("  - {flatten: , name: f}\n  - {crop: , match: f, from: input}\n", 5, "no spatial axes"),
    ],
)
def test_a_crop_that_matches_a_layer_it_cannot_is_one_line_exit_2(
    cli, yaml_file, layers, line, message
):
    """U-Net's crop to the size of the map it joins (``match: NAME``): a size larger than
    the input, a name that is later or absent, neither or both of size and match, and a
    match without spatial axes are each one line naming file, line and field."""
    path = yaml_file("name: t\ninput: [3, 32, 32]\nlayers:\n" + layers)
    result = cli("shape", path)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"{path}:{line}: " in lines[0] and message in lines[0], lines[0]


def test_a_crop_to_match_centres_the_window_like_the_papers_crop():
    """A 3×9×9 map cropped to match a 5×5 one: offset ⌊(9 − 5)/2⌋ = 2 on each axis, the
    window [2, 7), as tests/unet_paper.py's centre_crop takes it; no operations."""
    spec = loads(
        "input: [3, 9, 9]\nlayers:\n  - {pool: max, kernel: 5, stride: 1, name: small}\n"
        "  - {crop: , match: small, from: input}\n"
    )
    graph = build(spec)
    crop = graph.nodes[-1]
    assert crop.out_shape == (3, 5, 5)
    assert crop.layer.offsets(crop.in_shape) == (2, 2)
    assert analyze(spec).layers[-1].macs == 0

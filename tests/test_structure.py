"""Structure beyond nesting: the ``mul`` join (broadcast as PyTorch), ``from:`` references,
joins of named layers, several ``outputs:``, and integer arithmetic in block arguments.

Expected numbers are derived in each test (a squeeze-and-excitation gate's 1×1 convs have
C·C/r + C/r and C/r·C + C parameters) or come from PyTorch modules written here.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.analysis.stats import node_ops
from cnncalc.errors import CnnCalcError
from cnncalc.model.expr import evaluate, is_expression
from cnncalc.proof.executor.run import random_input, random_state, run

# --------------------------------------------------------------------------- squeeze-and-excitation

SE = """
name: se
input: [{c}, {h}, {w}]
layers:
  - mul:
      - []
      - [{{gap: }}, {{conv: {r}, kernel: 1, name: fc1}}, {{relu: }},
         {{conv: {c}, kernel: 1, name: fc2}}, {{sigmoid: }}]
    name: se
"""


def se_net(c=32, r=8, h=14, w=14):
    return loads(SE.format(c=c, r=r, h=h, w=w))


@pytest.mark.parametrize("h,w", [(14, 14), (7, 7), (20, 13)])
def test_se_gate_keeps_the_shape_at_any_input_size(h, w):
    graph = build(se_net(h=h, w=w))
    gate = next(n for n in graph.nodes if n.name == "se.sigmoid")  # beside se.fc1, se.fc2
    assert gate.out_shape == (32, 1, 1)
    assert graph.out_shape == (32, h, w)


def test_se_gate_params_macs_and_multiplies():
    a = analyze(se_net())
    fc1 = 32 * 8 + 8  # C·C/r weights + C/r biases
    fc2 = 8 * 32 + 32
    assert a.total.params == fc1 + fc2 == 552
    assert a.total.macs == 32 * 8 + 8 * 32  # the 1×1 convs run on one position
    mul = next(l for l in a.layers if l.kind == "mul")
    assert mul.ops.mults == 32 * 14 * 14  # one multiply per output element
    assert mul.macs == 0  # the macs convention counts weighted layers only
    exact = analyze(se_net(), convention="exact")
    exact_mul = next(l for l in exact.layers if l.kind == "mul")
    assert exact_mul.mults == 32 * 14 * 14


def test_se_gate_field_reaches_the_whole_map_and_keeps_the_maps_jump():
    spec = loads(
        "input: [3, 16, 16]\nlayers:\n"
        "  - {conv: 32, kernel: 3, stride: 2, padding: 1}\n"
        "  - mul: [[], [{gap: }, {conv: 32, kernel: 1}, {sigmoid: }]]\n"
    )
    a = analyze(spec)
    conv, mul = a.layers[0], a.layers[-1]
    assert (conv.rf, conv.jump) == ((3, 3), (2, 2))
    # the gate sees the whole 8×8 map: r = 3 + (8 − 1)·2; the product keeps the map's step
    assert mul.rf == (3 + 7 * 2, 3 + 7 * 2)
    assert mul.jump == (2, 2)


class TorchSE:
    """x · σ(W₂ relu(W₁ gap(x) + b₁) + b₂), Hu et al. 2018, written in PyTorch."""

    def __init__(self, torch, c, r):
        nn = torch.nn

        class SE(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Conv2d(c, r, 1)
                self.fc2 = nn.Conv2d(r, c, 1)

            def forward(self, x):
                s = torch.nn.functional.adaptive_avg_pool2d(x, 1)
                return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))

        self.module = SE().double().eval()


@pytest.mark.parametrize("impl", ["naive", "fast"])
@pytest.mark.parametrize("h,w", [(6, 6), (5, 9)])
def test_se_gate_equals_pytorch(impl, h, w):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    c, r = 8, 2
    model = TorchSE(torch, c, r).module
    graph = build(se_net(c=c, r=r, h=h, w=w))
    state = {f"se.{k}": v.numpy() for k, v in model.state_dict().items()}
    x = random_input(graph, 2, seed=3)
    result = run(graph, impl, weights=state, x=x)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(result.output, expected, rtol=1e-10)
    ours = analyze(se_net(c, r, h, w), batch=2)
    assert sum(p.numel() for p in model.parameters()) == ours.total.params
    assert counter.get_total_flops() == 2 * ours.total.macs
    mul = graph.nodes[-1]
    assert result.nodes[-1].count.mults == 2 * c * h * w == node_ops(mul).times(2).mults


def test_add_broadcasts_like_pytorch():
    torch = pytest.importorskip("torch")
    graph = build(loads("input: [4, 5, 3]\nlayers:\n  - add: [[], [{gap: }]]\n"))
    assert graph.out_shape == (4, 5, 3)
    assert node_ops(graph.nodes[-1]).eltwise_adds == 4 * 5 * 3
    x = random_input(graph, 2, seed=1)
    for impl in ("naive", "fast"):
        y = run(graph, impl, x=x).output
        expected = torch.from_numpy(x) + torch.from_numpy(x).mean((2, 3), keepdim=True)
        np.testing.assert_allclose(y, expected.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- references

NESTED_UNET = """
input: [4, 16, 16]
layers:
  - {conv: 8, kernel: 3, padding: 1, name: enc}
  - concat:
      - []
      - [{pool: max, kernel: 2}, {conv: 16, kernel: 3, padding: 1}, {deconv: 8, kernel: 2, stride: 2}]
  - {conv: 4, kernel: 1}
"""

FLAT_UNET = """
input: [4, 16, 16]
layers:
  - {conv: 8, kernel: 3, padding: 1, name: enc}
  - {pool: max, kernel: 2, name: down}
  - {conv: 16, kernel: 3, padding: 1, name: bottom}
  - {deconv: 8, kernel: 2, stride: 2, name: up}
  - {concat: [enc, up], name: skip}
  - {conv: 4, kernel: 1, name: head}
"""


def _numbers(analysis):
    return [
        (l.kind, l.out_shape, l.params, l.ops, l.rf, l.jump, l.depth, l.activations)
        for l in analysis.layers
    ]


@pytest.mark.parametrize("convention", ["macs", "exact", "fvcore", "ptflops"])
def test_flat_unet_skip_gives_the_nesting_numbers(convention):
    nested = analyze(loads(NESTED_UNET), convention=convention)
    flat = analyze(loads(FLAT_UNET), convention=convention)
    assert _numbers(flat) == _numbers(nested)
    assert flat.total.figures == nested.total.figures
    assert flat.output == nested.output == (4, 16, 16)


def test_flat_unet_params_and_depth_derived():
    a = analyze(loads(FLAT_UNET))
    enc, bottom, up, head = 4 * 9 * 8 + 8, 8 * 9 * 16 + 16, 16 * 8 * 4 + 8, 16 * 4 + 4
    assert a.total.params == enc + bottom + up + head
    assert a.depth == 4  # enc → bottom → up → head, the longest weighted path
    skip = next(l for l in a.layers if l.name == "skip")
    assert skip.in_shape == (8, 16, 16)


def test_flat_unet_runs_in_pytorch_as_exported():
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module

    graph = build(loads(FLAT_UNET))
    model = exported_yaml_module(FLAT_UNET).build().double().eval()
    state = random_state(graph, seed=2)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    x = random_input(graph, 2, seed=2)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run(graph, "fast", weights=state, x=x).output, expected, rtol=1e-9)


def test_join_of_references_takes_the_widest_field():
    a = analyze(
        loads(
            "input: [2, 8, 8]\nlayers:\n"
            "  - {conv: 2, kernel: 3, padding: 1, name: a}\n"
            "  - {conv: 2, kernel: 5, padding: 2, name: b}\n"
            "  - {add: [a, b]}\n"
        )
    )
    # b reads a (the previous layer): r = 3 + (5 − 1)·1 = 7; the sum sees max(3, 7)
    assert a.layers[-1].rf == (7, 7)
    side = analyze(
        loads(
            "input: [2, 8, 8]\nlayers:\n"
            "  - {conv: 2, kernel: 3, padding: 1, name: a}\n"
            "  - {conv: 2, kernel: 5, padding: 2, name: b}\n"
            "  - {conv: 2, kernel: 1, name: c, from: a}\n"
            "  - {mul: [b, c]}\n"
        )
    )
    c = next(l for l in side.layers if l.name == "c")
    assert c.rf == (3, 3) and c.depth == 2  # reads a, not b
    assert side.layers[-1].rf == (7, 7) and side.depth == 2


TINY_FPN = """
name: tiny-fpn
input: [3, 32, 32]
outputs: [p3, p4, p5]
layers:
  - {conv: 8, kernel: 3, stride: 2, padding: 1, name: c3}
  - {conv: 16, kernel: 3, stride: 2, padding: 1, name: c4}
  - {conv: 32, kernel: 3, stride: 2, padding: 1, name: c5}
  - {conv: 8, kernel: 1, name: p5}
  - {deconv: 8, kernel: 2, stride: 2, name: up5}
  - {add: [[], [{conv: 8, kernel: 1, from: c4, name: lat4}]], name: p4}
  - {deconv: 8, kernel: 2, stride: 2, name: up4}
  - {add: [[], [{conv: 8, kernel: 1, from: c3, name: lat3}]], name: p3}
"""


def test_feature_pyramid_has_three_outputs_in_json(cli, yaml_file):
    result = cli("shape", yaml_file(TINY_FPN), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outputs"] == [
        {"name": "p3", "out_shape": [8, 16, 16]},
        {"name": "p4", "out_shape": [8, 8, 8]},
        {"name": "p5", "out_shape": [8, 4, 4]},
    ]
    assert data["output"] == [8, 16, 16]
    # the longest weighted path: c3 → c4 → c5 → p5 → up5 → up4
    assert data["total"]["depth"] == 6


def _torch_fpn(torch):
    nn = torch.nn

    class FPN(nn.Module):
        def __init__(self):
            super().__init__()
            self.c3 = nn.Conv2d(3, 8, 3, 2, 1)
            self.c4 = nn.Conv2d(8, 16, 3, 2, 1)
            self.c5 = nn.Conv2d(16, 32, 3, 2, 1)
            self.p5 = nn.Conv2d(32, 8, 1)
            self.up5 = nn.ConvTranspose2d(8, 8, 2, 2)
            self.lat4 = nn.Conv2d(16, 8, 1)
            self.up4 = nn.ConvTranspose2d(8, 8, 2, 2)
            self.lat3 = nn.Conv2d(8, 8, 1)

        def forward(self, x):
            c3 = self.c3(x)
            c4 = self.c4(c3)
            p5 = self.p5(self.c5(c4))
            p4 = self.up5(p5) + self.lat4(c4)
            p3 = self.up4(p4) + self.lat3(c3)
            return p3, p4, p5

    return FPN().double().eval()


def test_feature_pyramid_outputs_equal_pytorch_and_the_export():
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module

    model = _torch_fpn(torch)
    ours = {"lat4": "p4.lat4", "lat3": "p3.lat3"}
    state = {
        ours.get(k.split(".")[0], k.split(".")[0]) + "." + k.split(".")[1]: v.numpy()
        for k, v in model.state_dict().items()
    }
    graph = build(loads(TINY_FPN))
    x = random_input(graph, 2, seed=5)
    with torch.no_grad():
        expected = [t.numpy() for t in model(torch.from_numpy(x))]
    for impl in ("naive", "fast"):
        result = run(graph, impl, weights=state, x=x)
        assert len(result.outputs) == 3
        for got, want in zip(result.outputs, expected):
            np.testing.assert_allclose(got, want, rtol=1e-9)
    exported = exported_yaml_module(TINY_FPN).build().double().eval()
    exported.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    with torch.no_grad():
        out = exported(torch.from_numpy(x))
    assert isinstance(out, tuple) and len(out) == 3
    for got, want in zip(out, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-9)


def test_reference_to_a_named_block_call_reads_its_last_layer():
    a = analyze(
        loads(
            "input: [3, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
            "      - {conv: $c, kernel: 3, padding: 1, name: conv1}\n"
            "      - {conv: $c, kernel: 1, name: conv2}\n"
            "layers:\n  - {b: [4], name: stem}\n  - {pool: max, kernel: 2}\n"
            "  - {concat: [stem, stem.conv1]}\n"
        )
    )
    assert a.output == (8, 8, 8)
    inside = loads(
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n"
        "      - {conv: 4, kernel: 3, padding: 1, name: conv1}\n"
        "      - {conv: 4, kernel: 1, name: conv2}\n"
        "      - {add: [conv1, conv2]}\n"
        "layers:\n  - {b: , name: s1}\n  - {b: , name: s2}\n"
    )
    # inside a block, conv1 names the block call's own conv1 (s2.conv1, not s1.conv1)
    join = build(inside).nodes[-1]
    assert [build(inside).nodes[i].name for i in join.inputs] == ["s2.conv1", "s2.conv2"]


# --------------------------------------------------------------------------- errors

ERRORS = [
    (
        "unknown-reference",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, name: a}\n"
        "  - {conv: 4, kernel: 1, from: nope}\n",
        4,
        ["layers.1.from", "no layer named 'nope' before this point"],
    ),
    (
        "later-reference",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, from: b}\n"
        "  - {conv: 4, kernel: 1, name: b}\n",
        3,
        ["layers.0.from", "'b' comes later (line 4)", "cannot form a cycle"],
    ),
    (
        "self-reference",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, name: a}\n"
        "  - {conv: 4, kernel: 1, name: b, from: b}\n",
        4,
        ["layers.1.from", "cannot take its input from itself (a cycle)"],
    ),
    (
        "join-refers-to-itself",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 1, kernel: 1}\n  - {add: [[], j], name: j}\n",
        4,
        ["layers.1.add.1", "a cycle"],
    ),
    (
        "unknown-branch-reference",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, name: enc}\n"
        "  - {concat: [[], encc]}\n",
        4,
        ["layers.1.concat.1", "no layer named 'encc'", "did you mean 'enc'?"],
    ),
    (
        "concat-of-references-that-do-not-fit",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, name: a}\n"
        "  - {pool: max, kernel: 2, name: b}\n  - {concat: [a, b]}\n",
        5,
        ["layers.2", "branch 1 gives 4×4×4 but branch 0 gives 4×8×8"],
    ),
    (
        "mul-that-does-not-broadcast",
        "input: [8, 4, 4]\nlayers:\n  - mul: [[], [{conv: 4, kernel: 1}]]\n",
        3,
        ["layers.0", "(mul)", "along C 4 ≠ 8", "broadcast"],
    ),
    (
        "mul-of-different-ranks",
        "input: [8, 4, 4]\nlayers:\n  - mul: [[], [{flatten: }]]\n",
        3,
        ["layers.0", "same number of axes"],
    ),
    (
        "unknown-output",
        "input: [1, 8, 8]\noutputs: [a, zz]\nlayers:\n  - {conv: 4, kernel: 1, name: a}\n",
        2,
        ["outputs.1", "no layer named 'zz'"],
    ),
    (
        "reference-not-a-name",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, from: [a]}\n",
        3,
        ["layers.0.from", "a reference is the name of an earlier layer"],
    ),
    (
        "reference-out-of-scope",
        "input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n"
        "      - {conv: 4, kernel: 3, padding: 1, name: conv1}\n"
        "layers:\n  - {b: , name: s1}\n  - {conv: 4, kernel: 1, from: conv1}\n",
        8,
        ["no layer named 'conv1' in this scope", "write its full name, e.g. 's1.conv1'"],
    ),
    (
        "divide-by-zero",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
        "      - {conv: $c // 0, kernel: 1}\nlayers:\n  - {b: [4]}\n",
        6,
        ["blocks.b.layers.0.conv", "'$c // 0' divides by zero"],
    ),
    (
        "not-a-whole-number",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
        "      - {conv: $c / 3, kernel: 1}\nlayers:\n  - {b: [4]}\n",
        6,
        ["'$c / 3' is not a whole number: 4 / 3 leaves 1", "use // to round down"],
    ),
    (
        "unknown-name-in-expression",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
        "      - {conv: $d * 2, kernel: 1}\nlayers:\n  - {b: [4]}\n",
        6,
        ["'$d * 2' uses the unknown argument '$d'", "the arguments are $c"],
    ),
    (
        "float-in-expression",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
        "      - {conv: $c * 1.5, kernel: 1}\nlayers:\n  - {b: [4]}\n",
        6,
        ["'$c * 1.5' is not an integer expression"],
    ),
    (
        "expression-outside-a-block",
        "input: [6, 8, 8]\nlayers:\n  - {conv: $c * 2, kernel: 1}\n",
        3,
        ["'$c * 2' is used outside a block"],
    ),
]


@pytest.mark.parametrize("text,line,fragments", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_structure_errors_are_one_line_with_file_line_and_field(
    cli, yaml_file, text, line, fragments
):
    path = yaml_file(text)
    result = cli("shape", path)
    assert result.exit_code == 2, result.output
    out = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(out.splitlines()) == 1, out
    assert out.startswith(f"error: {path}:{line}: "), out
    for fragment in fragments:
        assert fragment in out, out


def test_outputs_in_a_study_is_refused():
    with pytest.raises(CnnCalcError, match="belongs to a network with 'layers:'"):
        loads("input: [1, 8, 8]\noutputs: [a]\nvariants:\n  v: [{conv: 1, kernel: 1, name: a}]\n")


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    "text,args,expected",
    [
        ("$dim * 4", {"dim": 96}, 96 * 4),
        ("$c // 2", {"c": 63}, 31),
        ("($c + 7) // 8 * 8", {"c": 13}, 16),
        ("($c + 7) // 8 * 8", {"c": 16}, 16),
        ("$c / 4", {"c": 64}, 16),
        ("-$c + 3 * $c", {"c": 5}, 10),
        ("$a % $b", {"a": 17, "b": 5}, 2),
    ],
)
def test_integer_expressions(text, args, expected):
    assert is_expression(text)
    assert evaluate(text, args) == expected


@pytest.mark.parametrize("text", ["$c", "stage$k", "64", "$c_name"])
def test_plain_arguments_and_names_are_not_expressions(text):
    assert not is_expression(text)


@pytest.mark.parametrize(
    "text,message",
    [
        ("$c // 0", "divides by zero"),
        ("$c % 0", "divides by zero"),
        ("$c / 0", "divides by zero"),
        ("$c / 3", "is not a whole number"),
        ("$x + 1", "unknown argument '$x'"),
        ("$c ** 2", "is not an integer expression"),
        ("$c + (", "is not an integer expression"),
        ("$c * 2.0", "is not an integer expression"),
        ("$c * " + "9" * 70, "longer than 60 digits"),
    ],
)
def test_bad_expressions_name_the_expression(text, message):
    with pytest.raises(CnnCalcError) as err:
        evaluate(text, {"c": 8})
    assert f"'{text}'" in err.value.message and message in str(err.value)


def test_expression_of_a_non_integer_argument_is_refused():
    with pytest.raises(CnnCalcError, match="needs '\\$c' to be a whole number"):
        evaluate("$c * 2", {"c": "wide"})


def test_convnext_style_block_with_arithmetic():
    spec = loads(
        "input: [96, 14, 14]\nblocks:\n  inverted:\n    args: [dim]\n    layers:\n"
        "      - {conv: $dim * 4, kernel: 1, name: pw1}\n"
        "      - {conv: $dim, kernel: 1, name: pw2}\n"
        "      - {conv: ($dim + 7) // 8 * 8, kernel: 1, name: rounded}\n"
        "layers:\n  - {inverted: [96]}\n"
    )
    a = analyze(spec)
    assert [l.out_shape[0] for l in a.layers] == [384, 96, 96]
    assert a.layers[0].params == 96 * 384 + 384


# --------------------------------------------------------------------------- schema


def test_schema_describes_mul_from_outputs_and_expressions(cli):
    result = cli("schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    layers = schema["$defs"]["layer"]["anyOf"]
    titles = [v.get("title") for v in layers]
    assert "mul" in titles
    conv = layers[titles.index("conv")]
    assert "from" in conv["properties"]
    in_block = schema["$defs"]["layer_in_block"]["anyOf"]
    conv_in_block = in_block[[v.get("title") for v in in_block].index("conv")]
    accepted = conv_in_block["properties"]["conv"]["anyOf"]
    assert any(re.search(f.get("pattern", "^$"), "($c + 7) // 8 * 8") for f in accepted)
    assert "outputs" in schema["properties"]
    mul = layers[titles.index("mul")]
    branch_forms = mul["properties"]["mul"]["items"]["anyOf"]
    assert any(f.get("type") == ["string", "integer"] for f in branch_forms)


# --------------------------------------------------------------------------- training


def test_se_gate_backward_by_formula():
    """x·g with x: C×H×W and g: C×1×1: dX = dY·g (C·H·W mults), dG = Σ_HW dY·x (C·H·W mults,
    C·H·W − C adds), per sample."""
    from cnncalc.analysis.pipeline import training

    c, h, w, b = 8, 5, 6, 3
    spec = loads(
        f"input: [{c}, {h}, {w}]\nlayers:\n  - {{conv: {c}, kernel: 1}}\n"
        f"  - mul: [[], [{{gap: }}, {{conv: {c}, kernel: 1}}, {{sigmoid: }}]]\n    name: se\n"
    )
    se = next(l for l in training(spec, batch=b, convention="exact").layers if l.name == "se")
    assert se.dx_ops.mults == 2 * b * c * h * w
    assert se.dx_ops.adds == b * (c * h * w - c)
    add = loads(
        f"input: [{c}, {h}, {w}]\nlayers:\n  - {{conv: {c}, kernel: 1}}\n"
        f"  - add: [[], [{{gap: }}, {{conv: {c}, kernel: 1}}]]\n    name: se\n"
    )
    se_add = next(l for l in training(add, batch=b, convention="exact").layers if l.name == "se")
    assert (se_add.dx_ops.mults, se_add.dx_ops.adds) == (0, b * (c * h * w - c))


def test_mul_on_the_network_input_computes_only_the_gate_gradient():
    from cnncalc.analysis.pipeline import training

    spec = loads(
        "input: [4, 3, 3]\nlayers:\n  - mul: [[], [{gap: }, {conv: 4, kernel: 1}]]\n    name: g\n"
    )
    g = next(l for l in training(spec, batch=1, convention="exact").layers if l.name == "g")
    # the input needs no gradient; the gate's is Σ_HW dY·x: 36 mults, 36 − 4 adds
    assert (g.dx_ops.mults, g.dx_ops.adds) == (4 * 9, 4 * 9 - 4)


def test_a_join_whose_branches_step_differently_says_so(cli, yaml_file):
    """A 2×2 stride-2 conv (jump 2) beside a 5×5 stride-1 pool (jump 1), both 4×4 on 8×8:
    the join keeps the coarser jump and its working names the disagreement."""
    path = yaml_file(
        "input: [2, 8, 8]\nlayers:\n  - concat:\n"
        "      - [{conv: 2, kernel: 2, stride: 2}]\n"
        "      - [{pool: avg, kernel: 5, stride: 1}]\n    name: j\n"
    )
    result = cli("shape", path, "--explain")
    assert result.exit_code == 0, result.output
    assert "max(2, 1) = 2" in result.stdout and "jumps disagree along H" in result.stdout
    a = analyze(loads(path.read_text()))
    assert a.layers[-1].jump == (2, 2)
    agreeing = cli("shape", yaml_file(FLAT_UNET, "unet.yaml"), "--explain")
    assert "disagree" not in agreeing.stdout


def test_input_names_the_network_input():
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module

    text = (
        "input: [3, 6, 6]\nlayers:\n  - {conv: 5, kernel: 3, padding: 1, name: a}\n"
        "  - {conv: 2, kernel: 1, from: input, name: b}\n  - {concat: [input, a, b]}\n"
    )
    graph = build(loads(text))
    assert graph.out_shape == (3 + 5 + 2, 6, 6)
    assert analyze(loads(text)).depth == 1  # a and b each read the input directly
    state = random_state(graph, seed=1)
    model = exported_yaml_module(text).build().double().eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    x = random_input(graph, 1, seed=1)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run(graph, "naive", weights=state, x=x).output, expected, rtol=1e-9)
    np.testing.assert_allclose(expected[:, :3], x)  # the input itself comes first


def test_exported_feature_pyramid_file_prints_each_output(cli, yaml_file, tmp_path):
    pytest.importorskip("torch")
    import subprocess
    import sys

    out = tmp_path / "fpn_model.py"
    result = cli("export", yaml_file(TINY_FPN), "--to", "pytorch", "--output", out)
    assert result.exit_code == 0, result.output
    printed = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, check=True)
    shapes = [line for line in printed.stdout.splitlines() if line.startswith("output shape")]
    assert shapes == [
        "output shape: (1, 8, 16, 16)",
        "output shape: (1, 8, 8, 8)",
        "output shape: (1, 8, 4, 4)",
    ]


@pytest.mark.parametrize(
    "layers",
    [
        "  - {conv: 4, kernel: 1}\n  - mul: [[], [{gap: }, {conv: 4, kernel: 1}, {sigmoid: }]]\n",
        "  - mul: [[], [{gap: }, {conv: 4, kernel: 1}, {sigmoid: }]]\n",
        "  - {conv: 4, kernel: 1}\n  - add: [[], [{gap: }, {conv: 4, kernel: 1}]]\n",
        "  - {conv: 4, kernel: 1, name: a}\n  - {relu: }\n  - {conv: 4, kernel: 1, name: b}\n"
        "  - {mul: [a, b]}\n",
    ],
    ids=["se-gate", "gate-on-the-input", "broadcast-add", "mul-of-references"],
)
def test_training_memory_of_joins_equals_what_pytorch_saves(layers):
    torch = pytest.importorskip("torch")
    from pytorch_model import exported_yaml_module
    from test_memory import torch_memory

    from cnncalc.analysis.pipeline import memory

    text = f"input: [4, 6, 6]\nlayers:\n{layers}"
    model = exported_yaml_module(text).build().train()
    saved, *_ = torch_memory(model, torch.randn(2, 4, 6, 6))
    assert memory(loads(text), batch=2).activations == saved

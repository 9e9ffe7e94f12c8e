"""Two block features (issue 13 §3): a layer whose kind is an argument (``{$act: }``) and
an optional item (``if: $flag``). torchvision builds every MobileNetV3 bneck from one
InvertedResidual (expansion conv only where the width changes, squeeze-and-excitation
only where use_se, numbered 0, 1, … in its ``block`` Sequential) and every
Conv2dNormActivation with its activation a parameter; a YAML block says the same.

The expected names are torchvision's module paths (its ``state_dict`` keys where torch is
installed, else written out from mobilenetv3.py); the counts are derived in each test.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

from cnncalc.analysis.pipeline import analyze, loads

BLOCKS = """\
input: [16, 8, 8]
blocks:
  conv_bn_act:                 # Conv2dNormActivation(in, out, k, stride, groups, act)
    args: {out: null, kernel: 1, stride: 1, groups: 1, act: relu, use_act: true}
    layers:
      - {conv: $out, kernel: $kernel, stride: $stride, padding: "$kernel // 2", groups: $groups, bias: false, name: "0"}
      - {batchnorm: , name: "1"}
      - {$act: , name: "2", if: $use_act}
  inverted_residual:           # InvertedResidual(.block): expand?, depthwise, se?, project
    args: [expanded, kernel, out, act, expand, se]
    layers:
      - {conv_bn_act: {out: $expanded, act: $act}, name: "0", if: $expand}
      - {conv_bn_act: {out: $expanded, kernel: $kernel, groups: $expanded, act: $act}, name: "$expand + 0"}
      - mul:
          - - {adaptive: 1, name: avgpool}
            - {conv: 8, kernel: 1, name: fc1}
            - {relu: , name: activation}
            - {conv: $expanded, kernel: 1, name: fc2}
            - {hardsigmoid: , name: scale_activation}
          - []
        name: "$expand + 1"
        if: $se
      - {conv_bn_act: {out: $out, use_act: false}, name: "$expand + $se + 1"}
layers:
"""


def _net(*calls: str) -> str:
    return BLOCKS + "".join(f"  - {c}\n" for c in calls)


def _named(text: str) -> list[tuple[str, str]]:
    return [(layer.name, layer.kind) for layer in analyze(loads(text)).layers]


def test_a_kind_argument_puts_the_named_kind_in_its_place():
    """Conv2dNormActivation with nn.ReLU, then with nn.Hardswish: one block."""
    text = _net(
        "{conv_bn_act: {out: 16, kernel: 3, act: relu}, name: a}",
        "{conv_bn_act: {out: 16, kernel: 3, act: hardswish}, name: b}",
    )
    assert _named(text) == [
        ("a.0", "conv"),
        ("a.1", "batchnorm"),
        ("a.2", "relu"),
        ("b.0", "conv"),
        ("b.1", "batchnorm"),
        ("b.2", "hardswish"),
    ]
    # each: 3×3 conv 16 → 16 without bias, 16·16·9, and BatchNorm's γ, β: 2·16
    assert analyze(loads(text)).total.params == 2 * (16 * 16 * 9 + 2 * 16)


def test_a_false_flag_leaves_the_layer_out():
    """The projection: Conv2dNormActivation(..., activation_layer=None), conv and BN."""
    text = _net("{conv_bn_act: {out: 24, use_act: false}, name: project}")
    assert _named(text) == [("project.0", "conv"), ("project.1", "batchnorm")]


def test_inverted_residuals_are_numbered_as_torchvision_numbers_them():
    """features.1 (bneck_conf(16, 3, 16, 16, False, "RE", 1)): no expansion, no SE, so
    block.0 is the depthwise conv and block.1 the projection; features.4 (24, 5, 72, 40,
    True, "RE", 2) has both: block.0 … block.3. In between, expansion without SE."""
    text = _net(
        "{inverted_residual: [16, 3, 16, relu, false, false], name: f1}",
        "{inverted_residual: [64, 3, 24, relu, true, false], name: f2}",
        "{inverted_residual: [72, 5, 40, hardswish, true, true], name: f4}",
    )
    weighted = [n for n, kind in _named(text) if kind in ("conv", "batchnorm")]
    assert weighted == [
        "f1.0.0", "f1.0.1", "f1.1.0", "f1.1.1",
        "f2.0.0", "f2.0.1", "f2.1.0", "f2.1.1", "f2.2.0", "f2.2.1",
        "f4.0.0", "f4.0.1", "f4.1.0", "f4.1.1", "f4.2.fc1", "f4.2.fc2", "f4.3.0", "f4.3.1",
    ]  # fmt: skip
    kinds = dict(_named(text))
    assert (kinds["f1.0.2"], kinds["f2.1.2"], kinds["f4.1.2"]) == ("relu", "relu", "hardswish")
    assert "f1.1.2" not in kinds and "f4.3.2" not in kinds  # projections: no activation
    # f4's SE: 72 → 8 → 72 1×1 convs with bias: 72·8 + 8 + 8·72 + 72
    params = {layer.name: layer.params for layer in analyze(loads(text)).layers}
    assert params["f4.2.fc1"] + params["f4.2.fc2"] == 72 * 8 + 8 + 8 * 72 + 72


@pytest.mark.requires("torch", "torchvision")
def test_the_names_are_torchvisions_inverted_residual_paths():
    """The same three bnecks built by torchvision: the weighted names are its state_dict's."""
    from functools import partial

    from torch import nn
    from torchvision.models.mobilenetv3 import InvertedResidual, InvertedResidualConfig

    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
    rows = {"f1": (16, 3, 16, 16, False, "RE", 1, 1), "f2": (16, 3, 64, 24, False, "RE", 1, 1)}
    rows["f4"] = (24, 5, 72, 40, True, "HS", 1, 1)
    want = []
    for name, row in rows.items():
        block = InvertedResidual(InvertedResidualConfig(*row, width_mult=1.0), norm).block
        want += [f"{name}.{k.rsplit('.', 1)[0]}" for k in block.state_dict() if "running" not in k]
    text = _net(
        "{inverted_residual: [16, 3, 16, relu, false, false], name: f1}",
        "{inverted_residual: [64, 3, 24, relu, true, false], name: f2}",
        "{inverted_residual: [72, 5, 40, hardswish, true, true], name: f4}",
    )
    weighted = [layer.name for layer in analyze(loads(text)).layers if layer.params]
    assert weighted == list(dict.fromkeys(n for n in want if "num_batches" not in n))


def test_an_optional_branch_left_out_is_the_identity():
    """torchvision's Bottleneck: out = relu(body(x) + downsample(x)), the identity where
    there is no downsample (He et al. 2016, eq. 1 and 2)."""
    text = textwrap.dedent(
        """\
        input: [64, 8, 8]
        blocks:
          residual:
            args: [out, stride, down]
            layers:
              - add:
                  - - {conv: $out, kernel: 3, stride: $stride, padding: 1, name: conv1}
                  - - {conv: $out, kernel: 1, stride: $stride, name: downsample, if: $down}
              - {relu: }
        layers:
          - {residual: [128, 2, true], name: a}
          - {residual: [128, 1, false], name: b}
        """
    )
    a = analyze(loads(text))
    assert [(layer.name, layer.out_shape) for layer in a.layers if layer.params] == [
        ("a.conv1", (128, 4, 4)),
        ("a.downsample", (128, 4, 4)),
        ("b.conv1", (128, 4, 4)),
    ]
    # a: 64·128·9 + 128 and 64·128 + 128; b: 128·128·9 + 128
    assert a.total.params == 64 * 128 * 9 + 128 + 64 * 128 + 128 + 128 * 128 * 9 + 128


def test_a_kind_argument_may_name_a_block_and_stand_alone():
    text = textwrap.dedent(
        """\
        input: [3, 8, 8]
        blocks:
          pair:
            args: [c]
            layers: [{conv: $c, kernel: 1}, {relu: }]
          wrap:
            args: [inner, act]
            layers:
              - {$inner: [4]}
              - $act
        layers:
          - {wrap: [pair, sigmoid], name: w}
        """
    )
    assert [kind for _, kind in _named(text)] == ["conv", "relu", "sigmoid"]


def _one_line_error(cli, yaml_file, text: str) -> str:
    result = cli("shape", yaml_file(text))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_an_unknown_kind_argument_is_one_line_with_a_suggestion(cli, yaml_file):
    line = _one_line_error(cli, yaml_file, _net("{conv_bn_act: {out: 8, act: hardswsh}}"))
    assert "net.yaml:8: blocks.conv_bn_act.layers.2.$act:" in line
    assert "act = 'hardswsh' is not a layer kind or a block" in line
    assert "did you mean 'hardswish'?" in line


def test_a_kind_argument_that_is_a_number_is_refused(cli, yaml_file):
    line = _one_line_error(cli, yaml_file, _net("{conv_bn_act: {out: 8, act: 3}}"))
    assert "act = 3 is not a layer kind or a block" in line


def test_an_if_that_is_not_a_boolean_names_the_argument_and_its_value(cli, yaml_file):
    line = _one_line_error(cli, yaml_file, _net("{conv_bn_act: {out: 8, use_act: 1}}"))
    assert "net.yaml:8: blocks.conv_bn_act.layers.2.if:" in line
    assert "'if:' needs true or false, got use_act = 1" in line


def test_if_and_a_kind_argument_belong_inside_a_block(cli, yaml_file):
    line = _one_line_error(
        cli, yaml_file, "input: [3, 8, 8]\nlayers:\n  - {conv: 4, kernel: 1, if: true}\n"
    )
    assert "net.yaml:3: layers.0.if: 'if:' is used outside a block" in line
    line = _one_line_error(cli, yaml_file, "input: [3, 8, 8]\nlayers:\n  - {$act: }\n")
    assert "net.yaml:3: layers.0.$act: '$act' is used outside a block" in line


def test_an_unknown_flag_is_one_line_with_a_suggestion(cli, yaml_file):
    text = _net("{conv_bn_act: {out: 8}}").replace("if: $use_act}", "if: $use_actt}")
    line = _one_line_error(cli, yaml_file, text)
    assert "unknown argument '$use_actt' in block 'conv_bn_act'" in line
    assert "did you mean '$use_act'?" in line


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    from cnncalc.model.schema import network_schema

    return jsonschema.Draft202012Validator(network_schema())


def test_the_schema_accepts_kind_arguments_and_flags(validator):
    data = yaml.safe_load(_net("{inverted_residual: [16, 3, 16, relu, false, false]}"))
    assert not list(validator.iter_errors(data))


@pytest.mark.parametrize(
    "change",
    [
        ("if: $use_act}", 'if: "maybe"}'),  # neither a boolean nor an argument
        ("if: $use_act}", "if: 1}"),
        ("if: $expand}", "if: [$expand]}"),  # on a block call
    ],
)
def test_the_schema_rejects_what_the_parser_refuses(validator, change):
    text = _net("{conv_bn_act: {out: 8}}")
    data = yaml.safe_load(text.replace(*change))
    assert text.replace(*change) != text
    assert list(validator.iter_errors(data))

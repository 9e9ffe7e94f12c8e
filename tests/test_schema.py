"""``cnncalc schema`` describes each kind exactly (issue 10 §6): every zoo file validates,
and the mistakes the CLI refuses an editor with the schema flags too. The validator is the
``jsonschema`` package, which shares no code with cnncalc's parser."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def validator():
    from typer.testing import CliRunner

    from cnncalc.cli.app import app

    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_zoo_file_validates(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert not errors, jsonschema.exceptions.best_match(errors).message


NET = "input: 3x32x32\nlayers:\n"
WRONG = {
    "an unknown kind": NET + "  - {conv2d: 32}\n",
    "PyTorch's option name": NET + "  - {conv: 16, kernel_size: 3}\n",
    "negative channels": NET + "  - {conv: -16, kernel: 3}\n",
    "stride 0": NET + "  - {conv: 16, kernel: 3, stride: 0}\n",
    "a pool without a kernel": NET + "  - {pool: max}\n",
    "a conv without a kernel": NET + "  - {conv: 16}\n",
    "a pool mode that is a number": NET + "  - {pool: 2}\n",
    "zero units": NET + "  - {flatten: }\n  - {fc: 0}\n",
    "a value for relu": NET + "  - {relu: 3}\n",
    "dropout of 1.5": NET + "  - {dropout: 1.5}\n",
    "negative padding": NET + "  - {conv: 8, kernel: 3, padding: -1}\n",
    "bias that is not a boolean": NET + "  - {conv: 8, kernel: 3, bias: maybe}\n",
    "a kernel that is not a size": NET + "  - {conv: 8, kernel: 3xx3}\n",
    "a join of one branch": NET + "  - {concat: [[]]}\n",
    "a repeat of zero": NET + "  - {repeat: 0, layers: [{relu: }]}\n",
    "an unknown top-level key": NET + "  - {relu: }\nlayer: []\n",
    "no input": "layers:\n  - {relu: }\n",
    "both layers and variants": NET + "  - {relu: }\nvariants: {a: [{relu: }]}\n",
    "a block named like a kind": textwrap.dedent(
        """\
        input: 3x32x32
        blocks:
          conv: {layers: [{relu: }]}
        layers:
          - {relu: }
        """
    ),
    "a misspelt option inside a block": textwrap.dedent(
        """\
        input: 3x32x32
        blocks:
          unit: {args: [c], layers: [{conv: $c, kernal: 3}]}
        layers:
          - {unit: [8]}
        """
    ),
    "a crop with neither a size nor match": NET + "  - {conv: 8, kernel: 3, name: a}\n"
    "  - {crop: }\n",
    "a crop with both a size and match": NET + "  - {conv: 8, kernel: 3, name: a}\n"
    "  - {crop: 4, match: a}\n",
    "a kind's key given two options it lacks in a file with blocks": textwrap.dedent(
        """\
        input: 3x32x32
        blocks:
          unit: {args: [c], layers: [{conv: $c, kernel: 3}]}
        layers:
          - {conv: 16, kernel_size: 3}
        """
    ),
}


@pytest.mark.parametrize("text", WRONG.values(), ids=WRONG.keys())
def test_the_schema_rejects_what_the_cli_rejects(validator, cli, yaml_file, text):
    assert not validator.is_valid(yaml.safe_load(text))
    result = cli("shape", yaml_file(text))
    assert result.exit_code == 2, result.output


RIGHT = {
    "a kernel written per axis": NET + "  - {conv: 8, kernel: 3x5, stride: [1, 2]}\n",
    "a kind named alone": NET + "  - relu\n  - {dropout: }\n  - {batchnorm: }\n",
    "arguments inside a block": textwrap.dedent(
        """\
        input: 3x32x32
        blocks:
          unit:
            args: [c, {k: 3}]
            layers: [{conv: $c, kernel: [$k, 1], padding: 0}, {relu: }]
        layers:
          - {unit: [8], name: first}
          - {unit: {c: 4, k: 1}}
          - repeat: 2
            layers: [{add: [[{conv: 4, kernel: 1}], []]}]
        """
    ),
    "a crop to match a named layer": NET + "  - {conv: 8, kernel: 3, name: a}\n"
    "  - {crop: , match: a, from: input}\n  - {crop: 16}\n",
    "a study": "input: 3x8x8\nvariants:\n  a: [{conv: 4, kernel: 3}]\n  b: {layers: [{conv: 4, "
    "kernel: 1}], vs: a}\n",
}


@pytest.mark.parametrize("text", RIGHT.values(), ids=RIGHT.keys())
def test_the_schema_accepts_what_the_cli_accepts(validator, cli, yaml_file, text):
    errors = list(validator.iter_errors(yaml.safe_load(text)))
    assert not errors, jsonschema.exceptions.best_match(errors).message
    result = cli("shape", yaml_file(text))
    assert result.exit_code == 0, result.output


def test_each_kind_lists_its_options_types_and_required_ones(validator):
    layer = validator.schema["$defs"]["layer_plain"]["anyOf"]
    by_title = {v.get("title"): v for v in layer}
    conv = by_title["conv"]
    assert conv["required"] == ["conv", "kernel"]
    assert conv["additionalProperties"] is False
    assert conv["properties"]["conv"]["minimum"] == 1
    assert conv["properties"]["bias"] == {"default": True, "title": "Bias", "type": "boolean"}
    assert by_title["pool"]["required"] == ["pool", "kernel"]
    assert by_title["pool"]["properties"]["pool"]["enum"] == ["max", "avg"]

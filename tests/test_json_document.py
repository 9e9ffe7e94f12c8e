"""The JSON writer writes the same document as the standard library's indenting encoder
(issue 11: faster and one record a line, the keys and values unchanged)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.analysis.pipeline import analyze_each, load
from cnncalc.render.analysis import json_record
from cnncalc.render.jsonout import json_document

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_any_value_reads_back_as_itself(value):
    assert json.loads(json_document(value)) == value


def test_an_iterator_is_written_as_the_list_of_its_items():
    records = ({"layer": i, "out_shape": [i, 2]} for i in range(3))
    assert json.loads(json_document({"layers": records})) == {
        "layers": [
            {"layer": 0, "out_shape": [0, 2]},
            {"layer": 1, "out_shape": [1, 2]},
            {"layer": 2, "out_shape": [2, 2]},
        ]
    }
    assert json.loads(json_document({"layers": iter([])})) == {"layers": []}


@pytest.mark.parametrize(
    "net,command,options",
    [
        ("lenet5", "summary", []),
        ("lenet5", "flops", ["--convention", "nndl"]),
        ("resnet18", "flops", ["--batch", "3"]),
        ("densenet121", "params", []),
        ("mobilenet-v2", "summary", ["--input", "3x96x96"]),
        ("bottleneck", "summary", []),
    ],
)
def test_cli_json_is_the_document_the_indenting_encoder_writes(cli, net, command, options):
    result = cli(command, net, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    kwargs = {"batch": 1, "convention": "macs", "input": None}
    for flag, value in zip(options[::2], options[1::2]):
        kwargs[flag.lstrip("-")] = int(value) if flag == "--batch" else value
    records = [json_record(a) for a in analyze_each(load(net), **kwargs)]
    expected = records[0] if len(records) == 1 else {"study": load(net).name, "variants": records}
    assert json.loads(result.stdout) == json.loads(json.dumps(expected, indent=2))


def test_a_network_is_one_layer_a_line(cli):
    """Each layer's record on its own line, so grep and diff read a long network well."""
    result = cli("summary", "resnet18", "--format", "json")
    lines = result.stdout.splitlines()
    layer_lines = [line for line in lines if line.startswith('    {"name": ')]
    assert len(layer_lines) == len(json.loads(result.stdout)["layers"])
    # {, five one-line keys, the layers' opening and closing lines, the total, }
    assert len(lines) == len(layer_lines) + 10

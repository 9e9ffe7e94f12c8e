"""Bad input: one line naming file, line and field, exit code 2, never a traceback."""

import time

import pytest

CASES = [
    # (id, yaml text, line, expected fragments)
    (
        "yaml-syntax",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3\n",
        None,
        ["YAML syntax error"],
    ),
    (
        "unknown-kind",
        "input: [1, 8, 8]\nlayers:\n  - {cnov: 4, kernel: 3}\n",
        3,
        ["unknown layer kind 'cnov'", "did you mean 'conv'?", "layers.0"],
    ),
    (
        "two-kinds",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, pool: max, kernel: 3}\n",
        3,
        ["two kinds in one layer: 'conv' and 'pool'"],
    ),
    (
        "kind-not-first",
        "input: [1, 8, 8]\nlayers:\n  - {kernel: 3, conv: 4}\n",
        3,
        ["'conv' must be the first key"],
    ),
    (
        "unknown-option",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernal: 3}\n",
        3,
        ["'conv' has no option 'kernal'", "did you mean 'kernel'?"],
    ),
    ("missing-input", "layers:\n  - {conv: 4, kernel: 3}\n", 1, ["missing 'input:'"]),
    (
        "malformed-input",
        "input: [1, x, 8]\nlayers:\n  - {conv: 4, kernel: 3}\n",
        1,
        ["input", "not a whole number"],
    ),
    (
        "malformed-input-string",
        "input: 3by224\nlayers:\n  - {conv: 4, kernel: 3}\n",
        1,
        ["'3by224' is not a shape"],
    ),
    (
        "zero-input",
        "input: [1, 0, 8]\nlayers:\n  - {conv: 4, kernel: 3}\n",
        1,
        ["size 0 must be at least 1"],
    ),
    (
        "zero-channels",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 0, kernel: 3}\n",
        3,
        ["layers.0.conv", "must be at least 1, got 0"],
    ),
    (
        "negative-kernel",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4,\n     kernel: -3}\n",
        4,
        ["layers.0.kernel", "must be at least 1, got -3"],
    ),
    (
        "fractional-stride",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3, stride: 1.5}\n",
        3,
        ["layers.0.stride", "must be a whole number"],
    ),
    (
        "kernel-too-large",
        "name: tiny\ninput: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3, name: c1}\n"
        "  - {conv: 4,\n     kernel: 7}\n",
        6,
        [
            "layers.1.kernel",
            "kernel 7 is larger than the padded input 6",
            "⌊(6 − 7 + 0 + 1) / 1⌋ = 0",
        ],
    ),
    (
        "groups",
        "input: [6, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3,\n     groups: 4}\n",
        4,
        ["groups 4 must divide both the input channels 6 and the output channels 4"],
    ),
    (
        "table-missing-map",
        "input: [6, 8, 8]\nlayers:\n  - {conv: 2, kernel: 3, table: [[0, 1], [2, 6]]}\n",
        3,
        ["layers.0.table", "names input map 6, but the input has only 6 maps"],
    ),
    (
        "table-rows",
        "input: [6, 8, 8]\nlayers:\n  - {conv: 3, kernel: 3, table: [[0, 1], [2]]}\n",
        3,
        ["has 2 rows but the layer has 3 output maps"],
    ),
    (
        "concat-sizes",
        "input: [6, 8, 8]\nlayers:\n  - concat:\n    - [{conv: 2, kernel: 3}]\n"
        "    - [{conv: 2, kernel: 1}]\n",
        3,
        ["branch 1 gives 2×8×8 but branch 0 gives 2×6×6"],
    ),
    (
        "add-shapes",
        "input: [6, 8, 8]\nlayers:\n  - add:\n    - [{conv: 2, kernel: 3, padding: 1}]\n    - []\n",
        3,
        ["branch 1 gives 6×8×8 but branch 0 gives 2×8×8", "same shape"],
    ),
    (
        "unknown-arg",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c]\n    layers:\n"
        "      - {conv: $cc, kernel: 1}\nlayers:\n  - {b: [4]}\n",
        6,
        ["unknown argument '$cc' in block 'b'", "did you mean '$c'?"],
    ),
    (
        "missing-arg",
        "input: [6, 8, 8]\nblocks:\n  b:\n    args: [c, k]\n    layers:\n"
        "      - {conv: $c, kernel: $k}\nlayers:\n  - {b: [4]}\n",
        8,
        ["block 'b' needs argument 'k'"],
    ),
    (
        "arg-outside-block",
        "input: [6, 8, 8]\nlayers:\n  - {conv: $c, kernel: 1}\n",
        3,
        ["'$c' is used outside a block"],
    ),
    (
        "block-uses-itself",
        "input: [6, 8, 8]\nblocks:\n  b:\n    layers:\n      - {c: }\n  c:\n"
        "    layers:\n      - {b: }\nlayers:\n  - {b: }\n",
        None,
        ["block 'b' uses itself (b → c → b)"],
    ),
    (
        "huge-number",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4000000000, kernel: 3}\n",
        3,
        ["must be at most 1,000,000"],
    ),
    (
        "huge-input",
        "input: [1, 8, 80000000]\nlayers:\n  - {conv: 4, kernel: 3}\n",
        1,
        ["larger than the limit 1,000,000"],
    ),
    (
        "huge-repeat",
        "input: [1, 8, 8]\nlayers:\n  - repeat: 100000000\n    layers: [{relu: }]\n",
        3,
        ["must be between 1 and 10,000"],
    ),
    (
        "nested-repeats",
        "input: [1, 8, 8]\nlayers:\n  - repeat: 5000\n    layers:\n"
        "      - repeat: 5000\n        layers: [{relu: }]\n",
        None,
        ["expands to more than 100,000 layers"],
    ),
    (
        "duplicate-name",
        "input: [1, 8, 8]\nlayers:\n  - {relu: , name: a}\n  - {relu: , name: a}\n",
        4,
        ["layer name 'a' is used twice (first at line 3)"],
    ),
    (
        "duplicate-key",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 3, kernel: 5}\n",
        3,
        ["key 'kernel' appears twice"],
    ),
    (
        "unknown-top-key",
        "input: [1, 8, 8]\nlayer:\n  - {relu: }\n",
        2,
        ["unknown top-level key 'layer'", "did you mean 'layers'?"],
    ),
    (
        "conv-after-flatten",
        "input: [1, 8, 8]\nlayers:\n  - {flatten: }\n  - {conv: 2, kernel: 3}\n",
        4,
        ["conv needs a 1-D, 2-D or 3-D feature map"],
    ),
    (
        "kernel-axes",
        "input: [1, 8, 8]\nlayers:\n  - {conv: 2, kernel: [3, 3, 3]}\n",
        3,
        ["has 3 values but the input has 2 spatial axes"],
    ),
    ("not-a-mapping", "- {conv: 4}\n", 1, ["a network file is a mapping"]),
    ("relu-with-value", "input: [1, 8, 8]\nlayers:\n  - {relu: 3}\n", 3, ["'relu' takes no value"]),
    (
        "bad-literal",
        "input: [1, 8, 8]\nlayers:\n  - {pool: mx, kernel: 2}\n",
        3,
        ["must be 'max' or 'avg', got 'mx'"],
    ),
]


@pytest.mark.parametrize("text,line,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line_and_exit_2(cli, yaml_file, text, line, fragments):
    path = yaml_file(text)
    result = cli("shape", path)
    assert result.exit_code == 2, result.output
    out = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(out.splitlines()) == 1, out
    assert out.startswith("error: ")
    assert str(path) in out, out
    if line is not None:
        assert f"{path}:{line}:" in out, out
    for fragment in fragments:
        assert fragment in out, out
    assert result.stdout == ""


def test_missing_file(cli, tmp_path):
    result = cli("shape", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.stderr


def test_empty_file(cli, yaml_file):
    path = yaml_file("")
    result = cli("params", path)
    assert result.exit_code == 2
    assert "file is empty" in result.stderr


def test_unknown_builtin_suggests_the_nearest(cli):
    result = cli("params", "resnet5")
    assert result.exit_code == 2
    assert "'resnet5' is neither a file nor a built-in network" in result.stderr
    assert "did you mean" in result.stderr


def test_bad_input_option(cli):
    result = cli("shape", "lenet5", "--input", "1x3x3")
    # a valid shape, but too small for C1's 5x5 kernel: --input is blamed and the layer
    # named, not a line of a built-in file the user never wrote (issue 10 §5)
    assert result.exit_code == 2
    assert "--input: 1x3x3 is read as C=1, H=3, W=3" in result.stderr
    assert "layer 'C1'" in result.stderr and "lenet5.yaml" not in result.stderr
    result = cli("shape", "lenet5", "--input", "axb")
    assert result.exit_code == 2 and "--input: 'axb' is not a shape" in result.stderr


def test_bad_batch(cli):
    result = cli("flops", "lenet5", "--batch", "0")
    assert result.exit_code == 2 and "batch must be a whole number from 1" in result.stderr


def test_billion_laughs_is_refused_quickly(cli, yaml_file):
    text = 'input: [1, 8, 8]\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for i in range(1, 10):
        name = chr(97 + i)
        text += f"{name}: &{name} [" + ",".join(["*" + prev] * 9) + "]\n"
        prev = name
    text += "layers:\n  - {relu: }\n"
    started = time.perf_counter()
    result = cli("shape", yaml_file(text))
    assert result.exit_code == 2
    assert "more than 200,000 values once its aliases are expanded" in result.stderr
    # 9^10 values if expanded; refusing must not walk them (a generous bound, not a benchmark)
    assert time.perf_counter() - started < 10


def test_oversized_file_is_refused(cli, yaml_file):
    path = yaml_file("input: [1, 8, 8]\nlayers:\n" + "  - {relu: }\n" * 200_000)
    result = cli("shape", path)
    assert result.exit_code == 2
    assert "larger than 2,000,000 bytes" in result.stderr


def test_error_inside_a_block_names_the_block_line(cli, yaml_file):
    path = yaml_file("""
        input: [3, 8, 8]
        blocks:
          b:
            args: [k]
            layers:
              - {conv: 4, kernel: $k}
        layers:
          - {b: [11], name: first}
        """)
    result = cli("shape", path)
    assert result.exit_code == 2
    assert f"{path}:6:" in result.stderr
    assert "layer 'first.conv' (conv)" in result.stderr
    assert "kernel 11 is larger" in result.stderr

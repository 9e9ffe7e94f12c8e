"""The surface a person touches (issue 10 §4–§7): every failure is one ``error:`` line with
exit 2, never a traceback or a box; messages blame what the user wrote and say it the
way they wrote it. Each test runs the real command: in a subprocess where the terminal,
the locale or the standard output matter, through typer's runner elsewhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """``python -m cnncalc ARGS`` as a user's shell runs it (this checkout's code)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cnncalc", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
    )


def one_error_line(stderr: str) -> str:
    """The whole of standard error: one line starting ``error:``, no traceback, no box."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr and "╭" not in stderr
    return lines[0]


# ------------------------------------------------------------------ §5 errors that escaped


def test_export_into_a_missing_folder_is_one_line_naming_the_folder(tmp_path):
    target = tmp_path / "missing" / "dir" / "x.py"
    result = run("export", "lenet5", "-o", target)
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert "--output" in line and f"'{target.parent}'" in line and "does not exist" in line
    assert not target.exists()


def test_export_onto_an_existing_folder_is_one_line(tmp_path):
    result = run("export", "lenet5", "-o", tmp_path)
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert f"'{tmp_path}' is a folder" in line


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_full_disk_is_one_line(fmt):
    with open("/dev/full", "w") as full:
        result = run("shape", "lenet5", "--format", fmt, stdout=full)
    assert result.returncode == 2
    assert "No space left on device" in one_error_line(result.stderr)


def test_an_ascii_only_terminal_is_one_line_saying_what_to_set():
    result = run("shape", "lenet5", "--explain", env={"LC_ALL": "C", "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert "encoding (ascii)" in line and "PYTHONIOENCODING=utf-8" in line


def test_a_closed_pipe_ends_quietly():
    """``cnncalc … | head -1``: the reader goes away; no traceback, the shell's SIGPIPE exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", "shape", "resnet152", "--explain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert proc.returncode in (0, 141), stderr
    assert stderr == ""


def test_an_input_that_does_not_fit_a_built_in_network_blames_input():
    """resnet50 --input 224x224: read as C=224, L=224; not 'resnet50.yaml:72'."""
    result = run("shape", "resnet50", "--input", "224x224")
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert line.startswith("error: --input: 224x224 is read as C=224, L=224")
    assert "written for 3x224x224 (C=3, H=224, W=224)" in line
    assert "resnet50.yaml" not in line


def test_an_input_with_other_channels_says_what_the_first_layer_takes(cli, yaml_file):
    path = yaml_file(
        "input: 3x32x32\nlayers:\n  - {conv: 8, kernel: 3}\n  - {add: [[], [{conv: 8, kernel: 1}]]}\n"
    )
    result = cli("shape", path, "--input", "4x32x32")
    assert result.exit_code == 0, result.output  # a conv takes any number of channels
    result = cli("shape", path, "--input", "3x2x2")
    assert result.exit_code == 2
    assert "--input: 3x2x2 is read as C=3, H=2, W=2" in result.stderr
    assert "minsize" in result.stderr


def test_a_kernel_written_like_a_shape_is_read_per_axis(cli, yaml_file):
    """kernel: 3x5 is [3, 5]: ⌊(32 − 3)/1⌋ + 1 = 30 rows, ⌊(32 − 5)/2⌋ + 1 = 14 columns."""
    path = yaml_file("input: 3x32x32\nlayers:\n  - {conv: 8, kernel: 3x5, stride: 1x2}\n")
    result = cli("shape", path, "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    layer = json.loads(result.stdout)["layers"][0]
    assert layer["out_shape"] == [8, (32 - 3) // 1 + 1, (32 - 5) // 2 + 1]
    assert layer["params"] == 8 * 3 * 3 * 5 + 8


def test_pool_with_a_number_shows_the_right_form(cli, yaml_file):
    result = cli("shape", yaml_file("input: 3x32x32\nlayers:\n  - {pool: 2}\n"))
    assert result.exit_code == 2
    assert "{pool: max, kernel: 2}" in result.stderr


def test_a_tab_in_the_indentation_is_called_a_tab(cli, yaml_file):
    result = cli("shape", yaml_file("input: 3x32x32\nlayers:\n\t- {relu: }\n"))
    assert result.exit_code == 2
    assert "net.yaml:3:" in result.stderr and "a tab indents this line" in result.stderr


def test_did_you_mean_only_when_it_is_a_slip():
    from cnncalc.model.spec import closest

    assert closest("kernal", ["kernel", "stride"]) == "kernel"
    assert closest("conv2d", ["conv", "deconv"]) == "conv"
    assert closest("Conv", ["conv"]) == "conv"
    assert closest("gelu", ["relu", "relu6"]) is None
    assert closest("upsample", ["subsample", "pool"]) is None


def test_an_unknown_network_gets_no_far_fetched_suggestion():
    result = run("shape", "yolov5")
    assert result.returncode == 2
    assert "did you mean" not in one_error_line(result.stderr)
    result = run("shape", "lenet6")
    assert "did you mean 'lenet" in one_error_line(result.stderr)


def test_an_unknown_kind_points_to_cnncalc_kinds(cli, yaml_file):
    result = cli("shape", yaml_file("input: 3x32x32\nlayers:\n  - {transformer: 4}\n"))
    assert result.exit_code == 2
    assert "unknown layer kind 'transformer'" in result.stderr
    assert "'cnncalc kinds' lists them" in result.stderr


def test_ceil_mode_errors_show_the_ceiling(cli, yaml_file):
    """A ceil-mode pool too big for its input: ⌈(2 − 7 + 0 + 1)/1⌉ = −4, written with ⌈⌉."""
    text = "input: 3x2x2\nlayers:\n  - {pool: max, kernel: 7, stride: 1, ceil_mode: %s}\n"
    result = cli("shape", yaml_file(text % "true"))
    assert result.exit_code == 2
    assert f"⌈(2 − 7 + 0 + 1) / 1⌉ = {-(-(2 - 7 + 1) // 1)}" in result.stderr
    result = cli("shape", yaml_file(text % "false"))
    assert f"⌊(2 − 7 + 0 + 1) / 1⌋ = {(2 - 7 + 1) // 1}" in result.stderr


def test_a_clash_with_an_automatic_name_says_it_was_automatic(cli, yaml_file):
    """Two unnamed convs are conv1 and conv2 automatically (numbered among the unnamed
    layers), so a third named conv1 clashes with line 3's."""
    path = yaml_file(
        "input: 3x32x32\nlayers:\n  - {conv: 8, kernel: 3}\n  - {conv: 8, kernel: 3}\n"
        "  - {conv: 8, kernel: 3, name: conv1}\n"
    )
    result = cli("shape", path)
    assert result.exit_code == 2
    assert "'conv1' is used twice (first at line 3, where it is the automatic name" in (
        result.stderr
    )
    both_named = yaml_file(
        "input: 3x32x32\nlayers:\n  - {conv: 8, kernel: 3, name: a}\n  - {conv: 8, kernel: 3, name: a}\n"
    )
    result = cli("shape", both_named)
    assert result.exit_code == 2
    assert "(first at line 3)" in result.stderr and "automatic name" not in result.stderr


# ------------------------------------------------------------------ §5 automatic names


def layer_names(cli, path) -> list[str]:
    import json

    result = cli("shape", path, "-f", "json")
    assert result.exit_code == 0, result.output
    return [layer["name"] for layer in json.loads(result.stdout)["layers"]]


BASIC_BLOCK = """
input: 8x16x16
blocks:
  basic:
    layers:
      - add:
          - - {conv: 8, kernel: 3, padding: 1, name: conv1}
            - {relu: }
            - {conv: 8, kernel: 3, padding: 1, name: conv2}
          - name: downsample
            layers: [{conv: 8, kernel: 1, name: "0"}]
      - {relu: }
layers:
  - {basic: , name: layer1.0}
"""


def test_unnamed_layers_sit_beside_their_named_neighbours(cli, yaml_file):
    """The rule (model/graph.py): the unnamed add and its unnamed first branch hold given
    names, so they add no segment; the two ReLUs share the path layer1.0 and are numbered
    in forward order. Never layer1.0.add.0.relu beside layer1.0.conv1."""
    assert layer_names(cli, yaml_file(BASIC_BLOCK)) == [
        "layer1.0.conv1",
        "layer1.0.relu1",
        "layer1.0.conv2",
        "layer1.0.downsample.0",
        "layer1.0.add",
        "layer1.0.relu2",
    ]


def test_a_named_branch_names_its_unnamed_layers_too(cli, yaml_file):
    """block1.main.conv1 and block1.main.relu, never block1.add.main.relu."""
    path = yaml_file(
        """
        input: 3x8x8
        blocks:
          residual:
            layers:
              - add:
                  - name: main
                    layers: [{conv: 3, kernel: 3, padding: 1, name: conv1}, {relu: }]
                  - []
        layers:
          - {residual: , name: block1}
        """
    )
    assert layer_names(cli, path) == ["block1.main.conv1", "block1.main.relu", "block1.add"]


def test_a_structure_without_names_inside_gives_its_own_segment(cli, yaml_file):
    """DESIGN's examples: inception 3a's unnamed concat and branches give 'concat' and the
    branch index (3a.concat.1.conv2: the second conv of branch 1); an unnamed repeat's
    blocks under a named one give stage2.block1.conv1."""
    path = yaml_file(
        """
        input: 3x28x28
        blocks:
          inception:
            args: [c1, c3r, c3]
            layers:
              - concat:
                  - [{conv: $c1, kernel: 1}]
                  - [{conv: $c3r, kernel: 1}, {conv: $c3, kernel: 3, padding: 1}]
        layers:
          - {inception: [4, 2, 4], name: 3a}
          - repeat: 2
            name: stage2
            layers:
              - {conv: 8, kernel: 3, padding: 1}
              - {relu: }
              - {conv: 8, kernel: 3, padding: 1}
        """
    )
    assert layer_names(cli, path) == [
        "3a.concat.0.conv",
        "3a.concat.1.conv1",
        "3a.concat.1.conv2",
        "3a.concat",
        "stage2.block1.conv1",
        "stage2.block1.relu",
        "stage2.block1.conv2",
        "stage2.block2.conv1",
        "stage2.block2.relu",
        "stage2.block2.conv2",
    ]


def test_a_clash_with_an_automatic_name_beside_named_layers_says_which_line(cli, yaml_file):
    """The ReLU of line 7 is b.relu automatically (its add holds the name c): naming the
    last layer relu clashes with it, and the error says line 7's name was automatic."""
    path = yaml_file(
        """
        input: 3x8x8
        blocks:
          res:
            layers:
              - add:
                  - [{conv: 3, kernel: 3, padding: 1, name: c}, {relu: }]
                  - []
              - {relu: , name: relu}
        layers:
          - {res: , name: b}
        """
    )
    result = cli("shape", path)
    assert result.exit_code == 2
    assert (
        "layer name 'b.relu' is used twice (first at line 6, where it is the automatic name"
        in result.stderr
    )


# ------------------------------------------------------------------ §4 usage errors


@pytest.mark.parametrize(
    "args,message",
    [
        (("shape", "lenet5", "--bogus"), "no such option: --bogus"),
        (("shape",), "missing argument 'net'"),
        (("shape", "lenet5", "--format", "xml"), "'xml' is not one of"),
        (("nocommand",), "no such command 'nocommand'"),
    ],
)
def test_usage_errors_are_one_error_line_with_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert message in line and "--help" in line


def test_an_input_that_does_not_fit_the_users_file_also_names_its_line(cli, yaml_file):
    path = yaml_file("input: 3x32x32\nlayers:\n  - {conv: 8, kernel: 5}\n")
    result = cli("shape", path, "--input", "3x4x4")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --input: 3x4x4 is read as C=3, H=4, W=4")
    assert f"({path}:3, layers.0.kernel)" in result.stderr


def test_an_input_that_resizes_an_fc_says_so_under_the_table(cli):
    """d2l's LeNet at 1×56×56: conv1 (k5, p2) keeps 56, pool 28, conv2 (k5) 24, pool 12, so
    fc1 takes 16·12·12 = 2,304 inputs instead of 16·5·5 = 400 at the file's 1×28×28."""
    here, there = 16 * 12 * 12, 16 * 5 * 5
    result = cli("params", "lenet", "--input", "1x56x56")
    assert result.exit_code == 0, result.output
    assert (
        f"fc1 takes {here:,} inputs at this size, {there:,} at the file's 1×28×28: "
        f"{here * 120 + 120:,} parameters instead of {there * 120 + 120:,}."
    ) in result.stdout
    import json

    record = json.loads(cli("params", "lenet", "--input", "1x56x56", "-f", "json").stdout)
    assert record["file_input"] == [1, 28, 28]
    assert record["resized"] == [
        {
            "name": "fc1",
            "in_shape": [here],
            "file_in_shape": [there],
            "params": here * 120 + 120,
            "file_params": there * 120 + 120,
        }
    ]
    assert "resized" not in json.loads(cli("params", "lenet", "-f", "json").stdout)
    assert "at the file's" not in cli("params", "lenet").stdout


def test_a_sweep_that_resizes_an_fc_says_so(cli):
    result = cli("sweep", "lenet", "--input", "1x28x28,1x56x56")
    assert result.exit_code == 0, result.output
    assert (
        f"fc1 takes {400:,} inputs at the file's 1×28×28 ({400 * 120 + 120:,} parameters), "
        f"{2304:,} at 1×56×56 ({2304 * 120 + 120:,} parameters)."
    ) in " ".join(result.stdout.split())


# ------------------------------------------------------------------ §4 one CLI


def commands():
    import typer

    from cnncalc.cli.app import app

    return typer.main.get_command(app).commands


def help_text(command: str, columns: int = 200) -> str:
    """``cnncalc COMMAND --help`` on a terminal ``columns`` wide, which piped help reads from
    COLUMNS (typer's runner would pin click's plain help to 80 columns)."""
    import contextlib
    import io
    from unittest import mock

    import typer

    from cnncalc.cli.app import app

    out = io.StringIO()
    with mock.patch.dict(os.environ, {"COLUMNS": str(columns)}), contextlib.redirect_stdout(out):
        code = typer.main.get_command(app).main(
            [command, "--help"], prog_name="cnncalc", standalone_mode=False
        )
    assert code == 0, out.getvalue()
    return out.getvalue()


SHORT_FLAGS = {
    "-i": "--input",
    "-b": "--batch",
    "-f": "--format",
    "-c": "--convention",
    "-o": "--output",
    "-h": "--help",
}
"""The short flags issue 10 fixes: one meaning in every command."""


def test_each_short_flag_means_one_long_option_in_every_command():
    """Walk every command's click parameters: a short flag stands for one long name across
    all commands (-o was the optimizer in memory and sweep and the output in export)."""
    import typer

    from cnncalc.cli.app import app

    group = typer.main.get_command(app)
    meanings: dict[str, set[str]] = {}
    for name, cmd in commands().items():
        with group.make_context("cnncalc", [name], resilient_parsing=True) as parent:
            params = cmd.get_params(cmd.make_context(name, [], parent, resilient_parsing=True))
        for p in (p for p in params if p.param_type_name == "option"):
            names = p.opts + p.secondary_opts
            long = next(o for o in names if o.startswith("--"))
            for short in (o for o in names if not o.startswith("--")):
                meanings.setdefault(short, set()).add(long)
    assert {short: longs for short, longs in meanings.items() if len(longs) > 1} == {}
    for short, long in SHORT_FLAGS.items():
        assert meanings[short] == {long}


OUTPUT_RUNS = [
    ("shape", "lenet5"),
    ("params", "lenet5", "-f", "csv"),
    ("flops", "lenet5", "-f", "json"),
    ("flops", "--compare", "bottleneck"),
    ("summary", "lenet5", "--by", "kind"),
    ("conv", "-i", "8x8", "-k", "3"),
    ("memory", "lenet5", "--optimizer", "adam"),
    ("sweep", "lenet5", "-i", "1x32x32,1x64x64"),
    ("minsize", "lenet5"),
    ("export", "lenet5"),
    ("graph", "lenet5", "-f", "mermaid"),
    ("answers", "d2l-channels"),
    ("zoo",),
    ("kinds",),
    ("schema",),
]


def test_every_command_takes_dash_o_for_its_output():
    """Every command writes an output, so every command takes -o/--output; each is run
    with it below (verify in its own test, import in tests/test_import_onnx.py: it needs
    an ONNX file)."""
    for name, cmd in commands().items():
        assert any(p.opts == ["--output", "-o"] for p in cmd.params), name
    assert set(commands()) - {run[0] for run in OUTPUT_RUNS} == {"verify", "import"}


@pytest.mark.parametrize("args", OUTPUT_RUNS, ids=" ".join)
def test_dash_o_writes_what_standard_output_would_show(cli, tmp_path, args):
    """-o FILE writes exactly what a pipe gets, names the file on standard error and
    prints nothing else."""
    piped = cli(*args)
    assert piped.exit_code == 0, piped.output
    target = tmp_path / "out.txt"
    written = cli(*args, "-o", target)
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert written.stderr.strip() == f"wrote {target}"
    expected = piped.stdout
    if args[0] == "export":  # the module's docstring says how to run it: by its file's name
        expected = expected.replace("python model.py", f"python {target.name}")
    assert target.read_text(encoding="utf-8") == expected


def test_verify_writes_its_table_with_dash_o(cli, tmp_path):
    target = tmp_path / "verify.json"
    result = cli("verify", "lenet5", "-f", "json", "-o", target)
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(target.read_text(encoding="utf-8"))["ok"] is True


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_dash_o_onto_a_full_disk_is_one_line_and_leaves_the_device():
    result = run("shape", "lenet5", "-o", "/dev/full")
    assert result.returncode == 2
    assert "--output: cannot write '/dev/full': No space left on device" in one_error_line(
        result.stderr
    )
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


def test_dash_o_leaves_no_half_file_when_the_network_fails(cli, yaml_file, tmp_path):
    """The second conv's kernel 9 does not fit the first's 6×6 output (8 − 3 + 1 = 6)."""
    path = yaml_file("input: 3x8x8\nlayers:\n  - {conv: 4, kernel: 3}\n  - {conv: 4, kernel: 9}\n")
    target = tmp_path / "out.json"
    result = cli("shape", path, "-f", "json", "-o", target)
    assert result.exit_code == 2
    assert "kernel 9 is larger than the padded input 6" in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("command", ["memory", "sweep"])
def test_dash_o_with_an_optimizer_name_says_the_optimizer_moved(command, tmp_path):
    """-o was memory's and sweep's optimizer: '-o adam' must not quietly write a file adam."""
    args = (command, "lenet5") + (("-i", "1x32x32") if command == "sweep" else ())
    result = run(*args, "-o", "adam")
    assert result.returncode == 2
    assert "--optimizer adam" in one_error_line(result.stderr)
    assert not (ROOT / "adam").exists()


def test_every_option_says_its_default():
    """typer prints [default: X] for an option with a default; an option without one
    (None: the file's input, no plot, standard output) says so in its help. Flags are off
    unless given; required options have no default to say."""
    missing = []
    for name, cmd in commands().items():
        for p in cmd.params:
            if p.param_type_name != "option" or p.required or p.is_flag:
                continue
            shown = p.default is not None and p.show_default is not False
            if not shown and "default" not in (p.help or "").lower():
                missing.append(f"{name} {p.opts[0]}")
    assert not missing


@pytest.mark.parametrize(
    "command",
    sorted(
        [
            "--root--",
            *(
                "shape params flops summary conv memory sweep minsize verify export import graph "
                "answers zoo kinds schema"
            ).split(),
        ]
    ),
)
def test_every_help_shows_flags_as_flags_and_keeps_its_brackets(command):
    """Each command's --help as a person sees it in a 100-column terminal (rich's panels:
    TTY_COMPATIBLE=1 declares one): a flag (one that takes no value: --explain, --exact,
    --ceil-mode, --help, --version…) shows no type after it, no option shows a bare TEXT
    or BOOLEAN, and an extra keeps its brackets (pip install 'cnncalc[plot]': rich markup
    would eat them)."""
    args = ["--help"] if command == "--root--" else [command, "--help"]
    result = run(*args, env={"TTY_COMPATIBLE": "1", "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # the terminal's colours
    assert "Usage:" in text and "╭─ Options" in text
    for word in ("<bool>", "TEXT", "BOOLEAN"):
        assert word not in text, f"{command}: {word}"
    flags = [line for line in text.splitlines() if re.match(r"│ {1,4}(\*  )?--[a-z-]+ ", line)]
    checked = []
    for line in flags:
        name = re.search(r"--[a-z-]+", line).group()
        if name in ("--help", "--version", "--explain", "--exact", "--ceil-mode", "--training"):
            assert re.search(rf"{name}( +-[a-zA-Z])? {{2,}}[A-Z]", line), line
            checked.append(name)
    assert "--help" in checked
    flat = " ".join(text.split())
    assert "'cnncalc)" not in flat and "'cnncalc')" not in flat
    if "pip install" in flat:
        assert re.search(r"pip install ('cnncalc\[[a-z]+\]'|\S+)", flat)


def complete(words: str) -> list[str]:
    """What the shell gets when it asks cnncalc (as the console script ``cnncalc``) to
    complete the last word of ``words`` (zsh's protocol, through typer's completion)."""
    from typer.testing import CliRunner

    from cnncalc.cli.app import app

    env = {"_CNNCALC_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": words}
    result = CliRunner().invoke(app, [], prog_name="cnncalc", env=env)
    return re.findall(r'"([^"]+)"', result.output) or result.output.split()


def test_shell_completion_completes_zoo_names():
    assert set(complete("cnncalc shape resnet")) == {
        "resnet-bottleneck",
        "resnet-preact",
        "resnet-stride-placement",
        "resnet101",
        "resnet152",
        "resnet18",
        "resnet34",
        "resnet50",
    }
    assert set(complete("cnncalc flops --compare bottl")) == {"bottleneck"}
    # a path: no names, so zsh completes file names (typer answers _files)
    assert complete("cnncalc memory examples/le") == ["_files"]


def test_shell_completion_can_be_installed():
    # typer asks shellingham, which reads the nearest shell among the parent processes, not
    # $SHELL: run under bash, so a test runner started from sh finds bash too (the `exit`
    # keeps bash from replacing itself with the command, as `bash -c CMD` alone does).
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m cnncalc --show-completion; exit $?"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SHELL": "/bin/bash"},
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "complete -o default -F" in result.stdout  # files still complete where no name does
    assert "--install-completion" in run("--help").stdout


def test_bare_cnncalc_shows_the_help_and_no_empty_error():
    result = run()
    assert "Usage:" in result.stdout and "Commands" in result.stdout
    assert "error" not in result.stderr


def test_flags_are_shown_as_flags_and_by_says_its_value():
    text = help_text("summary")
    explain = next(line for line in text.splitlines() if "--explain" in line)
    assert "<bool>" not in explain
    by = next(line for line in text.splitlines() if "--by" in line)
    assert "--by kind" in by


@pytest.mark.parametrize("command", ["flops", "params", "summary", "memory", "sweep"])
def test_the_plot_extra_is_shown_with_its_brackets(command):
    text = help_text(command)
    assert "'cnncalc[plot]'" in text and "'cnncalc')" not in text
    assert ".pdf" in text
    if command == "sweep":
        assert "as curves against the input size" in text


def test_help_paragraphs_have_no_stray_line_breaks():
    """At 200 columns, every paragraph of a command's description shorter than the width
    is one line: the docstring's own line breaks are not kept."""
    for name, cmd in commands().items():
        lines = [" ".join(line.split()) for line in help_text(name).splitlines()]
        for paragraph in (cmd.help or "").split("\n\n"):
            words = " ".join(paragraph.split())
            if words and len(words) < 180:
                assert words in lines, f"{name}: {words!r} is broken across lines"


def test_summary_takes_by_training_and_plot_like_flops(cli, tmp_path):
    """LeNet-5 by kind: three convs (C1 156, C3 1,516, C5 48,120 params: LeCun et al. 1998)."""
    result = cli("summary", "lenet5", "--by", "kind", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    kinds = {k["kind"]: k for k in json.loads(result.stdout)["kinds"]}
    assert kinds["conv"]["layers"] == 3
    assert kinds["conv"]["params"] == 156 + 1516 + 48120
    result = cli("summary", "lenet5", "--training")
    assert result.exit_code == 0, result.output
    assert "Backward" in result.stdout
    target = tmp_path / "lenet5.png"
    result = cli("summary", "lenet5", "--plot", target)
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    assert f"wrote {target}" in result.stderr


def test_kinds_lists_every_kind_with_its_options_defaults_and_rule(cli):
    from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS

    result = cli("kinds", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    listed = {k["kind"]: k for k in json.loads(result.stdout)}
    assert set(listed) == set(LAYER_KINDS) | set(JOIN_KINDS)
    assert all(k["formula"] for k in listed.values())
    conv = {o["name"]: o for o in listed["conv"]["options"]}
    assert conv["conv"]["required"] and conv["kernel"]["required"]
    assert conv["stride"]["default"] == "1" and conv["padding"]["default"] == "0"
    assert conv["bias"]["default"] == "true"
    pool = {o["name"]: o for o in listed["pool"]["options"]}
    assert pool["pool"]["type"] == "max|avg" and pool["ceil_mode"]["default"] == "false"
    # relu's one option says how PyTorch applies it: a module, or torchvision's F.relu
    [call] = listed["relu"]["options"]
    assert (call["name"], call["type"], call["default"]) == ("call", "module|function", "module")
    table = cli("kinds").stdout
    assert "⌊(n − k + p + s)/s⌋" in table and "kernel" in table


# ------------------------------------------------------------------ §7 the rest


def test_receptive_field_working_in_explain(cli):
    """d2l's LeNet: conv 5 (r 5), pool 2/2 (r 5 + 1·1 = 6, j 2), conv 5 (r 6 + 4·2 = 14),
    pool 2/2 (r 14 + 1·2 = 16, j 4); flatten only reorders (16); fc1 sees the whole 5×5
    map: r = 16 + (5 − 1)·4 = 32."""
    result = cli("shape", "lenet", "--explain")
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "conv2 RF = r_prev + (k − 1)·j_prev = 6 + (5 − 1)·2 = 14" in lines
    assert "pool2 jump = j_prev·s = 2·2 = 4" in lines
    assert any(
        line.startswith("flatten RF = r_prev = 16×16 (flatten only reorders") for line in lines
    )
    assert any(
        line.startswith(f"fc1 RF = r_prev + (k − 1)·j_prev = 16 + (5 − 1)·4 = {16 + 4 * 4}")
        and "sees its whole input" in line
        for line in lines
    )
    import json

    layers = {
        l["name"]: l for l in json.loads(cli("shape", "lenet", "-f", "json").stdout)["layers"]
    }
    assert layers["flatten"]["rf"] == layers["pool2"]["rf"] == [16, 16]
    assert layers["fc1"]["rf"] == [32, 32]


def test_study_ratio_columns_say_which_way_they_divide(cli):
    """vgg-stack: 2x3x3 has vs: 5x5; one 5x5 has 25·C² weights, two 3x3 have 18·C², so the
    column '5x5 ÷ 2x3x3' reads 25/18 = 1.39×: 5x5 needs 1.39 times as much."""
    result = cli("flops", "--compare", "vgg-stack", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "5x5 ÷ 2x3x3 (5x5 needs N× 2x3x3)" in result.stdout
    assert f"{25 / 18:.2f}×" in result.stdout
    import json

    ratios = {
        r["name"]: r
        for r in json.loads(cli("flops", "--compare", "vgg-stack", "-f", "json").stdout)["ratios"]
    }
    assert ratios["2x3x3"]["ratio"] == "5x5 ÷ 2x3x3" and ratios["2x3x3"]["params"] == "25/18"
    # 7x7 names no vs:, so it is measured against the first variant, 5x5: 25·C² ÷ 49·C²
    assert ratios["7x7"]["vs"] == "5x5" and ratios["7x7"]["params"] == "25/49"
    # activations are divided too: 5x5 (conv, ReLU) outputs two 256×56×56 maps, 2x3x3 four
    assert ratios["2x3x3"]["activations"] == "1/2"


def test_plots_leave_out_zero_rows_use_units_and_name_their_file(cli, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "resnet18.svg"
    result = cli("flops", "resnet18", "--plot", target)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote {target}"
    svg = target.read_text(encoding="utf-8")
    assert ">layer1.0.conv1<" in svg and ">fc<" in svg
    # ReLUs, BatchNorms, pools and adds have 0 FLOPs under macs: not drawn
    assert ">relu<" not in svg and ">bn1<" not in svg and ">maxpool<" not in svg
    # the axis reads in M: resnet18's layers are up to a few hundred million FLOPs each
    assert ">50 M<" in svg and ">100 M<" in svg
    pdf = tmp_path / "sweep.pdf"
    result = cli("sweep", "lenet", "--input", "1x28x28,1x56x56", "--plot", pdf)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF") and f"wrote {pdf}" in result.stderr
    result = cli("flops", "resnet18", "--plot", tmp_path / "x.jpg")
    assert result.exit_code == 2 and "not a .png, .svg or .pdf file" in result.stderr


def test_plot_tick_text():
    from cnncalc.render.plot import tick_text

    assert tick_text(50_000_000) == "50 M"
    assert tick_text(2_500_000_000) == "2.5 G"
    assert tick_text(0) == "0"
    assert tick_text(3 * 2**20, "bytes") == "3 MiB"


@pytest.mark.parametrize(
    "args",
    [
        ("params", "lenet5"),
        ("summary", "resnet18"),
        ("memory", "lenet5"),
        ("flops", "lenet5", "--by", "kind"),
        ("flops", "--compare", "bottleneck"),
        ("zoo",),
        ("sweep", "lenet5", "--input", "1x32x32,1x64x64"),
        ("shape", "bottleneck"),
    ],
    ids=lambda a: " ".join(a),
)
def test_csv_writes_shapes_in_ascii_and_marks_its_total(cli, args):
    import csv
    import io

    result = cli(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "×" not in result.stdout
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header = rows[0]
    assert all(len(r) == len(header) for r in rows)
    shape_columns = [i for i, h in enumerate(header) if h in ("out_shape", "input", "output")]
    for row in rows[1:]:
        for i in shape_columns:
            assert row[i] == "" or all(part.isdigit() for part in row[i].split("x")), row
    first = 1 if header[0] == "variant" else 0
    names = [r[first] for r in rows[1:]]
    if args[0] in ("params", "summary", "memory", "flops") and "--compare" not in args:
        assert names[-1] == "total" and "Total" not in names


def test_zoo_csv_has_the_columns_of_its_json(cli):
    import csv
    import io
    import json

    rows = list(csv.DictReader(io.StringIO(cli("zoo", "-f", "csv").stdout)))
    records = json.loads(cli("zoo", "-f", "json").stdout)
    assert set(rows[0]) == set(records[0])
    by_name = {r["name"]: r for r in rows}
    for record in records:
        assert by_name[record["name"]]["variants"].split() == record["variants"]
        assert by_name[record["name"]]["input"] == "x".join(map(str, record["input"]))


def test_d2l_channels_answer_reads_as_sentences(cli):
    """c_i = 3, a 3×3 kernel: per output 3·3·3 = 27 mults and 26 adds; with a 1×1 kernel 3
    and 2, so 27/3 = 9 and 26/2 = 13 times fewer."""
    out = " ".join(cli("answers", "d2l-channels").stdout.split())
    fan, per = 3 * 3 * 3, 3
    assert f"c_i·k_h·k_w / c_i = {fan} / {per} = {fan // per} ({fan // per} times fewer" in out
    assert f"= {fan - 1} / {per - 1} = {(fan - 1) // (per - 1)} (" in out
    assert "→ c_i =" not in out and "for no c_i" not in out
    assert "it is never 1/(k_h·k_w − 1) once the kernel is larger than 1×1" in out


def tour_commands() -> list[list[str]]:
    """The commands of the README's tour, as a shell would split them (comments, a
    redirection and what a pipe feeds left out)."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## A 30-second tour", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        if line.startswith("cnncalc "):
            words = shlex.split(line.split("#", 1)[0].split(">", 1)[0].split("|", 1)[0])
            commands.append(words[1:])
    return commands


def test_the_readme_tour_names_the_extras():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A 30-second tour", 1)[1].split("```sh", 1)
    assert "pip install 'cnncalc[plot]'" in tour[0] and "pip install 'cnncalc[executor]'" in tour[0]
    assert "examples/" not in tour[1].split("```", 1)[0]


@pytest.mark.parametrize("args", tour_commands(), ids=" ".join)
def test_the_readme_tour_runs_from_any_folder(cli, tmp_path, monkeypatch, args):
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    if args[0] == "verify":
        pytest.importorskip("numpy")
    monkeypatch.chdir(tmp_path)
    result = cli(*args)
    assert result.exit_code == 0, result.output

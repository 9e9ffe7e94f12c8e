"""The real commands on real files: formats, options, golden output, totals that add up."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("CNNCALC_REGEN_GOLDEN") == "1"
"""CNNCALC_REGEN_GOLDEN=1 pytest tests/test_cli.py rewrites the golden files; review the diff."""


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with CNNCALC_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(
    "net,command,fmt,golden",
    [
        ("lenet5", "summary", "table", "lenet5-summary.txt"),
        ("lenet5", "summary", "json", "lenet5.json"),
        ("lenet5", "params", "markdown", "lenet5-params.md"),
        ("resnet18", "summary", "table", "resnet18-summary.txt"),
        ("resnet18", "flops", "json", "resnet18.json"),
    ],
)
def test_golden_output(cli, net, command, fmt, golden):
    result = cli(command, net, "--format", fmt)
    assert result.exit_code == 0, result.output
    check_golden(golden, result.stdout)


NUMERIC = ("params", "buffers", "connections", "mults", "adds", "macs", "flops", "activations")


@pytest.mark.parametrize("net", ["lenet5", "resnet18", "googlenet", "densenet121", "mobilenet-v2"])
@pytest.mark.parametrize("convention", ["macs", "exact"])
def test_every_column_adds_up_to_its_total(cli, net, convention):
    result = cli("summary", net, "--format", "json", "--convention", convention, "--batch", "3")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for column in NUMERIC:
        assert sum(layer[column] for layer in report["layers"]) == report["total"][column], column
    for layer in report["layers"]:
        assert all(isinstance(layer[c], int) for c in NUMERIC)


def test_json_contract_fields(cli):
    report = json.loads(cli("flops", "lenet5", "--format", "json").stdout)
    assert report["network"] == "LeNet-5"
    assert report["input"] == [1, 32, 32]
    assert report["batch"] == 1
    assert report["convention"] == "macs"
    c1 = report["layers"][0]
    for field in (
        "name",
        "kind",
        "out_shape",
        "params",
        "buffers",
        "connections",
        "mults",
        "adds",
        "macs",
        "flops",
        "activations",
        "rf",
        "jump",
    ):
        assert field in c1
    assert c1["name"] == "C1" and c1["kind"] == "conv" and c1["out_shape"] == [6, 28, 28]
    assert c1["macs"] == 6 * 28 * 28 * 5 * 5
    assert c1["flops"] == 2 * c1["macs"]
    assert c1["rf"] == [5, 5] and c1["jump"] == [1, 1]
    assert report["total"]["params"] == 60_840 and report["total"]["depth"] == 7


def test_json_never_rounds_at_large_batch(cli):
    report = json.loads(cli("flops", "vgg16", "--format", "json", "--batch", "1000").stdout)
    assert report["total"]["macs"] == 1000 * 15_470_264_320


def test_input_override_changes_the_shapes(cli):
    report = json.loads(cli("shape", "resnet50", "--input", "3x448x448", "--format", "json").stdout)
    by_name = {layer["name"]: layer for layer in report["layers"]}
    assert by_name["layer4.2.conv3"]["out_shape"] == [2048, 448 // 32, 448 // 32]


def test_exact_convention_counts_adds_separately(cli):
    report = json.loads(cli("flops", "lenet5", "--format", "json", "--convention", "exact").stdout)
    c1 = report["layers"][0]
    outputs = 6 * 28 * 28
    assert c1["mults"] == outputs * 25
    assert c1["adds"] == outputs * (25 - 1) + outputs  # reduction plus the bias
    assert report["convention"] == "exact"


def test_csv_has_one_row_per_layer_and_a_total(cli):
    text = cli("params", "lenet5", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT", "total"]
    assert rows[2]["params"] == "1516" and rows[-1]["connections"] == "340908"


def test_markdown_table_names_its_convention(cli):
    text = cli("flops", "lenet5", "--format", "markdown").stdout
    assert "| Layer | Kind |" in text
    assert "Convention: macs" in text


@pytest.mark.parametrize("command", ["shape", "params", "flops", "summary"])
def test_every_table_names_its_convention(cli, command):
    result = cli(command, "lenet5")
    assert result.exit_code == 0
    assert "Convention: macs" in result.stdout
    assert "Convention: exact" in cli(command, "lenet5", "--convention", "exact").stdout


def test_zoo_lists_the_builtin_networks(cli):
    result = cli("zoo", "--format", "json")
    assert result.exit_code == 0
    names = {e["name"] for e in json.loads(result.stdout)}
    assert {"lenet5", "resnet50", "vgg16", "googlenet", "densenet121", "mobilenet-v2"} <= names


def test_schema_is_json_schema_of_the_format(cli):
    schema = json.loads(cli("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    titles = {v.get("title") for v in schema["$defs"]["layer"]["anyOf"]}
    assert {"conv", "pool", "fc", "concat", "add", "repeat"} <= titles
    conv = next(v for v in schema["$defs"]["layer"]["anyOf"] if v.get("title") == "conv")
    assert "kernel" in conv["properties"] and "conv" in conv["required"]


def test_help_lists_the_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("shape", "params", "flops", "summary", "zoo", "schema"):
        assert command in result.stdout


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "params", "lenet5", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"]["params"] == 60_840


def test_python_dash_m_bad_input_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [1, 8, 8]\nlayers:\n  - {conv: 4, kernel: 30}\n")
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "shape", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {bad}:3:")


def test_a_study_prints_every_variant(cli):
    """NNDL 5-4: 256×100×100 → 3×3/256 vs 1×1/64 then 3×3/256 (no bias)."""
    result = cli("flops", "bottleneck", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    totals = {v["network"]: v["total"]["macs"] for v in report["variants"]}
    assert totals == {
        "plain": 100 * 100 * 3 * 3 * 256 * 256,
        "bottleneck": 100 * 100 * (1 * 1 * 256 * 64 + 3 * 3 * 64 * 256),
    }
    table = cli("flops", "bottleneck").stdout
    assert "plain: input 256×100×100" in table and "bottleneck: input 256×100×100" in table


def test_short_help_and_version_flags_work_like_the_long_ones():
    """-h is --help on every command and -V is --version (issue 10 §4)."""
    from typer.testing import CliRunner

    from cnncalc import __version__
    from cnncalc.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["-V"]).output == f"cnncalc {__version__}\n"
    for args in (["-h"], ["shape", "-h"], ["flops", "-h"]):
        short, long = runner.invoke(app, args), runner.invoke(app, args[:-1] + ["--help"])
        assert short.exit_code == 0 and short.output == long.output

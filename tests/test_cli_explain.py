"""``--explain`` on the commands: the working in the terminal, as Markdown/LaTeX, JSON and CSV.

The LeNet-5 working is pinned by golden files (CNNCALC_REGEN_GOLDEN=1 rewrites them, as in
test_cli.py); the numbers in them are checked against the paper in test_explain.py and
test_lenet5.py, and here the lines the issue quotes are looked for literally.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from test_cli import check_golden


@pytest.mark.parametrize(
    "command,fmt,golden",
    [
        ("shape", "table", "lenet5-shape-explain.txt"),
        ("params", "table", "lenet5-params-explain.txt"),
        ("flops", "table", "lenet5-flops-explain.txt"),
        ("params", "markdown", "lenet5-params-explain.md"),
    ],
)
def test_lenet5_working_golden(cli, command, fmt, golden):
    result = cli(command, "lenet5", "--explain", "--format", fmt)
    assert result.exit_code == 0, result.output
    check_golden(golden, result.stdout)


def test_shape_working_prints_the_issues_c1_line(cli):
    out = cli("shape", "lenet5", "--explain").stdout
    assert re.search(
        r"^C1\s+H = ⌊\(n_h − k_h \+ p_h \+ s_h\) / s_h⌋ = ⌊\(32 − 5 \+ 0 \+ 1\) / 1⌋ = 28$",
        out,
        re.M,
    ), out


def test_params_working_prints_the_issues_c3_line(cli):
    out = cli("params", "lenet5", "--explain").stdout
    assert (
        "C3      params = Σ (|inputs|·k_h·k_w + 1) = "
        "6·(3·25+1) + 6·(4·25+1) + 3·(4·25+1) + 1·(6·25+1) = 1516"
    ) in out


def test_markdown_working_is_latex(cli):
    out = cli("shape", "lenet5", "--explain", "--format", "markdown").stdout
    assert (
        r"$H = \lfloor (n_h - k_h + p_h + s_h) / s_h\rfloor = \lfloor (32 - 5 + 0 + 1) / 1\rfloor = 28$"
        in out
    )
    assert "*Convention: macs" in out


def test_json_working_rides_on_the_json_contract(cli):
    data = json.loads(cli("params", "lenet5", "--explain", "--format", "json").stdout)
    assert data["total"]["params"] == 60_840 and data["working"] == "params"
    c3 = data["layers"][2]
    assert c3["name"] == "C3" and c3["params"] == 1516
    assert {"what": "connections", "result": "151600"}.items() <= c3["working"][1].items()


def test_csv_working_one_row_per_line(cli):
    rows = list(
        csv.DictReader(io.StringIO(cli("shape", "lenet5", "--explain", "-f", "csv").stdout))
    )
    assert [(r["name"], r["what"], r["result"]) for r in rows[:2]] == [
        ("C1", "H", "28"),
        ("C1", "W", "28"),
    ]


def test_padding_per_side_is_called_the_total(cli, yaml_file):
    net = yaml_file("input: [1, 8, 8]\nlayers:\n  - {conv: 1, kernel: 3, padding: 1}\n")
    out = cli("shape", net, "--explain").stdout
    assert "⌊(8 − 3 + 2 + 1) / 1⌋ = 8  (p_h = 1 + 1 = 2, the total padding of both sides)" in out


def test_flops_working_under_exact_shows_mults_and_adds(cli):
    out = cli("flops", "lenet5", "--explain", "--convention", "exact").stdout
    assert "C1      mults = c_o·H_o·W_o·c_i·k_h·k_w = 6·28·28·1·5·5 = 117,600" in out
    assert "C1      adds = c_o·H_o·W_o·(c_i·k_h·k_w − 1) = 6·28·28·(1·5·5 − 1) = 112,896" in out
    assert "Convention: exact" in out


def test_study_working_shows_each_variant(cli):
    out = cli("flops", "bottleneck", "--explain", "--convention", "nndl").stdout
    assert "plain: input 256×100×100" in out and "bottleneck: input 256×100×100" in out
    assert "space (nndl) = weights + output maps = 589,824 + 2,560,000 = 3,149,824" in out


def test_summary_explains_everything(cli):
    out = cli("summary", "lenet5", "--explain").stdout
    assert "C1      H = " in out and "C1      params = " in out and "C1      MACs = " in out


def test_batch_working_says_it_is_per_sample(cli):
    out = cli("flops", "lenet5", "--explain", "--batch", "4").stdout
    assert "working is for one sample; the totals are for the batch of 4" in out


def test_explain_bad_input_is_one_line(cli, yaml_file):
    net = yaml_file("input: [1, 8, 8]\nlayers:\n  - {conv: 1, kernel: 9}\n")
    result = cli("shape", net, "--explain")
    assert result.exit_code == 2
    assert "kernel 9 is larger than the padded input 8" in result.output

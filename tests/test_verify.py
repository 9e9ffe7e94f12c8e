"""`cnncalc verify`: prediction beside execution, per layer, with an exit code to match."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnncalc.kinds.ops import Ops
from cnncalc.kinds.pool import Subsample
from cnncalc.proof.executor import ExecutorError
from cnncalc.proof.executor.run import RUNNERS


def test_lenet5_agrees_and_shows_each_layers_counts(cli):
    result = cli("verify", "lenet5")
    assert result.exit_code == 0, result.output
    c1 = next(line for line in result.stdout.splitlines() if " C1 " in line)
    assert c1.count(f"{6 * 28 * 28 * 5 * 5:,}") == 2  # predicted and performed
    assert c1.count(f"{6 * 28 * 28 * (5 * 5 - 1):,}") == 2
    assert c1.count("6×28×28") == 2 and "✓" in c1
    assert "✓ all 7 layers agree" in result.stdout
    assert "fast executor" in result.stdout and "cross-correlation" in result.stdout


def test_json_has_both_sides_of_every_count(cli):
    result = cli(
        "verify",
        "lenet5",
        "--format",
        "json",
        "--batch",
        "2",
        "--impl",
        "naive",
        "--flip",
        "--seed",
        "5",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["impl"], doc["batch"], doc["seed"], doc["mode"]) == (
        True,
        "naive",
        2,
        5,
        "convolution",
    )
    assert doc["first_disagreement"] is None
    c3 = doc["layers"][2]
    assert c3["name"] == "C3" and c3["out_shape"] == {
        "predicted": [16, 10, 10],
        "executed": [16, 10, 10],
    }
    mults = 2 * 10 * 10 * 5 * 5 * (6 * 3 + 6 * 4 + 3 * 4 + 1 * 6)
    assert c3["ops"]["mults"] == {"predicted": mults, "performed": mults}
    assert doc["total"]["predicted"] == doc["total"]["performed"]


def test_input_override_and_a_residual_network(cli):
    result = cli("verify", "mnist-resnet", "--input", "1x16x16", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"] == [1, 16, 16]
    adds = [layer for layer in doc["layers"] if layer["kind"] == "add"]
    assert adds and all(a["ops"]["eltwise_adds"]["performed"] > 0 for a in adds)


def test_a_study_verifies_each_variant(cli):
    result = cli("verify", "bottleneck", "--input", "256x6x6", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] and len(doc["variants"]) == 2


def test_a_wrong_prediction_exits_1_and_names_the_first(cli, monkeypatch):
    """Make the calculator claim one multiplication too many for LeNet-5's S2."""
    right = Subsample.ops
    monkeypatch.setattr(Subsample, "ops", lambda self, x, y: right(self, x, y) + Ops(mults=1))
    result = cli("verify", "lenet5")
    assert result.exit_code == 1, result.output
    s2 = 6 * 14 * 14  # one coefficient per output
    assert (
        f"✗ 2 of 7 layers disagree; the first: layer 'S2' (subsample): multiplications "
        f"predicted {s2 + 1:,}, performed {s2:,}"
    ) in " ".join(result.stdout.split())
    doc = json.loads(cli("verify", "lenet5", "-f", "json").stdout)
    assert doc["ok"] is False
    assert doc["first_disagreement"]["layer"] == "S2"
    assert doc["first_disagreement"]["field"] == "mults"


def test_a_layer_the_executor_refuses_exits_1(cli, monkeypatch):
    def refuse(ops, node, xs, p, flip):
        raise ExecutorError("cannot")

    monkeypatch.setitem(RUNNERS, Subsample, refuse)
    result = cli("verify", "lenet5", "-f", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert (
        doc["first_disagreement"]["message"]
        == "layer 'S2' (subsample) did not run: layer 'S2' (subsample): cannot"
    )
    assert doc["layers"][0]["ok"] and doc["layers"][2]["out_shape"]["executed"] is None


def test_naive_on_a_large_network_refuses_with_an_estimate(cli):
    result = cli("verify", "resnet50", "--impl", "naive")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "the naive executor would take about" in lines[0]
    assert "measured on this machine" in lines[0] and "--max-seconds 60" in lines[0]


def test_max_seconds_sets_the_limit(cli):
    assert cli("verify", "lenet", "--impl", "naive", "--max-seconds", "1e-6").exit_code == 2
    assert cli("verify", "lenet", "--impl", "naive", "--max-seconds", "600").exit_code == 0


def test_max_seconds_stops_the_fast_executor_before_it_runs(cli, monkeypatch):
    """VGG-16 at 224 makes some 15.5 billion multiplications (Simonyan & Zisserman 2015):
    no machine does them in 10 ms, so the estimate refuses, saying what it priced, and the
    network never runs."""
    from cnncalc.proof.executor import run as runner

    def never(*args, **kwargs):
        if args and args[0].name == "VGG-16":
            raise AssertionError("the network ran")
        return real(*args, **kwargs)

    real = runner.run
    monkeypatch.setattr(runner, "run", never)
    result = cli("verify", "vgg16", "--max-seconds", "0.01")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "the fast executor would take about" in lines[0]
    assert "multiplications at" in lines[0] and "--max-seconds 0.01" in lines[0]


def test_a_huge_batch_refuses_instead_of_running_out_of_memory(cli):
    result = cli("verify", "vgg16", "--batch", "100000", "--max-seconds", "1e12")
    assert result.exit_code == 2
    assert "for its weights and its largest layer, more than half this machine's" in result.output


def test_a_huge_fc_refuses_for_its_weights_instead_of_a_traceback(cli, monkeypatch):
    """d2l 7.1: 100 units on a 3×3000×4000 image hold 36,000,000·100 + 100 parameters,
    where its largest layer (the flatten: 36 million values in, 36 million out) is small."""
    monkeypatch.setattr("cnncalc.proof.verify.memory_limit", lambda: 8 * 2**30)
    result = cli("verify", "fc-vs-conv")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    gib = (36_000_000 * 100 + 100 + 2 * 36_000_000) * 8 / 2**30
    assert len(lines) == 1 and f"about {gib:.1f} GiB for its weights" in lines[0], lines


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "-1"], "--seed: seed must be a whole number"),
        (["--batch", "0"], "--batch: batch must be a whole number"),
        (["--max-seconds", "0"], "--max-seconds: must be a positive number of seconds"),
        (["--input", "1x2x2"], "layer 'C1' (conv) on input 1×2×2"),
    ],
)
def test_bad_options_are_one_line_errors(cli, args, message):
    result = cli("verify", "lenet5", *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_help_lists_the_options(cli):
    result = cli("verify", "--help")
    assert result.exit_code == 0
    for option in ("--impl", "--batch", "--seed", "--input", "--flip", "--max-seconds", "--format"):
        assert option in result.output


def test_runs_as_a_module():
    run = subprocess.run(
        [sys.executable, "-m", "cnncalc", "verify", "lenet", "-f", "json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ok"] is True

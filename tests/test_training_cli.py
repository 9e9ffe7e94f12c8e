"""The training, memory, grouping, sweep, minsize and plot commands, run as a user runs them."""

from __future__ import annotations

import builtins
import csv
import io
import json

import pytest

from cnncalc.analysis.pipeline import analyze, load

FIGURES = ("mults", "adds", "macs", "flops")


def ok(result):
    assert result.exit_code == 0, result.output
    return result.stdout


def bad(result, *fragments):
    assert result.exit_code == 2, result.output
    for f in fragments:
        assert f in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("convention", ["macs", "exact"])
def test_flops_training_json_adds_up(cli, convention):
    report = json.loads(
        ok(cli("flops", "resnet18", "--training", "-f", "json", "-b", "2", "-c", convention))
    )
    assert report["training"] is True and report["batch"] == 2
    layers = report["layers"]
    assert layers[0]["name"] == "conv1" and layers[0]["needs_dx"] is False
    assert layers[0]["dx"] == dict.fromkeys(FIGURES, 0) and layers[0]["dw"]["macs"] > 0
    for part in ("forward", "dx", "dw", "dy_sum", "backward"):
        for f in FIGURES:
            assert sum(l[part][f] for l in layers) == report["total"][part][f]
    forward = analyze(load("resnet18"), batch=2, convention=convention).total.flops
    assert report["total"]["forward"]["flops"] == forward
    assert report["total"]["training_flops"] == forward + report["total"]["backward"]["flops"]


def test_flops_training_table_says_what_it_counts(cli):
    out = ok(cli("flops", "lenet5", "--training"))
    for words in ("dX mults", "dW adds", "Backward FLOPs", "training step", "Convention: macs"):
        assert words in out


def test_flops_training_refuses_a_forward_only_convention(cli):
    bad(
        cli("flops", "lenet5", "--training", "-c", "nndl"),
        "--convention",
        "backward counts are defined under macs and exact",
    )


@pytest.mark.parametrize(
    "args,share",
    [
        (("flops", "vgg16", "--by", "kind"), "flops"),
        (("params", "alexnet", "--by", "kind"), None),
        (("flops", "alexnet", "--training", "--by", "kind", "-c", "exact"), "training"),
        (("memory", "vgg16", "--by", "kind", "--optimizer", "adam"), None),
    ],
)
def test_by_kind_totals_are_the_layer_totals(cli, args, share):
    report = json.loads(ok(cli(*args, "-f", "json")))
    assert report["by"] == "kind"
    kinds = report["kinds"]
    assert len({k["kind"] for k in kinds}) == len(kinds)
    for field, total in report["total"].items():
        assert sum(k[field] for k in kinds) == total, field


def test_by_kind_conv_versus_fc_in_alexnet(cli):
    """The AlexNet exercise (d2l 8.1): the fc layers hold most parameters, the convs most
    MACs. Params by formula: fc6 9216·4096 + 4096, fc7 4096·4096 + 4096, fc8 4096·1000 + 1000."""
    kinds = {
        k["kind"]: k
        for k in json.loads(ok(cli("params", "alexnet", "--by", "kind", "-f", "json")))["kinds"]
    }
    assert kinds["fc"]["params"] == 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert kinds["fc"]["layers"] == 3 and kinds["conv"]["layers"] == 5
    flops = {
        k["kind"]: k
        for k in json.loads(ok(cli("flops", "alexnet", "--by", "kind", "-f", "json")))["kinds"]
    }
    assert flops["conv"]["macs"] > 10 * flops["fc"]["macs"]


def test_memory_json_adds_up_and_names_its_units(cli):
    report = json.loads(
        ok(
            cli(
                "memory",
                "googlenet",
                "-b",
                "4",
                "--dtype",
                "bf16",
                "--optimizer",
                "momentum",
                "-f",
                "json",
            )
        )
    )
    assert (report["dtype"], report["optimizer"], report["batch"]) == ("bf16", "momentum", 4)
    fields = ("params", "gradients", "optimizer", "buffers", "activations", "total")
    for field in fields:
        layers = sum(l[field] for l in report["layers"])
        extra = report["input_kept"] if field in ("activations", "total") else 0
        assert layers + extra == report["total"][field], field
    assert report["input_kept"] == 3 * 224 * 224 * 4 * 2
    assert report["total"]["optimizer"] == report["total"]["params"]  # one buffer, same dtype


def test_memory_table_and_csv(cli):
    out = ok(cli("memory", "lenet5", "--optimizer", "adam"))
    assert "Kept for backward" in out and "adam" in out and "(input)" in out
    rows = list(csv.DictReader(io.StringIO(ok(cli("memory", "lenet5", "-f", "csv")))))
    assert rows[-1]["name"] == "total"
    assert int(rows[-1]["total"]) == sum(int(r["total"]) for r in rows[:-1])


def test_memory_of_a_study_prints_each_variant(cli):
    report = json.loads(ok(cli("memory", "bottleneck", "-f", "json")))
    assert [v["network"] for v in report["variants"]] == ["plain", "bottleneck"]


@pytest.mark.parametrize(
    "args,fragments",
    [
        (("memory", "lenet5", "--dtype", "fp64"), ("fp64",)),
        (("memory", "lenet5", "--optimizer", "lbfgs"), ("lbfgs",)),
        (("memory", "lenet5", "-b", "0"), ("--batch",)),
        (("sweep", "lenet5", "--input", "1x{32..16}"), ("--input", "runs backwards")),
        (("sweep", "lenet5", "--input", "1x{1..100000}"), ("--input", "more than the 256")),
        (("flops", "lenet5", "--plot", "out.jpg"), ("--plot", "not a .png, .svg or .pdf file")),
        (("memory", "lenet5", "--plot", "/no/such/dir/m.png"), ("--plot", "does not exist")),
        (("minsize", "no-such-net"), ("neither a file nor a built-in network",)),
        (("flops", "lenet5", "--training", "--explain"), ("--explain", "separate commands")),
        (("flops", "lenet5", "--by", "kind", "--compare", "resnet18"), ("--compare",)),
        (("flops", "--training"), ("give a network",)),
        (("flops", "lenet5", "--by", "kind", "--convention", "all"), ("--convention",)),
        (("flops", "lenet5", "--training", "--deconv-count", "output"), ("--deconv-count",)),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, fragments):
    bad(cli(*args), *fragments)


def test_sweep_table_and_json(cli):
    out = ok(cli("sweep", "googlenet", "--input", "3x{8..32..8}"))
    assert "Smallest swept input that runs: 3×16×16" in out
    assert "Smallest input every layer takes: 3×15×15" in out
    report = json.loads(ok(cli("sweep", "resnet18", "--input", "3x{32..64..32}", "-f", "json")))
    assert [p["input"] for p in report["points"]] == [[3, 32, 32], [3, 64, 64]]
    assert report["points"][1]["macs"] == analyze(load("resnet18"), (3, 64, 64)).total.macs
    assert report["minsize"] == [3, 1, 1]


def test_sweep_takes_what_the_shell_makes_of_an_unquoted_brace(cli):
    """bash turns --input 3x{32..64..32} into --input 3x32 3x64."""
    report = json.loads(ok(cli("sweep", "resnet18", "--input", "3x32", "3x64", "-f", "json")))
    assert [p["input"] for p in report["points"]] == [[3, 32, 32], [3, 64, 64]]


def test_minsize_json(cli):
    report = json.loads(ok(cli("minsize", "googlenet", "-f", "json")))
    assert report["minsize"] == [3, 15, 15] and report["below"] == [3, 14, 14]
    assert "maxpool3" in report["reason"]


# --------------------------------------------------------------------------- plots


@pytest.mark.parametrize(
    "args",
    [
        ("flops", "resnet18"),
        ("flops", "resnet18", "--training"),
        ("params", "vgg16", "--by", "kind"),
        ("memory", "mobilenet-v2", "-b", "8"),
        ("sweep", "resnet18", "--input", "3x{32..128..32}"),
    ],
)
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_the_file(cli, tmp_path, args, suffix):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"plot{suffix}"
    ok(cli(*args, "--plot", path))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]


def test_plot_of_a_study_writes_one_file_per_variant(cli, tmp_path):
    pytest.importorskip("matplotlib")
    ok(cli("flops", "bottleneck", "--plot", tmp_path / "b.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-1.png", "b-2.png"]


def test_plot_without_matplotlib_says_how_to_get_it(cli, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    bad(cli("flops", "lenet5", "--plot", tmp_path / "x.png"), "--plot", "cnncalc[plot]")
    assert not (tmp_path / "x.png").exists()

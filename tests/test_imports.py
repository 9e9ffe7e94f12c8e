"""A command imports only what it uses (issue 11: start-up). Each case runs the real command
in a fresh interpreter under ``python -X importtime`` and reads the modules it loaded."""

import subprocess
import sys

import pytest


def imported_by(*args: str) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnncalc", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


NOT_FOR_A_PLAIN_ANALYSIS = (
    "numpy",  # the executor's
    "matplotlib",  # --plot's
    "cnncalc.proof",  # verify and export
    "cnncalc.answers",  # the worked answers
    "cnncalc.analysis.explain",  # --explain
    "cnncalc.analysis.memory",  # cnncalc memory
    "cnncalc.analysis.training",  # --training
    "cnncalc.analysis.sweep",  # cnncalc sweep / minsize
    "cnncalc.render.working",  # --explain's rendering
    "cnncalc.render.conventions",  # --convention all
    "cnncalc.render.views",  # memory, sweep, --by
    "cnncalc.model.schema",  # cnncalc schema
)


def test_shape_loads_the_calculator_and_nothing_else():
    modules = imported_by("shape", "lenet5")
    assert "cnncalc.kinds.registry" in modules and "cnncalc.render.analysis" in modules
    assert [p for p in NOT_FOR_A_PLAIN_ANALYSIS if loaded(modules, p)] == []


def test_json_output_never_loads_rich():
    modules = imported_by("summary", "resnet50", "--format", "json")
    assert "cnncalc.render.jsonout" in modules
    assert not loaded(modules, "rich")
    assert [p for p in NOT_FOR_A_PLAIN_ANALYSIS if loaded(modules, p)] == []


@pytest.mark.parametrize("package", ["typer", "pydantic", "rich", "yaml", "cnncalc.kinds"])
def test_version_loads_no_library(package):
    assert not loaded(imported_by("--version"), package)

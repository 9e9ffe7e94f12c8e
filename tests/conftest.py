"""Shared helpers: run the real CLI, write real YAML files; the ``fast`` and ``requires``
markers; under CI a skipped test fails the session (:mod:`ci_skips`)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest
from ci_skips import pytest_configure  # noqa: F401  (the hook: skips fail the session under CI)
from typer.testing import CliRunner

from cnncalc.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.fixture
def yaml_file(tmp_path):
    """Write a dedented YAML text to a file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


FAST = Path(__file__).resolve().parent / "fast"
FAST_MODULES = frozenset(
    {"test_kinds.py", "test_lenet5.py", "test_conventions.py", "test_zoo_textbook.py",
     "test_refusals.py"}
)  # fmt: skip
"""Modules that join tests/fast/ in the fast tier: each kind's formulas, the zoo's published
numbers and each refusal's one-line error (their PyTorch halves need torch and skip without
it), a few seconds in all."""


def pytest_ignore_collect(collection_path, config):
    """With ``-m fast`` the other modules are not even imported (torch's import alone
    would take seconds)."""
    if config.option.markexpr != "fast" or collection_path.suffix != ".py":
        return None
    if FAST in collection_path.parents or collection_path.name in FAST_MODULES:
        return None
    return collection_path.name.startswith("test_") or None


def pytest_collection_modifyitems(config, items):
    """The fast tier (``-m fast``): tests/fast/ and the modules of :data:`FAST_MODULES`."""
    for item in items:
        if FAST in item.path.parents or item.path.name in FAST_MODULES:
            item.add_marker(pytest.mark.fast)


def installed(module: str) -> bool:
    """Whether a tool can be imported; a module already loaded counts (peer_tools loads
    calflops' engine by path, leaving ``calflops`` without a spec, which find_spec refuses)."""
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def pytest_runtest_setup(item):
    """``@pytest.mark.requires("torch", "fvcore")``: skip this test alone if a tool it
    needs is not installed; a missing tool never takes the tests that do not need it along."""
    for marker in item.iter_markers("requires"):
        missing = [m for m in marker.args if not installed(m)]
        if missing:
            pytest.skip(f"needs {', '.join(missing)} (pip install -e '.[test]')")

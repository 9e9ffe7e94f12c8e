"""Under CI a skipped test fails the session (tests/ci_skips.py), naming the skip; locally a
skip stays a skip. Each case runs pytest for real, in a subprocess, on a tiny test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SKIPPING = """
import pytest

def test_runs():
    assert 1 + 1 == 2

def test_needs_a_tool_that_is_missing():
    pytest.importorskip("no_such_tool_installed")
"""

PASSING = """
def test_runs():
    assert 1 + 1 == 2
"""

MODULE_SKIP = """
import pytest

pytest.importorskip("no_such_tool_installed")

def test_never_collected():
    pass
"""


def pytest_run(tmp_path: Path, source: str, ci: str | None) -> subprocess.CompletedProcess:
    """pytest with the ci_skips plugin on one test file, CI set to ``ci`` (None: unset)."""
    (tmp_path / "test_tiny.py").write_text(source, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the plugin under test
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ci_skips", "-p", "no:cacheprovider", "-rs"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_skip_fails_the_session_under_ci_and_is_named(tmp_path):
    result = pytest_run(tmp_path, SKIPPING, ci="true")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "SKIPPED test_tiny.py::test_needs_a_tool_that_is_missing" in result.stdout
    assert "no_such_tool_installed" in result.stdout
    assert "1 passed, 1 skipped" in result.stdout


def test_a_module_skipped_whole_fails_the_session_under_ci(tmp_path):
    result = pytest_run(tmp_path, MODULE_SKIP, ci="true")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "SKIPPED test_tiny.py" in result.stdout


@pytest.mark.parametrize("ci", [None, "false", "0"])
def test_outside_ci_a_skip_is_only_reported(tmp_path, ci):
    result = pytest_run(tmp_path, SKIPPING, ci=ci)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "1 passed, 1 skipped" in result.stdout


def test_under_ci_a_session_without_skips_passes(tmp_path):
    result = pytest_run(tmp_path, PASSING, ci="true")
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "skipped under CI" not in result.stdout

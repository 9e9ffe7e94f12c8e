"""A pytest plugin: under CI (the environment variable CI set, as CI services set it), a
skipped test fails the session, naming each skip and its reason.

CI installs every tool the tests use (``pip install -e ".[test]"``), so a skip there means
a tool went missing or a test skipped by mistake: either way a check did not run. Locally a
missing torch or peer tool still skips only the tests that need it (``-rs`` lists them).
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """CI is set and not switched off (``CI=false`` or ``CI=0`` count as unset)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_reason(report) -> str:
    """The reason pytest stores in a skip's (file, line, reason) ``longrepr``."""
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


class SkipsFailCI:
    """Collects every skip (a test's or a whole module's) and fails the session on them."""

    def __init__(self) -> None:
        self.skips: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:
            self.skips.append((report.nodeid, skip_reason(report)))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.skips:
            return
        terminalreporter.section("skipped under CI", red=True, bold=True)
        for nodeid, reason in self.skips:
            terminalreporter.write_line(f"SKIPPED {nodeid}: {reason}")
        terminalreporter.write_line(
            f"CI is set and installs every tool the tests need, yet {len(self.skips)} "
            "skipped: the session fails",
            red=True,
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.skips and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    if in_ci():
        config.pluginmanager.register(SkipsFailCI(), "skips-fail-ci")

"""The layout holds: layers import downwards, no module reads another's private names,
lint, format and types are clean. Issue 8: the folders say the architecture, and these
contracts keep them saying it. Each check runs the real tool, as CI does."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnncalc"


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def tool(name: str) -> str:
    """The console script of a test tool (the test extra installs it); skip if missing."""
    path = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(path).exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def test_layers_import_only_downwards():
    """import-linter's contracts in pyproject.toml: cli → render → answers | proof →
    analysis → conventions → model → kinds → errors, the facades unused inside, no rich,
    typer or matplotlib below render/, no torch anywhere."""
    result = run(tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_ruff_lint_is_clean():
    result = run(tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run(tool("ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_packages_type_check_clean():
    """mypy on errors, kinds, model, conventions and analysis (pyproject.toml's [tool.mypy])."""
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def private_names_defined(tree: ast.AST) -> set[str]:
    """Every ``_name`` a module defines: functions, classes, assignments, attributes it
    stores, arguments and import aliases."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.alias):
            own.add(node.asname or node.name)
    return {name for name in own if name.startswith("_")}


NAMED_TUPLE_API = frozenset({"_replace", "_fields", "_asdict", "_make", "_field_defaults"})
"""A named tuple's public methods and attributes, which begin with an underscore only so as
not to clash with its fields (the collections docs): reading them is no private read."""


def foreign_private_reads(source: str) -> list[str]:
    """Reads of a ``_name`` (not a dunder, nor a named tuple's :data:`NAMED_TUPLE_API`) that
    the module does not define itself: ``layer._geometry(x)`` in a module that is not the
    kind's, ``from m import _x``."""
    tree = ast.parse(source)
    own = private_names_defined(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.ImportFrom):
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
            continue
        else:
            continue
        if (
            name.startswith("_")
            and not name.startswith("__")
            and name not in own
            and name not in NAMED_TUPLE_API
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_private_name_check_catches_a_foreign_read():
    """The check itself: a module reading another's ``_geometry`` is caught; its own is not."""
    assert foreign_private_reads("def f(layer):\n    return layer._geometry(1)\n")
    assert foreign_private_reads("from cnncalc.cli.options import _guard\n")
    assert not foreign_private_reads(
        "class K:\n    def _g(self):\n        return 1\n    def f(self):\n        return self._g()\n"
    )
    assert not foreign_private_reads("def f(col):\n    return col._replace(title='x')\n")
    assert foreign_private_reads("def f(col):\n    return col._replaced(title='x')\n")


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_reads_another_modules_private_names(path: Path):
    assert foreign_private_reads(path.read_text()) == []

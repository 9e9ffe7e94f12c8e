"""Every command's output on the whole zoo, one file per run, for diffing two versions.

    python scripts/snapshot.py OUTDIR      # writes OUTDIR/<command>--<net>--<options>.txt
    diff -r BEFORE AFTER                   # what a change did to what users see

Runs the real CLI in-process (typer's CliRunner), so a whole zoo takes seconds, not minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from cnncalc.cli.app import app
from cnncalc.model.zoo import zoo_names  # noqa: F401  (the layout after issue 8)


def runs(names: list[str]) -> list[list[str]]:
    out = []
    for net in names:
        for fmt in ("table", "json", "csv", "markdown"):
            for command in ("shape", "params", "flops", "summary"):
                out.append([command, net, "--format", fmt])
        out.append(["flops", net, "--convention", "all"])
        out.append(["flops", net, "--convention", "exact", "--format", "json"])
        out.append(["summary", net, "--explain"])
        out.append(["flops", net, "--training", "--format", "json"])
        out.append(["memory", net, "--format", "json"])
        out.append(["params", net, "--by", "kind"])
    out += [
        ["zoo"],
        ["zoo", "--format", "json"],
        ["answers"],
        ["schema"],
        ["conv", "--input", "8x8", "--kernel", "3x5", "--padding", "0,1", "--stride", "3,4"],
    ]
    return out


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    names = zoo_names()
    for args in runs(names):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        name = "--".join(a.replace("/", "_") for a in args) + ".txt"
        (target / name).write_text(f"exit {result.exit_code}\n{result.output}")


if __name__ == "__main__":
    main()

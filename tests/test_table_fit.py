"""Tables never cut a number (issue 10 §1).

Every command's table is drawn by the real CLI at a real terminal width (rich reads
TTY_COMPATIBLE=1 as a terminal and COLUMNS as its width) of 60, 80, 120 and 200
columns. Every integer the same command gives in JSON must appear in the table as a
whole cell: exact (``4,089,184,256``) or in its stated unit (``4.09 G``, said in a
note that points to --exact), never cut (``8,178,368,5…``). The expected cell texts
are written here, not taken from cnncalc's formatting code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from cnncalc.cli.app import app

WIDTHS = (60, 80, 120, 200)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def terminal(args: list[str], width: int) -> str:
    """The command's output in a terminal ``width`` columns wide, colour codes removed."""
    env = {"COLUMNS": str(width), "LINES": "50", "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout)


def piped(args: list[str]) -> str:
    result = CliRunner().invoke(app, args, env={"TTY_COMPATIBLE": "0"})
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(args: list[str]):
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cells(text: str) -> set[str]:
    """Every cell of every table in the text, stripped: parts between the box's bars, or,
    in a table drawn without its box, parts two or more spaces apart (a number never
    wraps, so a number is one whole cell of one line)."""
    found = set()
    for line in text.splitlines():
        parts = re.split("[│┃]", line) if "│" in line or "┃" in line else re.split(r" {2,}", line)
        found.update(part.strip() for part in parts)
    return found


def exact_form(n: int) -> str:
    return f"{n:,}"


def compact_form(n: int) -> str:
    """4,089,184,256 → '4.09 G': SI prefixes, two decimals."""
    for scale, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if n >= scale:
            return f"{n / scale:.2f} {prefix}"
    return str(n)


def bytes_form(n: int) -> str:
    """237,660 bytes → '232.09 KiB': binary prefixes, two decimals."""
    for scale, prefix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.2f} {prefix}"
    return f"{n} B"


def shape_form(shape) -> str:
    return "×".join(str(v) for v in shape)


def layer_numbers(report: dict, fields: tuple[str, ...]) -> list[int]:
    rows = report["layers"] + [report["total"]]
    return [row[f] for row in rows for f in fields]


# command → (arguments, what its JSON holds that its table shows: ints, bytes, shapes)
CASES = {
    "shape": (
        ["shape", "resnet50"],
        lambda r: ([], [], [l["out_shape"] for l in r["layers"]] + [l["rf"] for l in r["layers"]]),
    ),
    "params": (
        ["params", "resnet50"],
        lambda r: (layer_numbers(r, ("params", "buffers", "connections")), [], []),
    ),
    "flops": (
        ["flops", "resnet50"],
        lambda r: (layer_numbers(r, ("mults", "adds", "macs", "flops")), [], []),
    ),
    "summary": (
        ["summary", "resnet50"],
        lambda r: (
            layer_numbers(r, ("params", "macs", "flops", "activations")),
            [],
            [l["out_shape"] for l in r["layers"]],
        ),
    ),
    "memory": (
        ["memory", "resnet18", "--optimizer", "adam"],
        lambda r: (
            [],
            [
                row[f]
                for row in r["layers"] + [r["total"]]
                for f in ("params", "gradients", "optimizer", "buffers", "activations", "total")
            ],
            [l["out_shape"] for l in r["layers"]],
        ),
    ),
    "conventions": (
        ["flops", "resnet50", "--convention", "all"],
        lambda r: ([c["total"] for c in r["conventions"]], [], []),
    ),
    "compare": (
        ["flops", "--compare", "bottleneck"],
        lambda r: (
            [
                e["total"][f]
                for e in r["entries"]
                for f in ("params", "macs", "mults", "adds", "flops", "activations", "depth")
            ],
            [],
            [e["input"] for e in r["entries"]] + [e["output"] for e in r["entries"]],
        ),
    ),
    "zoo": (["zoo"], lambda r: ([], [], [e["input"] for e in r])),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_number_of_the_json_is_whole_in_the_table(case, width):
    args, numbers = CASES[case]
    ints, byte_counts, shapes = numbers(as_json(args))
    text = terminal(args, width)
    shown = cells(text)
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= width
    compacted = False
    for n in ints:
        assert exact_form(n) in shown or compact_form(n) in shown, (n, case, width)
        compacted |= exact_form(n) not in shown
    for n in byte_counts:
        assert bytes_form(n) in shown, (n, case, width)
    for shape in shapes:
        assert shape_form(shape) in shown, (shape, case, width)
    if compacted:
        assert "--exact" in text


@pytest.mark.parametrize("width", (60, 80))
def test_exact_keeps_every_integer_whole_however_narrow(width):
    args = ["summary", "resnet50"]
    report = as_json(args)
    text = terminal([*args, "--exact"], width)
    shown = cells(text)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    for n in layer_numbers(report, ("params", "macs", "flops", "activations")):
        assert exact_form(n) in shown, n
    assert "(continued)" in text  # too wide for one table at this width: split, not cut


def test_resnet50_flops_total_is_whole_at_120_columns():
    """The issue's case: the headline total showed as 8,178,368,5…"""
    text = terminal(["flops", "resnet50"], 120)
    assert max(cell_len(line) for line in text.splitlines()) <= 120
    assert exact_form(2 * 4_089_184_256) in cells(text)


def test_the_share_bar_gives_way_before_any_number():
    """At 120 columns resnet50's flops table fits once the bar is narrowed to its
    percentage; every count stays exact."""
    text = terminal(["flops", "resnet50"], 120)
    assert "█" not in text
    assert "--exact" not in text
    assert "100.0%" in cells(text)


def test_a_wide_terminal_shows_the_bars_and_exact_numbers():
    text = terminal(["summary", "lenet5"], 200)
    assert "██████████ 100.0%" in cells(text)
    assert "656,192" in cells(text)  # 2 · 328,096 MACs of LeNet-5


@pytest.mark.parametrize("case", ["summary", "memory", "conventions", "compare"])
def test_piped_output_is_full_and_exact(case):
    args, numbers = CASES[case]
    ints, byte_counts, _ = numbers(as_json(args))
    text = piped(args)
    shown = cells(text)
    assert "…" not in text and "--exact" not in text
    for n in ints:
        assert exact_form(n) in shown, n
    for n in byte_counts:
        assert bytes_form(n) in shown, n


def test_text_columns_wrap_rather_than_cut():
    """At 80 columns the conventions' reasons wrap over several lines; every word of
    the JSON's reason is there."""
    report = as_json(["flops", "resnet18", "--convention", "all"])
    text = terminal(["flops", "resnet18", "--convention", "all"], 80)
    words = set(" ".join(cells(text)).split())
    for c in report["conventions"]:
        assert set(c["reason"].split()) <= words, c["convention"]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_in_a_real_60_column_terminal_nothing_is_cut():
    """The installed command in a pseudo-terminal of 60 columns (no COLUMNS variable): the
    width comes from the terminal itself."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TTY_COMPATIBLE")}
    env["NO_COLOR"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", "flops", "resnet50"],
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait() == 0
    text = ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")
    assert "…" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 60
    total = 2 * 4_089_184_256  # ResNet-50's FLOPs: twice torchvision's 4.09 G MACs
    assert {exact_form(total), compact_form(total)} & cells(text)

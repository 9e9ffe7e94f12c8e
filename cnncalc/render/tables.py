"""Rows of records → a rich table, Markdown, CSV or JSON (presentation only).

The training, memory, by-kind and sweep views give rows as plain dicts of exact
ints, shapes and text, and a list of :class:`Col` saying how to show them. JSON
gets the caller's structured record; CSV the raw values (never rounded); the
table and Markdown readable units and, for shares, the inline bars of
:mod:`cnncalc.render`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from fractions import Fraction

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnncalc.render.numbers import bar, human_bytes, shape_text


@dataclass(frozen=True)
class Col:
    key: str
    title: str
    show: str = "int"
    """'text', 'int', 'bytes', 'share' or 'shape'."""

    @property
    def numeric(self) -> bool:
        return self.show in ("int", "bytes")


@dataclass(frozen=True)
class Rows:
    """One table: a title, columns, rows, an optional total row and lines under it."""

    title: str
    cols: tuple[Col, ...]
    rows: tuple[dict, ...]
    total: dict | None
    notes: tuple[str, ...]
    record: dict
    """What ``--format json`` prints."""


def cell(col: Col, value) -> str:
    if value is None or value == "":
        return ""
    if col.show == "bytes":
        return human_bytes(value)
    if col.show == "share":
        return bar(value)
    if col.show == "shape":
        return shape_text(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def raw(value):
    """A CSV cell: exact ints, shapes as 3x224x224, shares as fractions of 1."""
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, Fraction):
        return f"{float(value):.6f}"
    return "" if value is None else value


def rich_rows(t: Rows) -> Group:
    table = Table(title=t.title, title_justify="left")
    for c in t.cols:
        table.add_column(
            c.title,
            justify="right" if c.numeric else "left",
            no_wrap=c.show in ("share", "shape") or c.key == "name",
        )
    for row in t.rows:
        table.add_row(*(cell(c, row.get(c.key)) for c in t.cols))
    if t.total is not None:
        table.add_section()
        table.add_row(*(Text(cell(c, t.total.get(c.key)), style="bold") for c in t.cols))
    return Group(table, *(Text(n, style="dim" if i else "") for i, n in enumerate(t.notes)))


def markdown_rows(t: Rows) -> str:
    lines = [
        f"**{t.title}**",
        "",
        "| " + " | ".join(c.title for c in t.cols) + " |",
        "|" + "|".join("---:" if c.numeric else ":---" for c in t.cols) + "|",
    ]
    for row in t.rows:
        lines.append(
            "| " + " | ".join(cell(c, row.get(c.key)).replace("|", "\\|") for c in t.cols) + " |"
        )
    if t.total is not None:
        lines.append(
            "| "
            + " | ".join(
                f"**{cell(c, t.total.get(c.key))}**" if cell(c, t.total.get(c.key)) else ""
                for c in t.cols
            )
            + " |"
        )
    return "\n".join(lines + [""] + [f"*{n}*" if i else n for i, n in enumerate(t.notes)] + [""])


def csv_rows(t: Rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in t.cols])
    for row in t.rows:
        writer.writerow([raw(row.get(c.key)) for c in t.cols])
    if t.total is not None:  # marked 'total' in its first column, as every CSV marks it
        total = dict(t.total, **{t.cols[0].key: "total"})
        writer.writerow([raw(total.get(c.key)) for c in t.cols])
    return buf.getvalue()


def render_rows(tables: list[Rows], fmt: str, study: str | None = None):
    """One or several tables (a study's variants) in a format."""
    if fmt == "json":
        if len(tables) == 1 and study is None:
            return json.dumps(tables[0].record, indent=2, ensure_ascii=False) + "\n"
        return (
            json.dumps(
                {"study": study, "variants": [t.record for t in tables]},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    if fmt == "table":
        return Group(*(rich_rows(t) for t in tables))
    if fmt == "csv":
        if len(tables) == 1 and study is None:
            return csv_rows(tables[0])
        parts = [csv_rows(t).splitlines() for t in tables]
        lines = ["variant," + parts[0][0]] + [
            f"{t.record.get('network', '')},{line}"
            for t, part in zip(tables, parts)
            for line in part[1:]
        ]
        return "\n".join(lines) + "\n"
    return "\n".join(markdown_rows(t) for t in tables)

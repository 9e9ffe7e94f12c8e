"""The one table model: rows of records → a rich table that fits, Markdown, CSV or JSON.

Every command's table is a :class:`Rows`: plain dicts of exact ints, shapes and text,
and a list of :class:`Col` saying how to show them. JSON gets the caller's structured
record; CSV the raw values (never rounded); Markdown readable units and, for shares,
the inline bars of :func:`cnncalc.render.numbers.bar`.

In a terminal the table is laid out for the terminal's width (:class:`FittedTable`)
and never cuts a number. When the table is wider than the terminal it gives way in
this order: the share bars narrow to their percentage, the box goes (columns two
spaces apart), then the widest number
columns switch to compact units (``4.09 G``, said in a note under the table; not with
``--exact``), then the text columns wrap, and last the columns are split over several
tables that each repeat the first column. Piped output keeps every number exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

from cnncalc.render.columns import Col
from cnncalc.render.numbers import bar, human, human_bytes, shape_text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, Group, RenderResult

# rich is imported where a table is drawn: JSON, CSV and Markdown never load it (issue 11)

COMPACT_NOTE = (
    "Numbers in {columns} are in compact units (K = 10³, M = 10⁶, G = 10⁹, T = 10¹²) "
    "so the table fits; --exact, --format json or --format csv give the exact integers."
)


# named tuples, not frozen dataclasses: equal and read-only alike, without compiling five
# methods each at import (issue 11: start-up)


class Rows(NamedTuple):
    """One table: a title, columns, rows, an optional total row and lines under it."""

    title: str
    cols: tuple[Col, ...]
    rows: tuple[dict, ...]
    total: dict | None
    notes: tuple[str, ...]
    record: dict
    """What ``--format json`` prints."""


def cell(col: Col, value, compact: bool = False, exact: bool = False) -> str:
    """A value as a table cell: grouped digits, or compact units when ``compact``."""
    if value is None or value == "":
        return ""
    if col.show == "bytes" and isinstance(value, int):
        return f"{value:,}" if exact else human_bytes(value)
    if col.show == "share":
        return f"{float(value) * 100:.1f}%" if compact else bar(value)
    if col.show == "shape" and isinstance(value, tuple):
        return shape_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return human(value) if compact else f"{value:,}"
    return str(value)


def raw(value):
    """A CSV cell: exact ints, shapes as 3x224x224, shares as fractions of 1."""
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, Fraction):
        return f"{float(value):.6f}"
    return "" if value is None else value


# --------------------------------------------------------------------------- fitting


def frame_width(columns: int, boxed: bool) -> int:
    """What a table adds to its columns' widths: in rich's heavy-head box, a border and a
    space each side of every column and the last border (3n + 1); without the box, two
    spaces between columns (2(n − 1))."""
    return 3 * columns + 1 if boxed else 2 * max(columns - 1, 0)


TEXT_MIN = 8
WORD_MAX = 12
"""A wrapping text column is not squeezed below TEXT_MIN, its longest header word, or its
longest word up to WORD_MAX (a longer name, ``layer1.0.downsample.0``, is folded)."""


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


class _Layout(NamedTuple):
    """Cell texts and column widths for one way of showing a table."""

    cols: tuple[Col, ...]
    titles: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None
    widths: tuple[int, ...]
    minimum: tuple[int, ...]
    compacted: tuple[str, ...]
    boxed: bool = True

    def width(self, widths: tuple[int, ...] | None = None) -> int:
        return sum(widths or self.widths) + frame_width(len(self.cols), self.boxed)

    def need(self, columns: list[int]) -> int:
        """The narrowest these columns can be drawn together."""
        return sum(self.minimum[j] for j in columns) + frame_width(len(columns), self.boxed)

    @property
    def unwrapped(self) -> tuple[int, ...]:
        """Widths with the text columns whole and only the headers of the others wrapped."""
        return tuple(w if c.wraps else m for c, w, m in zip(self.cols, self.widths, self.minimum))


def _layout(t: Rows, compact: frozenset[str], exact: bool, brief: bool = False) -> _Layout:
    cols = t.cols
    titles = tuple((c.short or c.title) if brief else c.title for c in cols)
    body = tuple(
        tuple(cell(c, r.get(c.key), c.key in compact, exact) for c in cols) for r in t.rows
    )
    total = (
        None
        if t.total is None
        else tuple(cell(c, t.total.get(c.key), c.key in compact, exact) for c in cols)
    )
    lines = body + ((total,) if total else ())
    widths, minimum = [], []
    for i, (c, title) in enumerate(zip(cols, titles)):
        longest = max((len(line[i]) for line in lines), default=0)
        natural = max(longest, len(c.title))
        widths.append(natural)
        if c.wraps:
            word = min(WORD_MAX, max((_longest_word(line[i]) for line in lines), default=0))
            minimum.append(min(natural, max(TEXT_MIN, word, _longest_word(title))))
        else:
            minimum.append(max(longest, _longest_word(title)))
    compacted = tuple(c.title for c in cols if c.key in compact and c.show == "int")
    return _Layout(cols, titles, body, total, tuple(widths), tuple(minimum), compacted)


def _squeezed(layout: _Layout, room: int) -> tuple[int, ...] | None:
    """Column widths within ``room``: every column at least its minimum, the text columns
    given what is left in proportion to what they lack; None when even the minimum does
    not fit."""
    spare = room - layout.width(layout.minimum)
    if spare < 0:
        return None
    lack = [w - m for w, m in zip(layout.widths, layout.minimum)]
    want = sum(lack)
    if want <= spare:
        return layout.widths
    widths = list(layout.minimum)
    given = 0
    for i, gap in enumerate(lack):
        extra = gap * spare // want
        widths[i] += extra
        given += extra
    for i, gap in enumerate(lack):  # the remainder of the division, one column at a time
        if given < spare and widths[i] < layout.widths[i]:
            widths[i] += 1
            given += 1
    return tuple(widths)


def _split(layout: _Layout, room: int) -> list[tuple[int, ...]]:
    """Columns in groups that each fit ``room`` with the first column repeated."""
    groups: list[list[int]] = []
    current = [0]
    for i in range(1, len(layout.cols)):
        trial = current + [i]
        if layout.need(trial) > room and len(current) > 1:
            groups.append(current)
            current = [0, i]
        else:
            current = trial
    groups.append(current)
    return [tuple(g) for g in groups]


def fit(
    t: Rows, room: int | None, exact: bool = False, compact: bool = True
) -> tuple[_Layout, list[tuple[int, ...]]]:
    """How to show ``t`` in ``room`` columns (None: unlimited): the layout and the groups of
    columns (one group unless the table had to be split). ``exact`` shows bytes as exact
    integers too; ``compact`` allows compact units where the table would not fit."""
    everything = tuple(range(len(t.cols)))
    layout = _layout(t, frozenset(), exact)
    if room is None or layout.width() <= room:
        return layout, [everything]
    # the decorations first: the share bars, then the box
    shorter = {c.key for c in t.cols if c.show == "share"}
    layout = _layout(t, frozenset(shorter), exact)
    for boxed in (True, False):
        layout = layout._replace(boxed=boxed)
        if layout.width(layout.unwrapped) <= room:
            return layout, [everything]
    if compact and not exact:
        by_width = sorted(
            (i for i, c in enumerate(t.cols) if c.show == "int"),
            key=lambda i: -layout.minimum[i],
        )
        for i in by_width:
            if layout.width(layout.unwrapped) <= room:
                break
            shorter.add(t.cols[i].key)
            layout = _layout(t, frozenset(shorter), exact)._replace(boxed=False)
    if _squeezed(layout, room) is None:  # the long one-word titles hyphenated
        layout = _layout(t, frozenset(shorter), exact, brief=True)._replace(boxed=False)
    if _squeezed(layout, room) is not None:
        return layout, [everything]
    return layout, _split(layout, room)


class FittedTable:
    """A :class:`Rows` table laid out, when it is drawn, for the width it is given."""

    def __init__(self, t: Rows, exact: bool = False):
        self.rows = t
        self.exact = exact

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        # piped: never compact units (the text still wraps to the width, 200 columns)
        room = options.max_width
        layout, groups = fit(self.rows, room, self.exact, compact=options.is_terminal)
        for n, group in enumerate(groups):
            sub = layout._replace(
                cols=tuple(layout.cols[i] for i in group),
                titles=tuple(layout.titles[i] for i in group),
                widths=tuple(layout.widths[i] for i in group),
                minimum=tuple(layout.minimum[i] for i in group),
            )
            widths = _squeezed(sub, room) or sub.minimum
            title = self.rows.title if n == 0 else f"{self.rows.title} (continued)"
            table = Table(
                title=title,
                title_justify="left",
                box=box.HEAVY_HEAD if layout.boxed else None,
                show_edge=layout.boxed,
                pad_edge=layout.boxed,
            )
            for c, title, w in zip(sub.cols, sub.titles, widths):
                table.add_column(
                    title,
                    justify="right" if c.right else "left",
                    width=w,
                    overflow="fold",
                )
            for line in layout.cells:
                table.add_row(*(Text(line[i]) for i in group))
            if layout.total is not None:
                table.add_section()
                table.add_row(*(Text(layout.total[i], style="bold") for i in group))
            yield from console.render(table, options.update(width=sub.width(widths)))
        if layout.compacted:
            note = COMPACT_NOTE.format(columns=", ".join(layout.compacted))
            yield from console.render(Text(note, style="dim"), options)


def rich_rows(t: Rows, exact: bool = False) -> Group:
    from rich.console import Group
    from rich.text import Text

    return Group(
        FittedTable(t, exact), *(Text(n, style="dim" if i else "") for i, n in enumerate(t.notes))
    )


def plain_rows(
    title: str,
    cols: tuple[Col, ...],
    rows: Callable[[], Iterable[dict]],
    total: dict | None,
    notes: tuple[str, ...],
) -> Iterator[str]:
    """A :class:`Rows` table too long for rich to lay out in time (rich measures every
    cell of every row: 100,000 rows took minutes) as plain aligned text, every number
    whole, a line at a time. ``rows`` gives the rows afresh each call: they are read twice
    (once to measure the columns) rather than held, so 100,000 rows stay small."""

    def cells(row: dict) -> list[str]:
        return [cell(c, row.get(c.key), exact=True) for c in cols]

    header = [c.title for c in cols]
    last = cells(total) if total is not None else [""] * len(cols)
    widths = [max(len(h), len(v)) for h, v in zip(header, last)]
    for row in rows():
        widths = [max(w, len(v)) for w, v in zip(widths, cells(row))]

    def text(values: list[str]) -> str:
        aligned = (v.rjust(w) if c.right else v.ljust(w) for c, v, w in zip(cols, values, widths))
        return "  ".join(aligned).rstrip() + "\n"

    rule = "  ".join("─" * w for w in widths) + "\n"
    yield from (title + "\n", text(header), rule)
    yield from (text(cells(row)) for row in rows())
    if total is not None:
        yield from (rule, text(last))
    yield from (note + "\n" for note in notes)


def markdown_rows(t: Rows) -> str:
    lines = [
        f"**{t.title}**",
        "",
        "| " + " | ".join(c.title for c in t.cols) + " |",
        "|" + "|".join("---:" if c.right else ":---" for c in t.cols) + "|",
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
    for i, note in enumerate(t.notes):  # each note its own paragraph, all but the first italic
        lines += ["", f"*{note}*" if i else note]
    return "\n".join(lines + [""])


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


def render_rows(tables: list[Rows], fmt: str, study: str | None = None, exact: bool = False):
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
        from rich.console import Group

        return Group(*(rich_rows(t, exact) for t in tables))
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

"""A comparison (a study's variants, or whole networks) as a table, Markdown, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from rich.console import Group
from rich.text import Text

from cnncalc.analysis.compare import Comparison, metric
from cnncalc.render.analysis import convention_line, total_record
from cnncalc.render.numbers import ascii_shape, exact, fraction_text, shape_text
from cnncalc.render.tables import Col, Rows, rich_rows
from cnncalc.render.working import render_working, working_record


def _compare_rows(
    c: Comparison, shape=shape_text, field=fraction_text
) -> list[tuple[str, str, list, list]]:
    """(key, label, value per entry, ratio per Ratio) for each row of a comparison;
    ``shape`` and ``field`` write the shapes and receptive fields (ASCII for CSV)."""
    label = c.entries[0].analysis.convention.flops_label
    titles = {
        "params": "Params",
        "macs": "MACs",
        "mults": "Mults",
        "adds": "Adds",
        "flops": label.capitalize() if label != "FLOPs" else label,
        "space": "Space",
    }
    rows: list[tuple[str, str, list, list]] = [
        ("input", "Input", [shape(e.analysis.input) for e in c.entries], []),
        ("output", "Output", [shape(e.analysis.output) for e in c.entries], []),
    ]
    rows += [
        (m, titles[m], [metric(e.analysis, m) for e in c.entries], [r.values[m] for r in c.ratios])
        for m in c.metrics
    ]
    rows += [
        (
            "activations",
            "Activations",
            [e.analysis.total.activations for e in c.entries],
            [r.values["activations"] for r in c.ratios],
        ),
        ("depth", "Depth", [e.analysis.depth for e in c.entries], []),
        (
            "rf",
            "Receptive field",
            [field(e.analysis.layers[-1].rf) if e.analysis.layers else "–" for e in c.entries],
            [],
        ),
    ]
    return rows


def _ratio_text(value: Fraction | None) -> str:
    return "–" if value is None else f"{float(value):.2f}×"


def _compare_headers(c: Comparison, sep: str = "\n") -> list[str]:
    """Each ratio column says which way it divides: ``a ÷ b`` over ``(a needs N×)``,
    N times as much as b."""
    return [
        "",
        *(e.name for e in c.entries),
        *(f"{r.vs} ÷ {r.name}{sep}({r.vs} needs N× {r.name})" for r in c.ratios),
    ]


def _compare_cells(c: Comparison) -> list[list[str]]:
    return [
        [
            label,
            *(f"{v:,}" if isinstance(v, int) else str(v) for v in values),
            *((_ratio_text(r) for r in ratios) if ratios else [""] * len(c.ratios)),
        ]
        for _, label, values, ratios in _compare_rows(c)
    ]


def _compare_notes(c: Comparison) -> list[str]:
    notes = [f"{e.name}: {e.description}" for e in c.entries if e.description]
    if c.ratios:
        notes.append(
            "Ratios: “A ÷ B” is A's count divided by B's — how many times as much A needs as B."
        )
    return notes


def compare_rows(c: Comparison) -> Rows:
    """The comparison as a table: one row per metric, one column per entry, then the
    ratios."""
    headers = _compare_headers(c)
    cols = (
        (Col("metric", headers[0], "text"),)
        + tuple(Col(f"entry{i}", h, "int") for i, h in enumerate(headers[1 : 1 + len(c.entries)]))
        + tuple(Col(f"ratio{i}", h, "figure") for i, h in enumerate(headers[1 + len(c.entries) :]))
    )
    rows = tuple(
        {
            "metric": label,
            **{f"entry{i}": v for i, v in enumerate(values)},
            **{f"ratio{i}": _ratio_text(r) for i, r in enumerate(ratios)},
        }
        for _, label, values, ratios in _compare_rows(c)
    )
    notes = (*_compare_notes(c), convention_line(c.entries[0].analysis))
    return Rows(c.title, cols, rows, None, notes, compare_record(c))


def compare_table(c: Comparison, exact: bool = False) -> Group:
    return rich_rows(compare_rows(c), exact)


def compare_markdown(c: Comparison) -> str:
    headers = _compare_headers(c, " ")
    lines = [
        f"**{c.title}**",
        "",
        "| " + " | ".join(headers) + " |",
        "|:---|" + "---:|" * (len(headers) - 1),
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in _compare_cells(c)]
    lines += [
        "",
        *(f"- {n}" for n in _compare_notes(c)),
        "",
        f"*{convention_line(c.entries[0].analysis)}*",
        "",
    ]
    return "\n".join(lines)


def compare_record(c: Comparison) -> dict:
    return {
        "comparison": c.title,
        "convention": c.entries[0].analysis.convention.name,
        "entries": [
            {
                "name": e.name,
                "description": e.description,
                "vs": e.vs,
                "input": list(e.analysis.input),
                "output": list(e.analysis.output),
                "batch": e.analysis.batch,
                "total": total_record(e.analysis.total),
            }
            for e in c.entries
        ],
        "ratios": [
            {
                "name": r.name,
                "vs": r.vs,
                "ratio": f"{r.vs} ÷ {r.name}",
                "meaning": f"{r.vs}'s count divided by {r.name}'s: how many times as much "
                f"{r.vs} needs as {r.name}",
                **{m: (None if v is None else exact(v)) for m, v in r.values.items()},
            }
            for r in c.ratios
        ],
    }


def compare_csv(c: Comparison) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["metric", *(e.name for e in c.entries), *(f"{r.vs} / {r.name}" for r in c.ratios)]
    )
    for key, _, values, ratios in _compare_rows(c, ascii_shape, ascii_shape):
        writer.writerow(
            [
                key,
                *values,
                *(
                    (exact(r) if r is not None else "" for r in ratios)
                    if ratios
                    else [""] * len(c.ratios)
                ),
            ]
        )
    return buf.getvalue()


def render_compare(c: Comparison, fmt: str, exact: bool = False):
    """A comparison, and each entry's working after it where it has one."""
    if fmt == "json":
        record = compare_record(c)
        if c.entries[0].working:
            record["working"] = [working_record(e.working) for e in c.entries]
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if fmt == "table":
        out = compare_table(c, exact)
    else:
        out = {"csv": compare_csv, "markdown": compare_markdown}[fmt](c)
    if not c.entries[0].working or fmt == "csv":
        return out
    workings = [render_working(e.working, fmt) for e in c.entries]
    if isinstance(out, str):
        return "\n".join([out, *workings])
    return Group(out, *(Text(w) for w in workings))

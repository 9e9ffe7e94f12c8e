"""Every convention's total side by side (``--convention all``)."""

from __future__ import annotations

import csv
import io
import json

from cnncalc.analysis.stats import ConventionTotals
from cnncalc.render.document import join_documents
from cnncalc.render.numbers import shape_text
from cnncalc.render.tables import Col, Rows, rich_rows

CONVENTIONS_FIELDS = (
    "convention",
    "reports",
    "total",
    "vs_macs",
    "mults",
    "adds",
    "macs",
    "flops",
    "deconv_count",
    "reason",
    "source",
)


def conventions_records(totals: ConventionTotals) -> list[dict]:
    records = []
    for row in totals.rows:
        c, f = row.convention, row.figures
        records.append(
            {
                "convention": c.name,
                "reports": c.label,
                "total": row.reported,
                "vs_macs": f"{float(row.difference) * 100:+.2f}%",
                "mults": f.mults,
                "adds": f.adds,
                "macs": f.macs,
                "flops": f.flops,
                "deconv_count": totals.deconv or c.deconv,
                "reason": c.reason,
                "source": c.source,
            }
        )
    return records


def conventions_headline(totals: ConventionTotals) -> str:
    return (
        f"{totals.network}: input {shape_text(totals.input)}, batch "
        f"{totals.batch} — every convention's total"
    )


CONVENTIONS_NOTE = (
    "vs macs: the total against the same figure under macs (MACs, or 2·MACs "
    "for a FLOPs count). Each peer preset reproduces its tool's number, "
    "errors included; cnncalc flops NET --convention NAME shows it per layer."
)


def conventions_record(totals: ConventionTotals) -> dict:
    return {
        "network": totals.network,
        "input": list(totals.input),
        "batch": totals.batch,
        "deconv_count": totals.deconv,
        "conventions": conventions_records(totals),
    }


CONVENTIONS_COLS = (
    Col("convention", "Convention", "text"),
    Col("reports", "Reports", "text"),
    Col("total", "Total"),
    Col("vs_macs", "vs macs", "figure"),
    Col("reason", "Why it differs from macs", "text"),
)


def render_conventions(totals: ConventionTotals, fmt: str, exact: bool = False):
    """One row per convention: its total, what its tool calls it, and why it differs."""
    records = conventions_records(totals)
    if fmt == "json":
        return json.dumps(conventions_record(totals), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CONVENTIONS_FIELDS)
        for rec in records:
            writer.writerow([rec[f] for f in CONVENTIONS_FIELDS])
        return buf.getvalue()
    columns = tuple(c.title for c in CONVENTIONS_COLS)
    rows = [
        (r["convention"], r["reports"], f"{r['total']:,}", r["vs_macs"], r["reason"])
        for r in records
    ]
    if fmt == "markdown":
        lines = [
            f"**{conventions_headline(totals)}**",
            "",
            "| " + " | ".join(columns) + " |",
            "|:---|:---|---:|---:|:---|",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        return "\n".join(lines + ["", f"*{CONVENTIONS_NOTE}*", ""])
    table = Rows(
        conventions_headline(totals),
        CONVENTIONS_COLS,
        tuple(records),
        None,
        ("", CONVENTIONS_NOTE),
        conventions_record(totals),
    )
    return rich_rows(table, exact)


def render_conventions_each(
    each: list[ConventionTotals], fmt: str, study: str | None = None, exact: bool = False
):
    """Every convention's totals for several networks (a study's variants), one after
    another; JSON keeps one document."""

    def one(totals: ConventionTotals, fmt: str):
        return render_conventions(totals, fmt, exact)

    return join_documents(each, fmt, study, one, conventions_record)

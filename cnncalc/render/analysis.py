"""An analysis → a rich table, Markdown, JSON or CSV; several analyses (a study) in one document."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cnncalc.analysis.stats import Analysis, LayerStats, Totals
from cnncalc.render.numbers import (
    bar,
    exact,
    fraction_text,
    human,
    human_bytes,
    shape_text,
)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    cell: Callable[[LayerStats], Any]
    total: Callable[[Analysis], Any] | None = None
    numeric: bool = True


def _num(getter):
    return lambda row: getter(row)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("name", "Layer", lambda r: r.name, lambda a: "Total", numeric=False),
        Column("kind", "Kind", lambda r: r.kind, lambda a: "", numeric=False),
        Column(
            "out_shape",
            "Output",
            lambda r: shape_text(r.out_shape),
            lambda a: shape_text(a.output),
            numeric=False,
        ),
        Column("params", "Params", lambda r: r.params, lambda a: a.total.params),
        Column("buffers", "Buffers", lambda r: r.buffers, lambda a: a.total.buffers),
        Column(
            "connections", "Connections", lambda r: r.connections, lambda a: a.total.connections
        ),
        Column("memory", "Param memory", lambda r: r.memory, lambda a: a.total.memory),
        Column("mults", "Mults", lambda r: r.mults, lambda a: a.total.mults),
        Column("adds", "Adds", lambda r: r.adds, lambda a: a.total.adds),
        Column("macs", "MACs", lambda r: r.macs, lambda a: a.total.macs),
        Column("flops", "FLOPs", lambda r: r.flops, lambda a: a.total.flops),
        Column("space", "Space", lambda r: r.figures.space, lambda a: a.total.figures.space),
        Column(
            "activations", "Activations", lambda r: r.activations, lambda a: a.total.activations
        ),
        Column("rf", "RF", lambda r: fraction_text(r.rf), lambda a: "", numeric=False),
        Column("jump", "Jump", lambda r: fraction_text(r.jump), lambda a: "", numeric=False),
        Column("share", "Share of FLOPs", lambda r: r.share, lambda a: Fraction(1), numeric=False),
    )
}

VIEWS: dict[str, tuple[str, ...]] = {
    "shape": ("name", "kind", "out_shape", "rf", "jump"),
    "params": ("name", "kind", "out_shape", "params", "buffers", "connections", "memory"),
    "flops": ("name", "kind", "mults", "adds", "macs", "flops", "share"),
    "summary": (
        "name",
        "kind",
        "out_shape",
        "params",
        "macs",
        "flops",
        "activations",
        "rf",
        "share",
    ),
}


def view_columns(analysis: Analysis, view: str) -> list[Column]:
    """A view's columns as its convention names them (NNDL's FLOPs are its 'time'),
    with the convention's space column where it has one."""
    label = analysis.convention.flops_label
    columns = []
    for key in VIEWS[view]:
        column = COLUMNS[key]
        if key == "flops" and label != "FLOPs":
            column = replace(column, title=label.capitalize())
        if key == "share":
            column = replace(column, title=f"Share of {label}")
        columns.append(column)
        if key == "flops" and analysis.convention.space is not None:
            columns.append(COLUMNS["space"])
    return columns


def _cell_text(column: Column, value: Any) -> str:
    if column.key == "share":
        return bar(value)
    if column.key == "memory":
        return human_bytes(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def convention_line(analysis: Analysis) -> str:
    c = analysis.convention
    return f"Convention: {c.name} — {c.counts}. Source: {c.source}.{deconv_note(analysis)}"


def deconv_note(analysis: Analysis) -> str:
    """Said only when --deconv-count moved a transposed conv's MACs from where the
    convention counts them."""
    if analysis.deconv is None or analysis.deconv == analysis.convention.deconv:
        return ""
    return f" Transposed convs counted on their {analysis.deconv} (--deconv-count)."


def headline(analysis: Analysis) -> str:
    shown = f"output {shape_text(analysis.output)}"
    if len(analysis.outputs) > 1:
        shown = "outputs " + ", ".join(f"{n} {shape_text(s)}" for n, s in analysis.outputs)
    return (
        f"{analysis.network}: input {shape_text(analysis.input)}, batch {analysis.batch} → {shown}"
    )


def totals_line(analysis: Analysis) -> str:
    t = analysis.total
    return (
        f"Params {t.params:,} ({human(t.params)}), buffers {t.buffers:,}, "
        f"param memory {human_bytes(t.memory)} (float32); "
        f"MACs {t.macs:,} ({human(t.macs)}), {analysis.convention.flops_label} "
        f"{t.flops:,} ({human(t.flops)}){_space_text(t.figures.space)}; "
        f"activations {t.activations:,} ({human_bytes(t.activation_memory)} float32); "
        f"depth {t.depth}"
    )


def _space_text(space: int | None) -> str:
    return "" if space is None else f", space {space:,} ({human(space)})"


def rich_table(analysis: Analysis, view: str) -> Group:
    columns = view_columns(analysis, view)
    table = Table(title=headline(analysis), title_justify="left")
    for c in columns:
        table.add_column(
            c.title,
            justify="right" if c.numeric else "left",
            no_wrap=c.key in ("name", "share", "out_shape"),
        )
    for row in analysis.layers:
        table.add_row(*(_cell_text(c, c.cell(row)) for c in columns))
    table.add_section()
    table.add_row(
        *(Text(_cell_text(c, c.total(analysis)), style="bold") if c.total else "" for c in columns)
    )
    return Group(table, Text(totals_line(analysis)), Text(convention_line(analysis), style="dim"))


def markdown_table(analysis: Analysis, view: str) -> str:
    columns = view_columns(analysis, view)
    lines = [
        f"**{headline(analysis)}**",
        "",
        "| " + " | ".join(c.title for c in columns) + " |",
        "|" + "|".join("---:" if c.numeric else ":---" for c in columns) + "|",
    ]
    for row in analysis.layers:
        cells = [_cell_text(c, c.cell(row)) for c in columns]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append(
        "| "
        + " | ".join(
            f"**{_cell_text(c, c.total(analysis))}**"
            if c.total and _cell_text(c, c.total(analysis))
            else ""
            for c in columns
        )
        + " |"
    )
    lines += ["", totals_line(analysis), "", f"*{convention_line(analysis)}*", ""]
    return "\n".join(lines)


def _with_space(record: dict, space: int | None) -> dict:
    """The convention's space figure, where it has one (NNDL), after the FLOPs."""
    if space is None:
        return record
    keys = list(record)
    at = keys.index("flops") + 1
    return {
        **{k: record[k] for k in keys[:at]},
        "space": space,
        **{k: record[k] for k in keys[at:]},
    }


def layer_record(row: LayerStats) -> dict:
    return _with_space(
        {
            "name": row.name,
            "kind": row.kind,
            "in_shape": list(row.in_shape),
            "out_shape": list(row.out_shape),
            "params": row.params,
            "buffers": row.buffers,
            "connections": row.connections,
            "mults": row.mults,
            "adds": row.adds,
            "macs": row.macs,
            "flops": row.flops,
            "activations": row.activations,
            "rf": [exact(v) for v in row.rf],
            "jump": [exact(v) for v in row.jump],
            "depth": row.depth,
            "ops": row.ops.as_dict(),
        },
        row.figures.space,
    )


def total_record(total: Totals) -> dict:
    return _with_space(
        {
            "params": total.params,
            "buffers": total.buffers,
            "connections": total.connections,
            "mults": total.mults,
            "adds": total.adds,
            "macs": total.macs,
            "flops": total.flops,
            "activations": total.activations,
            "depth": total.depth,
            "ops": total.ops.as_dict(),
        },
        total.figures.space,
    )


def json_record(analysis: Analysis) -> dict:
    return {
        "network": analysis.network,
        "input": list(analysis.input),
        "output": list(analysis.output),
        **_outputs_record(analysis),
        "batch": analysis.batch,
        "convention": analysis.convention.name,
        "layers": [layer_record(r) for r in analysis.layers],
        "total": total_record(analysis.total),
    }


def _outputs_record(analysis: Analysis) -> dict:
    """``"outputs": [{"name", "out_shape"}, ...]`` for a network with several outputs
    (``output`` is then the first one's shape)."""
    if len(analysis.outputs) < 2:
        return {}
    return {
        "outputs": [{"name": name, "out_shape": list(shape)} for name, shape in analysis.outputs]
    }


def json_text(analysis: Analysis) -> str:
    return json.dumps(json_record(analysis), indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS = (
    "name",
    "kind",
    "out_shape",
    "params",
    "buffers",
    "connections",
    "mults",
    "adds",
    "macs",
    "flops",
    "activations",
    "rf",
    "jump",
    "depth",
)


def csv_text(analysis: Analysis) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS + ("convention",))
    for row in analysis.layers:
        rec = layer_record(row)
        writer.writerow(
            [
                ("x".join(str(v) for v in rec[f]) if isinstance(rec[f], list) else rec[f])
                for f in CSV_FIELDS
            ]
            + [analysis.convention.name]
        )
    tot = total_record(analysis.total)
    writer.writerow(
        [("total" if f == "name" else tot.get(f, "")) for f in CSV_FIELDS]
        + [analysis.convention.name]
    )
    return buf.getvalue()

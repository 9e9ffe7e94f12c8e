"""An analysis → a rich table, Markdown, JSON or CSV; several analyses (a study) in one document."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from fractions import Fraction
from operator import attrgetter
from typing import TYPE_CHECKING, Callable

from cnncalc.analysis.names import BLOCK, layer_path
from cnncalc.analysis.stats import Analysis, LayerStats, Totals
from cnncalc.kinds.arith import prod
from cnncalc.render.columns import Col
from cnncalc.render.jsonout import json_chunks, json_document
from cnncalc.render.numbers import exact, fraction_text, human, human_bytes, shape_text

if TYPE_CHECKING:
    from cnncalc.analysis.fold import Block
    from cnncalc.render.tables import Rows

# the table model (cnncalc.render.tables) is imported by the functions that draw a table,
# and the folding (cnncalc.analysis.fold) where --depth asks for it: JSON and CSV never load
# the one, a report of every layer never the other (issue 11: start-up)

ANALYSIS_COLS: dict[str, Col] = {
    c.key: c
    for c in (
        Col("name", "Layer", "text"),
        Col("kind", "Kind", "text"),
        Col("out_shape", "Output", "shape"),
        Col("params", "Params"),
        Col("buffers", "Buffers"),
        Col("connections", "Connections", short="Connec- tions"),
        Col("memory", "Param memory", "bytes"),
        Col("mults", "Mults"),
        Col("adds", "Adds"),
        Col("macs", "MACs"),
        Col("flops", "FLOPs"),
        Col("space", "Space"),
        Col("activations", "Activations", short="Activ- ations"),
        Col("rf", "RF", "fixed"),
        Col("jump", "Jump", "fixed"),
        Col("share", "Share of FLOPs", "share"),
    )
}
"""Every column an analysis view may show, keyed as its rows and its JSON are."""

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


def view_columns(analysis: Analysis, view: str) -> tuple[Col, ...]:
    """A view's columns as its convention names them (NNDL's FLOPs are its 'time'),
    with the convention's space column where it has one."""
    label = analysis.convention.flops_label
    columns = []
    for key in VIEWS[view]:
        column = ANALYSIS_COLS[key]
        if key == "flops" and label != "FLOPs":
            column = column._replace(title=label.capitalize())
        if key == "share":
            column = column._replace(title=f"Share of {label}")
        columns.append(column)
        if key == "flops" and analysis.convention.space is not None:
            columns.append(ANALYSIS_COLS["space"])
    return tuple(columns)


def folded(analysis: Analysis, depth: int) -> tuple[Block, ...]:
    """:func:`cnncalc.analysis.fold.fold_analysis`, whose module only --depth loads."""
    from cnncalc.analysis.fold import fold_analysis

    return fold_analysis(analysis, depth)


def kind_text(row: LayerStats | Block) -> str:
    """A layer's kind; a folded block's layer count (a block of one layer has that
    layer's kind, and no layer's kind is BLOCK)."""
    if row.kind == BLOCK:
        return f"{len(row.layers)} layers"
    return row.kind


def stats_row(row: LayerStats | Block) -> dict:
    """One layer's (or a folded block's) numbers, keyed as :data:`ANALYSIS_COLS`."""
    return {
        "name": row.name,
        "kind": kind_text(row),
        "out_shape": row.out_shape,
        "params": row.params,
        "buffers": row.buffers,
        "connections": row.connections,
        "memory": row.memory,
        "mults": row.mults,
        "adds": row.adds,
        "macs": row.macs,
        "flops": row.flops,
        "space": row.figures.space,
        "activations": row.activations,
        "rf": fraction_text(row.rf),
        "jump": fraction_text(row.jump),
        "share": row.share,
    }


def total_row(analysis: Analysis) -> dict:
    t = analysis.total
    return {
        "name": "Total",
        "out_shape": analysis.output,
        "params": t.params,
        "buffers": t.buffers,
        "connections": t.connections,
        "memory": t.memory,
        "mults": t.mults,
        "adds": t.adds,
        "macs": t.macs,
        "flops": t.flops,
        "space": t.figures.space,
        "activations": t.activations,
        "share": Fraction(1),
    }


def analysis_table(analysis: Analysis, view: str, depth: int | None = None) -> Rows:
    """The shape/params/flops/summary view of an analysis as one table; with ``depth``,
    the layers folded into their blocks (:func:`cnncalc.analysis.fold.fold_analysis`)."""
    from cnncalc.render.tables import Rows

    rows = analysis.layers if depth is None else folded(analysis, depth)
    return Rows(
        analysis_title(analysis, depth),
        view_columns(analysis, view),
        tuple(stats_row(r) for r in rows),
        total_row(analysis),
        (
            *resized_notes(analysis.resized, analysis.file_input),
            totals_line(analysis),
            convention_line(analysis),
        ),
        json_record(analysis, depth),
    )


def analysis_title(analysis: Analysis, depth: int | None = None) -> str:
    return headline(analysis) + ("" if depth is None else f" — blocks to depth {depth}")


def convention_line(analysis: Analysis) -> str:
    c = analysis.convention
    return f"Convention: {c.name} — {c.counts}. Source: {c.source}.{deconv_note(analysis)}"


def deconv_note(analysis: Analysis) -> str:
    """Said only when --deconv-count moved a transposed conv's MACs from where the
    convention counts them."""
    if analysis.deconv is None or analysis.deconv == analysis.convention.deconv:
        return ""
    return f" Transposed convs counted on their {analysis.deconv} (--deconv-count)."


def intake(in_shape, out_shape) -> str:
    """What a layer takes in: an fc's number of inputs (8,192), another layer's input
    shape (1×224×224)."""
    return f"{prod(in_shape):,}" if len(out_shape) == 1 else shape_text(in_shape)


def resized_notes(resized, file_input) -> list[str]:
    """``fc1 takes 8,192 inputs at this size, 2,048 at the file's 3×32×32``: the layers
    whose parameters --input changed, said under the table."""
    return [
        f"{r.name} takes {intake(r.in_shape, r.out_shape)}"
        f"{' inputs' if len(r.out_shape) == 1 else ''} at this size, "
        f"{intake(r.file_in_shape, r.out_shape)} at the file's {shape_text(file_input)}: "
        f"{r.params:,} parameters instead of {r.file_params:,}."
        for r in resized
    ]


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


LARGE_TABLE_ROWS = 2_000
"""Past this many rows a table is written as plain aligned text (rich measures every cell of
every row: 100,000 rows took minutes) and says how to fold it."""


def fold_note(rows: int) -> str:
    return (
        f"{rows:,} rows. For a shorter table fold the network by block with --depth N; "
        "for every row in a spreadsheet or script, --format csv."
    )


def rich_table(analysis: Analysis, view: str, depth: int | None = None, exact: bool = False):
    """The view as a table fitted to the terminal; a table of more than
    :data:`LARGE_TABLE_ROWS` rows as plain aligned text (:func:`plain_rows`), line by line,
    ending with :func:`fold_note`."""
    from cnncalc.render.tables import plain_rows, rich_rows

    rows = analysis.layers if depth is None else folded(analysis, depth)
    if len(rows) > LARGE_TABLE_ROWS:
        return plain_rows(
            analysis_title(analysis, depth),
            view_columns(analysis, view),
            lambda: (stats_row(r) for r in rows),
            total_row(analysis),
            (totals_line(analysis), convention_line(analysis), fold_note(len(rows))),
        )
    return rich_rows(analysis_table(analysis, view, depth), exact)


def markdown_table(analysis: Analysis, view: str, depth: int | None = None) -> str:
    from cnncalc.render.tables import markdown_rows

    return markdown_rows(analysis_table(analysis, view, depth))


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


def _site_record(row: LayerStats) -> dict:
    """The part of a layer's record its site decides (kind, shapes, counts), in the
    record's order, the convention's space after the FLOPs where it has one."""
    return _with_space(
        {
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
        },
        row.figures.space,
    )


def _field_record(row: LayerStats) -> tuple[list, list]:
    """A layer's receptive field and jump as JSON numbers."""
    return [exact(v) for v in row.rf], [exact(v) for v in row.jump]


def layer_record(
    row: LayerStats, site: tuple[dict, dict] | None = None, field: tuple[list, list] | None = None
) -> dict:
    """One layer as JSON; ``site`` is its :func:`_site_record` and its ``ops``, ``field``
    its :func:`_field_record`, when already made for a layer alike (the records then share
    them: write them, never edit them)."""
    head, ops = site or (_site_record(row), row.ops.as_dict())
    rf, jump = field or _field_record(row)
    return {
        "name": row.name,
        "path": list(layer_path(row.name)),
        **head,
        "rf": rf,
        "jump": jump,
        "depth": row.depth,
        "ops": ops,
    }


def layer_records(layers: Iterable[LayerStats]) -> Iterator[dict]:
    """Each layer's record, the part its site decides made once for all the layers alike
    (a repeated block's: they share one :class:`SiteCounts`), and its field's once for the
    layers in a row that pass one field on (a ReLU after its conv): a network of 100,000
    layers makes a few hundred site parts, not 100,000, and keeps only the last field's."""
    sites: dict[int, tuple[dict, dict]] = {}
    last_field, field = None, ([], [])  # only the last: a field passes on to the next layers
    for row in layers:
        site = sites.get(id(row.counts))
        if site is None:
            site = sites[id(row.counts)] = (_site_record(row), row.ops.as_dict())
        if row.node.field is not last_field:
            last_field, field = row.node.field, _field_record(row)
        yield layer_record(row, site, field)


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


def resized_record(r) -> dict:
    """A layer whose parameters --input changed, as JSON."""
    return {
        "name": r.name,
        "in_shape": list(r.in_shape),
        "file_in_shape": list(r.file_in_shape),
        "params": r.params,
        "file_params": r.file_params,
    }


def block_record(block: Block) -> dict:
    """A folded block in JSON: its subtotals, its layers' names, the shape out of it."""
    return _with_space(
        {
            "name": block.name,
            "path": list(layer_path(block.name)),
            "kind": block.kind,
            "layers": [l.name for l in block.layers],
            "in_shape": list(block.in_shape),
            "out_shape": list(block.out_shape),
            "params": block.params,
            "buffers": block.buffers,
            "connections": block.connections,
            "mults": block.mults,
            "adds": block.adds,
            "macs": block.macs,
            "flops": block.flops,
            "activations": block.activations,
        },
        block.figures.space,
    )


def json_record(analysis: Analysis, depth: int | None = None, layers: Callable = list) -> dict:
    """The JSON contract; every layer always, and with ``depth`` the folded blocks too.
    ``layers=iter`` gives the layers' records one at a time, as :func:`json_stream` writes them."""
    record = {
        "network": analysis.network,
        "input": list(analysis.input),
        "output": list(analysis.output),
        **_outputs_record(analysis),
        "batch": analysis.batch,
        "convention": analysis.convention.name,
        "layers": layers(layer_records(analysis.layers)),
        "total": total_record(analysis.total),
        **(
            {
                "file_input": list(analysis.file_input),
                "resized": [resized_record(r) for r in analysis.resized],
            }
            if analysis.resized
            else {}
        ),
    }
    if depth is not None:
        record["fold_depth"] = depth
        record["blocks"] = [block_record(b) for b in folded(analysis, depth)]
    return record


def _outputs_record(analysis: Analysis) -> dict:
    """``"outputs": [{"name", "out_shape"}, ...]`` for a network with several outputs
    (``output`` is then the first one's shape)."""
    if len(analysis.outputs) < 2:
        return {}
    return {
        "outputs": [{"name": name, "out_shape": list(shape)} for name, shape in analysis.outputs]
    }


def json_text(analysis: Analysis, depth: int | None = None) -> str:
    return json_document(json_record(analysis, depth, layers=iter))


def json_stream(analysis: Analysis, depth: int | None = None) -> Iterator[str]:
    """:func:`json_text` in pieces, each layer's record made as it is written (a network of
    100,000 layers never holds all its records, nor its whole text)."""
    return json_chunks(json_record(analysis, depth, layers=iter))


CSV_SITE_FIELDS = (
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
)
"""The CSV columns a layer's site decides: the same for every layer alike."""
CSV_FIELD_FIELDS = ("rf", "jump")
"""The CSV columns of a layer's receptive field."""
CSV_FIELDS = ("name", *CSV_SITE_FIELDS, *CSV_FIELD_FIELDS, "depth")


def _joined(read: Callable) -> Callable:
    """A cell of several values, ``56x56``, read off a layer's stats."""
    return lambda row: "x".join([str(exact(v)) for v in read(row)])


CSV_CELLS: dict[str, Callable] = {
    "out_shape": lambda row: "x".join(map(str, row.out_shape)),
    "rf": _joined(attrgetter("rf")),
    "jump": _joined(attrgetter("jump")),
}
"""The CSV cells that are not one attribute of a layer's stats as it is (a shape, a field)."""


def _csv_cells(fields: tuple[str, ...]) -> Callable:
    """The cells of some columns of a layer's row, as one function."""
    cells = [CSV_CELLS.get(f) or attrgetter(f) for f in fields]
    return lambda row: [cell(row) for cell in cells]


def csv_text(analysis: Analysis) -> str:
    """One line a layer; the cells a layer's site decides, and its field's, are written
    once for all the layers alike (:func:`layer_records` does the same for JSON)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS + ("convention",))
    site_cells, field_cells = _csv_cells(CSV_SITE_FIELDS), _csv_cells(CSV_FIELD_FIELDS)
    convention = analysis.convention.name
    sites: dict[int, list] = {}

    def lines() -> Iterator[list]:
        last_field, field = None, []  # only the last: a field passes on to the next layers
        for row in analysis.layers:
            site = sites.get(id(row.counts))
            if site is None:
                site = sites[id(row.counts)] = site_cells(row)
            if row.node.field is not last_field:
                last_field, field = row.node.field, field_cells(row)
            yield [row.name, *site, *field, row.depth, convention]

    writer.writerows(lines())
    tot = total_record(analysis.total)
    writer.writerow(
        [("total" if f == "name" else tot.get(f, "")) for f in CSV_FIELDS]
        + [analysis.convention.name]
    )
    return buf.getvalue()

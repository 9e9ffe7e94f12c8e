"""``cnncalc zoo``: the catalogue of built-in networks and studies as a table, JSON, CSV or Markdown."""

from __future__ import annotations

from dataclasses import asdict

from rich.table import Table

from cnncalc.analysis.catalog import ZooEntry
from cnncalc.kinds.describe import KindInfo, OptionInfo
from cnncalc.render.numbers import ascii_shape, shape_text
from cnncalc.render.tables import Col, Rows, rich_rows

CATALOG_TITLE = "Built-in networks and studies (use the name wherever a file goes)"
CATALOG_COLS = (
    Col("name", "Name", "fixed"),
    Col("title", "Title", "text"),
    Col("type", "Type", "text"),
    Col("input", "Input", "shape"),
    Col("source", "Source", "text"),
)


def _json(records: list) -> str:
    import json

    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def catalog_render(entries: list[ZooEntry], fmt: str):
    if fmt == "json":
        return _json(
            [
                {
                    "name": e.name,
                    "title": e.title,
                    "type": e.kind,
                    "input": list(e.input),
                    "source": e.source,
                    "variants": list(e.variants),
                }
                for e in entries
            ]
        )
    if fmt in ("csv", "markdown"):
        sep = "," if fmt == "csv" else " | "
        rows = [("name", "title", "type", "input", "source", "variants")]
        rows += [
            (
                e.name,
                e.title,
                e.kind,
                ascii_shape(e.input) if fmt == "csv" else shape_text(e.input),
                e.source,
                " ".join(e.variants),
            )
            for e in entries
        ]
        if fmt == "csv":
            import csv
            import io

            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            return buf.getvalue()
        lines = ["| " + sep.join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + sep.join(r) + " |" for r in rows[1:]]
        return "\n".join(lines) + "\n"
    rows = tuple(
        {
            "name": e.name,
            "title": e.title + (f" ({', '.join(e.variants)})" if e.variants else ""),
            "type": e.kind,
            "input": e.input,
            "source": e.source,
        }
        for e in entries
    )
    return rich_rows(Rows(CATALOG_TITLE, CATALOG_COLS, rows, None, (), {}))


def _option_text(o: OptionInfo) -> str:
    default = "required" if o.default is None else f"default {o.default}"
    return f"{o.name}: {o.type} ({default})"


def kinds_render(kinds: list[KindInfo], fmt: str):
    """``cnncalc kinds``: every kind with how it is written, its options and its rule."""
    if fmt == "json":
        return _json(
            [
                {
                    "kind": k.key,
                    **{f: v for f, v in asdict(k).items() if f not in ("key", "options")},
                    "options": [asdict(o) | {"required": o.default is None} for o in k.options],
                }
                for k in kinds
            ]
        )
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("kind", "option", "type", "default", "formula"))
        for k in kinds:
            for o in k.options or (None,):
                writer.writerow(
                    (k.key, o.name, o.type, "required" if o.default is None else o.default)
                    + (k.formula,)
                    if o
                    else (k.key, "", "", "", k.formula)
                )
        return buf.getvalue()
    if fmt == "markdown":
        lines = ["| kind | written | options | rule |", "|---|---|---|---|"]
        for k in kinds:
            options = "<br>".join(_option_text(o) for o in k.options) or "none"
            cells = (f"`{k.key}`", f"`{k.example}`", options, k.formula)
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"
    table = Table(
        title="Layer kinds (a layer is {kind: value, option: value}; the options' "
        "types and ranges are also in 'cnncalc schema')",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("Kind", no_wrap=True)
    table.add_column("Written", no_wrap=True)
    table.add_column("Options")
    table.add_column("Rule")
    for k in kinds:
        table.add_row(
            k.key,
            k.example,
            "\n".join(_option_text(o) for o in k.options) or "none",
            k.formula,
        )
    return table

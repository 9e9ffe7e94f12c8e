"""``cnncalc zoo``: the catalogue of built-in networks and studies as a table, JSON, CSV or Markdown."""

from __future__ import annotations

from cnncalc.analysis.catalog import ZooEntry
from cnncalc.render.numbers import shape_text
from cnncalc.render.tables import Col, Rows, rich_rows

CATALOG_TITLE = "Built-in networks and studies (use the name wherever a file goes)"
CATALOG_COLS = (
    Col("name", "Name", "fixed"),
    Col("title", "Title", "text"),
    Col("type", "Type", "text"),
    Col("input", "Input", "shape"),
    Col("source", "Source", "text"),
)


def catalog_render(entries: list[ZooEntry], fmt: str):
    if fmt == "json":
        import json

        return (
            json.dumps(
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
                ],
                indent=2,
            )
            + "\n"
        )
    if fmt in ("csv", "markdown"):
        sep = "," if fmt == "csv" else " | "
        rows = [("name", "title", "type", "input", "source")]
        rows += [(e.name, e.title, e.kind, shape_text(e.input), e.source) for e in entries]
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

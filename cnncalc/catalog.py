"""What ``cnncalc zoo`` lists: every built-in network and study, read from its file."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from .api import load
from .report import shape_text
from .zoo import zoo_names


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    kind: str          # "network" or "study"
    input: tuple
    source: str
    variants: tuple[str, ...]


def catalog() -> list[Entry]:
    entries = []
    for name in zoo_names():
        spec = load(name)
        entries.append(Entry(name, spec.name, "study" if spec.variants else "network",
                             spec.input, spec.source, tuple(spec.variants or ())))
    return entries


def catalog_render(entries: list[Entry], fmt: str):
    if fmt == "json":
        import json
        return json.dumps([{"name": e.name, "title": e.title, "type": e.kind,
                            "input": list(e.input), "source": e.source,
                            "variants": list(e.variants)} for e in entries], indent=2) + "\n"
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
    table = Table(title="Built-in networks and studies (use the name wherever a file goes)")
    for col in ("Name", "Title", "Type", "Input", "Source"):
        table.add_column(col)
    for e in entries:
        title = e.title + (f" ({', '.join(e.variants)})" if e.variants else "")
        table.add_row(e.name, title, e.kind, shape_text(e.input), e.source)
    return table

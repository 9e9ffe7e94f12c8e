"""Analysis → what a person or a script reads: rich tables, JSON, CSV, Markdown.

Presentation only: every number comes from :mod:`cnncalc.analysis`; this
module formats (thousands separators, readable units, bars) and never counts.
JSON and CSV carry exact integers and never round.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .analysis import Analysis, ConventionTotals, LayerStats, Totals
from .answers import Answer
from .compare import Comparison, metric
from .explain import Working
from .formula import Formula

FORMATS = ("table", "json", "csv", "markdown")


def human(n: int | Fraction, unit: str = "") -> str:
    """5,898,240,000 → '5.90 G' (for people only)."""
    for scale, prefix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= scale:
            return f"{float(n) / scale:.2f} {prefix}{unit}"
    return f"{n} {unit}".rstrip()


def human_bytes(n: int) -> str:
    for scale, prefix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.2f} {prefix}"
    return f"{n} B"


def shape_text(shape) -> str:
    return "×".join(str(v) for v in shape)


def exact(value: Fraction) -> int | str:
    """A receptive-field number as JSON: an int, or 'p/q' when a transposed conv made it fractional."""
    return int(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def fraction_text(values) -> str:
    return "×".join(str(exact(v)) for v in values) if values else "–"


def bar(share: Fraction, width: int = 10) -> str:
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")).ljust(width) + f" {float(share) * 100:5.1f}%"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    cell: Callable[[LayerStats], Any]
    total: Callable[[Analysis], Any] | None = None
    numeric: bool = True


def _num(getter):
    return lambda row: getter(row)


COLUMNS: dict[str, Column] = {c.key: c for c in (
    Column("name", "Layer", lambda r: r.name, lambda a: "Total", numeric=False),
    Column("kind", "Kind", lambda r: r.kind, lambda a: "", numeric=False),
    Column("out_shape", "Output", lambda r: shape_text(r.out_shape),
           lambda a: shape_text(a.output), numeric=False),
    Column("params", "Params", lambda r: r.params, lambda a: a.total.params),
    Column("buffers", "Buffers", lambda r: r.buffers, lambda a: a.total.buffers),
    Column("connections", "Connections", lambda r: r.connections, lambda a: a.total.connections),
    Column("memory", "Param memory", lambda r: r.memory, lambda a: a.total.memory),
    Column("mults", "Mults", lambda r: r.mults, lambda a: a.total.mults),
    Column("adds", "Adds", lambda r: r.adds, lambda a: a.total.adds),
    Column("macs", "MACs", lambda r: r.macs, lambda a: a.total.macs),
    Column("flops", "FLOPs", lambda r: r.flops, lambda a: a.total.flops),
    Column("space", "Space", lambda r: r.figures.space, lambda a: a.total.figures.space),
    Column("activations", "Activations", lambda r: r.activations, lambda a: a.total.activations),
    Column("rf", "RF", lambda r: fraction_text(r.rf), lambda a: "", numeric=False),
    Column("jump", "Jump", lambda r: fraction_text(r.jump), lambda a: "", numeric=False),
    Column("share", "Share of FLOPs", lambda r: r.share, lambda a: Fraction(1), numeric=False),
)}

VIEWS: dict[str, tuple[str, ...]] = {
    "shape": ("name", "kind", "out_shape", "rf", "jump"),
    "params": ("name", "kind", "out_shape", "params", "buffers", "connections", "memory"),
    "flops": ("name", "kind", "mults", "adds", "macs", "flops", "share"),
    "summary": ("name", "kind", "out_shape", "params", "macs", "flops", "activations", "rf",
                "share"),
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
    return (f"{analysis.network}: input {shape_text(analysis.input)}, batch {analysis.batch} "
            f"→ output {shape_text(analysis.output)}")


def totals_line(analysis: Analysis) -> str:
    t = analysis.total
    return (f"Params {t.params:,} ({human(t.params)}), buffers {t.buffers:,}, "
            f"param memory {human_bytes(t.memory)} (float32); "
            f"MACs {t.macs:,} ({human(t.macs)}), {analysis.convention.flops_label} "
            f"{t.flops:,} ({human(t.flops)}){_space_text(t.figures.space)}; "
            f"activations {t.activations:,} ({human_bytes(t.activation_memory)} float32); "
            f"depth {t.depth}")


def _space_text(space: int | None) -> str:
    return "" if space is None else f", space {space:,} ({human(space)})"


def rich_table(analysis: Analysis, view: str) -> Group:
    columns = view_columns(analysis, view)
    table = Table(title=headline(analysis), title_justify="left")
    for c in columns:
        table.add_column(c.title, justify="right" if c.numeric else "left",
                         no_wrap=c.key in ("name", "share", "out_shape"))
    for row in analysis.layers:
        table.add_row(*(_cell_text(c, c.cell(row)) for c in columns))
    table.add_section()
    table.add_row(*(Text(_cell_text(c, c.total(analysis)), style="bold") if c.total else ""
                    for c in columns))
    return Group(table, Text(totals_line(analysis)), Text(convention_line(analysis), style="dim"))


def markdown_table(analysis: Analysis, view: str) -> str:
    columns = view_columns(analysis, view)
    lines = [f"**{headline(analysis)}**", "",
             "| " + " | ".join(c.title for c in columns) + " |",
             "|" + "|".join("---:" if c.numeric else ":---" for c in columns) + "|"]
    for row in analysis.layers:
        cells = [_cell_text(c, c.cell(row)) for c in columns]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines.append("| " + " | ".join(f"**{_cell_text(c, c.total(analysis))}**" if c.total
                                    and _cell_text(c, c.total(analysis)) else ""
                                    for c in columns) + " |")
    lines += ["", totals_line(analysis), "", f"*{convention_line(analysis)}*", ""]
    return "\n".join(lines)


def _with_space(record: dict, space: int | None) -> dict:
    """The convention's space figure, where it has one (NNDL), after the FLOPs."""
    if space is None:
        return record
    keys = list(record)
    at = keys.index("flops") + 1
    return {**{k: record[k] for k in keys[:at]}, "space": space, **{k: record[k] for k in keys[at:]}}


def layer_record(row: LayerStats) -> dict:
    return _with_space({
        "name": row.name, "kind": row.kind, "in_shape": list(row.in_shape),
        "out_shape": list(row.out_shape), "params": row.params, "buffers": row.buffers,
        "connections": row.connections, "mults": row.mults, "adds": row.adds,
        "macs": row.macs, "flops": row.flops, "activations": row.activations,
        "rf": [exact(v) for v in row.rf], "jump": [exact(v) for v in row.jump],
        "depth": row.depth, "ops": row.ops.as_dict(),
    }, row.figures.space)


def total_record(total: Totals) -> dict:
    return _with_space({
        "params": total.params, "buffers": total.buffers, "connections": total.connections,
        "mults": total.mults, "adds": total.adds, "macs": total.macs, "flops": total.flops,
        "activations": total.activations, "depth": total.depth,
        "ops": total.ops.as_dict()}, total.figures.space)


def json_record(analysis: Analysis) -> dict:
    return {
        "network": analysis.network, "input": list(analysis.input),
        "output": list(analysis.output), "batch": analysis.batch,
        "convention": analysis.convention.name,
        "layers": [layer_record(r) for r in analysis.layers],
        "total": total_record(analysis.total),
    }


def json_text(analysis: Analysis) -> str:
    return json.dumps(json_record(analysis), indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS = ("name", "kind", "out_shape", "params", "buffers", "connections", "mults", "adds",
              "macs", "flops", "activations", "rf", "jump", "depth")


def csv_text(analysis: Analysis) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS + ("convention",))
    for row in analysis.layers:
        rec = layer_record(row)
        writer.writerow([("x".join(str(v) for v in rec[f]) if isinstance(rec[f], list) else rec[f])
                         for f in CSV_FIELDS] + [analysis.convention.name])
    tot = total_record(analysis.total)
    writer.writerow([("total" if f == "name" else tot.get(f, "")) for f in CSV_FIELDS]
                    + [analysis.convention.name])
    return buf.getvalue()


# --------------------------------------------------------------------------- working

TOPIC_TITLES = {"shape": "the output shapes", "params": "the parameters and connections",
                "flops": "the operations", "all": "shapes, parameters and operations"}

_BIG = re.compile(r"(?<![\d.])\d{5,}")


def grouped(text: str, sep: str = ",") -> str:
    """Thousands separators in the numbers of five digits or more: 122304 → 122,304."""
    return _BIG.sub(lambda m: f"{int(m.group()):,}".replace(",", sep), text)


def _parts(f: Formula) -> list[str]:
    """what = symbolic = substituted = result, a part left out where it adds nothing."""
    parts = [f.what]
    for part in (f.symbolic, f.substituted):
        if part and part not in parts[1:] and part != f.result:
            parts.append(part)
    return parts + [f.result]


def formula_text(f: Formula) -> str:
    """``H = ⌊(n_h − k_h + p_h + s_h) / s_h⌋ = ⌊(32 − 5 + 0 + 1) / 1⌋ = 28`` (and its note)."""
    return " = ".join(grouped(p) for p in _parts(f)) + (f"  ({grouped(f.note)})" if f.note else "")


_LATEX = {"⌊": r"\lfloor ", "⌋": r"\rfloor ", "⌈": r"\lceil ", "⌉": r"\rceil ",
          "·": r"\cdot ", "−": "-", "×": r"\times ", "Σ": r"\sum ", "²": "^2", "³": "^3",
          "…": r"\dots ", "ᵀ": r"^\top ", "≈": r"\approx ", "÷": r"\div ", "%": r"\%",
          "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "σ": r"\sigma ", "ε": r"\epsilon ",
          "μ": r"\mu ", "√": r"\sqrt ", "→": r"\to ", "|": r"\vert "}
_SUBSCRIPT = re.compile(r"_([A-Za-z0-9]{2,})")
_WORDS = re.compile(r"(?<![\\A-Za-z0-9_{])[A-Za-z][A-Za-z0-9'\-]*(?: [A-Za-z][A-Za-z0-9'\-]*)*")


def latex(text: str) -> str:
    """A formula written in Unicode as LaTeX math: ⌊…⌋ → \\lfloor…\\rfloor, words in \\text{}."""
    text = _SUBSCRIPT.sub(r"_{\1}", text)
    text = _WORDS.sub(lambda m: m.group() if len(m.group()) == 1 else rf"\text{{{m.group()}}}", text)
    text = "".join(_LATEX.get(ch, ch) for ch in text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "{,}", text)
    return grouped(text, "{,}").replace("  ", " ").strip()


def formula_latex(f: Formula) -> str:
    math = " = ".join(latex(p) for p in _parts(f))
    return f"${math}$" + (f" — *{grouped(f.note)}*" if f.note else "")


def _transition(layer) -> str:
    ins = " + ".join(shape_text(s) for s in layer.in_shapes)
    return f"{ins} → {shape_text(layer.out_shape)}"


def _batch_note(analysis: Analysis) -> list[str]:
    if analysis.batch == 1:
        return []
    return [f"The working is for one sample; the totals are for the batch of {analysis.batch}."]


def layers_text(layers, indent: str = "") -> list[str]:
    """Each layer's working, one line each, the layer's name in front (for the terminal)."""
    width = max((len(layer.name) for layer in layers), default=0)
    lines = []
    for layer in layers:
        lines.append(f"{indent}{layer.name:<{width}}  [{layer.kind}] {_transition(layer)}")
        lines += [f"{indent}{layer.name:<{width}}  {formula_text(f)}" for f in layer.lines]
    return lines


def layers_markdown(layers) -> list[str]:
    """Each layer's working as a list of LaTeX formulas under its name."""
    lines = []
    for layer in layers:
        lines += [f"**{layer.name}** ({layer.kind}): {_transition(layer)}", ""]
        lines += [f"- {formula_latex(f)}" for f in layer.lines]
        if layer.lines:
            lines.append("")
    return lines


def working_text(w: Working) -> str:
    lines = [f"{headline(w.analysis)} — working for {TOPIC_TITLES[w.topic]}",
             *layers_text(w.layers)]
    lines += _batch_note(w.analysis) + [totals_line(w.analysis), convention_line(w.analysis)]
    return "\n".join(lines) + "\n"


def working_markdown(w: Working) -> str:
    """Each layer's working as LaTeX math in Markdown, for an answer key."""
    lines = [f"**{headline(w.analysis)}** — working for {TOPIC_TITLES[w.topic]}", "",
             *layers_markdown(w.layers)]
    lines += [*_batch_note(w.analysis), totals_line(w.analysis), "",
              f"*{convention_line(w.analysis)}*", ""]
    return "\n".join(lines)


def formula_record(f: Formula) -> dict:
    return {"what": f.what, "symbolic": f.symbolic, "substituted": f.substituted,
            "result": f.result, "note": f.note}


def working_record(w: Working) -> dict:
    record = json_record(w.analysis)
    record["working"] = w.topic
    for layer_rec, layer in zip(record["layers"], w.layers):
        layer_rec["working"] = [formula_record(f) for f in layer.lines]
    return record


def working_csv(w: Working) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("name", "kind", "what", "symbolic", "substituted", "result", "note"))
    for layer in w.layers:
        for f in layer.lines:
            writer.writerow((layer.name, layer.kind) + tuple(formula_record(f).values()))
    return buf.getvalue()


def render_working(w: Working, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(working_record(w), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return working_csv(w)
    if fmt == "markdown":
        return working_markdown(w)
    return working_text(w)


def render(analysis: Analysis, view: str, fmt: str):
    """A rich renderable for ``table``; text for the other formats."""
    if fmt == "table":
        return rich_table(analysis, view)
    if fmt == "json":
        return json_text(analysis)
    if fmt == "csv":
        return csv_text(analysis)
    return markdown_table(analysis, view)


def render_each(items: list[Analysis | Working], view: str, fmt: str, study: str | None = None):
    """Several analyses or workings (a study's variants) one after another; JSON keeps
    them in one document."""
    def one(item, fmt: str):
        if isinstance(item, Working):
            return render_working(item, fmt)
        return render(item, view, fmt)

    def record(item) -> dict:
        return working_record(item) if isinstance(item, Working) else json_record(item)

    return _join(items, fmt, study, one, record)


def _network(item) -> str:
    return item.analysis.network if isinstance(item, Working) else item.network


def _join(items: list, fmt: str, study: str | None, render_one: Callable, record: Callable):
    """One rendering per item: a lone network as itself, a study's variants one after
    another, JSON as one document, CSV with a variant column."""
    if len(items) == 1 and study is None:
        return render_one(items[0], fmt)
    if fmt == "json":
        return json.dumps({"study": study, "variants": [record(i) for i in items]},
                          indent=2, ensure_ascii=False) + "\n"
    parts = [render_one(i, fmt) for i in items]
    if fmt == "table":
        return "\n".join(parts) if all(isinstance(p, str) for p in parts) else Group(*parts)
    if fmt == "csv":
        head = parts[0].split("\n", 1)[0]
        rows = [f"{_network(i)},{line}" for i, part in zip(items, parts)
                for line in part.split("\n")[1:] if line]
        return "variant," + head + "\n" + "\n".join(rows) + "\n"
    return "\n".join(parts)


# --------------------------------------------------------------------------- comparisons


def _compare_rows(c: Comparison) -> list[tuple[str, str, list, list]]:
    """(key, label, value per entry, ratio per Ratio) for each row of a comparison."""
    label = c.entries[0].analysis.convention.flops_label
    titles = {"params": "Params", "macs": "MACs", "mults": "Mults", "adds": "Adds",
              "flops": label.capitalize() if label != "FLOPs" else label, "space": "Space"}
    rows: list[tuple[str, str, list, list]] = [
        ("input", "Input", [shape_text(e.analysis.input) for e in c.entries], []),
        ("output", "Output", [shape_text(e.analysis.output) for e in c.entries], [])]
    rows += [(m, titles[m], [metric(e.analysis, m) for e in c.entries],
              [r.values[m] for r in c.ratios]) for m in c.metrics]
    rows += [("activations", "Activations", [e.analysis.total.activations for e in c.entries], []),
             ("depth", "Depth", [e.analysis.depth for e in c.entries], []),
             ("rf", "Receptive field",
              [fraction_text(e.analysis.layers[-1].rf) if e.analysis.layers else "–"
               for e in c.entries], [])]
    return rows


def _ratio_text(value: Fraction | None) -> str:
    return "–" if value is None else f"{float(value):.2f}×"


def _compare_headers(c: Comparison) -> list[str]:
    return ["", *(e.name for e in c.entries), *(f"{r.vs} ÷ {r.name}" for r in c.ratios)]


def _compare_cells(c: Comparison) -> list[list[str]]:
    return [[label, *(f"{v:,}" if isinstance(v, int) else str(v) for v in values),
             *((_ratio_text(r) for r in ratios) if ratios else [""] * len(c.ratios))]
            for _, label, values, ratios in _compare_rows(c)]


def _compare_notes(c: Comparison) -> list[str]:
    notes = [f"{e.name}: {e.description}" for e in c.entries if e.description]
    if c.ratios:
        notes.append("Ratios: “A ÷ B” is A's count divided by B's — how many times as much A "
                     "needs as B.")
    return notes


def compare_table(c: Comparison) -> Group:
    table = Table(title=c.title, title_justify="left")
    for i, header in enumerate(_compare_headers(c)):
        table.add_column(header, justify="left" if i == 0 else "right")
    for cells in _compare_cells(c):
        table.add_row(*cells)
    lines = _compare_notes(c) + [convention_line(c.entries[0].analysis)]
    return Group(table, *(Text(line) for line in lines[:-1]), Text(lines[-1], style="dim"))


def compare_markdown(c: Comparison) -> str:
    headers = _compare_headers(c)
    lines = [f"**{c.title}**", "", "| " + " | ".join(headers) + " |",
             "|:---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join(cells) + " |" for cells in _compare_cells(c)]
    lines += ["", *(f"- {n}" for n in _compare_notes(c)), "",
              f"*{convention_line(c.entries[0].analysis)}*", ""]
    return "\n".join(lines)


def compare_record(c: Comparison) -> dict:
    return {
        "comparison": c.title,
        "convention": c.entries[0].analysis.convention.name,
        "entries": [{"name": e.name, "description": e.description, "vs": e.vs,
                     "input": list(e.analysis.input), "output": list(e.analysis.output),
                     "batch": e.analysis.batch, "total": total_record(e.analysis.total)}
                    for e in c.entries],
        "ratios": [{"name": r.name, "vs": r.vs,
                    **{m: (None if v is None else exact(v)) for m, v in r.values.items()}}
                   for r in c.ratios],
    }


def compare_csv(c: Comparison) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["metric", *(e.name for e in c.entries), *(f"{r.vs} / {r.name}" for r in c.ratios)])
    for key, _, values, ratios in _compare_rows(c):
        writer.writerow([key, *values, *((exact(r) if r is not None else "" for r in ratios)
                                        if ratios else [""] * len(c.ratios))])
    return buf.getvalue()


def render_compare(c: Comparison, fmt: str):
    """A comparison, and each entry's working after it where it has one."""
    if fmt == "json":
        record = compare_record(c)
        if c.entries[0].working:
            record["working"] = [working_record(e.working) for e in c.entries]
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    out = {"csv": compare_csv, "markdown": compare_markdown}.get(fmt, compare_table)(c)
    if not c.entries[0].working or fmt == "csv":
        return out
    workings = [render_working(e.working, fmt) for e in c.entries]
    if isinstance(out, str):
        return "\n".join([out, *workings])
    return Group(out, *(Text(w) for w in workings))


# --------------------------------------------------------------------------- answers


def _cell(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _grid(rows: list[list[str]], indent: str) -> list[str]:
    """Rows of cells in aligned columns (numbers right, text left)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.rjust(w) if c[:1].isdigit() else c.ljust(w)
                               for c, w in zip(r, widths)).rstrip() for r in rows]


def answer_text(a: Answer) -> str:
    lines = [f"{a.name} — {a.title}", f"Question: {a.question}", f"Source: {a.source}", "",
             "Working:"]
    for step in a.steps:
        lines.append(f"  {step.title}")
        if step.rows:
            lines += _grid([list(step.headers)] + [[_cell(c) for c in r] for r in step.rows], "    ")
        lines += [f"    {formula_text(f)}" for f in step.lines]
        lines += layers_text(step.layers, "    ")
        if step.matrix:
            lines += [f"    [ {row} ]" for row in _grid([list(r) for r in step.matrix], "")]
    lines += ["", "Answer:", *(f"  {formula_text(f)}" for f in a.answer)]
    for note in a.notes:
        lines += ["", f"Note — often stated: {formula_text(note.stated)}.",
                  *(f"  {formula_text(f)}" for f in note.correct), f"  {note.comment}"]
    return "\n".join(lines) + "\n"


def _matrix_latex(matrix) -> str:
    body = r" \\ ".join(" & ".join(re.sub(r"^w(\d)(\d)$", r"w_{\1\2}", c) for c in row)
                        for row in matrix)
    return rf"$$C = \begin{{bmatrix}} {body} \end{{bmatrix}}$$"


def answer_markdown(a: Answer) -> str:
    lines = [f"## {a.name} — {a.title}", "", f"**Question.** {a.question}", "",
             f"*Source: {a.source}*", "", "### Working", ""]
    for step in a.steps:
        lines += [f"**{step.title}**", ""]
        if step.rows:
            lines += ["| " + " | ".join(step.headers) + " |",
                      "|:---|" + "---:|" * (len(step.headers) - 1)]
            lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in step.rows] + [""]
        if step.lines:
            lines += [f"- {formula_latex(f)}" for f in step.lines] + [""]
        lines += layers_markdown(step.layers)
        if step.matrix:
            lines += [_matrix_latex(step.matrix), ""]
    lines += ["### Answer", "", *(f"- {formula_latex(f)}" for f in a.answer), ""]
    for note in a.notes:
        lines += [f"> **Note.** Often stated: {formula_latex(note.stated)}.",
                  *(f"> The working: {formula_latex(f)}." for f in note.correct),
                  f"> {note.comment}", ""]
    return "\n".join(lines)


def _plain(value):
    """Answer values as JSON: fractions exact ('p/q'), tuples as lists."""
    if isinstance(value, Fraction):
        return exact(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _layer_working_record(layer) -> dict:
    return {"name": layer.name, "kind": layer.kind,
            "in_shapes": [list(s) for s in layer.in_shapes], "out_shape": list(layer.out_shape),
            "working": [formula_record(f) for f in layer.lines]}


def answer_record(a: Answer) -> dict:
    return {
        "name": a.name, "title": a.title, "question": a.question, "source": a.source,
        "steps": [{"title": s.title, "lines": [formula_record(f) for f in s.lines],
                   "layers": [_layer_working_record(l) for l in s.layers],
                   "table": {"headers": list(s.headers), "rows": _plain(s.rows)} if s.rows else None,
                   "matrix": _plain(s.matrix) or None} for s in a.steps],
        "answer": [formula_record(f) for f in a.answer],
        "notes": [{"stated": formula_record(n.stated),
                   "correct": [formula_record(f) for f in n.correct], "comment": n.comment}
                  for n in a.notes],
        "values": _plain(a.values),
    }


def answer_csv(a: Answer) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("part", "what", "symbolic", "substituted", "result", "note"))
    for f in a.answer:
        writer.writerow(("answer",) + tuple(formula_record(f).values()))
    for n in a.notes:
        writer.writerow(("stated",) + tuple(formula_record(n.stated).values()))
        for f in n.correct:
            writer.writerow(("correct",) + tuple(formula_record(f).values()))
    return buf.getvalue()


def render_answer(a: Answer, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(answer_record(a), indent=2, ensure_ascii=False) + "\n"
    return {"csv": answer_csv, "markdown": answer_markdown}.get(fmt, answer_text)(a)


def render_answer_list(entries, fmt: str):
    rows = [(e.name, e.title, e.question) for e in entries]
    if fmt == "json":
        return json.dumps([{"name": n, "title": t, "question": q} for n, t, q in rows],
                          indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([("name", "title", "question"), *rows])
        return buf.getvalue()
    if fmt == "markdown":
        return "\n".join(["| Name | Title | Question |", "|:---|:---|:---|",
                          *(f"| `{n}` | {t} | {q} |" for n, t, q in rows)]) + "\n"
    table = Table(title="Worked answers ('cnncalc answers NAME' shows one)", title_justify="left")
    for column in ("Name", "Title", "Question"):
        table.add_column(column, no_wrap=column == "Name")
    for row in rows:
        table.add_row(*row)
    return table


# --------------------------------------------------------------------------- --convention all


CONVENTIONS_FIELDS = ("convention", "reports", "total", "vs_macs", "mults", "adds", "macs",
                     "flops", "deconv_count", "reason", "source")


def conventions_records(totals: ConventionTotals) -> list[dict]:
    records = []
    for row in totals.rows:
        c, f = row.convention, row.figures
        records.append({
            "convention": c.name, "reports": c.label, "total": row.reported,
            "vs_macs": f"{float(row.difference) * 100:+.2f}%", "mults": f.mults, "adds": f.adds,
            "macs": f.macs, "flops": f.flops, "deconv_count": totals.deconv or c.deconv,
            "reason": c.reason, "source": c.source})
    return records


def conventions_headline(totals: ConventionTotals) -> str:
    return (f"{totals.network}: input {shape_text(totals.input)}, batch "
            f"{totals.batch} — every convention's total")


CONVENTIONS_NOTE = ("vs macs: the total against the same figure under macs (MACs, or 2·MACs "
                   "for a FLOPs count). Each peer preset reproduces its tool's number, "
                   "errors included; cnncalc flops NET --convention NAME shows it per layer.")


def conventions_record(totals: ConventionTotals) -> dict:
    return {"network": totals.network, "input": list(totals.input),
            "batch": totals.batch, "deconv_count": totals.deconv,
            "conventions": conventions_records(totals)}


def render_conventions(totals: ConventionTotals, fmt: str):
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
    columns = ("Convention", "Reports", "Total", "vs macs", "Why it differs from macs")
    rows = [(r["convention"], r["reports"], f"{r['total']:,}", r["vs_macs"], r["reason"])
            for r in records]
    if fmt == "markdown":
        lines = [f"**{conventions_headline(totals)}**", "",
                 "| " + " | ".join(columns) + " |", "|:---|:---|---:|---:|:---|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        return "\n".join(lines + ["", f"*{CONVENTIONS_NOTE}*", ""])
    table = Table(title=conventions_headline(totals), title_justify="left")
    for title in columns:
        table.add_column(title, justify="right" if title in ("Total", "vs macs") else "left",
                         no_wrap=title != columns[-1])
    for cells in rows:
        table.add_row(*cells)
    return Group(table, Text(CONVENTIONS_NOTE, style="dim"))


def render_conventions_each(each: list[ConventionTotals], fmt: str, study: str | None = None):
    """Every convention's totals for several networks (a study's variants), one after
    another; JSON keeps one document."""
    return _join(each, fmt, study, render_conventions, conventions_record)

"""Worked answers as text, Markdown with LaTeX, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction

from cnncalc.answers.worked import Answer
from cnncalc.render.numbers import exact
from cnncalc.render.tables import Col, Rows, rich_rows
from cnncalc.render.working import (
    formula_latex,
    formula_record,
    formula_text,
    layers_markdown,
    layers_text,
)


def _cell(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _grid(rows: list[list[str]], indent: str) -> list[str]:
    """Rows of cells in aligned columns (numbers right, text left)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent
        + "  ".join(
            c.rjust(w) if c[:1].isdigit() else c.ljust(w) for c, w in zip(r, widths)
        ).rstrip()
        for r in rows
    ]


def answer_text(a: Answer) -> str:
    lines = [
        f"{a.name} — {a.title}",
        f"Question: {a.question}",
        f"Source: {a.source}",
        "",
        "Working:",
    ]
    for step in a.steps:
        lines.append(f"  {step.title}")
        if step.rows:
            lines += _grid(
                [list(step.headers)] + [[_cell(c) for c in r] for r in step.rows], "    "
            )
        lines += [f"    {formula_text(f)}" for f in step.lines]
        lines += layers_text(step.layers, "    ")
        if step.matrix:
            lines += [f"    [ {row} ]" for row in _grid([list(r) for r in step.matrix], "")]
    lines += ["", "Answer:", *(f"  {formula_text(f)}" for f in a.answer)]
    for note in a.notes:
        lines += [
            "",
            f"Note — often stated: {formula_text(note.stated)}.",
            *(f"  {formula_text(f)}" for f in note.correct),
            f"  {note.comment}",
        ]
    return "\n".join(lines) + "\n"


def _matrix_latex(matrix) -> str:
    body = r" \\ ".join(
        " & ".join(re.sub(r"^w(\d)(\d)$", r"w_{\1\2}", c) for c in row) for row in matrix
    )
    return rf"$$C = \begin{{bmatrix}} {body} \end{{bmatrix}}$$"


def answer_markdown(a: Answer) -> str:
    lines = [
        f"## {a.name} — {a.title}",
        "",
        f"**Question.** {a.question}",
        "",
        f"*Source: {a.source}*",
        "",
        "### Working",
        "",
    ]
    for step in a.steps:
        lines += [f"**{step.title}**", ""]
        if step.rows:
            lines += [
                "| " + " | ".join(step.headers) + " |",
                "|:---|" + "---:|" * (len(step.headers) - 1),
            ]
            lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in step.rows] + [""]
        if step.lines:
            lines += [f"- {formula_latex(f)}" for f in step.lines] + [""]
        lines += layers_markdown(step.layers)
        if step.matrix:
            lines += [_matrix_latex(step.matrix), ""]
    lines += ["### Answer", "", *(f"- {formula_latex(f)}" for f in a.answer), ""]
    for note in a.notes:
        lines += [
            f"> **Note.** Often stated: {formula_latex(note.stated)}.",
            *(f"> The working: {formula_latex(f)}." for f in note.correct),
            f"> {note.comment}",
            "",
        ]
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
    return {
        "name": layer.name,
        "kind": layer.kind,
        "in_shapes": [list(s) for s in layer.in_shapes],
        "out_shape": list(layer.out_shape),
        "working": [formula_record(f) for f in layer.lines],
    }


def answer_record(a: Answer) -> dict:
    return {
        "name": a.name,
        "title": a.title,
        "question": a.question,
        "source": a.source,
        "steps": [
            {
                "title": s.title,
                "lines": [formula_record(f) for f in s.lines],
                "layers": [_layer_working_record(l) for l in s.layers],
                "table": {"headers": list(s.headers), "rows": _plain(s.rows)} if s.rows else None,
                "matrix": _plain(s.matrix) or None,
            }
            for s in a.steps
        ],
        "answer": [formula_record(f) for f in a.answer],
        "notes": [
            {
                "stated": formula_record(n.stated),
                "correct": [formula_record(f) for f in n.correct],
                "comment": n.comment,
            }
            for n in a.notes
        ],
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


def render_answer_list(sections, fmt: str):
    """The list of answers, given as (chapter section, entry) pairs in the order to show."""
    rows = [(sec, e.name, e.title, e.question) for sec, e in sections]
    keys = ("section", "name", "title", "question")
    if fmt == "json":
        return json.dumps([dict(zip(keys, r)) for r in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([keys, *rows])
        return buf.getvalue()
    if fmt == "markdown":
        lines = []
        for sec, n, t, q in rows:
            if not lines or lines[-1][0] != sec:
                lines.append((sec, []))
            lines[-1][1].append(f"| `{n}` | {t} | {q} |")
        return "\n".join(
            f"### {sec}\n\n| Name | Title | Question |\n|:---|:---|:---|\n" + "\n".join(body) + "\n"
            for sec, body in lines
        )
    cols = (Col("section", "Section", "text"), Col("name", "Name", "fixed"))
    cols += (Col("title", "Title", "text"), Col("question", "Question", "text"))
    table = Rows(
        "Worked answers ('cnncalc answers NAME' shows one)",
        cols,
        tuple(dict(zip(keys, r)) for r in rows),
        None,
        (),
        {},
    )
    return rich_rows(table)

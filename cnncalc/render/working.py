"""Working (formulas with their numbers) as text, Markdown with LaTeX, JSON records or CSV."""

from __future__ import annotations

import csv
import io
import json
import re

from cnncalc.analysis.explain import Working
from cnncalc.analysis.stats import Analysis
from cnncalc.kinds.formula import Formula
from cnncalc.render.analysis import convention_line, headline, json_record, totals_line
from cnncalc.render.numbers import grouped, shape_text

TOPIC_TITLES = {
    "shape": "the output shapes",
    "params": "the parameters and connections",
    "flops": "the operations",
    "all": "shapes, parameters and operations",
}


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


_LATEX = {
    "⌊": r"\lfloor ",
    "⌋": r"\rfloor ",
    "⌈": r"\lceil ",
    "⌉": r"\rceil ",
    "·": r"\cdot ",
    "−": "-",
    "×": r"\times ",
    "Σ": r"\sum ",
    "²": "^2",
    "³": "^3",
    "…": r"\dots ",
    "ᵀ": r"^\top ",
    "≈": r"\approx ",
    "÷": r"\div ",
    "%": r"\%",
    "α": r"\alpha ",
    "β": r"\beta ",
    "γ": r"\gamma ",
    "σ": r"\sigma ",
    "ε": r"\epsilon ",
    "μ": r"\mu ",
    "√": r"\sqrt ",
    "→": r"\to ",
    "|": r"\vert ",
}
_SUBSCRIPT = re.compile(r"_([A-Za-z0-9]{2,})")
_WORDS = re.compile(r"(?<![\\A-Za-z0-9_{])[A-Za-z][A-Za-z0-9'\-]*(?: [A-Za-z][A-Za-z0-9'\-]*)*")


def latex(text: str) -> str:
    """A formula written in Unicode as LaTeX math: ⌊…⌋ → \\lfloor…\\rfloor, words in \\text{}."""
    text = _SUBSCRIPT.sub(r"_{\1}", text)
    text = _WORDS.sub(
        lambda m: m.group() if len(m.group()) == 1 else rf"\text{{{m.group()}}}", text
    )
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
    lines = [
        f"{headline(w.analysis)} — working for {TOPIC_TITLES[w.topic]}",
        *layers_text(w.layers),
    ]
    lines += _batch_note(w.analysis) + [totals_line(w.analysis), convention_line(w.analysis)]
    return "\n".join(lines) + "\n"


def working_markdown(w: Working) -> str:
    """Each layer's working as LaTeX math in Markdown, for an answer key."""
    lines = [
        f"**{headline(w.analysis)}** — working for {TOPIC_TITLES[w.topic]}",
        "",
        *layers_markdown(w.layers),
    ]
    lines += [
        *_batch_note(w.analysis),
        totals_line(w.analysis),
        "",
        f"*{convention_line(w.analysis)}*",
        "",
    ]
    return "\n".join(lines)


def formula_record(f: Formula) -> dict:
    return {
        "what": f.what,
        "symbolic": f.symbolic,
        "substituted": f.substituted,
        "result": f.result,
        "note": f.note,
    }


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


def render_working(w: Working, fmt: str, notes: tuple[str, ...] = ()) -> str:
    """The working in ``fmt``, with ``notes`` (how the flags were read) under it; JSON keeps
    them as ``notes``, CSV (the formulas' rows) leaves them out."""
    if fmt == "json":
        record = working_record(w)
        if notes:
            record["notes"] = list(notes)
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return working_csv(w)
    if fmt == "markdown":
        return working_markdown(w) + "".join(f"*{note}*\n\n" for note in notes)
    return working_text(w) + "".join(f"{note}\n" for note in notes)

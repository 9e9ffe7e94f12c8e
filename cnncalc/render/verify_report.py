"""A verification written out: a rich table for people, JSON for scripts.

Presentation only: every number comes from :mod:`cnncalc.proof.verify`.
"""

from __future__ import annotations

import json

from rich.console import Group
from rich.text import Text

from cnncalc.proof.verify import CHECKED, LayerCheck, Verification
from cnncalc.render.numbers import shape_text
from cnncalc.render.tables import Col, Rows, rich_rows

IMPL_TEXT = {
    "naive": "naive executor (explicit loops, each operation counted as performed)",
    "fast": "fast executor (im2col + BLAS, counted from the product sizes)",
}
OTHER = {
    "bias_adds": "bias",
    "eltwise_adds": "residual",
    "compares": "cmp",
    "divs": "div",
    "exps": "exp",
}
"""The counts the table shows in its last column, with their short names."""
NAMES = {
    "mults": "multiplications",
    "adds": "additions",
    "bias_adds": "bias additions",
    "compares": "comparisons",
    "divs": "divisions",
    "exps": "exponentials",
    "eltwise_adds": "residual additions",
}


def mode_text(flip: bool) -> str:
    return "true convolution (kernels flipped)" if flip else "cross-correlation"


def describe(layer: LayerCheck) -> str:
    """The first thing wrong with one layer, in one line."""
    what = f"layer '{layer.name}' ({layer.kind})"
    field = layer.disagreements[0]
    if field == "run":
        return f"{what} did not run: {layer.error}" if layer.error else f"{what} did not run"
    if field == "shape":
        return (
            f"{what}: output shape predicted {shape_text(layer.predicted_shape)}, "
            f"executed {shape_text(layer.executed_shape)}"
        )
    return (
        f"{what}: {NAMES[field]} predicted {layer.predicted[field]:,}, "
        f"performed {layer.performed[field]:,}"
    )


def verdict(result: Verification) -> str:
    if result.ok:
        return (
            f"✓ all {len(result.layers)} layers agree: every output shape and every "
            f"count ({', '.join(NAMES[f] for f in CHECKED)}) is as predicted"
        )
    bad = sum(not layer.ok for layer in result.layers)
    return (
        f"✗ {bad} of {len(result.layers)} layers disagree; the first: "
        f"{describe(result.first_disagreement)}"
    )


def settings_line(result: Verification) -> str:
    return (
        f"{IMPL_TEXT[result.impl]}, float64, batch {result.batch}, seed {result.seed}, "
        f"{mode_text(result.flip)}; forward pass {result.seconds:.2f} s (estimated "
        f"{result.estimated_seconds:.2f} s). Counts are for the whole batch."
    )


def _other(layer: LayerCheck) -> str:
    parts = []
    for field, short in OTHER.items():
        p = layer.predicted[field]
        q = None if layer.performed is None else layer.performed[field]
        if q is not None and p != q:
            parts.append(f"{short} {p:,} ≠ {q:,}")
        elif p:
            parts.append(f"{short} {p:,}")
    return ", ".join(parts) or "–"


VERIFY_COLS = (
    Col("name", "Layer", "text"),
    Col("kind", "Kind", "text"),
    Col("shape", "Shape predicted", "shape"),
    Col("executed", "executed", "shape"),
    Col("mults", "Mults predicted"),
    Col("mults_done", "performed"),
    Col("adds", "Adds predicted"),
    Col("adds_done", "performed"),
    Col("other", "Other ops", "text"),
    Col("ok", "", "fixed"),
)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def verification_table(result: Verification, exact: bool = False) -> Group:
    rows = []
    for layer in result.layers:
        performed = layer.performed or {}
        rows.append(
            {
                "name": layer.name,
                "kind": layer.kind,
                "shape": layer.predicted_shape,
                "executed": "–" if layer.executed_shape is None else layer.executed_shape,
                "mults": layer.predicted["mults"],
                "mults_done": performed.get("mults", "–"),
                "adds": layer.predicted["adds"],
                "adds_done": performed.get("adds", "–"),
                "other": _other(layer),
                "ok": _mark(layer.ok),
            }
        )
    predicted, performed = result.total("predicted"), result.total("performed")
    total = {
        "name": "Total",
        "mults": predicted["mults"],
        "mults_done": performed["mults"],
        "adds": predicted["adds"],
        "adds_done": performed["adds"],
        "ok": _mark(result.ok),
    }
    title = (
        f"{result.network}: input {shape_text(result.input)}, batch "
        f"{result.batch}, {result.impl} executor"
    )
    table = Rows(title, VERIFY_COLS, tuple(rows), total, (), verification_record(result))
    return Group(
        rich_rows(table, exact),
        Text(verdict(result), style="green" if result.ok else "bold red"),
        Text(settings_line(result), style="dim"),
    )


def _layer_record(layer: LayerCheck) -> dict:
    return {
        "name": layer.name,
        "kind": layer.kind,
        "out_shape": {
            "predicted": list(layer.predicted_shape),
            "executed": None if layer.executed_shape is None else list(layer.executed_shape),
        },
        "ops": {
            f: {
                "predicted": layer.predicted[f],
                "performed": None if layer.performed is None else layer.performed[f],
            }
            for f in CHECKED
        },
        "ok": layer.ok,
        "error": layer.error,
    }


def verification_record(result: Verification) -> dict:
    first = result.first_disagreement
    return {
        "network": result.network,
        "input": list(result.input),
        "batch": result.batch,
        "impl": result.impl,
        "seed": result.seed,
        "mode": "convolution" if result.flip else "cross-correlation",
        "ok": result.ok,
        "seconds": result.seconds,
        "estimated_seconds": result.estimated_seconds,
        "first_disagreement": None
        if first is None
        else {"layer": first.name, "field": first.disagreements[0], "message": describe(first)},
        "layers": [_layer_record(layer) for layer in result.layers],
        "total": {"predicted": result.total("predicted"), "performed": result.total("performed")},
    }


def render_verification(results: list[Verification], fmt: str, study: str | None = None):
    """A rich renderable for ``table``; JSON text otherwise (a study's variants in one document)."""
    if fmt == "json":
        if len(results) == 1 and study is None:
            doc = verification_record(results[0])
        else:
            doc = {
                "study": study,
                "ok": all(r.ok for r in results),
                "variants": [verification_record(r) for r in results],
            }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return Group(*(verification_table(r) for r in results))

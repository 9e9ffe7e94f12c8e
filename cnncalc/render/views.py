"""The training, memory, by-kind, sweep and minsize views: analyses → :class:`Rows`.

Rows are the numbers the analyses computed, picked and named for a table; the
one sum done here is ``--by kind``'s, which adds up exact ints per layer kind.
"""

from __future__ import annotations

from fractions import Fraction

from cnncalc.analysis.fold import fold_memory, layer_path
from cnncalc.analysis.memory import MemoryAnalysis
from cnncalc.analysis.sweep import MinSize, Sweep
from cnncalc.analysis.training import TrainingCost
from cnncalc.conventions.engine import Figures
from cnncalc.render.analysis import convention_line, headline, intake, resized_record
from cnncalc.render.numbers import human, human_bytes, shape_text
from cnncalc.render.tables import Col, Rows

FIGURE_FIELDS = ("mults", "adds", "macs", "flops")


def _figures(f: Figures) -> dict:
    return {k: getattr(f, k) for k in FIGURE_FIELDS}


def _share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


# --------------------------------------------------------------------------- training cost

TRAINING_COLS = (
    Col("name", "Layer", "text"),
    Col("kind", "Kind", "text"),
    Col("forward", "Forward FLOPs"),
    Col("dx_mults", "dX mults"),
    Col("dx_adds", "dX adds"),
    Col("dw_mults", "dW mults"),
    Col("dw_adds", "dW adds"),
    Col("dy_sum", "ΣdY adds"),
    Col("backward", "Backward FLOPs"),
    Col("training", "Training FLOPs"),
    Col("share", "Share of training", "share"),
)


def training_row(
    name: str,
    kind: str,
    forward: Figures,
    dx: Figures,
    dw: Figures,
    dy_sum: Figures,
    backward: Figures,
) -> dict:
    return {
        "name": name,
        "kind": kind,
        "forward": forward.flops,
        "dx_mults": dx.mults,
        "dx_adds": dx.adds,
        "dw_mults": dw.mults,
        "dw_adds": dw.adds,
        "dy_sum": dy_sum.adds,
        "backward": backward.flops,
        "training": forward.flops + backward.flops,
    }


def training_rows(cost: TrainingCost) -> Rows:
    a = cost.analysis
    total = cost.training_flops
    rows = []
    records = []
    for l in cost.layers:
        row = training_row(l.name, l.kind, l.forward, l.dx, l.dw, l.dy_sum, l.backward)
        row["share"] = _share(row["training"], total)
        rows.append(row)
        records.append(
            {
                "name": l.name,
                "kind": l.kind,
                "trains": l.trains,
                "needs_dx": l.needs_dx,
                "forward": _figures(l.forward),
                "dx": _figures(l.dx),
                "dw": _figures(l.dw),
                "dy_sum": _figures(l.dy_sum),
                "backward": _figures(l.backward),
                "training_flops": l.training_flops,
                "dx_ops": l.dx_ops.as_dict(),
                "dw_ops": l.dw_ops.as_dict(),
            }
        )
    total_row = training_row(
        "Total", "", cost.forward, cost.dx, cost.dw, cost.dy_sum, cost.backward
    )
    total_row["share"] = Fraction(1) if total else Fraction(0)
    cols = tuple(c for c in TRAINING_COLS if c.key != "dy_sum" or cost.dy_sum.adds)
    record = {
        "network": a.network,
        "input": list(a.input),
        "output": list(a.output),
        "batch": a.batch,
        "convention": a.convention.name,
        "training": True,
        "layers": records,
        "total": {
            "forward": _figures(cost.forward),
            "dx": _figures(cost.dx),
            "dw": _figures(cost.dw),
            "dy_sum": _figures(cost.dy_sum),
            "backward": _figures(cost.backward),
            "training_flops": cost.training_flops,
        },
    }
    notes = (
        f"Forward FLOPs {cost.forward.flops:,} ({human(cost.forward.flops)}), backward "
        f"{cost.backward.flops:,} ({human(cost.backward.flops)}: dX {cost.dx.flops:,}, "
        f"dW {cost.dw.flops:,}), training step {total:,} ({human(total)}); backward/forward "
        f"= {float(_share(cost.backward.flops, cost.forward.flops)):.2f}",
        "dX is skipped where nothing before the layer trains (the first layer); dW runs for "
        "every layer with parameters; ΣdY: a tensor read by k layers sums k gradients.",
        convention_line(a),
    )
    return Rows(headline(a) + " — training step", cols, tuple(rows), total_row, notes, record)


# --------------------------------------------------------------------------- memory

MEMORY_COLS = (
    Col("name", "Layer", "text"),
    Col("kind", "Kind", "text"),
    Col("out_shape", "Output", "shape"),
    Col("params", "Params", "bytes"),
    Col("gradients", "Gradients", "bytes"),
    Col("optimizer", "Optimizer", "bytes"),
    Col("buffers", "Buffers", "bytes"),
    Col("activations", "Kept for backward", "bytes"),
    Col("total", "Total", "bytes"),
    Col("kept", "Kept", "text"),
)
MEMORY_FIELDS = ("params", "gradients", "optimizer", "buffers", "activations", "total")


def _kept_text(what: tuple[str, ...], readers: tuple[str, ...]) -> str:
    if not what:
        return ""
    more = f" +{len(readers) - 2}" if len(readers) > 2 else ""
    who = f" for {', '.join(readers[:2])}{more}" if readers else ""
    return ", ".join(what) + who


def memory_rows(m: MemoryAnalysis, depth: int | None = None) -> Rows:
    """Training memory per layer; with ``depth``, per block
    (:func:`cnncalc.analysis.fold.fold_memory`), the JSON keeping every layer."""
    rows = []
    if m.input_kept:
        rows.append(
            {
                "name": "(input)",
                "kind": "input",
                "out_shape": m.input,
                "params": 0,
                "gradients": 0,
                "optimizer": 0,
                "buffers": 0,
                "activations": m.input_kept,
                "total": m.input_kept,
                "kept": _kept_text(("input",), m.input_kept_for),
            }
        )
    records = []
    for l in m.layers:
        values = {f: getattr(l, f) for f in MEMORY_FIELDS}
        records.append(
            {
                "name": l.name,
                "path": list(layer_path(l.name)),
                "kind": l.kind,
                "out_shape": list(l.out_shape),
                **values,
                "kept": list(l.kept_what),
                "kept_for": list(l.kept_for),
            }
        )
    for l in m.layers if depth is None else fold_memory(m, depth):
        rows.append(
            {
                "name": l.name,
                "kind": l.kind,
                "out_shape": l.out_shape,
                **{f: getattr(l, f) for f in MEMORY_FIELDS},
                "kept": _kept_text(l.kept_what, l.kept_for),
            }
        )
    totals = {
        "params": m.params,
        "gradients": m.gradients,
        "optimizer": m.optimizer_state,
        "buffers": m.buffers,
        "activations": m.activations,
        "total": m.total,
    }
    opt = m.optimizer
    record = {
        "network": m.network,
        "input": list(m.input),
        "output": list(m.output),
        "batch": m.batch,
        "dtype": m.dtype,
        "optimizer": opt.name,
        "input_kept": m.input_kept,
        "input_kept_for": list(m.input_kept_for),
        "layers": records,
        "total": totals,
    }
    if depth is not None:
        record["fold_depth"] = depth
        record["blocks"] = [
            {
                "name": b.name,
                "path": list(layer_path(b.name)),
                "kind": b.kind,
                "out_shape": list(b.out_shape),
                **{f: getattr(b, f) for f in MEMORY_FIELDS},
            }
            for b in fold_memory(m, depth)
        ]
    notes = (
        f"Training memory {m.total:,} B ({human_bytes(m.total)}): parameters "
        f"{human_bytes(m.params)}, gradients {human_bytes(m.gradients)}, optimizer "
        f"{human_bytes(m.optimizer_state)}, buffers {human_bytes(m.buffers)}, activations "
        f"kept for backward {human_bytes(m.activations)}",
        f"dtype {m.dtype}; optimizer {opt.name}: {opt.description}. Kept: the tensors "
        "PyTorch autograd saves for the backward, each counted once on the layer that made "
        "it; transient buffers and framework overhead are not counted.",
    )
    title = (
        f"{m.network}: input {shape_text(m.input)}, batch {m.batch}, {m.dtype}, "
        f"{opt.name} — training memory"
    )
    if depth is not None:
        title += f" — blocks to depth {depth}"
    return Rows(title, MEMORY_COLS, tuple(rows), {"name": "Total", **totals}, notes, record)


# --------------------------------------------------------------------------- by kind


def by_kind(rows: tuple[dict, ...], fields: tuple[str, ...]) -> list[dict]:
    """Rows summed per layer kind, in order of first appearance, with a layer count (the
    memory view's network-input row is a tensor, not a layer)."""
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(
            row["kind"],
            {"name": row["kind"], "kind": row["kind"], "layers": 0, **{f: 0 for f in fields}},
        )
        group["layers"] += row["kind"] != "input"
        for f in fields:
            group[f] += row[f]
    return list(groups.values())


def by_kind_table(t: Rows, share_of: str | None = None) -> Rows:
    """A per-layer table as totals per kind; ``share_of`` recomputes the share column."""
    fields = tuple(c.key for c in t.cols if c.numeric)
    groups = by_kind(t.rows, fields)
    if share_of:
        whole = t.total[share_of]
        for g in groups:
            g["share"] = _share(g[share_of], whole)
    cols = (Col("name", "Kind", "text"), Col("layers", "Layers")) + tuple(
        c for c in t.cols if c.numeric or c.show == "share"
    )
    record = {k: v for k, v in t.record.items() if k not in ("layers", "total")}
    record.update(
        by="kind",
        kinds=[{k: v for k, v in g.items() if k not in ("name", "share")} for g in groups],
        total={f: t.total[f] for f in fields},
    )
    total = dict(t.total, layers=sum(g["layers"] for g in groups))
    return Rows(t.title + " — by kind", cols, tuple(groups), total, t.notes, record)


# --------------------------------------------------------------------------- sweep

SWEEP_COLS = (
    Col("input", "Input", "shape"),
    Col("output", "Output", "shape"),
    Col("params", "Params"),
    Col("macs", "MACs"),
    Col("flops", "FLOPs"),
    Col("activations", "Kept for backward", "bytes"),
    Col("memory", "Training memory", "bytes"),
    Col("runs", "Runs?", "text"),
)


def sweep_resized_notes(s: Sweep) -> list[str]:
    """One line per layer whose parameters follow the input size (an fc after a flatten):
    ``fc1 takes 400 inputs at the file's 1×28×28, 2,304 at 1×56×56: 276,600 parameters``."""
    by_layer: dict[str, list] = {}
    for p in s.points:
        for r in p.resized:
            by_layer.setdefault(r.name, []).append((p.input, r))
    notes = []
    for name, seen in by_layer.items():
        first = seen[0][1]
        unit = " inputs" if len(first.out_shape) == 1 else ""
        sizes = ", ".join(
            f"{intake(r.in_shape, r.out_shape)} at {shape_text(shape)} ({r.params:,} parameters)"
            for shape, r in seen
        )
        notes.append(
            f"{name} takes {intake(first.file_in_shape, first.out_shape)}{unit} at the file's "
            f"{shape_text(s.input)} ({first.file_params:,} parameters), {sizes}."
        )
    return notes


def sweep_rows(s: Sweep) -> Rows:
    rows, records = [], []
    convention = None
    for p in s.points:
        if p.error is not None:
            rows.append({"input": p.input, "runs": "no: " + p.error})
            records.append({"input": list(p.input), "valid": False, "error": p.error})
            continue
        a, m = p.analysis, p.memory
        convention = a.convention
        row = {
            "input": p.input,
            "output": a.output,
            "params": a.total.params,
            "macs": a.total.macs,
            "flops": a.total.flops,
            "activations": m.activations,
            "memory": m.total,
            "runs": "yes",
        }
        rows.append(row)
        records.append(
            {
                "input": list(p.input),
                "valid": True,
                "output": list(a.output),
                **{k: row[k] for k in ("params", "macs", "flops", "activations", "memory")},
                **({"resized": [resized_record(r) for r in p.resized]} if p.resized else {}),
            }
        )
    smallest = s.smallest_valid
    notes = [
        f"Smallest swept input that runs: {shape_text(smallest.input)}"
        if smallest
        else "No swept input runs."
    ]
    if s.minsize:
        notes.append(minsize_sentence(s.minsize))
    notes += sweep_resized_notes(s)
    notes.append(
        f"Training memory at batch {s.batch}, {s.dtype}, {s.optimizer}"
        + (f"; convention {convention.name}" if convention else "")
    )
    record = {
        "network": s.network,
        "batch": s.batch,
        "dtype": s.dtype,
        "optimizer": s.optimizer,
        "convention": convention.name if convention else None,
        "points": records,
        "smallest_swept": list(smallest.input) if smallest else None,
        "minsize": list(s.minsize.size) if s.minsize else None,
    }
    return Rows(
        f"{s.network}: sweep over {len(s.points)} input sizes",
        SWEEP_COLS,
        tuple(rows),
        None,
        tuple(notes),
        record,
    )


def minsize_sentence(m: MinSize) -> str:
    text = f"Smallest input every layer takes: {shape_text(m.size)}"
    if m.below is not None:
        text += f"; at {shape_text(m.below)}: {m.reason}"
    return text


def minsize_rows(m: MinSize) -> Rows:
    row = {"network": m.network, "size": m.size, "below": m.below, "reason": m.reason or ""}
    cols = (
        Col("network", "Network", "text"),
        Col("size", "Smallest input", "shape"),
        Col("below", "One pixel less", "shape"),
        Col("reason", "Fails because", "text"),
    )
    record = {
        "network": m.network,
        "minsize": list(m.size),
        "below": list(m.below) if m.below else None,
        "reason": m.reason,
    }
    return Rows(
        f"{m.network}: smallest input size",
        cols,
        (row,),
        None,
        (
            "Every spatial axis the same size; channels from the network's input. Shapes "
            "only: PyTorch's BatchNorm in training mode also needs more than one value per "
            "channel (batch × positions > 1).",
        ),
        record,
    )

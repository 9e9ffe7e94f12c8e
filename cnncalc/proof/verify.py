"""``cnncalc verify``: run a network in the reference executor and check every prediction.

For each layer, the calculator's predicted output shape and raw operation
counts (what ``cnncalc flops --format json`` reports as ``ops``) are set
beside the shape the executor produced and the operations it actually
performed: multiplications, additions, bias additions, comparisons,
divisions, exponentials and residual additions.  Nothing here prints;
:mod:`cnncalc.verify_report` writes the result out.

numpy is imported only when a network is run, so the calculator commands
never load it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape, prod
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.ops import Ops
from cnncalc.kinds.pool import Adaptive, Pool
from cnncalc.model.graph import Graph
from cnncalc.model.spec import NetworkSpec
from cnncalc.proof.impls import IMPLS

if TYPE_CHECKING:  # the executor needs numpy, which only a run may load
    from cnncalc.proof.executor.run import NaiveCost

CHECKED = ("mults", "adds", "bias_adds", "compares", "divs", "exps", "eltwise_adds")
"""The raw counts that are compared (MACs are a convention's weighing of mults, not an
operation of their own)."""

DEFAULT_MAX_SECONDS = 60.0
EXECUTOR_BYTES_PER_VALUE = 8
"""The executor runs in float64."""


@dataclass(frozen=True)
class LayerCheck:
    """One layer: prediction beside execution (counts for the whole batch)."""

    name: str
    kind: str
    predicted_shape: Shape
    executed_shape: Shape | None
    """Without the batch axis, as cnncalc reports shapes; None if the layer did not run."""
    predicted: dict[str, int]
    performed: dict[str, int] | None
    error: str | None = None
    """Why the executor refused the layer, if it did."""

    @property
    def disagreements(self) -> list[str]:
        """The fields that differ: 'run' if it did not run, 'shape', then the counts."""
        if self.performed is None or self.executed_shape is None:
            return ["run"]
        out = ["shape"] if self.executed_shape != self.predicted_shape else []
        return out + [f for f in CHECKED if self.predicted[f] != self.performed[f]]

    @property
    def ok(self) -> bool:
        return not self.disagreements


@dataclass(frozen=True)
class Verification:
    network: str
    input: Shape
    batch: int
    impl: str
    seed: int
    flip: bool
    layers: tuple[LayerCheck, ...]
    seconds: float
    """Wall time of the forward pass."""
    estimated_seconds: float
    """What the run was estimated to take before it started."""

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    @property
    def first_disagreement(self) -> LayerCheck | None:
        return next((layer for layer in self.layers if not layer.ok), None)

    def total(self, side: str) -> dict[str, int]:
        """Field-by-field sums of the ``predicted`` or ``performed`` counts."""
        rows = [getattr(layer, side) or {} for layer in self.layers]
        return {f: sum(r.get(f, 0) for r in rows) for f in CHECKED}


@dataclass(frozen=True)
class Estimate:
    """What a run will cost, worked out before it starts."""

    seconds: float
    basis: str
    """How the time was worked out, in words with the numbers."""
    peak_bytes: int


def map_visits(graph: Graph, batch: int) -> int:
    """How often the naive conv loops step to the next input map of an output (once per
    output and input map seen; per output map and input map for a transposed conv)."""
    visits = 0
    for node in graph.nodes:
        if isinstance(node.layer, Conv):
            visits += node.layer.inputs_seen(node.in_shape) * prod(node.out_shape[1:])
        elif isinstance(node.layer, Deconv):
            visits += (node.in_shape[0] // node.layer.groups) * prod(node.out_shape)
    return visits * batch


def peak_bytes(graph: Graph, batch: int) -> int:
    """Largest working set of one layer in the fast executor, float64: its inputs, its
    output and its im2col buffer (a conv reads its kernel-sized columns at once)."""
    peak = 0
    for node in graph.nodes:
        values = sum(prod(s) for s in node.in_shapes) + prod(node.out_shape)
        if isinstance(node.layer, Conv):
            k = node.layer.geometry(node.in_shape).kernel
            per_group = node.in_shape[0] // node.layer.groups
            values += per_group * prod(k) * prod(node.out_shape[1:])
        peak = max(peak, values)
    return peak * batch * EXECUTOR_BYTES_PER_VALUE


def memory_limit() -> int:
    """Half this machine's physical memory (8 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux
        return 8 * 2**30


def table_connections(graph: Graph) -> int:
    """Connections of the convolutions with a connection table: Σ over their output maps of
    the input maps each sees (the fast executor takes them one at a time, whatever the batch)."""
    return sum(
        node.layer.inputs_seen(node.in_shape)
        for node in graph.nodes
        if isinstance(node.layer, Conv) and node.layer.table is not None
    )


@dataclass(frozen=True)
class FastWork:
    """What the fast executor does on a network, in the terms its time is made of (whole
    batch): BLAS multiplications, array elements moved around them, steps of its Python
    loops, and the connections of convs with a connection table."""

    mults: int
    values: int
    """Elements read or written outside the matrix products: every layer's inputs and output,
    a conv's padded copy and im2col columns, a pool's pass over its output per kernel tap, a
    transposed conv's per tap."""
    calls: int
    """Steps of the executor's Python loops, each a few numpy calls: one per layer, one per
    conv group, per pool or transposed-conv tap (times its groups), per adaptive window."""
    connections: int
    """Σ over the tabled convs' output maps of the input maps each sees (one small product
    each, made in Python)."""


def fast_work(graph: Graph, batch: int, mults: int) -> FastWork:
    """The terms of :class:`FastWork` for one run of ``graph`` (``mults``: the calculator's
    predicted multiplications), read off how ``ops_fast`` runs each kind."""
    values = calls = 0
    for node in graph.nodes:
        layer, x, y = node.layer, node.in_shape, node.out_shape
        values += sum(prod(s) for s in node.in_shapes) + prod(y)
        calls += 1
        if isinstance(layer, Conv):
            g = layer.geometry(x)
            taps, positions = prod(g.kernel), prod(y[1:])
            padded = any(lo or hi for lo, hi in g.padding)
            if taps > 1 or padded or any(s != 1 for s in g.stride):
                values += x[0] * taps * positions  # the im2col columns, one copy
            if padded:
                values += x[0] * prod(n + lo + hi for n, (lo, hi) in zip(x[1:], g.padding))
            calls += layer.groups - 1 if layer.table is None else 0
        elif isinstance(layer, Pool):
            g = layer.geometry(x)
            taps = prod(g.kernel)
            values += x[0] * prod(n + lo + hi for n, (lo, hi) in zip(x[1:], g.padding))
            values += taps * prod(y)
            calls += taps
        elif isinstance(layer, Deconv):
            taps = prod(layer.geometry(x).kernel)
            values += taps * (prod(x) + prod(y))
            calls += taps * layer.groups
        elif isinstance(layer, Adaptive):
            calls += prod(y[1:])
    return FastWork(mults, values * batch, calls, table_connections(graph))


@dataclass(frozen=True)
class FastCost:
    """Seconds the fast executor spends on each term of :class:`FastWork`, on this machine,
    now (:func:`fast_cost`)."""

    per_mult: float
    per_value: float
    per_call: float
    per_connection: float

    def seconds(self, work: FastWork) -> float:
        return (
            work.mults * self.per_mult
            + work.values * self.per_value
            + work.calls * self.per_call
            + work.connections * self.per_connection
        )


CALIBRATION = {
    "calls": "input: [128, 2, 2]\nlayers:\n"
    "  - {conv: 128, kernel: 3, padding: 1, groups: 128, bias: false}\n",
    "values": "input: [64, 128, 128]\nlayers:\n  - {batchnorm: }\n  - {relu: }\n"
    "  - concat: [[], [{conv: 4, kernel: 3, padding: 1, bias: false}]]\n",
    "mults": "input: [64, 56, 56]\nlayers:\n  - {conv: 64, kernel: 3, padding: 1, bias: false}\n",
}
"""Three small networks, each spending its time on one term: a depthwise conv of 128 groups
on a 2×2 map (loop steps); BatchNorm, ReLU, a 3×3 conv to 4 maps and a concat on 64 maps of
128×128, 8 MB each, larger than a processor's caches as a real network's maps are (elements
moved: the conv's im2col columns are most of them, its products few); and a 3×3 conv of 64
maps on 56×56, ResNet's first stage (115.6 M multiplications)."""


def fast_cost(runner, tables: bool = False, repeats: int = 3) -> FastCost:
    """The fast executor's cost per term, measured: the real executor runs each network of
    :data:`CALIBRATION` ``repeats`` times (the fastest run is the one least disturbed by
    other work on the machine). Each network's time goes to its own term once the terms
    already priced are taken off it, in order: loop steps, then moved values, then
    multiplications (a cost that noise would make negative is charged the network's whole
    time instead, the safe side for --max-seconds). The per-connection cost of a tabled
    conv is ``runner.table_cost``'s (measured only for a network with ``tables``)."""
    measured = {}
    for name, text in CALIBRATION.items():
        spec = loads(f"name: {name}\n{text}")
        graph = build(spec)
        work = fast_work(graph, 1, analyze(spec).total.ops.mults)
        seconds = min(runner.run(graph, "fast", 1, keep=False).seconds for _ in range(repeats))
        measured[name] = (work, seconds)

    def rest(name: str, taken: float, size: int) -> float:
        seconds = measured[name][1]
        return (seconds - taken if seconds > taken else seconds) / size

    work, _ = measured["calls"]
    per_call = rest("calls", 0.0, work.calls)
    work, _ = measured["values"]
    per_value = rest("values", work.calls * per_call, work.values)
    work, _ = measured["mults"]
    per_mult = rest("mults", work.calls * per_call + work.values * per_value, work.mults)
    per_connection = runner.table_cost() if tables else 0.0
    return FastCost(per_mult, per_value, per_call, per_connection)


def estimate(
    graph: Graph,
    predicted_total: dict[str, int],
    batch: int,
    impl: str,
    naive: NaiveCost | None = None,
    fast: FastCost | None = None,
) -> Estimate:
    """Time and memory of a run. Both executors' costs are measured on this machine: the
    naive loops' per operation and map visit (a :class:`NaiveCost`), the fast executor's per
    term of :class:`FastWork` (a :class:`FastCost`)."""
    peak = peak_bytes(graph, batch)
    if impl == "naive":
        assert naive is not None
        ops, visits = sum(predicted_total.values()), map_visits(graph, batch)
        seconds = ops * naive.per_op + visits * naive.per_visit
        return Estimate(
            seconds,
            f"{ops:,} counted operations at {naive.per_op * 1e9:.0f} ns "
            f"and {visits:,} map visits at {naive.per_visit * 1e9:.0f} ns, "
            f"measured on this machine",
            peak,
        )
    assert fast is not None
    work = fast_work(graph, batch, predicted_total["mults"])
    basis = (
        f"{work.mults:,} multiplications at {fast.per_mult * 1e9:.2g} ns, "
        f"{work.values:,} values moved at {fast.per_value * 1e9:.2g} ns "
        f"and {work.calls:,} loop steps at {fast.per_call * 1e6:.2g} µs"
    )
    if work.connections:
        basis += (
            f", {work.connections:,} connections of tabled convs at "
            f"{fast.per_connection * 1e6:.2g} µs"
        )
    return Estimate(fast.seconds(work), basis + ", measured on this machine", peak)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _refuse_if_too_big(name: str, est: Estimate, impl: str, max_seconds: float) -> None:
    if est.seconds > max_seconds:
        raise CnnCalcError(
            f"the {impl} executor would take about {_duration(est.seconds)} on '{name}' "
            f"({est.basis}), more than --max-seconds {max_seconds:g}",
            hint="use --impl fast, a smaller --input or --batch, or raise --max-seconds"
            if impl == "naive"
            else "use a smaller --input or --batch, or raise --max-seconds",
        )
    limit = memory_limit()
    if est.peak_bytes > limit:
        raise CnnCalcError(
            f"running '{name}' would need about {est.peak_bytes / 2**30:.1f} GiB for its largest "
            f"layer, more than half this machine's memory ({limit / 2**30:.1f} GiB)",
            hint="use a smaller --batch or --input",
        )


def predicted_counts(ops: Ops) -> dict[str, int]:
    """The calculator's raw counts that an execution can be held to."""
    return {f: getattr(ops, f) for f in CHECKED}


def _executor():
    try:
        from cnncalc.proof.executor import run
    except ImportError as exc:  # numpy is an extra: the calculator itself never needs it
        raise CnnCalcError(
            f"the executor needs numpy ({exc})", hint="pip install 'cnncalc[executor]'"
        ) from None
    return run


def verify_network(
    spec: NetworkSpec,
    input: Shape | None = None,
    batch: int = 1,
    impl: str = "fast",
    seed: int = 0,
    flip: bool = False,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Verification:
    """Predict with the calculator, run with the executor, set them side by side."""
    if impl not in IMPLS:
        raise CnnCalcError(
            f"unknown executor '{impl}'", field="--impl", hint=f"choose one of {', '.join(IMPLS)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise CnnCalcError(
            f"seed must be a whole number from 0 to 2^63 − 1, got {seed}", field="--seed"
        )
    if not (
        isinstance(max_seconds, (int, float)) and max_seconds > 0 and math.isfinite(max_seconds)
    ):
        raise CnnCalcError(
            f"must be a positive number of seconds, got {max_seconds}", field="--max-seconds"
        )
    analysis = analyze(spec, input, batch)
    graph = build(spec, input)
    predicted = [predicted_counts(layer.ops) for layer in analysis.layers]
    total = {f: sum(p[f] for p in predicted) for f in CHECKED}
    runner = _executor()
    if impl == "naive":
        cost = estimate(graph, total, batch, impl, runner.naive_cost())
    else:
        cost = estimate(
            graph, total, batch, impl, fast=fast_cost(runner, tables=table_connections(graph) > 0)
        )
    _refuse_if_too_big(graph.name, cost, impl, max_seconds)

    try:
        result = runner.run(graph, impl, batch, seed=seed, flip=flip, keep=False)
        done, failed, seconds = result.nodes, None, result.seconds
    except runner.LayerFailed as exc:  # a layer the calculator accepted, the executor refused
        done, failed, seconds = exc.done, exc, 0.0
    executed = {n.index: n for n in done}
    layers = []
    for node, pred in zip(graph.nodes, predicted):
        ran = executed.get(node.index)
        error = str(failed) if failed is not None and failed.index == node.index else None
        layers.append(
            LayerCheck(
                node.name,
                node.kind,
                node.out_shape,
                None if ran is None else ran.shape[1:],
                pred,
                None if ran is None else ran.count.as_dict(),
                error,
            )
        )
    return Verification(
        graph.name, graph.input, batch, impl, seed, flip, tuple(layers), seconds, cost.seconds
    )


def verify_each(
    spec: NetworkSpec,
    input: Shape | None = None,
    batch: int = 1,
    impl: str = "fast",
    seed: int = 0,
    flip: bool = False,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> list[Verification]:
    """One verification per variant of a study, or a one-item list for a plain network."""
    specs = [spec] if spec.variants is None else list(spec.variants.values())
    return [verify_network(s, input, batch, impl, seed, flip, max_seconds) for s in specs]

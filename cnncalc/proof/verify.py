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
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from cnncalc.analysis.pipeline import analyze, build, loads
from cnncalc.errors import CnnCalcError
from cnncalc.kinds import pointwise as pw
from cnncalc.kinds.arith import Shape, prod
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.dense import Fc, Flatten
from cnncalc.kinds.joins import Add, Mul
from cnncalc.kinds.ops import Ops
from cnncalc.kinds.pool import Adaptive, Pool, Subsample
from cnncalc.kinds.rearrange import Crop, Select, Shuffle, Upsample
from cnncalc.model.graph import Graph
from cnncalc.model.spec import NetworkSpec
from cnncalc.proof.impls import FRESH_BYTES, IMPLS, band_rows

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
    """The weights and the largest layer's working set (:func:`weight_bytes`,
    :func:`peak_bytes`)."""


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
    output and its im2col buffer (a conv's kernel-sized columns for one band of output rows,
    :func:`cnncalc.proof.impls.band_rows`)."""
    peak = 0
    for node in graph.nodes:
        values = sum(prod(s) for s in node.in_shapes) + prod(node.out_shape)
        if isinstance(node.layer, Conv):
            k = node.layer.geometry(node.in_shape).kernel
            per_group = node.in_shape[0] // node.layer.groups
            rows = node.out_shape[1]
            band = rows if node.layer.table is not None else min(rows, _band(node, batch))
            values += per_group * prod(k) * prod(node.out_shape[2:]) * band
        peak = max(peak, values)
    return peak * batch * EXECUTOR_BYTES_PER_VALUE


def weight_bytes(graph: Graph) -> int:
    """Every weight and buffer of the network, float64: the executor makes them all before
    the run (an fc of 100 units on a 12-megapixel image holds 3.6 billion weights, 26.8 GiB)."""
    return EXECUTOR_BYTES_PER_VALUE * sum(
        prod(entry.shape) for node in graph.nodes for entry in node.layer.state(node.in_shape)
    )


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


VIEWS = (pw.Dropout, pw.DropPath, pw.Identity, Flatten, Select, Crop)
"""Kinds ``ops_fast`` runs as a view of their input: no pass over it, no new array."""

PASSES: dict[type, int] = {
    pw.Relu: 2,
    pw.Relu6: 2,
    pw.Tanh: 2,
    pw.LayerScale: 2,
    Shuffle: 2,
    pw.BatchNorm: 4,
    pw.Hardsigmoid: 6,
    pw.Mish: 7,
    pw.Sigmoid: 8,
    pw.Softmax: 8,
    pw.LogSoftmax: 8,
    pw.LeakyRelu: 8,
    pw.Prelu: 8,
    pw.Silu: 9,
    pw.Hardswish: 9,
    pw.Elu: 12,
    pw.LayerNorm: 12,
    pw.GroupNorm: 12,
    pw.InstanceNorm: 12,
    **dict.fromkeys(VIEWS, 0),
}
"""Whole-map arrays an elementwise kind reads or writes in ``ops_fast``, per output element:
``np.maximum(x, 0)`` reads x and writes y (2); batch norm's ``x * scale`` then ``+= shift``
(4); SiLU's ``-x``, ``exp``, ``1 +``, ``x / …`` (9); a normalisation's mean, centring,
square, mean, scaling and affine γ, β (12); a view (dropout, flatten, select, crop) none.
A kind not listed reads its inputs and writes its output once."""

TRANSCENDENTALS: dict[type, int] = {
    pw.Sigmoid: 1,
    pw.Tanh: 1,
    pw.Softmax: 1,
    pw.LogSoftmax: 1,
    pw.Silu: 1,
    pw.Elu: 1,
    pw.Lrn: 1,
    pw.Mish: 2,
}
"""Element evaluations of numpy's vectorised exp, expm1, tanh, log or power per output
element in ``ops_fast`` (Mish: logaddexp, then tanh; LRN: the power ``** beta``)."""

NEW_ARRAYS: dict[type, int] = {
    pw.Relu: 1,
    pw.Relu6: 1,
    pw.Tanh: 1,
    pw.LayerScale: 1,
    Shuffle: 1,
    pw.BatchNorm: 1,
    pw.LeakyRelu: 2,
    pw.Prelu: 2,
    pw.Softmax: 3,
    pw.LogSoftmax: 3,
    pw.Mish: 3,
    pw.Hardsigmoid: 3,
    Subsample: 3,
    pw.Sigmoid: 4,
    pw.Silu: 4,
    pw.Hardswish: 4,
    pw.Elu: 4,
    pw.LayerNorm: 5,
    pw.GroupNorm: 5,
    pw.InstanceNorm: 5,
    pw.Lrn: 7,
    **dict.fromkeys(VIEWS, 0),
}
"""Arrays of the output's size an elementwise kind allocates in ``ops_fast``: ReLU's
``np.maximum`` one; batch norm's ``x * scale`` one (``+= shift`` is in place); SiLU's
``-x``, ``exp``, ``1 +``, ``x / …`` four; a normalisation's centring, square, scaling and
affine γ, β five; LRN's square, padded square, window sum, ``k + α/n·s``, its power and the
quotient seven; a view none. A kind not listed allocates its output alone."""


def _new_arrays(node, batch: int) -> list[tuple[int, int]]:
    """The arrays ``ops_fast`` allocates for a layer, as (how many, values each), whole
    batch: its outputs and temporaries, a conv's or pool's padded copy, a conv's im2col
    bands, a tabled conv's partial sums, a transposed conv's per-tap products."""
    layer, x, y = node.layer, node.in_shape, node.out_shape
    out = batch * prod(y)
    if isinstance(layer, pw.Gelu):  # exact: x·√½, erf's object array, its cast, 0.5·x, 1 +,
        # the product; tanh: x³, ·0.044715, x +, ·√(2/π), tanh, 0.5·x, 1 +, the product
        return [(6 if layer.approximate == "none" else 8, out)]
    if isinstance(layer, Conv):
        g = layer.geometry(x)
        taps, positions = prod(g.kernel), prod(y[1:])
        padded = any(lo or hi for lo, hi in g.padding)
        arrays = [(1, out)]
        if padded:
            arrays.append((1, batch * _padded(x, g.padding)))
        copied = taps > 1 or padded or any(s != 1 for s in g.stride)
        if layer.table is not None:  # the whole im2col, then one [N, positions] a connection
            if copied:
                arrays.append((1, batch * x[0] * taps * positions))
            arrays.append((layer.inputs_seen(x), batch * positions))
        elif copied:
            per_row = batch * (x[0] // layer.groups) * taps * prod(y[2:])
            band, rows = _band(node, batch), y[1]
            arrays.append((layer.groups * (rows // band), per_row * band))
            if rows % band:
                arrays.append((layer.groups, per_row * (rows % band)))
        return arrays
    if isinstance(layer, Deconv):  # the zeroed output, then per tap and group a product of
        # the group's output maps at the input positions that land, and its input box (a
        # strided copy): at most every input position
        steps = layer.groups * prod(layer.geometry(x).kernel)
        return [
            (1, out),
            (steps, batch * (y[0] // layer.groups) * prod(x[1:])),
            (steps, batch * prod(x) // layer.groups),
        ]
    if isinstance(layer, Pool):
        return [(1, batch * _padded(x, layer.geometry(x).padding)), (1, out)]
    if isinstance(layer, pw.Linear) and layer.bias:  # y = y + b, a second array
        return [(2, out)]
    if isinstance(layer, Upsample):  # one np.take per spatial axis
        return [(len(y) - 1, out)]
    return [(NEW_ARRAYS.get(type(layer), 1), out)]


def _fresh_arrays(node, batch: int) -> list[tuple[int, int]]:
    """The arrays of :func:`_new_arrays` that malloc maps anew: each of
    :data:`~cnncalc.proof.impls.FRESH_BYTES` or more, as (how many, bytes each)."""
    return [
        (count, values * EXECUTOR_BYTES_PER_VALUE)
        for count, values in _new_arrays(node, batch)
        if count and values * EXECUTOR_BYTES_PER_VALUE >= FRESH_BYTES
    ]


def fresh_bytes(node, batch: int) -> int:
    """Bytes of the arrays a layer allocates that malloc maps anew (float64), every one
    filled page by page: a new mapping's pages fault in even where the memory was freed a
    moment before."""
    return sum(count * size for count, size in _fresh_arrays(node, batch))


def new_bytes(graph: Graph, batch: int) -> int:
    """The high-water mark of the run's large arrays: the most bytes of them alive at once
    (each layer's large outputs kept until their last reader has run, as ``run(...,
    keep=False)`` does, plus the layer's output and its two largest other entries of
    :func:`_new_arrays`: a conv's padded copy and one im2col band, an elementwise kind's
    temporary), which is memory the run takes from the machine, not from what it freed
    before."""
    if not any(fresh_bytes(node, batch) for node in graph.nodes):
        return 0
    last = graph.last_readers()
    alive: dict[int, int] = {}
    high = 0
    for node in graph.nodes:
        out = batch * prod(node.out_shape) * EXECUTOR_BYTES_PER_VALUE
        output = out if out >= FRESH_BYTES and NEW_ARRAYS.get(type(node.layer), 1) else 0
        others, kept = [], output  # the output is counted apart: it stays alive
        for count, size in _fresh_arrays(node, batch):
            if kept and size == kept:
                count, kept = count - 1, 0
            if count:
                others.append(size)
        work = output + sum(sorted(others)[-2:])
        high = max(high, sum(alive.values()) + work)
        if output:
            alive[node.index] = output
        for i in set(node.inputs):
            if last.get(i) == node.index and i not in graph.output_nodes:
                alive.pop(i, None)
    return high


@dataclass(frozen=True)
class FastWork:
    """What the fast executor does on a network, in the terms its time is made of (whole
    batch): BLAS multiplications and the weights they read, array elements streamed and
    gathered around them, transcendental functions, steps of its Python loops, and the
    connections of convs with a connection table."""

    mults: int
    """Multiplications inside BLAS matrix products: convs, transposed convs, fc, linear."""
    weights: int
    """Weight-matrix elements those products read (an fc at batch 1 is a matrix-vector
    product: its time is reading the weights, not multiplying them)."""
    values: int
    """Elements read or written contiguously outside the products: the passes of
    :data:`PASSES` (a kind not listed reads its inputs and writes its output), a conv's or
    pool's padded copy, a bias addition."""
    gathered: int
    """Elements copied through strided views: a conv's im2col columns, a pool's pass over
    its output per kernel tap, a transposed conv's input and output boxes per tap."""
    transcendentals: int
    """Element evaluations of :data:`TRANSCENDENTALS` (and GELU's tanh form)."""
    erfs: int
    """Elements of exact GELU: numpy has no erf, so ``ops_fast`` calls ``math.erf`` once per
    element from Python, some 100× a streamed value."""
    convs: int
    """Convolutions, each setting up once (geometry, padding, the strided view, its count):
    some 100 µs, six times a ReLU's whole call, which a small network's time is made of."""
    calls: int
    """Steps of the executor's Python loops, each a few numpy calls: one per layer, one per
    conv group, per pool or transposed-conv tap (times its groups), per adaptive window."""
    connections: int
    """Σ over the tabled convs' output maps of the input maps each sees (one small product
    each, made in Python)."""
    fresh: int
    """Bytes of the arrays malloc maps anew, of :data:`~cnncalc.proof.impls.FRESH_BYTES` or
    more (:func:`fresh_bytes`): each page faults in when first written, which a network of
    small arrays, reusing malloc's heap, never pays."""
    new: int
    """Bytes the run takes beyond memory it freed a moment before (:func:`new_bytes`): on this
    virtual machine such memory is backed anew by the host on its first touch, 10× a
    recycled page or more (fc-vs-conv's conv writes a 9.6 GB output)."""


def _padded(x: Shape, padding) -> int:
    """Elements of ``x`` once padded (channels first, ``padding`` (lo, hi) per axis)."""
    return x[0] * prod(n + lo + hi for n, (lo, hi) in zip(x[1:], padding))


def _streamed(node) -> int:
    """Elements a layer reads and writes whole (:data:`PASSES`), for one sample."""
    layer, out = node.layer, prod(node.out_shape)
    if isinstance(layer, Add | Mul):  # np.zeros, then y += (or *=) each input
        return (1 + 3 * len(node.in_shapes)) * out
    if isinstance(layer, pw.Gelu):  # exact: x·√½, the erf's object array and cast, 1 +, ·0.5, ·x;
        # tanh: x³, ·0.044715, x +, ·√(2/π), tanh, 1 +, ·0.5, ·x
        return (12 if layer.approximate == "none" else 18) * out
    passes = PASSES.get(type(layer))
    return sum(prod(s) for s in node.in_shapes) + out if passes is None else passes * out


def _band(node, batch: int) -> int:
    """Output rows in one im2col band of a fast conv (``ops_fast.conv``)."""
    x, y, layer = node.in_shape, node.out_shape, node.layer
    per_row = batch * (x[0] // layer.groups) * prod(layer.geometry(x).kernel) * prod(y[2:])
    return band_rows(per_row)


def _bands(node, batch: int) -> int:
    """im2col bands a fast conv's group makes, one loop step each."""
    return -(-node.out_shape[1] // _band(node, batch))


def fast_work(graph: Graph, batch: int) -> FastWork:
    """The terms of :class:`FastWork` for one run of ``graph``, read off how ``ops_fast``
    runs each kind."""
    mults = weights = values = gathered = transcendentals = erfs = convs = calls = fresh = 0
    for node in graph.nodes:
        layer, x, y = node.layer, node.in_shape, node.out_shape
        out = prod(y)
        calls += 1
        fresh += fresh_bytes(node, batch)
        values += _streamed(node)
        transcendentals += TRANSCENDENTALS.get(type(layer), 0) * out
        if isinstance(layer, pw.Gelu):
            if layer.approximate == "none":
                erfs += out
            else:
                transcendentals += out
        elif isinstance(layer, Conv):
            convs += 1
            g = layer.geometry(x)
            taps, positions = prod(g.kernel), prod(y[1:])
            padded = any(lo or hi for lo, hi in g.padding)
            product = layer.inputs_seen(x) * taps
            mults += product * positions
            weights += product
            bands = 1
            if taps > 1 or padded or any(s != 1 for s in g.stride):
                gathered += x[0] * taps * positions  # the im2col columns, one copy
                bands = _bands(node, batch)
            if padded:
                values += _padded(x, g.padding)
            if layer.bias:
                values += 2 * out
            calls += layer.groups * bands - 1 if layer.table is None else 0
        elif isinstance(layer, Deconv):
            taps = prod(layer.geometry(x).kernel)
            product = x[0] * (y[0] // layer.groups) * taps
            mults += product * prod(x[1:])
            weights += product
            gathered += taps * (prod(x) + out)
            calls += taps * layer.groups
        elif isinstance(layer, Fc | pw.Linear):
            product = prod(x) * y[0] if isinstance(layer, Fc) else x[0] * y[0]
            mults += product * (1 if isinstance(layer, Fc) else prod(x[1:]))
            weights += product
        elif isinstance(layer, Pool):
            g = layer.geometry(x)
            taps = prod(g.kernel)
            values += _padded(x, g.padding)
            gathered += taps * out
            calls += taps
        elif isinstance(layer, Adaptive):
            calls += prod(y[1:])
    return FastWork(
        mults * batch,
        weights,
        values * batch,
        gathered * batch,
        transcendentals * batch,
        erfs * batch,
        convs,
        calls,
        table_connections(graph),
        fresh,
        new_bytes(graph, batch),
    )


TERMS = tuple(f.name for f in fields(FastWork))


@dataclass(frozen=True)
class FastCost:
    """Seconds the fast executor spends on one unit of each term of :class:`FastWork`, on
    this machine, now (:func:`fast_cost`)."""

    mults: float
    weights: float
    values: float
    gathered: float
    transcendentals: float
    erfs: float
    convs: float
    calls: float
    connections: float
    fresh: float
    new: float

    def seconds(self, work: FastWork) -> float:
        return sum(getattr(work, t) * getattr(self, t) for t in TERMS)


CALIBRATION = {
    "convs": "input: [4, 2, 2]\nlayers:\n  - repeat: 64\n"
    "    layers:\n      - {conv: 4, kernel: 3, padding: 1, bias: false}\n",
    "calls": "input: [1024, 2, 2]\nlayers:\n"
    "  - {conv: 1024, kernel: 3, padding: 1, groups: 1024, bias: false}\n",
    "values": "input: [64, 64, 64]\nlayers:\n  - repeat: 16\n"
    "    layers:\n      - {batchnorm: }\n      - {relu: }\n",
    "gathered": "input: [64, 64, 64]\nlayers:\n  - {conv: 4, kernel: 3, padding: 1, bias: false}\n",
    "mults": "input: [256, 56, 56]\nlayers:\n  - {conv: 256, kernel: 1, bias: false}\n",
    "weights": "input: [4096]\nlayers:\n  - {fc: 4096, bias: false}\n",
    "transcendentals": "input: [64, 128, 128]\nlayers:\n  - {tanh: }\n",
    "erfs": "input: [64, 32, 32]\nlayers:\n  - {gelu: }\n",
}
"""One small network a term, each spending nearly all its time on that term, and each
taking some 10 ms or more, so that a share of a loaded machine's time slices is measured
rather than the luck of one: 64 tiny 3×3 convs on 4 maps of 2×2 (a conv's setting up); a
depthwise conv of 1,024 groups on a 2×2 map (loop steps);
BatchNorm and ReLU sixteen times over on 64 maps of 64×64, 2 MB, as a real network's middle
stages (streamed values); a 3×3 conv of 64 maps to 4 on 64×64 (its 2.4 M im2col columns;
9.4 M multiplications); a 1×1 conv of 256 maps to 256 on 56×56 (205.5 M multiplications, no
im2col); an fc of 4096 to 4096 at batch 1 (16.8 M weights, 128 MB, more than a processor's
caches, read once); tanh on 1,048,576 elements; exact GELU on 65,536."""


def fast_cost(runner, tables: bool = False, repeats: int = 3, fresh_sample: int = 0) -> FastCost:
    """The fast executor's cost per term, measured: the real executor runs each network of
    :data:`CALIBRATION` ``repeats`` times, round by round (the first round meets numpy's
    allocator as it was, and its large arrays leave it as a real run finds it), and each
    network's median run counts: a real run is one run at the machine's present load, not
    the luckiest of several (the fastest of three put the zoo 1.1–2× under on a loaded
    machine). Each network's time, less what the other terms already priced take of it,
    goes to its own term; three rounds of that settle the prices (each network's own term
    is most of its work). A price that noise would make negative is charged the network's
    whole time instead, the safe side for --max-seconds. The per-connection cost of a
    tabled conv is ``runner.table_cost``'s (measured only for a network with ``tables``);
    a byte of a new mapping's and a byte of new memory's are ``runner.fresh_cost``'s on at
    most ``fresh_sample`` bytes (measured only for a network that writes some: none of the
    networks above does)."""
    graphs = {name: build(loads(f"name: {name}\n{text}")) for name, text in CALIBRATION.items()}
    weights = {name: runner.constant_state(graph) for name, graph in graphs.items()}
    times: dict[str, list[float]] = {name: [] for name in graphs}
    for _ in range(repeats):
        for name, graph in graphs.items():
            times[name].append(
                runner.run(graph, "fast", 1, weights=weights[name], keep=False).seconds
            )
    measured = {
        name: (fast_work(graph, 1), sorted(times[name])[repeats // 2])
        for name, graph in graphs.items()
    }
    price = dict.fromkeys(TERMS, 0.0)
    price["connections"] = runner.table_cost() if tables else 0.0
    price["fresh"], price["new"] = runner.fresh_cost(fresh_sample) if fresh_sample else (0, 0)
    for _ in range(3):
        for name, (work, seconds) in measured.items():
            others = sum(getattr(work, t) * price[t] for t in TERMS if t != name)
            own = getattr(work, name)
            price[name] = (seconds - others if seconds > others else seconds) / own
    return FastCost(**price)


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
    peak = weight_bytes(graph) + peak_bytes(graph, batch)
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
    work = fast_work(graph, batch)
    basis = ", ".join(
        f"{getattr(work, t):,} {BASIS[t]} at {_price(getattr(fast, t))}"
        for t in TERMS
        if getattr(work, t)
    )
    return Estimate(fast.seconds(work), basis + ", measured on this machine", peak)


def _price(seconds: float) -> str:
    return f"{seconds * 1e9:.2g} ns" if seconds < 1e-6 else f"{seconds * 1e6:.2g} µs"


BASIS = {
    "mults": "multiplications",
    "weights": "weights read",
    "values": "values moved",
    "gathered": "values gathered",
    "transcendentals": "transcendentals",
    "erfs": "erfs",
    "convs": "convs set up",
    "calls": "loop steps",
    "connections": "connections of tabled convs",
    "fresh": "bytes of new mappings",
    "new": "bytes of memory new to the run",
}
"""How the estimate's basis names each term of :class:`FastWork`."""


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
            f"running '{name}' would need about {est.peak_bytes / 2**30:.1f} GiB for its weights "
            f"and its largest layer, more than half this machine's memory "
            f"({limit / 2**30:.1f} GiB)",
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
        # a run refused for its memory is not sampled for it (a gigabyte, some seconds)
        fits = weight_bytes(graph) + peak_bytes(graph, batch) <= memory_limit()
        fast = fast_cost(
            runner,
            tables=table_connections(graph) > 0,
            fresh_sample=new_bytes(graph, batch) if fits else 0,
        )
        cost = estimate(graph, total, batch, impl, fast=fast)
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

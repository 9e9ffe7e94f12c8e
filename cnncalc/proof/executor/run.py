"""The graph runner: a cnncalc :class:`~cnncalc.model.graph.Graph` run forward in numpy.

It reads the same graph the calculator reads (every node's kind with its
resolved options, its inputs, its predicted shapes) and runs each node with
the ops of one implementation (``naive`` loops or ``fast`` im2col/BLAS),
keeping per node the output and the :class:`~.counting.OpCount` the op
actually performed.

Weights are a ``name → array`` dict in PyTorch's ``state_dict`` layout, keyed
``{layer name}.{entry}`` as :meth:`cnncalc.kinds.Kind.state` names them, so a
torch ``state_dict()`` (of the module ``cnncalc export --to pytorch`` writes,
or of torchvision's model for the zoo networks rebuilt from it) loads as it
is.  :func:`random_state` makes seeded random ones in the same layout.

    >>> from cnncalc.api import build, load
    >>> from cnncalc.proof.executor.run import run
    >>> result = run(build(load("lenet5")), impl="fast", batch=2, seed=0)
    >>> result.output.shape, result.nodes[0].count.mults
    ((2, 10), 235200)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from cnncalc.kinds.arith import per_axis
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.dense import Fc, Flatten, Rbf
from cnncalc.kinds.joins import Add, Concat, Mul
from cnncalc.kinds.pointwise import (
    BatchNorm,
    Dropout,
    DropPath,
    Elu,
    Gelu,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Identity,
    InstanceNorm,
    LayerNorm,
    LayerScale,
    LeakyRelu,
    Linear,
    LogSoftmax,
    Lrn,
    Mish,
    Prelu,
    Relu,
    Relu6,
    Sigmoid,
    Silu,
    Softmax,
    Tanh,
)
from cnncalc.kinds.pool import Adaptive, GlobalAvgPool, Pool, Subsample
from cnncalc.kinds.rearrange import Crop, Select, Shuffle, Upsample
from cnncalc.model.graph import INPUT, Graph, Node
from cnncalc.proof.executor import get_ops, ops_naive
from cnncalc.proof.executor.common import ExecutorError
from cnncalc.proof.executor.counting import OpCount
from cnncalc.proof.impls import FRESH_SAMPLE_CHUNK, FRESH_SAMPLE_SECONDS

__all__ = [
    "LayerFailed",
    "NodeRun",
    "Run",
    "random_state",
    "constant_state",
    "random_input",
    "run",
    "node_params",
    "NaiveCost",
    "naive_cost",
    "table_cost",
    "fresh_cost",
]


@dataclass(frozen=True)
class NodeRun:
    """One executed node: the shape it produced (batch first), what it performed,
    and its output unless the run was asked not to keep it."""

    index: int
    name: str
    shape: tuple[int, ...]
    count: OpCount
    output: np.ndarray | None


@dataclass(frozen=True)
class Run:
    graph: Graph
    impl: str
    batch: int
    flip: bool
    input: np.ndarray
    nodes: tuple[NodeRun, ...]
    output: np.ndarray
    seconds: float
    outputs: tuple[np.ndarray, ...] = ()
    """Every output of the network, in the order of its ``outputs:`` (``output`` is the
    first)."""

    @property
    def count(self) -> OpCount:
        """Everything the network performed."""
        total = OpCount()
        for node in self.nodes:
            total += node.count
        return total


class LayerFailed(ExecutorError):
    """A layer the executor could not run; the nodes before it did run."""

    def __init__(self, message: str, index: int, done: tuple[NodeRun, ...]):
        super().__init__(message)
        self.index = index
        self.done = done


# --------------------------------------------------------------------------- weights


def _uniform(rng: np.random.Generator, shape, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, size=tuple(shape))


def _fan_in(node: Node) -> int:
    """The fan-in PyTorch bounds a layer's default init by: prod(weight.shape[1:])."""
    for entry in node.layer.state(node.in_shape):
        if len(entry.shape) >= 2:
            return math.prod(entry.shape[1:])
    return 1


def random_state(graph: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded random weights and buffers for every layer, in ``state_dict`` layout (float64).

    Weights and biases are uniform in ±1/√fan_in (PyTorch's default bound);
    BatchNorm gets non-trivial statistics, γ and the running variance in
    [0.5, 1.5], β and the running mean in [−0.5, 0.5], so a wrong folding
    shows.  Counters (``num_batches_tracked``) are 0.
    """
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        bound = 1.0 / math.sqrt(_fan_in(node))
        norm = isinstance(node.layer, (BatchNorm, LayerNorm, GroupNorm, InstanceNorm))
        for entry in node.layer.state(node.in_shape):
            key = entry.key(node.name)
            if entry.role == "counter":
                state[key] = np.zeros(entry.shape, dtype=np.int64)
            elif entry.name == "running_var" or (norm and entry.name == "weight"):
                state[key] = _uniform(rng, entry.shape, 0.5, 1.5)
            elif norm:
                state[key] = _uniform(rng, entry.shape, -0.5, 0.5)
            else:
                state[key] = _uniform(rng, entry.shape, -bound, bound)
    return state


def constant_state(graph: Graph, value: float = 0.5) -> dict[str, np.ndarray]:
    """Every entry of :func:`random_state`'s layout filled with ``value``: weights for a run
    that is timed, not checked, made some 20× faster than random ones."""
    return {
        entry.key(node.name): np.full(entry.shape, value)
        for node in graph.nodes
        for entry in node.layer.state(node.in_shape)
    }


def random_input(graph: Graph, batch: int = 1, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """A seeded input batch, uniform in [−1, 1], shaped (batch, *graph.input)."""
    rng = np.random.default_rng([seed, 1])  # a stream apart from the weights'
    return _uniform(rng, (batch,) + tuple(graph.input), -1.0, 1.0).astype(dtype, copy=False)


def node_params(node: Node, state: Mapping[str, object], dtype=np.float64) -> dict[str, np.ndarray]:
    """The node's entries of ``state`` (``state_dict`` layout), checked and cast.

    Missing entries and wrong shapes are errors that name the key; counters
    are not needed.
    """
    out = {}
    for entry in node.layer.state(node.in_shape):
        if entry.role == "counter":
            continue
        key = entry.key(node.name)
        if key not in state:
            raise ExecutorError(f"no weights for '{key}' (expected shape {entry.shape})")
        value = np.asarray(state[key], dtype=dtype)
        if value.shape != tuple(entry.shape):
            raise ExecutorError(f"'{key}' has shape {value.shape}, expected {tuple(entry.shape)}")
        out[entry.name] = value
    return out


def _check_keys(graph: Graph, state: Mapping[str, object]) -> None:
    """Every key must belong to a layer entry, as a strict ``load_state_dict`` requires."""
    known = {e.key(n.name) for n in graph.nodes for e in n.layer.state(n.in_shape)}
    extra = sorted(set(state) - known)
    if extra:
        raise ExecutorError(
            f"weights for no layer of '{graph.name}': "
            f"{', '.join(extra[:3])}{' …' if len(extra) > 3 else ''}"
        )


def _table_weight(node: Node, p: dict[str, np.ndarray], dtype):
    """LeNet-5's per-map state (``maps.{i}.weight`` of shape (1, n, *k)) scattered
    into the dense [Cout, Cin, *k] weight the table conv reads; unused entries 0."""
    layer, x = node.layer, node.in_shape
    rows = layer.table_rows()
    k = per_axis(layer.kernel, len(x) - 1, "kernel")
    w = np.zeros((layer.out_channels, x[0]) + tuple(k), dtype=dtype)
    for o, row in enumerate(rows):
        w[o, row] = p[f"maps.{o}.weight"][0]
    b = (
        np.array([p[f"maps.{o}.bias"][0] for o in range(len(rows))], dtype=dtype)
        if layer.bias
        else None
    )
    return w, b, rows


# --------------------------------------------------------------------------- one node per kind


def _conv(ops, node, xs, p, flip):
    layer = node.layer
    g = layer.geometry(node.in_shape)
    s, d, pads = g.stride, g.dilation, g.padding
    if layer.table is not None:
        w, b, rows = _table_weight(node, p, xs[0].dtype)
        return ops.conv(xs[0], w, b, s, pads, d, 1, rows, flip)
    return ops.conv(xs[0], p["weight"], p.get("bias"), s, pads, d, layer.groups, None, flip)


def _deconv(ops, node, xs, p, flip):
    g = node.layer.geometry(node.in_shape)
    s, d, pad, out_pad = g.stride, g.dilation, g.padding, g.output_padding
    return ops.conv_transpose(
        xs[0], p["weight"], p.get("bias"), s, pad, out_pad, d, node.layer.groups
    )


def _pool(ops, node, xs, p, flip):
    layer = node.layer
    g = layer.geometry(node.in_shape)
    k, s, d, pads = g.kernel, g.stride, g.dilation, g.padding
    if layer.mode == "max":
        return ops.max_pool(xs[0], k, s, pads, layer.ceil_mode, d)
    return ops.avg_pool(xs[0], k, s, pads, layer.ceil_mode, layer.count_include_pad)


def _adaptive(ops, node, xs, p, flip):
    size = per_axis(node.layer.size, len(node.in_shape) - 1, "adaptive")
    return ops.adaptive_pool(xs[0], size, node.layer.mode)


def _batchnorm(ops, node, xs, p, flip):
    return ops.batchnorm(
        xs[0], p["weight"], p["bias"], p["running_mean"], p["running_var"], node.layer.eps
    )


def _lrn(ops, node, xs, p, flip):
    layer = node.layer
    return ops.lrn(xs[0], layer.size, layer.alpha, layer.beta, layer.k)


def _layernorm(ops, node, xs, p, flip):
    layer = node.layer
    w, b = p.get("weight"), p.get("bias")
    if layer.over == "channels" and len(node.in_shape) > 1:
        return ops.layer_norm_channels(xs[0], w, b, layer.eps)
    return ops.layer_norm(xs[0], len(layer.normalized_shape(node.in_shape)), w, b, layer.eps)


def _instancenorm(ops, node, xs, p, flip):
    layer = node.layer
    if not layer.track_running_stats:
        return ops.instance_norm(xs[0], p.get("weight"), p.get("bias"), layer.eps)
    ones = np.ones(node.in_shape[0], dtype=xs[0].dtype)
    return ops.batchnorm(
        xs[0],
        p.get("weight", ones),
        p.get("bias", ones * 0),
        p["running_mean"],
        p["running_var"],
        layer.eps,
    )


def _upsample(ops, node, xs, p, flip):
    layer, size = node.layer, node.out_shape[1:]
    if layer.mode == "nearest":
        return ops.upsample_nearest(xs[0], size, layer.scale)
    return ops.upsample_bilinear(xs[0], size, layer.align_corners, layer.scale)


def _plain(name: str) -> Callable:
    """A kind whose op takes nothing but its input."""
    return lambda ops, node, xs, p, flip: getattr(ops, name)(xs[0])


RUNNERS: dict[type, Callable] = {
    Conv: _conv,
    Deconv: _deconv,
    Pool: _pool,
    Adaptive: _adaptive,
    GlobalAvgPool: _plain("global_avg_pool"),
    Subsample: lambda ops, node, xs, p, flip: ops.subsample(
        xs[0], p["weight"], p["bias"], node.layer.kernel
    ),
    Fc: lambda ops, node, xs, p, flip: ops.linear(xs[0], p["weight"], p.get("bias")),
    Rbf: lambda ops, node, xs, p, flip: ops.rbf(xs[0], p["weight"]),
    Flatten: _plain("flatten"),
    Relu: _plain("relu"),
    Relu6: _plain("relu6"),
    Sigmoid: _plain("sigmoid"),
    Tanh: _plain("tanh"),
    Softmax: _plain("softmax"),
    BatchNorm: _batchnorm,
    Lrn: _lrn,
    Dropout: lambda ops, node, xs, p, flip: ops.dropout(xs[0], node.layer.p),
    Hardswish: _plain("hardswish"),
    Hardsigmoid: _plain("hardsigmoid"),
    Silu: _plain("silu"),
    Gelu: lambda ops, node, xs, p, flip: ops.gelu(xs[0], node.layer.approximate),
    LeakyRelu: lambda ops, node, xs, p, flip: ops.leaky_relu(xs[0], node.layer.negative_slope),
    Elu: lambda ops, node, xs, p, flip: ops.elu(xs[0], node.layer.alpha),
    Prelu: lambda ops, node, xs, p, flip: ops.prelu(xs[0], p["weight"]),
    Mish: _plain("mish"),
    LogSoftmax: _plain("log_softmax"),
    Identity: _plain("identity"),
    LayerNorm: _layernorm,
    GroupNorm: lambda ops, node, xs, p, flip: ops.group_norm(
        xs[0], node.layer.groups, p.get("weight"), p.get("bias"), node.layer.eps
    ),
    InstanceNorm: _instancenorm,
    Select: lambda ops, node, xs, p, flip: ops.select(xs[0], *node.layer.channels),
    Shuffle: lambda ops, node, xs, p, flip: ops.shuffle(xs[0], node.layer.groups),
    Crop: lambda ops, node, xs, p, flip: ops.crop(
        xs[0], node.layer.offsets(node.in_shape), node.out_shape[1:]
    ),
    Upsample: _upsample,
    DropPath: lambda ops, node, xs, p, flip: ops.drop_path(xs[0], node.layer.p),
    LayerScale: lambda ops, node, xs, p, flip: ops.layer_scale(xs[0], p[""]),
    Linear: lambda ops, node, xs, p, flip: ops.linear_positions(xs[0], p["weight"], p.get("bias")),
    Concat: lambda ops, node, xs, p, flip: ops.concat(xs),
    Add: lambda ops, node, xs, p, flip: ops.add(xs),
    Mul: lambda ops, node, xs, p, flip: ops.mul(xs),
}
"""How each kind runs: the executor's one reading of a kind's resolved options."""


def run(
    graph: Graph,
    impl: str = "fast",
    batch: int = 1,
    *,
    seed: int = 0,
    weights: Mapping[str, object] | None = None,
    x: np.ndarray | None = None,
    flip: bool = False,
    dtype=np.float64,
    keep: bool = True,
) -> Run:
    """Run ``graph`` forward and return every node's shape, counts and (if ``keep``) output.

    ``weights``: a ``state_dict``-layout dict (default: :func:`random_state` of
    ``seed``); ``x``: the input batch (default: :func:`random_input` of
    ``seed`` and ``batch``); ``flip``: true convolution (kernels flipped)
    instead of cross-correlation.  With ``keep=False`` each output is
    dropped once its last reader has run, so the peak is a few layers'
    activations instead of the whole network's.
    """
    ops = get_ops(impl)
    if weights is None:
        weights = random_state(graph, seed)
    else:
        _check_keys(graph, weights)
    if x is None:
        x = random_input(graph, batch, seed, dtype)
    x = np.asarray(x, dtype=dtype)
    if x.shape != (x.shape[0],) + tuple(graph.input) or x.shape[0] < 1:
        raise ExecutorError(
            f"input of shape {x.shape} is not (batch, {', '.join(map(str, graph.input))})"
        )
    values: dict[int, np.ndarray] = {INPUT: x}
    last = graph.last_readers()
    done = []
    started = time.perf_counter()
    for node in graph.nodes:
        xs = [values[i] for i in node.inputs]
        params = node_params(node, weights, dtype)
        try:
            y, count = RUNNERS[type(node.layer)](ops, node, xs, params, flip)
        except ExecutorError as exc:
            raise LayerFailed(
                f"layer '{node.name}' ({node.kind}): {exc}", node.index, tuple(done)
            ) from None
        values[node.index] = y
        if not keep:
            for i in set(node.inputs):
                if last.get(i) == node.index and i not in graph.output_nodes:
                    del values[i]
        done.append(NodeRun(node.index, node.name, tuple(y.shape), count, y if keep else None))
    seconds = time.perf_counter() - started
    outputs = tuple(values[i] for i in graph.output_nodes)
    return Run(graph, impl, x.shape[0], flip, x, tuple(done), outputs[0], seconds, outputs)


@dataclass(frozen=True)
class NaiveCost:
    """What the naive loops cost on this machine, now (seconds)."""

    per_op: float
    """One counted operation of an inner loop (a multiply-add is two)."""
    per_visit: float
    """A convolution's step to the next input map of an output: the loop around the taps,
    which a 1×1 kernel pays once per multiplication."""


def naive_cost(repeats: int = 3) -> NaiveCost:
    """Measured on two small convolutions, 3×3 and 1×1 (median of ``repeats`` runs each):
    time = operations · per_op + map visits · per_visit, solved for the two costs.  Used to
    refuse a naive run that would take hours, not to promise a time."""
    rng = np.random.default_rng(0)
    cases = []
    for cin, k, pad in ((8, 3, 1), (32, 1, 0)):
        x = rng.standard_normal((1, cin, 10, 10))
        w = rng.standard_normal((8, cin, k, k))
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            _, count = ops_naive.conv(x, w, None, 1, pad)
            times.append(time.perf_counter() - started)
        cases.append(
            (count.mults + count.adds, count.mults // (k * k), sorted(times)[len(times) // 2])
        )
    (ops3, visits3, t3), (ops1, visits1, t1) = cases
    per_visit = (t1 * ops3 - t3 * ops1) / (visits1 * ops3 - visits3 * ops1)
    if per_visit < 0:  # noise swamped the difference: charge it all to the operations
        return NaiveCost(max(t3 / ops3, t1 / ops1), 0.0)
    return NaiveCost((t3 - visits3 * per_visit) / ops3, per_visit)


def table_cost(repeats: int = 3) -> float:
    """Seconds the fast executor spends on one connection of a convolution with a connection
    table (one output map reading one input map): a small matrix product and its count,
    made in Python once per connection, which costs far more than the multiplications in
    it. Measured on a 1×1 table conv of 32 maps, each output seeing every input, on a 2×2
    map (1,024 connections, 4,096 multiplications: the time is the connections'), median
    of ``repeats`` runs."""
    maps, fast = 32, get_ops("fast")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, maps, 2, 2))
    w = rng.standard_normal((maps, maps, 1, 1))
    table = [list(range(maps))] * maps
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fast.conv(x, w, None, 1, 0, table=table)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2] / (maps * maps)


def fresh_cost(sample_bytes: int, seconds: float = FRESH_SAMPLE_SECONDS) -> tuple[float, float]:
    """Seconds a byte costs the first time it is written, over what writing it again costs
    (which the streamed values are priced at): (in a new mapping of memory the process freed
    a moment before, in memory new to the process besides). New memory is filled in arrays
    of :data:`~cnncalc.proof.impls.FRESH_SAMPLE_CHUNK`, each mapped anew and all kept, as a
    run keeps a large output, so the sample reaches as deep into the machine's free memory
    as it fills, until it has filled ``sample_bytes`` (at least one chunk) or ``seconds``
    have passed; the dearest chunk prices new memory (on a virtual machine, the host backing
    again what the guest gave back: the first gigabytes may be backed still and the rest
    not). The last chunk filled again prices a second pass; one chunk mapped after all are
    freed prices a new mapping of recycled memory. Each price is at least 1 % of a second
    pass: noise can hide a cost, never make a first touch cheaper than a second."""
    values = FRESH_SAMPLE_CHUNK // 8
    held, firsts = [], []
    began = time.perf_counter()
    while not held or (
        len(held) * FRESH_SAMPLE_CHUNK < sample_bytes and time.perf_counter() - began < seconds
    ):
        held.append(np.empty(values))
        started = time.perf_counter()
        held[-1].fill(1.0)
        firsts.append(time.perf_counter() - started)
    started = time.perf_counter()
    held[-1].fill(2.0)
    again = time.perf_counter() - started
    held.clear()
    array = np.empty(values)
    started = time.perf_counter()
    array.fill(3.0)
    recycled = time.perf_counter() - started
    floor = 0.01 * again
    mapped = max(recycled - again, floor)
    return mapped / FRESH_SAMPLE_CHUNK, max(
        max(firsts) - again - mapped, floor
    ) / FRESH_SAMPLE_CHUNK

"""Training memory per layer: parameters, buffers, gradients, optimizer state, and the
activations autograd keeps from the forward pass for the backward.

Exact integers of bytes. What is counted is what lives from the end of the forward
pass to the optimizer step; transient buffers (workspaces, im2col columns, the
gradients flowing backward) and the framework's own overhead are not.

- parameters and their gradients: one value of the dtype each;
- buffers (BatchNorm running mean and variance): the dtype; the int64
  ``num_batches_tracked`` counter: 8 bytes;
- optimizer state (``torch.optim``): SGD keeps nothing, SGD with momentum one
  buffer per parameter, Adam two (exp_avg, exp_avg_sq) plus a float32 ``step``
  (4 bytes) per parameter tensor;
- activations kept for backward: the tensors PyTorch autograd saves, each
  kind's rule in ``Kind.saved`` (conv, deconv, fc, BatchNorm, pooling keep their
  input; ReLU, sigmoid, tanh, softmax their output; ReLU6 its input; max pooling
  int64 indices; dropout its mask; ...). Layers that take no part in the backward
  (nothing before them trains, and they have no parameters) keep nothing. A
  tensor kept by several layers is counted once, on the layer that produced it
  (the network input on its own row); flatten is a view of its input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

from cnncalc.analysis.stats import Sites, distinct_sites
from cnncalc.analysis.training import grad_flow
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape, prod
from cnncalc.kinds.backward import Kept, Saved
from cnncalc.kinds.base import StateEntry
from cnncalc.model.graph import INPUT, Graph

DTYPES: dict[str, int] = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
"""Bytes per value of each training dtype."""

COUNTER_BYTES = 8
"""BatchNorm's num_batches_tracked is an int64."""


@dataclass(frozen=True)
class Optimizer:
    name: str
    states: int
    """Tensors of the parameter's size kept per parameter."""
    step_bytes: int
    """Bytes of a per-tensor step counter (Adam's float32 ``step``), 0 if none."""
    description: str


OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o
    for o in (
        Optimizer("sgd", 0, 0, "plain SGD keeps no state"),
        Optimizer("momentum", 1, 0, "SGD with momentum keeps one momentum buffer per parameter"),
        Optimizer(
            "adam",
            2,
            4,
            "Adam keeps exp_avg and exp_avg_sq per parameter and a float32 "
            "step per parameter tensor (torch.optim.Adam)",
        ),
    )
}


def _choose(table: dict, name: str, what: str, field: str):
    try:
        return table[name]
    except KeyError:
        raise CnnCalcError(
            f"unknown {what} '{name}'", field=field, hint=f"choose one of {', '.join(table)}"
        ) from None


def get_dtype(name: str) -> int:
    return _choose(DTYPES, name, "dtype", "--dtype")


def get_optimizer(name: str) -> Optimizer:
    return _choose(OPTIMIZERS, name, "optimizer", "--optimizer")


class LayerMemory(NamedTuple):
    """One layer's bytes (a named tuple, made in C: a dataclass's ``__init__`` was a
    quarter of a sweep's memory pass)."""

    name: str
    kind: str
    out_shape: Shape
    params: int
    buffers: int
    gradients: int
    optimizer: int
    activations: int
    """Bytes of the activations kept for backward that this layer produced or owns."""
    kept_for: tuple[str, ...]
    """The layers whose backward reads this layer's output (itself included)."""
    kept_what: tuple[str, ...]
    """What is kept: 'output' and the layer's own extra tensors (indices, mask, ...)."""

    @property
    def total(self) -> int:
        return self.params + self.buffers + self.gradients + self.optimizer + self.activations


@dataclass(frozen=True)
class MemoryAnalysis:
    network: str
    input: Shape
    output: Shape
    batch: int
    dtype: str
    optimizer: Optimizer
    input_kept: int
    """Bytes of the network input, if a layer's backward keeps it (conv1 does, for dW)."""
    input_kept_for: tuple[str, ...]
    layers: tuple[LayerMemory, ...]

    def _sum(self, field: str) -> int:
        return sum(getattr(l, field) for l in self.layers)

    @property
    def params(self) -> int:
        return self._sum("params")

    @property
    def buffers(self) -> int:
        return self._sum("buffers")

    @property
    def gradients(self) -> int:
        return self._sum("gradients")

    @property
    def optimizer_state(self) -> int:
        return self._sum("optimizer")

    @property
    def activations(self) -> int:
        return self._sum("activations") + self.input_kept

    @property
    def total(self) -> int:
        return self._sum("total") + self.input_kept


def _state_bytes(
    state: Sequence[StateEntry], width: int, optimizer: Optimizer
) -> tuple[int, int, int, int]:
    """(parameters, buffers, gradients, optimizer state) of one layer's state, in bytes."""
    params = tensors = buffers = counters = 0
    for entry in state:
        role = entry.role
        if role == "param":
            params += prod(entry.shape)
            tensors += 1
        elif role == "buffer":
            buffers += prod(entry.shape)
        elif role == "counter":
            counters += prod(entry.shape)
    return (
        params * width,
        buffers * width + counters * COUNTER_BYTES,
        params * width,
        optimizer.states * params * width + optimizer.step_bytes * tensors,
    )


def training_memory(
    graph: Graph,
    batch: int = 1,
    dtype: str = "fp32",
    optimizer: str = "sgd",
    sites: Sites | None = None,
    states: Sequence[Sequence[StateEntry]] | None = None,
) -> MemoryAnalysis:
    """Bytes per layer and in total for one training step at ``batch`` (``sites``: the
    graph's :func:`distinct_sites`, when already found; ``states``: each of those sites'
    :meth:`Kind.state`, when already worked out, as :func:`site_states` gives them)."""
    width, opt = get_dtype(dtype), get_optimizer(optimizer)
    nodes = graph.nodes
    # equal layers on the same shapes keep alike and hold alike: each worked out once
    first, site_of, _ = sites or distinct_sites(graph)
    if states is None:
        states = [n.layer.state(n.in_shape) for n in first]
    state_bytes = [_state_bytes(state, width, opt) for state in states]
    site_learns = [params > 0 for params, _, _, _ in state_bytes]
    flow = grad_flow(graph, [site_learns[site] for site in site_of])
    site_is_view = [n.layer.is_view() for n in first]
    is_view = [site_is_view[site] for site in site_of]

    def strided(index: int) -> bool:
        if index == INPUT:
            return False
        view = nodes[index]
        return view.layer.is_strided_view(view.in_shape, view.out_shape, batch)

    kept_by: list[Saved | None] = [None] * len(first)
    readers: dict[int, list[str]] = {}
    extras: list[tuple] = [()] * len(nodes)
    trains = flow.trains
    for node, site in zip(nodes, site_of):
        if not trains[node.index]:
            continue
        saved = kept_by[site]
        if saved is None:
            saved = kept_by[site] = node.layer.saved(node.in_shape, node.out_shape, batch)
        kept = list(node.inputs) if saved.input else []
        extras[node.index] = saved.extra
        if kept and node.layer.copies_strided_input and strided(node.inputs[0]):
            kept = []  # it keeps a contiguous copy, not the view's source
            copy = Kept("contiguous copy of its input", prod(node.in_shape) * batch)
            extras[node.index] = (*saved.extra, copy)
        if saved.output:
            kept.append(node.index)
        name = node.name
        for index in kept:
            while index != INPUT and is_view[index]:  # a view's memory is its source's
                index = nodes[index].inputs[0]
            names = readers.get(index)
            if names is None:
                readers[index] = [name]
            elif name not in names:
                names.append(name)

    output_bytes = [prod(n.out_shape) * batch * width for n in first]
    no_readers: tuple[str, ...] = ()
    layers = []
    for node, site in zip(nodes, site_of):
        params, buffers, grads, opt_bytes = state_bytes[site]
        kept_for = readers.get(node.index)
        output = 0 if kept_for is None else output_bytes[site]
        extra = extras[node.index]
        if extra:
            own = sum([k.elements * (k.width or width) for k in extra])
            what = (("output",) if output else ()) + tuple([k.what for k in extra])
        else:
            own, what = 0, ("output",) if output else ()
        layers.append(
            _new(
                LayerMemory,
                (
                    node.name,
                    node.layer.kind,
                    node.out_shape,
                    params,
                    buffers,
                    grads,
                    opt_bytes,
                    output + own,
                    no_readers if kept_for is None else tuple(kept_for),
                    what,
                ),
            )
        )
    input_kept = prod(graph.input) * batch * width if INPUT in readers else 0
    return MemoryAnalysis(
        graph.name,
        graph.input,
        graph.out_shape,
        batch,
        dtype,
        opt,
        input_kept,
        tuple(readers.get(INPUT, ())),
        tuple(layers),
    )


_new = tuple.__new__
"""A named tuple from all its fields in order, made in C (its own ``__new__`` runs Python)."""

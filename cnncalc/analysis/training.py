"""Training cost: each layer's forward operations plus its backward, dX and dW apart.

The backward rules are each kind's (``Kind.backward``, :mod:`cnncalc.kinds.backward`);
this module decides, from the graph, which of them run:

- a layer's output needs a gradient when the layer or anything before it has
  parameters (PyTorch's ``requires_grad`` flows the same way);
- dX runs only when the layer's input needs a gradient: the first layer (and
  whatever comes before the first trained layer) has none, as in PyTorch, where
  the network input does not require grad;
- dW runs for every layer with parameters;
- an ``add`` or ``mul`` join computes the gradient of each branch that needs one (a
  broadcast branch's summed over the axes it was stretched along);
- a tensor read by k > 1 layers (the input of a residual or inception block)
  receives k gradients, and autograd sums them: (k − 1) adds per element,
  counted on the layer that produced the tensor (``dy_sum``, an eltwise add).

Everything is for the whole batch, exact integers. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cnncalc.analysis.stats import Analysis, LayerStats
from cnncalc.conventions.engine import FIGURES, Basis, Convention, Figures
from cnncalc.conventions.site import Site
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import prod
from cnncalc.kinds.backward import Backward
from cnncalc.kinds.joins import Broadcasting
from cnncalc.kinds.ops import Ops
from cnncalc.model.graph import INPUT, Graph, layer_key

TRAINING_CONVENTIONS = ("macs", "exact")
"""Conventions whose figures are defined for a backward pass: the others weigh
forward-only quantities (NNDL's weights and maps, LeNet-5's connections) or reproduce
what a peer tool prints for a forward pass."""


@dataclass(frozen=True)
class GradFlow:
    """Which nodes take part in the backward pass."""

    trains: tuple[bool, ...]
    """The node's output needs a gradient (it, or a node before it, has parameters)."""
    needs_dx: tuple[bool, ...]
    """Some input of the node needs a gradient, so its dX is computed."""
    consumers: tuple[int, ...]
    """How many node inputs read the node's output."""


def grad_flow(graph: Graph, learning: Sequence[bool] | None = None) -> GradFlow:
    """Which nodes train (``learning``: whether each node's own layer has parameters, when
    already known, as the memory pass knows it per site)."""
    nodes = graph.nodes
    trains = [False] * len(nodes)
    needs_dx = [False] * len(nodes)
    consumers = [0] * len(nodes)
    learns: dict[tuple, bool] = {}  # (layer, input shape) → has parameters, within this call
    for node in nodes:
        upstream = False
        for i in node.inputs:
            if i != INPUT:
                consumers[i] += 1
                upstream = upstream or trains[i]
        if upstream:
            needs_dx[node.index] = trains[node.index] = True
        elif learning is not None:
            trains[node.index] = learning[node.index]
        else:
            key = (layer_key(node.layer), node.in_shape)
            own = learns.get(key)
            if own is None:
                own = learns[key] = node.layer.params(node.in_shape) > 0
            trains[node.index] = own
    return GradFlow(tuple(trains), tuple(needs_dx), tuple(consumers))


def node_backward(node, flow: GradFlow, batch: int) -> tuple[Ops, Ops, Ops]:
    """(dX, dW, gradient sums) of one node for the batch; zeros where nothing runs."""
    i = node.index
    if not flow.trains[i]:
        return Ops(), Ops(), Ops()
    if isinstance(node.layer, Broadcasting):
        needs = [j != INPUT and flow.trains[j] for j in node.inputs]
        grads: Backward = node.layer.merge_backward(list(node.in_shapes), needs, batch)
    else:
        grads = node.layer.backward(node.in_shape, node.out_shape, batch)
    dx = grads.dx if flow.needs_dx[i] else Ops()
    extra = max(flow.consumers[i] - 1, 0)
    sums = Ops(eltwise_adds=extra * prod(node.out_shape) * batch)
    return dx, grads.dw, sums


@dataclass(frozen=True)
class LayerCost:
    """One layer's forward and backward figures under the convention, whole batch."""

    stats: LayerStats
    dx_ops: Ops
    dw_ops: Ops
    sum_ops: Ops
    dx: Figures
    dw: Figures
    dy_sum: Figures
    backward: Figures
    needs_dx: bool
    trains: bool

    @property
    def name(self) -> str:
        return self.stats.name

    @property
    def kind(self) -> str:
        return self.stats.kind

    @property
    def forward(self) -> Figures:
        return self.stats.figures

    @property
    def training_flops(self) -> int:
        return self.forward.flops + self.backward.flops


@dataclass(frozen=True)
class TrainingCost:
    analysis: Analysis
    layers: tuple[LayerCost, ...]
    dx: Figures
    dw: Figures
    dy_sum: Figures
    backward: Figures

    @property
    def convention(self) -> Convention:
        return self.analysis.convention

    @property
    def forward(self) -> Figures:
        return self.analysis.total.figures

    @property
    def training_flops(self) -> int:
        return self.forward.flops + self.backward.flops


def check_convention(convention: Convention) -> None:
    if convention.name not in TRAINING_CONVENTIONS:
        raise CnnCalcError(
            f"backward counts are defined under {' and '.join(TRAINING_CONVENTIONS)}, "
            f"not '{convention.name}': the textbook and peer-tool conventions describe "
            "forward passes",
            field="--convention",
            hint="use --convention macs or --convention exact",
        )


def _sum_figures(many) -> Figures:
    many = list(many)
    return Figures(*(sum(getattr(f, name) for f in many) for name in FIGURES))


def training_cost(graph: Graph, analysis: Analysis) -> TrainingCost:
    """The backward pass of every layer of ``graph``, beside ``analysis`` (its forward)."""
    convention = analysis.convention
    check_convention(convention)
    flow = grad_flow(graph)
    layers = []
    for node, stats in zip(graph.nodes, analysis.layers):
        dx, dw, sums = node_backward(node, flow, analysis.batch)

        def figures(ops: Ops) -> Figures:
            """The convention's figures of raw counts that are already for the batch."""
            return convention.figures(Basis(Site(node.layer, node.in_shape, node.out_shape, ops)))

        layers.append(
            LayerCost(
                stats,
                dx,
                dw,
                sums,
                figures(dx),
                figures(dw),
                figures(sums),
                figures(dx + dw + sums),
                flow.needs_dx[node.index],
                flow.trains[node.index],
            )
        )
    return TrainingCost(
        analysis,
        tuple(layers),
        *(
            _sum_figures(getattr(l, part) for l in layers)
            for part in ("dx", "dw", "dy_sum", "backward")
        ),
    )

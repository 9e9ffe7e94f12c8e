"""Conventions: which raw operations a figure counts, and with what weight.

cnncalc counts raw operations once (:class:`~cnncalc.ops.Ops`); a
convention turns them into the four figures a table shows. Each is named,
has a source, and is printed under every table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import CnnCalcError
from .ops import Ops


@dataclass(frozen=True)
class Figures:
    mults: int
    adds: int
    macs: int
    flops: int


@dataclass(frozen=True)
class Convention:
    name: str
    counts: str
    source: str
    rule: Callable[[Ops], Figures]

    def figures(self, ops: Ops) -> Figures:
        return self.rule(ops)


def _macs(ops: Ops) -> Figures:
    return Figures(ops.macs, ops.macs, ops.macs, 2 * ops.macs)


def _exact(ops: Ops) -> Figures:
    adds = ops.adds + ops.bias_adds + ops.eltwise_adds
    return Figures(ops.mults, adds, ops.macs, ops.mults + adds)


CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (
        Convention(
            "macs",
            "multiply-accumulates of the weighted layers (conv, deconv, fc, rbf, subsample), "
            "one per weight use; bias, BatchNorm, pooling, activations and residual adds "
            "not counted; mults = adds = MACs, FLOPs = 2·MACs",
            "torchvision model docs' GFLOPS column; PyTorch FlopCounterMode ÷ 2",
            _macs),
        Convention(
            "exact",
            "every multiplication and addition a plain implementation performs: an output "
            "of fan-in n costs n mults and n − 1 adds, +1 add for a bias; BatchNorm, "
            "pooling sums, residual adds included; FLOPs = mults + adds",
            "d2l 7.4 exercise (multiplications and additions of a conv layer)",
            _exact),
    )
}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CnnCalcError(f"unknown convention '{name}'", field="--convention",
                           hint=f"choose one of {', '.join(CONVENTIONS)}") from None

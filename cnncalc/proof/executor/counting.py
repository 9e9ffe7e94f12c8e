"""Operation counts performed by the reference executor.

Every op in :mod:`cnncalc.proof.executor.ops_naive` and
:mod:`cnncalc.proof.executor.ops_fast` returns ``(y, OpCount)``.  The counts are
exact Python ints for the whole batch.  What each field means:

``mults``        multiplications (weight uses, squares, coefficient products)
``adds``         additions and subtractions inside a layer's reductions
                 (a dot product of length n costs n - 1 of them)
``bias_adds``    the one addition per output element that adds a bias
``compares``     comparisons (max pooling, ReLU)
``divs``         divisions (average pooling, sigmoid, softmax, LRN)
``exps``         exponentials and powers (sigmoid, tanh, softmax, LRN)
``eltwise_adds`` additions that join branches (residual ``add``)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["OpCount", "gemm_count"]


@dataclass(frozen=True)
class OpCount:
    """Exact operation counts of one executed op (whole batch)."""

    mults: int = 0
    adds: int = 0
    bias_adds: int = 0
    compares: int = 0
    divs: int = 0
    exps: int = 0
    eltwise_adds: int = 0

    def __add__(self, other: "OpCount") -> "OpCount":
        if not isinstance(other, OpCount):
            return NotImplemented
        return OpCount(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def total_adds(self) -> int:
        """All additions of any kind (reduction, bias and branch joins)."""
        return self.adds + self.bias_adds + self.eltwise_adds


def gemm_count(m: int, k: int, n: int, batch: int = 1) -> OpCount:
    """Counts of ``batch`` products (m x k) @ (k x n), done as dot products.

    Each of the m*n outputs is a dot product of length k: k multiplications
    and k - 1 additions.
    """
    return OpCount(mults=batch * m * k * n, adds=batch * m * max(k - 1, 0) * n)

"""cnncalc's numpy reference executor: the proof of the calculator's numbers.

Two implementations of every layer op with the same signatures:

* :mod:`~cnncalc.proof.executor.ops_naive` -- explicit Python loops, the
  definition (d2l's ``corr2d``), counting each operation as it performs it;
* :mod:`~cnncalc.proof.executor.ops_fast` -- im2col + BLAS and vectorised numpy,
  counting from the sizes of the products it runs.

Every op returns ``(y, OpCount)``; arrays are ``[N, C, *spatial]`` with 1,
2 or 3 spatial axes.  numpy is the only run-time dependency.
:mod:`~cnncalc.proof.executor.run` runs a whole cnncalc graph with them (weights in
PyTorch's ``state_dict`` layout); ``cnncalc verify`` is built on it.

>>> import numpy as np
>>> from cnncalc.proof.executor import get_ops
>>> x = np.arange(9.0).reshape(1, 1, 3, 3)
>>> k = np.array([[[[0.0, 1.0], [2.0, 3.0]]]])
>>> y, c = get_ops("naive").conv(x, k)
>>> y[0, 0].tolist(), c.mults, c.adds
([[19.0, 25.0], [37.0, 43.0]], 16, 12)
"""

from __future__ import annotations

from types import ModuleType

from cnncalc.proof.executor import ops_fast, ops_naive
from cnncalc.proof.executor.common import ExecutorError, init_weights
from cnncalc.proof.executor.counting import OpCount, gemm_count
from cnncalc.proof.impls import IMPLS

__all__ = [
    "ExecutorError",
    "IMPLS",
    "OpCount",
    "gemm_count",
    "get_ops",
    "init_weights",
    "ops_fast",
    "ops_naive",
]


def get_ops(impl: str = "fast") -> ModuleType:
    """The module of ops for ``impl`` ("naive" or "fast")."""
    if impl == "naive":
        return ops_naive
    if impl == "fast":
        return ops_fast
    raise ExecutorError(
        f"unknown executor implementation {impl!r}; choose one of {', '.join(IMPLS)}"
    )

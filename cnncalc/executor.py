"""The numpy reference executor's public name (DESIGN.md): :mod:`cnncalc.proof.executor`.

from cnncalc.executor import get_ops, run
"""

from cnncalc.proof.executor import (
    ExecutorError,
    OpCount,
    gemm_count,
    get_ops,
    init_weights,
    ops_fast,
    ops_naive,
)
from cnncalc.proof.executor.run import run

__all__ = [
    "ExecutorError",
    "OpCount",
    "gemm_count",
    "get_ops",
    "init_weights",
    "ops_fast",
    "ops_naive",
    "run",
]

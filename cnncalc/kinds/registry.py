"""Every kind a YAML layer may name, by its key."""

from __future__ import annotations

from cnncalc.kinds.base import Kind
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.dense import Fc, Flatten, Rbf
from cnncalc.kinds.joins import Add, Concat, JoinKind, Mul
from cnncalc.kinds.pointwise import (
    BatchNorm,
    Dropout,
    Lrn,
    Relu,
    Relu6,
    Sigmoid,
    Softmax,
    Tanh,
)
from cnncalc.kinds.pool import Adaptive, GlobalAvgPool, Pool, Subsample

LAYER_KINDS: dict[str, type[Kind]] = {
    k.kind: k
    for k in (
        Conv,
        Deconv,
        Pool,
        Subsample,
        GlobalAvgPool,
        Adaptive,
        Flatten,
        Fc,
        Rbf,
        Relu,
        Relu6,
        Sigmoid,
        Tanh,
        Softmax,
        BatchNorm,
        Lrn,
        Dropout,
    )
}
"""Every kind a YAML layer may name, by its key."""
JOIN_KINDS: dict[str, type[JoinKind]] = {"concat": Concat, "add": Add, "mul": Mul}

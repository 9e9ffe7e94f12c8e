"""Every kind a YAML layer may name, by its key."""

from __future__ import annotations

from cnncalc.kinds.base import Kind
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.dense import Fc, Flatten, Rbf
from cnncalc.kinds.joins import Add, Concat, JoinKind, Mul
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
        Hardswish,
        Hardsigmoid,
        Silu,
        Gelu,
        LeakyRelu,
        Elu,
        Prelu,
        Mish,
        LogSoftmax,
        Identity,
        LayerNorm,
        GroupNorm,
        InstanceNorm,
        Select,
        Shuffle,
        Upsample,
        Crop,
        DropPath,
        LayerScale,
        Linear,
    )
}
"""Every kind a YAML layer may name, by its key."""
LAYER_KINDS["swish"] = Silu  # SiLU's other name (Ramachandran et al. 2017)
JOIN_KINDS: dict[str, type[JoinKind]] = {"concat": Concat, "add": Add, "mul": Mul}

"""Every kind a YAML layer may name, by its key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from cnncalc.kinds.base import Kind
from cnncalc.kinds.joins import Add, Concat, JoinKind, Mul

LAYER_KIND_HOMES: dict[str, tuple[str, str]] = {
    "conv": ("conv", "Conv"),
    "deconv": ("conv", "Deconv"),
    "pool": ("pool", "Pool"),
    "subsample": ("pool", "Subsample"),
    "gap": ("pool", "GlobalAvgPool"),
    "adaptive": ("pool", "Adaptive"),
    "flatten": ("dense", "Flatten"),
    "fc": ("dense", "Fc"),
    "rbf": ("dense", "Rbf"),
    "relu": ("pointwise", "Relu"),
    "relu6": ("pointwise", "Relu6"),
    "sigmoid": ("pointwise", "Sigmoid"),
    "tanh": ("pointwise", "Tanh"),
    "softmax": ("pointwise", "Softmax"),
    "batchnorm": ("pointwise", "BatchNorm"),
    "lrn": ("pointwise", "Lrn"),
    "dropout": ("pointwise", "Dropout"),
    "hardswish": ("pointwise", "Hardswish"),
    "hardsigmoid": ("pointwise", "Hardsigmoid"),
    "silu": ("pointwise", "Silu"),
    "gelu": ("pointwise", "Gelu"),
    "leaky_relu": ("pointwise", "LeakyRelu"),
    "elu": ("pointwise", "Elu"),
    "prelu": ("pointwise", "Prelu"),
    "mish": ("pointwise", "Mish"),
    "log_softmax": ("pointwise", "LogSoftmax"),
    "identity": ("pointwise", "Identity"),
    "layernorm": ("pointwise", "LayerNorm"),
    "groupnorm": ("pointwise", "GroupNorm"),
    "instancenorm": ("pointwise", "InstanceNorm"),
    "select": ("rearrange", "Select"),
    "shuffle": ("rearrange", "Shuffle"),
    "upsample": ("rearrange", "Upsample"),
    "crop": ("rearrange", "Crop"),
    "drop_path": ("pointwise", "DropPath"),
    "layer_scale": ("pointwise", "LayerScale"),
    "linear": ("pointwise", "Linear"),
    "swish": ("pointwise", "Silu"),  # SiLU's other name (Ramachandran et al. 2017)
}
"""Where each kind a YAML layer may name is defined: its module in ``cnncalc.kinds`` and
its class (whose ``kind`` is the key, but for ``swish``, SiLU's other name)."""


class LayerKinds(Mapping[str, type[Kind]]):
    """Every kind a YAML layer may name, by its key, each module imported when one of its
    kinds is first asked for: making a kind's pydantic model costs some 0.4 ms, and a
    network uses a few of the 47 (LeNet-5 none of the 24 pointwise ones; issue 11:
    start-up). The keys are known without importing any."""

    def __getitem__(self, key: str) -> type[Kind]:
        module, name = LAYER_KIND_HOMES[key]
        # the import statement's own function, not importlib.import_module, which
        # ``python -X importtime`` does not see (tests/test_imports.py reads it)
        return getattr(__import__(f"cnncalc.kinds.{module}", fromlist=[name]), name)

    def __iter__(self) -> Iterator[str]:
        return iter(LAYER_KIND_HOMES)

    def __len__(self) -> int:
        return len(LAYER_KIND_HOMES)

    def __contains__(self, key: object) -> bool:
        return key in LAYER_KIND_HOMES


LAYER_KINDS = LayerKinds()
"""Every kind a YAML layer may name, by its key."""

JOIN_KINDS: dict[str, type[JoinKind]] = {"concat": Concat, "add": Add, "mul": Mul}

"""One layer from command-line flags (``cnncalc conv``), through the same road as a file.

The flags become the data a one-layer YAML file would hold, which is validated
into a spec, built into a graph and explained by the same kinds; errors come
back naming the flag (``--kernel: ...``) instead of a line of a file nobody wrote.
"""

from __future__ import annotations

from typing import Any

import yaml

from cnncalc.analysis.explain import Working
from cnncalc.analysis.pipeline import explain
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.base import MAX_SIZE
from cnncalc.model.spec import NetworkSpec, parse_network
from cnncalc.model.yamlsource import parse_yaml

SOURCE = "cnncalc conv"

FLAGS = {
    "conv": "--out-channels",
    "pool": "--pool",
    "kernel": "--kernel",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "input": "--input",
    "bias": "--bias",
}
"""The flag behind each field of the one-layer spec."""


def sizes(text: str, flag: str) -> int | list[int]:
    """``3`` → 3, ``3x5`` or ``3,5`` → [3, 5]: one value for every axis, or one per axis."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        values = [int(p.strip()) for p in parts]
    except ValueError:
        raise CnnCalcError(
            f"'{text}' is not a size",
            field=flag,
            hint="write one number, or one per axis: 3 or 3x5 (or 3,5)",
        ) from None
    return values[0] if len(values) == 1 else values


def padding(text: str) -> Any:
    """``1``, ``0,1`` (per axis, both sides), ``0,1,2,3`` (top, bottom, left, right),
    ``same`` or ``valid``."""
    if text.strip().lower() in ("same", "valid"):
        return text.strip().lower()
    return sizes(text, "--padding")


def layer_data(
    input: str,
    kernel: str,
    stride: str | None = None,
    pad: str | None = None,
    dilation: str | None = None,
    in_channels: int = 1,
    out_channels: int | None = None,
    groups: int = 1,
    bias: bool = True,
    pool: str | None = None,
) -> dict:
    """The YAML a one-layer file would hold for these flags."""
    spatial = sizes(input, "--input")
    spatial = spatial if isinstance(spatial, list) else [spatial]
    if not 1 <= in_channels <= MAX_SIZE:
        raise CnnCalcError(
            f"must be from 1 to {MAX_SIZE:,}, got {in_channels}", field="--in-channels"
        )
    if pool is None:
        layer: dict[str, Any] = {
            "conv": 1 if out_channels is None else out_channels,
            "kernel": sizes(kernel, "--kernel"),
        }
        if groups != 1:
            layer["groups"] = groups
        if not bias:
            layer["bias"] = False
    else:
        for flag, given in (
            ("--out-channels", out_channels is not None),
            ("--groups", groups != 1),
            ("--no-bias", not bias),
        ):
            if given:
                raise CnnCalcError(
                    f"pooling keeps its input's channels and has no weights; "
                    f"{flag} is for a convolution",
                    field=flag,
                    hint="drop it, or drop --pool",
                )
        layer = {"pool": pool, "kernel": sizes(kernel, "--kernel")}
    for key, text in (("stride", stride), ("padding", pad), ("dilation", dilation)):
        if text is not None:
            layer[key] = padding(text) if key == "padding" else sizes(text, f"--{key}")
    layer["name"] = "pool" if pool else "conv"
    return {"name": SOURCE, "input": [in_channels] + spatial, "layers": [layer]}


def as_flags(exc: CnnCalcError) -> CnnCalcError:
    """Name the flag, not a field of the generated file."""
    field = exc.field or ""
    key = field.split(".")[2] if field.startswith("layers.0.") else field.split(".")[0]
    exc.field = FLAGS.get(key, exc.field)
    exc.file, exc.line = None, None
    return exc


def single_layer(**flags) -> NetworkSpec:
    """A one-layer network spec from ``cnncalc conv``'s flags (see :func:`layer_data`)."""
    text = yaml.safe_dump(layer_data(**flags), sort_keys=False)
    return parse_network(parse_yaml(text, SOURCE), SOURCE)


def explain_single(
    topic: str = "all", batch: int = 1, convention: str = "macs", **flags
) -> Working:
    """The working of one layer given by flags; errors name the flag."""
    try:
        return explain(single_layer(**flags), topic, batch=batch, convention=convention)
    except CnnCalcError as exc:
        raise as_flags(exc) from None

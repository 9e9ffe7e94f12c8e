"""One layer from command-line flags (``cnncalc conv``), through the same road as a file.

The flags become the data a one-layer YAML file would hold, which is validated
into a spec, built into a graph and explained by the same kinds; errors come
back naming the flag (``--kernel: ...``) instead of a line of a file nobody wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from cnncalc.analysis.explain import Working
from cnncalc.analysis.pipeline import explain
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import window_out
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
    "ceil_mode": "--ceil-mode",
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
    ceil_mode: bool = False,
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
        if ceil_mode:
            raise CnnCalcError(
                "a convolution always rounds down; ceil mode is a pooling option",
                field="--ceil-mode",
                hint="add --pool max (or avg), or drop --ceil-mode",
            )
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
        if ceil_mode:
            layer["ceil_mode"] = True
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


@dataclass(frozen=True)
class FlagLayer:
    """``cnncalc conv``'s answer: the layer's working, and the notes printed under it (how
    an ambiguous --input was read, which padding --output-size solved for)."""

    working: Working
    notes: tuple[str, ...]


def input_reading(input: str, in_channels: int | None) -> str | None:
    """A note when ``--input`` reads two ways and --in-channels does not settle it: three
    sizes (3x32x32) are a 3-D input of depth 3 here, but C×H×W in every other command."""
    values = sizes(input, "--input")
    if in_channels is not None or not isinstance(values, list) or len(values) != 3:
        return None
    c, *rest = values
    shown = "x".join(map(str, rest))
    return (
        f"--input {input} is read as a 3-D input D×H×W = {' × '.join(map(str, values))} with "
        f"1 channel (--input is the spatial size here); for {c} channels of "
        f"{' × '.join(map(str, rest))}, write --in-channels {c} -i {shown}."
    )


def solve_padding(target: str, **flags) -> tuple[int | list[int], str]:
    """The smallest padding per side (one per axis) that gives the output size ``target``,
    by the window rule n_o = ⌊(n + 2p − k_eff)/s⌋ + 1 (⌈⌉ with ceil mode, PyTorch); and a
    note saying so. Adding 1 to p adds 2 to the numerator, so n_o climbs by at most
    ⌈2/s⌉ a step: the first p with n_o ≥ target gives target, or no integer padding does."""
    spec = single_layer(**flags)
    (leaf,) = spec.layers or ()
    layer = leaf.layer
    shape = tuple(spec.input)
    geometry = layer.geometry(shape)
    ceil_mode = bool(getattr(layer, "ceil_mode", False))
    n_axes = geometry.ndim
    wanted = sizes(target, "--output-size")
    wanted = wanted if isinstance(wanted, list) else [wanted] * n_axes
    if len(wanted) != n_axes:
        raise CnnCalcError(
            f"{target} has {len(wanted)} sizes for a {n_axes}-D input",
            field="--output-size",
            hint="one size, or one per axis of --input",
        )
    found = []
    for axis, n, k_eff, s, goal in zip(
        "DHW"[-n_axes:] if n_axes > 1 else "L",
        shape[1:],
        geometry.extent,
        geometry.stride,
        wanted,
    ):
        p = max(0, ((goal - 1) * s + k_eff - n) // 2 - s)
        while window_out(n, k_eff, s, p, p, ceil_mode) < goal:
            p += 1
        got = window_out(n, k_eff, s, p, p, ceil_mode)
        if got != goal:
            before = window_out(n, k_eff, s, p - 1, p - 1, ceil_mode) if p > 0 else None
            gives = (f"padding {p - 1} gives {before}, " if before is not None else "") + (
                f"padding {p} gives {got}"
            )
            raise CnnCalcError(
                f"no integer padding gives {goal} along {axis}: {gives}",
                field="--output-size",
                hint="change the stride or the kernel, or ask for "
                + (f"{before} or {got}" if before is not None else f"{got}"),
            )
        found.append(p)
    padding = found[0] if len(set(found)) == 1 else found
    shown = padding if isinstance(padding, int) else "x".join(map(str, padding))
    return padding, (
        f"--output-size {target}: padding {shown} per side is the smallest that gives it."
    )


def layer_from_flags(
    batch: int = 1,
    convention: str = "macs",
    output_size: str | None = None,
    in_channels: int | None = None,
    **flags,
) -> FlagLayer:
    """``cnncalc conv``: the layer's working, with --output-size solved for the padding and
    a note where --input reads two ways."""
    notes = []
    reading = input_reading(flags["input"], in_channels)
    if reading:
        notes.append(reading)
    flags["in_channels"] = 1 if in_channels is None else in_channels
    try:
        if output_size is not None:
            if flags.get("pad") is not None:
                raise CnnCalcError(
                    "--output-size solves for the padding, and --padding gives it",
                    field="--output-size",
                    hint="drop one of them",
                )
            padding, note = solve_padding(output_size, **flags)
            flags["pad"] = (
                "x".join(map(str, padding)) if isinstance(padding, list) else str(padding)
            )
            notes.append(note)
    except CnnCalcError as exc:
        raise as_flags(exc) from None
    return FlagLayer(explain_single("all", batch, convention, **flags), tuple(notes))

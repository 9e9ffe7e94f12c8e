"""The layer algebra: one class per layer kind, everything about it in one place.

A kind is a pydantic model of its YAML options plus the rules that give,
from its input shape ``x`` (channels first, no batch):

- ``out_shape(x)``: the shape rule,
- ``state(x)``: its weights and buffers as (name, shape, role), in
  PyTorch's ``state_dict`` order,
- ``params(x)``: trainable parameters (LeNet-5's C3 counts only used
  connections, so this is not always the sum of ``state``),
- ``ops(x, y)``: raw operation counts for one sample,
- ``connections(x, y)``: LeNet-5 paper's count (each output's weighted
  inputs plus its bias),
- ``receptive(field, x, y)``: the receptive-field step,
- ``explain(x, y)``: the formulas with the numbers in them.

Shapes are tuples of exact ints: (C,) or (C, L) or (C, H, W) or (C, D, H, W).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field as PydField, field_validator

from .arith import (Field, Shape, adaptive_windows, effective_kernel, per_axis, prod,
                    resolve_padding, transposed_reach, window_out, window_taps)
from .errors import CnnCalcError
from .ops import Ops

MAX_SIZE = 1_000_000
"""Largest size anywhere (channels, extent, kernel, units): beyond it a network is not
a network but a typo, and refusing it keeps every count instant."""

Size = Annotated[int, PydField(strict=True, ge=1, le=MAX_SIZE)]
NonNeg = Annotated[int, PydField(strict=True, ge=0, le=MAX_SIZE)]
Sizes = Union[Size, list[Size]]
Padding = Union[NonNeg, Literal["same", "valid"], list[NonNeg], list[list[NonNeg]]]
Number = Annotated[float, PydField(strict=False)]

AXES = {1: ("l",), 2: ("h", "w"), 3: ("d", "h", "w")}


@dataclass(frozen=True)
class Formula:
    """One line of working: ``what = symbolic = substituted = result``."""

    what: str
    symbolic: str
    substituted: str
    result: str
    note: str = ""


@dataclass(frozen=True)
class StateEntry:
    """One tensor of a layer's state_dict; role is 'param', 'buffer' or 'counter'."""

    name: str
    shape: Shape
    role: str = "param"


def state_size(state: list[StateEntry], role: str) -> int:
    """Number of values in the entries of one role (trainable ``param`` or ``buffer``)."""
    return sum(prod(e.shape) for e in state if e.role == role)


def spatial(x: Shape) -> Shape:
    return x[1:]


def needs_spatial(x: Shape, kind: str) -> int:
    """Number of spatial axes; a kind that slides a window needs at least one."""
    ndim = len(x) - 1
    if ndim < 1 or ndim > 3:
        raise CnnCalcError(
            f"{kind} needs a 1-D, 2-D or 3-D feature map (C, L), (C, H, W) or (C, D, H, W), "
            f"but its input is {fmt_shape(x)}",
            hint="flatten and fc come after the convolutional part")
    return ndim


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(v) for v in shape)


def _dot(*terms) -> str:
    return "·".join(str(t) for t in terms)


class Kind(BaseModel):
    """A layer kind: its options, validated, and its rules."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: ClassVar[str] = ""
    main: ClassVar[str | None] = None
    """The option that the kind's key carries: ``{conv: 64}`` sets out_channels."""
    weighted: ClassVar[bool] = False
    """Counts toward depth and carries MACs (conv, deconv, fc, rbf, subsample)."""
    summary: ClassVar[str] = ""

    def out_shape(self, x: Shape) -> Shape:
        return x

    def state(self, x: Shape) -> list[StateEntry]:
        return []

    def params(self, x: Shape) -> int:
        return state_size(self.state(x), "param")

    def buffers(self, x: Shape) -> int:
        return state_size(self.state(x), "buffer")

    def ops(self, x: Shape, y: Shape) -> Ops:
        return Ops()

    def connections(self, x: Shape, y: Shape) -> int:
        return 0

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return []


# --------------------------------------------------------------------------- windows


class _Sliding(Kind):
    """Shared by the kinds that slide a window along each spatial axis."""

    def _geometry(self, x: Shape):
        ndim = needs_spatial(x, self.kind)
        k = per_axis(self.kernel, ndim, "kernel")
        s = per_axis(self._stride(), ndim, "stride")
        d = per_axis(getattr(self, "dilation", 1), ndim, "dilation")
        k_eff = tuple(effective_kernel(a, b) for a, b in zip(k, d))
        pad = resolve_padding(getattr(self, "padding", 0), ndim, spatial(x), k_eff, s)
        return ndim, k, s, d, k_eff, pad

    def _stride(self):
        return self.stride

    def _out_sizes(self, x: Shape, ceil_mode: bool = False) -> Shape:
        ndim, k, s, d, k_eff, pad = self._geometry(x)
        sizes = []
        for axis, n, ke, st, (lo, hi) in zip(AXES[ndim], spatial(x), k_eff, s, pad):
            out = window_out(n, ke, st, lo, hi, ceil_mode)
            if out < 1:
                raise CnnCalcError(
                    f"kernel {ke} is larger than the padded input {n + lo + hi} along {axis}: "
                    f"⌊({n} − {ke} + {lo + hi} + {st}) / {st}⌋ = {(n - ke + lo + hi + st) // st}",
                    field="kernel",
                    hint="use a smaller kernel, more padding, or a larger input")
            sizes.append(out)
        return tuple(sizes)

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        _, _, s, _, k_eff, _ = self._geometry(x)
        return field.slide(k_eff, s)

    def _explain_sizes(self, x: Shape, y: Shape, ceil_mode: bool = False) -> list[Formula]:
        ndim, k, s, d, k_eff, pad = self._geometry(x)
        lines = []
        left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
        for axis, n, kk, dd, ke, st, (lo, hi), out in zip(
                AXES[ndim], spatial(x), k, d, k_eff, s, pad, spatial(y)):
            notes = []
            if lo or hi:
                notes.append(f"p_{axis} = {lo} + {hi} = {lo + hi}, the total padding of both sides")
            if dd > 1:
                notes.append(f"k_{axis} is the dilated extent {dd}·({kk} − 1) + 1 = {ke}")
            if ceil_mode and out != -(-(n - ke + lo + hi + st) // st):
                notes.append("the last window would start in the right padding, so it is dropped")
            lines.append(Formula(
                axis.upper(),
                f"{left}(n_{axis} − k_{axis} + p_{axis} + s_{axis}) / s_{axis}{right}",
                f"{left}({n} − {ke} + {lo + hi} + {st}) / {st}{right}",
                str(out), "; ".join(notes)))
        return lines


class Conv(_Sliding):
    """Convolution (cross-correlation, as every framework computes it)."""

    kind: ClassVar[str] = "conv"
    main: ClassVar[str] = "out_channels"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "convolution: OUT filters of size kernel over the input channels"

    out_channels: Size
    kernel: Sizes
    stride: Sizes = 1
    padding: Padding = 0
    dilation: Sizes = 1
    groups: Size = 1
    bias: bool = True
    table: Union[Literal["lenet5"], list[list[NonNeg]], None] = None

    def inputs_seen(self, x: Shape) -> int:
        """Σ over output maps of the input maps each sees: c_o·c_i/g, or the table's size."""
        if self.table is None:
            return self.out_channels * self._per_group(x)
        return sum(self.inputs_per_map(x))

    def _per_group(self, x: Shape) -> int:
        c_in = x[0]
        if c_in % self.groups or self.out_channels % self.groups:
            raise CnnCalcError(
                f"groups {self.groups} must divide both the input channels {c_in} "
                f"and the output channels {self.out_channels}", field="groups")
        return c_in // self.groups

    def inputs_per_map(self, x: Shape) -> list[int]:
        """How many input maps each output map sees (c_i/g, or its row of the table)."""
        c_in = x[0]
        if self.table is None:
            return [self._per_group(x)] * self.out_channels
        rows = self.table_rows()
        if self.groups != 1:
            raise CnnCalcError("a connection table and groups cannot be combined", field="table")
        if len(rows) != self.out_channels:
            raise CnnCalcError(
                f"has {len(rows)} rows but the layer has {self.out_channels} output maps",
                field="table", hint="one list of input maps per output map")
        for i, row in enumerate(rows):
            if not row:
                raise CnnCalcError(f"row {i} is empty: output map {i} sees no input", field="table")
            if len(set(row)) != len(row):
                raise CnnCalcError(f"row {i} names an input map twice: {row}", field="table")
            missing = [m for m in row if m >= c_in]
            if missing:
                raise CnnCalcError(
                    f"row {i} names input map {missing[0]}, but the input has only {c_in} maps "
                    f"(0 to {c_in - 1})", field="table")
        return [len(r) for r in rows]

    def table_rows(self) -> list[list[int]]:
        return LENET5_C3_TABLE if self.table == "lenet5" else [list(r) for r in self.table]

    def out_shape(self, x: Shape) -> Shape:
        self.inputs_seen(x)
        return (self.out_channels,) + self._out_sizes(x)

    def state(self, x: Shape) -> list[StateEntry]:
        k = per_axis(self.kernel, len(x) - 1, "kernel")
        if self.table is not None:
            entries = []
            for i, n in enumerate(self.inputs_per_map(x)):
                entries.append(StateEntry(f"maps.{i}.weight", (1, n) + k))
                if self.bias:
                    entries.append(StateEntry(f"maps.{i}.bias", (1,)))
            return entries
        entries = [StateEntry("weight", (self.out_channels, x[0] // self.groups) + k)]
        if self.bias:
            entries.append(StateEntry("bias", (self.out_channels,)))
        return entries

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per output of fan-in n = (input maps seen)·k_h·k_w: n mults, n − 1 adds, 1 bias add."""
        kernel = prod(per_axis(self.kernel, len(x) - 1, "kernel"))
        positions = prod(spatial(y))
        mults = self.inputs_seen(x) * kernel * positions
        return Ops(mults=mults, adds=mults - self.out_channels * positions,
                   bias_adds=self.out_channels * positions if self.bias else 0, macs=mults)

    def connections(self, x: Shape, y: Shape) -> int:
        kernel = prod(per_axis(self.kernel, len(x) - 1, "kernel"))
        positions = prod(spatial(y))
        return (self.inputs_seen(x) * kernel + self.out_channels * self.bias) * positions

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self._explain_sizes(x, y)
        k = per_axis(self.kernel, len(x) - 1, "kernel")
        kk = _dot(*k)
        b = " + 1" if self.bias else ""
        if self.table is not None:
            groups = table_groups(self.table_rows(), x[0])
            kernel = prod(k)
            sub = " + ".join(f"{count}·({n}·{kernel}{'+1' if self.bias else ''})"
                             for count, n in groups)
            lines.append(Formula("params", f"Σ (|inputs|·{'·'.join('k_' + a for a in AXES[len(k)])}"
                                 f"{b})", sub, str(self.params(x)),
                                 "partial connection table: each output map sees only its inputs"))
        else:
            per = x[0] // self.groups
            sym_k = "·".join("k_" + a for a in AXES[len(k)])
            sym_c = "c_i/g" if self.groups > 1 else "c_i"
            lines.append(Formula("params", f"c_o·({sym_c}·{sym_k}{b})",
                                 f"{self.out_channels}·({per}·{kk}{b})", str(self.params(x))))
        positions = prod(spatial(y))
        ops = self.ops(x, y)
        if self.table is None:
            lines.append(Formula(
                "MACs", f"c_o·{'·'.join(a.upper() + '_o' for a in AXES[len(k)])}·"
                        f"{'c_i/g' if self.groups > 1 else 'c_i'}·{'·'.join('k_' + a for a in AXES[len(k)])}",
                _dot(self.out_channels, *spatial(y), x[0] // self.groups, *k), str(ops.macs)))
        lines.append(Formula("connections", "outputs·(fan-in + bias)",
                             f"{positions}·(…)", str(self.connections(x, y)),
                             "as LeNet-5 counts them"))
        return lines


def table_groups(rows: list[list[int]], c_in: int) -> list[tuple[int, int]]:
    """Consecutive rows of the same size and the same shape (cyclically contiguous
    or not), as (how many, size): LeNet-5's C3 reads 6·3, 6·4, 3·4, 1·6."""
    def contiguous(row: list[int]) -> bool:
        members = set(row)
        return any(all((start + i) % c_in in members for i in range(len(row)))
                   for start in range(c_in))

    groups: list[list] = []
    for row in rows:
        key = (len(row), contiguous(row))
        if groups and groups[-1][0] == key:
            groups[-1][1] += 1
        else:
            groups.append([key, 1])
    return [(count, key[0]) for key, count in groups]


LENET5_C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]
"""LeCun et al. 1998, Table I: the S2 maps (rows of the paper) each C3 map takes."""


class Deconv(_Sliding):
    """Transposed convolution (PyTorch's ConvTranspose), counted on its input."""

    kind: ClassVar[str] = "deconv"
    main: ClassVar[str] = "out_channels"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "transposed convolution: each input scatters a kernel-sized patch"

    out_channels: Size
    kernel: Sizes
    stride: Sizes = 1
    padding: Union[NonNeg, list[NonNeg]] = 0
    output_padding: Union[NonNeg, list[NonNeg]] = 0
    dilation: Sizes = 1
    groups: Size = 1
    bias: bool = True

    def _axes(self, x: Shape):
        ndim = needs_spatial(x, self.kind)
        k = per_axis(self.kernel, ndim, "kernel")
        s = per_axis(self.stride, ndim, "stride")
        d = per_axis(self.dilation, ndim, "dilation")
        p = per_axis(self.padding, ndim, "padding")
        op = per_axis(self.output_padding, ndim, "output_padding")
        return ndim, k, s, d, p, op

    def out_shape(self, x: Shape) -> Shape:
        if x[0] % self.groups or self.out_channels % self.groups:
            raise CnnCalcError(
                f"groups {self.groups} must divide both the input channels {x[0]} "
                f"and the output channels {self.out_channels}", field="groups")
        ndim, k, s, d, p, op = self._axes(x)
        sizes = []
        for axis, n, kk, ss, dd, pp, oo in zip(AXES[ndim], spatial(x), k, s, d, p, op):
            if oo >= max(ss, dd):
                raise CnnCalcError(
                    f"output_padding {oo} must be smaller than the stride {ss} or the "
                    f"dilation {dd} along {axis}", field="output_padding")
            out = (n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
            if out < 1:
                raise CnnCalcError(
                    f"padding {pp} crops away the whole output along {axis}: "
                    f"({n} − 1)·{ss} − 2·{pp} + {dd}·({kk} − 1) + {oo} + 1 = {out}",
                    field="padding")
            sizes.append(out)
        return (self.out_channels,) + tuple(sizes)

    def state(self, x: Shape) -> list[StateEntry]:
        k = per_axis(self.kernel, len(x) - 1, "kernel")
        entries = [StateEntry("weight", (x[0], self.out_channels // self.groups) + k)]
        if self.bias:
            entries.append(StateEntry("bias", (self.out_channels,)))
        return entries

    def ops(self, x: Shape, y: Shape) -> Ops:
        """MACs on the input: c_i·(input positions)·(c_o/g)·k. Mults and adds count the
        products that land in the output (the padding crops the rest): an output that
        receives n products costs n mults and n − 1 adds, plus 1 for the bias."""
        ndim, k, s, d, p, _ = self._axes(x)
        landed, hit = 1, 1
        for n, kk, ss, dd, pp, out in zip(spatial(x), k, s, d, p, spatial(y)):
            a, b = transposed_reach(n, kk, ss, dd, pp, out)
            landed *= a
            hit *= b
        per_out = self.out_channels // self.groups
        mults = x[0] * per_out * landed
        return Ops(mults=mults, adds=mults - self.out_channels * hit,
                   bias_adds=prod(y) if self.bias else 0,
                   macs=prod(x) * per_out * prod(k))

    def connections(self, x: Shape, y: Shape) -> int:
        ops = self.ops(x, y)
        return ops.mults + ops.bias_adds

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        """Each output sees ⌈k/s⌉ inputs along an axis; the jump shrinks by s."""
        ndim, k, s, d, _, _ = self._axes(x)
        from fractions import Fraction
        k_in = [-(-effective_kernel(kk, dd) // ss) for kk, dd, ss in zip(k, d, s)]
        return field.slide(k_in, [Fraction(1, ss) for ss in s])

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        ndim, k, s, d, p, op = self._axes(x)
        lines = []
        for axis, n, kk, ss, dd, pp, oo, out in zip(AXES[ndim], spatial(x), k, s, d, p, op,
                                                     spatial(y)):
            lines.append(Formula(axis.upper(), f"(n_{axis} − 1)·s − 2·p + d·(k − 1) + output_padding + 1",
                                 f"({n} − 1)·{ss} − 2·{pp} + {dd}·({kk} − 1) + {oo} + 1", str(out)))
        lines.append(Formula("MACs", "c_i·(input positions)·(c_o/g)·k",
                             _dot(x[0], *spatial(x), self.out_channels // self.groups, *k),
                             str(self.ops(x, y).macs), "counted on the input"))
        return lines


class Pool(_Sliding):
    """Max or average pooling (PyTorch semantics, incl. ceil_mode)."""

    kind: ClassVar[str] = "pool"
    main: ClassVar[str] = "mode"
    summary: ClassVar[str] = "max or average over each window"

    mode: Literal["max", "avg"]
    kernel: Sizes
    stride: Union[Sizes, None] = None
    padding: Padding = 0
    dilation: Sizes = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    def _stride(self):
        return self.kernel if self.stride is None else self.stride

    def out_shape(self, x: Shape) -> Shape:
        ndim, k, s, d, k_eff, pad = self._geometry(x)
        if self.mode == "avg" and any(v != 1 for v in d):
            raise CnnCalcError("average pooling has no dilation", field="dilation")
        if self.mode == "avg" and ndim == 3 and any(n < kk for n, kk in zip(spatial(x), k)):
            raise CnnCalcError(
                f"3-D average pooling needs every input extent ≥ its kernel (PyTorch's "
                f"avg_pool3d rule, padding aside): input {fmt_shape(spatial(x))}, kernel "
                f"{fmt_shape(k)}", field="kernel")
        for axis, kk, (lo, hi) in zip(AXES[ndim], k, pad):
            if max(lo, hi) > kk // 2:
                raise CnnCalcError(
                    f"padding {max(lo, hi)} along {axis} is more than half the kernel {kk}",
                    field="padding", hint=f"at most {kk // 2}, as PyTorch requires")
        return (x[0],) + self._out_sizes(x, self.ceil_mode)

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per window of w visited elements: max w − 1 compares; avg w − 1 adds and 1 division."""
        ndim, k, s, d, k_eff, pad = self._geometry(x)
        clip = self.mode == "avg" and not self.count_include_pad
        taps = prod(window_taps(n, kk, ss, dd, lo, hi, out, clip)
                    for n, kk, ss, dd, (lo, hi), out in zip(spatial(x), k, s, d, pad, spatial(y)))
        windows = prod(spatial(y))
        reduce = x[0] * (taps - windows)
        if self.mode == "max":
            return Ops(compares=reduce)
        return Ops(adds=reduce, divs=x[0] * windows)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return self._explain_sizes(x, y, self.ceil_mode)


class Subsample(_Sliding):
    """LeNet-5's trainable sub-sampling: y = a·(sum of a k×k window, stride k) + b, per map."""

    kind: ClassVar[str] = "subsample"
    main: ClassVar[str] = "kernel"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "LeNet-5 sub-sampling: window sum times a trainable coefficient plus a bias"

    kernel: Size

    def _stride(self):
        return self.kernel

    def out_shape(self, x: Shape) -> Shape:
        return (x[0],) + self._out_sizes(x)

    def state(self, x: Shape) -> list[StateEntry]:
        return [StateEntry("weight", (x[0],)), StateEntry("bias", (x[0],))]

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per output: k^d − 1 adds, 1 mult by the coefficient (one weight use), 1 bias add."""
        outputs = prod(y)
        window = self.kernel ** (len(x) - 1)
        return Ops(mults=outputs, adds=outputs * (window - 1), bias_adds=outputs, macs=outputs)

    def connections(self, x: Shape, y: Shape) -> int:
        return prod(y) * (self.kernel ** (len(x) - 1) + 1)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self._explain_sizes(x, y)
        lines.append(Formula("params", "2·c (a coefficient and a bias per map)",
                             f"2·{x[0]}", str(self.params(x))))
        lines.append(Formula("connections", "outputs·(k·k + 1)",
                             f"{prod(y)}·({self.kernel ** (len(x) - 1)} + 1)",
                             str(self.connections(x, y))))
        return lines


class GlobalAvgPool(Kind):
    """Global average pooling: each map to its mean."""

    kind: ClassVar[str] = "gap"
    summary: ClassVar[str] = "global average pooling: each map to one number"

    def out_shape(self, x: Shape) -> Shape:
        ndim = needs_spatial(x, self.kind)
        return (x[0],) + (1,) * ndim

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(spatial(x))
        return Ops(adds=x[0] * (n - 1), divs=x[0])

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field.whole(spatial(x))


class Adaptive(Kind):
    """Adaptive pooling to a fixed output size (PyTorch's windows)."""

    kind: ClassVar[str] = "adaptive"
    main: ClassVar[str] = "size"
    summary: ClassVar[str] = "adaptive pooling to a fixed size"

    size: Sizes
    mode: Literal["avg", "max"] = "avg"

    def out_shape(self, x: Shape) -> Shape:
        ndim = needs_spatial(x, self.kind)
        return (x[0],) + per_axis(self.size, ndim, "adaptive")

    def ops(self, x: Shape, y: Shape) -> Ops:
        taps = prod(sum(e - s for s, e in adaptive_windows(n, o))
                    for n, o in zip(spatial(x), spatial(y)))
        windows = prod(spatial(y))
        if self.mode == "max":
            return Ops(compares=x[0] * (taps - windows))
        return Ops(adds=x[0] * (taps - windows), divs=x[0] * windows)

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        k = [max(e - s for s, e in adaptive_windows(n, o)) for n, o in zip(spatial(x), spatial(y))]
        s = [max(n // o, 1) for n, o in zip(spatial(x), spatial(y))]
        return field.slide(k, s)


# --------------------------------------------------------------------------- dense


class _Global(Kind):
    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field.whole(spatial(x)) if len(x) > 1 else field


class Flatten(_Global):
    """Flatten (C, H, W) to C·H·W features."""

    kind: ClassVar[str] = "flatten"
    summary: ClassVar[str] = "flatten to a vector"

    def out_shape(self, x: Shape) -> Shape:
        return (prod(x),)


class Fc(_Global):
    """Fully connected (Linear); a non-flat input is flattened first."""

    kind: ClassVar[str] = "fc"
    main: ClassVar[str] = "out_features"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "fully connected layer of OUT units"

    out_features: Size
    bias: bool = True

    def out_shape(self, x: Shape) -> Shape:
        return (self.out_features,)

    def state(self, x: Shape) -> list[StateEntry]:
        entries = [StateEntry("weight", (self.out_features, prod(x)))]
        if self.bias:
            entries.append(StateEntry("bias", (self.out_features,)))
        return entries

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per output unit with n inputs: n mults, n − 1 adds, 1 bias add."""
        n = prod(x)
        return Ops(mults=n * self.out_features, adds=(n - 1) * self.out_features,
                   bias_adds=self.out_features if self.bias else 0, macs=n * self.out_features)

    def connections(self, x: Shape, y: Shape) -> int:
        return (prod(x) + self.bias) * self.out_features

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        b = " + 1" if self.bias else ""
        return [Formula("params", f"out·(in{b})", f"{self.out_features}·({prod(x)}{b})",
                        str(self.params(x))),
                Formula("MACs", "out·in", _dot(self.out_features, prod(x)),
                        str(self.ops(x, y).macs))]


class Rbf(_Global):
    """LeNet-5's Euclidean RBF output units: y_i = Σ_j (x_j − w_ij)², no bias."""

    kind: ClassVar[str] = "rbf"
    main: ClassVar[str] = "out_features"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "Euclidean radial basis function units (LeNet-5 output)"

    out_features: Size

    def out_shape(self, x: Shape) -> Shape:
        return (self.out_features,)

    def state(self, x: Shape) -> list[StateEntry]:
        return [StateEntry("weight", (self.out_features, prod(x)))]

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per unit with n inputs: n subtractions (adds), n squares (mults), n − 1 adds."""
        n = prod(x)
        return Ops(mults=n * self.out_features, adds=(2 * n - 1) * self.out_features,
                   macs=n * self.out_features)

    def connections(self, x: Shape, y: Shape) -> int:
        return prod(x) * self.out_features

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return [Formula("params", "out·in (no bias)", _dot(self.out_features, prod(x)),
                        str(self.params(x)))]


# --------------------------------------------------------------------------- elementwise


class Relu(Kind):
    """max(0, x): one comparison per element."""

    kind: ClassVar[str] = "relu"
    summary: ClassVar[str] = "max(0, x)"

    def ops(self, x: Shape, y: Shape) -> Ops:
        return Ops(compares=prod(x))


class Relu6(Kind):
    """min(max(0, x), 6): two comparisons per element."""

    kind: ClassVar[str] = "relu6"
    summary: ClassVar[str] = "min(max(0, x), 6)"

    def ops(self, x: Shape, y: Shape) -> Ops:
        return Ops(compares=2 * prod(x))


class Sigmoid(Kind):
    """1 / (1 + e^−x): one exp, one add, one division per element."""

    kind: ClassVar[str] = "sigmoid"
    summary: ClassVar[str] = "1 / (1 + e^−x)"

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(x)
        return Ops(adds=n, divs=n, exps=n)


class Tanh(Kind):
    """(e^x − e^−x) / (e^x + e^−x): two exps, two adds, one division per element."""

    kind: ClassVar[str] = "tanh"
    summary: ClassVar[str] = "hyperbolic tangent"

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(x)
        return Ops(adds=2 * n, divs=n, exps=2 * n)


class Softmax(Kind):
    """Softmax over the channels: per vector of n, n exps, n − 1 adds, n divisions."""

    kind: ClassVar[str] = "softmax"
    summary: ClassVar[str] = "softmax over the channels"

    def ops(self, x: Shape, y: Shape) -> Ops:
        n, vectors = x[0], prod(spatial(x))
        return Ops(adds=(n - 1) * vectors, divs=n * vectors, exps=n * vectors)


class BatchNorm(Kind):
    """Batch normalisation at inference: y = x·γ/√(σ² + ε) + (β − μ·γ/√(σ² + ε)), folded."""

    kind: ClassVar[str] = "batchnorm"
    main: ClassVar[str] = "channels"
    summary: ClassVar[str] = "batch normalisation (γ, β trained; running mean and variance kept)"

    channels: Union[Size, None] = None
    eps: Number = 1e-5
    momentum: Number = 0.1

    def out_shape(self, x: Shape) -> Shape:
        if self.channels is not None and self.channels != x[0]:
            raise CnnCalcError(f"says {self.channels} channels but its input has {x[0]}",
                               field="batchnorm", hint="leave it empty to take the input's")
        return x

    def state(self, x: Shape) -> list[StateEntry]:
        c = (x[0],)
        return [StateEntry("weight", c), StateEntry("bias", c),
                StateEntry("running_mean", c, "buffer"), StateEntry("running_var", c, "buffer"),
                StateEntry("num_batches_tracked", (), "counter")]

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(x)
        return Ops(mults=n, adds=n)


class Lrn(Kind):
    """Local response normalisation across channels (AlexNet; PyTorch's LocalResponseNorm):
    b = a / (k + α/n · Σ a²)^β over a window of n neighbouring channels."""

    kind: ClassVar[str] = "lrn"
    main: ClassVar[str] = "size"
    summary: ClassVar[str] = "local response normalisation across channels"

    size: Size
    alpha: Number = 1e-4
    beta: Number = 0.75
    k: Number = 1.0

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per element with a window of w channels: w + 1 mults, w adds, 1 pow, 1 division."""
        c, positions = x[0], prod(spatial(x))
        window = sum(min(c, i + (self.size - 1) // 2 + 1) - max(0, i - self.size // 2)
                     for i in range(c))
        n = prod(x)
        return Ops(mults=(window + c) * positions, adds=window * positions,
                   exps=n, divs=n)


class Dropout(Kind):
    """Dropout: the identity at inference."""

    kind: ClassVar[str] = "dropout"
    main: ClassVar[str] = "p"
    summary: ClassVar[str] = "dropout (identity at inference)"

    p: Annotated[float, PydField(ge=0, lt=1)] = 0.5


# --------------------------------------------------------------------------- joins


class Concat(Kind):
    """Branches joined along the channels; their spatial sizes must agree."""

    kind: ClassVar[str] = "concat"
    summary: ClassVar[str] = "branches joined on channels"

    def merge(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        for i, s in enumerate(shapes[1:], 1):
            if len(s) != len(first) or s[1:] != first[1:]:
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but branch 0 gives {fmt_shape(first)}: "
                    "concatenated branches must agree in every axis but the channels",
                    hint="check the stride and padding of each branch")
        return (sum(s[0] for s in shapes),) + first[1:]


class Add(Kind):
    """Branches summed element by element; their shapes must be equal."""

    kind: ClassVar[str] = "add"
    summary: ClassVar[str] = "branches summed element by element"

    def merge(self, shapes: list[Shape]) -> Shape:
        first = shapes[0]
        for i, s in enumerate(shapes[1:], 1):
            if s != first:
                raise CnnCalcError(
                    f"branch {i} gives {fmt_shape(s)} but branch 0 gives {fmt_shape(first)}: "
                    "added branches must have the same shape",
                    hint="a residual shortcut that changes shape needs a 1×1 conv in its branch")
        return first

    def merge_ops(self, shapes: list[Shape]) -> Ops:
        return Ops(eltwise_adds=(len(shapes) - 1) * prod(shapes[0]))


LAYER_KINDS: dict[str, type[Kind]] = {
    k.kind: k for k in (Conv, Deconv, Pool, Subsample, GlobalAvgPool, Adaptive, Flatten, Fc, Rbf,
                        Relu, Relu6, Sigmoid, Tanh, Softmax, BatchNorm, Lrn, Dropout)
}
"""Every kind a YAML layer may name, by its key."""
JOIN_KINDS: dict[str, type[Kind]] = {"concat": Concat, "add": Add}

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
from .backward import INDEX_BYTES, Backward, Kept, Saved
from .errors import CnnCalcError
from .formula import LABELS, Formula
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


def _weight_grads(macs: int, weights: int, biases: int, positions: int, batch: int) -> Ops:
    """dW of a weighted layer, whole batch: each weight's gradient sums its ``batch·macs/weights``
    uses (one product each), each bias's the ``batch·positions`` output gradients it fed."""
    uses = macs * batch
    return Ops(mults=uses, adds=uses - weights, bias_adds=biases * (batch * positions - 1),
               macs=uses)


def _syms(prefix: str, ndim: int, suffix: str = "") -> str:
    """``k_h·k_w`` (prefix 'k_'), ``H_o·W_o`` (prefix '', suffix '_o', upper case)."""
    return "·".join((prefix + a if prefix else a.upper()) + suffix for a in AXES[ndim])


def _op(field: str, symbolic: str, substituted: str, value: int, note: str = "") -> Formula:
    """A line for one raw operation count, named as :data:`LABELS` names it."""
    return Formula(LABELS[field], symbolic, substituted, str(value), note)


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

    def weights(self, x: Shape) -> int:
        """Parameters that multiply an input, biases left out (NNDL's "weights");
        0 for the kinds that are not weighted."""
        return 0

    def count_keys(self) -> tuple[str, ...]:
        """The names a convention's table may give this layer's row under, most specific
        first: a max pool is ``pool.max``, then ``pool``."""
        return (self.kind,)

    def output_macs(self, x: Shape, y: Shape) -> int | None:
        """The MACs counted on the output positions, where that differs from
        ``ops().macs``: only a transposed conv's (None elsewhere)."""
        return None

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field

    def is_view(self) -> bool:
        """Its output is its input's memory (flatten): autograd keeping one keeps the other."""
        return False

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Raw operations of the backward pass, whole batch (:mod:`cnncalc.backward`)."""
        return Backward()

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """What PyTorch autograd keeps of this layer for its backward."""
        return Saved()

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        """The working of the shape, parameters and operations; by default a kind
        keeps its input's shape and says so."""
        return [Formula("shape", "input shape", "", fmt_shape(y))] if x == y else []


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

    def weights(self, x: Shape) -> int:
        return self.inputs_seen(x) * prod(per_axis(self.kernel, len(x) - 1, "kernel"))

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX: Wᵀ·δ then col2im (PyTorch's slow_conv2d backward), every product accumulated
        once: MACs mults and MACs adds. dW: each forward product once more (x·δ), summed."""
        macs = self.ops(x, y).macs * batch
        return Backward(Ops(mults=macs, adds=macs, macs=macs),
                        _weight_grads(macs // batch, self.weights(x), self.out_channels * self.bias,
                                      prod(spatial(y)), batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input, for dW (and its weight, which is a parameter)."""
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self._explain_sizes(x, y)
        ndim = len(x) - 1
        k = per_axis(self.kernel, ndim, "kernel")
        c_o, out = self.out_channels, spatial(y)
        sym_k, sym_o = _syms("k_", ndim), _syms("", ndim, "_o")
        b = " + 1" if self.bias else ""
        ops = self.ops(x, y)
        if self.table is not None:
            groups = table_groups(self.table_rows(), x[0])
            kernel = prod(k)
            sub = " + ".join(f"{count}·({n}·{kernel}{'+1' if self.bias else ''})"
                             for count, n in groups)
            lines.append(Formula("params", f"Σ (|inputs|·{sym_k}{b})", sub, str(self.params(x)),
                                 "partial connection table: each output map sees only its inputs"))
            seen = " + ".join(f"{count}·{n}" for count, n in groups)
            fan, fan_sub = f"{sym_o}·(Σ |inputs|)·{sym_k}", f"{_dot(*out)}·({seen})·{_dot(*k)}"
            reduce = (f"MACs − c_o·{sym_o}", f"{ops.macs} − {_dot(c_o, *out)}")
            links = (f"{sym_o}·Σ (|inputs|·{sym_k}{b})",
                     f"{_dot(*out)}·{self.inputs_seen(x) * kernel + c_o * self.bias}")
        else:
            per = x[0] // self.groups
            sym_c = "(c_i/g)" if self.groups > 1 else "c_i"
            lines.append(Formula("params", f"c_o·({sym_c}·{sym_k}{b})",
                                 f"{c_o}·({per}·{_dot(*k)}{b})", str(self.params(x))))
            fan, fan_sub = f"c_o·{sym_o}·{sym_c}·{sym_k}", _dot(c_o, *out, per, *k)
            reduce = (f"c_o·{sym_o}·({sym_c}·{sym_k} − 1)", f"{_dot(c_o, *out)}·({_dot(per, *k)} − 1)")
            links = (f"c_o·{sym_o}·({sym_c}·{sym_k}{b})", f"{_dot(c_o, *out)}·({_dot(per, *k)}{b})")
        lines.append(_op("macs", fan, fan_sub, ops.macs, "one per weight use, the bias not counted"))
        lines.append(_op("mults", fan, fan_sub, ops.mults))
        lines.append(_op("adds", *reduce, ops.adds, "n − 1 per output of fan-in n"))
        if self.bias:
            lines.append(_op("bias_adds", f"c_o·{sym_o}", _dot(c_o, *out), ops.bias_adds))
        lines.append(Formula("connections", *links, str(self.connections(x, y)),
                             "each output's weighted inputs plus its bias, as LeNet-5 counts them"))
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
        _, k, _, _, _, _ = self._axes(x)
        landed, hit = self._reach(x, y)
        per_out = self.out_channels // self.groups
        mults = x[0] * per_out * landed
        return Ops(mults=mults, adds=mults - self.out_channels * hit,
                   bias_adds=prod(y) if self.bias else 0,
                   macs=prod(x) * per_out * prod(k))

    def _reach(self, x: Shape, y: Shape) -> tuple[int, int]:
        """(products of one input map and one kernel that land in an output map,
        output positions that receive at least one), over all spatial axes."""
        ndim, k, s, d, p, _ = self._axes(x)
        landed, hit = 1, 1
        for n, kk, ss, dd, pp, out in zip(spatial(x), k, s, d, p, spatial(y)):
            a, b = transposed_reach(n, kk, ss, dd, pp, out)
            landed *= a
            hit *= b
        return landed, hit

    def weights(self, x: Shape) -> int:
        return x[0] * (self.out_channels // self.groups) * prod(per_axis(self.kernel, len(x) - 1,
                                                                         "kernel"))

    def output_macs(self, x: Shape, y: Shape) -> int:
        """c_o·(output positions)·(c_i/g)·k: as if every output gathered a whole kernel
        from every input map of its group — what tools that treat a transposed conv like a
        conv count; the zeros a stride inserts are multiplied too."""
        k = per_axis(self.kernel, len(x) - 1, "kernel")
        return prod(y) * (x[0] // self.groups) * prod(k)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX is a plain conv of δ over the uncropped output: each input element sums
        (c_o/g)·k products. dW: each forward product once more, summed."""
        macs = self.ops(x, y).macs * batch
        return Backward(Ops(mults=macs, adds=macs - prod(x) * batch, macs=macs),
                        _weight_grads(macs // batch, self.weights(x), self.out_channels * self.bias,
                                      prod(spatial(y)), batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

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
        c_i, c_o, per = x[0], self.out_channels, self.out_channels // self.groups
        sym_k, sym_o = _syms("k_", ndim), _syms("", ndim, "_o")
        b = (" + c_o", f" + {c_o}") if self.bias else ("", "")
        ops = self.ops(x, y)
        landed, hit = self._reach(x, y)
        lines.append(Formula("params", f"c_i·(c_o/g)·{sym_k}{b[0]}", f"{_dot(c_i, per, *k)}{b[1]}",
                             str(self.params(x))))
        lines.append(_op("macs", f"c_i·{_syms('n_', ndim)}·(c_o/g)·{sym_k}",
                         _dot(c_i, *spatial(x), per, *k), ops.macs,
                         "counted on the input: every input scatters a whole kernel"))
        lines.append(_op("mults", "c_i·(c_o/g)·(products that land in the output)",
                         _dot(c_i, per, landed), ops.mults, "the padding crops the rest"))
        lines.append(_op("adds", "mults − c_o·(output positions that receive a product)",
                         f"{ops.mults} − {c_o}·{hit}", ops.adds))
        if self.bias:
            lines.append(_op("bias_adds", f"c_o·{sym_o}", _dot(c_o, *spatial(y)), ops.bias_adds))
        lines.append(Formula("connections", "mults + bias adds", f"{ops.mults} + {ops.bias_adds}",
                             str(self.connections(x, y))))
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

    def count_keys(self) -> tuple[str, ...]:
        return (f"pool.{self.mode}", "pool")

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
        taps, windows = self._taps(x, y), prod(spatial(y))
        reduce = x[0] * (taps - windows)
        if self.mode == "max":
            return Ops(compares=reduce)
        return Ops(adds=reduce, divs=x[0] * windows)

    def _taps(self, x: Shape, y: Shape, clip: bool | None = None) -> int:
        """Elements visited by all the windows of one map (``clip``: inside the input only)."""
        ndim, k, s, d, k_eff, pad = self._geometry(x)
        if clip is None:
            clip = self.mode == "avg" and not self.count_include_pad
        return prod(window_taps(n, kk, ss, dd, lo, hi, out, clip)
                    for n, kk, ss, dd, (lo, hi), out in zip(spatial(x), k, s, d, pad, spatial(y)))

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """max: δ added at each window's argmax, one add per output; avg: δ/w once per
        window, added to each of its elements inside the input."""
        outputs = prod(y) * batch
        if self.mode == "max":
            return Backward(Ops(adds=outputs))
        return Backward(Ops(adds=x[0] * self._taps(x, y, clip=True) * batch, divs=outputs))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input (PyTorch's max_pool/avg_pool backward take it), and for max pooling
        the argmax of each window as int64."""
        if self.mode == "max":
            return Saved(input=True, extra=(Kept("indices", prod(y) * batch, INDEX_BYTES),))
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self._explain_sizes(x, y, self.ceil_mode)
        ndim, c = len(x) - 1, x[0]
        k = per_axis(self.kernel, ndim, "kernel")
        taps, windows = self._taps(x, y), prod(spatial(y))
        sym_o = _syms("", ndim, "_o")
        if taps == windows * prod(k):
            reduce = (f"c·{sym_o}·({_syms('k_', ndim)} − 1)", f"{_dot(c, *spatial(y))}·({_dot(*k)} − 1)",
                      "w − 1 per window of w elements")
        else:
            reduce = ("c·(elements visited − windows)", f"{c}·({taps} − {windows})",
                      "windows cut at the border visit fewer elements")
        field = "compares" if self.mode == "max" else "adds"
        lines.append(_op(field, reduce[0], reduce[1], c * (taps - windows), reduce[2]))
        if self.mode == "avg":
            lines.append(_op("divs", f"c·{sym_o}", _dot(c, *spatial(y)), c * windows,
                             "one per window"))
        return lines


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

    def weights(self, x: Shape) -> int:
        return x[0]

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX: a·δ once per output, added to each of its window's k^d inputs. dW: the
        coefficient's gradient Σ sum·δ, the bias's Σ δ, per map over batch and positions."""
        outputs = prod(y) * batch
        window = self.kernel ** (len(x) - 1)
        return Backward(Ops(mults=outputs, adds=outputs * window, macs=outputs),
                        _weight_grads(prod(y), x[0], x[0], prod(spatial(y)), batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """The window sums (one per output), for the coefficient's gradient."""
        return Saved(extra=(Kept("window sums", prod(y) * batch),))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self._explain_sizes(x, y)
        ndim, ops = len(x) - 1, self.ops(x, y)
        sym_o, outputs = f"c·{_syms('', ndim, '_o')}", _dot(*y)
        window = ("·".join(["k"] * ndim), self.kernel ** ndim)
        lines.append(Formula("params", "2·c (a coefficient and a bias per map)",
                             f"2·{x[0]}", str(self.params(x))))
        lines.append(_op("macs", sym_o, outputs, ops.macs, "one coefficient use per output"))
        lines.append(_op("mults", sym_o, outputs, ops.mults))
        lines.append(_op("adds", f"{sym_o}·({window[0]} − 1)", f"{outputs}·({window[1]} − 1)",
                         ops.adds, "the window sum"))
        lines.append(_op("bias_adds", sym_o, outputs, ops.bias_adds))
        lines.append(Formula("connections", f"{sym_o}·({window[0]} + 1)",
                             f"{outputs}·({window[1]} + 1)", str(self.connections(x, y))))
        return lines


class GlobalAvgPool(Kind):
    """Global average pooling: each map to its mean."""

    kind: ClassVar[str] = "gap"
    summary: ClassVar[str] = "global average pooling: each map to one number"

    def out_shape(self, x: Shape) -> Shape:
        ndim = needs_spatial(x, self.kind)
        return (x[0],) + (1,) * ndim

    def count_keys(self) -> tuple[str, ...]:
        """Frameworks build it as an adaptive average pool to size 1."""
        return ("gap", "adaptive.avg", "adaptive")

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(spatial(x))
        return Ops(adds=x[0] * (n - 1), divs=x[0])

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """δ/n once per map, added to each of its n inputs. Nothing kept: PyTorch's
        adaptive pooling to 1 is a mean, whose backward needs only the shape."""
        return Backward(Ops(adds=prod(x) * batch, divs=x[0] * batch))

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field.whole(spatial(x))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        ndim, ops = len(x) - 1, self.ops(x, y)
        return [Formula("shape", "×".join(["c"] + ["1"] * ndim), "", fmt_shape(y),
                        "each map averaged to one number"),
                _op("adds", f"c·({_syms('n_', ndim)} − 1)", f"{x[0]}·({_dot(*spatial(x))} − 1)",
                    ops.adds),
                _op("divs", "c", str(x[0]), ops.divs)]


class Adaptive(Kind):
    """Adaptive pooling to a fixed output size (PyTorch's windows)."""

    kind: ClassVar[str] = "adaptive"
    main: ClassVar[str] = "size"
    summary: ClassVar[str] = "adaptive pooling to a fixed size"

    size: Sizes
    mode: Literal["avg", "max"] = "avg"

    def count_keys(self) -> tuple[str, ...]:
        return (f"adaptive.{self.mode}", "adaptive")

    def out_shape(self, x: Shape) -> Shape:
        ndim = needs_spatial(x, self.kind)
        return (x[0],) + per_axis(self.size, ndim, "adaptive")

    def ops(self, x: Shape, y: Shape) -> Ops:
        taps, windows = self._taps(x, y), prod(spatial(y))
        if self.mode == "max":
            return Ops(compares=x[0] * (taps - windows))
        return Ops(adds=x[0] * (taps - windows), divs=x[0] * windows)

    def _taps(self, x: Shape, y: Shape) -> int:
        """Elements visited by all the windows of one map (windows may overlap)."""
        return prod(sum(e - s for s, e in adaptive_windows(n, o))
                    for n, o in zip(spatial(x), spatial(y)))

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """As pooling: max adds δ at each argmax; avg divides once per window and adds to
        each element a window visits."""
        outputs = prod(y) * batch
        if self.mode == "max":
            return Backward(Ops(adds=outputs))
        return Backward(Ops(adds=x[0] * self._taps(x, y) * batch, divs=outputs))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input and, for max, int64 indices; average pooling to 1×…×1 is PyTorch's
        mean and keeps nothing."""
        if self.mode == "max":
            return Saved(input=True, extra=(Kept("indices", prod(y) * batch, INDEX_BYTES),))
        return Saved(input=any(o != 1 for o in spatial(y)))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        ndim, c = len(x) - 1, x[0]
        taps, windows = self._taps(x, y), prod(spatial(y))
        field = "compares" if self.mode == "max" else "adds"
        lines = [Formula("shape", "c×(the requested size)", "", fmt_shape(y),
                         "windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) as PyTorch takes them"),
                 _op(field, "c·(elements visited − windows)", f"{c}·({taps} − {windows})",
                     c * (taps - windows))]
        if self.mode == "avg":
            lines.append(_op("divs", f"c·{_syms('', ndim, '_o')}", _dot(c, *spatial(y)),
                             c * windows, "one per window"))
        return lines

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

    def is_view(self) -> bool:
        return True

    def out_shape(self, x: Shape) -> Shape:
        return (prod(x),)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        symbolic = "·".join(["c"] + list(AXES.get(len(x) - 1, ())))
        return [Formula("features", symbolic, _dot(*x), str(y[0]))]


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

    def weights(self, x: Shape) -> int:
        return prod(x) * self.out_features

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX = Wᵀ·δ: each input sums out products. dW = δ·xᵀ summed over the batch."""
        macs = prod(x) * self.out_features * batch
        return Backward(Ops(mults=macs, adds=macs - prod(x) * batch, macs=macs),
                        _weight_grads(macs // batch, self.weights(x),
                                      self.out_features * self.bias, 1, batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        b = " + 1" if self.bias else ""
        out, n, ops = self.out_features, _dot(*x), self.ops(x, y)
        note = f"a {fmt_shape(x)} input is flattened to {prod(x)} inputs" if len(x) > 1 else ""
        lines = [Formula("params", f"out·(in{b})", f"{out}·({n}{b})", str(self.params(x)), note),
                 _op("macs", "out·in", f"{out}·{n}", ops.macs, "one per weight use"),
                 _op("mults", "out·in", f"{out}·{n}", ops.mults),
                 _op("adds", "out·(in − 1)", f"{out}·({prod(x)} − 1)", ops.adds)]
        if self.bias:
            lines.append(_op("bias_adds", "out", str(out), ops.bias_adds))
        lines.append(Formula("connections", f"out·(in{b})", f"{out}·({n}{b})",
                             str(self.connections(x, y))))
        return lines


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

    def weights(self, x: Shape) -> int:
        return prod(x) * self.out_features

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """g_ij = 2·δ_i·(x_j − w_ij), recomputed from the kept input: out mults (2·δ), in·out
        subtractions and in·out mults, counted in dW; dX_j = Σ_i g_ij, dW_ij = −Σ_batch g_ij."""
        n, out = prod(x), self.out_features
        uses = n * out * batch
        return Backward(Ops(adds=(out - 1) * n * batch, macs=uses),
                        Ops(mults=uses + out * batch, adds=uses + uses - n * out, macs=uses))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        out, n, ops = self.out_features, prod(x), self.ops(x, y)
        return [Formula("params", "out·in (no bias)", _dot(out, n), str(self.params(x))),
                _op("macs", "out·in", _dot(out, n), ops.macs, "one (x_j − w_ij)² per weight"),
                _op("mults", "out·in", _dot(out, n), ops.mults, "the squares"),
                _op("adds", "out·(2·in − 1)", f"{out}·(2·{n} − 1)", ops.adds,
                    "in subtractions and in − 1 additions per unit"),
                Formula("connections", "out·in", _dot(out, n), str(self.connections(x, y)))]


# --------------------------------------------------------------------------- elementwise


class _Elementwise(Kind):
    """A kind that performs the same few operations on every element."""

    per_element: ClassVar[dict[str, int]] = {}
    """Raw operations per element, by :class:`~cnncalc.ops.Ops` field."""
    backward_per_element: ClassVar[dict[str, int]] = {}
    """Raw operations of dX per element."""
    keeps: ClassVar[str] = "output"
    """What PyTorch's backward of the function reads: its 'input' or its 'output'."""

    def ops(self, x: Shape, y: Shape) -> Ops:
        n = prod(x)
        return Ops(**{f: count * n for f, count in self.per_element.items()})

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        n = prod(x) * batch
        return Backward(Ops(**{f: count * n for f, count in self.backward_per_element.items()}))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=self.keeps == "input", output=self.keeps == "output")

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = super().explain(x, y)
        for f, count in self.per_element.items():
            times = "" if count == 1 else f"{count}·"
            lines.append(_op(f, f"{times}elements", f"{times}{_dot(*x)}", count * prod(x)))
        return lines


class Relu(_Elementwise):
    """max(0, x): one comparison per element."""

    kind: ClassVar[str] = "relu"
    summary: ClassVar[str] = "max(0, x)"
    per_element: ClassVar[dict[str, int]] = {"compares": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"compares": 1}
    """δ where y > 0 (PyTorch's threshold_backward reads the output)."""


class Relu6(_Elementwise):
    """min(max(0, x), 6): two comparisons per element."""

    kind: ClassVar[str] = "relu6"
    summary: ClassVar[str] = "min(max(0, x), 6)"
    per_element: ClassVar[dict[str, int]] = {"compares": 2}
    backward_per_element: ClassVar[dict[str, int]] = {"compares": 2}
    keeps: ClassVar[str] = "input"
    """δ where 0 < x < 6 (PyTorch's hardtanh_backward reads the input)."""


class Sigmoid(_Elementwise):
    """1 / (1 + e^−x): one exp, one add, one division per element."""

    kind: ClassVar[str] = "sigmoid"
    summary: ClassVar[str] = "1 / (1 + e^−x)"
    per_element: ClassVar[dict[str, int]] = {"adds": 1, "divs": 1, "exps": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 2, "adds": 1}
    """δ·y·(1 − y) (PyTorch's sigmoid_backward)."""


class Tanh(_Elementwise):
    """(e^x − e^−x) / (e^x + e^−x): two exps, two adds, one division per element."""

    kind: ClassVar[str] = "tanh"
    summary: ClassVar[str] = "hyperbolic tangent"
    per_element: ClassVar[dict[str, int]] = {"adds": 2, "divs": 1, "exps": 2}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 2, "adds": 1}
    """δ·(1 − y²) (PyTorch's tanh_backward)."""


class Softmax(Kind):
    """Softmax over the channels: per vector of n, n exps, n − 1 adds, n divisions."""

    kind: ClassVar[str] = "softmax"
    summary: ClassVar[str] = "softmax over the channels"

    def ops(self, x: Shape, y: Shape) -> Ops:
        n, vectors = x[0], prod(spatial(x))
        return Ops(adds=(n - 1) * vectors, divs=n * vectors, exps=n * vectors)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX = y·(δ − Σ y·δ) per vector of n: 2n mults, (n − 1) + n adds."""
        n, vectors = x[0], prod(spatial(x)) * batch
        return Backward(Ops(mults=2 * n * vectors, adds=(2 * n - 1) * vectors))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(output=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c, ops, ndim = x[0], self.ops(x, y), len(x) - 1
        at = (f"·{_syms('n_', ndim)}", "".join(f"·{v}" for v in spatial(x))) if ndim else ("", "")
        return super().explain(x, y) + [
            _op("exps", f"c{at[0]}", f"{c}{at[1]}", ops.exps),
            _op("adds", f"(c − 1){at[0]}", f"({c} − 1){at[1]}", ops.adds, "the sum of the exps"),
            _op("divs", f"c{at[0]}", f"{c}{at[1]}", ops.divs)]


class BatchNorm(_Elementwise):
    """Batch normalisation at inference: y = x·γ/√(σ² + ε) + (β − μ·γ/√(σ² + ε)), folded."""

    kind: ClassVar[str] = "batchnorm"
    main: ClassVar[str] = "channels"
    summary: ClassVar[str] = "batch normalisation (γ, β trained; running mean and variance kept)"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "adds": 1}
    """At inference the normalisation folds into one multiply and one add per element."""

    channels: Union[Size, None] = None
    eps: Number = 1e-5
    momentum: Number = 0.1

    def out_shape(self, x: Shape) -> Shape:
        if self.channels is not None and self.channels != x[0]:
            raise CnnCalcError(f"says {self.channels} channels but its input has {x[0]}",
                               field="batchnorm", hint="leave it empty to take the input's")
        return x

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Training: x̂ = (x − μ)·σ⁻¹ recomputed (N adds, N mults), dγ = Σ δ·x̂, dβ = Σ δ over
        the m = N/c values of a channel (in dW); dX = γσ⁻¹/m·(m·δ − dβ − x̂·dγ): 3 mults and
        2 adds per element, 2 mults and 1 division per channel."""
        c, n = x[0], prod(x) * batch
        return Backward(Ops(mults=3 * n + 2 * c, adds=2 * n, divs=c),
                        Ops(mults=2 * n, adds=2 * n - c, bias_adds=n - c))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input, and the batch mean and inverse standard deviation per channel."""
        return Saved(input=True, extra=(Kept("batch mean and 1/σ", 2 * x[0]),))

    def state(self, x: Shape) -> list[StateEntry]:
        c = (x[0],)
        return [StateEntry("weight", c), StateEntry("bias", c),
                StateEntry("running_mean", c, "buffer"), StateEntry("running_var", c, "buffer"),
                StateEntry("num_batches_tracked", (), "counter")]

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c = x[0]
        return [Formula("params", "2·c (γ and β per channel)", f"2·{c}", str(self.params(x))),
                Formula("buffers", "2·c (running mean and variance)", f"2·{c}",
                        str(self.buffers(x)))] + super().explain(x, y)


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
        window = self._windows(c)
        n = prod(x)
        return Ops(mults=(window + c) * positions, adds=window * positions,
                   exps=n, divs=n)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """b = a·D^−β, D = k + α/n·S: da_j = δ_j·D_j^−β − (2αβ/n)·a_j·Σ_{i ∋ j} δ_i·b_i/D_i.
        Per element 5 mults and 2 divisions; the transposed window sums and the final
        subtraction Σ_c w_c adds per position."""
        n, positions = prod(x) * batch, prod(spatial(x)) * batch
        return Backward(Ops(mults=5 * n, adds=self._windows(x[0]) * positions, divs=2 * n))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """As PyTorch's F.local_response_norm composes it: the input, the channel-padded
        squares (c + size − 1 maps), the power's base and its result."""
        positions = prod(spatial(x)) * batch
        return Saved(input=True, extra=(
            Kept("padded squares", (x[0] + self.size - 1) * positions),
            Kept("k + α/n·Σa² and its power β", 2 * prod(x) * batch)))

    def _windows(self, c: int) -> int:
        """Σ over the channels of the window each one sums (clipped at both ends)."""
        return sum(min(c, i + (self.size - 1) // 2 + 1) - max(0, i - self.size // 2)
                   for i in range(c))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c, ndim, ops = x[0], len(x) - 1, self.ops(x, y)
        at, positions = _syms("n_", ndim), _dot(*spatial(x))
        w = self._windows(c)
        return super().explain(x, y) + [
            _op("mults", f"(Σ_c w_c + c)·{at}", f"({w} + {c})·{positions}", ops.mults,
                "a square per window element, one scale per element; w_c is channel c's "
                f"window of {self.size}, cut at the ends"),
            _op("adds", f"Σ_c w_c·{at}", f"{w}·{positions}", ops.adds),
            _op("exps", "elements", _dot(*x), ops.exps, "the power β"),
            _op("divs", "elements", _dot(*x), ops.divs)]


class Dropout(Kind):
    """Dropout: the identity at inference."""

    kind: ClassVar[str] = "dropout"
    main: ClassVar[str] = "p"
    summary: ClassVar[str] = "dropout (identity at inference)"

    p: Annotated[float, PydField(ge=0, lt=1)] = 0.5

    def is_view(self) -> bool:
        return self.p == 0

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Training: δ times the kept mask (scaled by 1/(1 − p)), one mult per element;
        with p = 0 PyTorch returns the input itself."""
        return Backward() if self.p == 0 else Backward(Ops(mults=prod(x) * batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """The scaled mask, one value of the dtype per element (PyTorch's CPU dropout; its
        CUDA kernel keeps a 1-byte bool mask)."""
        return Saved() if self.p == 0 else Saved(extra=(Kept("mask", prod(x) * batch),))


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

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        return [Formula("C", "Σ c (each branch's channels)", " + ".join(str(s[0]) for s in shapes),
                        str(y[0]))]


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

    def explain_merge(self, shapes: list[Shape], y: Shape) -> list[Formula]:
        return [Formula("shape", "input shape", "", fmt_shape(y)),
                _op("eltwise_adds", "(branches − 1)·elements",
                    f"({len(shapes)} − 1)·{_dot(*shapes[0])}", self.merge_ops(shapes).eltwise_adds)]


LAYER_KINDS: dict[str, type[Kind]] = {
    k.kind: k for k in (Conv, Deconv, Pool, Subsample, GlobalAvgPool, Adaptive, Flatten, Fc, Rbf,
                        Relu, Relu6, Sigmoid, Tanh, Softmax, BatchNorm, Lrn, Dropout)
}
"""Every kind a YAML layer may name, by its key."""
JOIN_KINDS: dict[str, type[Kind]] = {"concat": Concat, "add": Add}

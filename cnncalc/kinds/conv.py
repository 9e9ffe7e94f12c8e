"""Convolution, LeNet-5's connection tables, and transposed convolution."""

from fractions import Fraction
from math import gcd
from typing import ClassVar, Literal, Union

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Field,
    Shape,
    per_axis,
    prod,
    transposed_reach,
)
from cnncalc.kinds.backward import Backward, Saved
from cnncalc.kinds.base import (
    AXES,
    Kind,
    NonNeg,
    Padding,
    Size,
    Sizes,
    Sliding,
    StateEntry,
    TransposedGeometry,
    axis_symbols,
    dotted,
    needs_spatial,
    op_line,
    spatial,
    weight_grads,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class Conv(Sliding):
    """Convolution (cross-correlation, as every framework computes it)."""

    kind: ClassVar[str] = "conv"
    main: ClassVar[str] = "out_channels"
    subclass: ClassVar[str] = "nn.ConvNd (torchvision's video ResNets' Conv3DSimple)"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "convolution: OUT filters of size kernel over the input channels"
    formula: ClassVar[str] = (
        "n_o = ⌊(n − k + p + s)/s⌋ per axis (k dilated: d·(k − 1) + 1; p both sides); "
        "params c_o·(c_i/g)·∏k + c_o"
    )

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
                f"and the output channels {self.out_channels}",
                field="groups",
            )
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
                field="table",
                hint="one list of input maps per output map",
            )
        for i, row in enumerate(rows):
            if not row:
                raise CnnCalcError(f"row {i} is empty: output map {i} sees no input", field="table")
            if len(set(row)) != len(row):
                raise CnnCalcError(f"row {i} names an input map twice: {row}", field="table")
            missing = [m for m in row if m >= c_in]
            if missing:
                raise CnnCalcError(
                    f"row {i} names input map {missing[0]}, but the input has only {c_in} maps "
                    f"(0 to {c_in - 1})",
                    field="table",
                )
        return [len(r) for r in rows]

    def table_rows(self) -> list[list[int]]:
        if self.table is None or self.table == "lenet5":
            return LENET5_C3_TABLE
        return [list(r) for r in self.table]

    def out_shape(self, x: Shape) -> Shape:
        if self.table is not None or x[0] % self.groups or self.out_channels % self.groups:
            self.inputs_seen(x)  # refuses a table or groups that do not fit the input
        return (self.out_channels, *self.out_sizes(x))

    def state(self, x: Shape) -> list[StateEntry]:
        return self._state(x, per_axis(self.kernel, len(x) - 1, "kernel"))

    def _state(self, x: Shape, k: Shape) -> list[StateEntry]:
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
        return self._ops(self.weights(x), prod(spatial(y)))

    def _ops(self, weights: int, positions: int) -> Ops:
        """``weights`` (Σ over output maps of their fan-in) products at every position."""
        mults = weights * positions
        return Ops(
            mults=mults,
            adds=mults - self.out_channels * positions,
            bias_adds=self.out_channels * positions if self.bias else 0,
            macs=mults,
        )

    def connections(self, x: Shape, y: Shape) -> int:
        return self._connections(self.weights(x), prod(spatial(y)))

    def _connections(self, weights: int, positions: int) -> int:
        """Each output's weighted inputs plus its bias (LeNet-5's count)."""
        return (weights + self.out_channels * self.bias) * positions

    def counts(self, xs: tuple[Shape, ...], y: Shape) -> tuple[Ops, list[StateEntry], int]:
        """The kernel and the weights read once for the operations, state and connections."""
        x = xs[0]
        k = per_axis(self.kernel, len(x) - 1, "kernel")
        weights, positions = self._weights(x, k), prod(spatial(y))
        return (
            self._ops(weights, positions),
            self._state(x, k),
            self._connections(weights, positions),
        )

    def weights(self, x: Shape) -> int:
        return self._weights(x, per_axis(self.kernel, len(x) - 1, "kernel"))

    def _weights(self, x: Shape, k: Shape) -> int:
        """Σ over output maps of the input maps each sees, times the kernel's taps."""
        return self.inputs_seen(x) * prod(k)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX: Wᵀ·δ then col2im (PyTorch's slow_conv2d backward), every product accumulated
        once: MACs mults and MACs adds. dW: each forward product once more (x·δ), summed."""
        macs = self.ops(x, y).macs * batch
        return Backward(
            Ops(mults=macs, adds=macs, macs=macs),
            weight_grads(
                macs // batch,
                self.weights(x),
                self.out_channels * self.bias,
                prod(spatial(y)),
                batch,
            ),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input, for dW (and its weight, which is a parameter)."""
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self.explain_sizes(x, y)
        ndim = len(x) - 1
        k = per_axis(self.kernel, ndim, "kernel")
        c_o, out = self.out_channels, spatial(y)
        sym_k, sym_o = axis_symbols("k_", ndim), axis_symbols("", ndim, "_o")
        b = " + 1" if self.bias else ""
        ops = self.ops(x, y)
        if self.table is not None:
            groups = table_groups(self.table_rows(), x[0])
            kernel = prod(k)
            sub = " + ".join(
                f"{count}·({n}·{kernel}{'+1' if self.bias else ''})" for count, n in groups
            )
            lines.append(
                Formula(
                    "params",
                    f"Σ (|inputs|·{sym_k}{b})",
                    sub,
                    str(self.params(x)),
                    "partial connection table: each output map sees only its inputs",
                )
            )
            seen = " + ".join(f"{count}·{n}" for count, n in groups)
            fan, fan_sub = f"{sym_o}·(Σ |inputs|)·{sym_k}", f"{dotted(*out)}·({seen})·{dotted(*k)}"
            reduce = (f"MACs − c_o·{sym_o}", f"{ops.macs} − {dotted(c_o, *out)}")
            links = (
                f"{sym_o}·Σ (|inputs|·{sym_k}{b})",
                f"{dotted(*out)}·{self.inputs_seen(x) * kernel + c_o * self.bias}",
            )
        else:
            per = x[0] // self.groups
            sym_c = "(c_i/g)" if self.groups > 1 else "c_i"
            lines.append(
                Formula(
                    "params",
                    f"c_o·({sym_c}·{sym_k}{b})",
                    f"{c_o}·({per}·{dotted(*k)}{b})",
                    str(self.params(x)),
                )
            )
            fan, fan_sub = f"c_o·{sym_o}·{sym_c}·{sym_k}", dotted(c_o, *out, per, *k)
            reduce = (
                f"c_o·{sym_o}·({sym_c}·{sym_k} − 1)",
                f"{dotted(c_o, *out)}·({dotted(per, *k)} − 1)",
            )
            links = (
                f"c_o·{sym_o}·({sym_c}·{sym_k}{b})",
                f"{dotted(c_o, *out)}·({dotted(per, *k)}{b})",
            )
        lines.append(
            op_line("macs", fan, fan_sub, ops.macs, "one per weight use, the bias not counted")
        )
        lines.append(op_line("mults", fan, fan_sub, ops.mults))
        lines.append(op_line("adds", *reduce, ops.adds, "n − 1 per output of fan-in n"))
        if self.bias:
            lines.append(op_line("bias_adds", f"c_o·{sym_o}", dotted(c_o, *out), ops.bias_adds))
        lines.append(
            Formula(
                "connections",
                *links,
                str(self.connections(x, y)),
                "each output's weighted inputs plus its bias, as LeNet-5 counts them",
            )
        )
        return lines


def table_groups(rows: list[list[int]], c_in: int) -> list[tuple[int, int]]:
    """Consecutive rows of the same size and the same shape (cyclically contiguous
    or not), as (how many, size): LeNet-5's C3 reads 6·3, 6·4, 3·4, 1·6."""

    def contiguous(row: list[int]) -> bool:
        members = set(row)
        return any(
            all((start + i) % c_in in members for i in range(len(row))) for start in range(c_in)
        )

    groups: list[list] = []
    for row in rows:
        key = (len(row), contiguous(row))
        if groups and groups[-1][0] == key:
            groups[-1][1] += 1
        else:
            groups.append([key, 1])
    return [(count, key[0]) for key, count in groups]


LENET5_C3_TABLE = [
    [0, 1, 2],
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 5],
    [0, 4, 5],
    [0, 1, 5],
    [0, 1, 2, 3],
    [1, 2, 3, 4],
    [2, 3, 4, 5],
    [0, 3, 4, 5],
    [0, 1, 4, 5],
    [0, 1, 2, 5],
    [0, 1, 3, 4],
    [1, 2, 4, 5],
    [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]
"""LeCun et al. 1998, Table I: the S2 maps (rows of the paper) each C3 map takes."""


class Deconv(Kind):
    """Transposed convolution (PyTorch's ConvTranspose), counted on its input."""

    kind: ClassVar[str] = "deconv"
    main: ClassVar[str] = "out_channels"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "transposed convolution: each input scatters a kernel-sized patch"
    formula: ClassVar[str] = (
        "n_o = (n − 1)·s − 2p + d·(k − 1) + output_padding + 1 per axis; "
        "params c_i·(c_o/g)·∏k + c_o"
    )

    out_channels: Size
    kernel: Sizes
    stride: Sizes = 1
    padding: Union[NonNeg, list[NonNeg]] = 0
    output_padding: Union[NonNeg, list[NonNeg]] = 0
    dilation: Sizes = 1
    groups: Size = 1
    bias: bool = True

    def geometry(self, x: Shape) -> TransposedGeometry:
        """Kernel, stride, dilation, padding and output padding per axis on input ``x``."""
        ndim = needs_spatial(x, self.kind)
        k = per_axis(self.kernel, ndim, "kernel")
        s = per_axis(self.stride, ndim, "stride")
        d = per_axis(self.dilation, ndim, "dilation")
        p = per_axis(self.padding, ndim, "padding")
        op = per_axis(self.output_padding, ndim, "output_padding")
        return TransposedGeometry(kernel=k, stride=s, dilation=d, padding=p, output_padding=op)

    def out_shape(self, x: Shape) -> Shape:
        if x[0] % self.groups or self.out_channels % self.groups:
            raise CnnCalcError(
                f"groups {self.groups} must divide both the input channels {x[0]} "
                f"and the output channels {self.out_channels}",
                field="groups",
            )
        g = self.geometry(x)
        ndim, k, s, d, p, op = g.ndim, g.kernel, g.stride, g.dilation, g.padding, g.output_padding
        sizes = []
        for axis, n, kk, ss, dd, pp, oo in zip(AXES[ndim], spatial(x), k, s, d, p, op):
            if oo >= max(ss, dd):
                raise CnnCalcError(
                    f"output_padding {oo} must be smaller than the stride {ss} or the "
                    f"dilation {dd} along {axis}",
                    field="output_padding",
                )
            out = (n - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1
            if out < 1:
                raise CnnCalcError(
                    f"padding {pp} crops away the whole output along {axis}: "
                    f"({n} − 1)·{ss} − 2·{pp} + {dd}·({kk} − 1) + {oo} + 1 = {out}",
                    field="padding",
                )
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
        k = self.geometry(x).kernel
        landed, hit = self._reach(x, y)
        per_out = self.out_channels // self.groups
        mults = x[0] * per_out * landed
        return Ops(
            mults=mults,
            adds=mults - self.out_channels * hit,
            bias_adds=prod(y) if self.bias else 0,
            macs=prod(x) * per_out * prod(k),
        )

    def _reach(self, x: Shape, y: Shape) -> tuple[int, int]:
        """(products of one input map and one kernel that land in an output map,
        output positions that receive at least one), over all spatial axes."""
        g = self.geometry(x)
        k, s, d, p = g.kernel, g.stride, g.dilation, g.padding
        landed, hit = 1, 1
        for n, kk, ss, dd, pp, out in zip(spatial(x), k, s, d, p, spatial(y)):
            a, b = transposed_reach(n, kk, ss, dd, pp, out)
            landed *= a
            hit *= b
        return landed, hit

    def weights(self, x: Shape) -> int:
        return (
            x[0]
            * (self.out_channels // self.groups)
            * prod(per_axis(self.kernel, len(x) - 1, "kernel"))
        )

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
        return Backward(
            Ops(mults=macs, adds=macs - prod(x) * batch, macs=macs),
            weight_grads(
                macs // batch,
                self.weights(x),
                self.out_channels * self.bias,
                prod(spatial(y)),
                batch,
            ),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def connections(self, x: Shape, y: Shape) -> int:
        ops = self.ops(x, y)
        return ops.mults + ops.bias_adds

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        """Output o receives input i through tap j when i·s = o + p − j·d, so the taps that
        reach one output are those of one phase, s/g apart (g = gcd(d, s)): it sees inputs
        ⌊(k − 1)·g/s⌋·(d/g) + 1 apart from first to last (⌈k/s⌉ when d = 1). The field
        moves one input every s outputs: the jump is divided by s."""
        g = self.geometry(x)
        k_in = [
            (kk - 1) * gcd(dd, ss) // ss * (dd // gcd(dd, ss)) + 1
            for kk, dd, ss in zip(g.kernel, g.dilation, g.stride)
        ]
        # output 0 is centred on input (p − d·(k − 1)/2)/s; its field reaches k_in inputs
        before = [
            Fraction(k - 1, 2) - Fraction(2 * pp - dd * (kk - 1), 2 * ss)
            for k, kk, dd, ss, pp in zip(k_in, g.kernel, g.dilation, g.stride, g.padding)
        ]
        return field.slide(k_in, [Fraction(1, ss) for ss in g.stride], before)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        g = self.geometry(x)
        ndim, k, s, d, p, op = g.ndim, g.kernel, g.stride, g.dilation, g.padding, g.output_padding
        lines = []
        for axis, n, kk, ss, dd, pp, oo, out in zip(
            AXES[ndim], spatial(x), k, s, d, p, op, spatial(y)
        ):
            lines.append(
                Formula(
                    axis.upper(),
                    f"(n_{axis} − 1)·s − 2·p + d·(k − 1) + output_padding + 1",
                    f"({n} − 1)·{ss} − 2·{pp} + {dd}·({kk} − 1) + {oo} + 1",
                    str(out),
                )
            )
        c_i, c_o, per = x[0], self.out_channels, self.out_channels // self.groups
        sym_k, sym_o = axis_symbols("k_", ndim), axis_symbols("", ndim, "_o")
        b = (" + c_o", f" + {c_o}") if self.bias else ("", "")
        ops = self.ops(x, y)
        landed, hit = self._reach(x, y)
        lines.append(
            Formula(
                "params",
                f"c_i·(c_o/g)·{sym_k}{b[0]}",
                f"{dotted(c_i, per, *k)}{b[1]}",
                str(self.params(x)),
            )
        )
        lines.append(
            op_line(
                "macs",
                f"c_i·{axis_symbols('n_', ndim)}·(c_o/g)·{sym_k}",
                dotted(c_i, *spatial(x), per, *k),
                ops.macs,
                "counted on the input: every input scatters a whole kernel",
            )
        )
        lines.append(
            op_line(
                "mults",
                "c_i·(c_o/g)·(products that land in the output)",
                dotted(c_i, per, landed),
                ops.mults,
                "the padding crops the rest",
            )
        )
        lines.append(
            op_line(
                "adds",
                "mults − c_o·(output positions that receive a product)",
                f"{ops.mults} − {c_o}·{hit}",
                ops.adds,
            )
        )
        if self.bias:
            lines.append(
                op_line("bias_adds", f"c_o·{sym_o}", dotted(c_o, *spatial(y)), ops.bias_adds)
            )
        lines.append(
            Formula(
                "connections",
                "mults + bias adds",
                f"{ops.mults} + {ops.bias_adds}",
                str(self.connections(x, y)),
            )
        )
        return lines

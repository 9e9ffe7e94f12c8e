"""Pooling: max and average windows, LeNet-5's sub-sampling, global and adaptive pools."""

from typing import ClassVar, Literal, Union

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Field,
    Shape,
    adaptive_windows,
    per_axis,
    prod,
    window_taps,
)
from cnncalc.kinds.backward import INDEX_BYTES, Backward, Kept, Saved
from cnncalc.kinds.base import (
    AXES,
    Kind,
    Padding,
    Size,
    Sizes,
    Sliding,
    StateEntry,
    axis_symbols,
    dotted,
    fmt_shape,
    needs_spatial,
    op_line,
    spatial,
    weight_grads,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class Pool(Sliding):
    """Max or average pooling (PyTorch semantics, incl. ceil_mode)."""

    kind: ClassVar[str] = "pool"
    function: ClassVar[str] = "F.max_pool2d(x, ...) or F.avg_pool2d(x, ...) (1d, 3d alike)"
    main: ClassVar[str] = "mode"
    summary: ClassVar[str] = "max or average over each window"
    formula: ClassVar[str] = (
        "n_o = ⌊(n − k + p + s)/s⌋ per axis (⌈⌉ with ceil_mode; stride defaults to the "
        "kernel); no params"
    )

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
        g = self.geometry(x)
        ndim, k, d, pad = g.ndim, g.kernel, g.dilation, g.padding
        if self.mode == "avg" and any(v != 1 for v in d):
            raise CnnCalcError("average pooling has no dilation", field="dilation")
        if self.mode == "avg" and ndim == 3 and any(n < kk for n, kk in zip(spatial(x), k)):
            raise CnnCalcError(
                f"3-D average pooling needs every input extent ≥ its kernel (PyTorch's "
                f"avg_pool3d rule, padding aside): input {fmt_shape(spatial(x))}, kernel "
                f"{fmt_shape(k)}",
                field="kernel",
            )
        for axis, kk, (lo, hi) in zip(AXES[ndim], k, pad):
            if max(lo, hi) > kk // 2:
                raise CnnCalcError(
                    f"padding {max(lo, hi)} along {axis} is more than half the kernel {kk}",
                    field="padding",
                    hint=f"at most {kk // 2}, as PyTorch requires",
                )
        return (x[0],) + self.out_sizes(x, self.ceil_mode)

    def ops(self, x: Shape, y: Shape) -> Ops:
        """Per window of w visited elements: max w − 1 compares; avg w − 1 adds and 1 division."""
        taps, windows = self._taps(x, y), prod(spatial(y))
        reduce = x[0] * (taps - windows)
        if self.mode == "max":
            return Ops(compares=reduce)
        return Ops(adds=reduce, divs=x[0] * windows)

    def _taps(self, x: Shape, y: Shape, clip: bool | None = None) -> int:
        """Elements visited by all the windows of one map (``clip``: inside the input only)."""
        g = self.geometry(x)
        k, s, d, pad = g.kernel, g.stride, g.dilation, g.padding
        if clip is None:
            clip = self.mode == "avg" and not self.count_include_pad
        return prod(
            window_taps(n, kk, ss, dd, lo, hi, out, clip)
            for n, kk, ss, dd, (lo, hi), out in zip(spatial(x), k, s, d, pad, spatial(y))
        )

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
        lines = self.explain_sizes(x, y, self.ceil_mode)
        ndim, c = len(x) - 1, x[0]
        k = per_axis(self.kernel, ndim, "kernel")
        taps, windows = self._taps(x, y), prod(spatial(y))
        sym_o = axis_symbols("", ndim, "_o")
        if taps == windows * prod(k):
            reduce = (
                f"c·{sym_o}·({axis_symbols('k_', ndim)} − 1)",
                f"{dotted(c, *spatial(y))}·({dotted(*k)} − 1)",
                "w − 1 per window of w elements",
            )
        else:
            reduce = (
                "c·(elements visited − windows)",
                f"{c}·({taps} − {windows})",
                "windows cut at the border visit fewer elements",
            )
        field = "compares" if self.mode == "max" else "adds"
        lines.append(op_line(field, reduce[0], reduce[1], c * (taps - windows), reduce[2]))
        if self.mode == "avg":
            lines.append(
                op_line("divs", f"c·{sym_o}", dotted(c, *spatial(y)), c * windows, "one per window")
            )
        return lines


class Subsample(Sliding):
    """LeNet-5's trainable sub-sampling: y = a·(sum of a k×k window, stride k) + b, per map."""

    kind: ClassVar[str] = "subsample"
    main: ClassVar[str] = "kernel"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = (
        "LeNet-5 sub-sampling: window sum times a trainable coefficient plus a bias"
    )

    kernel: Size

    def _stride(self):
        return self.kernel

    def out_shape(self, x: Shape) -> Shape:
        return (x[0],) + self.out_sizes(x)

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
        return Backward(
            Ops(mults=outputs, adds=outputs * window, macs=outputs),
            weight_grads(prod(y), x[0], x[0], prod(spatial(y)), batch),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """The window sums (one per output), for the coefficient's gradient."""
        return Saved(extra=(Kept("window sums", prod(y) * batch),))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = self.explain_sizes(x, y)
        ndim, ops = len(x) - 1, self.ops(x, y)
        sym_o, outputs = f"c·{axis_symbols('', ndim, '_o')}", dotted(*y)
        window = ("·".join(["k"] * ndim), self.kernel**ndim)
        lines.append(
            Formula(
                "params", "2·c (a coefficient and a bias per map)", f"2·{x[0]}", str(self.params(x))
            )
        )
        lines.append(op_line("macs", sym_o, outputs, ops.macs, "one coefficient use per output"))
        lines.append(op_line("mults", sym_o, outputs, ops.mults))
        lines.append(
            op_line(
                "adds",
                f"{sym_o}·({window[0]} − 1)",
                f"{outputs}·({window[1]} − 1)",
                ops.adds,
                "the window sum",
            )
        )
        lines.append(op_line("bias_adds", sym_o, outputs, ops.bias_adds))
        lines.append(
            Formula(
                "connections",
                f"{sym_o}·({window[0]} + 1)",
                f"{outputs}·({window[1]} + 1)",
                str(self.connections(x, y)),
            )
        )
        return lines


class GlobalAvgPool(Kind):
    """Global average pooling: each map to its mean."""

    kind: ClassVar[str] = "gap"
    function: ClassVar[str] = "x.mean([2, 3]), the mean over the spatial axes"
    summary: ClassVar[str] = "global average pooling: each map to one number"
    formula: ClassVar[str] = "C×H×W → C, each map's mean; no params"

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
        return [
            Formula(
                "shape",
                "×".join(["c"] + ["1"] * ndim),
                "",
                fmt_shape(y),
                "each map averaged to one number",
            ),
            op_line(
                "adds",
                f"c·({axis_symbols('n_', ndim)} − 1)",
                f"{x[0]}·({dotted(*spatial(x))} − 1)",
                ops.adds,
            ),
            op_line("divs", "c", str(x[0]), ops.divs),
        ]


class Adaptive(Kind):
    """Adaptive pooling to a fixed output size (PyTorch's windows)."""

    kind: ClassVar[str] = "adaptive"
    function: ClassVar[str] = "F.adaptive_avg_pool2d(x, size) or F.adaptive_max_pool2d"
    main: ClassVar[str] = "size"
    summary: ClassVar[str] = "adaptive pooling to a fixed size"
    formula: ClassVar[str] = (
        "n → size per axis; window i spans ⌊i·n/size⌋ … ⌈(i + 1)·n/size⌉ (PyTorch); no params"
    )

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
        return prod(
            sum(e - s for s, e in adaptive_windows(n, o)) for n, o in zip(spatial(x), spatial(y))
        )

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
        lines = [
            Formula(
                "shape",
                "c×(the requested size)",
                "",
                fmt_shape(y),
                "windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉) as PyTorch takes them",
            ),
            op_line(
                field,
                "c·(elements visited − windows)",
                f"{c}·({taps} − {windows})",
                c * (taps - windows),
            ),
        ]
        if self.mode == "avg":
            lines.append(
                op_line(
                    "divs",
                    f"c·{axis_symbols('', ndim, '_o')}",
                    dotted(c, *spatial(y)),
                    c * windows,
                    "one per window",
                )
            )
        return lines

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        k = [max(e - s for s, e in adaptive_windows(n, o)) for n, o in zip(spatial(x), spatial(y))]
        s = [max(n // o, 1) for n, o in zip(spatial(x), spatial(y))]
        return field.slide(k, s)


# --------------------------------------------------------------------------- dense

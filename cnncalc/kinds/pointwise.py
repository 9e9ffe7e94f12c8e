"""Kinds that work element by element or along the channels: activations, softmax, BatchNorm, LRN, dropout."""

from __future__ import annotations

from typing import Annotated, ClassVar, Union

from pydantic import Field as PydField

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Shape,
    prod,
)
from cnncalc.kinds.backward import Backward, Kept, Saved
from cnncalc.kinds.base import (
    Kind,
    Number,
    Size,
    StateEntry,
    axis_symbols,
    dotted,
    op_line,
    spatial,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class _Elementwise(Kind):
    """A kind that performs the same few operations on every element."""

    per_element: ClassVar[dict[str, int]] = {}
    """Raw operations per element, by :class:`~cnncalc.kinds.ops.Ops` field."""
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
            lines.append(op_line(f, f"{times}elements", f"{times}{dotted(*x)}", count * prod(x)))
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
        at = (
            (f"·{axis_symbols('n_', ndim)}", "".join(f"·{v}" for v in spatial(x)))
            if ndim
            else ("", "")
        )
        return super().explain(x, y) + [
            op_line("exps", f"c{at[0]}", f"{c}{at[1]}", ops.exps),
            op_line(
                "adds", f"(c − 1){at[0]}", f"({c} − 1){at[1]}", ops.adds, "the sum of the exps"
            ),
            op_line("divs", f"c{at[0]}", f"{c}{at[1]}", ops.divs),
        ]


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
            raise CnnCalcError(
                f"says {self.channels} channels but its input has {x[0]}",
                field="batchnorm",
                hint="leave it empty to take the input's",
            )
        return x

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Training: x̂ = (x − μ)·σ⁻¹ recomputed (N adds, N mults), dγ = Σ δ·x̂, dβ = Σ δ over
        the m = N/c values of a channel (in dW); dX = γσ⁻¹/m·(m·δ − dβ − x̂·dγ): 3 mults and
        2 adds per element, 2 mults and 1 division per channel."""
        c, n = x[0], prod(x) * batch
        return Backward(
            Ops(mults=3 * n + 2 * c, adds=2 * n, divs=c),
            Ops(mults=2 * n, adds=2 * n - c, bias_adds=n - c),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input, and the batch mean and inverse standard deviation per channel."""
        return Saved(input=True, extra=(Kept("batch mean and 1/σ", 2 * x[0]),))

    def state(self, x: Shape) -> list[StateEntry]:
        c = (x[0],)
        return [
            StateEntry("weight", c),
            StateEntry("bias", c),
            StateEntry("running_mean", c, "buffer"),
            StateEntry("running_var", c, "buffer"),
            StateEntry("num_batches_tracked", (), "counter"),
        ]

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c = x[0]
        return [
            Formula("params", "2·c (γ and β per channel)", f"2·{c}", str(self.params(x))),
            Formula("buffers", "2·c (running mean and variance)", f"2·{c}", str(self.buffers(x))),
        ] + super().explain(x, y)


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
        return Ops(mults=(window + c) * positions, adds=window * positions, exps=n, divs=n)

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
        return Saved(
            input=True,
            extra=(
                Kept("padded squares", (x[0] + self.size - 1) * positions),
                Kept("k + α/n·Σa² and its power β", 2 * prod(x) * batch),
            ),
        )

    def _windows(self, c: int) -> int:
        """Σ over the channels of the window each one sums (clipped at both ends)."""
        return sum(
            min(c, i + (self.size - 1) // 2 + 1) - max(0, i - self.size // 2) for i in range(c)
        )

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c, ndim, ops = x[0], len(x) - 1, self.ops(x, y)
        at, positions = axis_symbols("n_", ndim), dotted(*spatial(x))
        w = self._windows(c)
        return super().explain(x, y) + [
            op_line(
                "mults",
                f"(Σ_c w_c + c)·{at}",
                f"({w} + {c})·{positions}",
                ops.mults,
                "a square per window element, one scale per element; w_c is channel c's "
                f"window of {self.size}, cut at the ends",
            ),
            op_line("adds", f"Σ_c w_c·{at}", f"{w}·{positions}", ops.adds),
            op_line("exps", "elements", dotted(*x), ops.exps, "the power β"),
            op_line("divs", "elements", dotted(*x), ops.divs),
        ]


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

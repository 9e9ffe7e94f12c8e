"""Kinds that work element by element or along the channels: activations, softmax,
normalisations (batch, layer, group, instance), LRN, dropout and drop path, layer scale,
and a Linear applied at every position."""

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union

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
    fmt_shape,
    op_line,
    spatial,
    weight_grads,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class _Elementwise(Kind):
    """A kind that performs the same few operations on every element."""

    __slots__ = ("_element_counts",)
    """:meth:`element_counts`, worked out once per layer object (a slot, not a field)."""
    if TYPE_CHECKING:
        _element_counts: ClassVar[Ops]

    per_element: ClassVar[dict[str, int]] = {}
    """Raw operations per element, by :class:`~cnncalc.kinds.ops.Ops` field."""
    backward_per_element: ClassVar[dict[str, int]] = {}
    """Raw operations of dX per element."""
    keeps: ClassVar[str] = "output"
    """What PyTorch's backward of the function reads: its 'input' or its 'output'."""

    def element_ops(self) -> dict[str, int]:
        """Raw operations per element (a kind whose count depends on an option overrides)."""
        return self.per_element

    def element_backward(self) -> dict[str, int]:
        return self.backward_per_element

    def element_counts(self) -> Ops:
        """:meth:`element_ops` as an :class:`Ops`, kept after the first call (it reads only
        the options, which never change)."""
        try:
            return self._element_counts
        except AttributeError:
            value = Ops(**self.element_ops())
            object.__setattr__(self, "_element_counts", value)
            return value

    def ops(self, x: Shape, y: Shape) -> Ops:
        """elements · the operations of one element."""
        return self.element_counts().times(prod(x))

    def counts(self, xs: tuple[Shape, ...], y: Shape) -> tuple[Ops, list[StateEntry], int]:
        x = xs[0]
        return self.element_counts().times(prod(x)), self.state(x), self.connections(x, y)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        n = prod(x) * batch
        return Backward(Ops(**{f: count * n for f, count in self.element_backward().items()}))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=self.keeps == "input", output=self.keeps == "output")

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        lines = super().explain(x, y)
        for f, count in self.element_ops().items():
            times = "" if count == 1 else f"{count}·"
            lines.append(op_line(f, f"{times}elements", f"{times}{dotted(*x)}", count * prod(x)))
        return lines


class Relu(_Elementwise):
    """max(0, x): one comparison per element."""

    kind: ClassVar[str] = "relu"
    function: ClassVar[str] = "F.relu(x)"
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


class Hardswish(_Elementwise):
    """x·min(max(x + 3, 0), 6)/6 (Howard et al. 2019, MobileNetV3; PyTorch's Hardswish):
    per element 1 add, 2 compares, 1 mult, 1 division."""

    kind: ClassVar[str] = "hardswish"
    summary: ClassVar[str] = "x·relu6(x + 3)/6"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "adds": 1, "compares": 2, "divs": 1}
    backward_per_element: ClassVar[dict[str, int]] = {
        "mults": 2,
        "adds": 1,
        "compares": 2,
        "divs": 1,
    }
    """δ·(2x + 3)/6 where −3 < x < 3, δ above (PyTorch's hardswish_backward reads the input)."""
    keeps: ClassVar[str] = "input"


class Hardsigmoid(_Elementwise):
    """min(max(x + 3, 0), 6)/6 (MobileNetV3's gate; PyTorch's Hardsigmoid): per element
    1 add, 2 compares, 1 division."""

    kind: ClassVar[str] = "hardsigmoid"
    summary: ClassVar[str] = "relu6(x + 3)/6"
    per_element: ClassVar[dict[str, int]] = {"adds": 1, "compares": 2, "divs": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"compares": 2, "divs": 1}
    """δ/6 where −3 < x < 3 (PyTorch's hardsigmoid_backward reads the input)."""
    keeps: ClassVar[str] = "input"


class Silu(_Elementwise):
    """x·σ(x) = x/(1 + e^−x) (SiLU, "swish"; PyTorch's SiLU): per element 1 exp, 1 add,
    1 division."""

    kind: ClassVar[str] = "silu"
    summary: ClassVar[str] = "x·sigmoid(x), also called swish"
    per_element: ClassVar[dict[str, int]] = {"adds": 1, "divs": 1, "exps": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 3, "adds": 3, "divs": 1, "exps": 1}
    """s = 1/(1 + e^−x), δ·s·(1 + x·(1 − s)) (PyTorch's silu_backward reads the input)."""
    keeps: ClassVar[str] = "input"


class Gelu(_Elementwise):
    """x·Φ(x) (Hendrycks and Gimpel 2016; PyTorch's GELU), erf and tanh counted as the
    transcendental functions they are (an erf is one 'exp', a tanh 2 exps, 2 adds, 1 division
    as the tanh kind counts it). Per element, exact: x·(1/√2), erf, 1 +, ·0.5, ·x:
    3 mults, 1 add, 1 exp. approximate 'tanh': 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))):
    6 mults, 4 adds, 2 exps, 1 division."""

    kind: ClassVar[str] = "gelu"
    main: ClassVar[str] = "approximate"
    summary: ClassVar[str] = "x·Φ(x), exact (erf) or its tanh approximation"

    approximate: Literal["none", "tanh"] = "none"

    def element_ops(self) -> dict[str, int]:
        if self.approximate == "tanh":
            return {"mults": 6, "adds": 4, "divs": 1, "exps": 2}
        return {"mults": 3, "adds": 1, "exps": 1}

    def element_backward(self) -> dict[str, int]:
        """δ·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π); tanh: PyTorch's gelu_backward
        formula, t = tanh(inner): δ·(0.5·(1 + t) + 0.5·x·(1 − t²)·β·(1 + 3κ·x²))."""
        if self.approximate == "tanh":
            return {"mults": 12, "adds": 7, "divs": 1, "exps": 2}
        return {"mults": 7, "adds": 2, "exps": 2}

    keeps: ClassVar[str] = "input"


class LeakyRelu(_Elementwise):
    """x if x > 0 else slope·x (PyTorch's LeakyReLU): per element 1 compare and 1 mult
    (the product is made for every element, as a branch-free kernel does)."""

    kind: ClassVar[str] = "leaky_relu"
    main: ClassVar[str] = "negative_slope"
    summary: ClassVar[str] = "x if x > 0 else slope·x"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "compares": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 1, "compares": 1}
    """δ or slope·δ by the sign of x (PyTorch's leaky_relu_backward reads the input)."""
    keeps: ClassVar[str] = "input"

    negative_slope: Number = 0.01


class Elu(_Elementwise):
    """x if x > 0 else α·(e^x − 1) (Clevert et al. 2016; PyTorch's ELU): per element
    1 compare, 1 exp, 1 add, 1 mult (both sides made, as a branch-free kernel does)."""

    kind: ClassVar[str] = "elu"
    main: ClassVar[str] = "alpha"
    summary: ClassVar[str] = "x if x > 0 else α·(e^x − 1)"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "adds": 1, "compares": 1, "exps": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 2, "compares": 1, "exps": 1}
    """δ or δ·α·e^x by the sign of x (PyTorch's elu_backward reads the input)."""
    keeps: ClassVar[str] = "input"

    alpha: Number = 1.0


class Prelu(_Elementwise):
    """x if x > 0 else a·x with a learnt slope a, one for every channel or one for all
    (He et al. 2015; PyTorch's PReLU, ``weight`` of shape (num_parameters,)): per element
    1 compare and 1 mult."""

    kind: ClassVar[str] = "prelu"
    main: ClassVar[str] = "num_parameters"
    summary: ClassVar[str] = "x if x > 0 else a·x, a learnt (1 or C slopes)"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "compares": 1}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 1, "compares": 1}
    keeps: ClassVar[str] = "input"

    num_parameters: Size = 1
    init: Number = 0.25

    def out_shape(self, x: Shape) -> Shape:
        if self.num_parameters not in (1, x[0]):
            raise CnnCalcError(
                f"has {self.num_parameters} slopes but its input has {x[0]} channels",
                field="prelu",
                hint=f"use 1 (one slope for all) or {x[0]} (one per channel)",
            )
        return x

    def state(self, x: Shape) -> list[StateEntry]:
        return [StateEntry("weight", (self.num_parameters,))]

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX: δ or a·δ (1 compare, 1 mult per element); da: Σ δ·x over the elements each
        slope serves (x ≤ 0 elements contribute, counted for all): N mults, N − a adds."""
        n = prod(x) * batch
        return Backward(
            Ops(mults=n, compares=n), Ops(mults=n, adds=n - self.num_parameters, compares=n)
        )

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return [
            Formula(
                "params",
                "num_parameters (1 or c)",
                str(self.num_parameters),
                str(self.params(x)),
            )
        ] + super().explain(x, y)


class Mish(_Elementwise):
    """x·tanh(ln(1 + e^x)) (Misra 2019; PyTorch's Mish), a log counted as one 'exp' and a tanh
    as the tanh kind counts it: per element 4 exps (e^x, ln, 2 in tanh), 3 adds, 1 division,
    1 mult."""

    kind: ClassVar[str] = "mish"
    summary: ClassVar[str] = "x·tanh(softplus(x))"
    per_element: ClassVar[dict[str, int]] = {"mults": 1, "adds": 3, "divs": 1, "exps": 4}
    backward_per_element: ClassVar[dict[str, int]] = {"mults": 4, "adds": 6, "divs": 2, "exps": 5}
    """t = tanh(softplus(x)), s = σ(x): δ·(t + x·s·(1 − t²)) (PyTorch's mish_backward reads
    the input)."""
    keeps: ClassVar[str] = "input"


class Identity(Kind):
    """The identity (PyTorch's nn.Identity): no operations, its output is its input."""

    kind: ClassVar[str] = "identity"
    summary: ClassVar[str] = "the identity"

    def is_view(self) -> bool:
        return True


class LogSoftmax(Kind):
    """log of the softmax over the channels, x_i − ln Σ_j e^(x_j): per vector of n, n exps
    and 1 log (n + 1 'exps'), n − 1 adds for the sum and n subtractions (2n − 1 adds)."""

    kind: ClassVar[str] = "log_softmax"
    summary: ClassVar[str] = "log-softmax over the channels"

    def ops(self, x: Shape, y: Shape) -> Ops:
        n, vectors = x[0], prod(spatial(x))
        return Ops(adds=(2 * n - 1) * vectors, exps=(n + 1) * vectors)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX = δ − e^y·Σδ per vector of n: n exps, n mults, (n − 1) + n adds
        (PyTorch's _log_softmax_backward_data reads the output)."""
        n, vectors = x[0], prod(spatial(x)) * batch
        return Backward(Ops(mults=n * vectors, adds=(2 * n - 1) * vectors, exps=n * vectors))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(output=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        c, ops, ndim = x[0], self.ops(x, y), len(x) - 1
        at, values = (
            (f"·{axis_symbols('n_', ndim)}", "".join(f"·{v}" for v in spatial(x)))
            if ndim
            else ("", "")
        )
        return super().explain(x, y) + [
            op_line("exps", f"(c + 1){at}", f"({c} + 1){values}", ops.exps, "c exps and a log"),
            op_line(
                "adds",
                f"(2·c − 1){at}",
                f"(2·{c} − 1){values}",
                ops.adds,
                "the sum of the exps, then x − log Σ",
            ),
        ]


# --------------------------------------------------------------------------- normalisations


class Normalization(Kind):
    """Normalisation by statistics of the sample itself (layer, group, instance norm):
    per group of m elements, mean μ = Σx/m, variance σ² = Σ(x − μ)²/m, x̂ = (x − μ)·1/√(σ² + ε).

    Raw operations per group: mean m − 1 adds, 1 division; x − μ m adds; squares m mults,
    their sum m − 1 adds, 1 division; + ε 1 add; √ 1 'exp'; 1/√ 1 division; ·1/√ m mults:
    2m mults, 3m − 1 adds, 3 divisions, 1 exp. An affine γ·x̂ + β adds m mults and m adds."""

    eps: Number = 1e-5

    def norm_groups(self, x: Shape) -> tuple[int, int]:
        """(groups, elements per group) of one sample."""
        raise NotImplementedError

    def affine_ops(self) -> tuple[int, int]:
        """(mults, adds) per element of the affine step."""
        return (0, 0)

    def statistics_ops(self, x: Shape) -> Ops:
        groups, m = self.norm_groups(x)
        scale, shift = self.affine_ops()
        n = groups * m
        return Ops(
            mults=2 * n + scale * n,
            adds=(3 * m - 1) * groups + shift * n,
            divs=3 * groups,
            exps=groups,
        )

    def ops(self, x: Shape, y: Shape) -> Ops:
        return self.statistics_ops(x)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """x̂ recomputed (N adds, N mults); δ' = γ·δ (N mults, affine only); per group the
        sums Σδ' and Σδ'·x̂ (N mults, 2(N − G) adds) and their means (2 divisions);
        dX = (δ' − mean δ' − x̂·mean δ'x̂)/σ: 2 mults, 2 adds per element. dγ = Σδ·x̂,
        dβ = Σδ over the N/P elements of each of the P values (N mults, N − P adds each)."""
        groups, m = self.norm_groups(x)
        g, n = groups * batch, groups * m * batch
        scale, shift = self.affine_ops()
        dx = Ops(mults=4 * n + scale * n, adds=n + 2 * (n - g) + 2 * n, divs=2 * g)
        p = self.params(x)
        gamma, beta = (p // 2, p // 2) if shift else (p, 0)
        dw = Ops(
            mults=n if gamma else 0,
            adds=n - gamma if gamma else 0,
            bias_adds=n - beta if beta else 0,
        )
        return Backward(dx, dw)

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """Its input, and per group of each sample the mean and 1/σ (PyTorch's
        native_layer_norm and native_group_norm). A strided input (a crop) is kept as the
        view it is, as PyTorch 2.14 keeps it (instance norm copies it: InstanceNorm)."""
        groups, _ = self.norm_groups(x)
        return Saved(input=True, extra=(Kept("mean and 1/σ", 2 * groups * batch),))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        groups, m = self.norm_groups(x)
        scale, shift = self.affine_ops()
        ops = self.ops(x, y)
        affine = " + m" if scale else ""
        lines = [Formula("shape", "input shape", "", fmt_shape(y))]
        if self.params(x):
            lines.append(Formula("params", self.params_symbol(), "", str(self.params(x))))
        return lines + [
            op_line(
                "mults",
                f"G·(2·m{affine})",
                f"{groups}·(2·{m}{' + ' + str(m) if scale else ''})",
                ops.mults,
                f"G = {groups} groups of m = {m} elements; squares and ·1/σ"
                + (", then γ" if scale else ""),
            ),
            op_line(
                "adds",
                f"G·(3·m − 1{' + m' if shift else ''})",
                f"{groups}·(3·{m} − 1{' + ' + str(m) if shift else ''})",
                ops.adds,
                "Σx, x − μ, Σ(x − μ)², + ε" + (", then β" if shift else ""),
            ),
            op_line("divs", "3·G", f"3·{groups}", ops.divs, "the mean, the variance, 1/σ"),
            op_line("exps", "G", str(groups), ops.exps, "the square root"),
        ]

    def params_symbol(self) -> str:
        return ""


def single_value_groups(layer: Normalization, x: Shape, field: str) -> Shape:
    """A group or instance norm whose groups hold one value each normalises every value to
    0 (the output is β whatever the input); PyTorch refuses it ("Expected more than 1 value
    per channel"), and so does cnncalc."""
    groups, m = layer.norm_groups(x)
    if m == 1:
        raise CnnCalcError(
            f"each of its {groups} groups holds a single value of the {fmt_shape(x)} input: "
            "normalised, every value would be 0",
            field=field,
            hint="normalise over more values (fewer groups, or a larger map)",
        )
    return x


class LayerNorm(Normalization):
    """Layer normalisation (Ba et al. 2016). ``over: channels`` normalises the c channels
    at each position (ConvNeXt's LayerNorm2d, an nn.LayerNorm over the last axis after a
    permute); ``over: k`` the last k axes of the (C, …) map, as nn.LayerNorm(shape[-k:]).
    γ and β have the normalised shape (``weight``, ``bias``); no buffers."""

    kind: ClassVar[str] = "layernorm"
    main: ClassVar[str] = "over"
    summary: ClassVar[str] = "layer normalisation over the channels or the last axes"
    channels_last: ClassVar[str] = "nn.LayerNorm(c) between permutes (ConvNeXt's block)"

    over: Union[Literal["channels"], Size] = "channels"
    elementwise_affine: bool = True
    bias: bool = True

    def count_keys(self) -> tuple[str, ...]:
        """Over the channels of a map it is PyTorch's LayerNorm2d, a subclass of nn.LayerNorm
        that the tools which look a module's class up exactly do not know; with
        ``call: channels_last`` it is nn.LayerNorm itself on the permuted map."""
        if self.over == "channels" and self.call != "channels_last":
            return ("layernorm.channels", "layernorm")
        return ("layernorm",)

    def normalized_shape(self, x: Shape) -> Shape:
        if self.over != "channels" and self.call == "channels_last":
            raise CnnCalcError(
                "call: channels_last normalises the channels, moved last",
                field="call",
                hint="write {layernorm: channels, call: channels_last}",
            )
        return self._normalized_shape(x)

    def _normalized_shape(self, x: Shape) -> Shape:
        if self.over == "channels":
            return (x[0],)
        if self.over > len(x):
            raise CnnCalcError(
                f"normalises the last {self.over} axes but its input {fmt_shape(x)} has {len(x)}",
                field="layernorm",
                hint=f"at most {len(x)}, or 'channels'",
            )
        return x[len(x) - self.over :]

    def out_shape(self, x: Shape) -> Shape:
        self.normalized_shape(x)
        return x

    def norm_groups(self, x: Shape) -> tuple[int, int]:
        m = prod(self.normalized_shape(x))
        return prod(x) // m, m

    def affine_ops(self) -> tuple[int, int]:
        return (1, 1 if self.bias else 0) if self.elementwise_affine else (0, 0)

    def state(self, x: Shape) -> list[StateEntry]:
        if not self.elementwise_affine:
            return []
        shape = self.normalized_shape(x)
        return [StateEntry("weight", shape)] + ([StateEntry("bias", shape)] if self.bias else [])

    def params_symbol(self) -> str:
        return f"{'2' if self.bias else '1'}·(normalised elements)"


class GroupNorm(Normalization):
    """Group normalisation (Wu and He 2018; PyTorch's GroupNorm): the c channels in G groups,
    each group of c/G channels normalised over its channels and positions; γ and β per
    channel (``weight``, ``bias``), no buffers."""

    kind: ClassVar[str] = "groupnorm"
    main: ClassVar[str] = "groups"
    summary: ClassVar[str] = "group normalisation (G groups of channels)"

    groups: Size
    affine: bool = True

    def out_shape(self, x: Shape) -> Shape:
        if x[0] % self.groups:
            raise CnnCalcError(
                f"{self.groups} groups do not divide the input's {x[0]} channels",
                field="groupnorm",
            )
        return single_value_groups(self, x, "groupnorm")

    def norm_groups(self, x: Shape) -> tuple[int, int]:
        return self.groups, prod(x) // self.groups

    def affine_ops(self) -> tuple[int, int]:
        return (1, 1) if self.affine else (0, 0)

    def state(self, x: Shape) -> list[StateEntry]:
        c = (x[0],)
        return [StateEntry("weight", c), StateEntry("bias", c)] if self.affine else []

    def params_symbol(self) -> str:
        return "2·c (γ and β per channel)"


class InstanceNorm(Normalization):
    """Instance normalisation (Ulyanov et al. 2016; PyTorch's InstanceNorm1d/2d/3d): each
    channel of each sample over its positions. ``affine`` adds γ and β per channel;
    ``track_running_stats`` keeps running mean and variance (and a counter), and then
    inference uses them, folded as BatchNorm's into 1 mult and 1 add per element."""

    kind: ClassVar[str] = "instancenorm"
    summary: ClassVar[str] = "instance normalisation (each map of each sample)"
    copies_strided_input: ClassVar[bool] = True  # F.instance_norm: input.contiguous().view()

    affine: bool = False
    track_running_stats: bool = False
    momentum: Number = 0.1

    def out_shape(self, x: Shape) -> Shape:
        if len(x) < 2:
            raise CnnCalcError(
                f"instance normalisation needs positions, but its input is {fmt_shape(x)}",
                field="instancenorm",
            )
        return single_value_groups(self, x, "instancenorm")

    def norm_groups(self, x: Shape) -> tuple[int, int]:
        return x[0], prod(spatial(x))

    def affine_ops(self) -> tuple[int, int]:
        return (1, 1) if self.affine else (0, 0)

    def ops(self, x: Shape, y: Shape) -> Ops:
        if self.track_running_stats:
            return Ops(mults=prod(x), adds=prod(x))
        return self.statistics_ops(x)

    def state(self, x: Shape) -> list[StateEntry]:
        c = (x[0],)
        entries = [StateEntry("weight", c), StateEntry("bias", c)] if self.affine else []
        if self.track_running_stats:
            entries += [
                StateEntry("running_mean", c, "buffer"),
                StateEntry("running_var", c, "buffer"),
                StateEntry("num_batches_tracked", (), "counter"),
            ]
        return entries

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """PyTorch runs it as a batch norm of the (1, N·c, …) reshaped input: it keeps the
        input, the batch mean and 1/σ of each of the N·c maps, and the tensors it repeats
        N times to make that batch norm's (new tensors, not the parameter and buffers): γ
        with ``affine``, the running mean and variance with ``track_running_stats``."""
        c = x[0]
        extra = [Kept("mean and 1/σ", 2 * c * batch)]
        if self.affine:
            extra.append(Kept("γ repeated per sample", c * batch))
        if self.track_running_stats:
            extra.append(Kept("running mean and variance repeated per sample", 2 * c * batch))
        return Saved(input=True, extra=tuple(extra))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        if not self.track_running_stats:
            return super().explain(x, y)
        ops = self.ops(x, y)
        return [
            Formula("shape", "input shape", "", fmt_shape(y)),
            op_line("mults", "elements", dotted(*x), ops.mults, "running statistics, folded"),
            op_line("adds", "elements", dotted(*x), ops.adds),
        ]

    def params_symbol(self) -> str:
        return "2·c (γ and β per channel)"


# --------------------------------------------------------------------------- scale and drop


class DropPath(Kind):
    """Stochastic depth / drop path (Huang et al. 2016; torchvision's StochasticDepth):
    in training a whole sample's branch is dropped with probability p and the survivors
    scaled by 1/(1 − p); the identity at inference, no operations."""

    kind: ClassVar[str] = "drop_path"
    main: ClassVar[str] = "p"
    summary: ClassVar[str] = "stochastic depth (identity at inference)"

    p: Annotated[float, PydField(ge=0, lt=1)] = 0.0
    mode: Literal["row", "batch"] = "row"

    def is_view(self) -> bool:
        return self.p == 0

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """δ times each sample's kept-and-scaled factor: one mult per element (none at p = 0)."""
        return Backward() if self.p == 0 else Backward(Ops(mults=prod(x) * batch))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """The factor it multiplied by: one value per sample ('row') or one ('batch')."""
        if self.p == 0:
            return Saved()
        return Saved(extra=(Kept("noise", batch if self.mode == "row" else 1),))


class LayerScale(Kind):
    """Layer scale (Touvron et al. 2021; ConvNeXt's CNBlock): y = γ·x with one learnt γ per
    channel, of shape (c, 1, …) as torchvision stores it, an ``nn.Parameter`` named by the
    layer itself (name it ``BLOCK.layer_scale``): c parameters, 1 mult per element."""

    kind: ClassVar[str] = "layer_scale"
    main: ClassVar[str] = "init"
    summary: ClassVar[str] = "y = γ·x, one learnt γ per channel"

    init: Number = 1e-6

    def state(self, x: Shape) -> list[StateEntry]:
        return [StateEntry("", (x[0],) + (1,) * (len(x) - 1))]

    def ops(self, x: Shape, y: Shape) -> Ops:
        return Ops(mults=prod(x))

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX = γ·δ (N mults); dγ = Σ δ·x over the N/c elements of each channel
        (N mults, N − c adds)."""
        n = prod(x) * batch
        return Backward(Ops(mults=n), Ops(mults=n, adds=n - x[0]))

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return [
            Formula("shape", "input shape", "", fmt_shape(y)),
            Formula("params", "c (one γ per channel)", str(x[0]), str(self.params(x))),
            op_line("mults", "elements", dotted(*x), prod(x)),
        ]


class Linear(Kind):
    """A Linear applied at every position, over the channels (ConvNeXt's pointwise
    ``nn.Linear`` between two permutes; the same arithmetic as a 1×1 conv but the
    state_dict of nn.Linear: ``weight`` [out, in], ``bias`` [out]). Per position with
    c inputs: out·c MACs (out·c mults, out·(c − 1) adds) and out bias adds."""

    kind: ClassVar[str] = "linear"
    main: ClassVar[str] = "out_features"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "nn.Linear over the channels at every position"

    out_features: Size
    bias: bool = True

    def out_shape(self, x: Shape) -> Shape:
        return (self.out_features,) + spatial(x)

    def state(self, x: Shape) -> list[StateEntry]:
        entries = [StateEntry("weight", (self.out_features, x[0]))]
        if self.bias:
            entries.append(StateEntry("bias", (self.out_features,)))
        return entries

    def weights(self, x: Shape) -> int:
        return self.out_features * x[0]

    def ops(self, x: Shape, y: Shape) -> Ops:
        c, positions = x[0], prod(spatial(x))
        uses = self.out_features * c * positions
        return Ops(
            mults=uses,
            adds=self.out_features * (c - 1) * positions,
            bias_adds=self.out_features * positions if self.bias else 0,
            macs=uses,
        )

    def connections(self, x: Shape, y: Shape) -> int:
        return (x[0] + self.bias) * prod(y)

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """As a 1×1 conv: dX = Wᵀ·δ at each position (out products summed per input);
        dW = δ·xᵀ summed over the batch and the positions."""
        c, positions = x[0], prod(spatial(x)) * batch
        macs = self.out_features * c * positions
        return Backward(
            Ops(mults=macs, adds=macs - c * positions, macs=macs),
            weight_grads(
                macs // batch,
                self.weights(x),
                self.out_features * self.bias,
                prod(spatial(x)),
                batch,
            ),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        b = " + 1" if self.bias else ""
        out, c, ops = self.out_features, x[0], self.ops(x, y)
        at = dotted(*spatial(x)) or "1"
        lines = [
            Formula("C", "out_features", "", str(out)),
            Formula("params", f"out·(in{b})", f"{out}·({c}{b})", str(self.params(x))),
            op_line("macs", "out·in·positions", f"{out}·{c}·{at}", ops.macs, "one per weight use"),
            op_line("mults", "out·in·positions", f"{out}·{c}·{at}", ops.mults),
            op_line("adds", "out·(in − 1)·positions", f"{out}·({c} − 1)·{at}", ops.adds),
        ]
        if self.bias:
            lines.append(op_line("bias_adds", "out·positions", f"{out}·{at}", ops.bias_adds))
        return lines

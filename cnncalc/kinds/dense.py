"""The kinds that see their whole input: flatten, fully connected, LeNet-5's RBF units."""

from typing import ClassVar

from cnncalc.kinds.arith import (
    Field,
    Shape,
    prod,
)
from cnncalc.kinds.backward import Backward, Saved
from cnncalc.kinds.base import (
    AXES,
    Kind,
    Size,
    StateEntry,
    dotted,
    fmt_shape,
    op_line,
    spatial,
    weight_grads,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops


class _Global(Kind):
    receptive_note: ClassVar[str] = "each unit sees its whole input: the window is the whole map"

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        """Every output depends on every input: a window as large as the map (the map a
        flatten before it flattened)."""
        if len(x) > 1:
            return field.whole(spatial(x))
        return field.whole(field.flattened) if field.flattened else field


class Flatten(_Global):
    """Flatten (C, H, W) to C·H·W features."""

    kind: ClassVar[str] = "flatten"
    function: ClassVar[str] = "torch.flatten(x, 1)"
    summary: ClassVar[str] = "flatten to a vector"
    formula: ClassVar[str] = "C×H×W → C·H·W; no params"

    receptive_note: ClassVar[str] = (
        "flatten only reorders: each feature is one position, so the field is unchanged"
    )

    def is_view(self) -> bool:
        return True

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field.flatten(spatial(x)) if len(x) > 1 else field

    def out_shape(self, x: Shape) -> Shape:
        return (prod(x),)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        symbolic = "·".join(["c"] + list(AXES.get(len(x) - 1, ())))
        return [Formula("features", symbolic, dotted(*x), str(y[0]))]


class Fc(_Global):
    """Fully connected (Linear); a non-flat input is flattened first."""

    kind: ClassVar[str] = "fc"
    main: ClassVar[str] = "out_features"
    weighted: ClassVar[bool] = True
    summary: ClassVar[str] = "fully connected layer of OUT units"
    formula: ClassVar[str] = "y = W·x + b; params n_in·n_out + n_out (n_in = C·H·W of its input)"

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
        return Ops(
            mults=n * self.out_features,
            adds=(n - 1) * self.out_features,
            bias_adds=self.out_features if self.bias else 0,
            macs=n * self.out_features,
        )

    def connections(self, x: Shape, y: Shape) -> int:
        return (prod(x) + self.bias) * self.out_features

    def weights(self, x: Shape) -> int:
        return prod(x) * self.out_features

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """dX = Wᵀ·δ: each input sums out products. dW = δ·xᵀ summed over the batch."""
        macs = prod(x) * self.out_features * batch
        return Backward(
            Ops(mults=macs, adds=macs - prod(x) * batch, macs=macs),
            weight_grads(macs // batch, self.weights(x), self.out_features * self.bias, 1, batch),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        b = " + 1" if self.bias else ""
        out, n, ops = self.out_features, dotted(*x), self.ops(x, y)
        note = f"a {fmt_shape(x)} input is flattened to {prod(x)} inputs" if len(x) > 1 else ""
        lines = [
            Formula("params", f"out·(in{b})", f"{out}·({n}{b})", str(self.params(x)), note),
            op_line("macs", "out·in", f"{out}·{n}", ops.macs, "one per weight use"),
            op_line("mults", "out·in", f"{out}·{n}", ops.mults),
            op_line("adds", "out·(in − 1)", f"{out}·({prod(x)} − 1)", ops.adds),
        ]
        if self.bias:
            lines.append(op_line("bias_adds", "out", str(out), ops.bias_adds))
        lines.append(
            Formula("connections", f"out·(in{b})", f"{out}·({n}{b})", str(self.connections(x, y)))
        )
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
        return Ops(
            mults=n * self.out_features,
            adds=(2 * n - 1) * self.out_features,
            macs=n * self.out_features,
        )

    def connections(self, x: Shape, y: Shape) -> int:
        return prod(x) * self.out_features

    def weights(self, x: Shape) -> int:
        return prod(x) * self.out_features

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """g_ij = 2·δ_i·(x_j − w_ij), recomputed from the kept input: out mults (2·δ), in·out
        subtractions and in·out mults, counted in dW; dX_j = Σ_i g_ij, dW_ij = −Σ_batch g_ij."""
        n, out = prod(x), self.out_features
        uses = n * out * batch
        return Backward(
            Ops(adds=(out - 1) * n * batch, macs=uses),
            Ops(mults=uses + out * batch, adds=uses + uses - n * out, macs=uses),
        )

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        return Saved(input=True)

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        out, n, ops = self.out_features, prod(x), self.ops(x, y)
        return [
            Formula("params", "out·in (no bias)", dotted(out, n), str(self.params(x))),
            op_line("macs", "out·in", dotted(out, n), ops.macs, "one (x_j − w_ij)² per weight"),
            op_line("mults", "out·in", dotted(out, n), ops.mults, "the squares"),
            op_line(
                "adds",
                "out·(2·in − 1)",
                f"{out}·(2·{n} − 1)",
                ops.adds,
                "in subtractions and in − 1 additions per unit",
            ),
            Formula("connections", "out·in", dotted(out, n), str(self.connections(x, y))),
        ]


# --------------------------------------------------------------------------- elementwise

"""Kinds that move values without weighing them: a channel range, a channel shuffle, a
centre crop, and upsampling (nearest, or bilinear with its interpolation arithmetic)."""

from fractions import Fraction
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field as PydField
from pydantic import model_validator

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Field, Shape, per_axis, prod
from cnncalc.kinds.backward import Backward
from cnncalc.kinds.base import (
    AXES,
    Kind,
    NonNeg,
    Size,
    Sizes,
    dotted,
    fmt_shape,
    needs_spatial,
    op_line,
    spatial,
)
from cnncalc.kinds.formula import Formula
from cnncalc.kinds.ops import Ops

FREE = "costs nothing (values are only moved)"


class Select(Kind):
    """Channels start … stop − 1 of the input (ShuffleNet v2's split, ``x[:, start:stop]``):
    a view, no operations."""

    kind: ClassVar[str] = "select"
    function: ClassVar[str] = "x[:, start:stop], as x.chunk(2, dim=1) gives"
    main: ClassVar[str] = "channels"
    summary: ClassVar[str] = "the channel range [start, stop) (a view; costs nothing)"

    channels: Annotated[list[NonNeg], PydField(min_length=2, max_length=2)]

    def out_shape(self, x: Shape) -> Shape:
        start, stop = self.channels
        if not 0 <= start < stop <= x[0]:
            raise CnnCalcError(
                f"selects channels [{start}, {stop}) but its input has {x[0]}",
                field="select",
                hint=f"0 ≤ start < stop ≤ {x[0]}",
            )
        return (stop - start,) + spatial(x)

    def is_view(self) -> bool:
        return True

    def is_strided_view(self, x: Shape, y: Shape, batch: int) -> bool:
        """x[:, a:b] is contiguous for one sample; for several, each sample's range is
        followed by the rest of that sample's channels."""
        return batch > 1 and x[0] != y[0]

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        start, stop = self.channels
        return [Formula("C", "stop − start", f"{stop} − {start}", str(y[0]), f"a view: {FREE}")]


class Shuffle(Kind):
    """Channel shuffle with g groups (Zhang et al. 2018; PyTorch's ChannelShuffle): the c
    channels read as a g × c/g matrix and transposed. A permutation, no operations."""

    kind: ClassVar[str] = "shuffle"
    function: ClassVar[str] = "torchvision's channel_shuffle(x, groups): view, transpose, view"
    main: ClassVar[str] = "groups"
    summary: ClassVar[str] = "channel shuffle in G groups (costs nothing)"

    groups: Size

    def out_shape(self, x: Shape) -> Shape:
        if x[0] % self.groups:
            raise CnnCalcError(
                f"{self.groups} groups do not divide the input's {x[0]} channels",
                field="shuffle",
            )
        return x

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        return [Formula("shape", "input shape", "", fmt_shape(y), f"channels permuted: {FREE}")]


class Crop(Kind):
    """Centre crop of every spatial axis to ``size`` (U-Net's crop before concatenating a
    skip): the offset is ⌊(n − size)/2⌋, so an odd surplus loses its extra row at the end.
    With ``match: NAME`` instead of a size, the size is the spatial size of the named
    earlier layer's output at this input (U-Net's crop to the up-convolution it joins), so
    the network works at any input size. A view, no operations; the receptive field and
    jump do not change."""

    kind: ClassVar[str] = "crop"
    main: ClassVar[str] = "size"
    summary: ClassVar[str] = "centre crop to a size or to match a named layer (a view; free)"
    one_of: ClassVar[tuple[str, ...]] = ("size", "match")

    size: Sizes | None = None
    match: str | None = PydField(
        None, min_length=1, description="crop to the spatial size of this earlier layer"
    )

    @model_validator(mode="after")
    def _size_or_match(self) -> "Crop":
        if (self.size is None) == (self.match is None):
            raise ValueError("a crop takes a size ({crop: 56}) or match: NAME, one of the two")
        return self

    def size_source(self) -> str | None:
        return self.match

    def sized_like(self, target: Shape) -> "Crop":
        """This crop with ``size`` set to the spatial size of ``target`` (``match:``)."""
        if len(target) < 2:
            raise CnnCalcError(
                f"matches '{self.match}', whose output {fmt_shape(target)} has no spatial axes",
                field="match",
                hint="match a layer with a feature map (C×H×W)",
            )
        return self.model_copy(update={"size": list(spatial(target))})

    def _sizes(self, x: Shape) -> tuple[int, ...]:
        if self.size is None:
            raise CnnCalcError(
                f"the size of match: {self.match} is known only inside a network",
                field="match",
            )
        return per_axis(self.size, needs_spatial(x, self.kind), "crop")

    def offsets(self, x: Shape) -> tuple[int, ...]:
        return tuple((n - s) // 2 for n, s in zip(spatial(x), self._sizes(x)))

    def out_shape(self, x: Shape) -> Shape:
        sizes = self._sizes(x)
        for axis, n, s in zip(AXES[len(x) - 1], spatial(x), sizes):
            if s > n:
                against = f" (the size of '{self.match}')" if self.match else ""
                raise CnnCalcError(
                    f"crops {axis} to {s}{against} but its input is {fmt_shape(x)}, "
                    f"{n} along {axis}",
                    field="match" if self.match else "crop",
                    hint="a crop can only make a map smaller",
                )
        return (x[0],) + sizes

    def is_view(self) -> bool:
        return True

    def is_strided_view(self, x: Shape, y: Shape, batch: int) -> bool:
        return x != y

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        source = f"size of '{self.match}'" if self.match else "size"
        return [
            Formula(
                axis.upper(), source, "", str(s), f"offset ⌊({n} − {s})/2⌋ = {(n - s) // 2}; {FREE}"
            )
            for axis, n, s in zip(AXES[len(x) - 1], spatial(x), spatial(y))
        ]


class Upsample(Kind):
    """Upsampling by an integer ``scale`` per axis or to a ``size`` (PyTorch's Upsample).
    ``nearest`` copies (no operations); ``bilinear`` (2-D) interpolates each output from its
    4 neighbours, λ_h0·(λ_w0·a + λ_w1·b) + λ_h1·(λ_w0·c + λ_w1·d): 6 mults and 3 adds per
    output, the weights made once per row and column (not counted). The jump divides by
    the scale; bilinear widens the field by one input step."""

    kind: ClassVar[str] = "upsample"
    main: ClassVar[str] = "scale"
    summary: ClassVar[str] = "upsample by a scale or to a size (nearest, bilinear)"

    scale: Union[Sizes, None] = None
    size: Union[Sizes, None] = None
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False

    def count_keys(self) -> tuple[str, ...]:
        return (f"upsample.{self.mode}", "upsample")

    def out_shape(self, x: Shape) -> Shape:
        ndim = needs_spatial(x, self.kind)
        if (self.scale is None) == (self.size is None):
            raise CnnCalcError(
                "needs a scale or a size, not both",
                field="upsample",
                hint="{upsample: 2} or {upsample: , size: [56, 56]}",
            )
        if self.mode == "bilinear" and ndim != 2:
            raise CnnCalcError(
                f"bilinear upsampling needs a 2-D map, but its input is {fmt_shape(x)}",
                field="mode",
            )
        if self.align_corners and self.mode == "nearest":
            raise CnnCalcError("align_corners is for bilinear upsampling", field="align_corners")
        if self.size is not None:
            return (x[0],) + per_axis(self.size, ndim, "size")
        return (x[0],) + tuple(
            n * s for n, s in zip(spatial(x), per_axis(self.scale, ndim, "upsample"))
        )

    def ops(self, x: Shape, y: Shape) -> Ops:
        if self.mode == "nearest":
            return Ops()
        return Ops(mults=6 * prod(y), adds=3 * prod(y))

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        """j' = j·n/out (j/s for a scale s); bilinear reads 2 neighbours per axis: r' = r + j."""
        reach = 1 if self.mode == "bilinear" else 0
        return Field(
            tuple(r + reach * j for r, j in zip(field.rf, field.jump)),
            tuple(
                _exact(j * Fraction(n, o)) for j, n, o in zip(field.jump, spatial(x), spatial(y))
            ),
            start=field.start,
        )

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Each output's gradient added into its source(s), a zeroed tensor: nearest 1 add
        per output; bilinear 4 weighted adds per output (8 mults, 4 adds)."""
        outputs = prod(y) * batch
        if self.mode == "nearest":
            return Backward(Ops(adds=outputs))
        return Backward(Ops(mults=8 * outputs, adds=4 * outputs))

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        ndim = len(x) - 1
        if self.size is not None:
            lines = [
                Formula(axis.upper(), "size", "", str(o)) for axis, o in zip(AXES[ndim], spatial(y))
            ]
        else:
            scale = per_axis(self.scale, ndim, "upsample")
            lines = [
                Formula(axis.upper(), f"n_{axis}·s_{axis}", dotted(n, s), str(o))
                for axis, n, s, o in zip(AXES[ndim], spatial(x), scale, spatial(y))
            ]
        if self.mode == "nearest":
            first = lines[0]
            note = f"nearest: each output copies one input, {FREE}"
            return [
                Formula(first.what, first.symbolic, first.substituted, first.result, note)
            ] + lines[1:]
        ops = self.ops(x, y)
        return lines + [
            op_line("mults", "6·outputs", f"6·{dotted(*y)}", ops.mults, "4 neighbours weighed"),
            op_line("adds", "3·outputs", f"3·{dotted(*y)}", ops.adds),
        ]


def _exact(value: Fraction) -> int | Fraction:
    """An int where the fraction is whole, as the other kinds' jumps are."""
    return value.numerator if value.denominator == 1 else value

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

import re
from dataclasses import dataclass
from functools import partial
from typing import (
    TYPE_CHECKING,
    Annotated,
    Callable,
    ClassVar,
    Literal,
    NamedTuple,
    Sequence,
    Union,
    get_args,
)

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, field_validator
from pydantic import Field as PydField
from pydantic_core import PydanticCustomError

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import (
    Field,
    Shape,
    effective_kernel,
    per_axis,
    prod,
    resolve_padding,
    slid,
    window_out,
)
from cnncalc.kinds.backward import Backward, Saved
from cnncalc.kinds.formula import LABELS, Formula
from cnncalc.kinds.ops import NO_OPS, Ops

MAX_SIZE = 1_000_000
"""Largest size anywhere (channels, extent, kernel, units): beyond it a network is not
a network but a typo, and refusing it keeps every count instant."""

Size = Annotated[int, PydField(strict=True, ge=1, le=MAX_SIZE)]
NonNeg = Annotated[int, PydField(strict=True, ge=0, le=MAX_SIZE)]
SIZES_TEXT = r"^[0-9]+([x×][0-9]+){0,2}$"
"""One size per spatial axis written as text, like a shape: ``3x3``, ``1x7``, ``3x3x3``."""


def sizes_from_text(value):
    """``kernel: 3x3`` read as ``[3, 3]`` (and ``7`` as ``7``), as ``input: 3x32x32`` is
    read as a shape; anything else goes on to the type check unchanged."""
    if isinstance(value, str) and re.fullmatch(SIZES_TEXT, value.strip()):
        sizes = [int(v) for v in value.strip().replace("×", "x").split("x")]
        return sizes[0] if len(sizes) == 1 else sizes
    return value


Sizes = Annotated[
    Union[Size, list[Size]],
    BeforeValidator(
        sizes_from_text,
        json_schema_input_type=Union[
            Size, list[Size], Annotated[str, StringConstraints(pattern=SIZES_TEXT)]
        ],
    ),
]
"""A size for every spatial axis (``3``), or one per axis (``[3, 5]`` or ``3x5``)."""
Padding = Union[NonNeg, Literal["same", "valid"], list[NonNeg], list[list[NonNeg]]]
Number = Annotated[float, PydField(strict=False)]

AXES = {1: ("l",), 2: ("h", "w"), 3: ("d", "h", "w")}

Call = Literal["module", "function", "channels_last", "subclass"]
"""How PyTorch applies a layer: as an ``nn.Module`` the network holds, as a function its
forward calls (``F.relu(x)``, ``torch.flatten(x, 1)``, ``x.mean([2, 3])``), as a module
applied to the map with its channels moved last (ConvNeXt's block: Permute, nn.LayerNorm,
…, Permute back), or as a module of a subclass of PyTorch's class (torchvision's video
ResNets' Conv3DSimple, an nn.Conv3d)."""


class StateEntry(NamedTuple):
    """One tensor of a layer's state_dict; role is 'param', 'buffer' or 'counter'. (A named
    tuple: a frozen dataclass's __init__ was a tenth of an analysis, issue 11.)"""

    name: str
    shape: Shape
    role: str = "param"

    def key(self, layer: str) -> str:
        """Its ``state_dict`` key in layer ``layer``: ``layer.name``, or the layer's own name
        for a tensor that is the layer (ConvNeXt's ``layer_scale``, an ``nn.Parameter`` of
        its block, has the empty name)."""
        return f"{layer}.{self.name}" if self.name else layer


@dataclass(frozen=True)
class Geometry:
    """A window sliding along each spatial axis, as a kind reads its options on one input.

    Every field has one value per spatial axis; fields are read by name, never unpacked.
    ``extent`` is the dilated kernel d·(k − 1) + 1; ``padding`` is (before, after) per axis.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    extent: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]

    @property
    def ndim(self) -> int:
        return len(self.kernel)


@dataclass(frozen=True)
class TransposedGeometry:
    """A transposed convolution's options on one input, one value per spatial axis, read by
    name: PyTorch's ``padding`` (the same on both sides) and ``output_padding``."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]

    @property
    def ndim(self) -> int:
        return len(self.kernel)


def _whole(value):
    """A Fraction that is a whole number as an int (k = 5, not 5/1)."""
    return int(value) if getattr(value, "denominator", 1) == 1 else value


def param_buffer_sizes(state: Sequence[StateEntry]) -> tuple[int, int]:
    """(values of the ``param`` entries, values of the ``buffer`` entries), in one pass:
    :func:`state_size` of each role."""
    params = buffers = 0
    for entry in state:
        role = entry.role
        if role == "param":
            params += prod(entry.shape)
        elif role == "buffer":
            buffers += prod(entry.shape)
    return params, buffers


def state_size(state: Sequence[StateEntry], role: str) -> int:
    """Number of values in the entries of one role (trainable ``param`` or ``buffer``)."""
    size = 0
    for entry in state:
        if entry.role == role:
            size += prod(entry.shape)
    return size


def spatial(x: Shape) -> Shape:
    return x[1:]


def needs_spatial(x: Shape, kind: str) -> int:
    """Number of spatial axes; a kind that slides a window needs at least one."""
    ndim = len(x) - 1
    if ndim < 1 or ndim > 3:
        raise CnnCalcError(
            f"{kind} needs a 1-D, 2-D or 3-D feature map (C, L), (C, H, W) or (C, D, H, W), "
            f"but its input is {fmt_shape(x)}",
            hint="flatten and fc come after the convolutional part",
        )
    return ndim


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(v) for v in shape)


def dotted(*terms) -> str:
    return "·".join(str(t) for t in terms)


def weight_grads(macs: int, weights: int, biases: int, positions: int, batch: int) -> Ops:
    """dW of a weighted layer, whole batch: each weight's gradient sums its ``batch·macs/weights``
    uses (one product each), each bias's the ``batch·positions`` output gradients it fed."""
    uses = macs * batch
    return Ops(
        mults=uses, adds=uses - weights, bias_adds=biases * (batch * positions - 1), macs=uses
    )


def axis_symbols(prefix: str, ndim: int, suffix: str = "") -> str:
    """``k_h·k_w`` (prefix 'k_'), ``H_o·W_o`` (prefix '', suffix '_o', upper case)."""
    return "·".join((prefix + a if prefix else a.upper()) + suffix for a in AXES[ndim])


def op_line(field: str, symbolic: str, substituted: str, value: int, note: str = "") -> Formula:
    """A line for one raw operation count, named as :data:`LABELS` names it."""
    return Formula(LABELS[field], symbolic, substituted, str(value), note)


class Kind(BaseModel):
    """A layer kind: its options, validated, and its rules."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    __slots__ = ("_hash", "_key", "_geometry", "_counted_as")
    """Worked out once per layer object (its options never change): its hash, its
    :meth:`options_key`, its window on the last input shape it was asked about
    (:meth:`Sliding.geometry`) and what a convention's table reads of it
    (:meth:`counted_as`)."""
    if TYPE_CHECKING:  # slots, not fields: pydantic never sees them
        _hash: ClassVar[int]
        _key: ClassVar[tuple]
        _geometry: ClassVar[tuple[Shape, Geometry]]
        _counted_as: ClassVar[tuple[tuple[str, ...], str]]

    kind: ClassVar[str] = ""
    main: ClassVar[str | None] = None
    """The option that the kind's key carries: ``{conv: 64}`` sets out_channels."""
    weighted: ClassVar[bool] = False
    """Counts toward depth and carries MACs (conv, deconv, fc, rbf, subsample)."""
    summary: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    receptive_note: ClassVar[str] = ""
    one_of: ClassVar[tuple[str, ...]] = ()
    copies_strided_input: ClassVar[bool] = False
    """Its PyTorch kernel makes a strided input contiguous and autograd keeps that copy
    (in place of the view's source) for the backward."""
    """Options of which exactly one is given (a crop's size or ``match``), main first."""
    """Said beside the receptive-field working (an fc sees its whole input)."""
    """The kind's rule in one line for ``cnncalc kinds`` (its docstring's first line when
    that already says it)."""
    function: ClassVar[str] = ""
    """The PyTorch function that applies this kind in a forward, for ``call: function``
    (``F.relu``); empty where PyTorch has only a module (it holds weights)."""
    channels_last: ClassVar[str] = ""
    """The module PyTorch applies to the map with its channels moved last, for
    ``call: channels_last`` (``nn.LayerNorm``); empty where there is none."""
    subclass: ClassVar[str] = ""
    """The PyTorch class a model may subclass for this kind, for ``call: subclass``
    (``nn.Conv3d``); empty where the option does not apply."""

    call: Call = PydField(
        default="module",
        description="how PyTorch applies the layer: 'module' (an nn.Module of the network), "
        "'function' (a call in forward, as torchvision's DenseNet applies F.relu and "
        "F.adaptive_avg_pool2d), 'channels_last' (a module given the map with its "
        "channels moved last, as ConvNeXt's block applies nn.LayerNorm) or 'subclass' (a "
        "module of a subclass of PyTorch's class, as the video ResNets' Conv3DSimple): "
        "the same arithmetic, but a tool that hooks modules does not see a function, and "
        "some look a module's class up exactly",
    )

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        """The schema lists only the ``call`` values this kind takes (``module`` and
        ``function`` for relu, ``module`` alone for batchnorm)."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        call = schema.get("properties", {}).get("call")
        if call is not None:
            call["enum"] = [v for v in get_args(Call) if v == "module" or getattr(cls, v)]
        return schema

    @field_validator("call")
    @classmethod
    def _callable_so(cls, value: str) -> str:
        """``call: function`` only where PyTorch has a function for the kind,
        ``call: channels_last`` only where it has a module for a channels-last map, and
        ``call: subclass`` only where models subclass its module."""
        if value != "module" and not getattr(cls, value):
            able = sorted({k.kind for k in every_kind() if getattr(k, value)})
            raise PydanticCustomError(
                "call",
                "must be 'module' for '{kind}', which PyTorch does not apply that way "
                "(call: {value} is for {able})",
                {"kind": cls.kind, "value": value, "able": ", ".join(able)},
            )
        return value

    def __hash__(self) -> int:
        """Pydantic's frozen-model hash (its type and option values), kept after the first
        call: a layer is a dict key on every pass over a graph (issue 11)."""
        try:
            return self._hash
        except AttributeError:
            value = hash((type(self), *self.__dict__.values()))
            object.__setattr__(self, "_hash", value)
            return value

    def options_key(self) -> tuple:
        """The layer's type and option values as a plain tuple (a list as ``(list, …)``): two
        layers with equal keys have equal options, so they count alike on equal shapes,
        exactly (a layer whose options will not hash is known by its identity). A dict key
        that hashes and compares in C, where pydantic's ``__eq__`` runs Python for every
        comparison (issue 11); kept after the first call."""
        try:
            return self._key
        except AttributeError:
            value = (type(self), *map(_frozen, self.__dict__.values()))
            try:
                hash(value)
            except TypeError:  # an option of a type not frozen above: the layer alone
                value = (Kind, id(self))
            object.__setattr__(self, "_key", value)
            return value

    def __eq__(self, other: object) -> bool:
        """Pydantic's comparison (the same type, equal option values) without its general
        cases (generic models, private and extra attributes, which a kind never has), some
        six times faster: equal layers meet as dict keys on every pass over a graph."""
        if type(other) is type(self):
            return self.__dict__ == other.__dict__
        return super().__eq__(other)

    def out_shape(self, x: Shape) -> Shape:
        return x

    def state(self, x: Shape) -> list[StateEntry]:
        return []

    def params(self, x: Shape) -> int:
        return state_size(self.state(x), "param")

    def buffers(self, x: Shape) -> int:
        return state_size(self.state(x), "buffer")

    def ops(self, x: Shape, y: Shape) -> Ops:
        return NO_OPS

    def site_ops(self, xs: tuple[Shape, ...], y: Shape) -> Ops:
        """Raw operations for one sample on the input shapes ``xs`` (one per branch; a layer
        has one): :meth:`ops` on the first, where a join that computes overrides."""
        return self.ops(xs[0], y)

    def counts(self, xs: tuple[Shape, ...], y: Shape) -> tuple[Ops, list[StateEntry], int]:
        """(:meth:`site_ops`, :meth:`state`, :meth:`connections`) on input shapes ``xs`` in one
        call, as the statistics of a site read them; a kind whose three read the same
        options overrides, to read them once."""
        x = xs[0]
        return self.site_ops(xs, y), self.state(x), self.connections(x, y)

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

    def counted_as(self) -> tuple[tuple[str, ...], str]:
        """(:meth:`count_keys`, ``call``): all a convention's table reads of the layer, kept
        after the first call (options never change; a convention looks it up per site)."""
        try:
            return self._counted_as
        except AttributeError:
            value = (self.count_keys(), self.call)
            object.__setattr__(self, "_counted_as", value)
            return value

    def output_macs(self, x: Shape, y: Shape) -> int | None:
        """The MACs counted on the output positions, where that differs from
        ``ops().macs``: only a transposed conv's (None elsewhere)."""
        return None

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field

    def field_step(self, x: Shape, y: Shape) -> "Callable[[Field], Field] | None":
        """:meth:`receptive` on input ``x`` as a function of the field before the layer,
        worked out once for every call of a layer with these options on ``x`` (a repeated
        block's); None where the field passes unchanged."""
        if type(self).receptive is Kind.receptive:
            return None
        return partial(self.receptive, x=x, y=y)

    def explain_receptive(self, before: Field, after: Field) -> list[Formula]:
        """The receptive-field working (Araujo et al. 2019): a window of k positions at
        stride s widens the field r by (k − 1) jumps and multiplies the jump j by s,
        ``r = r_prev + (k − 1)·j_prev``, ``j = j_prev·s``. k and s are read off the
        step this kind made; a kind that leaves the field as it is says nothing, unless
        it has a note (flatten)."""
        if before.rf == after.rf and before.jump == after.jump:
            if not self.receptive_note:
                return []
            shown = "×".join(str(r) for r in after.rf)
            return [Formula("RF", "r_prev", "", shown, self.receptive_note)]
        steps = [
            ((r1 - r0) / j0 + 1, j1 / j0, r0, j0, r1, j1)
            for r0, j0, r1, j1 in zip(before.rf, before.jump, after.rf, after.jump)
        ]
        axes = AXES.get(len(steps), tuple(str(i) for i in range(len(steps))))
        if len(set(steps)) == 1:
            steps, axes = steps[:1], ("",)
        lines = []
        for axis, (k, s, r0, j0, r1, j1) in zip(axes, steps):
            suffix = f"_{axis}" if axis else ""
            k, s = _whole(k), _whole(s)
            lines += [
                Formula(
                    "RF" + suffix,
                    f"r_prev + (k{suffix} − 1)·j_prev",
                    f"{r0} + ({k} − 1)·{j0}",
                    str(r1),
                    self.receptive_note,
                ),
                Formula("jump" + suffix, f"j_prev·s{suffix}", f"{j0}·{s}", str(j1)),
            ]
        return lines

    def size_source(self) -> str | None:
        """The earlier named layer whose output size sets an option of this one at the
        network's input (a crop's ``match:``), or None."""
        return None

    def sized_like(self, target: Shape) -> "Kind":
        """This layer with the options :meth:`size_source` names set from ``target``."""
        return self

    def is_strided_view(self, x: Shape, y: Shape, batch: int) -> bool:
        """A view whose values do not lie contiguously in its source's memory (a centre
        crop; a channel range of more than one sample)."""
        return False

    def is_view(self) -> bool:
        """Its output is its input's memory (flatten): autograd keeping one keeps the other."""
        return False

    def backward(self, x: Shape, y: Shape, batch: int) -> Backward:
        """Raw operations of the backward pass, whole batch (:mod:`cnncalc.kinds.backward`)."""
        return Backward()

    def saved(self, x: Shape, y: Shape, batch: int) -> Saved:
        """What PyTorch autograd keeps of this layer for its backward."""
        return Saved()

    def explain(self, x: Shape, y: Shape) -> list[Formula]:
        """The working of the shape, parameters and operations; by default a kind
        keeps its input's shape and says so."""
        return [Formula("shape", "input shape", "", fmt_shape(y))] if x == y else []


def _frozen(value):
    """An option value as a hashable one that compares alike: a list as ``(list, …)``, a
    dict as ``(dict, frozenset of items)`` (the type first, so a list never equals a
    tuple that was written as one)."""
    if isinstance(value, list):
        return (list, *map(_frozen, value))
    if isinstance(value, dict):
        return (dict, frozenset((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, tuple):
        return tuple(map(_frozen, value))
    return value


def every_kind() -> list[type[Kind]]:
    """Every kind a YAML layer may name, joins included. The registry imports a kind's
    module when one of its kinds is first asked for (issue 11: start-up), so the kinds
    defined so far may not be all of them: this asks it for each."""
    from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS  # above this module

    return [*LAYER_KINDS.values(), *JOIN_KINDS.values()]


# --------------------------------------------------------------------------- windows


class Sliding(Kind):
    """Shared by the kinds that slide a window along each spatial axis."""

    if TYPE_CHECKING:  # every sliding kind declares its own kernel field, with its own type
        kernel: Sizes

    def geometry(self, x: Shape) -> Geometry:
        """The window on input ``x``: kernel, stride, dilation, extent and padding per axis.
        The shape rule, the receptive field and the working all read it, so the last one is
        kept, keyed on the input's spatial sizes, all it depends on (the options never
        change; a dense block's layer sees more channels at each call, the same sizes)."""
        sizes = x[1:]
        try:
            seen, found = self._geometry
            if seen == sizes:
                return found
        except AttributeError:
            pass
        found = self._window(x)
        object.__setattr__(self, "_geometry", (sizes, found))
        return found

    def _window(self, x: Shape) -> Geometry:
        ndim = needs_spatial(x, self.kind)
        k = per_axis(self.kernel, ndim, "kernel")
        s = per_axis(self._stride(), ndim, "stride")
        d = per_axis(getattr(self, "dilation", 1), ndim, "dilation")
        k_eff = tuple(effective_kernel(a, b) for a, b in zip(k, d))
        pad = resolve_padding(getattr(self, "padding", 0), ndim, spatial(x), k_eff, s)
        return Geometry(kernel=k, stride=s, dilation=d, extent=k_eff, padding=pad)

    def _stride(self):
        return self.stride

    def out_sizes(self, x: Shape, ceil_mode: bool = False) -> Shape:
        """⌊(n + p − k)/s⌋ + 1 per axis (:func:`window_out`; rounded up with ``ceil_mode``)."""
        g = self.geometry(x)
        sizes: list[int] = []
        for n, ke, st, (lo, hi) in zip(x[1:], g.extent, g.stride, g.padding):
            out = window_out(n, ke, st, lo, hi, True) if ceil_mode else (n + lo + hi - ke) // st + 1
            if out < 1:
                axis = AXES[g.ndim][len(sizes)]
                left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
                quotient = n - ke + lo + hi + st
                rounded = -(-quotient // st) if ceil_mode else quotient // st
                raise CnnCalcError(
                    f"kernel {ke} is larger than the padded input {n + lo + hi} along {axis}: "
                    f"{left}({n} − {ke} + {lo + hi} + {st}) / {st}{right} = {rounded}",
                    field="kernel",
                    hint="use a smaller kernel, more padding, or a larger input",
                )
            sizes.append(out)
        return tuple(sizes)

    def receptive(self, field: Field, x: Shape, y: Shape) -> Field:
        return field.slide(*self._slide(x))

    def field_step(self, x: Shape, y: Shape) -> "Callable[[Field], Field] | None":
        """The window's step read off the geometry once: r' = r + (k − 1)·j, j' = j·s."""
        if type(self).receptive is not Sliding.receptive:
            return super().field_step(x, y)
        g = self.geometry(x)
        extent, stride = g.extent, g.stride
        before = tuple([lo for lo, _ in g.padding])
        if extent == stride and not any(before) and extent.count(1) == len(extent):
            return None  # a 1×1 window at stride 1, unpadded: r' = r, j' = j, the same start
        return partial(slid, extent, stride, before)

    def _slide(self, x: Shape) -> tuple[Shape, Shape, Shape]:
        """The window's extent, stride and padding before, per axis (:meth:`Field.slide`)."""
        g = self.geometry(x)
        return g.extent, g.stride, tuple([lo for lo, _ in g.padding])

    def explain_sizes(self, x: Shape, y: Shape, ceil_mode: bool = False) -> list[Formula]:
        g = self.geometry(x)
        ndim, k, s, d, k_eff, pad = g.ndim, g.kernel, g.stride, g.dilation, g.extent, g.padding
        lines = []
        left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
        for axis, n, kk, dd, ke, st, (lo, hi), out in zip(
            AXES[ndim], spatial(x), k, d, k_eff, s, pad, spatial(y)
        ):
            notes = []
            if lo or hi:
                notes.append(f"p_{axis} = {lo} + {hi} = {lo + hi}, the total padding of both sides")
            if dd > 1:
                notes.append(f"k_{axis} is the dilated extent {dd}·({kk} − 1) + 1 = {ke}")
            if ceil_mode and out != -(-(n - ke + lo + hi + st) // st):
                notes.append("the last window would start in the right padding, so it is dropped")
            lines.append(
                Formula(
                    axis.upper(),
                    f"{left}(n_{axis} − k_{axis} + p_{axis} + s_{axis}) / s_{axis}{right}",
                    f"{left}({n} − {ke} + {lo + hi} + {st}) / {st}{right}",
                    str(out),
                    "; ".join(notes),
                )
            )
        return lines

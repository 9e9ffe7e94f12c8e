"""Layer graph → a self-contained PyTorch module (``cnncalc export NET --to pytorch``).

The generated file needs torch to run, not to be written. Every layer is a
submodule at its cnncalc name (``layer1.0.conv1``), so the module's
``state_dict`` keys are the names cnncalc reports; for the zoo networks
rebuilt from torchvision they are torchvision's own, and
``load_state_dict(torchvision_model.state_dict(), strict=True)`` works. A layer
marked ``call: function`` is no submodule but the function call torchvision's forward
makes (``F.relu(x)``), so the modules are the original's and so are the peer tools'
counts, which hook modules and patch functions.

Like the executor, this is a second reading of the graph: it translates each
kind's resolved options into PyTorch's constructor, and PyTorch then checks
cnncalc's shapes and parameter counts independently.
"""

from __future__ import annotations

import keyword
import re

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import per_axis
from cnncalc.kinds.conv import Conv, Deconv
from cnncalc.kinds.dense import Fc, Flatten, Rbf
from cnncalc.kinds.joins import Add, Concat, Mul
from cnncalc.kinds.pointwise import (
    BatchNorm,
    Dropout,
    DropPath,
    Elu,
    Gelu,
    GroupNorm,
    Hardsigmoid,
    Hardswish,
    Identity,
    InstanceNorm,
    LayerNorm,
    LayerScale,
    LeakyRelu,
    Linear,
    LogSoftmax,
    Lrn,
    Mish,
    Prelu,
    Relu,
    Relu6,
    Sigmoid,
    Silu,
    Softmax,
    Tanh,
)
from cnncalc.kinds.pool import Adaptive, GlobalAvgPool, Pool, Subsample
from cnncalc.kinds.rearrange import Crop, Select, Shuffle, Upsample
from cnncalc.model.graph import INPUT, Graph, Node

HELPERS = {
    "TableConv": '''
class TableConv(nn.Module):
    """A partially connected convolution (LeNet-5's C3): output map i sees only table[i]."""

    cnncalc_kind = "conv"

    def __init__(self, table, kernel, bias, dims, padding=0):
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        self.table = [list(row) for row in table]
        self.cnncalc_layer = dict(
            conv=len(table), kernel=kernel, padding=padding, bias=bias, table=self.table
        )
        self.maps = nn.ModuleList(
            conv(len(row), 1, kernel, padding=padding, bias=bias) for row in table
        )

    def forward(self, x):
        return torch.cat([m(x[:, row]) for m, row in zip(self.maps, self.table)], 1)
''',
    "Subsample": '''
class Subsample(nn.Module):
    """LeNet-5's sub-sampling: a k-by-k window sum times a coefficient, plus a bias, per map."""

    cnncalc_kind = "subsample"

    def __init__(self, channels, kernel, dims):
        super().__init__()
        self.cnncalc_layer = {"subsample": kernel}
        self.kernel, self.dims = kernel, dims
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[self.dims - 1]
        sums = pool(x, self.kernel) * self.kernel**self.dims
        shape = (1, -1) + (1,) * self.dims
        return sums * self.weight.view(shape) + self.bias.view(shape)
''',
    "RBF": '''
class RBF(nn.Module):
    """LeNet-5's Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2."""

    cnncalc_kind = "rbf"

    def __init__(self, in_features, out_features):
        super().__init__()
        self.cnncalc_layer = {"rbf": out_features}
        self.weight = nn.Parameter(torch.randn(out_features, in_features))

    def forward(self, x):
        return ((x.flatten(1)[:, None, :] - self.weight[None]) ** 2).sum(-1)
''',
    "AvgPoolOverRealInputs": '''
class AvgPoolOverRealInputs(nn.Module):
    """Average pooling after asymmetric padding that divides by the window's real inputs
    only (count_include_pad=False): window sums of the padded input over those of a mask."""

    def __init__(self, pool, pad):
        super().__init__()
        self.pool, self.pad = pool, pad

    def forward(self, x):
        mask = torch.ones_like(x[:1, :1])
        return self.pool(F.pad(x, self.pad)) / self.pool(F.pad(mask, self.pad))
''',
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels at each position (torchvision's ConvNeXt LayerNorm2d):
    the channels moved last, normalised, moved back."""

    def forward(self, x):
        x = x.movedim(1, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)
''',
    "Select": '''
class Select(nn.Module):
    """Channels start .. stop - 1 (ShuffleNet v2's split)."""

    def __init__(self, start, stop):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x[:, self.start:self.stop]
''',
    "CenterCrop": '''
class CenterCrop(nn.Module):
    """The window [offset, offset + size) of each spatial axis (U-Net's crop)."""

    def __init__(self, offsets, sizes):
        super().__init__()
        self.window = tuple(slice(o, o + s) for o, s in zip(offsets, sizes))

    def forward(self, x):
        return x[(slice(None), slice(None)) + self.window]
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """Drop path (torchvision.ops.StochasticDepth): the identity at inference."""

    def __init__(self, p, mode):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(survival)
        return x * noise.div_(survival)
''',
}
"""The classes a generated file defines, each only when the network uses it."""
HELPERS.update(
    {
        f"Conv{dims}dSubclass": f'''
class Conv{dims}dSubclass(nn.Conv{dims}d):
    """nn.Conv{dims}d under a class of its own, as torchvision's video ResNets subclass it
    (Conv3DSimple): the tools that look a module's class up exactly do not count it."""
'''
        for dims in (1, 2, 3)
    }
)

MODULE_NAMES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children clear compile
    cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state
    get_parameter get_submodule half ipu items keys load_state_dict modules mtia named_buffers
    named_children named_modules named_parameters parameters pop register_backward_hook
    register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
    training type update values xpu zero_grad""".split()
)
"""What nn.Module and nn.ModuleDict already call an attribute (torch 2.x): a layer with one
of these names is reached by subscript, not as an attribute."""

RESERVED = frozenset({"x", "self", "torch", "nn", "F", "return_all"})
"""Names the generated forward already uses."""

_TEMPLATE = '''"""{title}: generated by cnncalc {version} from {source}.

Input {input_text} (channels first; the batch is the first axis of the tensor you pass).
Every layer is a submodule at its cnncalc name, so state_dict keys are cnncalc's layer names;
a layer marked call: function is a function call in forward instead, as in the original.
Run it to print the parameter count: python {filename}
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = {input_shape!r}
PARAMS = {params}
"""Trainable parameters as cnncalc counts them."""
{helpers}

class {class_name}(nn.Module):
    def __init__(self):
        super().__init__()
{constructors}

    def forward(self, x, return_all=False):
        """The output (a tuple when the network has several); with return_all, every
        layer's output by its index in cnncalc's graph (-1: the input)."""
{calls}
        if return_all:
            return {{
{everything}
            }}
        return {output}


def build():
    return {class_name}()


if __name__ == "__main__":
    model = build()
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{title}: {{count:,}} trainable parameters (cnncalc: {{PARAMS:,}})")
    with torch.no_grad():
        out = model(torch.zeros((1,) + INPUT_SHAPE))
    for out in (out if isinstance(out, tuple) else (out,)):
        print("output shape:", tuple(out.shape))
'''


def _segments(name: str, node: Node) -> list[str]:
    parts = name.split(".")
    # nn.Module.add_module takes any name without a dot; torchvision's RegNet names its
    # blocks "block1-0", so a hyphen is allowed beside letters, digits and underscores
    if not all(re.fullmatch(r"[\w-]+", p) for p in parts):
        raise CnnCalcError(
            f"layer name '{name}' cannot be a PyTorch module path",
            file=node.where.file,
            line=node.where.line,
            field=node.where.path,
            hint="use letters, digits, underscores and hyphens between the dots",
        )
    return parts


def _call(function: str, positional: list, **named: tuple) -> str:
    """``nn.Conv2d(3, 64, 7, stride=2, padding=3)``: the call as a person writes it, each
    keyword left out where it is PyTorch's default (``named``: name → (value, default))."""
    args = [str(a) for a in positional]
    args += [
        f"{k}={v!r}" if isinstance(v, float) else f"{k}={v}"
        for k, (v, default) in named.items()
        if v != default and str(v) != str(default)
    ]
    return f"{function}({', '.join(args)})"


def _tuple(values) -> str:
    values = tuple(values)
    return repr(values[0]) if len(set(values)) == 1 else repr(values)


def _padding(node: Node, pads) -> tuple[str, str | None]:
    """(padding argument for the layer, F.pad tuple when the padding is asymmetric)."""
    if all(lo == hi for lo, hi in pads):
        return _tuple(lo for lo, _ in pads), None
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return "0", repr(tuple(flat))


def _constructor(node: Node) -> tuple[str, str | None, float, str]:
    """(constructor source, F.pad tuple or None, pad value, forward op) for one leaf."""
    layer, x = node.layer, node.in_shape
    dims = len(x) - 1
    nd = f"{dims}d"
    if isinstance(layer, Conv):
        g = layer.geometry(x)
        k, s, d, pads = g.kernel, g.stride, g.dilation, g.padding
        padding, pad = _padding(node, pads)
        if layer.table is not None:
            if pad is not None or any(v != 1 for v in s + d):
                raise CnnCalcError(
                    "exporting a connection table supports only stride 1, "
                    "dilation 1 and symmetric padding",
                    field=node.where.path,
                )
            return (
                f"TableConv({layer.table_rows()!r}, {_tuple(k)}, {layer.bias}, {dims}, "
                f"padding={padding})",
                None,
                0.0,
                "call",
            )
        return (
            _call(
                f"Conv{nd}Subclass" if layer.call == "subclass" else f"nn.Conv{nd}",
                [x[0], layer.out_channels, _tuple(k)],
                stride=(_tuple(s), "1"),
                padding=(padding, "0"),
                dilation=(_tuple(d), "1"),
                groups=(layer.groups, 1),
                bias=(layer.bias, True),
            ),
            pad,
            0.0,
            "call",
        )
    if isinstance(layer, Deconv):
        g = layer.geometry(x)
        k, s, d, p, op = g.kernel, g.stride, g.dilation, g.padding, g.output_padding
        return (
            _call(
                f"nn.ConvTranspose{nd}",
                [x[0], layer.out_channels, _tuple(k)],
                stride=(_tuple(s), "1"),
                padding=(_tuple(p), "0"),
                output_padding=(_tuple(op), "0"),
                groups=(layer.groups, 1),
                bias=(layer.bias, True),
                dilation=(_tuple(d), "1"),
            ),
            None,
            0.0,
            "call",
        )
    if isinstance(layer, Pool):
        g = layer.geometry(x)
        k, s, d, pads = g.kernel, g.stride, g.dilation, g.padding
        padding, pad = _padding(node, pads)
        if pad is not None and layer.ceil_mode:
            raise CnnCalcError(
                "exporting a pool with asymmetric padding and ceil_mode is not supported",
                field=node.where.path,
            )
        if layer.mode == "max":
            return (
                _call(
                    f"nn.MaxPool{nd}",
                    [_tuple(k)],
                    stride=(_tuple(s), _tuple(k)),
                    padding=(padding, "0"),
                    dilation=(_tuple(d), "1"),
                    ceil_mode=(layer.ceil_mode, False),
                ),
                pad,
                float("-inf"),
                "call",
            )
        avg = _call(
            f"nn.AvgPool{nd}",
            [_tuple(k)],
            stride=(_tuple(s), _tuple(k)),
            padding=(padding, "0"),
            ceil_mode=(layer.ceil_mode, False),
            count_include_pad=(layer.count_include_pad, True),
        )
        if pad is not None and not layer.count_include_pad:
            return f"AvgPoolOverRealInputs({avg}, {pad})", None, 0.0, "call"
        return avg, pad, 0.0, "call"
    if isinstance(layer, GlobalAvgPool):
        return f"nn.AdaptiveAvgPool{nd}(1)", None, 0.0, "call"
    if isinstance(layer, Adaptive):
        size = per_axis(layer.size, dims, "adaptive")
        cls = "AdaptiveAvgPool" if layer.mode == "avg" else "AdaptiveMaxPool"
        return f"nn.{cls}{nd}({_tuple(size)})", None, 0.0, "call"
    if isinstance(layer, Subsample):
        return f"Subsample({x[0]}, {layer.kernel}, {dims})", None, 0.0, "call"
    if isinstance(layer, Fc):
        n = 1
        for v in x:
            n *= v
        return (
            _call("nn.Linear", [n, layer.out_features], bias=(layer.bias, True)),
            None,
            0.0,
            "flatten_call" if len(x) > 1 else "call",
        )
    if isinstance(layer, Rbf):
        n = 1
        for v in x:
            n *= v
        return f"RBF({n}, {layer.out_features})", None, 0.0, "call"
    if isinstance(layer, BatchNorm):
        dims_bn = max(dims, 1)
        return (
            _call(
                f"nn.BatchNorm{dims_bn}d",
                [x[0]],
                eps=(layer.eps, 1e-5),
                momentum=(layer.momentum, 0.1),
            ),
            None,
            0.0,
            "call",
        )
    if isinstance(layer, Lrn):
        return (
            _call(
                "nn.LocalResponseNorm",
                [layer.size],
                alpha=(layer.alpha, 1e-4),
                beta=(layer.beta, 0.75),
                k=(layer.k, 1.0),
            ),
            None,
            0.0,
            "call",
        )
    simple = {
        Flatten: "nn.Flatten()",
        Relu: "nn.ReLU()",
        Relu6: "nn.ReLU6()",
        Sigmoid: "nn.Sigmoid()",
        Tanh: "nn.Tanh()",
        Softmax: "nn.Softmax(dim=1)",
        Hardswish: "nn.Hardswish()",
        Hardsigmoid: "nn.Hardsigmoid()",
        Silu: "nn.SiLU()",
        Mish: "nn.Mish()",
        LogSoftmax: "nn.LogSoftmax(dim=1)",
        Identity: "nn.Identity()",
    }
    if type(layer) in simple:
        return simple[type(layer)], None, 0.0, "call"
    if isinstance(layer, Dropout):
        return _call("nn.Dropout", [], p=(layer.p, 0.5)), None, 0.0, "call"
    modern = _modern_constructor(layer, x)
    if modern is not None:
        return modern
    raise CnnCalcError(
        f"cannot export a '{layer.kind}' layer to PyTorch", field=node.where.path
    )  # pragma: no cover - every kind is handled


def _modern_constructor(layer, x) -> tuple[str, None, float, str] | None:
    """The constructor and forward op of the activations, normalisations and rearranging
    kinds that take options."""
    dims = len(x) - 1
    ctor = None
    op = "call"
    if isinstance(layer, Gelu):
        ctor = _call("nn.GELU", [], approximate=(repr(layer.approximate), repr("none")))
    elif isinstance(layer, LeakyRelu):
        ctor = f"nn.LeakyReLU({layer.negative_slope!r})"
    elif isinstance(layer, Elu):
        ctor = f"nn.ELU({layer.alpha!r})"
    elif isinstance(layer, Prelu):
        ctor = f"nn.PReLU({layer.num_parameters}, init={layer.init!r})"
    elif isinstance(layer, LayerNorm):
        shape = x[0] if layer.over == "channels" and dims else list(layer.normalized_shape(x))
        two_d = layer.over == "channels" and dims and layer.call != "channels_last"
        if layer.call == "channels_last" and dims:
            op = "channels_last"
        ctor = _call(
            "LayerNorm2d" if two_d else "nn.LayerNorm",
            [shape],
            eps=(layer.eps, 1e-5),
            elementwise_affine=(layer.elementwise_affine, True),
            bias=(layer.bias, True),
        )
    elif isinstance(layer, GroupNorm):
        ctor = _call(
            "nn.GroupNorm", [layer.groups, x[0]], eps=(layer.eps, 1e-5), affine=(layer.affine, True)
        )
    elif isinstance(layer, InstanceNorm):
        ctor = _call(
            f"nn.InstanceNorm{dims}d",
            [x[0]],
            eps=(layer.eps, 1e-5),
            momentum=(layer.momentum, 0.1),
            affine=(layer.affine, False),
            track_running_stats=(layer.track_running_stats, False),
        )
    elif isinstance(layer, Select):
        ctor = f"Select({layer.channels[0]}, {layer.channels[1]})"
    elif isinstance(layer, Shuffle):
        ctor = f"nn.ChannelShuffle({layer.groups})"
    elif isinstance(layer, Crop):
        sizes = per_axis(layer.size, dims, "crop")
        ctor = f"CenterCrop({layer.offsets(x)!r}, {sizes!r})"
    elif isinstance(layer, Upsample):
        if layer.size is not None:
            how = f"size={_tuple(per_axis(layer.size, dims, 'size'))}"
        else:
            how = f"scale_factor={_tuple(float(v) for v in per_axis(layer.scale, dims, 'scale'))}"
        corners = f", align_corners={layer.align_corners}" if layer.mode == "bilinear" else ""
        ctor = f"nn.Upsample({how}, mode={layer.mode!r}{corners})"
    elif isinstance(layer, DropPath):
        ctor = f"StochasticDepth({layer.p!r}, {layer.mode!r})"
    elif isinstance(layer, Linear):
        ctor = _call("nn.Linear", [x[0], layer.out_features], bias=(layer.bias, True))
        op = "channels_last" if dims else "call"
    return None if ctor is None else (ctor, None, 0.0, op)


def class_name_for(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title) or ["Network"]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[0].isalpha() else "Net" + name


def _attribute_ok(segment: str) -> bool:
    """Whether ``module.segment`` reaches the child of that name."""
    return (
        segment.isidentifier() and not keyword.iskeyword(segment) and (segment not in MODULE_NAMES)
    )


def _access(path: list[str]) -> str:
    """``self.layer1["0"].conv1``: the expression that reaches a submodule (containers are
    nn.ModuleDict, so a child whose name is not an attribute is reached by subscript)."""
    first = path[0]
    out = f"self.{first}" if _attribute_ok(first) else f"self.get_submodule({first!r})"
    for segment in path[1:]:
        out += f".{segment}" if _attribute_ok(segment) else f'["{segment}"]'
    return out


def _assign(path: list[str], value: str) -> str:
    """The statement that registers ``value`` at ``path``."""
    if len(path) == 1:
        name = path[0]
        if _attribute_ok(name):
            return f"self.{name} = {value}"
        return f"self.add_module({name!r}, {value})"
    parent, last = _access(path[:-1]), path[-1]
    if _attribute_ok(last):
        return f"{parent}.{last} = {value}"
    return f'{parent}["{last}"] = {value}'


def _variables(graph: Graph) -> dict[int, str]:
    """A Python name for each node's output, from its layer name (``layer1.0.conv1`` →
    ``layer1_0_conv1``), and ``x`` for the input."""
    names = {INPUT: "x"}
    taken = set(RESERVED)
    for node in graph.nodes:
        base = re.sub(r"\W", "_", node.name)
        if not base.isidentifier() or keyword.iskeyword(base) or base in RESERVED:
            base = "out_" + base
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names[node.index] = name
    return names


JOIN_OPERATORS = {Add: " + ", Mul: " * "}
"""How the generated forward joins branches besides torch.cat on channels: ``+`` and ``*``
(both broadcast as cnncalc's add and mul do)."""


def _parameter(path: list[str], value: str) -> tuple[str, str]:
    """(the statement that registers parameter ``value`` at ``path``, the expression that
    reads it): an attribute where the name allows, else register_parameter/get_parameter."""
    last = path[-1]
    owner = "self" if len(path) == 1 else _access(path[:-1])
    if _attribute_ok(last):
        return f"{owner}.{last} = {value}", f"{owner}.{last}"
    return (
        f"{owner}.register_parameter({last!r}, {value})",
        f"self.get_parameter({'.'.join(path)!r})",
    )


def _function(node: Node, given: str) -> str:
    """The forward expression of a layer PyTorch applies as a function (``call: function``),
    written as torchvision writes it: ``F.relu(x)``, ``F.max_pool2d(x, 3, stride=2)``,
    ``F.adaptive_avg_pool2d(x, 1)``, ``x.mean((2, 3), keepdim=True)`` (ShuffleNet's
    ``x.mean([2, 3])``, the 1×1 kept), ``torch.flatten(x, 1)``, a channel slice
    (``x.chunk``), ShuffleNet's channel_shuffle (view, transpose, contiguous, view)."""
    layer, x = node.layer, node.in_shape
    dims = len(x) - 1
    if isinstance(layer, Relu):
        return f"F.relu({given})"
    if isinstance(layer, Flatten):
        return f"torch.flatten({given}, 1)"
    if isinstance(layer, GlobalAvgPool):
        return f"{given}.mean({tuple(range(2, dims + 2))!r}, keepdim=True)"
    if isinstance(layer, Adaptive):
        size = _tuple(per_axis(layer.size, dims, "adaptive"))
        return f"F.adaptive_{layer.mode}_pool{dims}d({given}, {size})"
    if isinstance(layer, Select):
        return f"{given}[:, {layer.channels[0]}:{layer.channels[1]}]"
    if isinstance(layer, Shuffle):
        g, sizes = layer.groups, ", ".join(f"{given}.size({i})" for i in range(2, dims + 2))
        split = f"{given}.size(0), {g}, {x[0] // g}, {sizes}"
        back = f"{given}.size(0), {x[0]}, {sizes}"
        return f"{given}.view({split}).transpose(1, 2).contiguous().view({back})"
    if isinstance(layer, Pool):
        g = layer.geometry(x)
        padding, pad = _padding(node, g.padding)
        if pad is not None:
            fill = 'float("-inf")' if layer.mode == "max" else "0.0"
            if layer.ceil_mode or (layer.mode == "avg" and not layer.count_include_pad):
                raise CnnCalcError(
                    "exporting a pool with asymmetric padding as a function is not supported "
                    "with ceil_mode or count_include_pad: false",
                    field=node.where.path,
                    hint="write it as a module (call: module)",
                )
            given = f"F.pad({given}, {pad}, value={fill})"
        named = {
            "stride": (_tuple(g.stride), _tuple(g.kernel)),
            "padding": (padding, "0"),
            "ceil_mode": (layer.ceil_mode, False),
        }
        if layer.mode == "max":
            named["dilation"] = (_tuple(g.dilation), "1")
        else:
            named["count_include_pad"] = (layer.count_include_pad, True)
        return _call(f"F.{layer.mode}_pool{dims}d", [given, _tuple(g.kernel)], **named)
    raise CnnCalcError(  # pragma: no cover - the kind's option refuses call: function
        f"cannot export a '{layer.kind}' layer as a function", field=node.where.path
    )


def _leaf(node: Node, path: list[str], given: str) -> tuple[str | None, str]:
    """(constructor statement, call expression) for a layer that is not a join; no
    constructor for a layer applied as a function."""
    if node.layer.call == "function":
        return None, _function(node, given)
    if isinstance(node.layer, LayerScale):
        shape = node.layer.state(node.in_shape)[0].shape
        register, read = _parameter(
            path, f"nn.Parameter(torch.full({shape!r}, {node.layer.init!r}))"
        )
        return register, f"{given} * {read}"
    ctor, pad, value, op = _constructor(node)
    if pad is not None:
        fill = 'float("-inf")' if value == float("-inf") else repr(value)
        given = f"F.pad({given}, {pad}, value={fill})"
    if op == "flatten_call":
        given = f"torch.flatten({given}, 1)"
    if op == "channels_last":
        return _assign(path, ctor), f"{_access(path)}({given}.movedim(1, -1)).movedim(-1, 1)"
    return _assign(path, ctor), f"{_access(path)}({given})"


def to_pytorch(
    graph: Graph, *, params: int, source: str, filename: str = "model.py", version: str = ""
) -> str:
    """The source of a Python module that builds ``graph`` as a torch.nn.Module: one
    submodule per layer at its cnncalc name, and a forward that calls them in order."""
    variables = _variables(graph)
    constructors, calls, containers = [], [], set()
    for node in graph.nodes:
        args = [variables[i] for i in node.inputs]
        target = variables[node.index]
        if isinstance(node.layer, Concat):
            calls.append(f"{target} = torch.cat([{', '.join(args)}], 1)")
            continue
        if type(node.layer) in JOIN_OPERATORS:
            calls.append(f"{target} = {JOIN_OPERATORS[type(node.layer)].join(args)}")
            continue
        path = _segments(node.name, node)
        constructor, call = _leaf(node, path, args[0])
        calls.append(f"{target} = {call}")
        if constructor is None:
            continue
        for depth in range(1, len(path)):
            prefix = tuple(path[:depth])
            if prefix not in containers:
                containers.add(prefix)
                constructors.append(_assign(list(prefix), "nn.ModuleDict()"))
        constructors.append(constructor)
    used = [n for n in HELPERS if any(re.search(rf"\b{n}\(", c) for c in constructors)]
    outputs = [variables[i] for i in graph.output_nodes]
    title = graph.name
    indent = " " * 8
    return _TEMPLATE.format(
        title=title,
        version=version,
        source=source,
        filename=filename,
        input_text="×".join(map(str, graph.input)),
        input_shape=tuple(graph.input),
        params=params,
        helpers="".join("\n" + HELPERS[name] for name in used),
        class_name=class_name_for(title),
        constructors="\n".join(indent + c for c in constructors) or indent + "pass",
        calls="\n".join(indent + c for c in calls),
        everything="\n".join(
            f"{indent}        {index}: {name}," for index, name in variables.items()
        ),
        output=outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})",
    )

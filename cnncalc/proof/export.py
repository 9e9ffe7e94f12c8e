"""Layer graph → a self-contained PyTorch module (``cnncalc export NET --to pytorch``).

The generated file needs torch to run, not to be written. Every layer is a
submodule at its cnncalc name (``layer1.0.conv1``), so the module's
``state_dict`` keys are the names cnncalc reports; for the zoo networks
rebuilt from torchvision they are torchvision's own, and
``load_state_dict(torchvision_model.state_dict(), strict=True)`` works.

Like the executor, this is a second reading of the graph: it translates each
kind's resolved options into PyTorch's constructor, and PyTorch then checks
cnncalc's shapes and parameter counts independently.
"""

from __future__ import annotations

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

_RUNTIME = '''
class TableConv(nn.Module):
    """A partially connected convolution (LeNet-5's C3): output map i sees only TABLE[i]."""

    def __init__(self, table, kernel, bias, dims, padding=0):
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        self.table = [list(row) for row in table]
        self.maps = nn.ModuleList(conv(len(row), 1, kernel, padding=padding, bias=bias)
                                  for row in table)

    def forward(self, x):
        return torch.cat([m(x[:, row]) for m, row in zip(self.maps, self.table)], 1)


class Subsample(nn.Module):
    """LeNet-5's sub-sampling: a k-by-k window sum times a coefficient, plus a bias, per map."""

    def __init__(self, channels, kernel, dims):
        super().__init__()
        self.kernel, self.dims = kernel, dims
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[self.dims - 1]
        sums = pool(x, self.kernel) * self.kernel ** self.dims
        shape = (1, -1) + (1,) * self.dims
        return sums * self.weight.view(shape) + self.bias.view(shape)


class RBF(nn.Module):
    """LeNet-5's Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))

    def forward(self, x):
        return ((x.flatten(1)[:, None, :] - self.weight[None]) ** 2).sum(-1)


class Padded(nn.Module):
    """Asymmetric padding (F.pad order: last axis first) before the wrapped layer's own."""

    def __init__(self, pad, value):
        super().__init__()
        self.pad, self.value = pad, value

    def forward(self, x):
        return F.pad(x, self.pad, value=self.value)


class AvgPoolOverRealInputs(nn.Module):
    """Average pooling after asymmetric padding that divides by the window's real inputs
    only (count_include_pad=False): window sums of the padded input over those of a mask."""

    def __init__(self, pool, pad):
        super().__init__()
        self.pool, self.pad = pool, pad

    def forward(self, x):
        mask = torch.ones_like(x[:1, :1])
        return self.pool(F.pad(x, self.pad)) / self.pool(F.pad(mask, self.pad))


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels at each position (torchvision's ConvNeXt LayerNorm2d):
    the channels moved last, normalised, moved back."""

    def forward(self, x):
        x = x.movedim(1, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)


class Select(nn.Module):
    """Channels start .. stop - 1 (ShuffleNet v2's split)."""

    def __init__(self, start, stop):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x[:, self.start:self.stop]


class CenterCrop(nn.Module):
    """The window [offset, offset + size) of each spatial axis (U-Net's crop)."""

    def __init__(self, offsets, sizes):
        super().__init__()
        self.window = tuple(slice(o, o + s) for o, s in zip(offsets, sizes))

    def forward(self, x):
        return x[(slice(None), slice(None)) + self.window]


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


def _container(root, path):
    """The module that holds `path`'s last segment, making plain containers on the way."""
    module = root
    for segment in path[:-1]:
        if segment not in module._modules:
            module.add_module(segment, nn.Module())
        module = module._modules[segment]
    return module
'''

_TEMPLATE = '''"""{title}: generated by cnncalc {version} from {source}.

Input {input_text} (channels first; the batch is the first axis of the tensor you pass).
Every layer is a submodule at its cnncalc name, so state_dict keys are cnncalc's layer names.
Run it to print the parameter count: python {filename}
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SHAPE = {input_shape!r}
PARAMS = {params}
"""Trainable parameters as cnncalc counts them."""
{runtime}

# (name, inputs (-1 = the network input), operation)
PLAN = [
{plan}
]
OUTPUTS = {outputs}
"""The nodes the forward returns: one tensor, or a tuple when the network has several."""


class {class_name}(nn.Module):
    def __init__(self):
        super().__init__()
{constructors}
        self.pads = {{}}
{pads}

    def forward(self, x, return_all=False):
        values = {{-1: x}}
        for index, (name, inputs, op) in enumerate(PLAN):
            args = [values[i] for i in inputs]
            if op == "cat":
                y = torch.cat(args, 1)
            elif op == "add":
                y = args[0]
                for other in args[1:]:
                    y = y + other
            elif op == "mul":
                y = args[0]
                for other in args[1:]:
                    y = y * other
            else:
                y = args[0]
                if name in self.pads:
                    y = self.pads[name](y)
                if op == "flatten_call":
                    y = y.flatten(1)
                if op == "scale":
                    y = y * self.get_parameter(name)
                elif op == "channels_last":
                    y = self.get_submodule(name)(y.movedim(1, -1)).movedim(-1, 1)
                else:
                    y = self.get_submodule(name)(y)
            values[index] = y
        if return_all:
            return values
        if len(OUTPUTS) == 1:
            return values[OUTPUTS[0]]
        return tuple(values[i] for i in OUTPUTS)


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


JOIN_OPS = {Concat: "cat", Add: "add", Mul: "mul"}
"""How the generated forward joins branches: torch.cat on channels, ``+``, ``*`` (both
broadcast as cnncalc's add and mul do)."""


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
            f"nn.Conv{nd}({x[0]}, {layer.out_channels}, {_tuple(k)}, stride={_tuple(s)}, "
            f"padding={padding}, dilation={_tuple(d)}, groups={layer.groups}, "
            f"bias={layer.bias})",
            pad,
            0.0,
            "call",
        )
    if isinstance(layer, Deconv):
        g = layer.geometry(x)
        k, s, d, p, op = g.kernel, g.stride, g.dilation, g.padding, g.output_padding
        return (
            f"nn.ConvTranspose{nd}({x[0]}, {layer.out_channels}, {_tuple(k)}, "
            f"stride={_tuple(s)}, padding={_tuple(p)}, output_padding={_tuple(op)}, "
            f"groups={layer.groups}, bias={layer.bias}, dilation={_tuple(d)})",
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
                f"nn.MaxPool{nd}({_tuple(k)}, stride={_tuple(s)}, padding={padding}, "
                f"dilation={_tuple(d)}, ceil_mode={layer.ceil_mode})",
                pad,
                float("-inf"),
                "call",
            )
        avg = (
            f"nn.AvgPool{nd}({_tuple(k)}, stride={_tuple(s)}, padding={padding}, "
            f"ceil_mode={layer.ceil_mode}, count_include_pad={layer.count_include_pad})"
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
            f"nn.Linear({n}, {layer.out_features}, bias={layer.bias})",
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
            f"nn.BatchNorm{dims_bn}d({x[0]}, eps={layer.eps!r}, momentum={layer.momentum!r})",
            None,
            0.0,
            "call",
        )
    if isinstance(layer, Lrn):
        return (
            f"nn.LocalResponseNorm({layer.size}, alpha={layer.alpha!r}, beta={layer.beta!r}, "
            f"k={layer.k!r})",
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
        return f"nn.Dropout({layer.p!r})", None, 0.0, "call"
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
        ctor = f"nn.GELU(approximate={layer.approximate!r})"
    elif isinstance(layer, LeakyRelu):
        ctor = f"nn.LeakyReLU({layer.negative_slope!r})"
    elif isinstance(layer, Elu):
        ctor = f"nn.ELU({layer.alpha!r})"
    elif isinstance(layer, Prelu):
        ctor = f"nn.PReLU({layer.num_parameters}, init={layer.init!r})"
    elif isinstance(layer, LayerNorm):
        affine = (
            f"eps={layer.eps!r}, elementwise_affine={layer.elementwise_affine}, bias={layer.bias}"
        )
        if layer.over == "channels" and dims:
            ctor = f"LayerNorm2d({x[0]}, {affine})"
        else:
            ctor = f"nn.LayerNorm({list(layer.normalized_shape(x))!r}, {affine})"
    elif isinstance(layer, GroupNorm):
        ctor = f"nn.GroupNorm({layer.groups}, {x[0]}, eps={layer.eps!r}, affine={layer.affine})"
    elif isinstance(layer, InstanceNorm):
        ctor = (
            f"nn.InstanceNorm{dims}d({x[0]}, eps={layer.eps!r}, momentum={layer.momentum!r}, "
            f"affine={layer.affine}, track_running_stats={layer.track_running_stats})"
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
        ctor = f"nn.Linear({x[0]}, {layer.out_features}, bias={layer.bias})"
        op = "channels_last" if dims else "call"
    return None if ctor is None else (ctor, None, 0.0, op)


def class_name_for(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title) or ["Network"]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[0].isalpha() else "Net" + name


def to_pytorch(
    graph: Graph, *, params: int, source: str, filename: str = "model.py", version: str = ""
) -> str:
    """The source of a Python module that builds ``graph`` as a torch.nn.Module."""
    constructors, pads, plan = [], [], []
    for node in graph.nodes:
        inputs = tuple(i if i != INPUT else -1 for i in node.inputs)
        if type(node.layer) in JOIN_OPS:
            plan.append(f"    ({node.name!r}, {inputs!r}, {JOIN_OPS[type(node.layer)]!r}),")
            continue
        path = _segments(node.name, node)
        if isinstance(node.layer, LayerScale):
            shape = node.layer.state(node.in_shape)[0].shape
            constructors.append(
                f"        _container(self, {path!r}).register_parameter({path[-1]!r}, "
                f"nn.Parameter(torch.full({shape!r}, {node.layer.init!r})))"
            )
            plan.append(f"    ({node.name!r}, {inputs!r}, 'scale'),")
            continue
        ctor, pad, value, op = _constructor(node)
        constructors.append(f"        _container(self, {path!r}).add_module({path[-1]!r}, {ctor})")
        if pad is not None:
            fill = "float('-inf')" if value == float("-inf") else repr(value)
            pads.append(f"        self.pads[{node.name!r}] = Padded({pad}, {fill})")
        plan.append(f"    ({node.name!r}, {inputs!r}, {op!r}),")
    title = graph.name
    return _TEMPLATE.format(
        title=title,
        version=version,
        source=source,
        filename=filename,
        input_text="×".join(map(str, graph.input)),
        input_shape=tuple(graph.input),
        params=params,
        runtime=_RUNTIME,
        plan="\n".join(plan),
        outputs=repr(graph.output_nodes),
        class_name=class_name_for(title),
        constructors="\n".join(constructors) or "        pass",
        pads="\n".join(pads),
    )

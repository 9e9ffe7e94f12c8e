"""A PyTorch module → cnncalc's YAML (``cnncalc import torch:PACKAGE.MODULE:CALLABLE``).

``torch:torchvision.models:resnet50`` imports ``torchvision.models`` and calls ``resnet50()``;
``torch:path/to/model.py:Net`` loads the file and instantiates ``Net``. Keyword arguments
may follow the name, as Python literals: ``torch:torchvision.models:googlenet(aux_logits=False)``.
A class is instantiated, a function called, with no other arguments. The module is put in
eval mode and traced with ``torch.fx.symbolic_trace`` (a module it cannot trace, one with
Python control flow on tensor values, is refused in one line saying why); then one forward
pass on the ``meta`` device (shapes only, no arithmetic) gives every node's shape.

The input (channels first, no batch) is ``--input``, else the module's own ``input_size``
attribute, else its Python module's ``INPUT_SHAPE`` (what ``cnncalc export --to pytorch``
writes), else refused with a hint to give ``--input``.

Each node of the fx graph becomes a :class:`~cnncalc.model.importgraph.Step`: a
``call_module`` of a torch.nn layer is that layer with its attributes as options, named by
the module's qualified name (``layer1.0.conv1``), so ``cnncalc export --to pytorch`` of the
result loads the original ``state_dict`` strictly; ``call_function``/``call_method`` nodes
are the functional forms and the joins (``+``, ``*``, ``torch.cat``). torch is imported
only here, only when a ``torch:`` source is imported (the optional extra ``cnncalc[torch]``).

Mapped: nn.Conv1d/2d/3d, ConvTranspose1d/2d/3d, Linear (``fc``; ``linear`` on a
channels-last map), BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d,
LocalResponseNorm, ReLU, ReLU6, Sigmoid, Tanh, Hardswish, Hardsigmoid, SiLU, GELU,
LeakyReLU, ELU, PReLU, Mish, Softmax, LogSoftmax, Identity, Dropout (1d/2d/3d),
MaxPool/AvgPool 1d/2d/3d, AdaptiveAvgPool/AdaptiveMaxPool 1d/2d/3d, Flatten, Upsample,
ChannelShuffle, torchvision's StochasticDepth, a module whose class names its cnncalc
kind (``cnncalc_kind``, with the layer in ``cnncalc_layer``: the LeNet-5 helpers cnncalc's
export writes); their functional forms (F.relu, torch.relu,
F.max_pool2d, F.adaptive_avg_pool2d, F.layer_norm, torchvision.ops.stochastic_depth…);
torch.flatten / view / reshape to (N, −1); ``x.mean([2, 3])``; ``+``/``+=``/torch.add
(``add``), ``*`` of two maps (``mul``), ``*`` by an nn.Parameter (``layer_scale``),
torch.cat on channels (``concat``; ``cat([a, b, c])`` after ``cat([a, b])`` read as a cat of
that cat, as DenseNet writes it); chunk/split/``x[:, a:b]`` on channels (``select``);
view–transpose(1, 2)–view as a channel shuffle; ``permute``/``movedim`` to channels-last
and back around a LayerNorm and Linears (ConvNeXt); a centre crop ``x[:, :, a:b, c:d]``
(``crop``, U-Net's skips); ``contiguous``; size arithmetic (``x.size()``, ``c // g``), read
as numbers. forward's arguments after the input that have defaults (cnncalc's own
``return_all=False``) are traced at their defaults. Anything else is refused: one line
naming the node, its target and the node before it, and no file is written. So is a
module whose traced forward leaves parameters unused (GoogLeNet's auxiliary heads in eval
mode): cnncalc would count fewer parameters than it holds. What the module prints while it
is built or traced goes to stderr, never into the YAML on stdout.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import math
import operator
import sys
from pathlib import Path
from typing import Any

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.registry import LAYER_KINDS
from cnncalc.model.importgraph import Step, axis_shorthand, write_yaml

PREFIX = "torch:"


def _torch():
    """torch, imported lazily: the one place in cnncalc that may (the extra cnncalc[torch])."""
    try:
        import torch
        import torch.fx  # noqa: F401 — torch.fx is a submodule, not loaded with torch
    except ImportError:
        raise CnnCalcError(
            "importing a PyTorch module needs the 'torch' package",
            hint="pip install 'cnncalc[torch]'",
        ) from None
    return torch


# ------------------------------------------------------------------ the source: torch:WHERE:NAME


def parse_source(source: str) -> tuple[str, str, dict[str, Any]]:
    """``torch:torchvision.models:googlenet(aux_logits=False)`` → ('torchvision.models',
    'googlenet', {'aux_logits': False}). WHERE is a dotted module or a ``.py`` file."""
    body = source[len(PREFIX) :] if source.startswith(PREFIX) else source
    where, sep, call = body.rpartition(":")
    if not sep or not where or not call:
        raise CnnCalcError(
            f"'{source}' is not torch:MODULE:CALLABLE",
            hint="e.g. torch:torchvision.models:resnet50 or torch:model.py:Net",
        )
    name, paren, rest = call.partition("(")
    kwargs: dict[str, Any] = {}
    if paren:
        try:
            parsed = ast.parse(f"f({rest}", mode="eval").body
            if not isinstance(parsed, ast.Call) or parsed.args:
                raise ValueError("only keyword arguments")
            for keyword in parsed.keywords:
                if keyword.arg is None:
                    raise ValueError("no **")
                kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except (SyntaxError, ValueError) as exc:
            raise CnnCalcError(
                f"'{call}': its arguments are not keyword=literal pairs ({exc})",
                hint="e.g. googlenet(aux_logits=False, init_weights=False)",
            ) from None
    if not name.isidentifier():
        raise CnnCalcError(f"'{name}' is not a Python name", hint="torch:MODULE:CALLABLE")
    return where.strip(), name.strip(), kwargs


def _load_python(where: str):
    """The Python module ``where``: a ``.py`` file loaded by path, or an importable name."""
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise CnnCalcError(f"no such file '{where}'")
            spec = importlib.util.spec_from_file_location(f"cnncalc_torch_{path.stem}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(where)
    except CnnCalcError:
        raise
    except ModuleNotFoundError as exc:
        raise CnnCalcError(
            f"no Python module '{exc.name}' (importing '{where}')",
            hint="a dotted module on the path, or a file ending in .py",
        ) from None
    except Exception as exc:  # the user's own code failed while loading
        raise CnnCalcError(f"loading '{where}' failed: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def build_module(source: str):
    """The nn.Module a ``torch:`` source names, built and put in eval mode, and its
    Python module (where ``INPUT_SHAPE`` may be)."""
    torch = _torch()
    where, name, kwargs = parse_source(source)
    module = _load_python(where)
    if not hasattr(module, name):
        raise CnnCalcError(f"'{where}' has no '{name}'")
    factory = getattr(module, name)
    if not callable(factory):
        raise CnnCalcError(f"'{where}:{name}' is not a class or a function")
    try:
        built = factory(**kwargs)
    except Exception as exc:
        raise CnnCalcError(f"calling '{name}' failed: {_first_line(exc)}") from None
    if not isinstance(built, torch.nn.Module):
        raise CnnCalcError(
            f"'{where}:{name}' gives a {type(built).__name__}, not a torch.nn.Module"
        )
    return built.eval(), module


def input_of(net, python_module, given: tuple[int, ...] | None) -> tuple[int, ...]:
    """``--input``, else ``net.input_size``, else the module file's ``INPUT_SHAPE``."""
    if given is not None:
        return tuple(given)
    for found in (getattr(net, "input_size", None), getattr(python_module, "INPUT_SHAPE", None)):
        if isinstance(found, (tuple, list)) and found and all(isinstance(d, int) for d in found):
            return tuple(found)
    raise CnnCalcError(
        "the module does not say its input size",
        field="--input",
        hint="give it without the batch, e.g. --input 3x224x224",
    )


# ------------------------------------------------------------------ tracing


def _leaf_bases(torch) -> tuple:
    """The torch.nn classes read whole; a subclass that keeps their forward is read as them
    (torchvision's Conv3DSimple is an nn.Conv3d)."""
    nn = torch.nn
    return tuple(getattr(nn, name) for name in _MODULES if hasattr(nn, name))


def trace(net):
    """The fx graph of ``net``: torch.nn layers (and subclasses keeping their forward) are
    leaves, everything else is traced through; forward's flags are fixed at their defaults."""
    torch = _torch()
    bases = _leaf_bases(torch)

    tracer_base: Any = torch.fx.Tracer  # torch is not type-checked here (an optional extra)

    class Tracer(tracer_base):
        def is_leaf_module(self, m, qualname: str) -> bool:
            if type(m).__name__ == "StochasticDepth" and hasattr(m, "p"):
                return True
            if _marked_kind(m) is not None:
                return True
            for base in bases:
                if isinstance(m, base) and type(m).forward is base.forward:
                    return True
            return super().is_leaf_module(m, qualname)

    tracer = Tracer()
    try:
        graph = tracer.trace(net, concrete_args=_defaults(net))
    except Exception as exc:
        raise CnnCalcError(
            f"torch.fx cannot trace {type(net).__name__}: {_first_line(exc)}",
            hint="symbolic tracing fails on Python control flow that reads tensor values; "
            "export it to ONNX (torch.onnx.export) and import the .onnx file instead",
        ) from None
    return torch.fx.GraphModule(tracer.root, graph, type(net).__name__)


def first_values(gm) -> dict[str, float]:
    """The first element of every tensor a ``get_attr`` node reads (a layer scale's 1e-6),
    read before the module moves to the ``meta`` device, where tensors hold no values."""
    found = {}
    params = dict(gm.named_parameters())
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            tensor = params.get(node.target)
            if tensor is not None and tensor.numel():
                found[node.target] = float(f"{float(tensor.detach().flatten()[0]):.7g}")
    return found


def _defaults(net) -> dict[str, Any] | None:
    """forward's arguments after the input that have defaults (cnncalc's own export has
    ``return_all=False``), traced at their defaults: a flag is Python control flow."""
    try:
        parameters = list(inspect.signature(net.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    found = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    return found or None


def run_shapes(gm, shape: tuple[int, ...], rebuild) -> dict[str, Any]:
    """Every node's value from one forward pass of a batch of 1: on the ``meta`` device
    (shapes only, no arithmetic; the module is moved there, not copied), or, if an
    operator has no meta kernel, on the CPU with zeros in a module ``rebuild()`` makes."""
    torch = _torch()
    values: dict[str, Any] = {}

    interpreter_base: Any = torch.fx.Interpreter

    class Recorder(interpreter_base):
        def run_node(self, n):
            result = super().run_node(n)
            values[n.name] = result
            return result

    try:
        with torch.no_grad():
            Recorder(gm.to("meta")).run(torch.zeros(1, *shape, device="meta"))
        return values
    except Exception:
        values.clear()
    try:
        with torch.no_grad():
            Recorder(rebuild()).run(torch.zeros(1, *shape))
    except Exception as exc:
        raise CnnCalcError(
            f"the module does not run on an input of {'x'.join(map(str, shape))}: "
            f"{_first_line(exc)}",
            field="--input",
        ) from None
    return values


# ------------------------------------------------------------------ nn.Module → layer


def _option(layer: dict, key: str, value, default) -> None:
    if value is None:
        return
    compact = axis_shorthand(value)
    if compact != default:
        layer[key] = compact


def _float_option(layer: dict, key: str, value, default: float) -> None:
    if value is not None and not math.isclose(float(value), default, rel_tol=1e-9):
        layer[key] = float(value)


def _conv(m, kind: str) -> dict:
    """nn.Conv*d / ConvTranspose*d → ``conv``/``deconv``: out_channels, kernel_size, stride,
    padding (per side, or 'same'/'valid'), output_padding, dilation, groups, bias."""
    if getattr(m, "padding_mode", "zeros") != "zeros":
        raise ValueError(f"padding_mode '{m.padding_mode}'; cnncalc pads with zeros")
    out = m.out_channels
    layer: dict[str, Any] = {kind: out, "kernel": axis_shorthand(m.kernel_size)}
    _option(layer, "stride", m.stride, 1)
    padding = m.padding if isinstance(m.padding, str) else axis_shorthand(m.padding)
    if padding != 0:
        layer["padding"] = padding
    if kind == "deconv":
        _option(layer, "output_padding", m.output_padding, 0)
    _option(layer, "dilation", m.dilation, 1)
    if m.groups != 1:
        layer["groups"] = m.groups
    if m.bias is None:
        layer["bias"] = False
    return layer


def _pool(m, mode: str) -> dict:
    layer: dict[str, Any] = {"pool": mode, "kernel": axis_shorthand(m.kernel_size)}
    stride = m.stride if m.stride is not None else m.kernel_size
    layer["stride"] = axis_shorthand(stride)
    _option(layer, "padding", m.padding, 0)
    if mode == "max":
        _option(layer, "dilation", m.dilation, 1)
    if m.ceil_mode:
        layer["ceil_mode"] = True
    if mode == "avg" and not getattr(m, "count_include_pad", True):
        layer["count_include_pad"] = False
    if mode == "avg" and getattr(m, "divisor_override", None) is not None:
        raise ValueError("divisor_override has no cnncalc option")
    return layer


def _adaptive(size, mode: str) -> dict:
    if size is None or (isinstance(size, (tuple, list)) and None in size):
        raise ValueError("an output size of None (keep that axis) has no cnncalc option")
    layer: dict[str, Any] = {"adaptive": axis_shorthand(size)}
    if mode == "max":
        layer["mode"] = "max"
    return layer


def _batchnorm(m) -> dict:
    if not m.affine or not m.track_running_stats:
        raise ValueError("BatchNorm without affine or running statistics has no cnncalc option")
    layer: dict[str, Any] = {"batchnorm": m.num_features}
    _float_option(layer, "eps", m.eps, 1e-5)
    if m.momentum is None:
        raise ValueError("momentum None (a cumulative average) has no cnncalc option")
    _float_option(layer, "momentum", m.momentum, 0.1)
    return layer


def _groupnorm(m) -> dict:
    layer: dict[str, Any] = {"groupnorm": m.num_groups}
    _float_option(layer, "eps", m.eps, 1e-5)
    if not m.affine:
        layer["affine"] = False
    return layer


def _instancenorm(m) -> dict:
    layer: dict[str, Any] = {"instancenorm": None}
    _float_option(layer, "eps", m.eps, 1e-5)
    if m.affine:
        layer["affine"] = True
    if m.track_running_stats:
        layer["track_running_stats"] = True
        _float_option(layer, "momentum", m.momentum, 0.1)
    return layer


def _lrn(m) -> dict:
    layer: dict[str, Any] = {"lrn": m.size}
    _float_option(layer, "alpha", m.alpha, 1e-4)
    _float_option(layer, "beta", m.beta, 0.75)
    _float_option(layer, "k", m.k, 1.0)
    return layer


def _upsample_layer(mode: str, size, scale, align_corners) -> dict:
    """nn.Upsample / F.interpolate → ``upsample`` by an integer scale or to a size."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"mode '{mode}'; cnncalc has nearest and bilinear")
    if size is not None:
        layer: dict[str, Any] = {"upsample": None, "size": axis_shorthand(size)}
    else:
        factors = scale if isinstance(scale, (tuple, list)) else [scale]
        if any(not float(f).is_integer() for f in factors):
            raise ValueError(f"scale factor {scale} is not an integer")
        layer = {"upsample": axis_shorthand([int(f) for f in factors])}
    if mode != "nearest":
        layer["mode"] = mode
    if align_corners:
        layer["align_corners"] = True
    return layer


def _upsample(m) -> dict:
    return _upsample_layer(m.mode, m.size, m.scale_factor, m.align_corners)


def _flatten(m) -> dict:
    if m.start_dim != 1 or m.end_dim != -1:
        raise ValueError(f"Flatten({m.start_dim}, {m.end_dim}); cnncalc flattens from axis 1")
    return {"flatten": None}


def _softmax(m, kind: str) -> dict:
    if m.dim not in (1, -1, None):
        raise ValueError(f"over dim {m.dim}, not the features")
    return {kind: None}


def _gelu(m) -> dict:
    return {"gelu": None} if m.approximate == "none" else {"gelu": m.approximate}


def _leaky(m) -> dict:
    layer: dict[str, Any] = {"leaky_relu": None}
    _float_option(layer, "leaky_relu", m.negative_slope, 0.01)
    return layer


def _elu(m) -> dict:
    layer: dict[str, Any] = {"elu": None}
    _float_option(layer, "elu", m.alpha, 1.0)
    return layer


def _prelu(m) -> dict:
    return {"prelu": m.num_parameters} if m.num_parameters != 1 else {"prelu": None}


def _dropout(m) -> dict:
    return {"dropout": float(m.p)}


def _layernorm_module(m) -> dict:
    layer: dict[str, Any] = {"layernorm": len(m.normalized_shape)}
    _float_option(layer, "eps", m.eps, 1e-5)
    if not m.elementwise_affine:
        layer["elementwise_affine"] = False
    elif m.bias is None:
        layer["bias"] = False
    return layer


_SIMPLE = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Hardswish": "hardswish",
    "Hardsigmoid": "hardsigmoid",
    "SiLU": "silu",
    "Mish": "mish",
    "Identity": "identity",
}

_MODULES: dict[str, Any] = {
    **{name: (lambda kind: lambda m: {kind: None})(kind) for name, kind in _SIMPLE.items()},
    "Conv1d": lambda m: _conv(m, "conv"),
    "Conv2d": lambda m: _conv(m, "conv"),
    "Conv3d": lambda m: _conv(m, "conv"),
    "ConvTranspose1d": lambda m: _conv(m, "deconv"),
    "ConvTranspose2d": lambda m: _conv(m, "deconv"),
    "ConvTranspose3d": lambda m: _conv(m, "deconv"),
    "BatchNorm1d": _batchnorm,
    "BatchNorm2d": _batchnorm,
    "BatchNorm3d": _batchnorm,
    "GroupNorm": _groupnorm,
    "InstanceNorm1d": _instancenorm,
    "InstanceNorm2d": _instancenorm,
    "InstanceNorm3d": _instancenorm,
    "LayerNorm": _layernorm_module,
    "LocalResponseNorm": _lrn,
    "MaxPool1d": lambda m: _pool(m, "max"),
    "MaxPool2d": lambda m: _pool(m, "max"),
    "MaxPool3d": lambda m: _pool(m, "max"),
    "AvgPool1d": lambda m: _pool(m, "avg"),
    "AvgPool2d": lambda m: _pool(m, "avg"),
    "AvgPool3d": lambda m: _pool(m, "avg"),
    "AdaptiveAvgPool1d": lambda m: _adaptive(m.output_size, "avg"),
    "AdaptiveAvgPool2d": lambda m: _adaptive(m.output_size, "avg"),
    "AdaptiveAvgPool3d": lambda m: _adaptive(m.output_size, "avg"),
    "AdaptiveMaxPool1d": lambda m: _adaptive(m.output_size, "max"),
    "AdaptiveMaxPool2d": lambda m: _adaptive(m.output_size, "max"),
    "AdaptiveMaxPool3d": lambda m: _adaptive(m.output_size, "max"),
    "Flatten": _flatten,
    "Linear": lambda m: {"fc": m.out_features} | ({} if m.bias is not None else {"bias": False}),
    "Dropout": _dropout,
    "Dropout1d": _dropout,
    "Dropout2d": _dropout,
    "Dropout3d": _dropout,
    "Softmax": lambda m: _softmax(m, "softmax"),
    "LogSoftmax": lambda m: _softmax(m, "log_softmax"),
    "GELU": _gelu,
    "LeakyReLU": _leaky,
    "ELU": _elu,
    "PReLU": _prelu,
    "Upsample": _upsample,
    "ChannelShuffle": lambda m: {"shuffle": m.groups},
}
"""torch.nn class name → its cnncalc layer (the module's attributes as options)."""


def _marked_kind(m) -> str | None:
    """The cnncalc kind a module says it is: the helper classes ``cnncalc export --to
    pytorch`` writes (LeNet-5's Subsample, TableConv, RBF) carry ``cnncalc_kind`` on the
    class and their layer, as the YAML writes it, in ``cnncalc_layer``."""
    kind = getattr(type(m), "cnncalc_kind", None)
    if isinstance(kind, str) and isinstance(getattr(m, "cnncalc_layer", None), dict):
        return kind
    return None


def _marked_layer(m) -> dict:
    """A marked module's ``cnncalc_layer``, per-axis tuples compacted (``(5, 5)`` → 5) and
    options at their kind's default left out; the kind itself checks the rest on load."""
    kind = LAYER_KINDS.get(m.cnncalc_kind)
    if kind is None or next(iter(m.cnncalc_layer), None) != m.cnncalc_kind:
        raise CnnCalcError(
            f"{type(m).__name__} says it is a cnncalc '{m.cnncalc_kind}' layer, "
            f"but its cnncalc_layer {m.cnncalc_layer!r} is not one"
        )
    layer: dict[str, Any] = {}
    for key, value in m.cnncalc_layer.items():
        if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            value = axis_shorthand(value)
        field = kind.model_fields.get(key)
        if field is not None and not field.is_required() and value == field.default:
            continue
        layer[key] = value
    return layer


_POINTWISE = {"relu", "relu6", "sigmoid", "tanh", "hardswish", "hardsigmoid", "silu", "mish"}
_POINTWISE |= {"identity", "gelu", "dropout", "drop_path", "leaky_relu", "elu"}
"""Kinds that act on each element alone: they keep a channels-last map channels-last."""


# ------------------------------------------------------------------ the reader


class _Reader:
    """The nodes of one fx graph → Steps, with shapes from one (meta) forward pass."""

    def __init__(self, torch, net, gm, values: dict[str, Any], scalars: dict[str, float]):
        self.torch = torch
        self.scalars = scalars
        self.F = torch.nn.functional
        self.gm = gm
        self.values = values
        self.modules = dict(net.named_modules())  # gm keeps only the modules it calls
        self.alias: dict[str, str] = {}
        self.channels_last: set[str] = set()
        self.steps: list[Step] = []
        self.names: set[str] = set()
        self.called: set[str] = set()
        self.cats: dict[tuple[str, ...], str] = {}
        self.fused: set[str] = set()
        self.last = "the input"
        self.users = {n.name: list(n.users) for n in gm.graph.nodes}

    # ---- small helpers

    def real(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def is_tensor(self, arg) -> bool:
        node_type = self.torch.fx.Node
        return isinstance(arg, node_type) and isinstance(
            self.values.get(arg.name), self.torch.Tensor
        )

    def shape(self, arg) -> tuple[int, ...]:
        """A tensor node's shape, batch included."""
        return tuple(self.values[arg.name].shape)

    def value(self, arg):
        """A non-tensor argument's value (a size read from x.size() is a number here)."""
        if isinstance(arg, self.torch.fx.Node):
            return self.values[arg.name]
        if isinstance(arg, (list, tuple)):
            return type(arg)(self.value(a) for a in arg)
        return arg

    def target_text(self, node) -> str:
        if node.op == "call_module":
            return type(self.modules[node.target]).__name__
        if node.op == "call_method":
            return f"method .{node.target}()"
        target = node.target
        module = getattr(target, "__module__", None) or ""
        name = getattr(target, "__name__", str(target))
        return f"{module}.{name}" if module else name

    def where(self, node) -> str:
        qualname = node.target if node.op == "call_module" else node.name
        return f"node '{qualname}' ({self.target_text(node)}), after {self.last}"

    def owner(self, node) -> str | None:
        """The innermost module whose forward made this function call, if it has no
        submodules (a LayerNorm2d, a StochasticDepth): the call is that module's layer."""
        stack = node.meta.get("nn_module_stack") or {}
        for path in reversed(list(stack)):
            module = self.modules.get(path)
            if module is not None and not list(module.children()):
                return path
            break
        return None

    def unique(self, name: str | None) -> str | None:
        if name is None:
            return None
        if name not in self.names:
            self.names.add(name)
            return name
        n = 1
        while f"{name}_{n}" in self.names:
            n += 1
        self.names.add(f"{name}_{n}")
        return f"{name}_{n}"

    def add(self, node, inputs: list[str], layer=None, join=None, name: str | None = None):
        if layer is not None:
            layer = dict(layer)
            if node.op != "call_module" and LAYER_KINDS[next(iter(layer))].function:
                layer["call"] = "function"  # F.relu(x), torch.flatten(x, 1), x.mean([2, 3])
            name = self.unique(name)
            if name:
                layer["name"] = name
        qualname = node.target if node.op == "call_module" else node.name
        step = Step(
            len(self.steps), qualname, self.target_text(node), inputs, node.name, layer, join
        )
        self.steps.append(step)
        self.last = f"node '{node.target if node.op == 'call_module' else node.name}'"
        fx_inputs = [
            a.name
            for a in _flat([node.args, node.kwargs])
            if self.is_tensor(a) and a.op != "get_attr"
        ]
        if fx_inputs and all(i in self.channels_last for i in fx_inputs):
            kind = next(iter(layer)) if layer else None
            if join or kind in _POINTWISE:
                self.channels_last.add(node.name)
            elif kind not in ("layernorm", "linear"):
                raise CnnCalcError(
                    f"{self.where(node)}: a {kind} on a channels-last map (after a permute)"
                )
            else:
                self.channels_last.add(node.name)

    def tensor_inputs(self, node) -> list[str]:
        found: list[str] = []

        def visit(arg):
            if isinstance(arg, (list, tuple)):
                for a in arg:
                    visit(a)
            elif self.is_tensor(arg) and arg.op != "get_attr":
                found.append(self.real(arg.name))

        visit(node.args)
        visit(list(node.kwargs.values()))
        return found

    # ---- the walk

    def read(self) -> tuple[list[Step], str, str]:
        first = output = None
        for node in self.gm.graph.nodes:
            if node.name in self.fused:
                continue
            if node.op == "placeholder":
                if not isinstance(self.values.get(node.name), self.torch.Tensor):
                    continue  # an argument traced at its default (return_all=False)
                if first is not None:
                    raise CnnCalcError(f"the module's forward takes {node.name!r} beside {first!r}")
                first = node.name
                continue
            if node.op == "output":
                outs = [a for a in _flat(node.args[0]) if isinstance(a, self.torch.fx.Node)]
                if len(outs) != 1:
                    raise CnnCalcError(f"the module returns {len(outs)} tensors; cnncalc reads one")
                output = self.real(outs[0].name)
                continue
            if node.op == "get_attr":
                continue
            value = self.values.get(node.name)
            if not isinstance(value, self.torch.Tensor) and not _tensors(self.torch, value):
                continue  # sizes and their arithmetic (x.size(), c // g): read as numbers
            self.one(node)
        assert first is not None and output is not None
        return self.steps, first, output

    def check_every_parameter_used(self, parameters: list[str]) -> None:
        """Refuse a module whose traced forward leaves parameters unused (GoogLeNet's
        auxiliary classifiers, skipped in eval mode): cnncalc would count fewer parameters
        than the module holds, and the export would not load its state_dict strictly."""
        read = {n.target for n in self.gm.graph.nodes if n.op == "get_attr"}
        unused = [
            p
            for p in parameters
            if p not in read and not any(p.startswith(f"{m}.") for m in self.called)
        ]
        if unused:
            owners = list(dict.fromkeys(p.rpartition(".")[0] or p for p in unused))
            shown = ", ".join(owners[:4]) + (
                f" and {len(owners) - 4} more" if len(owners) > 4 else ""
            )
            raise CnnCalcError(
                f"the forward pass (eval mode) never uses the parameters of {shown}; "
                "cnncalc would count fewer parameters than the module holds",
                hint="build the module without them, e.g. googlenet(aux_logits=False)",
            )

    def one(self, node) -> None:
        where = self.where(node)
        inputs = self.tensor_inputs(node)
        try:
            if node.op == "call_module":
                self.module(node, inputs, where)
            else:
                self.function(node, inputs, where)
        except ValueError as exc:  # an attribute with no cnncalc option
            raise CnnCalcError(f"{where}: {exc}") from None

    def module(self, node, inputs: list[str], where: str) -> None:
        m = self.modules[node.target]
        if type(m).__name__ == "StochasticDepth":
            self.leaf(node, inputs, {"drop_path": float(m.p), "mode": m.mode}, node.target)
            return
        if _marked_kind(m) is not None:
            self.owns_weights(node, m, where, recurse=True)
            self.leaf(node, inputs, _marked_layer(m), node.target)
            return
        for base in type(m).__mro__:
            rule = _MODULES.get(base.__name__)
            if rule is not None and base.__module__.startswith("torch.nn"):
                break
        else:
            raise CnnCalcError(
                f"{where}: the module {type(m).__name__} has no cnncalc kind",
                hint="its calls are read when it is not a torch.nn class; "
                "the README lists what cnncalc import maps",
            )
        layer = rule(m)
        rank = len(self.shape(node.args[0]))
        if next(iter(layer)) == "fc" and rank > 2:  # nn.Linear over the last axis of a map
            if node.args[0].name not in self.channels_last:
                raise CnnCalcError(
                    f"{where}: a Linear over the last axis of a {rank - 1}-D map; cnncalc "
                    "reads one after a permute to channels-last (ConvNeXt's) or a flatten"
                )
            layer = {"linear": layer.pop("fc"), **layer}
        if next(iter(layer)) == "layernorm" and node.args[0].name in self.channels_last:
            if layer["layernorm"] != 1:
                raise CnnCalcError(
                    f"{where}: a LayerNorm over more than the channels of a channels-last map"
                )
            layer["layernorm"] = "channels"
            layer["call"] = "channels_last"  # nn.LayerNorm between permutes (ConvNeXt's)
        elif type(m) is not base and LAYER_KINDS[next(iter(layer))].subclass:
            layer["call"] = "subclass"  # torchvision's Conv3DSimple, an nn.Conv3d
        self.owns_weights(node, m, where, recurse=False)
        self.leaf(node, inputs, layer, node.target)

    def owns_weights(self, node, m, where: str, recurse: bool) -> None:
        """Record a called module's weights (its own, or with ``recurse`` its submodules'
        too) as used; a second call would share them, which no cnncalc layer does."""
        if not any(True for _ in m.parameters(recurse=recurse)):
            return
        if node.target in self.called:
            raise CnnCalcError(
                f"{where}: the module is called twice, sharing its weights; "
                "cnncalc gives every layer weights of its own"
            )
        self.called.add(node.target)

    def leaf(self, node, inputs: list[str], layer: dict, name: str | None) -> None:
        if len(inputs) != 1:
            raise CnnCalcError(
                f"{self.where(node)}: {len(inputs)} computed inputs where one is expected"
            )
        self.add(node, inputs, layer, name=name)

    def function(self, node, inputs: list[str], where: str) -> None:  # noqa: C901
        torch = self.torch
        target, args, kwargs = node.target, node.args, node.kwargs
        method = target if node.op == "call_method" else None
        fn = None if method else target
        x = args[0] if args else None

        # aliases: the same tensor under another name
        if method == "contiguous":
            self.alias[node.name] = inputs[0]
            self._carry_layout(node.args[0].name, node.name)
            return
        if fn is operator.getitem:
            self._getitem(node, where)
            return
        if method in ("chunk", "split") or fn in (torch.chunk, torch.split):
            return  # its pieces are read at the getitem that takes each one

        # joins
        if fn in (operator.add, operator.iadd, torch.add) or method in ("add", "add_"):
            if len(inputs) != 2 or kwargs.get("alpha", 1) != 1:
                raise CnnCalcError(f"{where}: adding a constant has no cnncalc kind")
            self.add(node, inputs, join="add")
            return
        if fn in (operator.mul, operator.imul, torch.mul) or method in ("mul", "mul_"):
            self._mul(node, inputs, where)
            return
        if fn in (torch.cat, torch.concat, torch.concatenate):
            self._cat(node, inputs, where)
            return

        # layout
        if fn in (torch.permute, torch.movedim) or method in ("permute", "movedim"):
            self._permute(node, inputs, where)
            return
        if method in ("view", "reshape") or fn is torch.reshape:
            self._reshape(node, inputs, where)
            return
        if fn is torch.flatten or method == "flatten":
            start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
            end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
            if start == 0 and self.shape(x)[0] == 1 and end == -1:
                raise CnnCalcError(f"{where}: flatten from axis 0 flattens the batch")
            if start != 1 or end != -1:
                raise CnnCalcError(f"{where}: flatten({start}, {end}); cnncalc flattens from 1")
            self.leaf(node, inputs, {"flatten": None}, None)
            return
        if method == "mean" or fn is torch.mean:
            self._mean(node, inputs, where)
            return

        # functional layers
        layer, name = self._functional(node, where)
        self.leaf(node, inputs, layer, name)

    def _carry_layout(self, source: str, target: str) -> None:
        if source in self.channels_last:
            self.channels_last.add(target)

    def _getitem(self, node, where: str) -> None:
        x, index = node.args
        value = self.values[x.name]
        if isinstance(value, (tuple, list)):  # a piece of x.chunk / x.split
            whole = self.values[x.args[0].name] if x.args else None
            pieces = [v for v in value]
            if (
                whole is None
                or sum(p.shape[1] for p in pieces) != whole.shape[1]
                or any(p.shape[2:] != whole.shape[2:] for p in pieces)
            ):
                raise CnnCalcError(f"{where}: a piece of a split that is not on the channels")
            start = sum(p.shape[1] for p in pieces[:index])
            stop = start + pieces[index].shape[1]
            source = self.real(x.args[0].name)
            self.add(node, [source], {"select": [start, stop]})
            return
        shape = self.shape(x)
        index = index if isinstance(index, tuple) else (index,)
        if (
            len(index) == 2
            and index[0] == slice(None)
            and isinstance(index[1], slice)
            and index[1].step in (None, 1)
        ):
            start, stop, _ = index[1].indices(shape[1])
            self.add(node, [self.real(x.name)], {"select": [start, stop]})
            return
        crop = self._centre_crop(index, shape)
        if crop is not None:
            self.add(node, [self.real(x.name)], {"crop": crop}, name=self.owner(node))
            return
        raise CnnCalcError(
            f"{where}: indexing by {index!r} is neither a channel range nor a centre crop"
        )

    @staticmethod
    def _centre_crop(index: tuple, shape: tuple[int, ...]):
        """``x[:, :, a:a + s, b:b + t]`` with every offset ⌊(n − size)/2⌋ → ``crop: [s, t]``
        (U-Net's crop of a skip; the crop kind's offset rule)."""
        if len(index) != len(shape) or index[:2] != (slice(None), slice(None)):
            return None
        sizes = []
        for axis, cut in zip(shape[2:], index[2:]):
            if not isinstance(cut, slice) or cut.step not in (None, 1):
                return None
            start, stop, _ = cut.indices(axis)
            size = stop - start
            if size < 1 or start != (axis - size) // 2:
                return None
            sizes.append(size)
        return axis_shorthand(sizes)

    def _mul(self, node, inputs: list[str], where: str) -> None:
        if len(inputs) == 2:
            self.add(node, inputs, join="mul")
            return
        params = [a for a in node.args if isinstance(a, self.torch.fx.Node) and a.op == "get_attr"]
        if len(inputs) == 1 and len(params) == 1:
            weight = self.values[params[0].name]
            out = self.values[node.name]
            if (
                tuple(weight.shape) != (out.shape[1],) + (1,) * (out.dim() - 2)
                or params[0].target not in self.scalars
            ):
                raise CnnCalcError(
                    f"{where}: a product with the tensor '{params[0].target}' of shape "
                    f"{tuple(weight.shape)}, not a parameter of one scale per channel"
                )
            scale = self.scalars[params[0].target]
            self.leaf(node, inputs, {"layer_scale": scale}, params[0].target)
            return
        raise CnnCalcError(f"{where}: multiplying by a constant has no cnncalc kind")

    def _cat(self, node, inputs: list[str], where: str) -> None:
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        rank = len(self.values[node.name].shape)
        if dim not in (1, 1 - rank):
            raise CnnCalcError(f"{where}: concatenation on axis {dim}, not on the channels")
        if len(inputs) == 1:
            self.alias[node.name] = inputs[0]
            return
        key = tuple(inputs)
        # cat([a, b, c]) after cat([a, b]) is cat([cat([a, b]), c]) (DenseNet's dense block)
        for cut in range(len(key) - 1, 1, -1):
            if key[:cut] in self.cats:
                inputs = [self.cats[key[:cut]], *key[cut:]]
                break
        if key in self.cats:
            self.alias[node.name] = self.cats[key]
            return
        self.cats[key] = node.name
        self.add(node, inputs, join="concat")

    def _permute(self, node, inputs: list[str], where: str) -> None:
        rank = len(self.shape(node.args[0]))
        if node.target in ("movedim", getattr(self.torch, "movedim", None)):
            source, destination = self.value(list(node.args[1:3]))
            dims = list(range(rank))
            dims.insert(destination % rank, dims.pop(source % rank))
        else:
            given = node.kwargs.get("dims", node.args[1:])
            if len(given) == 1 and isinstance(given[0], (list, tuple)):
                given = given[0]  # x.permute([0, 2, 3, 1]) as well as x.permute(0, 2, 3, 1)
            dims = list(self.value(given))
        to_last = [0, *range(2, rank), 1]
        to_first = [0, rank - 1, *range(1, rank - 1)]
        layout = node.args[0].name
        if dims == to_last and layout not in self.channels_last:
            self.alias[node.name] = inputs[0]
            self.channels_last.add(node.name)
            return
        if dims == to_first and layout in self.channels_last:
            self.alias[node.name] = inputs[0]
            return
        raise CnnCalcError(
            f"{where}: permute{tuple(dims)}; cnncalc reads a permute to channels-last and back"
        )

    def _reshape(self, node, inputs: list[str], where: str) -> None:
        x = node.args[0]
        before, after = self.shape(x), tuple(self.values[node.name].shape)
        if len(after) == 2 and len(before) > 2:
            self.leaf(node, inputs, {"flatten": None}, None)
            return
        if before == after:
            self.alias[node.name] = inputs[0]
            return
        # channel shuffle: (N, C, H, W) → (N, g, C/g, H, W) → transpose(1, 2) → (N, C, H, W)
        turn = self._only_user(node, "transpose")
        if len(after) == len(before) + 1 and after[1] * after[2] == before[1] and turn:
            if sorted(self.value(list(turn.args[1:]))) == [1, 2]:
                end = turn
                tidy = self._only_user(end, "contiguous")
                end = tidy or end
                back = self._only_user(end, "view") or self._only_user(end, "reshape")
                back = back or self._only_user(end, "flatten")
                if back is not None and tuple(self.values[back.name].shape) == before:
                    self.fused.update(n.name for n in (turn, tidy, back) if n is not None)
                    step_node = back
                    self.add(step_node, inputs, {"shuffle": after[1]})
                    self.alias[node.name] = back.name
                    return
        raise CnnCalcError(f"{where}: a reshape of {before[1:]} to {after[1:]} is not a flatten")

    def _only_user(self, node, method: str):
        """The one node that uses ``node``, if it is ``x.method(…)`` or ``torch.method(x, …)``."""
        users = self.users.get(node.name, [])
        if len(users) != 1:
            return None
        user = users[0]
        if user.op == "call_method" and user.target == method:
            return user
        if user.op == "call_function" and user.target is getattr(self.torch, method, None):
            return user
        return None

    def _mean(self, node, inputs: list[str], where: str) -> None:
        x = node.args[0]
        dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
        keep = node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False)
        rank = len(self.shape(x))
        dims = [dims] if isinstance(dims, int) else list(self.value(dims) or [])
        if sorted(d % rank for d in dims) != list(range(2, rank)):
            raise CnnCalcError(f"{where}: a mean over axes {dims}, not over every spatial axis")
        self.leaf(node, inputs, {"gap": None}, None)
        if not keep:
            self.steps[-1].output = f"{node.name}#gap"
            self.last = f"node '{node.name}'"
            self.add(node, [f"{node.name}#gap"], {"flatten": None})

    def _functional(self, node, where: str) -> tuple[dict, str | None]:  # noqa: C901
        """A functional call (F.relu, torch.sigmoid, x.relu(), F.max_pool2d…) → its layer."""
        torch, F = self.torch, self.F
        target = node.target
        name = getattr(target, "__name__", target)
        args = [self.value(a) if not self.is_tensor(a) else a for a in node.args]
        kwargs = {
            k: (self.value(v) if not self.is_tensor(v) else v) for k, v in node.kwargs.items()
        }
        owner = self.owner(node)

        def arg(position: int, key: str, default=None):
            if key in kwargs:
                return kwargs[key]
            return args[position] if len(args) > position else default

        simple = {
            "relu": "relu",
            "relu_": "relu",
            "relu6": "relu6",
            "sigmoid": "sigmoid",
            "tanh": "tanh",
            "hardswish": "hardswish",
            "hardsigmoid": "hardsigmoid",
            "silu": "silu",
            "mish": "mish",
        }
        if name in simple and (node.op == "call_method" or target in _functions(torch, name)):
            return {simple[name]: None}, owner
        if target is F.leaky_relu:
            layer: dict[str, Any] = {"leaky_relu": None}
            _float_option(layer, "leaky_relu", arg(1, "negative_slope", 0.01), 0.01)
            return layer, owner
        if target is F.elu:
            layer = {"elu": None}
            _float_option(layer, "elu", arg(1, "alpha", 1.0), 1.0)
            return layer, owner
        if target is F.gelu or (node.op == "call_method" and name == "gelu"):
            approximate = arg(1, "approximate", "none")
            return ({"gelu": None} if approximate == "none" else {"gelu": approximate}), owner
        if target is F.dropout or target is F.dropout2d or target is F.dropout3d:
            return {"dropout": float(arg(1, "p", 0.5))}, owner
        if target in (F.softmax, torch.softmax, F.log_softmax, torch.log_softmax) or (
            node.op == "call_method" and name in ("softmax", "log_softmax")
        ):
            dim = arg(1, "dim")
            if dim not in (1, -1, None):
                raise CnnCalcError(f"{where}: over dim {dim}, not the features")
            return {"log_softmax" if "log" in name else "softmax": None}, owner
        if target in (F.max_pool1d, F.max_pool2d, F.max_pool3d, torch.max_pool2d):
            return self._pool_call(arg, "max"), owner
        if target in (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d):
            return self._pool_call(arg, "avg"), owner
        if target in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d):
            return _adaptive(arg(1, "output_size"), "avg"), owner
        if target in (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d):
            if arg(2, "return_indices", False):
                raise CnnCalcError(f"{where}: return_indices has no cnncalc option")
            return _adaptive(arg(1, "output_size"), "max"), owner
        if target is F.layer_norm:
            return self._layer_norm_call(node, arg, where)
        if name == "stochastic_depth" and "torchvision" in (
            getattr(target, "__module__", "") or ""
        ):
            return {"drop_path": float(arg(1, "p")), "mode": arg(2, "mode")}, owner
        if target is F.interpolate:
            return self._interpolate(arg, where), owner
        raise CnnCalcError(
            f"{where}: no cnncalc kind for this call",
            hint="the README's import section lists the calls cnncalc maps",
        )

    def _pool_call(self, arg, mode: str) -> dict:
        kernel = arg(1, "kernel_size")
        stride = arg(2, "stride") or kernel
        layer: dict[str, Any] = {
            "pool": mode,
            "kernel": axis_shorthand(kernel),
            "stride": axis_shorthand(stride),
        }
        _option(layer, "padding", arg(3, "padding", 0), 0)
        if mode == "max":
            _option(layer, "dilation", arg(4, "dilation", 1), 1)
            if arg(5, "ceil_mode", False):
                layer["ceil_mode"] = True
            if arg(6, "return_indices", False):
                raise ValueError("return_indices has no cnncalc option")
        else:
            if arg(4, "ceil_mode", False):
                layer["ceil_mode"] = True
            if not arg(5, "count_include_pad", True):
                layer["count_include_pad"] = False
            if arg(6, "divisor_override") is not None:
                raise ValueError("divisor_override has no cnncalc option")
        return layer

    def _layer_norm_call(self, node, arg, where: str) -> tuple[dict, str | None]:
        shape = arg(1, "normalized_shape")
        weight, bias = node.kwargs.get("weight"), node.kwargs.get("bias")
        if len(node.args) > 2:
            weight = node.args[2]
        if len(node.args) > 3:
            bias = node.args[3]
        eps = arg(4, "eps", 1e-5)
        x = node.args[0].name
        size = len(shape) if isinstance(shape, (list, tuple)) else 1
        layer: dict[str, Any] = {"layernorm": size}
        if x in self.channels_last:
            if size != 1:
                raise CnnCalcError(f"{where}: a layer_norm over more than the channels")
            layer["layernorm"] = "channels"
        _float_option(layer, "eps", eps, 1e-5)
        name = None
        for tensor in (weight, bias):
            if tensor is not None and (
                not isinstance(tensor, self.torch.fx.Node) or tensor.op != "get_attr"
            ):
                raise CnnCalcError(f"{where}: a layer_norm whose weight is computed")
        if weight is None:
            layer["elementwise_affine"] = False
        else:
            name = weight.target.rpartition(".")[0] or None
            if bias is None:
                layer["bias"] = False
        return layer, name

    def _interpolate(self, arg, where: str) -> dict:
        return _upsample_layer(
            arg(3, "mode", "nearest"),
            arg(1, "size"),
            arg(2, "scale_factor"),
            arg(4, "align_corners"),
        )


def _functions(torch, name: str) -> tuple:
    """torch.relu, torch.nn.functional.relu, torch.relu_ … : the functions called ``name``."""
    found = []
    for namespace in (torch, torch.nn.functional, torch.special):
        for candidate in (name, name.rstrip("_")):
            fn = getattr(namespace, candidate, None)
            if fn is not None:
                found.append(fn)
    return tuple(found)


def _flat(value) -> list:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _tensors(torch, value) -> bool:
    return (
        isinstance(value, (tuple, list))
        and bool(value)
        and all(isinstance(v, torch.Tensor) for v in value)
    )


# ------------------------------------------------------------------ the whole import


def torch_to_yaml(source: str, input: tuple[int, ...] | None = None) -> str:
    """The cnncalc YAML of a PyTorch module named by a ``torch:`` source (``cnncalc import``)."""
    try:
        with contextlib.redirect_stdout(sys.stderr):  # a model file's prints stay off the YAML
            return _to_yaml(source, input)
    except CnnCalcError as exc:
        raise exc.located(file=source) from None


def _to_yaml(source: str, input: tuple[int, ...] | None) -> str:
    """Build, trace, one meta-device pass for the shapes, read the nodes, write the YAML."""
    torch = _torch()
    net, python_module = build_module(source)
    shape = input_of(net, python_module, input)
    gm = trace(net)
    scalars = first_values(gm)
    values = run_shapes(gm, shape, lambda: trace(build_module(source)[0]))
    reader = _Reader(torch, net, gm, values, scalars)
    steps, first, output = reader.read()
    reader.check_every_parameter_used([n for n, _ in net.named_parameters()])
    _, name, _ = parse_source(source)
    where = source[len(PREFIX) :] if source.startswith(PREFIX) else source
    return write_yaml(
        steps,
        first,
        output,
        comments=[
            f"Imported by 'cnncalc import' from {source} (torch.fx, torch {torch.__version__})",
            "Layer names are the module's own (its state_dict loads into the export).",
        ],
        name=name,
        source=f"PyTorch {where}",
        input=shape,
    )

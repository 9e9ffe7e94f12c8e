"""An ONNX file → cnncalc's YAML (``cnncalc import model.onnx``), read, never run.

The graph is read by :mod:`cnncalc.model.onnxproto` (protobuf's wire format, weights'
bytes never read); the ``onnx`` package (the optional extra ``cnncalc[onnx]``) is loaded
only for ONNX's shape inference, when a size no weight gives is needed. Each node becomes
one layer whose options come from the node's attributes and the shapes of its constant
inputs (a Conv's weight ``[M, C/g, kh, kw]`` gives 64 filters of 3×3), and the graph's
forks and joins become nested ``add``/``concat`` branches (``from:`` references where
they cross, ``outputs:`` for several outputs; model/importgraph.py). An operator with no
cnncalc kind is refused whole (one line naming the node, its op type and the layer before
it), so a partial file is never written.

Operators mapped: Conv, ConvTranspose (output_padding, or output_shape worked back to
padding and output_padding), BatchNormalization, Relu, Clip (ReLU, ReLU6), Sigmoid,
HardSigmoid (PyTorch's α = 1/6), HardSwish (and x·HardSigmoid(x)), SiLU as x·Sigmoid(x),
Tanh, LeakyRelu, Elu, PRelu (1 or C slopes), Mish (and its pieces x·tanh(softplus(x))),
Gelu (and its Erf pieces x·0.5·(1 + erf(x/√2))), Add, Mul (the ``mul`` join: a squeeze-
and-excitation gate), Mul by a per-channel constant (``layer_scale``), Add of a per-
channel constant after a conv or fc without bias (its bias), Concat on channels (a
flattened cat of a cat read back as nested concats), Split and Slice on channels
(``select`` branches), Reshape–Transpose–Reshape as a channel shuffle, MaxPool,
AveragePool (auto_pad SAME_UPPER, SAME_LOWER, VALID on these and on Conv), a zero Pad
folded into the Conv or AveragePool after it, GlobalAveragePool, GlobalMaxPool,
ReduceMean and ReduceMax over H×W, Gemm, MatMul (+ Add of a constant bias), Flatten,
Reshape to (N, −1) or (N, C·H·W), LRN, Dropout, Softmax, LogSoftmax, Resize/Upsample by
constant scales or to constant sizes, LayerNormalization (and opset 16's
ReduceMean–Sub–Pow–ReduceMean–Add–Sqrt–Div pieces), InstanceNormalization,
GroupNormalization (opset 21; before it torch writes Reshape–InstanceNormalization–
Reshape–Mul–Add, read as one groupnorm), Identity; Transpose to channels-last (N, H, W, C)
and back as a view, with LayerNormalization over the last axis (layernorm over channels)
and MatMul (linear) in between, as ConvNeXt is written; torchvision's stochastic depth in
training mode (RandomUniformLike, Less, Cast, Div: a mask times x) as drop_path.
Slices of H and W that keep the centre (U-Net's crop of a skip) as crop. LeNet-5's layers
in the pieces cnncalc's export writes them as: AveragePool · k² · a + b (subsample),
Gather → one-filter Conv per output map → Concat (a conv with a connection table), and
Flatten–Unsqueeze–Sub–Pow–ReduceSum (rbf).
Constant nodes and shape arithmetic
(Shape, Gather, Add, Sub, Mul, Div, Unsqueeze, Squeeze, Concat, Cast, ConstantOfShape,
Reshape, Transpose, Slice of constants) are folded.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

from cnncalc.errors import CnnCalcError
from cnncalc.model.importgraph import Step, axis_shorthand, write_yaml
from cnncalc.model.onnxproto import Model, ProtoError, Tensor, read_file

MAX_ONNX_BYTES = 2_000_000_000
"""The protobuf limit: an ONNX file larger than 2 GB keeps its weights outside."""


NEWEST_OPSET = 28
"""The newest opset of the ai.onnx domain this reader was written against: onnx 1.23's
``onnx.defs.onnx_opset_version()`` (a test checks the installed onnx knows it). A newer
file may mean an operator changed; it is refused rather than misread."""


def _onnx():
    """The onnx package, loaded only for ONNX's shape inference (a Shape node, a channel
    count no weight gives): reading the graph itself needs none of it."""
    try:
        import onnx
    except ImportError:
        raise CnnCalcError(
            "reading this ONNX file needs ONNX's shape inference, from the 'onnx' package",
            hint="pip install 'cnncalc[onnx]'",
        ) from None
    return onnx


def read_model(path: Path, shown: str) -> Model:
    """The ModelProto of an ONNX file (weights' bytes skipped); a missing, truncated or
    unknown-opset file is an error."""
    if not path.exists():
        raise CnnCalcError("no such file", file=shown)
    if path.is_dir():
        raise CnnCalcError("is a directory, not an ONNX file", file=shown)
    try:
        model = read_file(path)
    except (ProtoError, OSError, ValueError) as exc:
        raise CnnCalcError(
            f"not a readable ONNX protobuf ({exc})",
            file=shown,
            hint="the file may be truncated; export it again",
        ) from None
    if not model.graph.node:
        raise CnnCalcError(
            "not a readable ONNX model: its graph has no nodes",
            file=shown,
            hint="the file may be truncated or not ONNX at all; export it again",
        )
    for domain, version in model.opset_import:
        if domain in ("", "ai.onnx") and version > NEWEST_OPSET:
            raise CnnCalcError(
                f"opset {version} is newer than the {NEWEST_OPSET} cnncalc's reader knows",
                file=shown,
                hint="export with an older opset (torch.onnx.export(..., opset_version=17))",
            )
        if domain not in ("", "ai.onnx", "ai.onnx.ml"):
            raise CnnCalcError(
                f"operators from the domain '{domain}' cannot be read",
                file=shown,
                hint="export with the standard ONNX operators only",
            )
    return model


def pads_to_padding(pads: list[int], dims: int, where: str) -> Any:
    """ONNX pads [x1_begin, x2_begin, …, x1_end, x2_end, …] → cnncalc's padding
    (an int per side, one per axis, or [top, bottom, left, right] for 2-D)."""
    if not pads:
        return 0
    begin, end = pads[:dims], pads[dims:]
    if begin == end:
        return axis_shorthand(begin)
    if dims == 2:
        return [begin[0], end[0], begin[1], end[1]]
    raise CnnCalcError(f"{where}: asymmetric padding {pads} on {dims} axes cannot be written")


class _Reader:
    """Turns the nodes of one ONNX graph into Steps, folding constants."""

    def __init__(self, model: Model, shown: str, path: Path | None = None):
        self.shown = shown
        self.path = path
        graph = model.graph
        self.model = model
        self.graph = graph
        self.const: dict[str, Any] = {}
        for init in graph.initializer:
            self.const[init.name] = init  # a TensorProto, read into numpy only when needed
        self.initializers = set(self.const)  # the module's weights, not Constant nodes
        self.alias: dict[str, str] = {}
        self.layout_last: dict[str, bool] = {}  # tensors permuted to (N, H, W, C)
        self.opset = max((v for d, v in model.opset_import if d in ("", "ai.onnx")), default=0)
        first = [i for i in graph.input if i.name not in self.const]
        self.batch = first[0].shape[0].value if first and first[0].shape else None
        self.input_rank = len(first[0].shape) if first and first[0].shape else None
        self.steps: list[Step] = []
        self.names: set[str] = set()
        self.last = "the input"

    def where(self, node) -> str:
        return f"node '{node.name or node.output[0]}' ({node.op_type}), after {self.last}"

    def attrs(self, node) -> dict:
        return {a.name: a.value for a in node.attribute}

    def real(self, name: str) -> str:
        while name in self.alias:
            name = self.alias[name]
        return name

    def data_inputs(self, node) -> list[str]:
        return [self.real(i) for i in node.input if i and self.real(i) not in self.const]

    def constant(self, node, position: int, default=None):
        if len(node.input) <= position or not node.input[position]:
            return default
        name = self.real(node.input[position])
        if name not in self.const:
            raise CnnCalcError(
                f"{self.where(node)}: input {position} is computed, not a constant; "
                "cnncalc reads it only when it is folded"
            )
        return self.values(name, node)

    def values(self, name: str, node):
        """A constant's values as a numpy array: read on first use (options' scalars and
        shape vectors), never for a weight."""
        value = self.const[name]
        if isinstance(value, Tensor):
            try:
                value = self.const[name] = value.array()
            except ProtoError as exc:
                raise CnnCalcError(f"{self.where(node)}: {exc}" if node else str(exc)) from None
        return value

    def shape_of(self, node, position: int) -> tuple[int, ...]:
        """The shape of a constant input (a weight), without reading its values."""
        if len(node.input) <= position or self.real(node.input[position]) not in self.const:
            raise CnnCalcError(f"{self.where(node)}: input {position} is not a constant weight")
        value = self.const[self.real(node.input[position])]
        return tuple(int(d) for d in (value.dims if isinstance(value, Tensor) else value.shape))

    def layer_name(self, node, weight_position: int = 1) -> str | None:
        """The module path PyTorch gave the weight (``layer1.0.conv1.weight`` → ``layer1.0.conv1``).
        The name as the node reads it: the exporter keeps one copy of equal weights (a fresh
        LayerNorm's ones) and names the others by Identity nodes, each a module's own path."""
        if len(node.input) <= weight_position:
            return None
        weight = node.input[weight_position]
        if self.real(weight) not in self.const or not weight.endswith(".weight"):
            return None
        name = weight[: -len(".weight")]
        if name in self.names:
            return None
        self.names.add(name)
        return name

    def add(self, node, inputs, layer=None, join=None) -> None:
        step = Step(
            len(self.steps), node.name, node.op_type, inputs, self.real(node.output[0]), layer, join
        )
        self.steps.append(step)
        self.last = f"node '{node.name or node.output[0]}' ({node.op_type})"

    def read(self) -> list[Step]:
        consumers: dict[str, list] = {}
        for node in self.graph.node:
            for i in node.input:
                consumers.setdefault(i, []).append(node)
        self.node_consumers = consumers
        self.producer = {out: node for node in self.graph.node for out in node.output}
        self.pad_before: dict[int, list[int]] = {}  # a Pad folded into the node after it
        fused: set[int] = set()
        for node in self.graph.node:  # constants first: a pattern reads those after it
            if node.op_type == "Constant":
                self.one(node, fused)
                fused.add(id(node))
        for node in self.graph.node:
            if id(node) in fused:
                continue
            self.one(node, fused)
        return self.steps

    def one(self, node, fused: set[int]) -> None:  # noqa: C901 — one dispatch, as tinygrad's
        op, a = node.op_type, self.attrs(node)
        where = self.where(node)
        data = self.data_inputs(node)
        if op == "Constant":
            self.const[node.output[0]] = self._constant_node(a, where)
            return
        if op == "Shape":  # the size arithmetic of x.chunk, x.view(n, …): folded
            dims = self.shape(data[0], where)
            start, end = a.get("start", 0), a.get("end", len(dims))
            self.const[node.output[0]] = self.numpy().array(dims[start:end], dtype="int64")
            return
        if not data:  # every input constant: folded, as the exporter should have done
            if op == "Identity":
                self.alias[node.output[0]] = self.real(node.input[0])
                return
            self.const[node.output[0]] = self._fold(node, op, a, where)
            return
        channels_last = any(self.layout_last.get(i) for i in node.input)
        if op in ("Identity",) or (op == "Dropout" and self._dropout_p(node, a) == 0):
            self.alias[node.output[0]] = data[0]
            self.layout_last[node.output[0]] = channels_last
            return
        if op == "Transpose":
            self._transpose(node, a, data[0], channels_last, where)
            return
        if channels_last and op in ("Add", "Mul", "Concat", "Sum", "Pad", "Split"):
            # (a single-input layer is checked once read, in _channels_last)
            raise CnnCalcError(f"{where}: {op} of a channels-last (N, H, W, C) tensor has no kind")
        if op in ("Add", "Mul") and len(data) == 1:
            self._with_constant(node, data[0], where)
            return
        if op == "Pad":
            self._pad(node, a, data[0], where)
            return
        if op == "Mul" and len(data) == 2 and data[0] == data[1]:  # x·x: an LRN's squares?
            lrn = self._lrn(node, data[0], fused)
            if lrn is not None:
                self.add(lrn[1], data[:1], lrn[0])
                return
        if op in ("Add", "Concat", "Mul", "Sum"):
            if len(data) < 2:
                raise CnnCalcError(f"{where}: an element-wise {op} with a constant has no kind")
            if op == "Concat" and a.get("axis") not in (1, -3):
                raise CnnCalcError(f"{where}: concat on axis {a.get('axis')}, not on channels")
            self.add(node, data, join={"Concat": "concat", "Mul": "mul"}.get(op, "add"))
            return
        if len(data) != 1:
            raise CnnCalcError(f"{where}: {len(data)} computed inputs where one is expected")
        if op == "Split":
            self._split(node, a, data[0], where)
            return
        pattern = self._pattern(node, fused)
        if pattern is not None:
            layer, node = pattern
        else:
            layer = self.leaf(node, op, a, where)
        if channels_last:
            layer = self._channels_last(op, layer, where)
        if op == "MatMul":
            layer, node = self._matmul_bias(node, layer, fused)
        self.layout_last[node.output[0]] = channels_last
        if isinstance(layer, list):  # two layers (ReduceMean without keepdims)
            for part in layer[:-1]:
                self.add(node, data, part)
                self.steps[-1].output = f"{node.output[0]}#{len(self.steps)}"
                data = [self.steps[-1].output]
            layer = layer[-1]
        self.add(node, data, layer)

    def _transpose(self, node, a: dict, x: str, channels_last: bool, where: str) -> None:
        """A permute to channels-last (N, H, W, C) and back, as ConvNeXt's LayerNorm2d and
        its pointwise Linears are written: a view, no layer; what runs in between is read
        per position over the channels (see :meth:`_channels_last`)."""
        perm = [int(p) for p in a.get("perm", [])]
        rank = len(perm)
        perm = [p % rank for p in perm]
        if perm == list(range(rank)):
            goes_last = channels_last
        elif perm == [0, *range(2, rank), 1] and not channels_last:
            goes_last = True
        elif perm == [0, rank - 1, *range(1, rank - 1)] and channels_last:
            goes_last = False
        else:
            raise CnnCalcError(
                f"{where}: Transpose {perm} has no cnncalc kind (only a permute of the "
                "channels to the last axis and back, or a channel shuffle, is read)"
            )
        self.alias[node.output[0]] = x
        self.layout_last[node.output[0]] = goes_last

    AGNOSTIC = frozenset(
        "relu relu6 sigmoid tanh hardswish hardsigmoid silu gelu leaky_relu elu mish "
        "identity dropout".split()
    )
    """Kinds of one element at a time, the same in any layout."""

    def _channels_last(self, op: str, layer, where: str) -> dict:
        """A layer of a channels-last tensor: LayerNormalization over the last axis is the
        layernorm over the channels at each position, MatMul by a (C, D) weight the Linear
        over the channels at each position (``linear``); element-wise layers stay."""
        if op == "LayerNormalization" and layer.get("layernorm") == 1:
            return {**layer, "layernorm": "channels"}
        if op == "MatMul":
            return {"linear": layer.pop("fc"), **layer}
        if isinstance(layer, dict) and set(layer) & self.AGNOSTIC:
            return layer
        raise CnnCalcError(f"{where}: {op} of a channels-last (N, H, W, C) tensor has no kind")

    def _constant_node(self, a: dict, where: str):
        """A Constant's value: a tensor, or (opset 12 on) one number or a list of them."""
        np = self.numpy()
        if isinstance(a.get("value"), Tensor):
            try:
                return a["value"].array()
            except ProtoError as exc:
                raise CnnCalcError(f"{where}: {exc}") from None
        for key, dtype in (("value_float", "float32"), ("value_int", "int64")):
            for name in (key, key + "s"):
                if name in a:
                    return np.array(a[name], dtype=dtype)
        raise CnnCalcError(f"{where}: only a numeric Constant can be read")

    def _with_constant(self, node, x: str, where: str) -> None:
        """x·γ with one constant per channel (γ of shape (C, 1, 1) on an (N, C, H, W) map:
        ConvNeXt's layer scale) is a ``layer_scale``; x + b, b one per channel, after a
        conv or fc that has no bias is that bias. Per channel means: broadcast as ONNX
        does (right-aligned), b is (1, C, 1, …, 1) on x's rank."""
        (const,) = [i for i in node.input if self.real(i) in self.const]  # as the node names it
        noise = self.const[self.real(const)]
        if isinstance(noise, _Noise) and node.op_type == "Mul" and noise.scaled:
            self.add(node, [x], noise.drop_path(self.batch))
            return
        dims = self.shape_of_constant(self.real(const))
        before = [step for step in self.steps if step.output == x]
        layer = before[-1].layer if before else None
        features = self._out_features(layer) if layer else None
        if node.op_type == "Add" and layer and features and layer.get("bias") is False:
            rank = 2 if "fc" in layer else len(self.shape_of(self.producer[x], 1))
            if _per_channel(dims, rank) == features and len(self.node_consumers.get(x, [])) == 1:
                del layer["bias"]  # a bias, the default
                self.alias[node.output[0]] = x
                return
        if node.op_type == "Mul" and len(dims) > 1:  # a vector (C,) would scale the last axis
            channels = _per_channel(dims, self._rank(x, where))
            if channels and channels > 1:
                scale: dict[str, Any] = {"layer_scale": None}
                if self._module_path(const) and const not in self.names:
                    self.names.add(const)
                    scale["name"] = const
                self.add(node, [x], scale)
                return
        what = "multiplying by" if node.op_type == "Mul" else "adding"
        raise CnnCalcError(
            f"{where}: {what} a constant of shape {list(dims)} has no cnncalc kind (a "
            "per-channel scale, or the bias of a conv or fc that has none, has)"
        )

    def _module_path(self, name: str) -> bool:
        """A weight named by PyTorch's module path (``features.1.0.layer_scale``), not by
        the exporter (``onnx::Mul_19``, ``123``) or a Constant node (``/Constant_output_0``)."""
        real = self.real(name)
        return real in self.initializers and "::" not in name and not name.isdigit()

    def _rank(self, tensor: str, where: str) -> int:
        """A tensor's rank: ONNX's shape inference's, or where it gave up (a Transpose by
        negative axes, as torch writes movedim), the input's: a CNN's maps keep its rank."""
        try:
            return len(self.shape(tensor, where))
        except CnnCalcError:
            if self.input_rank is None:
                raise
            return self.input_rank

    @staticmethod
    def _out_features(layer: dict) -> int | None:
        for kind in ("conv", "deconv", "fc"):
            if kind in layer:
                return int(layer[kind])
        return None

    def shape_of_constant(self, name: str) -> tuple[int, ...]:
        value = self.const[name]
        if isinstance(value, _Noise):
            return value.shape
        return tuple(int(d) for d in (value.dims if isinstance(value, Tensor) else value.shape))

    def _pad(self, node, a: dict, x: str, where: str) -> None:
        """A constant zero Pad of H×W before a Conv (or an AveragePool that counts the
        padding): folded into that node's pads, as ``F.pad`` then a conv is one padded conv."""
        mode = _text(a.get("mode", b"constant"))
        pads = self.constant(node, 1)
        pads = [int(v) for v in (a["pads"] if pads is None else pads)]
        value = self.constant(node, 2)  # opset 11 on; an attribute before
        value = (
            float(a.get("value", 0.0)) if value is None or not value.size else float(value.flat[0])
        )
        axes = self.constant(node, 3)
        after = self.node_consumers.get(node.output[0], [])
        target = after[0] if len(after) == 1 else None
        if target is not None and target.op_type == "AveragePool":
            counted = self.attrs(target).get("count_include_pad", 0)
            target = target if counted else None
        if (
            mode != "constant"
            or value != 0
            or axes is not None
            or target is None
            or target.op_type not in ("Conv", "AveragePool")
            or len(pads) < 6
            or any(pads[i] for i in (0, 1, len(pads) // 2, len(pads) // 2 + 1))
        ):
            raise CnnCalcError(
                f"{where}: Pad ({mode}, value {value}, pads {pads}) has no cnncalc kind; "
                "only a zero pad of the spatial axes before a Conv is read (as its padding)"
            )
        half = len(pads) // 2
        self.pad_before[id(target)] = pads[2:half] + pads[half + 2 :]
        self.alias[node.output[0]] = x

    def _pads(self, node, a: dict, dims: int, sizes_of, where: str) -> Any:
        """A Conv's or pool's padding: its pads (or its auto_pad) plus a Pad folded into it."""
        auto = _text(a.get("auto_pad", b"NOTSET"))
        extra = self.pad_before.pop(id(node), None)
        pads = [int(p) for p in a.get("pads", [0] * (2 * dims))]
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            if auto == "SAME_UPPER" and extra is None:
                return "same"  # cnncalc's 'same' is TensorFlow's: the extra row at the end
            # out = ⌈n/s⌉, total = (out − 1)·s + d·(k − 1) + 1 − n (ONNX's auto_pad)
            kernel, strides, dilations = sizes_of()
            sizes = self.shape(node.input[0], where)[2:]  # after any Pad folded in
            pads = [0] * (2 * dims)
            for i, (n, k, s, d) in enumerate(zip(sizes, kernel, strides, dilations)):
                total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
                small, large = total // 2, total - total // 2
                pads[i], pads[dims + i] = (small, large) if auto == "SAME_UPPER" else (large, small)
        elif auto not in ("NOTSET", "VALID"):
            raise CnnCalcError(f"{where}: auto_pad {auto} is not an ONNX padding")
        elif auto == "VALID":
            pads = [0] * (2 * dims)
        if extra is not None:
            pads = [p + e for p, e in zip(pads, extra)]
        return pads_to_padding(pads, dims, where)

    def _only_consumer(self, tensor: str, op: str):
        after = self.node_consumers.get(tensor, [])
        return after[0] if len(after) == 1 and after[0].op_type == op else None

    def _scalar(self, name: str) -> float | None:
        name = self.real(name)
        if name not in self.const:
            return None
        value = self.const[name]
        if isinstance(value, Tensor) and math.prod(value.dims) != 1:
            return None  # a weight, whose bytes are never read
        value = self.values(name, None)
        if isinstance(value, _Noise):
            return None
        return float(value.reshape(())) if value.size == 1 else None

    def _pattern(self, node, fused: set[int]):
        """Operators PyTorch writes as several nodes, read back as one layer:
        GELU as x·0.5·(1 + erf(x/√2)) (Div, Erf, Add, Mul, Mul), and the channel shuffle
        as Reshape to (N, g, C/g, H, W), Transpose (0, 2, 1, 3, 4), Reshape back."""
        if node.op_type == "Div" and self._scalar(node.input[1]) is not None:
            x = self.real(node.input[0])
            erf = self._only_consumer(node.output[0], "Erf")
            plus = erf and self._only_consumer(erf.output[0], "Add")
            times = plus and self._only_consumer(plus.output[0], "Mul")
            half = times and self._only_consumer(times.output[0], "Mul")
            if (
                half
                and math.isclose(self._scalar(node.input[1]) or 0, math.sqrt(2), rel_tol=1e-4)
                and 1.0 in (self._scalar(i) for i in plus.input)
                and x in (self.real(i) for i in times.input)
                and 0.5 in (self._scalar(i) for i in half.input)
            ):
                fused.update(id(n) for n in (erf, plus, times, half))
                return {"gelu": None}, half
        lenet5 = {"AveragePool": self._subsample, "Gather": self._table_conv, "Flatten": self._rbf}
        if node.op_type in lenet5:
            found = lenet5[node.op_type](node, fused)
            if found is not None:
                return found
        if node.op_type == "Slice":
            crop = self._crop(node, fused)
            if crop is not None:
                return crop
        if node.op_type == "ReduceMean":
            layer_norm = self._layer_norm(node, fused)
            if layer_norm is not None:
                return layer_norm
        if node.op_type in ("Sigmoid", "HardSigmoid"):  # x·σ(x), x·hardσ(x)
            times = self._only_consumer(node.output[0], "Mul")
            if times and self.real(node.input[0]) in (self.real(i) for i in times.input):
                if node.op_type == "Sigmoid":
                    fused.add(id(times))
                    return {"silu": None}, times  # SiLU (swish), as torch writes nn.SiLU
                if self.leaf(node, "HardSigmoid", self.attrs(node), self.where(node)):
                    fused.add(id(times))
                    return {"hardswish": None}, times  # before opset 14's HardSwish
        if node.op_type == "Softplus":  # Mish (Misra 2019) at opsets before 18
            x = self.real(node.input[0])
            tanh = self._only_consumer(node.output[0], "Tanh")
            times = tanh and self._only_consumer(tanh.output[0], "Mul")
            if times and x in (self.real(i) for i in times.input):
                fused.update(id(n) for n in (tanh, times))
                return {"mish": None}, times
        if node.op_type == "Reshape" and self.real(node.input[1]) in self.const:
            group_norm = self._group_norm(node, fused)
            if group_norm is not None:
                return group_norm
            target = [int(v) for v in self.constant(node, 1)]
            turn = self._only_consumer(node.output[0], "Transpose")
            back = turn and self._only_consumer(turn.output[0], "Reshape")
            if (
                len(target) == 5
                and back
                and list(self.attrs(turn).get("perm", [])) == [0, 2, 1, 3, 4]
            ):
                fused.update(id(n) for n in (turn, back))
                return {"shuffle": target[1]}, back
        return None

    _LRN_TAIL = {"Shape", "Gather", "Equal", "If", "Squeeze", "Reshape", "Mul", "Add", "Pow"}
    """The nodes between an LRN's pool and its Div: the shape test PyTorch writes (is axis 1
    of size 1? an If with a Squeeze), the reshape back, Mul α, Add k, Pow β."""

    def _lrn(self, node, x: str, fused: set[int]):
        """nn.LocalResponseNorm(n, α, β, k), for which torch.onnx has no LRN symbolic: it
        writes F.local_response_norm's pieces, Mul x·x, Reshape to (N, 1, C, H, W·…), Pad
        the channel axis, AveragePool n×1×1 (stride 1, pads counted), back to x's shape
        (Shape, Gather, Equal, If: Squeeze; Reshape), Mul α, Add k, Pow β, Div x by it:
        b = a / (k + α/n·Σ a²)^β over n neighbouring maps (Krizhevsky et al. 2012, §3.3)."""
        grow = self._only_consumer(node.output[0], "Reshape")
        pad = grow and self._only_consumer(grow.output[0], "Pad")
        pool = pad and self._only_consumer(pad.output[0], "AveragePool")
        if not pool:
            return None
        a = self.attrs(pool)
        size, *rest = [int(k) for k in a.get("kernel_shape", [])]
        if self.real(grow.input[1]) in self.const:  # else read from x.size(), after this node
            target = [int(v) for v in self.constant(grow, 1)]
            if target[1:3] != [1, self.channels(x, self.where(node))]:
                return None
        if (
            not rest
            or rest != [1] * len(rest)
            or any(int(v) != 1 for v in a.get("strides", []))
            or any(a.get("pads", []))
            or not a.get("count_include_pad", 0)
        ):
            return None
        tail: list[Any] = []
        tensors, div = [pool.output[0]], None
        while tensors and len(tail) <= 12:
            for after in self.node_consumers.get(tensors.pop(), []):
                if after.op_type == "Div" and div is None:
                    div = after
                elif after.op_type in self._LRN_TAIL and after not in tail:
                    tail.append(after)
                    tensors.extend(after.output)
                else:
                    return None
        ops = {n.op_type: n for n in tail}
        mul, add, power = ops.get("Mul"), ops.get("Add"), ops.get("Pow")
        if not (div and mul and add and power) or len(tail) != len({id(n) for n in tail}):
            return None
        if [n.op_type for n in tail].count("Mul") != 1 or self.real(div.input[0]) != x:
            return None
        scalars = [self._scalar(i) for n in (mul, add, power) for i in n.input[1:]]
        if (
            div.input[1] != power.output[0]
            or power.input[0] != add.output[0]
            or add.input[0] != mul.output[0]
            or None in scalars
        ):
            return None
        fused.update(id(n) for n in (grow, pad, pool, *tail, div))
        alpha, k, beta = (_f32(v) for v in scalars)  # type: ignore[arg-type]
        found = {"size": size, "alpha": alpha, "beta": beta, "bias": k}
        return self.leaf(node, "LRN", found, self.where(node)), div

    def _other_input(self, node, tensor: str) -> str | None:
        """The constant input of a binary node whose other input is ``tensor``."""
        others = [self.real(i) for i in node.input if self.real(i) != tensor]
        return others[0] if len(others) == 1 and others[0] in self.const else None

    def _subsample(self, node, fused: set[int]):
        """LeNet-5's trainable sub-sampling (LeCun et al. 1998) as cnncalc's export writes
        its Subsample: AveragePool of k×k, stride k, no padding; Mul by k^d (the window
        sum); Mul by one coefficient per map; Add one bias per map."""
        a = self.attrs(node)
        kernel = [int(k) for k in a.get("kernel_shape", [])]
        if len(set(kernel)) != 1 or [int(v) for v in a.get("strides", [])] != kernel:
            return None
        if any(a.get("pads", [])) or a.get("ceil_mode", 0):
            return None
        times = self._only_consumer(node.output[0], "Mul")
        scale = times and self._only_consumer(times.output[0], "Mul")
        shift = scale and self._only_consumer(scale.output[0], "Add")
        if not shift:
            return None
        window = self._other_input(times, node.output[0])
        coefficient = self._other_input(scale, times.output[0])
        bias = self._other_input(shift, scale.output[0])
        if window is None or coefficient is None or bias is None:
            return None
        rank = len(kernel) + 2
        maps = {_per_channel(self.shape_of_constant(c), rank) for c in (coefficient, bias)}
        if self._scalar(window) != kernel[0] ** len(kernel) or None in maps or len(maps) != 1:
            return None
        fused.update(id(n) for n in (times, scale, shift))
        return {"subsample": kernel[0]}, shift

    def _table_conv(self, node, fused: set[int]):
        """A partially connected convolution (LeNet-5's C3) as cnncalc's export writes its
        TableConv: per output map, a Gather of its input maps (its row of the table) and a
        one-filter Conv; a Concat of all of them on channels. One ``conv`` with ``table``."""
        x = self.real(node.input[0])
        conv = self._only_consumer(node.output[0], "Conv")
        join = conv and self._only_consumer(conv.output[0], "Concat")
        if not join or self.attrs(join).get("axis") not in (1, -3):
            return None
        branches = [self.producer.get(self.real(i)) for i in join.input]
        gathers = [b and self.producer.get(self.real(b.input[0])) for b in branches]
        rows, kept = [], {k: v for k, v in self.attrs(conv).items() if k != "kernel_shape"}
        for branch, gather in zip(branches, gathers):
            if branch is None or branch.op_type != "Conv" or gather is None:
                return None
            if gather.op_type != "Gather" or self.real(gather.input[0]) != x:
                return None
            if self.attrs(gather).get("axis") != 1 or self.real(gather.input[1]) not in self.const:
                return None
            weight = self.shape_of(branch, 1)
            same = {k: v for k, v in self.attrs(branch).items() if k != "kernel_shape"} == kept
            if weight[0] != 1 or not same or (len(branch.input) > 2) != (len(conv.input) > 2):
                return None
            rows.append([int(v) for v in self.constant(gather, 1).reshape(-1)])
        a, kernel = self.attrs(conv), list(self.shape_of(conv, 1)[2:])
        if any(int(v) != 1 for v in list(a.get("strides", [])) + list(a.get("dilations", []))):
            return None
        fused.update(id(n) for n in branches + gathers + [join])
        layer: dict[str, Any] = {"conv": len(rows), "kernel": axis_shorthand(kernel)}
        padding = pads_to_padding(
            list(a.get("pads", [0] * 2 * len(kernel))), len(kernel), self.where(conv)
        )
        if padding != 0:
            layer["padding"] = padding
        if len(conv.input) < 3:
            layer["bias"] = False
        layer["table"] = rows
        first = conv.input[1]
        if first.endswith(".maps.0.weight") and first[: -len(".maps.0.weight")] not in self.names:
            layer["name"] = first[: -len(".maps.0.weight")]
            self.names.add(layer["name"])
        return layer, join

    def _rbf(self, node, fused: set[int]):
        """LeNet-5's Euclidean RBF units as cnncalc's export writes its RBF: Flatten,
        Unsqueeze at 1, Sub the (1, units, inputs) weights, Pow 2, ReduceSum over the last
        axis: y_i = Σ_j (x_j − w_ij)²."""
        grow = self._only_consumer(node.output[0], "Unsqueeze")
        minus = grow and self._only_consumer(grow.output[0], "Sub")
        square = minus and self._only_consumer(minus.output[0], "Pow")
        total = square and self._only_consumer(square.output[0], "ReduceSum")
        if not total or self._scalar(square.input[1]) != 2:
            return None
        weight = self._other_input(minus, self.real(grow.output[0]))
        if weight is None or self._axes(total) not in ([-1], [2]):
            return None
        dims = self.shape_of_constant(weight)
        if len(dims) != 3 or dims[0] != 1 or self.attrs(total).get("keepdims", 1):
            return None
        fused.update(id(n) for n in (grow, minus, square, total))
        return {"rbf": int(dims[1])}, total

    def _axes(self, node) -> list[int] | None:
        """A Reduce's axes: an attribute before opset 18, a constant input from it on."""
        axes = self.attrs(node).get("axes")
        if axes is None:
            found = self.constant(node, 1)
            axes = None if found is None else [int(v) for v in found]
        return None if axes is None else [int(v) for v in axes]

    def _layer_norm(self, node, fused: set[int]):
        """nn.LayerNorm as torch.onnx writes it before opset 17's LayerNormalization:
        μ = ReduceMean(x), d = x − μ, σ² = ReduceMean(d²), y = d / √(σ² + ε), then Mul γ
        and Add β when it has them; the k axes reduced are the last k."""
        x, axes = self.real(node.input[0]), self._axes(node)
        sub = self._only_consumer(node.output[0], "Sub")
        if not sub or not axes or sorted(axes) != list(range(-len(axes), 0)):
            return None
        if self.real(sub.input[0]) != x or sub.input[1] != node.output[0]:
            return None
        uses = {n.op_type: n for n in self.node_consumers.get(sub.output[0], [])}
        square, div = uses.get("Pow"), uses.get("Div")
        mean = square and self._only_consumer(square.output[0], "ReduceMean")
        plus = mean and self._only_consumer(mean.output[0], "Add")
        root = plus and self._only_consumer(plus.output[0], "Sqrt")
        if square is None or mean is None or plus is None or root is None or div is None:
            return None
        if not (
            len(uses) == 2
            and div.input[1] == root.output[0]
            and self._scalar(square.input[1]) == 2.0
            and self._axes(mean) == axes
        ):
            return None
        eps = next((self._scalar(i) for i in plus.input if self._scalar(i) is not None), None)
        if eps is None:
            return None
        fused.update(id(n) for n in (sub, square, mean, plus, root, div))
        layer: dict[str, Any] = {"layernorm": len(axes)}
        self._eps(layer, {"epsilon": eps})
        last = div
        scale = self._only_consumer(div.output[0], "Mul")
        gamma = [self.real(i) for i in scale.input if self.real(i) in self.const] if scale else []
        if not gamma:
            layer["elementwise_affine"] = False
            return layer, last
        fused.add(id(scale))
        last = scale
        shift = self._only_consumer(scale.output[0], "Add")
        if shift and any(self.real(i) in self.const for i in shift.input):
            fused.add(id(shift))
            last = shift
        else:
            layer["bias"] = False
        if gamma[0].endswith(".weight") and gamma[0][: -len(".weight")] not in self.names:
            self.names.add(gamma[0][: -len(".weight")])
            layer["name"] = gamma[0][: -len(".weight")]
        return layer, last

    def _group_norm(self, node, fused: set[int]):
        """nn.GroupNorm(G, C) as torch.onnx writes it (no GroupNormalization before opset
        21's): Reshape to (N, G, −1), InstanceNormalization (γ = 1, β = 0 per group),
        Reshape back to x's shape, then Mul by γ and Add β of shape (C, 1, 1): the module's
        weights (initializers) if affine, Constant nodes of ones and zeros if not."""
        target = [int(v) for v in self.constant(node, 1)]
        norm = self._only_consumer(node.output[0], "InstanceNormalization")
        back = norm and self._only_consumer(norm.output[0], "Reshape")
        if not (back and len(target) == 3 and target[2] == -1 and target[0] in (0, self.batch)):
            return None
        shape = self.producer.get(back.input[1])
        if shape is not None and shape.op_type == "Shape" and shape.input[0] == node.input[0]:
            fused.add(id(shape))  # Shape(x): the size to reshape back to, not read
        fused.update(id(n) for n in (norm, back))
        layer: dict[str, Any] = {"groupnorm": target[1]}
        self._eps(layer, self.attrs(norm))
        last = back
        scale = self._only_consumer(back.output[0], "Mul")
        shift = scale and self._only_consumer(scale.output[0], "Add")
        constants = [
            [self.real(i) for i in n.input if self.real(i) in self.const]
            for n in (scale, shift)
            if n
        ]
        if len(constants) == 2 and all(len(c) == 1 for c in constants):
            fused.update(id(n) for n in (scale, shift))
            last = shift
            if not all(c[0] in self.initializers for c in constants):
                layer["affine"] = False
        else:
            layer["affine"] = False
        return layer, last

    @staticmethod
    def numpy():
        import numpy  # onnx's own dependency

        return numpy

    def _fold(self, node, op: str, a: dict, where: str):
        """A node of constants only (shape arithmetic), computed with numpy."""
        np = self.numpy()
        values = [self.constant(node, i) for i in range(len(node.input))]
        noise = _Noise.fold(op, values, self.attrs(node))
        if noise is not None:
            return noise
        if any(isinstance(v, _Noise) for v in values) or op.startswith("Random"):
            raise CnnCalcError(f"{where}: random numbers ({op}) other than a drop path's mask")
        binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}
        if op in binary:
            return binary[op](values[0], values[1])
        if op == "Div":
            x, y = values
            return x // y if x.dtype.kind in "iu" and y.dtype.kind in "iu" else x / y
        if op == "Gather":
            return np.take(values[0], values[1], axis=a.get("axis", 0))
        if op in ("Unsqueeze", "Squeeze"):
            axes = a.get("axes")
            axes = axes if axes is not None else (None if len(values) < 2 else values[1])
            axes = None if axes is None else tuple(int(v) for v in np.atleast_1d(axes))
            if op == "Squeeze":
                return np.squeeze(values[0], axis=axes)
            out = values[0]
            for axis in sorted(axes or ()):
                out = np.expand_dims(out, axis)
            return out
        if op == "Concat":
            return np.concatenate([np.atleast_1d(v) for v in values], axis=a.get("axis", 0))
        if op == "Cast":
            return values[0]
        if op == "ConstantOfShape":  # the zeros torch's F.pad builds its pads from
            fill = a.get("value")
            fill = np.zeros(1, "float32") if fill is None else fill.array()
            return np.full([int(v) for v in values[0]], fill.reshape(-1)[0], dtype=fill.dtype)
        if op == "Reshape":
            return values[0].reshape([int(v) for v in values[1]])
        if op == "Transpose":
            return np.transpose(values[0], a.get("perm"))
        if op == "Slice":
            starts, ends = values[1], values[2]
            axes = range(len(starts)) if len(values) < 4 or values[3] is None else values[3]
            steps = [1] * len(starts) if len(values) < 5 or values[4] is None else values[4]
            index = [slice(None)] * values[0].ndim
            for axis, start, end, step in zip(axes, starts, ends, steps):
                index[int(axis)] = slice(int(start), int(end), int(step))
            return values[0][tuple(index)]
        raise CnnCalcError(f"{where}: a node of constants only ({op}) cannot be folded")

    def shape(self, tensor: str, where: str) -> list[int]:
        """A tensor's full shape, from ONNX's shape inference (run once, only when needed)."""
        if not hasattr(self, "inferred"):
            onnx = _onnx()
            try:
                proto = onnx.load(str(self.path), load_external_data=False)
                model = onnx.shape_inference.infer_shapes(proto)
            except Exception as exc:
                raise CnnCalcError(f"{where}: ONNX shape inference failed ({exc})") from None
            self.inferred = {
                v.name: v.type.tensor_type.shape.dim
                for v in list(model.graph.value_info) + list(model.graph.input)
            }
        dims = self.inferred.get(tensor)
        if not dims or not all(d.HasField("dim_value") for d in dims):
            raise CnnCalcError(f"{where}: the shape of '{tensor}' is not known")
        return [int(d.dim_value) for d in dims]

    def channels(self, tensor: str, where: str) -> int:
        """A tensor's channels, from ONNX's shape inference (run once, only when needed)."""
        shape = self.shape(tensor, where)
        if len(shape) < 2:
            raise CnnCalcError(f"{where}: '{tensor}' has no channel axis")
        return shape[1]

    def _split(self, node, a, x: str, where: str) -> None:
        """Split on channels: one ``select: [start, stop]`` per output, each a branch."""
        if a.get("axis", 0) not in (1, -3):
            raise CnnCalcError(f"{where}: Split on axis {a.get('axis', 0)}, not on channels")
        sizes = a.get("split")
        if sizes is None:
            found = self.constant(node, 1)
            sizes = None if found is None else [int(v) for v in found]
        if sizes is None:
            count = len(node.output)
            channels = self.channels(x, where)
            sizes = [channels // count] * count
        start = 0
        for output, size in zip(node.output, sizes):
            self.add(node, [x], {"select": [start, start + int(size)]})
            self.steps[-1].output = output
            start += int(size)

    def _dropout_p(self, node, a) -> float:
        ratio = a.get("ratio")
        if ratio is None:
            found = self.constant(node, 1)
            ratio = 0.5 if found is None else float(found)
        training = self.constant(node, 2)
        if training is not None and not bool(training):
            return 0.0
        return float(ratio)

    def _matmul_bias(self, node, layer, fused):
        """MatMul(x, W) followed by Add(·, b) with a constant b is one fc with a bias."""
        after = self.node_consumers.get(node.output[0], [])
        if len(after) == 1 and after[0].op_type == "Add":
            add = after[0]
            others = [i for i in add.input if i != node.output[0]]
            if len(others) == 1 and self.real(others[0]) in self.const:
                fused.add(id(add))
                layer = {k: v for k, v in layer.items() if k != "bias"}  # bias: true, the default
                bias = self.real(others[0])
                module = bias[: -len(".bias")]  # the weight is a transposed copy; the bias is not
                if "name" not in layer and bias.endswith(".bias") and module not in self.names:
                    self.names.add(module)
                    layer["name"] = module
                return layer, add
        return layer, node

    def leaf(self, node, op, a, where) -> dict | list:  # noqa: C901
        if op in ("Conv", "ConvTranspose"):
            weight = self.shape_of(node, 1)
            dims = len(weight) - 2
            groups = int(a.get("group", 1))
            out = weight[0] if op == "Conv" else weight[1] * groups
            layer: dict[str, Any] = {"conv" if op == "Conv" else "deconv": int(out)}
            kernel = [int(k) for k in a.get("kernel_shape", weight[2:])]
            layer["kernel"] = axis_shorthand(kernel)
            self._option(layer, "stride", a.get("strides"), 1)
            if op == "Conv":
                layer["padding"] = self._pads(node, a, dims, lambda: self._window(a, kernel), where)
            else:
                layer.update(self._deconv_padding(node, a, kernel, where))
            if layer.get("padding") == 0:
                del layer["padding"]
            self._option(layer, "dilation", a.get("dilations"), 1)
            if groups != 1:
                layer["groups"] = groups
            if len(node.input) < 3 or not node.input[2]:
                layer["bias"] = False
            return self._named(layer, node)
        if op == "BatchNormalization":
            layer = {"batchnorm": self.shape_of(node, 1)[0]}
            self._eps(layer, a)
            return self._named(layer, node)
        simple = {
            "Relu": "relu",
            "Sigmoid": "sigmoid",
            "Tanh": "tanh",
            "HardSwish": "hardswish",
            "Identity": "identity",
        }
        if op in simple:
            return {simple[op]: None}
        if op in ("LeakyRelu", "Elu"):
            kind, default = ("leaky_relu", 0.01) if op == "LeakyRelu" else ("elu", 1.0)
            alpha = _f32(float(a.get("alpha", default)))
            return {kind: None if alpha == default else alpha}
        if op == "PRelu":  # slopes of shape (C, 1, 1) per channel, (1, 1, 1) for one
            slopes = self.shape_of(node, 1)
            count = math.prod(slopes)
            if count > 1 and _per_channel(slopes, self._rank(node.input[0], where)) != count:
                raise CnnCalcError(
                    f"{where}: PRelu slopes of shape {list(slopes)} do not broadcast one per "
                    "channel (PyTorch's PReLU writes (C, 1, 1))"
                )
            return {"prelu": count}
        if op == "Mish":
            return {"mish": None}
        if op == "GlobalMaxPool":
            return {"adaptive": 1, "mode": "max"}
        if op == "InstanceNormalization":
            layer = {"instancenorm": None}
            if self.real(node.input[1]).endswith(".weight"):  # a module's γ, not a constant 1
                layer["affine"] = True
            self._eps(layer, a)
            return self._named(layer, node) if "affine" in layer else layer
        if op == "GroupNormalization":
            if self.opset < 21:
                raise CnnCalcError(
                    f"{where}: GroupNormalization of opset {self.opset} has one γ per group, "
                    "PyTorch's GroupNorm one per channel; export at opset 21"
                )
            layer = {"groupnorm": int(a["num_groups"])}
            self._eps(layer, a)
            return self._named(layer, node)
        if op == "HardSigmoid":
            alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
            if not (math.isclose(alpha, 1 / 6, rel_tol=1e-5) and math.isclose(beta, 0.5)):
                raise CnnCalcError(
                    f"{where}: HardSigmoid with alpha {alpha}, beta {beta}; cnncalc's is "
                    "PyTorch's (alpha 1/6, beta 0.5)"
                )
            return {"hardsigmoid": None}
        if op == "Clip":
            low = a.get("min", self.constant(node, 1))
            high = a.get("max", self.constant(node, 2))
            low = None if low is None else float(low)
            high = None if high is None else float(high)
            if low == 0 and high == 6:
                return {"relu6": None}
            if low == 0 and high is None:
                return {"relu": None}
            raise CnnCalcError(f"{where}: Clip to [{low}, {high}] is neither ReLU nor ReLU6")
        if op in ("Softmax", "LogSoftmax"):
            if a.get("axis", -1) not in (1, -1):
                raise CnnCalcError(f"{where}: {op} over axis {a.get('axis')}, not the features")
            return {"softmax" if op == "Softmax" else "log_softmax": None}
        if op == "Dropout":
            return {"dropout": self._dropout_p(node, a)}
        if op in ("MaxPool", "AveragePool"):
            kernel = list(a["kernel_shape"])
            layer = {"pool": "max" if op == "MaxPool" else "avg", "kernel": axis_shorthand(kernel)}
            strides = list(a.get("strides", [1] * len(kernel)))
            layer["stride"] = axis_shorthand(strides)
            padding = self._pads(node, a, len(kernel), lambda: self._window(a, kernel), where)
            if padding != 0:
                layer["padding"] = padding
            if op == "MaxPool":
                self._option(layer, "dilation", a.get("dilations"), 1)
            if a.get("ceil_mode", 0):
                layer["ceil_mode"] = True
            if op == "AveragePool" and padding != 0 and not a.get("count_include_pad", 0):
                layer["count_include_pad"] = False
            return layer
        if op == "GlobalAveragePool":
            return {"gap": None}
        if op in ("ReduceMean", "ReduceMax"):
            axes = self._axes(node)
            if sorted(axes or []) not in ([2, 3], [-2, -1]):
                raise CnnCalcError(f"{where}: {op} over axes {axes}, not over H×W")
            pool = {"gap": None} if op == "ReduceMean" else {"adaptive": 1, "mode": "max"}
            return [pool] if a.get("keepdims", 1) else [pool, {"flatten": None}]
        if op == "Flatten":
            if a.get("axis", 1) != 1:
                raise CnnCalcError(f"{where}: Flatten from axis {a.get('axis')}, not from 1")
            return {"flatten": None}
        if op == "Reshape":
            target = [int(v) for v in self.constant(node, 1)]
            if len(target) == 2 and target[0] in (0, self.batch):
                return {"flatten": None}  # (N, C·H·W): the batch kept, the rest in one axis
            if len(target) == 2 and target[0] == -1:
                rest = math.prod(self.shape(self.real(node.input[0]), where)[1:])
                if target[1] == rest:
                    return {"flatten": None}
            raise CnnCalcError(f"{where}: Reshape to {target} is not a flatten")
        if op == "Slice":
            return self._slice(node, where)
        if op == "Gelu":
            approximate = a.get("approximate", b"none")
            approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
            return {"gelu": None} if approximate == "none" else {"gelu": approximate}
        if op == "LayerNormalization":
            over = len(self.shape_of(node, 1))
            layer = {"layernorm": over}
            if len(node.input) < 3 or not node.input[2]:
                layer["bias"] = False
            self._eps(layer, a)
            return self._named(layer, node)
        if op == "Gemm":
            weight = self.shape_of(node, 1)
            if a.get("transA", 0) or float(a.get("alpha", 1)) != 1 or float(a.get("beta", 1)) != 1:
                raise CnnCalcError(f"{where}: Gemm with transA, alpha or beta other than 1")
            out = weight[0] if a.get("transB", 0) else weight[1]
            layer = {"fc": int(out)}
            if len(node.input) < 3 or not node.input[2]:
                layer["bias"] = False
            return self._named(layer, node)
        if op == "MatMul":
            weight = self.shape_of(node, 1)
            if len(weight) != 2:
                raise CnnCalcError(f"{where}: MatMul by a {len(weight)}-D constant, not a matrix")
            return self._named({"fc": weight[1], "bias": False}, node)
        if op == "LRN":
            layer = {"lrn": int(a["size"])}
            for key, ours, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75)):
                if not math.isclose(float(a.get(key, default)), default):
                    layer[ours] = float(a[key])
            if not math.isclose(float(a.get("bias", 1.0)), 1.0):
                layer["k"] = float(a["bias"])
            return layer
        if op in ("Resize", "Upsample"):
            scales = a.get("scales")
            if scales is None:
                found = self.constant(node, 2 if op == "Resize" else 1)
                scales = None if found is None or found.size == 0 else list(found)
            sizes = self.constant(node, 3) if op == "Resize" and scales is None else None
            if scales is None and (sizes is None or len(sizes) < 3):
                raise CnnCalcError(f"{where}: {op} with neither constant scales nor sizes")
            if scales is None:  # to a size: F.interpolate(x, size=(h, w))
                assert sizes is not None
                layer = {"upsample": None, "size": axis_shorthand(sizes[2:])}
            else:
                scale = axis_shorthand([float(s) for s in scales[2:]]) if len(scales) > 2 else None
                if scale is None or [float(s) for s in scales[:2]] != [1.0, 1.0]:
                    raise CnnCalcError(f"{where}: {op} by {scales}, not on the spatial axes")
                layer = {"upsample": scale if isinstance(scale, list) else _integral(scale)}
            mode = _text(a.get("mode", b"nearest"))
            if mode != "nearest":
                layer["mode"] = {"linear": "bilinear", "cubic": "bicubic"}.get(mode, mode)
            if _text(a.get("coordinate_transformation_mode", b"")) == "align_corners":
                layer["align_corners"] = True
            return layer
        raise CnnCalcError(f"{where}: the operator {op} has no cnncalc kind")

    def _slice_ranges(self, node) -> dict[int, tuple[int, int]] | None:
        """A Slice's {axis: (start, end)} with step 1 (axes by the input's rank), or None."""
        a = self.attrs(node)
        starts, ends = (
            self.constant(node, 1, a.get("starts")),
            self.constant(node, 2, a.get("ends")),
        )
        axes, steps = self.constant(node, 3, a.get("axes")), self.constant(node, 4)
        if starts is None or ends is None or self.input_rank is None:
            return None
        if steps is not None and any(int(v) != 1 for v in steps):
            return None
        axes = range(len(starts)) if axes is None else axes
        rank = self.input_rank
        return {int(x) % rank: (int(b), int(e)) for x, b, e in zip(axes, starts, ends)}

    def _crop(self, node, fused: set[int]):
        """x[:, :, a:b, c:d], written as one Slice per axis: a centre crop of H×W (U-Net's
        crop of the skip before concatenating), {crop: size} when each axis keeps
        ⌊(n − size)/2⌋ … ⌊(n − size)/2⌋ + size, as cnncalc's crop does."""
        ranges = self._slice_ranges(node)
        if not ranges or any(axis < 2 for axis in ranges):
            return None
        last = node
        while True:
            after = self._only_consumer(last.output[0], "Slice")
            more = self._slice_ranges(after) if after else None
            if not more or any(axis < 2 or axis in ranges for axis in more):
                break
            ranges.update(more)
            fused.add(id(after))
            last = after
        where = self.where(node)
        sizes = self.shape(self.real(node.input[0]), where)[2:]
        crop = []
        for axis, n in enumerate(sizes, 2):
            start, end = ranges.get(axis, (0, n))
            start, end = (v + n if v < 0 else min(v, n) for v in (start, end))
            if start != (n - (end - start)) // 2:
                raise CnnCalcError(
                    f"{where}: Slice of axis {axis} from {start} to {end} of {n} is not a "
                    "centre crop (cnncalc's crop keeps the middle)"
                )
            crop.append(end - start)
        return {"crop": axis_shorthand(crop)}, last

    def _slice(self, node, where: str) -> dict:
        """Slice of channels start … stop − 1 with step 1 (``x[:, a:b]``) → select."""
        starts, ends = self.constant(node, 1), self.constant(node, 2)
        axes, steps = self.constant(node, 3), self.constant(node, 4)
        axes = [1] if axes is None else [int(v) for v in axes]
        if axes not in ([1], [-3]) or (steps is not None and [int(v) for v in steps] != [1]):
            raise CnnCalcError(f"{where}: Slice on axes {axes}, not a channel range")
        start, stop = int(starts[0]), int(ends[0])
        if stop < 0 or stop > 2**31 or start < 0:
            channels = self.channels(self.real(node.input[0]), where)
            start, stop = (v + channels if v < 0 else min(v, channels) for v in (start, stop))
        return {"select": [start, stop]}

    @staticmethod
    def _eps(layer: dict, a: dict) -> None:
        """A normalisation's ε, written only when it is not PyTorch's 1e-5."""
        eps = float(a.get("epsilon", 1e-5))
        if not math.isclose(eps, 1e-5, rel_tol=1e-6):
            layer["eps"] = _f32(eps)

    @staticmethod
    def _window(a: dict, kernel: list[int]) -> tuple[list[int], list[int], list[int]]:
        """(kernel, strides, dilations) of a Conv or pool, ONNX's defaults filled in."""
        ones = [1] * len(kernel)
        strides = [int(v) for v in a.get("strides", ones)]
        return kernel, strides, [int(v) for v in a.get("dilations", ones)]

    def _deconv_padding(self, node, a: dict, kernel: list[int], where: str) -> dict:
        """A ConvTranspose's padding and output_padding. With ``output_shape`` ONNX works
        the padding out: total = s·(n − 1) + output_padding + d·(k − 1) + 1 − out per axis;
        cnncalc's deconv pads p on both sides and adds output_padding at the end, so
        2p − output_padding = total: p = ⌈total/2⌉, output_padding = 2p − total."""
        dims = len(kernel)
        auto = _text(a.get("auto_pad", b"NOTSET"))
        if auto not in ("NOTSET", "VALID") and "output_shape" not in a:
            raise CnnCalcError(f"{where}: ConvTranspose with auto_pad {auto}: give explicit pads")
        options: dict[str, Any] = {}
        if "output_shape" not in a:
            pads = [] if auto == "VALID" else list(a.get("pads", []))
            options["padding"] = pads_to_padding(pads, dims, where)
            self._option(options, "output_padding", a.get("output_padding"), 0)
            return options
        wanted = [int(v) for v in a["output_shape"]][-dims:]
        _, strides, dilations = self._window(a, kernel)
        extra = [int(v) for v in a.get("output_padding", [0] * dims)]
        sizes = self.shape(self.real(node.input[0]), where)[2:]
        padding, output_padding = [], []
        for n, k, s, d, e, o in zip(sizes, kernel, strides, dilations, extra, wanted):
            total = s * (n - 1) + e + d * (k - 1) + 1 - o
            p = max(-(-total // 2), 0)
            padding.append(p)
            output_padding.append(2 * p - total)
        if any(op >= max(s, d) for op, s, d in zip(output_padding, strides, dilations)):
            raise CnnCalcError(
                f"{where}: output_shape {wanted} is out of a ConvTranspose's reach "
                f"(output_padding {output_padding} would not be below the stride)"
            )
        options["padding"] = axis_shorthand(padding)
        self._option(options, "output_padding", output_padding, 0)
        return options

    @staticmethod
    def _option(layer: dict, key: str, values, default: int) -> None:
        if values and any(int(v) != default for v in values):
            layer[key] = axis_shorthand(values)

    def _named(self, layer: dict, node) -> dict:
        name = self.layer_name(node)
        if name:
            layer["name"] = name
        return layer


class _Noise:
    """The random mask of a drop path in training mode, as torchvision's stochastic_depth
    is written: RandomUniformLike of a (N, 1, 1, 1) (row) or (1, 1, 1, 1) (batch) tensor,
    Less than the survival rate q (a Bernoulli(q) draw), Cast, Div by q; x times it."""

    def __init__(self, shape: tuple[int, ...], keep: float | None = None, scaled: bool = False):
        self.shape, self.keep, self.scaled = shape, keep, scaled

    @classmethod
    def fold(cls, op: str, values: list, a: dict) -> _Noise | None:
        first = values[0] if values else None
        if op == "RandomUniformLike" and first is not None and not isinstance(first, cls):
            if float(a.get("low", 0.0)) == 0.0 and float(a.get("high", 1.0)) == 1.0:
                return cls(tuple(int(d) for d in first.shape))
        if not isinstance(first, cls):
            return None
        scalar = values[1] if len(values) > 1 and getattr(values[1], "size", 0) == 1 else None
        if op == "Less" and first.keep is None and scalar is not None:
            return cls(first.shape, float(scalar.flat[0]))
        if op == "Cast":
            return first
        if op == "Div" and first.keep is not None and not first.scaled and scalar is not None:
            if float(scalar.flat[0]) == first.keep:
                return cls(first.shape, first.keep, scaled=True)
        return None

    def drop_path(self, batch: int | None) -> dict:
        """{drop_path: p} with p = 1 − q as PyTorch's float was written (q float32)."""
        p = float(f"{1 - _f32(self.keep or 1.0):.12g}")
        layer: dict[str, Any] = {"drop_path": p}
        if self.shape and self.shape[0] == 1 and batch != 1:
            layer["mode"] = "batch"  # one draw for the whole batch
        return layer


def _per_channel(dims: tuple[int, ...], rank: int) -> int | None:
    """C when a constant of these dims, broadcast (right-aligned) against a tensor of this
    rank, is (1, C, 1, …, 1): one value per channel; None otherwise."""
    if len(dims) > rank or rank < 2:
        return None
    full = (1,) * (rank - len(dims)) + tuple(dims)
    if full[0] != 1 or any(d != 1 for d in full[2:]):
        return None
    return full[1]


def _text(value) -> str:
    """A string attribute (bytes in the protobuf) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _f32(value: float) -> float:
    """A float32 attribute as the shortest decimal that is the same float32 (0.1, not
    0.10000000149011612): what the person wrote in PyTorch."""
    exact = struct.pack("<f", value)
    for digits in range(1, 10):
        short = float(f"{value:.{digits}g}")
        if struct.pack("<f", short) == exact:
            return short
    return value


def _integral(value: float):
    return int(value) if float(value).is_integer() else value


def input_of(model, shown: str, given: tuple[int, ...] | None) -> tuple[int, ...]:
    """The network's input without the batch: the graph's, or ``given`` (``--input``)."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise CnnCalcError(f"the graph has {len(inputs)} inputs; cnncalc reads one", file=shown)
    if given is not None:
        return tuple(given)
    dims = inputs[0].shape or []
    shape = []
    for position, dim in enumerate(dims[1:], 1):
        if dim.value is None:
            label = dim.param or "unnamed"
            raise CnnCalcError(
                f"input '{inputs[0].name}' has the symbolic dimension '{label}' at axis {position}",
                file=shown,
                field="--input",
                hint="give the input's size, e.g. --input 3x224x224",
            )
        shape.append(int(dim.value))
    if not shape:
        raise CnnCalcError(f"input '{inputs[0].name}' has no shape", file=shown, field="--input")
    return tuple(shape)


def onnx_to_yaml(path: Path, shown: str | None = None, input: tuple[int, ...] | None = None) -> str:
    """The cnncalc YAML of an ONNX file (``cnncalc import``)."""
    shown = shown or str(path)
    model = read_model(path, shown)
    shape = input_of(model, shown, input)
    name = model.graph.name or path.stem
    if name in ("main_graph", "torch_jit", "torch-jit-export", "main"):
        name = path.stem
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    opset = max((v for d, v in model.opset_import if d in ("", "ai.onnx")), default=0)
    try:
        reader = _Reader(model, shown, path)
        steps = reader.read()
        initializers = {i.name for i in model.graph.initializer}
        first = [i.name for i in model.graph.input if i.name not in initializers][0]
        outputs = [reader.real(o.name) for o in model.graph.output]
        return write_yaml(
            steps,
            first,
            outputs[0] if len(outputs) == 1 else outputs,
            comments=[
                f"Imported by 'cnncalc import' from {path.name} (ONNX opset {opset}"
                + (f", written by {producer})" if producer else ")"),
                "Layer names are the module paths of the weights; the rest are cnncalc's own.",
            ],
            name=name,
            source=f"ONNX file {path.name}",
            input=shape,
        )
    except CnnCalcError as exc:
        raise exc.located(file=shown) from None

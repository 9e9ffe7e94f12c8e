"""Conventions: which counts a figure adds up, and with what weight — one table, one place.

cnncalc counts raw operations once per layer (:class:`~cnncalc.ops.Ops`). Beside them a
convention may weigh a few other quantities of a layer (:data:`QUANTITIES`): the counts
textbooks use (weights, output maps, LeNet-5 connections), input and output elements,
parameters, and the odd quantities some peer tool counts, each named with its reason. A
layer's :class:`Basis` gives them for a batch.

A convention is data: for each figure (mults, adds, MACs, FLOPs, and NNDL's space) a
:data:`Table` that gives, per layer kind, a :class:`Sum` of weighted quantities
(``2·MACs − outputs + bias adds``). Because a figure is such a sum, the same data computes
it, writes its working (``FLOPs = 2·MACs = 2·117600 = 235200``) and adds up over the
layers. Every convention names its source and version, says what it counts, and gives one
line on how it differs from ``macs``; the peer presets reproduce each tool's integer
exactly, including where the tool is wrong, and ``counts`` says so where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from .arith import Shape, per_axis, prod
from .errors import CnnCalcError
from .formula import LABELS, Formula
from .ops import OP_FIELDS, Ops

if TYPE_CHECKING:
    from .kinds import Kind

DeconvCount = Literal["input", "output"]
DECONV_COUNTS: tuple[str, ...] = ("input", "output")


@dataclass(frozen=True)
class Site:
    """One layer as a convention sees it: the kind, its input and output shapes
    (channels first, no batch) and its raw operations for one sample."""

    layer: "Kind"
    x: Shape
    y: Shape
    ops: Ops

    @property
    def axes(self) -> int:
        return len(self.x) - 1


# --------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Quantity:
    """A number a convention may weigh, for a whole batch, and how working names it."""

    label: str
    doc: str
    of: Callable[[Site, int], int]


def per_sample(label: str, doc: str, fn: Callable[[Site], int]) -> Quantity:
    return Quantity(label, doc, lambda site, batch: fn(site) * batch)


def per_call(label: str, doc: str, fn: Callable[[Site], int]) -> Quantity:
    """Counted once per layer, whatever the batch: NNDL's weights, a few tools' constants."""
    return Quantity(label, doc, lambda site, batch: fn(site))


def _raw(field: str) -> Quantity:
    return per_sample(LABELS[field], f"raw count of Ops.{field}",
                      lambda s: getattr(s.ops, field))


def _output_macs(site: Site) -> int:
    """MACs with a transposed conv's counted on its output (``--deconv-count output``)."""
    moved = site.layer.output_macs(site.x, site.y)
    return site.ops.macs if moved is None else moved


def _torchscan_window(site: Site) -> int:
    """outputs · (window − 1), the window as torchscan 0.2 reads it: a pool's
    ``kernel_size`` is the product of its sides only when PyTorch stores a tuple; an int
    kernel (``MaxPool2d(3)``, how torchvision and cnncalc's export write equal sides) is
    taken as a window of 3, not 9. An adaptive pool's window per axis is n/o when o
    divides n, else n mod o + 1."""
    x, y = site.x, site.y
    if site.layer.kind == "pool":
        k = per_axis(site.layer.kernel, site.axes, "kernel")
        window = k[0] if len(set(k)) == 1 else prod(k)
    else:
        window = prod(n // o if n % o == 0 else n % o + 1 for n, o in zip(x[1:], y[1:]))
    return prod(y) * (window - 1)


def _thop_adaptive_avg(site: Site, batch: int) -> int:
    """thop 0.1.1 in float64, truncated: int((Π n/o + 1) · outputs of the batch) — inputs +
    outputs when o divides n, sometimes one less when it does not."""
    window = 1.0
    for n, o in zip(site.x[1:], site.y[1:]):
        window *= n / o
    return int((window + 1) * (prod(site.y) * batch))


def _pool_inputs(site: Site) -> int:
    """Elements a PyTorch pooling module receives: PyTorch pads both sides alike, so an
    uneven padding (TensorFlow's 'same' with an even kernel) is an explicit pad before the
    pool (cnncalc's export writes it so), and the pool sees the padded map."""
    if site.layer.kind != "pool":
        return prod(site.x)
    *_, pads = site.layer._geometry(site.x)
    if all(lo == hi for lo, hi in pads):
        return prod(site.x)
    return site.x[0] * prod(n + lo + hi for n, (lo, hi) in zip(site.x[1:], pads))


def _lrn_padded(site: Site) -> int:
    """PyTorch's local_response_norm averages x² over a channel window by padding the
    channels with size − 1 zeros and average-pooling: (c + size − 1) · positions."""
    return (site.x[0] + site.layer.size - 1) * prod(site.x[1:])


def _calflops_deconv_macs(site: Site) -> int:
    """calflops 0.3.2 takes a transposed conv's weight.shape[1] = c_o/g for c_o and
    divides it by g again: c_i·(input positions)·⌊(c_o/g)/g⌋·k (right only when g = 1)."""
    layer, x = site.layer, site.x
    k = per_axis(layer.kernel, site.axes, "kernel")
    return prod(x) * (layer.out_channels // layer.groups // layer.groups) * prod(k)


def _calflops_deconv_bias(site: Site) -> int:
    """calflops 0.3.2 counts a transposed conv's bias as (c_o/g) times the output size of an
    ordinary conv with the same options, ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 per axis."""
    layer = site.layer
    if not layer.bias:
        return 0
    _, k, s, d, p, _ = layer._axes(site.x)
    sizes = [(n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
             for n, kk, ss, dd, pp in zip(site.x[1:], k, s, d, p)]
    return layer.out_channels // layer.groups * prod(sizes)


QUANTITIES: dict[str, Quantity] = {
    **{f: _raw(f) for f in OP_FIELDS},
    "output_macs": per_sample("MACs on the output", _output_macs.__doc__, _output_macs),
    "weights": per_call("weights", "parameters that multiply an input, biases left out, "
                        "stored once (NNDL)", lambda s: s.layer.weights(s.x)),
    "maps": per_sample("output maps", "output elements of a weighted layer (NNDL's output "
                       "feature maps)", lambda s: prod(s.y) if s.layer.weighted else 0),
    "connections": per_sample("connections", "LeNet-5's connections: each output's weighted "
                              "inputs plus its bias", lambda s: s.layer.connections(s.x, s.y)),
    "inputs": per_sample("inputs", "elements of the input", lambda s: prod(s.x)),
    "outputs": per_sample("outputs", "elements of the output", lambda s: prod(s.y)),
    "params": per_sample("params", "trainable parameters, once per sample",
                         lambda s: s.layer.params(s.x)),
    "pool_inputs": per_sample("pool inputs", _pool_inputs.__doc__, _pool_inputs),
    "dropped": per_sample("dropout inputs", "elements a dropout draws a random number for "
                          "(none when p = 0)",
                          lambda s: prod(s.x) if getattr(s.layer, "p", 0) > 0 else 0),
    "axes_outputs": per_sample("axes·outputs", "outputs · spatial axes",
                               lambda s: s.axes * prod(s.y)),
    "torchscan_window": per_sample("outputs·(window − 1)", _torchscan_window.__doc__,
                                   _torchscan_window),
    "thop_adaptive_avg": Quantity("⌊(Π n/o + 1)·outputs⌋", _thop_adaptive_avg.__doc__,
                                  _thop_adaptive_avg),
    "lrn_padded": per_sample("padded channel window", _lrn_padded.__doc__, _lrn_padded),
    "calflops_deconv_macs": per_sample("calflops' MACs", _calflops_deconv_macs.__doc__,
                                       _calflops_deconv_macs),
    "calflops_deconv_bias": per_sample("calflops' bias adds", _calflops_deconv_bias.__doc__,
                                       _calflops_deconv_bias),
    "channels": per_call("channels", "input channels, once per call", lambda s: s.x[0]),
    "axes": per_call("axes", "spatial axes, once per call", lambda s: s.axes),
}

TERMS: dict[str, str] = {name: q.label for name, q in QUANTITIES.items()}
"""Every quantity and how a line of working names it."""


class Basis:
    """What a convention may weigh for one layer and a batch: the quantities of
    :data:`QUANTITIES`, each worked out when first asked for. ``deconv`` is
    ``--deconv-count`` (None: each convention's own place for a transposed conv's MACs)."""

    __slots__ = ("site", "batch", "deconv", "_on_output", "_values")

    def __init__(self, site: Site, batch: int = 1, deconv: DeconvCount | None = None):
        self.site, self.batch, self.deconv = site, batch, deconv
        self._on_output = deconv == "output"
        self._values: dict[str, int] = {}

    @property
    def ops(self) -> Ops:
        return self.site.ops.times(self.batch)

    def counting(self, deconv: DeconvCount) -> "Basis":
        """The same basis with a transposed conv's MACs counted on ``deconv``, unless
        ``--deconv-count`` chose; it shares the worked-out values."""
        view = Basis.__new__(Basis)
        view.site, view.batch, view.deconv, view._values = (
            self.site, self.batch, self.deconv, self._values)
        view._on_output = (self.deconv or deconv) == "output"
        return view

    def value(self, term: str) -> int:
        if term == "macs" and self._on_output:
            term = "output_macs"
        if term not in self._values:
            self._values[term] = QUANTITIES[term].of(self.site, self.batch)
        return self._values[term]


# --------------------------------------------------------------------------- sums and tables


@dataclass(frozen=True)
class Sum:
    """figure = Σ weight·term, e.g. 2·MACs, or 2·MACs − outputs + bias adds."""

    terms: tuple[tuple[str, int], ...]

    def of(self, basis: Basis) -> int:
        return sum(w * basis.value(t) for t, w in self.terms)

    def times(self, factor: int) -> "Sum":
        return Sum(tuple((t, w * factor) for t, w in self.terms))

    @staticmethod
    def _written(parts: list[tuple[str, int]]) -> str:
        weights = {w for _, w in parts}
        if len(weights) == 1:
            (w,) = weights
            inner = " + ".join(p for p, _ in parts)
            if w == 1:
                return inner
            return f"{w}·({inner})" if len(parts) > 1 else f"{w}·{inner}"
        text = ""
        for i, (p, w) in enumerate(parts):
            sign = "−" if w < 0 else "+"
            size = "" if abs(w) == 1 else f"{abs(w)}·"
            text += (f"{'−' if w < 0 else ''}{size}{p}" if i == 0 else f" {sign} {size}{p}")
        return text

    def symbolic(self) -> str:
        return self._written([(TERMS[t], w) for t, w in self.terms])

    def written(self, basis: Basis) -> tuple[str, str]:
        """(symbolic, substituted), the terms that are zero here left out."""
        terms = [(t, w) for t, w in self.terms if basis.value(t)] or list(self.terms[:1])
        return (self._written([(TERMS[t], w) for t, w in terms]),
                self._written([(str(basis.value(t)), w) for t, w in terms]))

    @property
    def trivial(self) -> bool:
        """One term, weight one: the figure is a basis count under another name."""
        return len(self.terms) == 1 and self.terms[0][1] == 1


def terms(*names: str, times: int = 1) -> Sum:
    """times·(a + b + …)"""
    return Sum(tuple((n, times) for n in names))


def weighted(**weights: int) -> Sum:
    """Σ weight·quantity, by keyword: weighted(macs=2, outputs=-1, bias_adds=1)."""
    return Sum(tuple(weights.items()))


NOTHING = Sum(())

Table = Mapping[str, Sum]
"""count key → the layer's sum. A layer's row is the first of its keys found, most
specific first (``pool.max.2d``, ``pool.max``, ``pool``: :meth:`Kind.count_keys`, each
tried with the number of spatial axes), else ``*``, else nothing."""


def everywhere(row: Sum) -> Table:
    return {"*": row}


def _rows(keys: str, row: Sum) -> dict[str, Sum]:
    """The same row for several space-separated keys."""
    return {key: row for key in keys.split()}


def _row(table: Table, site: Site) -> Sum:
    for key in site.layer.count_keys():
        for candidate in (f"{key}.{site.axes}d", key):
            if candidate in table:
                return table[candidate]
    return table.get("*", NOTHING)


@dataclass(frozen=True)
class Figures:
    mults: int
    adds: int
    macs: int
    flops: int
    space: int | None = None

    def __add__(self, other: "Figures") -> "Figures":
        space = (None if self.space is None and other.space is None
                 else (self.space or 0) + (other.space or 0))
        return Figures(self.mults + other.mults, self.adds + other.adds,
                       self.macs + other.macs, self.flops + other.flops, space)


FIGURES = ("mults", "adds", "macs", "flops")
NO_FIGURES = Figures(0, 0, 0, 0)


@dataclass(frozen=True)
class Convention:
    name: str
    counts: str
    """What it counts, per kind, in words (printed under every table)."""
    source: str
    """Where the rule comes from, with the version it was read from and checked against."""
    reason: str
    """One line: how its total differs from ``macs``."""
    macs: Table
    flops: Table | None = None
    """None: FLOPs = 2·MACs."""
    mults: Table | None = None
    """None: mults = MACs."""
    adds: Table | None = None
    """None: adds = MACs."""
    space: Table | None = None
    reports: str = "macs"
    """The figure that is the tool's own number ('macs' or 'flops')."""
    label: str = "MACs"
    """What the tool calls its number."""
    flops_label: str = "FLOPs"
    """What the flops figure is called under this convention (NNDL: its 'time complexity')."""
    deconv: DeconvCount = "input"
    """Where it counts a transposed conv's MACs (``--deconv-count`` overrides)."""

    def rows(self, site: Site) -> dict[str, Sum]:
        """Each figure's sum for one layer, by figure name."""
        macs = _row(self.macs, site)
        rows = {"mults": _row(self.mults, site) if self.mults is not None else macs,
                "adds": _row(self.adds, site) if self.adds is not None else macs,
                "macs": macs,
                "flops": _row(self.flops, site) if self.flops is not None else macs.times(2)}
        if self.space is not None:
            rows["space"] = _row(self.space, site)
        return rows

    def figures(self, basis: Basis) -> Figures:
        counted = basis.counting(self.deconv)
        rows = self.rows(basis.site)
        return Figures(*(rows[f].of(counted) for f in FIGURES),
                       space=rows["space"].of(counted) if "space" in rows else None)

    def reported(self, figures: Figures) -> int:
        """The tool's own number among the figures."""
        return getattr(figures, self.reports)

    def rules(self, site: Site) -> list[tuple[str, Sum]]:
        """(label, sum) of every figure of one layer, as the working names them; mults and
        adds only where the convention counts them apart from the MACs."""
        labels = {"mults": "mults", "adds": "adds", "macs": "MACs", "flops": self.flops_label,
                  "space": "space"}
        own = {"mults": self.mults, "adds": self.adds}
        return [(labels[f], rule) for f, rule in self.rows(site).items()
                if own.get(f, True) is not None]

    def terms(self) -> set[str]:
        """The quantities any figure of any kind adds up."""
        tables = (self.macs, self.flops, self.mults, self.adds, self.space)
        return {t for table in tables if table for row in table.values() for t, _ in row.terms}

    def explain(self, basis: Basis) -> list[Formula]:
        """The working of each figure this convention gives that is not zero and not
        just a count under another name (the FLOPs and space lines always show),
        named ``figure (convention)``."""
        counted = basis.counting(self.deconv)
        lines = []
        for label, rule in self.rules(basis.site):
            value = rule.of(counted)
            if value and (not rule.trivial or label in (self.flops_label, "space")):
                lines.append(Formula(f"{label} ({self.name})", *rule.written(counted), str(value)))
        return lines


MACS = terms("macs")
ALL_MACS = everywhere(MACS)
EXACT_ADDS = terms("adds", "bias_adds", "eltwise_adds")
WEIGHTS_AND_BIAS = terms("macs", "bias_adds")
ONE_FLOP_PER_TERM = weighted(macs=2, outputs=-1, bias_adds=1)
"""n mults and n − 1 adds per output of fan-in n, plus its bias: torchscan's conv and fc."""
WEIGHTED = "conv deconv fc"
"""The kinds PyTorch has modules for that every tool counts (nn.ConvNd, nn.ConvTransposeNd,
nn.Linear); cnncalc's rbf and subsample are custom modules no tool knows."""
POOLS = "pool adaptive"

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention(
        "macs",
        "multiply-accumulates of the weighted layers (conv, deconv, fc, rbf, subsample), "
        "one per weight use; bias, BatchNorm, pooling, activations and residual adds "
        "not counted; mults = adds = MACs, FLOPs = 2·MACs",
        "torchvision model docs' GFLOPS column; PyTorch FlopCounterMode ÷ 2",
        "the reference: one multiply-accumulate per weight use",
        macs=ALL_MACS),
    Convention(
        "exact",
        "every multiplication and addition a plain implementation performs: an output "
        "of fan-in n costs n mults and n − 1 adds, +1 add for a bias; BatchNorm, "
        "pooling sums, residual adds included; FLOPs = mults + adds",
        "d2l 7.4 exercise (multiplications and additions of a conv layer)",
        "counts mults and adds separately (n − 1 adds per fan-in n), plus biases, "
        "BatchNorm, pooling sums and residual adds",
        macs=ALL_MACS, mults=everywhere(terms("mults")), adds=everywhere(EXACT_ADDS),
        flops=everywhere(terms("mults", "adds", "bias_adds", "eltwise_adds")),
        reports="flops", label="mults + adds"),
    Convention(
        "nndl",
        "NNDL's complexities of the weighted layers, biases left out: time = "
        "M²·K²·C_in·C_out for a conv, one per weight use (= MACs; shown in the FLOPs "
        "column, and as mults, adds and MACs); space = weights + output feature maps",
        "NNDL (Qiu Xipeng), ch. 5, exercise 5-4",
        "its time is the MACs (one per weight use, shown as FLOPs, not 2·MACs); adds a "
        "space figure, weights + output maps",
        macs=ALL_MACS, flops=ALL_MACS, space=everywhere(terms("weights", "maps")),
        label="time (= MACs)", flops_label="time"),
    Convention(
        "lenet",
        "the connections of LeCun et al.: each output's weighted inputs plus its bias, "
        "one multiply-accumulate each (the bias multiplies a constant 1); layers "
        "without weights have none; mults = adds = MACs = connections, FLOPs = 2·MACs",
        "LeCun, Bottou, Bengio, Haffner 1998, section II.B (C1: 122,304 connections)",
        "counts each output's bias as one more connection, and a sub-sampling unit's "
        "whole window",
        macs=everywhere(terms("connections")), label="connections"),
    Convention(
        "torch",
        "FLOPs = 2 per multiply-accumulate of nn.Conv*, nn.ConvTranspose* (on its input) "
        "and nn.Linear (aten.convolution, aten.mm/addmm); bias, BatchNorm, pooling, "
        "activations and adds not counted; cnncalc's custom rbf and subsample not counted",
        "PyTorch 2.13.0 torch.utils.flop_counter.FlopCounterMode, get_total_flops()",
        "2 FLOPs per MAC of conv, deconv and fc; rbf and subsample are not PyTorch ops "
        "it counts",
        macs=_rows(WEIGHTED, MACS), reports="flops", label="FLOPs"),
    Convention(
        "fvcore",
        "one 'flop' per multiply-accumulate of conv, deconv (on its input) and linear, "
        "bias not counted; BatchNorm (inference) 2 per element; 2-D adaptive average "
        "pooling 1 per input element; ReLU, max pooling, other average pooling and adds "
        "not counted",
        "fvcore 0.1.5.post20221221 FlopCountAnalysis(...).total() (JIT trace; "
        "fvcore/nn/flop_count.py _DEFAULT_SUPPORTED_OPS)",
        "adds 2 per BatchNorm element and 1 per input element of a 2-D adaptive average "
        "pool (its 'flops' are MACs)",
        macs={**_rows(WEIGHTED, MACS), "batchnorm": terms("inputs", times=2),
              "adaptive.avg.2d": terms("inputs")},
        label="flops (one per multiply-add)"),
    Convention(
        "ptflops",
        "conv, deconv (on its input) and linear MACs plus one per bias add; BatchNorm 2 per "
        "element; ReLU 2 per element and every pooling 2 per input element, because its "
        "module hook and its patched torch.nn.functional both fire (a double count); "
        "ReLU6 1 (nn.ReLU6 calls hardtanh, which is not patched); softmax 1 and LRN "
        "3 per element plus its padded channel window; sigmoid, tanh, dropout and adds "
        "not counted",
        "ptflops 0.7.5 get_model_complexity_info(..., backend='pytorch') defaults "
        "(ptflops/pytorch_ops.py MODULES_MAPPING and FUNCTIONAL_MAPPING)",
        "adds biases, 2 per BatchNorm element, and counts ReLU and pooling twice "
        "(module hook and functional hook both fire)",
        macs={**_rows(WEIGHTED, WEIGHTS_AND_BIAS), "batchnorm": terms("inputs", times=2),
              "relu": terms("inputs", times=2), "relu6": terms("inputs"),
              **_rows(POOLS, terms("pool_inputs", times=2)), "softmax": terms("inputs"),
              "lrn": weighted(inputs=3, lrn_padded=1), "subsample": terms("inputs")}),
    Convention(
        "ptflops-aten",
        "conv, deconv (on its input) and linear MACs plus one per bias add "
        "(aten.convolution, aten.addmm/mm); nothing else",
        "ptflops 0.7.5 get_model_complexity_info(..., backend='aten') "
        "(ptflops/aten_ops.py ATEN_OPS_MAPPING)",
        "adds one per bias add of conv, deconv and fc",
        macs=_rows(WEIGHTED, WEIGHTS_AND_BIAS)),
    Convention(
        "thop",
        "conv and linear MACs, bias not counted; a transposed conv counted on its output "
        "(c_o·output positions·c_i/g·k: wrong, the work is done per input position); "
        "BatchNorm 4 per element; average pooling 1 per output; adaptive average "
        "pooling (n/o + 1) per output, i.e. inputs + outputs; softmax 3n − 1 per vector; "
        "ReLU, max pooling, dropout, sigmoid, tanh and adds not counted",
        "thop 0.1.1.post2209072238 profile() (thop/vision/basic_hooks.py)",
        "adds 4 per BatchNorm element and average pooling; counts a transposed conv on "
        "its output",
        macs={**_rows(WEIGHTED, MACS), "batchnorm": terms("inputs", times=4),
              "pool.avg": terms("outputs"), "adaptive.avg": terms("thop_adaptive_avg"),
              "softmax": weighted(exps=1, adds=1, divs=1)},
        label="MACs (ops)", deconv="output"),
    Convention(
        "torchinfo",
        "'Mult-Adds': a layer whose class name contains 'Conv' counts (weight + bias "
        "parameters)·output positions, i.e. MACs plus bias adds, a transposed conv on "
        "its output (wrong); every other layer counts its parameters once per sample "
        "(linear: MACs + bias; BatchNorm: 2 per channel, not per element); layers "
        "without parameters count nothing",
        "torchinfo 1.8.0 summary(...).total_mult_adds (LayerInfo.calculate_macs)",
        "adds biases and 2 per BatchNorm channel; counts a transposed conv on its output",
        macs={"*": terms("params"), **_rows("conv deconv", WEIGHTS_AND_BIAS)},
        label="Mult-Adds", deconv="output"),
    Convention(
        "torchscan",
        "module-formula FLOPs: conv and linear 2n − 1 per output of fan-in n plus 1 per "
        "bias; a transposed conv the same on its output (wrong) plus 8 per spatial axis "
        "per call; ReLU 1, ReLU6 2, sigmoid 4, tanh 6 and dropout (p > 0, even in "
        "inference) 1 per element; BatchNorm 4 per element + 2 per channel; pooling "
        "window − 1 per output (+1 per spatial axis for average), the window of an int "
        "kernel_size being its side, not its area (wrong); softmax, LRN and custom "
        "modules unsupported (0, its 'known' total); MACs: conv and linear MACs, "
        "BatchNorm 2 per element, pooling as in FLOPs",
        "torchscan 0.2.0 crawl_module(...)['totals']['module_flops'] and ['macs'] "
        "(known values; torchscan/modules/flops.py, macs.py)",
        "counts every mult and add (2·MACs − outputs + bias), activations, BatchNorm "
        "and pooling; a transposed conv on its output",
        macs={**_rows("conv fc", MACS), "deconv": weighted(macs=1, axes=4),
              "batchnorm": terms("inputs", times=2),
              **_rows("pool.max adaptive.max", terms("torchscan_window")),
              **_rows("pool.avg adaptive.avg", weighted(torchscan_window=1, axes_outputs=1))},
        flops={**_rows("conv fc", ONE_FLOP_PER_TERM),
               "deconv": weighted(macs=2, outputs=-1, bias_adds=1, axes=8),
               "relu": terms("inputs"), "relu6": terms("inputs", times=2),
               "sigmoid": terms("inputs", times=4), "tanh": terms("inputs", times=6),
               "dropout": terms("dropped"),
               "batchnorm": weighted(inputs=4, channels=2),
               **_rows("pool.max adaptive.max", terms("torchscan_window")),
               **_rows("pool.avg adaptive.avg", weighted(torchscan_window=1, axes_outputs=1))},
        reports="flops", label="FLOPs", deconv="output"),
    Convention(
        "calflops",
        "FLOPs: 2 per MAC of conv, deconv (on its input) and linear, plus 1 per conv bias "
        "add (a linear's bias not counted; a transposed conv's bias counted on the output "
        "size of an ordinary conv with its options: wrong); BatchNorm 2 per element; ReLU "
        "1 per element (ReLU6 not counted); every pooling 1 per input element; softmax 1 "
        "and LRN 3 per element plus its padded channel window; MACs: conv, deconv and "
        "linear only",
        "calflops 0.3.2 calculate_flops(...) (calflops/pytorch_ops.py, patched "
        "torch.nn.functional)",
        "2 FLOPs per MAC plus conv biases, BatchNorm, ReLU and 1 per pooled input element",
        macs={**_rows("conv fc", MACS), "deconv": terms("calflops_deconv_macs")},
        flops={**_rows("conv", weighted(macs=2, bias_adds=1)), "fc": terms("macs", times=2),
               "deconv": weighted(calflops_deconv_macs=2, calflops_deconv_bias=1),
               "batchnorm": terms("inputs", times=2), "relu": terms("inputs"),
               **_rows(POOLS, terms("pool_inputs")), "softmax": terms("inputs"),
               "lrn": weighted(inputs=3, lrn_padded=1), "subsample": terms("inputs")},
        reports="flops", label="FLOPS"),
)}


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CnnCalcError(f"unknown convention '{name}'", field="--convention",
                           hint=f"choose one of {', '.join(CONVENTIONS)}") from None


def check_deconv_count(value: str | None) -> DeconvCount | None:
    if value is not None and value not in DECONV_COUNTS:
        raise CnnCalcError(f"unknown transposed-conv count '{value}'", field="--deconv-count",
                           hint="input (cnncalc's) or output (thop, torchinfo, torchscan)")
    return value

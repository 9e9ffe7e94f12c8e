"""Worked answers to the textbook questions, computed with cnncalc's own algebra.

An entry is data (its name, the question in one line, its source) and a function
that works the answer out from the built-in networks, studies and layers: the
working is the layer kinds' own lines (as ``--explain`` shows them), the answer
is computed, and where course notes commonly state a different number, a
:class:`Note` says so with both numbers. Only the question, the source and the
notes' wording are text; every number comes from the analysis. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

from cnncalc.analysis.compare import compare_files
from cnncalc.analysis.explain import LayerWorking, Working
from cnncalc.analysis.pipeline import build, explain, load, loads
from cnncalc.analysis.single import explain_single
from cnncalc.analysis.stats import Analysis
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import prod, window_out
from cnncalc.kinds.formula import Formula
from cnncalc.model.spec import closest


@dataclass(frozen=True)
class Step:
    """One block of working: a title and any of formula lines, layers' working, a table
    (headers and rows of cells) or a matrix."""

    title: str
    lines: tuple[Formula, ...] = ()
    layers: tuple[LayerWorking, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    matrix: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Note:
    """Where course notes commonly state something else: what they state, as a line of
    working, the correct working, and a comment."""

    stated: Formula
    correct: tuple[Formula, ...]
    comment: str


@dataclass(frozen=True)
class Answer:
    name: str
    title: str
    question: str
    source: str
    steps: tuple[Step, ...]
    answer: tuple[Formula, ...]
    notes: tuple[Note, ...] = ()
    values: dict = field(default_factory=dict)
    """The key numbers, by name (for scripts and tests)."""


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    question: str
    source: str
    work: Callable[[], tuple[tuple[Step, ...], tuple[Formula, ...], tuple[Note, ...], dict]]


# --------------------------------------------------------------------------- helpers


def _line(layer: LayerWorking, what: str) -> Formula:
    return next(f for f in layer.lines if f.what == what)


def _row(analysis: Analysis, name: str):
    return next(r for r in analysis.layers if r.name == name)


def _result(what: str, value, symbolic: str = "", substituted: str = "", note: str = "") -> Formula:
    return Formula(what, symbolic, substituted, str(value), note)


def _ratio(a: int, b: int) -> str:
    """An exact ratio and its decimal: '53/26 ≈ 2.04', or '4' when whole."""
    r = Fraction(a, b)
    return str(r) if r.denominator == 1 else f"{r} ≈ {float(r):.2f}"


def _sum_line(what: str, symbolic: str, terms: list[int], note: str = "") -> Formula:
    return Formula(what, symbolic, " + ".join(str(t) for t in terms), str(sum(terms)), note)


def _shape_layers(w: Working, names: list[str] | None = None) -> tuple[LayerWorking, ...]:
    """The layers (all, or those named) that change the shape, with their shape lines."""
    return tuple(
        layer
        for layer in w.layers
        if (names is None or layer.name in names)
        and (names is not None or layer.lines)
        and not all(f.symbolic == "input shape" for f in layer.lines)
    )


def _variant_steps(study: str, topic: str, whats: tuple[str, ...]) -> tuple[Step, ...]:
    """Each variant of a study with its layers' lines named in ``whats``."""
    steps = []
    for name, variant in load(study).variants.items():
        w = explain(variant, topic)
        layers = tuple(
            LayerWorking(
                l.name,
                l.kind,
                l.in_shapes,
                l.out_shape,
                tuple(f for f in l.lines if f.what in whats),
            )
            for l in w.layers
            if any(f.what in whats for f in l.lines)
        )
        steps.append(Step(f"{name}: {variant.description}", layers=layers))
    return tuple(steps)


# --------------------------------------------------------------------------- LeNet-5


def _lenet5():
    w = explain(load("lenet5"), "params")
    a = w.analysis
    rows = tuple(
        (
            r.name,
            r.out_shape[0],
            "×".join(map(str, r.out_shape[1:])) or "–",
            r.params,
            r.connections,
        )
        for r in a.layers
    )
    steps = (
        Step(
            "Per layer (LeCun et al. 1998, section II.B)",
            headers=("Layer", "Maps", "Size", "Params", "Connections"),
            rows=rows,
        ),
        Step("Every layer's parameters and connections", layers=w.layers),
    )
    c3 = w.layer("C3")
    answer = (
        Formula(
            "C3 params",
            _line(c3, "params").symbolic,
            _line(c3, "params").substituted,
            _line(c3, "params").result,
        ),
        Formula(
            "C3 connections",
            _line(c3, "connections").symbolic,
            _line(c3, "connections").substituted,
            _line(c3, "connections").result,
        ),
        _sum_line("total params", "Σ params", [r.params for r in a.layers]),
        _sum_line("total connections", "Σ connections", [r.connections for r in a.layers]),
    )
    values = {
        "C3 params": _row(a, "C3").params,
        "C3 connections": _row(a, "C3").connections,
        "params": a.total.params,
        "connections": a.total.connections,
        "layers": {r.name: (r.out_shape, r.params, r.connections) for r in a.layers},
    }
    return steps, answer, (), values


# --------------------------------------------------------------------------- NNDL 5-4


def _nndl_term(r) -> str:
    """A square conv's multiplications in NNDL's letters M²·K²·C_in·C_out, with its numbers
    (read from its output shape and its weight's shape)."""
    c_out, c_in, k = r.state_dict[0][1][:3]
    return f"{r.out_shape[1]}²·{k}²·{c_in}·{c_out}"


def _nndl_notation(analysis: Analysis) -> tuple[Formula, ...]:
    """Each conv's time complexity, M²·K²·C_in·C_out."""
    return tuple(
        Formula(f"{r.name}: time", "M²·K²·C_in·C_out", _nndl_term(r), str(r.flops))
        for r in analysis.layers
        if r.kind == "conv"
    )


def _convs_sum(what: str, analysis: Analysis, field: str = "macs") -> Formula:
    """A sum over the convs of a network, each term named and then given as a number."""
    convs = [r for r in analysis.layers if r.kind == "conv"]
    return _sum_line(what, " + ".join(r.name for r in convs), [getattr(r, field) for r in convs])


def _nndl_5_4():
    nndl = compare_files(["bottleneck"], convention="nndl", topic="flops")
    macs = compare_files(["bottleneck"], convention="macs")
    steps = []
    for e in nndl.entries:
        steps.append(
            Step(
                f"{e.name}: {e.description} (NNDL convention)",
                lines=_nndl_notation(e.analysis),
                layers=e.working.layers,
            )
        )
    answer, values = [], {}
    for e, m in zip(nndl.entries, macs.entries):
        t, mt = e.analysis.total, m.analysis.total
        answer += [
            _sum_line(
                f"{e.name}: time",
                "Σ M²·K²·C_in·C_out",
                [r.flops for r in e.analysis.layers if r.flops],
            ),
            _sum_line(f"{e.name}: space", "weights + output maps", [t.basis.weights, t.basis.maps]),
            _result(
                f"{e.name}: MACs (macs convention)", mt.macs, note=f"FLOPs = 2·MACs = {mt.flops}"
            ),
        ]
        values.update(
            {
                f"{e.name} time": t.flops,
                f"{e.name} space": t.figures.space,
                f"{e.name} macs": mt.macs,
                f"{e.name} flops": mt.flops,
            }
        )
    ratio = nndl.ratio("bottleneck").values
    answer.append(
        _result("time, plain ÷ bottleneck", _ratio(values["plain time"], values["bottleneck time"]))
    )
    answer.append(
        _result(
            "space, plain ÷ bottleneck",
            _ratio(values["plain space"], values["bottleneck space"]),
            note="the bottleneck saves time but stores one more map",
        )
    )
    values["time ratio"] = ratio["flops"]
    return tuple(steps), tuple(answer), (), values


# --------------------------------------------------------------------------- d2l 7.3


D2L_PADDING_STRIDE_INPUT = "8x8"
D2L_PADDING_STRIDE = (
    dict(kernel="3", pad="1"),
    dict(kernel="5x3", pad="2,1"),
    dict(kernel="3", pad="1", stride="2"),
    dict(kernel="3x5", pad="0,1", stride="3,4"),
)
"""d2l 7.3's four settings, as the single-layer flags take them."""


_FLAG_LABELS = (("pad", "padding"), ("stride", "stride"))


def _flags_title(flags: dict) -> str:
    """'3×3, padding 1', '3×5, padding (0, 1), stride (3, 4)': a setting as d2l writes it."""

    def per_axis(text: str) -> str:
        parts = text.replace("x", ",").split(",")
        return parts[0] if len(parts) == 1 else f"({', '.join(parts)})"

    kernel = flags["kernel"].replace("x", "×")
    parts = [kernel if "×" in kernel else f"{kernel}×{kernel}"]
    parts += [f"{label} {per_axis(flags[key])}" for key, label in _FLAG_LABELS if key in flags]
    return ", ".join(parts)


def _d2l_padding_stride():
    steps, answer, values = [], [], {}
    for flags in D2L_PADDING_STRIDE:
        title = _flags_title(flags)
        w = explain_single("shape", input=D2L_PADDING_STRIDE_INPUT, **flags)
        steps.append(Step(title, layers=w.layers))
        out = w.analysis.output[1:]
        answer.append(_result(title, "×".join(map(str, out))))
        values[title] = out
    return tuple(steps), tuple(answer), (), values


# --------------------------------------------------------------------------- d2l 7.4


CHANNELS = dict(input="32x32", kernel="3", pad="1", in_channels=3, out_channels=16, bias=False)
"""The worked example: c_i = 3, 32×32, c_o = 16, 3×3, padding 1 per side (p_h = 2), stride 1."""

ONE_BY_ONE = dict(kernel="1", pad="0")
"""The example's 1×1 alternative: a 1×1 kernel, no padding."""


def _counts(**changes) -> tuple[LayerWorking, Analysis]:
    w = explain_single("flops", convention="exact", **{**CHANNELS, **changes})
    return w.layers[0], w.analysis


def _weight_shape(analysis: Analysis) -> tuple[int, ...]:
    """(c_o, c_i, k_h, k_w) of a one-conv analysis, read off its weight."""
    return analysis.layers[0].state_dict[0][1]


def _kernel_text(analysis: Analysis) -> str:
    """'1×1', '3×5': the kernel of a one-conv analysis, read off its weight."""
    return "×".join(map(str, _weight_shape(analysis)[2:]))


def _d2l_channels():
    shape = explain_single("shape", **CHANNELS).layers[0]
    base, a = _counts()
    mults, adds = a.total.mults, a.total.adds
    c_o, per, k_h, k_w = _weight_shape(a)
    h_o, w_o = a.output[1:]
    steps = [
        Step("Output size (d2l 7.3)", layers=(shape,)),
        Step(
            "Multiplications and additions: each output of fan-in n = c_i·k_h·k_w takes "
            "n multiplications and n − 1 additions (a bias would add one more)",
            lines=(_line(base, "mults"), _line(base, "adds")),
        ),
    ]
    answer = [_line(base, "mults"), _line(base, "adds")]
    values = {"mults": mults, "adds": adds}
    doubled = (
        ("c_i doubled", dict(in_channels=2 * CHANNELS["in_channels"])),
        ("c_o doubled", dict(out_channels=2 * CHANNELS["out_channels"])),
        (
            "c_i and c_o doubled",
            dict(
                in_channels=2 * CHANNELS["in_channels"], out_channels=2 * CHANNELS["out_channels"]
            ),
        ),
        ("padding doubled", dict(pad=str(2 * int(CHANNELS["pad"])))),
    )
    lines = []
    for title, change in doubled:
        layer, b = _counts(**change)
        lines += [
            Formula(
                f"{title}: mults",
                _line(layer, "mults").symbolic,
                _line(layer, "mults").substituted,
                str(b.total.mults),
                f"× {_ratio(b.total.mults, mults)}",
            ),
            Formula(
                f"{title}: adds",
                _line(layer, "adds").symbolic,
                _line(layer, "adds").substituted,
                str(b.total.adds),
                f"× {_ratio(b.total.adds, adds)}",
            ),
        ]
        answer.append(
            _result(
                title,
                f"mults × {_ratio(b.total.mults, mults)}, adds × {_ratio(b.total.adds, adds)}",
            )
        )
        values[title] = (b.total.mults, b.total.adds)
    steps.append(Step("Doubling the channels or the padding", lines=tuple(lines)))
    one, b = _counts(**ONE_BY_ONE)
    fan = per * k_h * k_w
    per_one = per * prod(_weight_shape(b)[2:])
    size = "×".join(map(str, b.output[1:]))
    same = b.output[1:] == a.output[1:]
    keeps = f"keeps the {size} output" if same else f"gives {size}, not {h_o}×{w_o}"
    steps.append(
        Step(
            f"A {_kernel_text(b)} kernel (padding {ONE_BY_ONE['pad']} {keeps})",
            lines=(
                _line(one, "mults"),
                _line(one, "adds"),
                Formula(
                    f"mults per output, {_kernel_text(a)} ÷ {_kernel_text(b)}",
                    "c_i·k_h·k_w / c_i",
                    f"{fan} / {per_one}",
                    _ratio(fan, per_one),
                    f"{_ratio(fan, per_one)} times fewer with the {_kernel_text(b)} kernel",
                ),
                Formula(
                    f"adds per output, {_kernel_text(a)} ÷ {_kernel_text(b)}",
                    "(c_i·k_h·k_w − 1) / (c_i − 1)",
                    f"{fan - 1} / {per_one - 1}",
                    _ratio(fan - 1, per_one - 1),
                    f"{_ratio(fan - 1, per_one - 1)} times fewer with the {_kernel_text(b)} kernel",
                ),
            ),
        )
    )
    answer.append(
        _result(
            f"{_kernel_text(b)} kernel, {'same output size' if same else f'{size} output'}",
            f"mults ÷ {_ratio(mults, b.total.mults)}, adds ÷ {_ratio(adds, b.total.adds)}",
        )
    )
    values["1x1"] = (b.total.mults, b.total.adds)
    notes = (
        Note(
            Formula(
                "mults",
                "k_h·k_w·c_o·H_o·W_o",
                f"{k_h}·{k_w}·{c_o}·{h_o}·{w_o}",
                str(k_h * k_w * c_o * h_o * w_o),
            ),
            (_line(base, "mults"),),
            f"The count needs the factor c_i = {per}: every output sums over all input channels.",
        ),
        Note(
            Formula(
                "adds with a 1×1 kernel",
                "1/(k_h·k_w − 1) of them",
                f"1/({k_h}·{k_w} − 1)",
                f"1/{k_h * k_w - 1}",
            ),
            (
                Formula(
                    "adds per output",
                    "(c_i − 1)/(c_i·k_h·k_w − 1)",
                    f"{per_one - 1}/{fan - 1}",
                    str(Fraction(per_one - 1, fan - 1)),
                ),
            ),
            "Per output the additions go from c_i·k_h·k_w − 1 to c_i − 1. That ratio depends "
            "on c_i, and it is never 1/(k_h·k_w − 1) once the kernel is larger than 1×1: "
            "(c_i − 1)·(k_h·k_w − 1) = c_i·k_h·k_w − 1 only when c_i + k_h·k_w = 2.",
        ),
    )
    values["1x1 adds per output"] = (fan - 1, per_one - 1)
    return tuple(steps), tuple(answer), notes, values


# --------------------------------------------------------------------------- d2l 7.5


POOLING = dict(input="8x8", kernel="2", pad="1", stride="2", in_channels=3)
"""c = 3, 8×8, a 2×2 window with padding (p_h, p_w) = (2, 2) in all (1 per side), stride 2."""


def _d2l_pooling():
    steps, answer, values = [], [], {}
    c, n = POOLING["in_channels"], int(POOLING["input"].split("x")[0])
    p, s = int(POOLING["kernel"]), int(POOLING["stride"])
    for mode in ("max", "avg"):
        w = explain_single("all", pool=mode, **POOLING)
        layer, ops = w.layers[0], w.analysis.total.ops
        steps.append(Step(f"{mode} pooling", layers=(layer,)))
        out = w.analysis.output[1]
        general = Formula(
            f"{mode}: cost",
            "c·⌊(h + s_h)/s_h⌋·⌊(w + s_w)/s_w⌋·(p_h·p_w − 1)",
            f"{c}·⌊({n} + {s})/{s}⌋·⌊({n} + {s})/{s}⌋·({p}·{p} − 1)",
            str(ops.compares or ops.adds),
            "comparisons" if mode == "max" else f"additions, plus c·H_o·W_o = {ops.divs} divisions",
        )
        answer.append(general)
        values[mode] = {"out": out, "compares": ops.compares, "adds": ops.adds, "divs": ops.divs}
    steps.insert(
        0,
        Step(
            "With padding p_h on a p_h×p_w window, the output is "
            "⌊(h − p_h + p_h + s_h)/s_h⌋ = ⌊(h + s_h)/s_h⌋ per axis; each output "
            "reads p_h·p_w elements"
        ),
    )
    return tuple(steps), tuple(answer), (), values


# --------------------------------------------------------------------------- NNDL 5-7


def conv_matrix(n: int, k: int, s: int = 1, p: int = 0) -> list[list[str]]:
    """The matrix C with y = C·x for a k×k kernel on an n×n input, inputs and outputs
    read row by row: entry (output, input) is the weight w_ab that joins them, or 0."""
    o = window_out(n, k, s, p, p)
    rows = []
    for oy in range(o):
        for ox in range(o):
            row = ["0"] * (n * n)
            for a in range(k):
                for b in range(k):
                    y, x = oy * s - p + a, ox * s - p + b
                    if 0 <= y < n and 0 <= x < n:
                        row[y * n + x] = f"w{a}{b}"
            rows.append(row)
    return rows


NNDL_5_7_SIZES = ((5, 3, 2, 1), (6, 3, 2, 1))
"""The exercise's (i, k, s, p): input, kernel, stride, padding per side."""

NNDL_5_7_MATRIX = (4, 3)
"""The exercise's (i, k) for the matrix C: a 3×3 kernel on a 4×4 input, s = 1, p = 0."""


def _nndl_5_7():
    steps, answer, values = [], [], {}
    for i, k, s, p in NNDL_5_7_SIZES:
        w = explain_single("shape", input=f"{i}x{i}", kernel=str(k), stride=str(s), pad=str(p))
        o = w.analysis.output[1]
        nndl = Formula(
            "o",
            "⌊(i + 2p − k)/s⌋ + 1",
            f"⌊({i} + 2·{p} − {k})/{s}⌋ + 1",
            str(o),
            "NNDL's form, p per side; the same as d2l's ⌊(n − k + p_h + s)/s⌋",
        )
        steps.append(Step(f"i = {i}, k = {k}, s = {s}, p = {p}", lines=(nndl,), layers=w.layers))
        answer.append(_result(f"i = {i}, k = {k}, s = {s}, p = {p}: o", o))
        values[f"o({i},{k},{s},{p})"] = o
    n, k = NNDL_5_7_MATRIX
    matrix = conv_matrix(n, k)
    fwd = explain_single("shape", input=f"{n}x{n}", kernel=str(k))
    o = fwd.analysis.output[1]
    back = explain(
        loads(
            f"input: [1, {o}, {o}]\nlayers:\n  - {{deconv: 1, kernel: {k}, name: transposed}}\n",
            "nndl-5-7",
        ),
        "shape",
    )
    steps.append(
        Step(
            f"A {k}×{k} kernel on a {n}×{n} input (i = {n}, k = {k}, s = 1, p = 0) "
            f"gives o = {o}: y = C·x with x the {n * n} inputs and y the {o * o} "
            f"outputs read row by row, C a {len(matrix)}×{n * n} matrix",
            layers=fwd.layers,
            matrix=tuple(tuple(r) for r in matrix),
        )
    )
    steps.append(
        Step(
            f"Backward: ∂L/∂x = Cᵀ·∂L/∂y, a {n * n}×{o * o} matrix — the transposed "
            f"convolution with the same kernel, which takes {o}×{o} back to {n}×{n}",
            layers=back.layers,
        )
    )
    answer.append(_result("C", f"{len(matrix)}×{n * n}", "(o·o)×(i·i)", f"({o}·{o})×({n}·{n})"))
    answer.append(
        _result(
            "backward",
            f"Cᵀ, {n * n}×{o * o}",
            note=f"a transposed conv: {o}×{o} → {back.analysis.output[1]}×"
            f"{back.analysis.output[2]}",
        )
    )
    values.update({"C": matrix, "back": back.analysis.output})
    return tuple(steps), tuple(answer), (), values


# --------------------------------------------------------------------------- studies


def _inception_1x1():
    c = compare_files(["inception-1x1"])
    plain, neck = c.entry("plain").analysis, c.entry("bottleneck").analysis
    terms = [r.mults for r in neck.layers]
    answer = (
        _result("plain: multiplications", plain.total.mults),
        _convs_sum("bottleneck: multiplications", neck, "mults"),
        _result("plain ÷ bottleneck", _ratio(plain.total.mults, neck.total.mults)),
    )
    stated_terms = [1 * 28 * 28 * 192 * 16, 5 * 5, 28 * 28 * 16 * 32]
    notes = (
        Note(
            Formula("multiplications", "", "1²·28²·192·16 + 5² + 28²·16·32", "12,433,648"),
            (
                Formula(
                    "multiplications",
                    " + ".join(_nndl_term(r) for r in neck.layers),
                    " + ".join(map(str, terms)),
                    str(sum(terms)),
                ),
            ),
            f"The 5² belongs inside the second product (28²·5²·16·32 = {terms[1]:,}); read "
            f"literally, as a term of its own, the expression comes to {sum(stated_terms):,}. "
            f"The right total is {sum(terms):,}, {sum(terms) - 12_433_648:,} more than the "
            "12,433,648 often quoted.",
        ),
    )
    values = {"plain": plain.total.mults, "bottleneck": neck.total.mults, "terms": tuple(terms)}
    return _variant_steps("inception-1x1", "flops", ("MACs",)), answer, notes, values


STATED_358M = 358_000_000


def _inception_naive():
    c = compare_files(["inception-naive"])
    naive, reduced = c.entry("naive").analysis, c.entry("reduced").analysis
    convs = [r for r in reduced.layers if r.kind == "conv"]
    answer = (
        _convs_sum("naive: multiplications", naive),
        _convs_sum("reduced: multiplications", reduced),
        _result("naive ÷ reduced", _ratio(naive.total.macs, reduced.total.macs)),
        _result("output channels", f"{naive.output[0]} vs {reduced.output[0]}"),
    )
    total = reduced.total.macs
    follows = abs(total - STATED_358M) < 500_000
    three = _row(reduced, "module.3x3").macs
    notes = (
        Note(
            _result("the reduced module", "358M operations"),
            (
                Formula(
                    "multiplications",
                    " + ".join(_nndl_term(r) for r in convs),
                    " + ".join(str(r.macs) for r in convs),
                    str(total),
                ),
            ),
            (
                f"The stated configuration gives {total:,} ≈ {round(total / 1e6)}M: "
                + (
                    "358M follows from it."
                    if follows
                    else f"358M does not follow from it. (It matches the sum with the 3×3 term "
                    f"counted twice: {total:,} + {three:,} = {total + three:,} — a likely "
                    "slip, not a documented one.)"
                )
            ),
        ),
    )
    values = {
        "naive": naive.total.macs,
        "reduced": total,
        "358M follows": follows,
        "channels": (naive.output[0], reduced.output[0]),
    }
    return _variant_steps("inception-naive", "flops", ("MACs",)), answer, notes, values


def _resnet_bottleneck():
    c = compare_files(["resnet-bottleneck"])
    basic, neck = c.entry("basic").analysis, c.entry("bottleneck").analysis
    answer = (
        _convs_sum("basic: weights", basic, "params"),
        _convs_sum("bottleneck: weights", neck, "params"),
        _result("basic ÷ bottleneck", _ratio(basic.total.params, neck.total.params)),
    )
    values = {
        "basic": basic.total.params,
        "bottleneck": neck.total.params,
        "ratio": Fraction(basic.total.params, neck.total.params),
    }
    return _variant_steps("resnet-bottleneck", "params", ("params",)), answer, (), values


# --------------------------------------------------------------------------- shapes


STATED_ALEXNET_INPUT = 224
"""The input size the AlexNet paper states (section 3.5), which its Figure 2 contradicts."""


def _flag(value) -> str:
    """A layer option as the single-layer flags take it: 11, [3, 5] → '3,5'."""
    return str(value) if isinstance(value, (int, str)) else ",".join(map(str, value))


def _alexnet_shapes():
    w = explain(load("alexnet-2gpu"), "shape")
    names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    sizes = [w.analysis.input[1]] + [_row(w.analysis, n).out_shape[1] for n in names]
    chain = [v for i, v in enumerate(sizes) if i == 0 or v != sizes[i - 1]]
    answer = (
        _result(
            "spatial size",
            " → ".join(map(str, chain)),
            note=" → ".join(f"{n} {v}" for n, v in zip(names, sizes[1:])),
        ),
    )
    conv1 = next(n for n in build(load("alexnet-2gpu")).nodes if n.name == "conv1")
    at224 = explain_single(
        "shape",
        input=f"{STATED_ALEXNET_INPUT}x{STATED_ALEXNET_INPUT}",
        kernel=_flag(conv1.layer.kernel),
        stride=_flag(conv1.layer.stride),
        pad=_flag(conv1.layer.padding),
        in_channels=conv1.in_shape[0],
        out_channels=conv1.layer.out_channels,
        groups=conv1.layer.groups,
    )
    stated, first, own = STATED_ALEXNET_INPUT, sizes[1], w.analysis.input[1:]
    notes = (
        Note(
            _result("the input", f"{stated}×{stated}"),
            (_line(at224.layers[0], "H"),),
            f"With {stated} the first layer gives {at224.analysis.output[1]}, not {first}: the "
            f"{first}×{first} maps of Figure 2 need a {'×'.join(map(str, own))} input (or "
            "padding, as torchvision uses).",
        ),
    )
    values = {"chain": tuple(chain), "at 224": at224.analysis.output[1]}
    return (
        (Step("The layers that change the size", layers=_shape_layers(w, names)),),
        answer,
        notes,
        values,
    )


def _fc_inputs(net: str):
    def work():
        w = explain(load(net), "shape")
        flatten = next(l for l in w.layers if l.kind == "flatten")
        fc = _row(w.analysis, "fc")
        params = _line(explain(load(net), "params").layer("fc"), "params")
        answer = (
            Formula(
                "fc inputs",
                _line(flatten, "features").symbolic,
                _line(flatten, "features").substituted,
                str(fc.in_shape[0]),
            ),
            Formula("fc params", params.symbolic, params.substituted, params.result),
        )
        steps = (Step("The shape through the network", layers=_shape_layers(w)),)
        return steps, answer, (), {"fc in": fc.in_shape[0], "fc params": fc.params}

    return work


def _depth_groups(analysis: Analysis, key: Callable[[str], str]) -> list[tuple[str, int]]:
    """(group, the depth it adds along the longest path), grouping layers by ``key(name)``."""
    groups: list[tuple[str, int]] = []
    reached = 0
    for r in analysis.layers:
        label = key(r.name)
        if not groups or groups[-1][0] != label:
            groups.append((label, 0))
        if r.depth > reached:
            groups[-1] = (label, groups[-1][1] + r.depth - reached)
            reached = r.depth
    return [(g, d) for g, d in groups if d]


def _longest_branches(analysis: Analysis, module: str, convs: int) -> str:
    """The kernels along a module's branches of ``convs`` weighted layers (a branch is the
    first part of a layer's name after the module's): '1×1 then 3×3 or 1×1 then 5×5'."""
    branches: dict[str, list[str]] = {}
    for r in analysis.layers:
        if r.name.startswith(module + ".") and r.weighted:
            branch = r.name[len(module) + 1 :].split(".")[0]
            branches.setdefault(branch, []).append("×".join(map(str, r.state_dict[0][1][2:])))
    paths = [" then ".join(k) for k in branches.values() if len(k) == convs]
    return " or ".join(dict.fromkeys(paths))


def _depth():
    lines, values = [], {}
    vgg = explain(load("vgg16"), "shape").analysis
    stages, count = [], 0
    for r in vgg.layers:
        if r.kind in ("pool", "adaptive") and count:
            stages.append(count)
            count = 0
        count += r.weighted
    stages.append(count)
    lines.append(
        _sum_line(
            "VGG-16",
            "conv stages + fc",
            stages,
            f"{len(stages) - 1} conv stages split by the pools, then {stages[-1]} fc",
        )
    )
    values["vgg16"] = (vgg.depth, tuple(stages))

    resnet = explain(load("resnet101"), "shape").analysis
    groups = _depth_groups(
        resnet, lambda n: ".".join(n.split(".")[:2]) if n.startswith("layer") else n.split(".")[0]
    )
    blocks = {}
    for g, d in groups:
        if g.startswith("layer"):
            blocks.setdefault(g.split(".")[0], []).append(d)
    per_block = {d for ds in blocks.values() for d in ds}
    head, tail = groups[0][1], groups[-1][1]
    counts = [len(ds) for ds in blocks.values()]
    (unit,) = per_block
    lines.append(
        Formula(
            "ResNet-101",
            "conv1 + (convs per block)·(blocks per stage) + fc",
            f"{head} + {unit}·({' + '.join(map(str, counts))}) + {tail}",
            str(resnet.depth),
            f"the longest path: {unit} convs per bottleneck block",
        )
    )
    values["resnet101"] = (resnet.depth, head, unit, tuple(counts), tail)

    google = explain(load("googlenet"), "shape").analysis
    groups = _depth_groups(google, lambda n: n.split(".")[0])
    modules = [d for g, d in groups if g.startswith("inception")]
    first = next(i for i, (g, _) in enumerate(groups) if g.startswith("inception"))
    stem = sum(d for g, d in groups[:first])
    tail = groups[-1][1]
    (unit,) = set(modules)
    lines.append(
        Formula(
            "GoogLeNet",
            "stem convs + (layers per module)·modules + fc",
            f"{stem} + {unit}·{len(modules)} + {tail}",
            str(google.depth),
            f"{', '.join(g for g, _ in groups[:first])}; each Inception module's longest "
            f"branch has {unit} convs ({_longest_branches(google, groups[first][0], unit)})",
        )
    )
    values["googlenet"] = (google.depth, stem, unit, len(modules), tail)
    steps = (
        Step(
            "Depth is the longest path counting the weighted layers (conv, fc)", lines=tuple(lines)
        ),
    )
    return steps, tuple(lines), (), values


# --------------------------------------------------------------------------- the list


ENTRIES: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry(
            "lenet5",
            "LeNet-5 layer by layer",
            "What are the maps, size, parameters and connections of each layer of LeNet-5?",
            "LeCun, Bottou, Bengio, Haffner 1998, section II.B and Table I",
            _lenet5,
        ),
        Entry(
            "nndl-5-4",
            "NNDL 5-4: the cost of a 1×1 bottleneck",
            "256 maps of 100×100 into a 3×3/256 conv, without and with a 1×1/64 conv first: "
            "time and space complexity?",
            "NNDL (Qiu Xipeng), exercise 5-4",
            _nndl_5_4,
        ),
        Entry(
            "d2l-padding-stride",
            "d2l 7.3: padding and stride on an 8×8 input",
            "What output shapes do these four padding/stride settings give on an 8×8 input?",
            "d2l (Dive into Deep Learning) 7.3",
            _d2l_padding_stride,
        ),
        Entry(
            "d2l-channels",
            "d2l 7.4: the cost of a multi-channel convolution",
            "How many multiplications and additions does a c_i×h×w → c_o conv with a k_h×k_w "
            "kernel take; what does doubling c_i, c_o, both or the padding do; what does a 1×1 "
            "kernel save?",
            "d2l 7.4, exercises",
            _d2l_channels,
        ),
        Entry(
            "d2l-pooling",
            "d2l 7.5: the cost of a pooling layer",
            "What does a pooling layer with a p_h×p_w window, padding (p_h, p_w) and stride "
            "(s_h, s_w) cost on a c×h×w input?",
            "d2l 7.5, exercises",
            _d2l_pooling,
        ),
        Entry(
            "nndl-5-7",
            "NNDL 5-7: output sizes, and convolution as a matrix",
            "o = ⌊(i + 2p − k)/s⌋ + 1 for (5, 3, 2, 1) and (6, 3, 2, 1); the matrix C of a 3×3 "
            "kernel on a 4×4 input; what does the backward pass multiply by?",
            "NNDL exercise 5-7; Dumoulin & Visin 2016, A guide to convolution arithmetic, 4.1",
            _nndl_5_7,
        ),
        Entry(
            "inception-1x1",
            "The 1×1 bottleneck before a 5×5",
            "28×28×192 into 32 filters of 5×5 'same', without and with a 1×1/16 first: how "
            "many multiplications?",
            "deeplearning.ai CNN course, week 2",
            _inception_1x1,
        ),
        Entry(
            "inception-naive",
            "A naive Inception module vs 1×1 reductions",
            "256×28×28 into 1×1/128, 3×3/192, 5×5/96 and a max pool, without and with 1×1/64 "
            "reductions: how many multiplications?",
            "Szegedy et al. 2015, Figure 2; CS231n 2017 lecture 9",
            _inception_naive,
        ),
        Entry(
            "resnet-bottleneck",
            "ResNet's bottleneck block",
            "On a 256-d input, how many weights do two 3×3/256 convs have, and a 1×1/64 → "
            "3×3/64 → 1×1/256 bottleneck?",
            "He et al. 2016, section 4.1",
            _resnet_bottleneck,
        ),
        Entry(
            "alexnet-shapes",
            "AlexNet's map sizes",
            "Why are AlexNet's maps 55, 27, 13 and 6 pixels wide?",
            "Krizhevsky, Sutskever, Hinton 2012, Figure 2",
            _alexnet_shapes,
        ),
        Entry(
            "mnist-inception",
            "The MNIST Inception network's last layer",
            "Why does the final fc layer of the course's Inception network take 1,408 inputs?",
            "Liu Er, PyTorch deep learning practice, lecture 11",
            _fc_inputs("mnist-inception"),
        ),
        Entry(
            "mnist-resnet",
            "The MNIST ResNet's last layer",
            "Why does the final fc layer of the course's residual network take 512 inputs?",
            "Liu Er, PyTorch deep learning practice, lecture 11",
            _fc_inputs("mnist-resnet"),
        ),
        Entry(
            "depth",
            "Depth of VGG-16, ResNet-101 and GoogLeNet",
            "Where do the 16 of VGG-16, the 101 of ResNet-101 and GoogLeNet's 22 come from?",
            "Simonyan & Zisserman 2015; He et al. 2016; Szegedy et al. 2015",
            _depth,
        ),
    )
}


def register(*new: Entry) -> None:
    """Add answers worked out in another module (cnncalc/answers/modern.py) to the list."""
    ENTRIES.update((e.name, e) for e in new)


def entries() -> list[Entry]:
    return list(ENTRIES.values())


def answer(name: str) -> Answer:
    """Work one entry out."""
    entry = ENTRIES.get(name.strip().lower())
    if entry is None:
        close = closest(name, ENTRIES)
        raise CnnCalcError(
            f"no answer called '{name}'",
            field="answers",
            hint=f"did you mean '{close}'? 'cnncalc answers' lists them"
            if close
            else "'cnncalc answers' lists them",
        )
    steps, result, notes, values = entry.work()
    return Answer(
        entry.name,
        entry.title,
        entry.question,
        entry.source,
        tuple(steps),
        tuple(result),
        tuple(notes),
        values,
    )

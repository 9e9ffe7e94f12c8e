"""The working (``--explain``): each line is a formula, the formula with the layer's numbers,
and the result; the numbers come from the layer's own options and shapes.

Two kinds of check: the lines the issue and the textbooks print, written out here; and,
for every built-in network, that every substituted line really evaluates to its result
and that the result is the number the tables print.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

import pytest

from cnncalc.analysis.explain import work
from cnncalc.analysis.pipeline import build, load, loads
from cnncalc.analysis.stats import analyse_graph
from cnncalc.kinds.formula import RECEPTIVE_LINES
from cnncalc.model.zoo import zoo_names

NETWORKS = [n for n in zoo_names() if load(n).variants is None]


@functools.lru_cache(maxsize=None)
def working(net: str, topic: str, convention: str = "macs"):
    graph = build(load(net))
    return work(graph, analyse_graph(graph, convention=convention), topic)


def lines_of(w, name: str) -> dict[str, object]:
    return {f.what: f for f in w.layer(name).lines}


def one(layer: str, input: str, topic: str = "all", convention: str = "exact"):
    graph = build(loads(f"input: {input}\nlayers:\n  - {layer}\n"))
    return work(graph, analyse_graph(graph, convention=convention), topic).layers[0]


# --------------------------------------------------------------------------- the issue's lines


def test_lenet5_c1_height_line_is_the_issues():
    """Issue 3: C1  H = ⌊(n_h − k_h + p_h + s_h) / s_h⌋ = ⌊(32 − 5 + 0 + 1) / 1⌋ = 28."""
    h = lines_of(working("lenet5", "shape"), "C1")["H"]
    assert (h.symbolic, h.substituted, h.result) == (
        "⌊(n_h − k_h + p_h + s_h) / s_h⌋",
        "⌊(32 − 5 + 0 + 1) / 1⌋",
        "28",
    )


def test_lenet5_c3_params_line_is_the_issues():
    """Issue 3: C3 params = Σ (|inputs|·k_h·k_w + 1) = 6·(3·25+1) + 6·(4·25+1) + 3·(4·25+1)
    + 1·(6·25+1) = 1516 (LeCun et al. 1998, Table I)."""
    p = lines_of(working("lenet5", "params"), "C3")["params"]
    assert p.symbolic == "Σ (|inputs|·k_h·k_w + 1)"
    assert p.substituted == "6·(3·25+1) + 6·(4·25+1) + 3·(4·25+1) + 1·(6·25+1)"
    assert p.result == str(
        6 * (3 * 25 + 1) + 6 * (4 * 25 + 1) + 3 * (4 * 25 + 1) + 1 * (6 * 25 + 1)
    )


def test_lenet5_c3_connections_are_params_times_positions():
    """The paper: 151,600 connections = 1,516 per position · 10·10 positions."""
    c = lines_of(working("lenet5", "params"), "C3")["connections"]
    assert c.substituted == "10·10·1516" and c.result == str(151_600)


def test_per_side_padding_is_shown_as_the_total():
    """d2l's p_h is the total padding: padding 1 per side is p_h = 1 + 1 = 2, and the line says so."""
    h = {f.what: f for f in one("{conv: 1, kernel: 3, padding: 1}", "[1, 8, 8]", "shape").lines}[
        "H"
    ]
    assert h.substituted == "⌊(8 − 3 + 2 + 1) / 1⌋" and h.result == "8"
    assert "p_h = 1 + 1 = 2" in h.note and "both sides" in h.note


def test_asymmetric_padding_shows_both_sides():
    h = {
        f.what: f
        for f in one("{conv: 1, kernel: 3, padding: [0, 1, 2, 3]}", "[1, 8, 8]", "shape").lines
    }
    assert h["H"].substituted == "⌊(8 − 3 + 1 + 1) / 1⌋" and "p_h = 0 + 1 = 1" in h["H"].note
    assert h["W"].substituted == "⌊(8 − 3 + 5 + 1) / 1⌋" and "p_w = 2 + 3 = 5" in h["W"].note


def test_conv_mults_and_adds_under_exact():
    """d2l 7.4: c_o·H_o·W_o·c_i·k_h·k_w mults and c_o·H_o·W_o·(c_i·k_h·k_w − 1) adds, + bias."""
    lines = {f.what: f for f in one("{conv: 4, kernel: 3}", "[3, 8, 8]", "flops").lines}
    assert lines["mults"].substituted == "4·6·6·3·3·3"
    assert lines["adds"].substituted == "4·6·6·(3·3·3 − 1)"
    assert lines["bias adds"].substituted == "4·6·6"
    assert lines["adds (exact)"].symbolic == "adds + bias adds"
    assert lines["FLOPs (exact)"].symbolic == "mults + adds + bias adds"
    assert lines["FLOPs (exact)"].result == str(4 * 6 * 6 * 27 + 4 * 6 * 6 * 26 + 4 * 6 * 6)


def test_macs_convention_explains_flops_as_twice_the_macs():
    lines = {f.what: f for f in working("lenet5", "flops").layer("C1").lines}
    assert set(lines) == {"MACs", "FLOPs (macs)"}
    assert lines["FLOPs (macs)"].substituted == f"2·{6 * 28 * 28 * 25}"


def test_nndl_convention_explains_time_and_space():
    """NNDL 5-4, plain: time 100²·3²·256·256; space = weights 3²·256·256 + maps 256·100²."""
    graph = build(load("bottleneck").variants["plain"])
    w = work(graph, analyse_graph(graph, convention="nndl"), "flops")
    lines = {f.what: f for f in w.layers[0].lines}
    assert lines["time (nndl)"].result == str(100 * 100 * 3 * 3 * 256 * 256)
    assert lines["space (nndl)"].symbolic == "weights + output maps"
    assert lines["space (nndl)"].substituted == f"{3 * 3 * 256 * 256} + {256 * 100 * 100}"
    assert lines["space (nndl)"].result == str(3_149_824)


def test_concat_explains_its_channels():
    """GoogLeNet 3a: 64 + 128 + 32 + 32 = 256 channels."""
    w = working("googlenet", "shape")
    assert lines_of(w, "inception3a.concat")["C"].substituted == "64 + 128 + 32 + 32"
    assert lines_of(w, "inception3a.concat")["C"].result == "256"


def test_flatten_explains_the_fc_input():
    """The MNIST course network: 88·4·4 = 1,408 inputs to the last fc."""
    features = lines_of(working("mnist-inception", "shape"), "flatten")["features"]
    assert (features.substituted, features.result) == ("88·4·4", str(88 * 4 * 4))


def test_layers_that_keep_the_shape_say_so():
    relu = one("{relu: }", "[2, 3, 3]", "shape")
    assert [(f.what, f.symbolic, f.result) for f in relu.lines] == [
        ("shape", "input shape", "2×3×3")
    ]


# --------------------------------------------------------------------------- every line adds up


_NUMBER = re.compile(r"\d+")


def evaluate(expression: str) -> Fraction:
    """A substituted line as exact arithmetic: · × − / ⌊⌋ ⌈⌉ and parentheses."""
    text = (
        expression.replace("·", "*")
        .replace("−", "-")
        .replace("⌊", "floor(")
        .replace("⌋", ")")
        .replace("⌈", "ceil(")
        .replace("⌉", ")")
    )
    assert re.fullmatch(r"[\d\s+*/()\-a-z]*", text), expression
    text = _NUMBER.sub(lambda m: f"Fraction({m.group()})", text)
    return eval(text, {"Fraction": Fraction, "floor": math.floor, "ceil": math.ceil})


def arithmetic(line) -> bool:
    """A line with numbers to evaluate: not a symbol, a sum written with Σ or …, nor a
    broadcast of shapes (a mul or add join's ``48×1×1 ∘ 48×56×56``, whose result is a
    shape)."""
    return bool(line.substituted) and not re.search(r"[A-Za-z_Σ|…∘]", line.substituted)


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("convention", ["macs", "exact", "nndl", "lenet"])
def test_every_substituted_line_evaluates_to_its_result(net, convention):
    w = working(net, "all", convention)
    checked = 0
    for layer in w.layers:
        for line in layer.lines:
            if arithmetic(line):
                assert evaluate(line.substituted) == int(line.result), (layer.name, line)
                checked += 1
    assert checked >= len(w.layers) // 2


TABLE_FIELDS = {"params": "params", "connections": "connections", "buffers": "buffers"}


@pytest.mark.parametrize("net", NETWORKS)
def test_working_results_are_the_numbers_the_tables_print(net):
    """params/buffers/connections lines give the row's value; the flops working ends
    in the row's FLOPs; H and W lines give the output shape."""
    w = working(net, "all")
    for row, layer in zip(w.analysis.layers, w.layers):
        lines = {f.what: f for f in layer.lines}
        for what, field in TABLE_FIELDS.items():
            if what in lines:
                assert int(lines[what].result) == getattr(row, field), (row.name, what)
        if row.flops:
            assert int(lines["FLOPs (macs)"].result) == row.flops, row.name
        for axis, size in zip("HW", row.out_shape[-2:] if len(row.out_shape) == 3 else ()):
            if axis in lines:
                assert int(lines[axis].result) == size, (row.name, axis)


EVERY_KIND = """
input: [4, 9, 9]
layers:
  - {conv: 6, kernel: 3, padding: [0, 1, 1, 2], dilation: 2, groups: 2}
  - {tanh: }
  - {pool: avg, kernel: 2, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}
  - {deconv: 4, kernel: 4, stride: 2, padding: 1, groups: 2}
  - {conv: 3, kernel: 1, table: [[0], [1, 2], [0, 1, 2, 3]]}
  - {lrn: 3}
  - {batchnorm: }
  - {relu6: }
  - {sigmoid: }
  - {pool: max, kernel: 3, stride: 2, ceil_mode: true}
  - {adaptive: [2, 3], mode: max}
  - add:
      - [{conv: 3, kernel: 1, bias: false}]
      - []
  - {gap: }
  - {flatten: }
  - {fc: 5}
  - {softmax: }
  - {rbf: 2}
"""


@pytest.mark.parametrize("convention", ["macs", "exact", "nndl", "lenet"])
def test_every_kind_explains_itself_and_every_line_evaluates(convention):
    """One of every kind (and the awkward cases: asymmetric padding, dilation, groups, a
    transposed conv, a partial table, ceil mode, clipped average windows)."""
    graph = build(loads(EVERY_KIND))
    w = work(graph, analyse_graph(graph, convention=convention), "all")
    for row, layer in zip(w.analysis.layers, w.layers):
        assert layer.lines, row.name
        for line in layer.lines:
            if arithmetic(line):
                assert evaluate(line.substituted) == int(line.result), (row.name, line)
        if row.flops:
            assert (
                int(
                    {f.what: f for f in layer.lines}[
                        f"FLOPs ({convention})" if convention != "nndl" else "time (nndl)"
                    ].result
                )
                == row.flops
            )


@pytest.mark.parametrize(
    "layer,input",
    [
        ("{conv: 2, kernel: 3, stride: 2}", "[3, 11]"),
        ("{conv: 2, kernel: [1, 3, 3], padding: [0, 1, 1]}", "[3, 4, 8, 8]"),
        ("{pool: max, kernel: 2}", "[2, 4, 6, 6]"),
    ],
)
def test_1d_and_3d_lines_name_their_axes(layer, input):
    lines = one(layer, input, "all").lines
    axes = [f.what for f in lines if f.topic == "shape" and f.what not in RECEPTIVE_LINES]
    assert axes == (["L"] if input.count(",") == 1 else ["D", "H", "W"])
    fields = [f.what for f in lines if f.what in RECEPTIVE_LINES]
    # one RF and one jump line when every axis steps alike; one per axis when they differ
    assert fields == (
        ["RF_d", "jump_d", "RF_h", "jump_h", "RF_w", "jump_w"]
        if "[1, 3, 3]" in layer
        else ["RF", "jump"]
    )
    for line in lines:
        if arithmetic(line):
            assert evaluate(line.substituted) == int(line.result), line

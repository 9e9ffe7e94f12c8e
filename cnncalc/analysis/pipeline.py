"""The library's entry points: load a network, build its graph, analyse it.

from cnncalc.analysis.pipeline import load, analyze
result = analyze(load("resnet50"), input=(3, 224, 224))
result.total.params, result.total.macs, result.layers[0].out_shape
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from cnncalc.analysis.collector import collector_paused
from cnncalc.analysis.resized import resized_layers
from cnncalc.analysis.stats import (
    Analysis,
    ConventionTotals,
    analyse_graph,
    convention_totals,
)
from cnncalc.conventions.engine import Convention
from cnncalc.conventions.presets import check_deconv_count
from cnncalc.conventions.site import DeconvCount
from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Shape
from cnncalc.model.graph import Graph, build_graph
from cnncalc.model.spec import NetworkSpec, parse_network, parse_shape
from cnncalc.model.yamlsource import parse_yaml, read_yaml_file
from cnncalc.model.zoo import zoo_path

if TYPE_CHECKING:  # each is imported by the function that needs it (issue 11: start-up)
    from cnncalc.analysis.explain import Working
    from cnncalc.analysis.memory import MemoryAnalysis
    from cnncalc.analysis.training import TrainingCost

MAX_BATCH = 1_000_000


def load(net: str | Path) -> NetworkSpec:
    """A YAML file, or the name of a built-in network, as a validated spec."""
    text = str(net)
    path = Path(text)
    if path.suffix.lower() == ".onnx":  # read, never run (cnncalc[onnx])
        from cnncalc.model.onnx_import import onnx_to_yaml

        try:
            return loads(onnx_to_yaml(path, text), text)
        except CnnCalcError as exc:
            if exc.field == "--input":  # a symbolic size: only import can be told it
                exc.hint = (
                    f"write it once with 'cnncalc import {text} --input 3x224x224 -o net.yaml'"
                )
            raise
    if path.suffix.lower() in (".yaml", ".yml") or path.exists() or "/" in text:
        return parse_network(read_yaml_file(path, text), text)
    zoo_file = zoo_path(text)
    return parse_network(read_yaml_file(zoo_file, zoo_file.name), zoo_file.name)


def loads(text: str, name: str = "<string>") -> NetworkSpec:
    """A network from YAML text."""
    return parse_network(parse_yaml(text, name), name)


def input_shape(text: str | None) -> Shape | None:
    """``--input 3x224x224`` → (3, 224, 224)."""
    if text is None:
        return None
    return parse_shape(text, field_name="--input")


def build(spec: NetworkSpec, input: Shape | None = None) -> Graph:
    return build_graph(spec, input)


def _graph(spec: NetworkSpec, input: Shape | str | None, batch: int) -> Graph:
    if isinstance(input, str):
        input = input_shape(input)
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise CnnCalcError(
            f"batch must be a whole number from 1 to {MAX_BATCH:,}, got {batch}", field="--batch"
        )
    try:
        return build_graph(spec, input)
    except CnnCalcError as exc:
        if input is None or spec.input is None or tuple(input) == tuple(spec.input):
            raise
        raise input_misfit(spec, tuple(input), exc) from None


AXIS_NAMES = {1: ("C",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "D", "H", "W")}


def read_as(shape: Shape) -> str:
    """How a shape is read, channels first: (224, 224) → ``C=224, L=224``."""
    return ", ".join(f"{a}={n}" for a, n in zip(AXIS_NAMES[len(shape)], shape))


def input_misfit(spec: NetworkSpec, given: Shape, exc: CnnCalcError) -> CnnCalcError:
    """An --input the network cannot take, blamed on --input (not on a line of a file the
    user may never have seen): how it was read, what the network was written for, and the
    first layer that refused it."""
    written = tuple(spec.input)
    shown, written_shown = "x".join(map(str, given)), "x".join(map(str, written))
    if len(given) != len(written):
        hint = f"give {len(written)} numbers, channels first, as in {written_shown}"
    elif given[0] != written[0]:
        hint = f"its first layer takes {written[0]} channels"
    else:
        net = spec.file if spec.file and Path(spec.file).exists() else Path(spec.file or "").stem
        hint = f"'cnncalc minsize {net or spec.name}' gives the smallest size it takes"
    where = ""
    if spec.file and Path(spec.file).exists() and exc.line:  # the user's own file
        where = (
            f" ({spec.file}:{exc.line}, {exc.field})" if exc.field else f" ({spec.file}:{exc.line})"
        )
    return CnnCalcError(
        f"{shown} is read as {read_as(given)}, but {spec.name} is written for "
        f"{written_shown} ({read_as(written)}); at {shown}, {exc.message}{where}",
        field="--input",
        hint=hint,
    )


def analyze(
    spec: NetworkSpec,
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
) -> Analysis:
    """Shapes, parameters and counts of one network, per layer and in total.

    ``deconv`` ('input' or 'output') says where a transposed conv's MACs are counted;
    None leaves it to the convention (cnncalc's: on the input)."""
    with collector_paused():
        graph = _graph(spec, input, batch)
        analysis = analyse_graph(graph, batch, convention, check_deconv_count(deconv))
    if spec.input is None or tuple(graph.input) == tuple(spec.input):
        return analysis
    return dataclasses.replace(analysis, file_input=spec.input, resized=resized_layers(spec, graph))


def explain(
    spec: NetworkSpec,
    topic: str = "all",
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
) -> "Working":
    """The analysis with each layer's working for one topic (shape, params, flops or all)."""
    from cnncalc.analysis.explain import work

    graph = _graph(spec, input, batch)
    return work(graph, analyse_graph(graph, batch, convention, check_deconv_count(deconv)), topic)


def compare_conventions(
    spec: NetworkSpec,
    input: Shape | str | None = None,
    batch: int = 1,
    deconv: DeconvCount | None = None,
) -> list[ConventionTotals]:
    """Every convention's totals, one set per variant of a study."""
    return [
        convention_totals(_graph(s, input, batch), batch, check_deconv_count(deconv))
        for s in _variants(spec)
    ]


def analyze_each(
    spec: NetworkSpec,
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
) -> list[Analysis]:
    """One analysis per variant of a study, or a one-item list for a plain network."""
    return [analyze(s, input, batch, convention, deconv) for s in _variants(spec)]


def explain_each(
    spec: NetworkSpec,
    topic: str = "all",
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str | Convention = "macs",
    deconv: DeconvCount | None = None,
) -> "list[Working]":
    """One working per variant of a study, or a one-item list for a plain network."""
    return [explain(s, topic, input, batch, convention, deconv) for s in _variants(spec)]


def _variants(spec: NetworkSpec) -> list[NetworkSpec]:
    return [spec] if spec.variants is None else list(spec.variants.values())


variants = _variants
"""The variants of a study, or the network itself (public name)."""


def training(
    spec: NetworkSpec,
    input: Shape | str | None = None,
    batch: int = 1,
    convention: str | Convention = "macs",
) -> "TrainingCost":
    """Forward and backward operations per layer (dX and dW apart) and in total."""
    from cnncalc.analysis.training import training_cost

    graph = _graph(spec, input, batch)
    return training_cost(graph, analyse_graph(graph, batch, convention))


def memory(
    spec: NetworkSpec,
    input: Shape | str | None = None,
    batch: int = 1,
    dtype: str = "fp32",
    optimizer: str = "sgd",
) -> "MemoryAnalysis":
    """Bytes of parameters, buffers, gradients, optimizer state and kept activations."""
    from cnncalc.analysis.memory import training_memory

    return training_memory(_graph(spec, input, batch), batch, dtype, optimizer)

"""The library's entry points: load a network, build its graph, analyse it.

    from cnncalc.api import load, analyze
    result = analyze(load("resnet50"), input=(3, 224, 224))
    result.total.params, result.total.macs, result.layers[0].out_shape
"""

from __future__ import annotations

from pathlib import Path

from .analysis import Analysis, analyse
from .arith import Shape
from .conventions import Convention
from .errors import CnnCalcError
from .explain import Working, work
from .graph import Graph, build_graph
from .spec import NetworkSpec, parse_network, parse_shape
from .yamlsource import parse_yaml, read_yaml_file
from .zoo import zoo_path

MAX_BATCH = 1_000_000


def load(net: str | Path) -> NetworkSpec:
    """A YAML file, or the name of a built-in network, as a validated spec."""
    text = str(net)
    path = Path(text)
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
        raise CnnCalcError(f"batch must be a whole number from 1 to {MAX_BATCH:,}, got {batch}",
                           field="--batch")
    return build_graph(spec, input)


def analyze(spec: NetworkSpec, input: Shape | str | None = None, batch: int = 1,
            convention: str | Convention = "macs") -> Analysis:
    """Shapes, parameters and counts of one network, per layer and in total."""
    return analyse(_graph(spec, input, batch), batch, convention)


def explain(spec: NetworkSpec, topic: str = "all", input: Shape | str | None = None,
            batch: int = 1, convention: str | Convention = "macs") -> Working:
    """The analysis with each layer's working for one topic (shape, params, flops or all)."""
    graph = _graph(spec, input, batch)
    return work(graph, analyse(graph, batch, convention), topic)


def analyze_each(spec: NetworkSpec, input: Shape | str | None = None, batch: int = 1,
                 convention: str | Convention = "macs") -> list[Analysis]:
    """One analysis per variant of a study, or a one-item list for a plain network."""
    if spec.variants is None:
        return [analyze(spec, input, batch, convention)]
    return [analyze(variant, input, batch, convention) for variant in spec.variants.values()]


def explain_each(spec: NetworkSpec, topic: str = "all", input: Shape | str | None = None,
                 batch: int = 1, convention: str | Convention = "macs") -> list[Working]:
    """One working per variant of a study, or a one-item list for a plain network."""
    specs = [spec] if spec.variants is None else list(spec.variants.values())
    return [explain(s, topic, input, batch, convention) for s in specs]

"""A network as a picture's data: nodes (layers, or blocks folded by ``--depth``) and the
edges of the real data flow (branches fan out from one tensor, joins take several).

Each node carries what its label shows: name, kind, output shape, parameters and MACs
(the block's sums when folded). Nothing here draws; :mod:`cnncalc.render.picture`
writes Graphviz DOT or Mermaid.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.analysis.fold import Block, check_depth, fold_analysis, fold_names
from cnncalc.analysis.pipeline import build, variants
from cnncalc.analysis.stats import Analysis, LayerStats, analyse_graph
from cnncalc.kinds.arith import Shape
from cnncalc.model.graph import INPUT, Graph
from cnncalc.model.spec import NetworkSpec

INPUT_KEY = "input"


@dataclass(frozen=True)
class PictureNode:
    key: str
    """A unique id: ``input``, ``n0``, ``n1``, ..."""
    name: str
    kind: str
    out_shape: Shape
    params: int
    macs: int
    layers: int
    """How many layers the node stands for: 1 for a layer, more for a folded block, 0 for
    the network's input."""


@dataclass(frozen=True)
class Picture:
    network: str
    depth: int | None
    nodes: tuple[PictureNode, ...]
    edges: tuple[tuple[str, str], ...]
    """(from, to) by node key, each once, in forward order."""


def network_picture(graph: Graph, analysis: Analysis, depth: int | None = None) -> Picture:
    """The graph's nodes (folded into blocks at ``depth``) and the edges between them; an
    edge inside a block disappears with the fold. ``analysis`` is of the same graph."""
    names = [node.name for node in graph.nodes]
    rows: list[LayerStats | Block]
    if depth is None:
        groups = [(name, [i]) for i, name in enumerate(names)]
        rows = list(analysis.layers)
    else:
        groups = fold_names(names, depth)
        rows = list(fold_analysis(analysis, depth))
    owner = {INPUT: INPUT_KEY}
    nodes = [PictureNode(INPUT_KEY, "input", "input", graph.input, 0, 0, 0)]
    for k, ((name, members), row) in enumerate(zip(groups, rows, strict=True)):
        key = f"n{k}"
        owner.update((i, key) for i in members)
        nodes.append(
            PictureNode(key, name, row.kind, row.out_shape, row.params, row.macs, len(members))
        )
    edges = dict.fromkeys(
        (owner[j], owner[node.index])
        for node in graph.nodes
        for j in node.inputs
        if owner[j] != owner[node.index]
    )
    return Picture(graph.name, depth, tuple(nodes), tuple(edges))


def pictures(
    spec: NetworkSpec,
    input: Shape | None = None,
    convention: str = "macs",
    depth: int | None = None,
) -> list[Picture]:
    """One picture per network of a file: the network, or each variant of a study."""
    check_depth(depth)
    out = []
    for s in variants(spec):
        graph = build(s, input)
        out.append(network_picture(graph, analyse_graph(graph, 1, convention), depth))
    return out

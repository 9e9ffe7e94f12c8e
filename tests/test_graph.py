"""``cnncalc graph``: the network as Graphviz DOT or Mermaid (issue 10 §3).

The DOT is parsed by pydot (a parser cnncalc does not use); node and edge counts are
derived here from the architecture, branch by branch.
"""

from __future__ import annotations

import json
import re

import pytest

pydot = pytest.importorskip("pydot")

INCEPTION = """
name: one inception
input: 192x28x28
layers:
  - concat:
      - [{conv: 64, kernel: 1, name: b1}]
      - [{conv: 96, kernel: 1, name: b2a}, {conv: 128, kernel: 3, padding: 1, name: b2b}]
      - [{conv: 16, kernel: 1, name: b3a}, {conv: 32, kernel: 5, padding: 2, name: b3b}]
      - [{pool: max, kernel: 3, stride: 1, padding: 1, name: b4a}, {conv: 32, kernel: 1, name: b4b}]
"""

RESIDUAL = """
name: one residual block
input: 64x56x56
layers:
  - add:
      - [{conv: 64, kernel: 3, padding: 1, name: c1}, {relu: , name: r1},
         {conv: 64, kernel: 3, padding: 1, name: c2}]
      - []
  - {relu: , name: out}
"""


def dot_graph(text: str):
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1, text
    return graphs[0]


def real_nodes(graph) -> list:
    """pydot lists the default-attribute statements (``node [...]``) as nodes too."""
    return [n for n in graph.get_nodes() if n.get_name() not in ("node", "edge", "graph")]


def first_line(node) -> str:
    return node.get("label").strip('"').split("\\n")[0]


def named_edges(graph) -> set[tuple[str, str]]:
    names = {n.get_name(): first_line(n) for n in real_nodes(graph)}
    return {(names[e.get_source()], names[e.get_destination()]) for e in graph.get_edges()}


def run(cli, *args) -> str:
    result = cli("graph", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_an_inception_block_has_four_branches_joined(cli, yaml_file):
    graph = dot_graph(run(cli, yaml_file(INCEPTION)))
    # the input, 1 + 2 + 2 + 2 layers in the branches, and the concat
    assert len(real_nodes(graph)) == 1 + (1 + 2 + 2 + 2) + 1
    # 4 edges fan out of the input, 3 run inside the branches, 4 join
    assert len(graph.get_edges()) == 4 + 3 + 4
    assert named_edges(graph) == {
        ("input", "b1"),
        ("input", "b2a"),
        ("input", "b3a"),
        ("input", "b4a"),
        ("b2a", "b2b"),
        ("b3a", "b3b"),
        ("b4a", "b4b"),
        ("b1", "concat"),
        ("b2b", "concat"),
        ("b3b", "concat"),
        ("b4b", "concat"),
    }


def test_a_node_says_its_kind_shape_params_and_macs(cli, yaml_file):
    graph = dot_graph(run(cli, yaml_file(INCEPTION)))
    b2b = next(n for n in real_nodes(graph) if first_line(n) == "b2b")
    label = b2b.get("label")
    assert "\\nconv\\n" in label
    assert "128×28×28" in label
    assert f"params {96 * 128 * 9 + 128:,}" in label
    assert f"MACs {28 * 28 * 128 * 96 * 9:,}" in label
    concat = next(n for n in real_nodes(graph) if first_line(n) == "concat")
    assert f"{64 + 128 + 32 + 32}×28×28" in concat.get("label")


def test_a_residual_identity_is_an_edge_from_the_block_input(cli, yaml_file):
    graph = dot_graph(run(cli, yaml_file(RESIDUAL)))
    assert named_edges(graph) == {
        ("input", "c1"),
        ("c1", "r1"),
        ("r1", "c2"),
        ("c2", "add"),
        ("input", "add"),  # the identity branch []
        ("add", "out"),
    }


def test_resnet18_every_layer_once_and_every_connection(cli):
    """ResNet-18: conv1, bn1, relu, maxpool; 8 basic blocks of conv, bn, relu, conv, bn,
    add, relu, three of them with a downsample conv and bn; avgpool, flatten, fc. Every
    layer has one input but the adds, which have two."""
    layers = 4 + 8 * 7 + 3 * 2 + 3
    graph = dot_graph(run(cli, "resnet18"))
    nodes = real_nodes(graph)
    assert len(nodes) == 1 + layers
    assert len(graph.get_edges()) == layers + 8
    names = [first_line(n) for n in nodes]
    listed = json.loads(cli("shape", "resnet18", "--format", "json").stdout)["layers"]
    assert sorted(names) == sorted(["input"] + [l["name"] for l in listed])


def test_resnet18_folded_to_depth_1_is_a_chain_of_its_stages(cli):
    graph = dot_graph(run(cli, "resnet18", "--depth", "1"))
    names = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    names += ["avgpool", "flatten", "fc"]
    chain = ["input"] + names
    assert named_edges(graph) == set(zip(chain, chain[1:]))
    layer1 = next(n for n in real_nodes(graph) if first_line(n) == "layer1")
    basic_block = 2 * (64 * 64 * 9) + 2 * (2 * 64)
    assert f"params {2 * basic_block:,}" in layer1.get("label")
    assert "block of 14 layers" in layer1.get("label")  # 2 × (7) layers, no downsample


def test_googlenet_at_depth_1_has_one_node_per_inception(cli):
    graph = dot_graph(run(cli, "googlenet", "--depth", "1"))
    names = [first_line(n) for n in real_nodes(graph)]
    inceptions = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert [n for n in names if n.startswith("inception")] == [f"inception{i}" for i in inceptions]


def mermaid_counts(text: str) -> tuple[int, int]:
    lines = text.splitlines()
    nodes = [l for l in lines if re.match(r"\s+\w+(\[|\(\[)\"", l)]
    edges = [l for l in lines if re.fullmatch(r"\s+\w+ --> \w+", l)]
    return len(nodes), len(edges)


def test_mermaid_draws_the_same_graph(cli, yaml_file):
    text = run(cli, yaml_file(INCEPTION), "--format", "mermaid")
    assert "flowchart TD" in text.splitlines()
    assert mermaid_counts(text) == (1 + 7 + 1, 4 + 3 + 4)
    folded = run(cli, "resnet18", "--depth", "1", "--format", "mermaid")
    assert mermaid_counts(folded) == (1 + 11, 11)


def test_a_study_draws_each_variant_in_its_cluster(cli):
    graph = dot_graph(run(cli, "bottleneck"))
    clusters = graph.get_subgraphs()
    assert [c.get("label").strip('"') for c in clusters] == ["plain", "bottleneck"]
    # plain: input → one conv; bottleneck: input → 1×1 conv → 3×3 conv
    assert [len(c.get_edges()) for c in clusters] == [1, 2]


def test_json_lists_nodes_and_edges(cli, yaml_file):
    report = json.loads(run(cli, yaml_file(RESIDUAL), "--format", "json"))
    assert [n["name"] for n in report["nodes"]] == ["input", "c1", "r1", "c2", "add", "out"]
    assert len(report["edges"]) == 6
    assert report["nodes"][1]["params"] == 64 * 64 * 9 + 64


def test_a_bad_network_is_one_error_line(cli, tmp_path):
    result = cli("graph", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output

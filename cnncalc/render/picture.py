"""A network picture (:mod:`cnncalc.analysis.picture`) as Graphviz DOT or Mermaid text.

Each node is labelled with its name, kind (or how many layers a folded block holds),
output shape, parameters and MACs; edges follow the data flow. A study's variants are
drawn side by side, one cluster (DOT) or subgraph (Mermaid) each.
"""

from __future__ import annotations

import json

from cnncalc.analysis.picture import Picture, PictureNode
from cnncalc.render.numbers import shape_text

PICTURE_FORMATS = ("dot", "mermaid", "json")


def node_lines(node: PictureNode) -> list[str]:
    """What a node's label says, one line each."""
    if node.layers == 0:
        return [node.name, shape_text(node.out_shape)]
    kind = node.kind if node.layers == 1 else f"block of {node.layers} layers"
    return [
        node.name,
        kind,
        shape_text(node.out_shape),
        f"params {node.params:,} · MACs {node.macs:,}",
    ]


def _dot_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_text(pictures: list[Picture], title: str) -> str:
    """One ``digraph``; a study's variants as clusters."""
    lines = [
        f"digraph {_dot_quoted(title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, fontname="Helvetica", fontsize=10];',
    ]
    many = len(pictures) > 1
    for v, p in enumerate(pictures):
        prefix = f"v{v}_" if many else ""
        indent = "    " if many else "  "
        if many:
            lines += [f"  subgraph cluster_{v} {{", f"    label={_dot_quoted(p.network)};"]
        for node in p.nodes:
            shape = ", shape=oval" if node.layers == 0 else ""
            label = _dot_quoted("\n".join(node_lines(node))).replace("\n", "\\n")
            lines.append(f"{indent}{prefix}{node.key} [label={label}{shape}];")
        for a, b in p.edges:
            lines.append(f"{indent}{prefix}{a} -> {prefix}{b};")
        if many:
            lines.append("  }")
    return "\n".join(lines + ["}"]) + "\n"


def _mermaid_label(lines: list[str]) -> str:
    text = "<br/>".join(lines).replace('"', "#quot;")
    return f'"{text}"'


def mermaid_text(pictures: list[Picture], title: str) -> str:
    """A ``flowchart TD``; a study's variants as subgraphs."""
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}", "---", "flowchart TD"]
    many = len(pictures) > 1
    for v, p in enumerate(pictures):
        prefix = f"v{v}_" if many else ""
        indent = "    " if many else "  "
        if many:
            lines.append(f"  subgraph v{v} [{_mermaid_label([p.network])}]")
        for node in p.nodes:
            label = _mermaid_label(node_lines(node))
            shaped = f"([{label}])" if node.layers == 0 else f"[{label}]"
            lines.append(f"{indent}{prefix}{node.key}{shaped}")
        for a, b in p.edges:
            lines.append(f"{indent}{prefix}{a} --> {prefix}{b}")
        if many:
            lines.append("  end")
    return "\n".join(lines) + "\n"


def picture_record(p: Picture) -> dict:
    return {
        "network": p.network,
        "fold_depth": p.depth,
        "nodes": [
            {
                "id": n.key,
                "name": n.name,
                "kind": n.kind,
                "layers": n.layers,
                "out_shape": list(n.out_shape),
                "params": n.params,
                "macs": n.macs,
            }
            for n in p.nodes
        ],
        "edges": [list(e) for e in p.edges],
    }


def render_picture(pictures: list[Picture], fmt: str, title: str) -> str:
    if fmt == "json":
        records = [picture_record(p) for p in pictures]
        doc = records[0] if len(records) == 1 else {"study": title, "variants": records}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "mermaid":
        return mermaid_text(pictures, title)
    return dot_text(pictures, title)

"""The graph an importer reads (Steps) → cnncalc's YAML: shared by ``cnncalc import``'s readers.

A reader (ONNX, torch.fx) turns each node into a :class:`Step`. :func:`layer_items` cuts
the step graph at its narrow points; :class:`Nester` reads each piece's forks and joins as
nested ``add``/``concat``/``mul`` branches, and a piece that is not a nesting of branches
is written flat, reading earlier layers by name (``from:``). :mod:`~.importblocks` finds
the repeated modules (``blocks:``, calls, ``repeat``), and :func:`emit` writes the items as
YAML lines a person would write.
"""

from __future__ import annotations

import copy
import json
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import CnnCalcError
from cnncalc.model.graph import INPUT_NAME, build_graph
from cnncalc.model.importblocks import Call, Repeat, inferred, is_join, one_line, ordered
from cnncalc.model.importblocks import compact as compact_items
from cnncalc.model.spec import REF_KEY, parse_network
from cnncalc.model.yamlsource import parse_yaml

_PLAIN = re.compile(r"^[A-Za-z_$][A-Za-z0-9_.\-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off"}
"""Plain words YAML 1.1 (PyYAML) reads as booleans or null: quoted when a name."""


class NotNested(CnnCalcError):
    """The step graph is not a nesting of branches: the writer uses ``from:`` instead."""


def axis_shorthand(values) -> Any:
    """(3, 3) → 3; (3, 5) → [3, 5]: the YAML's shorthand for one value per axis."""
    if isinstance(values, int):
        return values
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


@dataclass
class Step:
    """One cnncalc layer or join read from one ONNX node (or a fused pair)."""

    index: int
    node: str
    op: str
    inputs: list[str]
    output: str
    layer: dict | None = None  # a leaf layer, {kind: main, option: value, ...}
    join: str | None = None  # 'add' or 'concat'
    consumers: list[int] = field(default_factory=list)


class Nester:
    """Forks and joins of the step graph → nested branches (a series-parallel reading)."""

    def __init__(self, steps: list[Step], source: str, output: str):
        self.steps = steps
        self.output = output
        self.consumers: dict[str, list[int]] = {}
        for step in steps:
            for i in dict.fromkeys(step.inputs):
                self.consumers.setdefault(i, []).append(step.index)
        self.below: list[int] = [0] * len(steps)  # bit set: the steps reachable from each
        for step in reversed(steps):
            bits = 1 << step.index
            for c in self.consumers.get(step.output, []):
                bits |= self.below[c]
            self.below[step.index] = bits

    def refuse(self, step: Step, why: str) -> CnnCalcError:
        return NotNested(f"node '{step.node or step.output}' ({step.op}): {why}")

    def sequence(self, cur: str, stop: int | None) -> tuple[list, str]:
        items: list = []
        while True:
            cons = self.consumers.get(cur, [])
            if stop is None and cur == self.output and not cons:
                return items, cur
            if stop is not None and cons == [stop]:
                return items, cur
            if not cons:
                raise CnnCalcError(f"the tensor '{cur}' is computed and never used")
            if len(cons) == 1 and self.steps[cons[0]].join is None:
                step = self.steps[cons[0]]
                items.append(step.layer)
                cur = step.output
                continue
            common = -1
            for c in cons:
                common &= self.below[c]
            if not common:
                raise self.refuse(self.steps[cons[0]], "its branches never join again")
            join = self.steps[(common & -common).bit_length() - 1]
            if join.join is None:
                raise self.refuse(join, "branches meet here, not at an add, concat or mul")
            ends: dict[str, list] = {}
            for c in cons:
                if c == join.index:
                    continue
                step = self.steps[c]
                if step.join is not None:
                    raise self.refuse(step, "a join inside branches that do not nest")
                branch, end = self.sequence(step.output, join.index)
                if end in ends:
                    raise self.refuse(join, "two branches end in one tensor")
                ends[end] = [step.layer, *branch]
            ours = [n for n, i in enumerate(join.inputs) if i == cur or i in ends]
            if join.join == "concat" and ours and len(ours) < len(join.inputs):
                # cat([a, cat([b, c]), d]) written as one Concat of a, b, c, d: the run of
                # its inputs that this fork feeds is an inner concat (concat is associative)
                first, last = ours[0], ours[-1]
                if last - first + 1 == len(ours) and len(ours) > 1:
                    run = join.inputs[first : last + 1]
                    inner = [[] if i == cur else ends.pop(i) for i in run]
                    if not ends:
                        items.append({"concat": inner})
                        cur = f"{join.output}#{first}"
                        join.inputs[first : last + 1] = [cur]
                        self.consumers[cur] = [join.index]
                        if stop is None or stop != join.index:
                            raise self.refuse(join, "a partial concat outside its branches")
                        continue
            branches: list[list] = []
            for i in join.inputs:
                if i == cur:
                    branches.append([])
                elif i in ends:
                    branches.append(ends.pop(i))
                else:
                    raise self.refuse(join, f"its input '{i}' comes from outside the branches")
            if ends:
                raise self.refuse(join, "a branch ends without reaching it")
            items.append({join.join: branches})
            cur = join.output


def float_text(value: float) -> str:
    """A float as YAML reads it back (PyYAML wants a dot: ``1.0e-05``), and, when the value
    is a float32 (ONNX stores attributes so), the shortest decimal of that float32:
    ``0.0010000000474974513`` is written ``0.001``, the value PyTorch was given."""
    if not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = repr(value)
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        single = None
    if single == value:
        for digits in range(1, 10):
            short = float(f"{value:.{digits}g}")
            if struct.unpack("f", struct.pack("f", short))[0] == value:
                text = repr(short)
                break
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e", 1)
    return text


def plain_value(value: Any) -> str:
    """A YAML scalar or flow list, quoted only where YAML would misread it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("null" if v is None else plain_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return flow(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, str):
        return (
            value if _PLAIN.match(value) and value.lower() not in _RESERVED else json.dumps(value)
        )
    return str(value)


def cuts(steps: list[Step], first: str, outputs: list[str]) -> list[int]:
    """The steps whose output every later step (and every output) reads only through it:
    the graph's narrow points. Between two of them the steps form a closed piece, nested
    or written with references on its own; ``-1`` stands for the input."""
    at = {step.output: step.index for step in steps}
    at[first] = -1
    reads = [[at.get(i, -1) for i in step.inputs] for step in steps]
    reads.append([at.get(o, -1) for o in outputs])
    earliest = len(steps)
    found = []
    for k in range(len(steps) - 1, -1, -1):
        earliest = min([earliest, *reads[k + 1]])
        if earliest >= k:
            found.append(k)
    return [-1, *reversed(found)]


def _piece(steps: list[Step], entry: str, source: str) -> list | None:
    """The nested items of a closed piece of steps from the tensor ``entry`` to the output
    of its last step, or None when they are not a nesting of branches."""
    local = [copy.deepcopy(s) for s in steps]
    for n, step in enumerate(local):
        step.index = n
    try:
        items, _ = Nester(local, source, steps[-1].output).sequence(entry, None)
    except NotNested:
        return None
    return items


def layer_items(
    steps: list[Step], first: str, outputs: list[str], source: str = ""
) -> tuple[list, list[str] | None]:
    """The layers of the step graph: each closed piece between two narrow points
    (:func:`cuts`) nested where it is a nesting of branches, else flat, each layer reading
    the one before it and naming any other input (``from:``, a join's branch by name).
    A layer read by name and written without one is named after its kind (``relu_2``);
    the network's input is ``input``. Returns the items and, when the network does not
    end in its one output, the names of its outputs (``outputs:``)."""
    narrow = cuts(steps, first, outputs)
    ends = narrow[1:] + ([len(steps) - 1] if narrow[-1] != len(steps) - 1 else [])
    pieces: list[tuple[list[Step], list | None]] = []
    for start, end in zip(narrow, ends):
        piece = steps[start + 1 : end + 1]
        entry = steps[start].output if start >= 0 else first
        closed = end in narrow
        pieces.append((piece, _piece(piece, entry, source) if closed else None))
    reads: set[str] = set()
    previous = first
    for piece, nested in pieces:
        for step in piece:
            if nested is None:
                reads.update(
                    i for i in (step.inputs if step.join else step.inputs[:1]) if i != previous
                )
            previous = step.output
    several = bool(steps) and outputs != [steps[-1].output]
    if several:
        reads.update(outputs)
    names = _reference_names(steps, first, reads)
    items: list = []
    previous = first
    for piece, nested in pieces:
        if nested is not None:
            exit = piece[-1].output
            if exit in reads and "name" not in nested[-1]:
                nested[-1] = {**nested[-1], "name": names[exit]}
            items += nested
            previous = exit
            continue
        for step in piece:
            items.append(_flat_item(step, previous, names, step.output in reads))
            previous = step.output
    return items, [names[o] for o in outputs] if several else None


def _reference_names(steps: list[Step], first: str, reads: set[str]) -> dict[str, str]:
    """A name for every tensor read by name: its layer's own, else its kind numbered."""
    taken = {str(s.layer["name"]) for s in steps if s.layer and "name" in s.layer}
    names: dict[str, str] = {first: INPUT_NAME}
    counts: dict[str, int] = {}
    for step in steps:
        if step.output not in reads:
            continue
        if step.layer is not None and "name" in step.layer:
            names[step.output] = str(step.layer["name"])
            continue
        kind = step.join or next(iter(step.layer or {"layer": None}))
        name = ""
        while not name or name in taken or name == INPUT_NAME:
            counts[kind] = counts.get(kind, 0) + 1
            name = f"{kind}_{counts[kind]}"
        taken.add(name)
        names[step.output] = name
    for tensor in reads:
        if tensor not in names:
            raise CnnCalcError(f"the tensor '{tensor}' is read but never computed")
    return names


def _flat_item(step: Step, previous: str, names: dict[str, str], read: bool) -> dict:
    """One step as a layer reading the layer before it, or ``from:`` the layer it reads."""
    if step.join is not None:
        item: dict = {step.join: [[] if i == previous else names[i] for i in step.inputs]}
    else:
        item = {k: v for k, v in (step.layer or {}).items() if k != "name"}
        if step.inputs[0] != previous:
            item[REF_KEY] = names[step.inputs[0]]
    if read:
        item["name"] = names[step.output]
    elif step.layer and "name" in step.layer:
        item["name"] = step.layer["name"]
    return item


def emit(items: list, indent: str) -> list[str]:
    """YAML lines of nested items: a layer, a call or a repeat on one line each, a join as
    its branches (on one line when every branch is ``[]`` or a layer's name)."""
    lines = []
    for item in items:
        if isinstance(item, Repeat):
            body = ", ".join(flow(call_mapping(i)) for i in item.items)
            named = f"name: {plain_value(item.name)}, " if item.name else ""
            lines.append(
                f"{indent}- {{repeat: {item.count}, {named}label: {plain_value(item.label)}, "
                f"start: {item.start}, layers: [{body}]}}"
                f"  # {item.segment(0)} … {item.segment(item.count - 1)}"
            )
            continue
        if isinstance(item, Call):
            item = call_mapping(item)
        (first, *_) = list(item)
        if not is_join(item) or one_line(item):
            if is_join(item):
                item = item | {first: [emit_values(b) if b else b for b in item[first]]}
            lines.append(f"{indent}- {flow(item)}")
            continue
        lines.append(f"{indent}- {first}:")
        for branch in item[first]:
            if isinstance(branch, str) or not branch:
                lines.append(f"{indent}    - {plain_value(branch) if branch else '[]'}")
                continue
            inner = emit(branch, indent + "      ")
            inner[0] = f"{indent}    - " + inner[0][len(indent) + 6 :]
            lines.extend(inner)
        lines.extend(f"{indent}  {k}: {plain_value(v)}" for k, v in item.items() if k != first)
    return lines


def emit_values(branch: list | str) -> list | str:
    """A branch of one call, as the flow list that writes it."""
    return branch if isinstance(branch, str) else [call_mapping(c) for c in branch]


def call_mapping(call: Call) -> dict:
    """``{bottleneck: [64, 1], name: layer1.0}``; a block without arguments ``{block: }``."""
    return (
        {call.block: list(call.args) or None}
        | ({"name": call.name} if call.name else {})
        | ({"if": call.flag} if call.flag else {})
    )


def flow(item: dict) -> str:
    """``{conv: 64, kernel: 3, name: conv1}``: one layer (or call) as a YAML flow mapping."""
    body = ", ".join(
        f"{k}: {plain_value(v)}" if v is not None else f"{k}: " for k, v in item.items()
    )
    return f"{{{body}}}"


def write_yaml(
    steps: list[Step],
    first: str,
    output: str | Sequence[str],
    *,
    comments: list[str],
    name: str,
    source: str,
    input: tuple[int, ...],
    compact: bool = True,
) -> str:
    """The YAML file of a step graph read by an importer: its ``comments`` (the source,
    the reader), ``name``, ``source`` and ``input``, then the layers from the tensor
    ``first`` to the tensor ``output`` (or to each of several outputs, in order).

    Nested where the graph nests, with repeated modules written as ``blocks:``, calls and
    ``repeat`` (``compact``; :mod:`cnncalc.model.importblocks`); where it does not nest
    (crossing branches, several outputs), flat, with ``from:`` references."""
    outputs = [output] if isinstance(output, str) else list(output)
    layers, named_outputs = layer_items(steps, first, outputs, source)
    head = [f"# {line}" for line in comments] + [
        f"name: {plain_value(name)}",
        f"source: {json.dumps(source)}",
        f"input: [{', '.join(map(str, input))}]",
    ]
    if named_outputs:
        head.append(f"outputs: {plain_value(named_outputs)}")
    plain = "\n".join([*head, "layers:", *emit(layers, "  ")]) + "\n"
    if not compact:
        return plain
    for merge in (True, False):  # optional parts merged, else each shape its own block
        text = _compacted(head, layers, merge)
        if same_network(text, plain, set(written_names(layers))):
            return text
    return plain


def _compacted(head: list[str], nested: list, merge: bool) -> str:
    layers, blocks = compact_items(nested, merge)
    layers = unnested(layers)
    body: list[str] = []
    if blocks:
        body.append("blocks:")
        for block in ordered(blocks):
            body += [
                f"  {block}:",
                *([f"    args: {plain_value(blocks[block].args)}"] if blocks[block].args else []),
                "    layers:",
                *emit(blocks[block].layers, "      "),
            ]
    body.append("layers:")
    return "\n".join(head + body + emit(layers, "  ")) + "\n"


def written_names(items: list) -> list[str]:
    """The names written in nested items (a leaf's, a join's), at any depth."""
    found: list[str] = []
    for item in items:
        if "name" in item:
            found.append(str(item["name"]))
        (kind, *_) = list(item)
        if is_join(item):
            for branch in item[kind]:
                if isinstance(branch, list):
                    found += written_names(branch)
    return found


def unnested(items: list, chain: bool = False) -> list:
    """A U-Net written flat: a skip join whose one long branch holds joins that hold joins
    (three deep) is written as the branch's layers in line, then the join naming the
    layer it skips from (``{concat: [enc3, []]}``), and so every join along that branch,
    as a person writes a U-Net; shallower nests stay nested."""
    out: list = []
    for item in items:
        kind = next(iter(item)) if isinstance(item, dict) else None
        if kind is None or not is_join(item) or not (chain or _depth(item) >= 3):
            out.append(item)
            continue
        long = [b for b in item[kind] if not isinstance(b, str) and b]
        skipped = _reference(out[-1]) if out else None
        if len(long) != 1 or skipped is None or any(isinstance(b, str) for b in item[kind]):
            out.append(item)
            continue
        out += unnested(long[0], chain=True)
        out.append(item | {kind: [[] if b else skipped for b in item[kind]]})
    return out


def _depth(item: Any) -> int:
    """How deep joins nest in an item (a layer 0, a join of layers 1)."""
    if not isinstance(item, dict) or not is_join(item):
        return 0
    kind = next(iter(item))
    return 1 + max((_depth(i) for b in item[kind] if not isinstance(b, str) for i in b), default=0)


def _reference(item: Any) -> str | None:
    """The name a later layer reads this item's output by: a named layer's or call's."""
    if isinstance(item, Call):
        return item.name
    if isinstance(item, dict) and not is_join(item):
        return item.get("name")
    return None


def same_network(text: str, plain: str, names: set[str]) -> bool:
    """Whether the compacted file builds the network the plain one does: every layer's
    kind, options, inputs and shapes, the outputs, and the ``names`` the plain file gives
    (the others are made up from where a layer sits). A safety net: a compaction that
    changed the network is not written; the plain file is."""
    try:
        graphs = [
            build_graph(parse_network(parse_yaml(t, "import"), "import")) for t in (text, plain)
        ]
    except CnnCalcError:
        return False
    ours, theirs = graphs
    if len(ours.nodes) != len(theirs.nodes) or ours.output_nodes != theirs.output_nodes:
        return False
    return all(
        (a.kind, a.inputs, a.in_shapes, a.out_shape) == (b.kind, b.inputs, b.in_shapes, b.out_shape)
        and (a.name == b.name or b.name not in names)
        and _options(a.layer) == _options(b.layer)
        for a, b in zip(ours.nodes, theirs.nodes)
    )


def _options(layer: Any) -> dict:
    """A layer's options, leaving out a main value its input gives (BatchNorm's channels,
    which a block leaves out)."""
    options = layer.model_dump() if hasattr(layer, "model_dump") else {"kind": layer.kind}
    if inferred(layer.kind):
        options.pop("channels", None)
    return options

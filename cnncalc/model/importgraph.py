"""The graph an importer reads (Steps) → cnncalc's YAML: shared by ``cnncalc import``'s readers.

A reader (ONNX today) turns each node into a :class:`Step`; :class:`Nester` reads the
forks and joins of the steps as nested ``add``/``concat``/``mul`` branches, and
:func:`emit` writes the nested items as YAML lines a person would write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import CnnCalcError

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


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
        return CnnCalcError(
            f"node '{step.node or step.output}' ({step.op}): {why}",
            hint="cnncalc import writes nestings of add/concat/mul branches; graphs whose "
            "branches cross (from: references) are not imported yet",
        )

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


def plain_value(value: Any) -> str:
    """A YAML scalar or flow list, quoted only where YAML would misread it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(plain_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return (
            value
            if _PLAIN.match(value) and value not in ("true", "false", "null")
            else json.dumps(value)
        )
    return str(value)


def emit(items: list, indent: str) -> list[str]:
    lines = []
    for item in items:
        ((first, *_),) = [list(item)]
        if first in ("add", "concat", "mul") and isinstance(item[first], list):
            lines.append(f"{indent}- {first}:")
            for branch in item[first]:
                if not branch:
                    lines.append(f"{indent}    - []")
                    continue
                inner = emit(branch, indent + "      ")
                inner[0] = f"{indent}    - " + inner[0][len(indent) + 6 :]
                lines.extend(inner)
            continue
        body = ", ".join(
            f"{k}: {plain_value(v)}" if v is not None else f"{k}: " for k, v in item.items()
        )
        lines.append(f"{indent}- {{{body}}}")
    return lines


def write_yaml(
    steps: list[Step],
    first: str,
    output: str,
    *,
    comments: list[str],
    name: str,
    source: str,
    input: tuple[int, ...],
) -> str:
    """The YAML file of a step graph read by an importer: its ``comments`` (the source,
    the reader), ``name``, ``source`` and ``input``, then the layers from the tensor
    ``first`` to the tensor ``output``, nested where the graph nests."""
    layers, _ = Nester(steps, source, output).sequence(first, None)
    head = [f"# {line}" for line in comments] + [
        f"name: {plain_value(name)}",
        f"source: {json.dumps(source)}",
        f"input: [{', '.join(map(str, input))}]",
        "layers:",
    ]
    return "\n".join(head + emit(layers, "  ")) + "\n"

"""Validated spec → layer graph with every shape worked out.

Each node is one layer (or the join of a ``concat``/``add``), in forward
order, with its inputs, shapes, receptive field and depth. Names are
hierarchical: a layer you name is named under its nearest named ancestors
(so torchvision's ``layer1.0.downsample.0`` can be written out); a layer you
don't name gets a path through every structure (``3a.concat.1.conv2``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Field, Shape
from cnncalc.kinds.base import Kind, fmt_shape
from cnncalc.model.spec import MAX_ITEMS, Group, Join, Leaf, NetworkSpec, Repeat, Where

INPUT = -1
"""The index that stands for the network's input in ``Node.inputs``."""


@dataclass(slots=True)
class Node:
    """One layer of the graph (read-only by convention; not frozen, which costs a third of
    the build time)."""

    index: int
    name: str
    layer: Kind
    inputs: tuple[int, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    field: Field
    depth: int
    where: Where

    @property
    def kind(self) -> str:
        return self.layer.kind

    @property
    def in_shape(self) -> Shape:
        return self.in_shapes[0]


@dataclass(frozen=True)
class Graph:
    name: str
    input: Shape
    nodes: tuple[Node, ...]
    output: int
    file: str | None

    @property
    def out_shape(self) -> Shape:
        return self.input if self.output == INPUT else self.nodes[self.output].out_shape

    @property
    def depth(self) -> int:
        return 0 if self.output == INPUT else self.nodes[self.output].depth


@dataclass(slots=True)
class _Cursor:
    """What flows along a sequence: the producing node, its shape, field and depth."""

    node: int
    shape: Shape
    field: Field
    depth: int


class _Builder:
    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        self.nodes: list[Node] = []
        self.names: dict[str, Where] = {}
        self.automatic: set[str] = set()
        """The names the builder made up (for layers written without ``name:``), so that
        a clash can say which of the two was not the user's."""
        self.made_up: set[str] = set()
        """The name the next node gets, if that name is made up (set by ``sequence``)."""

    def add(
        self,
        name: str,
        layer: Kind,
        inputs: list[_Cursor],
        out_shape: Shape,
        field: Field,
        where: Where,
    ) -> _Cursor:
        if len(self.nodes) >= MAX_ITEMS:
            raise CnnCalcError(
                f"the network expands to more than {MAX_ITEMS:,} layers",
                file=where.file,
                line=where.line,
                field=where.path,
            )
        if name in self.names:
            first = self.names[name]
            automatic = name in self.automatic
            raise CnnCalcError(
                f"layer name '{name}' is used twice (first at line {first.line}"
                + (
                    ", where it is the automatic name of a layer written without name:)"
                    if automatic
                    else ")"
                ),
                file=where.file,
                line=where.line,
                field=where.path,
                hint="a layer without name: is called by its kind, numbered when the kind occurs "
                "more than once; name that layer, or give this one another name"
                if automatic
                else "give one of them another name, or name the block or repeat around them",
            )
        self.names[name] = where
        if name in self.made_up:
            self.automatic.add(name)
        depth = max(c.depth for c in inputs) + (1 if layer.weighted else 0)
        node = Node(
            len(self.nodes),
            name,
            layer,
            tuple(c.node for c in inputs),
            tuple(c.shape for c in inputs),
            out_shape,
            field,
            depth,
            where,
        )
        self.nodes.append(node)
        return _Cursor(node.index, out_shape, field, depth)

    def sequence(self, items, cur: _Cursor, full: tuple, named: tuple) -> _Cursor:
        keys = Counter(item.key for item in items)
        seen: Counter = Counter()
        for item in items:
            seen[item.key] += 1
            generated = item.key if keys[item.key] == 1 else f"{item.key}{seen[item.key]}"
            if item.name is not None:
                own_full, own_named, shown = (
                    full + (item.name,),
                    named + (item.name,),
                    named + (item.name,),
                )
            else:
                own_full, own_named, shown = full + (generated,), named, full + (generated,)
            name = ".".join(shown)
            if item.name is None:
                self.made_up.add(name)
            else:
                self.made_up.discard(name)
            cur = self.item(item, cur, own_full, own_named, name)
        return cur

    def item(self, item, cur: _Cursor, full: tuple, named: tuple, name: str) -> _Cursor:
        if isinstance(item, Leaf):
            return self.leaf(item, cur, name)
        if isinstance(item, Group):
            return self.sequence(item.items, cur, full, named)
        if isinstance(item, Repeat):
            for k in range(item.count):
                segment = f"{item.label}{item.start + k}"
                cur = self.sequence(item.items, cur, full + (segment,), named + (segment,))
            return cur
        if isinstance(item, Join):
            return self.join(item, cur, full, named, name)
        raise TypeError(item)  # pragma: no cover - the spec has no other items

    def leaf(self, leaf: Leaf, cur: _Cursor, name: str) -> _Cursor:
        layer = leaf.layer
        try:
            out = layer.out_shape(cur.shape)
            field = layer.receptive(cur.field, cur.shape, out)
        except CnnCalcError as exc:
            line = leaf.option_lines.get(exc.field) if exc.field else None
            exc.message = (
                f"layer '{name}' ({layer.kind}) on input {fmt_shape(cur.shape)}: {exc.message}"
            )
            path = f"{leaf.where.path}.{exc.field}" if exc.field else leaf.where.path
            exc.line = exc.line or line or leaf.where.line
            exc.field = path
            raise exc.located(file=leaf.where.file) from None
        return self.add(name, layer, [cur], out, field, leaf.where)

    def join(self, join: Join, cur: _Cursor, full: tuple, named: tuple, name: str) -> _Cursor:
        ends = []
        for i, branch in enumerate(join.branches):
            segment = branch.name if branch.name is not None else str(i)
            bnamed = named + (branch.name,) if branch.name is not None else named
            ends.append(self.sequence(branch.items, cur, full + (segment,), bnamed))
        try:
            out = join.join.merge([e.shape for e in ends])
        except CnnCalcError as exc:
            exc.message = f"layer '{name}' ({join.join.kind}): {exc.message}"
            raise exc.located(
                file=join.where.file, line=join.where.line, field=join.where.path
            ) from None
        return self.add(
            name, join.join, ends, out, Field.merge([e.field for e in ends]), join.where
        )


def build_graph(spec: NetworkSpec, input: Shape | None = None) -> Graph:
    """Work out every node and shape of a network spec (not a study)."""
    if spec.layers is None:
        raise CnnCalcError(
            f"'{spec.name}' is a comparison study with variants "
            f"({', '.join(spec.variants or {})}), not one network",
            file=spec.file,
            hint="analyse each of its variants (cnncalc.api.analyze_each)",
        )
    shape = input or spec.input
    builder = _Builder(spec)
    start = _Cursor(INPUT, shape, Field.of_input(len(shape) - 1), 0)
    end = builder.sequence(spec.layers, start, (), ())
    return Graph(spec.name, shape, tuple(builder.nodes), end.node, spec.file)

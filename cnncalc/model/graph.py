"""Validated spec → layer graph with every shape worked out.

Each node is one layer (or the join of a ``concat``/``add``/``mul``), in forward
order, with its inputs, shapes, receptive field and depth. Names are
hierarchical: a layer you name is named under its nearest named ancestors
(so torchvision's ``layer1.0.downsample.0`` can be written out); a layer you
don't name gets a path through every structure (``3a.concat.1.conv2``).

References (``from: NAME``, a join's branch written as a name, ``outputs:``)
read an earlier layer's output: the name is looked up in the enclosing named
scopes, innermost first, then as a full layer name; a block call, a repeat or
a join is also known by its name, as its last layer's output, and ``input`` is
the network's input. Only earlier
layers can be named, so references never form a cycle; the depth of a node is
the longest path to it through every input, references included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Field, Shape
from cnncalc.kinds.base import Kind, fmt_shape
from cnncalc.model.spec import (
    MAX_ITEMS,
    Group,
    Join,
    Leaf,
    NetworkSpec,
    Ref,
    Repeat,
    Where,
    suggest,
)

INPUT = -1
"""The index that stands for the network's input in ``Node.inputs``."""
INPUT_NAME = "input"
"""What a reference calls the network's input (``from: input``), unless a layer takes
the name."""


def layer_key(layer: Kind) -> object:
    """What a layer's counts on given shapes depend on, as a dict key: the layer itself
    where its options hash (two layers with equal options count alike, exactly), else its
    identity (a layer whose options hold a list)."""
    try:
        hash(layer)
    except TypeError:
        return id(layer)
    return layer


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
    in_fields: tuple[Field, ...] = ()
    """A join's branch fields (the explanation says where their jumps disagree)."""

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
    """The first (usually the only) output: the last layer unless ``outputs:`` names others."""
    file: str | None
    outputs: tuple[int, ...] = ()
    """Every output, in the order ``outputs:`` gives them (empty: just ``output``)."""

    @property
    def output_nodes(self) -> tuple[int, ...]:
        return self.outputs or (self.output,)

    def shape_of(self, index: int) -> Shape:
        return self.input if index == INPUT else self.nodes[index].out_shape

    def name_of(self, index: int) -> str:
        return "input" if index == INPUT else self.nodes[index].name

    @property
    def out_shape(self) -> Shape:
        return self.shape_of(self.output)

    @property
    def depth(self) -> int:
        """The longest path, in weighted layers, from the input to any output."""
        return max(0 if i == INPUT else self.nodes[i].depth for i in self.output_nodes)


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
        # both live for one build only, keyed by objects the spec holds throughout
        self.shapes: dict[tuple[object, Shape], Shape] = {}
        """(:func:`layer_key`, input shape) → output shape: the layers of a repeated block,
        or of a block called with the same arguments, worked out once per input shape."""
        self.generated: dict[int, list[str]] = {}
        """id of a sequence → the names its items are given when unnamed."""
        self.automatic: set[str] = set()
        """The names the builder made up (for layers written without ``name:``), so that
        a clash can say which of the two was not the user's."""
        self.made_up: set[str] = set()
        """The name the next node gets, if that name is made up (set by ``sequence``)."""
        self.known: dict[str, _Cursor] = {}
        """What a reference can name: every layer, and each block call, repeat or join by
        its name (its last layer's output)."""

    def add(
        self,
        name: str,
        layer: Kind,
        inputs: list[_Cursor],
        out_shape: Shape,
        field: Field,
        where: Where,
        in_fields: tuple[Field, ...] = (),
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
        if len(inputs) == 1:
            (only,) = inputs
            sources: tuple[int, ...] = (only.node,)
            shapes: tuple[Shape, ...] = (only.shape,)
            depth = only.depth
        else:
            depth = max(c.depth for c in inputs)
            sources, shapes = tuple(c.node for c in inputs), tuple(c.shape for c in inputs)
        if layer.weighted:
            depth += 1
        node = Node(
            len(self.nodes),
            name,
            layer,
            sources,
            shapes,
            out_shape,
            field,
            depth,
            where,
            in_fields,
        )
        self.nodes.append(node)
        cursor = _Cursor(node.index, out_shape, field, depth)
        self.known[name] = cursor
        return cursor

    def lookup(self, ref: Ref, scope: tuple) -> _Cursor:
        """The output a reference names, from the innermost named scope outwards."""
        for k in range(len(scope), -1, -1):
            found = self.known.get(".".join(scope[:k] + (ref.name,)))
            if found is not None:
                return found
        raise self.unknown(ref)

    def unknown(self, ref: Ref) -> CnnCalcError:
        """Why a reference finds nothing: out of scope, the layer's own name, later, or
        no such name."""
        elsewhere = [k for k in self.known if k.endswith("." + ref.name)]
        written = _names_written(self.spec.layers or ())
        where = written.get(ref.name.rsplit(".", 1)[-1])
        hint = "move the named layer before the layer that reads it"
        if elsewhere:
            message = f"no layer named '{ref.name}' in this scope"
            hint = f"write its full name, e.g. '{elsewhere[-1]}'"
        elif where is not None and ref.where.path.startswith(where.path + "."):
            message = (
                f"'{ref.name}' is this layer's own name: a layer cannot take its input "
                "from itself (a cycle)"
            )
        elif where is not None:
            message = (
                f"'{ref.name}' comes later (line {where.line}): a layer reads only layers "
                "before it, so references cannot form a cycle"
            )
        else:
            message = f"no layer named '{ref.name}' before this point"
            hint = suggest(ref.name, self.known) or "'cnncalc shape NET' lists the layer names"
        return CnnCalcError(
            message, file=ref.where.file, line=ref.where.line, field=ref.where.path, hint=hint
        )

    def generated_names(self, items) -> list[str]:
        """``conv`` for a sequence's only conv, ``conv1``, ``conv2``… where there are several."""
        names = self.generated.get(id(items))
        if names is None:
            keys = Counter(item.key for item in items)
            seen: Counter = Counter()
            names = []
            for item in items:
                seen[item.key] += 1
                names.append(item.key if keys[item.key] == 1 else f"{item.key}{seen[item.key]}")
            self.generated[id(items)] = names
        return names

    def sequence(self, items, cur: _Cursor, full: tuple, named: tuple) -> _Cursor:
        for item, generated in zip(items, self.generated_names(items)):
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
        scope = named[:-1] if item.name is not None else named
        if item.source is not None:
            cur = self.lookup(item.source, scope)
        if isinstance(item, Leaf):
            return self.leaf(item, cur, name, scope)
        if isinstance(item, Group):
            cur = self.sequence(item.items, cur, full, named)
        elif isinstance(item, Repeat):
            for k in range(item.count):
                segment = f"{item.label}{item.start + k}"
                cur = self.sequence(item.items, cur, full + (segment,), named + (segment,))
        elif isinstance(item, Join):
            return self.join(item, cur, full, named, name)
        else:  # pragma: no cover - the spec has no other items
            raise TypeError(item)
        self.known.setdefault(name, cur)
        return cur

    def leaf(self, leaf: Leaf, cur: _Cursor, name: str, scope: tuple = ()) -> _Cursor:
        layer = leaf.layer
        source = layer.size_source()
        target = None
        if source is not None:  # a crop to the size of a named layer at this input
            line = leaf.option_lines.get("match") or leaf.where.line
            where = Where(leaf.where.file, line, f"{leaf.where.path}.match")
            target = self.lookup(Ref(source, where), scope).shape
        try:
            if target is not None:
                layer = layer.sized_like(target)
            key = (layer_key(layer), cur.shape)
            out = self.shapes.get(key)
            if out is None:
                out = self.shapes[key] = layer.out_shape(cur.shape)
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
            if branch.ref is not None:
                ends.append(self.lookup(branch.ref, named))
                continue
            segment = branch.name if branch.name is not None else str(i)
            bnamed = named + (branch.name,) if branch.name is not None else named
            ends.append(self.sequence(branch.items, cur, full + (segment,), bnamed))
        shapes = [e.shape for e in ends]
        try:
            out = join.join.merge(shapes)
        except CnnCalcError as exc:
            exc.message = f"layer '{name}' ({join.join.kind}): {exc.message}"
            raise exc.located(
                file=join.where.file, line=join.where.line, field=join.where.path
            ) from None
        fields = tuple(e.field for e in ends)
        field = join.join.merge_field(list(fields), shapes, out)
        return self.add(name, join.join, ends, out, field, join.where, fields)


def _names_written(items, found: dict | None = None) -> dict[str, Where]:
    """Every ``name:`` written in a sequence, at any depth, with where it was written (read
    only to explain a reference that finds nothing earlier)."""
    found = {} if found is None else found
    for item in items:
        if item.name is not None:
            found.setdefault(item.name, item.where)
        if isinstance(item, Join):
            for branch in item.branches:
                if branch.name is not None:
                    found.setdefault(branch.name, branch.where)
                _names_written(branch.items, found)
        elif not isinstance(item, Leaf):
            _names_written(item.items, found)
    return found


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
    builder.known[INPUT_NAME] = start
    end = builder.sequence(spec.layers, start, (), ())
    outputs = tuple(builder.lookup(ref, ()).node for ref in spec.outputs or ())
    return Graph(
        spec.name,
        shape,
        tuple(builder.nodes),
        outputs[0] if outputs else end.node,
        spec.file,
        outputs,
    )

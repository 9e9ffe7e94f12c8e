"""Validated spec → layer graph with every shape worked out.

Each node is one layer (or the join of a ``concat``/``add``/``mul``), in forward
order, with its inputs, shapes, receptive field and depth.

Names follow one rule. A layer's name is a path: a segment for each structure around
it (a block call, a repeat, a join, a join's branch), outermost first, then its own
segment. A structure you named gives its name; a repeat adds its index (``layer1.0``)
after it. A structure you did not name gives its automatic segment (a block call or
join its kind, numbered like a layer; a branch its index), except to the layers of a
part of it where a name is given: a block call or branch that holds a name gives
none, and a join none to its branches that hold one. So a named layer sits under its
nearest named ancestors (torchvision's ``layer1.0.downsample.0``) with its unnamed
neighbours beside it (``layer1.0.relu1`` next to ``layer1.0.conv1``, never
``layer1.0.add.0.relu1``), while a branch without names keeps the join's segment and
its index (``3a.concat.1.conv2``). A layer without ``name:`` is called by its kind,
numbered in forward order (``relu1``, ``relu2``) where that kind occurs more than once
among the unnamed layers that share its path: ``stage2.block1.conv1``.

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
        self.generated: dict[tuple[int, ...], dict[int, str]] = {}
        """ids of the sequences sharing one path → the names their unnamed items get
        (:meth:`automatic_names`)."""
        self.holding: dict[int, bool] = {}
        """id of an item → whether a name is given inside it (:meth:`holds_name`)."""
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
                hint="a layer without name: is called by its kind, numbered when several "
                "unnamed layers of that kind share its path; name that layer, or give this "
                "one another name"
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

    def holds_name(self, item) -> bool:
        """Whether a name is given anywhere inside ``item`` (a layer's, a structure's or a
        branch's): then ``item``, unnamed, adds no segment to the names inside it."""
        found = self.holding.get(id(item))
        if found is None:
            if isinstance(item, Leaf):
                found = False
            elif isinstance(item, Join):
                found = any(
                    b.ref is None and (b.name is not None or any(self._named(i) for i in b.items))
                    for b in item.branches
                )
            else:
                found = any(self._named(i) for i in item.items)
            self.holding[id(item)] = found
        return found

    def _named(self, item) -> bool:
        return item.name is not None or self.holds_name(item)

    def merged(self, item) -> list:
        """The sequences inside ``item`` whose unnamed layers share its path (and so are
        numbered with the layers around it): a block call's layers, a join's unnamed
        branches that hold a name. A repeat's layers get its index: a path of their own."""
        if isinstance(item, Group):
            return [item.items]
        if isinstance(item, Join):
            return [
                b.items
                for b in item.branches
                if b.ref is None and b.name is None and any(self._named(i) for i in b.items)
            ]
        return []

    def automatic_names(self, sequences) -> dict[int, str]:
        """id of each unnamed item sharing one path → its automatic segment: ``conv`` for
        the only conv, ``conv1``, ``conv2``… in forward order where there are several. The
        path's items are those of ``sequences`` and of the unnamed structures inside them
        that hold a name (:meth:`merged`)."""
        key = tuple(id(s) for s in sequences)
        names = self.generated.get(key)
        if names is None:
            unnamed: list = []

            def walk(items) -> None:
                for item in items:
                    if item.name is None:
                        if self.holds_name(item):
                            for inner in self.merged(item):
                                walk(inner)
                        unnamed.append(item)

            for items in sequences:
                walk(items)
            keys = Counter(item.key for item in unnamed)
            seen: Counter = Counter()
            names = {}
            for item in unnamed:
                seen[item.key] += 1
                names[id(item)] = item.key if keys[item.key] == 1 else f"{item.key}{seen[item.key]}"
            self.generated[key] = names
        return names

    def sequence(self, items, cur: _Cursor, path: tuple, named: tuple, automatic=None) -> _Cursor:
        """Build ``items`` under ``path`` (``named``: the named scopes, for references);
        ``automatic``: the names of the unnamed items of this path, when ``items`` shares
        the path of the structure around it."""
        if automatic is None:
            automatic = self.automatic_names((items,))
        for item in items:
            own = path + (item.name if item.name is not None else automatic[id(item)],)
            name = ".".join(own)
            if item.name is not None:
                inner, own_named = own, named + (item.name,)
                self.made_up.discard(name)
            else:
                inner = path if self.holds_name(item) else own
                own_named = named
                self.made_up.add(name)
            cur = self.item(item, cur, own, inner, own_named, name, automatic)
        return cur

    def item(
        self, item, cur: _Cursor, own: tuple, inner: tuple, named: tuple, name: str, automatic
    ) -> _Cursor:
        """``own``: the item's path (``name`` joined); ``inner``: the path of the layers
        inside it (``own``, or the path around it if it is unnamed and holds a name)."""
        scope = named[:-1] if item.name is not None else named
        if item.source is not None:
            cur = self.lookup(item.source, scope)
        if isinstance(item, Leaf):
            return self.leaf(item, cur, name, scope)
        shares = item.name is None and self.holds_name(item)
        if isinstance(item, Group):
            cur = self.sequence(item.items, cur, inner, named, automatic if shares else None)
        elif isinstance(item, Repeat):
            for k in range(item.count):
                segment = f"{item.label}{item.start + k}"
                cur = self.sequence(item.items, cur, inner + (segment,), named + (segment,))
        elif isinstance(item, Join):
            if not shares:
                automatic = self.automatic_names(self.merged(item))
            return self.join(item, cur, own, inner, named, name, automatic)
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

    def join(
        self,
        join: Join,
        cur: _Cursor,
        own: tuple,
        inner: tuple,
        named: tuple,
        name: str,
        automatic,
    ) -> _Cursor:
        """A branch that holds a name shares ``inner`` (``automatic``: the names of its
        unnamed layers); a named branch adds its name to it; a branch that holds none adds
        its index to the join's own path (``3a.concat.1``)."""
        ends = []
        for i, branch in enumerate(join.branches):
            if branch.ref is not None:
                ends.append(self.lookup(branch.ref, named))
            elif branch.name is not None:
                path = inner + (branch.name,)
                ends.append(self.sequence(branch.items, cur, path, named + (branch.name,)))
            elif any(self._named(i) for i in branch.items):
                ends.append(self.sequence(branch.items, cur, inner, named, automatic))
            else:
                ends.append(self.sequence(branch.items, cur, own + (str(i),), named))
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

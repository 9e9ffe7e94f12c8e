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

from dataclasses import dataclass
from typing import NamedTuple, cast

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.arith import Field, Shape
from cnncalc.kinds.base import Kind, fmt_shape
from cnncalc.kinds.joins import JoinKind
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


def layer_key(layer: Kind) -> tuple:
    """What a layer's counts on given shapes depend on, as a dict key: its type and options
    (:meth:`Kind.options_key`; two layers with equal options count alike, exactly)."""
    return layer.options_key()


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

    def last_readers(self) -> dict[int, int]:
        """For each node read by another (and the input), the index of the last node that
        reads it: after that node has run, its value is no longer needed."""
        last = {}
        for node in self.nodes:
            for i in node.inputs:
                last[i] = node.index
        return last

    @property
    def out_shape(self) -> Shape:
        return self.shape_of(self.output)

    @property
    def depth(self) -> int:
        """The longest path, in weighted layers, from the input to any output."""
        return max(0 if i == INPUT else self.nodes[i].depth for i in self.output_nodes)


LEAF, WEIGHTED_LEAF, JOIN, WEIGHTED_JOIN = range(4)
"""What a step of a :class:`Plan` is; a weighted one adds 1 to the depth."""


class Plan(NamedTuple):
    """A network's layers in forward order, everything about them that does not depend on
    the input shape worked out once: names (blocks, repeats and joins expanded, clashes
    refused) and which outputs each layer reads. Kept on the spec it was made from
    (:func:`plan`), so that each analysis, at any input size, only runs the shapes.

    One column a field, one entry a layer (a tuple per column holds nothing of its own
    but its pointers: a network of 100,000 layers keeps a few MB). A named tuple, not a
    frozen dataclass, whose generated methods would cost every command's start-up."""

    indices: tuple[int, ...]
    """0, 1, 2…: the very int objects ``inputs`` holds, for the nodes' ``index`` (a network
    of 100,000 layers keeps each number once, not twice)."""
    steps: bytes
    """:data:`LEAF`, :data:`WEIGHTED_LEAF`, :data:`JOIN` or :data:`WEIGHTED_JOIN`, a byte each."""
    names: tuple[str, ...]
    keys: tuple[int | None, ...]
    """A small int standing for the layer's :func:`layer_key` (equal keys, equal options),
    so that a run hashes an int, not the options; None for a crop that matches a named
    layer, whose options follow that layer's size."""
    inputs: tuple[tuple[int, ...], ...]
    """The node indices each layer reads (:data:`INPUT` for the network's input)."""
    items: tuple
    """The spec's item each layer is (a :class:`Leaf`'s layer, a :class:`Join`'s join), with
    where it was written and its option lines."""
    matches: tuple[tuple[int, int], ...]
    """(index of a crop that takes the size of a named layer (``match:``), that layer's)."""
    output: int
    outputs: tuple[int, ...]


class _Planner:
    """Walks the spec's items once, in forward order, naming every layer and resolving
    every reference (the shapes are left to :func:`_run`)."""

    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        # the plan's columns (:class:`Plan`), a layer appended to each
        self.indices: list[int] = []
        self.steps: list[int] = []
        self.names: list[str] = []
        self.keys: list[int | None] = []
        self.inputs: list[tuple[int, ...]] = []
        self.items: list = []
        self.matches: dict[int, int] = {}
        self.keys_of: dict[tuple, int] = {}
        """:func:`layer_key` → a small int (:attr:`Plan.keys`)."""
        self.generated: dict[tuple[int, ...], dict[int, str]] = {}
        """ids of the sequences sharing one path → the names their unnamed items get
        (:meth:`automatic_names`)."""
        self.holding: dict[int, bool] = {}
        """id of an item → whether a name is given inside it (:meth:`holds_name`)."""
        self.automatic: set[str] = set()
        """The names the builder made up (for layers written without ``name:``), so that
        a clash can say which of the two was not the user's."""
        self.known: dict[str, int] = {}
        """What a reference can name, as the index of the layer it reads: every layer, and
        each block call, repeat or join by its name (its last layer's output)."""

    def add(
        self,
        name: str,
        layer: Kind,
        inputs: tuple[int, ...],
        item,
        made_up: bool,
        match: int | None = None,
    ) -> int:
        """A layer of ``item`` reading the outputs of ``inputs``; ``made_up``: its name is an
        automatic one; ``match``: the layer whose size a crop takes. Its index."""
        index = len(self.steps)
        taken = self.known.get(name)
        # a name is taken by a layer of that name; a structure's name (known as its last
        # layer) may be a layer's too, and so may the input's
        if index >= MAX_ITEMS or (taken is not None and taken >= 0 and self.names[taken] == name):
            raise self.refused(name, item.where)
        if made_up:
            self.automatic.add(name)
        key = None
        if match is None:
            key = self.keys_of.setdefault(layer_key(layer), len(self.keys_of))
        else:
            self.matches[index] = match
        self.indices.append(index)
        self.steps.append((JOIN if isinstance(layer, JoinKind) else LEAF) + layer.weighted)
        self.names.append(name)
        self.keys.append(key)
        self.inputs.append(inputs)
        self.items.append(item)
        self.known[name] = index
        return index

    def refused(self, name: str, where: Where) -> CnnCalcError:
        """Why a layer cannot be added: too many layers, or its name is taken."""
        if len(self.steps) >= MAX_ITEMS:
            return CnnCalcError(
                f"the network expands to more than {MAX_ITEMS:,} layers",
                file=where.file,
                line=where.line,
                field=where.path,
            )
        first = self.items[self.known[name]].where
        automatic = name in self.automatic
        return CnnCalcError(
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

    def lookup(self, ref: Ref, scope: tuple) -> int:
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
                    b.ref is None and (b.name is not None or self.holds_name(b))
                    for b in item.branches
                )
            else:  # a block call, a repeat or a join's branch
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
                if b.ref is None and b.name is None and self.holds_name(b)
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
            for items in sequences:
                self._unnamed(items, unnamed)
            kinds = [item.key for item in unnamed]
            total: dict[str, int] = {}
            for k in kinds:
                total[k] = total.get(k, 0) + 1
            seen: dict[str, int] = {}
            names = {}
            for item, k in zip(unnamed, kinds):
                if total[k] == 1:
                    names[id(item)] = k
                else:
                    seen[k] = number = seen.get(k, 0) + 1
                    names[id(item)] = f"{k}{number}"
            self.generated[key] = names
        return names

    def _unnamed(self, items, found: list) -> None:
        """The unnamed items of a path in ``items``, in forward order, the unnamed
        structures holding a name after the items inside them that share the path."""
        for item in items:
            if item.name is None:
                if type(item) is not Leaf and self.holds_name(item):
                    for inner in self.merged(item):
                        self._unnamed(inner, found)
                found.append(item)

    def sequence(self, items, cur: int, path: tuple, named: tuple, automatic=None) -> int:
        """Build ``items`` under ``path`` (``named``: the named scopes, for references);
        ``automatic``: the names of the unnamed items of this path, when ``items`` shares
        the path of the structure around it."""
        if automatic is None:
            automatic = self.automatic_names((items,))
        prefix = ".".join(path) + "." if path else ""
        for item in items:
            given = item.name
            name = prefix + (automatic[id(item)] if given is None else given)
            if type(item) is Leaf and item.source is None:  # most items: one layer
                cur = self.leaf(item, cur, name, named, given is None)
                continue
            own = path + (automatic[id(item)] if given is None else given,)
            if given is not None:
                inner, own_named = own, named + (given,)
            else:
                inner = path if self.holds_name(item) else own
                own_named = named
            cur = self.item(item, cur, own, inner, own_named, name, automatic)
        return cur

    def item(
        self, item, cur: int, own: tuple, inner: tuple, named: tuple, name: str, automatic
    ) -> int:
        """``own``: the item's path (``name`` joined); ``inner``: the path of the layers
        inside it (``own``, or the path around it if it is unnamed and holds a name)."""
        scope = named[:-1] if item.name is not None else named
        if item.source is not None:
            cur = self.lookup(item.source, scope)
        if isinstance(item, Leaf):
            return self.leaf(item, cur, name, scope, item.name is None)
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

    def leaf(self, leaf: Leaf, cur: int, name: str, scope: tuple, made_up: bool) -> int:
        """``scope``: the named scopes around the layer; ``made_up``: ``name`` is automatic."""
        source = leaf.layer.size_source()
        match = None
        if source is not None:  # a crop to the size of a named layer, at each input
            line = leaf.option_lines.get("match") or leaf.where.line
            where = Where(leaf.where.file, line, f"{leaf.where.path}.match")
            match = self.lookup(Ref(source, where), scope)
        return self.add(name, leaf.layer, (cur,), leaf, made_up, match)

    def join(
        self,
        join: Join,
        cur: int,
        own: tuple,
        inner: tuple,
        named: tuple,
        name: str,
        automatic,
    ) -> int:
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
            elif self.holds_name(branch):
                ends.append(self.sequence(branch.items, cur, inner, named, automatic))
            else:
                ends.append(self.sequence(branch.items, cur, own + (str(i),), named))
        inputs = tuple(ends)
        return self.add(name, join.join, inputs, join, join.name is None)

    def plan(self) -> Plan:
        """The whole network's plan (the input known by its name to the first layers)."""
        spec = self.spec
        self.known[INPUT_NAME] = INPUT
        end = self.sequence(spec.layers, INPUT, (), ())
        outputs = tuple(self.lookup(ref, ()) for ref in spec.outputs or ())
        return Plan(
            tuple(self.indices),
            bytes(self.steps),
            tuple(self.names),
            tuple(self.keys),
            tuple(self.inputs),
            tuple(self.items),
            tuple(self.matches.items()),
            outputs[0] if outputs else end,
            outputs,
        )


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


PLAN = "graph_plan"
"""The attribute of a :class:`NetworkSpec` that keeps its :class:`Plan` (the spec is frozen,
and so is everything in it that the plan is made from: frozen items, tuples, frozen kinds)."""


def plan(spec: NetworkSpec) -> Plan:
    """The spec's plan, made at its first analysis and kept on it for the next ones (the
    sweep's sizes): it depends on nothing but the spec."""
    found = spec.__dict__.get(PLAN)
    if found is None:
        found = _Planner(spec).plan()
        object.__setattr__(spec, PLAN, found)
    return found


def _step(layer: Kind, x: Shape, name: str, leaf: Leaf, target: Shape | None = None) -> tuple:
    """A layer on input ``x``: (the layer, sized like ``target`` for a crop that matches
    one, its output shape, :meth:`Kind.field_step`); an error names the layer and its line."""
    try:
        if target is not None:
            layer = layer.sized_like(target)
        out = layer.out_shape(x)
        return layer, out, layer.field_step(x, out)
    except CnnCalcError as exc:
        line = leaf.option_lines.get(exc.field) if exc.field else None
        exc.message = f"layer '{name}' ({layer.kind}) on input {fmt_shape(x)}: {exc.message}"
        path = f"{leaf.where.path}.{exc.field}" if exc.field else leaf.where.path
        exc.line = exc.line or line or leaf.where.line
        exc.field = path
        raise exc.located(file=leaf.where.file) from None


def _run(planned: Plan, start: Node) -> list[Node]:
    """The nodes of a plan on the input ``start``: each layer's output shape and receptive
    field, worked out once per (layer options, input shape) in this run."""
    ends: list = [None] * len(planned.steps)
    ends.append(start)  # ends[INPUT], the last, is the input; ends[i] will be node i
    done: dict[tuple[int, Shape], tuple] = {}
    matches = dict(planned.matches)
    for index, step, name, key, inputs, item in zip(
        planned.indices, planned.steps, planned.names, planned.keys, planned.inputs, planned.items
    ):
        if step < JOIN:
            cur = ends[inputs[0]]
            x = cur.out_shape
            if key is not None:
                found = done.get((key, x))
                if found is None:
                    found = done[(key, x)] = _step(item.layer, x, name, item)
            else:
                target = ends[matches[index]].out_shape
                found = _step(item.layer, x, name, item, target)
            layer, out, field_step = found
            field = cur.field if field_step is None else field_step(cur.field)
            depth = cur.depth + step  # WEIGHTED_LEAF is LEAF + 1
            ends[index] = Node(index, name, layer, inputs, (x,), out, field, depth, item.where)
            continue
        layer = item.join
        branches = [ends[i] for i in inputs]
        shapes = [e.out_shape for e in branches]
        try:
            out = layer.merge(shapes)
        except CnnCalcError as exc:
            where = item.where
            exc.message = f"layer '{name}' ({layer.kind}): {exc.message}"
            raise exc.located(file=where.file, line=where.line, field=where.path) from None
        fields = tuple([e.field for e in branches])
        field = layer.merge_field(fields, shapes, out)
        depth = max([e.depth for e in branches]) + step - JOIN
        ends[index] = Node(
            index, name, layer, inputs, tuple(shapes), out, field, depth, item.where, fields
        )
    ends.pop()
    return ends


def build_graph(spec: NetworkSpec, input: Shape | None = None) -> Graph:
    """Work out every node and shape of a network spec (not a study)."""
    if spec.layers is None:
        raise CnnCalcError(
            f"'{spec.name}' is a comparison study with variants "
            f"({', '.join(spec.variants or {})}), not one network",
            file=spec.file,
            hint="analyse each of its variants (cnncalc.api.analyze_each)",
        )
    planned = plan(spec)
    shape = input or spec.input
    # the input as a node (never one of the graph's), for the first layers to read
    where = Where(spec.file, None, INPUT_NAME)
    field = Field.of_input(len(shape) - 1)
    start = Node(INPUT, INPUT_NAME, cast(Kind, None), (), (), shape, field, 0, where)
    nodes = _run(planned, start)
    return Graph(spec.name, shape, tuple(nodes), planned.output, spec.file, planned.outputs)

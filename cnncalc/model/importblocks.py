"""Nested layers of an import → ``blocks:`` with arguments, calls and ``repeat`` (issue 13 §3).

An importer names each weighted layer by its module path (``layer1.0.conv1``), so the
paths say which layers belong together: the layers under one path (``layer1.0``) are one
module. :func:`compact` reads those modules out of the nested items (a :class:`Scope`
each), groups the modules whose layers are the same up to their values (same kinds, same
names, same options; a missing option counts as its default), and writes each group that
pays for itself as one block whose varying values are its ``args:``; equal argument
columns are one argument, a column that is an exact multiple of another ``$channels * 4``.
Calls keep the module path as their ``name:``, so every weighted layer keeps its full
name (graph.py: a named call scopes the names inside it). Consecutive calls
``P.k … P.k+n−1`` with the same arguments become ``{repeat: n, name: P, label: "",
start: k}``, which graph.py names ``P.k`` … again. A module that is not a block is written
in place, its names prefixed again by its path.

Modules that differ a little more may still share a block (:func:`choose_blocks` with
``merge``): a parameterless activation's kind is an argument (``{$act: }``: ReLU in one
module, Hardswish in another), and modules whose parts are a subsequence of a larger
module's, in order and in each join's branches, join its block with each part that some
lack under ``if: $use_…`` (torchvision's InvertedResidual without its expansion or its
squeeze-and-excitation, a Bottleneck without its downsample). Where the members number
their parts by position (an ``nn.Sequential``), a part after an optional one is named
``"$use_… + 1"``. A part that repeats its neighbour is a count, not an option (ResNet's
stages stay repeats), and :func:`compact` keeps whichever way is shorter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS
from cnncalc.model.spec import REF_KEY, STRUCTURE_KEYS

JOINS = tuple(JOIN_KINDS)
_ELEMENTWISE = frozenset(k for k, cls in LAYER_KINDS.items() if hasattr(cls, "per_element"))
"""The element-wise kinds (activations, counted per element): unnamed, they belong to the
module before them (torchvision's Bottleneck ends in its ReLU after the add; a
Conv2dNormActivation in its activation)."""
_SHORT = {"batchnorm": "bn", "adaptive": "pool"}


@dataclass
class Scope:
    """The layers under one module path (``name``, relative to the enclosing scope)."""

    name: str
    items: list
    flag: str | None = None
    """``$flag`` when the module is an optional part of a block's body (``if: $flag``)."""


@dataclass
class Call:
    """A call of a block: ``{block: [args], name: name}`` (``if: $flag`` with ``flag``)."""

    block: str
    args: list
    name: str | None
    flag: str | None = None


@dataclass
class Repeat:
    """``count`` calls named ``name.{label}{start}`` … ``name.{label}{start + count − 1}``
    (graph.py's naming of a repeat; without a name, ``{label}{start}`` …)."""

    count: int
    name: str | None
    label: str
    start: int
    items: list

    def segment(self, k: int) -> str:
        """The full name of the k-th call (0-based)."""
        own = f"{self.label}{self.start + k}"
        return f"{self.name}.{own}" if self.name else own


@dataclass
class Block:
    """A block definition: its argument names and its body."""

    args: list[str]
    layers: list
    skeleton: tuple = ()
    needed: bool = False
    """Called by a name that is an expression (``"$use_conv_bn_act + 1"``, a position
    after an optional part): its layers cannot be written in place under that name."""


def is_join(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and next(iter(item)) in JOINS
        and isinstance(item[next(iter(item))], list)
    )


# ---------------------------------------------------------------- modules from names


def _names(item: Any) -> list[str]:
    """The names of the layers inside an item (leaf, join or scope), outermost first."""
    if isinstance(item, Scope):
        return [f"{item.name}.{n}" for i in item.items for n in _names(i)]
    if isinstance(item, Call):
        return [item.name] if item.name else []
    if is_join(item):
        kind = next(iter(item))
        return [
            n
            for branch in item[kind]
            if isinstance(branch, list)
            for i in branch
            for n in _names(i)
        ]
    name = item.get("name")
    return [str(name)] if name is not None else []


def _with_branches(join: dict, change: Callable[[list], list]) -> dict:
    """A copy of the join with ``change`` applied to each branch of layers (a branch that
    names a layer stays as it is)."""
    kind = next(iter(join))
    out = dict(join)
    out[kind] = [change(b) if isinstance(b, list) else b for b in join[kind]]
    return out


def _renamed(item: Any, rename: Callable[[str], str]) -> Any:
    """The item with every name of a layer, call or module inside it renamed."""
    if isinstance(item, (Call, Scope)):
        item.name = rename(item.name) if item.name else item.name
        return item
    if is_join(item):
        return _with_branches(item, lambda b: [_renamed(i, rename) for i in b])
    out = dict(item)
    if "name" in out:
        out["name"] = rename(str(out["name"]))
    return out


def scoped(items: list, joins_inside: bool = True) -> list:
    """Runs of items whose layers share the first segment of their names → :class:`Scope`s,
    recursively; an unnamed activation joins the run before it. A join whose named layers
    are all in one branch (``x + block(x)``) goes inside their module (torchvision's
    Bottleneck holds its add) or, without ``joins_inside``, stays around it (its
    InvertedResidual holds the add around ``.block``)."""
    runs: list[tuple[str | None, list]] = []
    for item in items:
        names = _names(item)
        heads = {n.split(".", 1)[0] for n in names}
        key = heads.pop() if len(heads) == 1 and all("." in n for n in names) else None
        if is_join(item) and ("name" in item or not joins_inside and _around(item)):
            key = None  # a join read by name stays where it is
        if not names and runs and runs[-1][0] is not None and next(iter(item)) in _ELEMENTWISE:
            runs[-1][1].append(item)
        elif key is not None and runs and runs[-1][0] == key:
            runs[-1][1].append(item)
        else:
            runs.append((key if names else None, [item]))
    out: list = []
    for key, run in runs:
        if key is None:
            out.extend(
                _with_branches(i, lambda b: scoped(b, joins_inside)) if is_join(i) else i
                for i in run
            )
            continue
        cut = len(key) + 1
        inner = scoped([_renamed(item, lambda n: n[cut:]) for item in run], joins_inside)
        if len(inner) == 1 and isinstance(inner[0], Scope):  # features.2 holding only .block
            out.append(Scope(f"{key}.{inner[0].name}", inner[0].items))
        else:
            out.append(Scope(key, inner))
    return out


def _around(join: dict) -> bool:
    """A residual add: one branch of layers and the identity."""
    kind = next(iter(join))
    branches = join[kind]
    return (
        kind == "add"
        and all(isinstance(b, list) for b in branches)
        and sorted(bool(b) for b in branches) == [False, True]
    )


# ---------------------------------------------------------------- skeletons and defaults

_NO_DEFAULT = object()


def option_default(kind: str, key: str) -> Any:
    """The value a missing option stands for (``stride`` → 1), if it can be written."""
    cls = LAYER_KINDS.get(kind)
    if cls is None or key == kind or key not in cls.model_fields:
        return _NO_DEFAULT
    default = cls.model_fields[key].default
    if isinstance(default, (bool, int, float, str)):
        return default
    return _NO_DEFAULT


def skeleton(items: list, seen: dict[int, tuple] | None = None) -> tuple:
    """What two modules must share to be one block: kinds, names, structure, and the
    options that have no default; not the values. (``seen``: the skeletons of the modules
    inside, by the id of their items, worked out once.)"""
    seen = {} if seen is None else seen
    if id(items) in seen:
        return seen[id(items)]
    out: list = []
    for item in items:
        if isinstance(item, Scope):
            out.append(("S", item.name, skeleton(item.items, seen)))
        elif isinstance(item, Call):
            out.append(("C", item.block, item.name, len(item.args)))
        elif is_join(item):
            kind = next(iter(item))
            branches = tuple(
                skeleton(b, seen) if isinstance(b, list) else ("ref", b) for b in item[kind]
            )
            out.append(("J", kind, branches, item.get("name")))
        elif swappable(item):
            out.append(("L", ACTIVATION, item.get("name"), True, frozenset(), item.get("from")))
        else:
            kind = next(iter(item))
            fixed = frozenset(
                k
                for k in item
                if k not in ("name", kind) and option_default(kind, k) is _NO_DEFAULT
            )
            out.append(("L", kind, item.get("name"), item[kind] is None, fixed, item.get("from")))
    seen[id(items)] = tuple(out)
    return seen[id(items)]


ACTIVATION = "$act"
"""The kind of a layer a block takes as an argument: the activation (``{$act: }``)."""


def swappable(item: Any) -> bool:
    """A layer whose kind may be a block's argument: a parameterless element-wise
    activation written bare (``{relu: }``, ``{hardswish: }``), or one already an argument."""
    if not isinstance(item, dict) or is_join(item):
        return False
    kind = next(iter(item))
    bare = item[kind] is None and all(k in ("name", kind) for k in item)
    return bare and (kind in _ELEMENTWISE - {"batchnorm", "prelu"} or kind[:1] == "$")


def _size(items: list) -> int:
    """Nodes in a body (layers, joins, scopes): a module is larger than any module inside."""
    total = 0
    for item in items:
        if isinstance(item, Scope):
            total += 1 + _size(item.items)
        elif is_join(item):
            kind = next(iter(item))
            total += 1 + sum(_size(b) for b in item[kind] if isinstance(b, list))
        else:
            total += 1
    return total


def one_line(join: dict) -> bool:
    """A join written on one line: each branch ``[]`` or a layer's name, but for at most
    one that is one call (``{add: [[{block: [184, 1], name: features.9.block}], []]}``)."""
    kind = next(iter(join))
    calls = [b for b in join[kind] if isinstance(b, list) and b]
    return len(calls) <= 1 and all(len(b) == 1 and isinstance(b[0], Call) for b in calls)


def lines(items: list) -> int:
    """How many lines :func:`cnncalc.model.importgraph.emit` writes for the items."""
    total = 0
    for item in items:
        if isinstance(item, Scope):
            total += lines(item.items)
        elif is_join(item) and not one_line(item):
            kind = next(iter(item))
            total += 1 + sum(lines(b) if isinstance(b, list) and b else 1 for b in item[kind])
        else:
            total += 1
    return total


# ---------------------------------------------------------------- blocks


_CHANNELS = ("channels", "out", "groups")
"""Argument names that all count channels: a conv's filters, its BatchNorm's channels and a
depthwise conv's groups are one argument, and ``$channels * 4`` may be written for a
multiple."""


def _family(name: str) -> str:
    base = name.rstrip("0123456789")
    return "channels" if base in _CHANNELS else base


class _Wild:
    """A value a member does not have (the part is absent there): any argument fits it."""

    def __repr__(self) -> str:
        return "WILD"


WILD = _Wild()


class _WildLayer(dict):
    """An absent member's stand-in for a layer: its kind and name, every value WILD."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key) if key in ("name", REF_KEY) else WILD


def _wild(item: Any) -> Any:
    """The stand-in for a part a member does not have, shaped like ``item``."""
    if isinstance(item, Scope):
        return Scope(item.name, [_wild(i) for i in item.items], item.flag)
    if isinstance(item, Call):
        return Call(item.block, [WILD] * len(item.args), item.name)
    if is_join(item):
        return _with_branches(item, lambda b: [_wild(i) for i in b])
    kind = next(iter(item))
    return _WildLayer(
        {k: v if k in ("name", REF_KEY) else WILD for k, v in item.items()} | {kind: WILD}
    )


class _Args:
    """The argument columns of a block being made: one column of values per member."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.columns: list[list] = []

    def slot(self, hint: str, values: list) -> Any:
        """The value written in the body: the literal when all members agree (and it is not
        an argument of an enclosing block's body), else ``$arg``.
        A column equal to an earlier argument's of the same sort (channels with channels,
        stride with stride) is that argument; channels that are an exact multiple of earlier
        channels are ``$channels * k``."""
        real = [v for v in values if v is not WILD]
        bound = any(isinstance(v, str) and "$" in v for v in real)
        if all(v == real[0] for v in real) and not bound:
            return real[0]  # ($x in a block's body is that block's: passed on, never kept)
        family = _family(hint)
        same = [(n, c) for n, c in zip(self.names, self.columns) if _family(n) == family]
        for name, column in same:
            if all(v is WILD or c is WILD or v == c for v, c in zip(values, column)):
                column[:] = [v if c is WILD else c for v, c in zip(values, column)]
                return f"${name}"
        if family == "channels" and all(_positive(v) for v in real):
            for name, column in same:
                pairs = [(v, c) for v, c in zip(values, column) if WILD not in (v, c)]
                if not pairs or not all(_positive(c) for _, c in pairs):
                    continue
                k, rest = divmod(pairs[0][0], pairs[0][1])
                if k >= 2 and not rest and all(v == c * k for v, c in pairs):
                    return f"${name} * {k}"
        name, n = hint, 2
        while name in self.names:
            name, n = f"{hint}{n}", n + 1
        self.names.append(name)
        self.columns.append(values)
        return f"${name}"

    def settled(self) -> None:
        """Each value left WILD (an argument of a part the member has not) is the first
        member's: any value does, and equal calls make a repeat."""
        for column in self.columns:
            real = next(v for v in column if v is not WILD)
            column[:] = [real if v is WILD else v for v in column]


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _hint(kind: str, key: str) -> str:
    """An argument's name from where it is first used: the option's name, or ``channels``
    for the main value of a conv, fc or norm."""
    if key != kind:
        return key
    cls = LAYER_KINDS.get(kind)
    main = cls.main if cls is not None and cls.main else kind
    return "channels" if main.startswith("out_") or main == "channels" else main


def inferred(kind: str) -> bool:
    """A kind whose main value may be left out and is then its input's (BatchNorm's
    channels): a block writes ``{batchnorm: }`` rather than take them as an argument."""
    cls = LAYER_KINDS.get(kind)
    return (
        cls is not None and cls.main == "channels" and cls.model_fields["channels"].default is None
    )


def _key_order(kind: str, keys: list) -> list:
    """The kind first, then its options in the order the kind declares them."""
    cls = LAYER_KINDS.get(kind)
    declared = list(cls.model_fields) if cls is not None else []
    rank = {k: n for n, k in enumerate(declared)}
    rank[kind] = -1
    return sorted(keys, key=lambda k: rank.get(k, len(declared)))


def _generalize(seqs: list[list], args: _Args, blocks: dict[str, Block]) -> None:
    """Write the first of the parallel sequences as the block body, in place: every value
    the members disagree on becomes an argument."""
    first = seqs[0]
    for pos, item in enumerate(first):
        items = [s[pos] for s in seqs]
        kinds = [
            WILD if isinstance(i, _WildLayer) else next(iter(i))
            for i in items
            if isinstance(i, dict) and not is_join(i)
        ]
        if isinstance(item, Scope):
            _generalize([i.items for i in items], args, blocks)
        elif isinstance(item, Call):
            names = blocks[item.block].args
            item.args = [
                args.slot(names[a], [i.args[a] for i in items]) for a in range(len(item.args))
            ]
        elif is_join(item):
            kind = next(iter(item))
            for b, branch in enumerate(item[kind]):
                if isinstance(branch, list):
                    _generalize([i[kind][b] for i in items], args, blocks)
        elif len(named := {k for k in kinds if isinstance(k, str)}) > 1 or any(
            k[:1] == "$" for k in named
        ):
            # relu here, hardswish there (or the enclosing block's $act): a kind argument
            act = args.slot("act", kinds)
            first[pos] = {act: None} | ({"name": item["name"]} if "name" in item else {})
        else:
            kind = next(iter(item))
            keys = _key_order(kind, list(dict.fromkeys(k for i in items for k in i if k != "name")))
            body: dict = {}
            for key in keys:
                default = option_default(kind, key)
                values = [i.get(key, default) for i in items]
                real = [v for v in values if v is not WILD]
                varies = any(v != real[0] for v in real)
                if varies and key == kind and inferred(kind):
                    body[key] = None  # {batchnorm: }: its input's channels, no argument
                elif key in item or varies:
                    body[key] = args.slot(_hint(kind, key), values)
            if "name" in item:
                body["name"] = item["name"]
            first[pos] = body


def _kinds(items: list) -> list[str]:
    """The kinds of the layers and joins (and blocks called) in the items, in order."""
    found: list[str] = []
    for item in items:
        if isinstance(item, Scope):
            found += _kinds(item.items)
        else:
            found.append(item.block if isinstance(item, Call) else next(iter(item)))
    return found


def _leaves(items: list) -> list[dict]:
    """The layers in the items, at any depth (inside modules and join branches)."""
    found: list[dict] = []
    for item in items:
        if isinstance(item, Scope):
            found += _leaves(item.items)
        elif is_join(item):
            kind = next(iter(item))
            for b in item[kind]:
                if isinstance(b, list):
                    found += _leaves(b)
        elif isinstance(item, dict):
            found.append(item)
    return found


def _convs(items: list) -> list[dict]:
    """The conv layers in the items, at any depth."""
    return [leaf for leaf in _leaves(items) if next(iter(leaf)) == "conv"]


def block_name(items: list, taken: dict) -> str:
    """A name that says what the block is, from its pattern of layers: ``conv_bn_relu``,
    ``squeeze_excitation``, ``bottleneck``, ``inverted_residual``…; else ``block``."""
    kinds = ["act" if k[:1] == "$" else k for k in _kinds(items)]
    top = items[0] if len(items) == 1 else None
    convs = _convs(items)
    depthwise = any(
        c.get("groups") not in (None, 1) and c.get("groups") == c["conv"] for c in convs
    )
    leaves = all(isinstance(i, dict) and not is_join(i) for i in items)
    half = len(kinds) // 2
    if leaves and len(items) <= 3:
        base = "_".join(_SHORT.get(k, k) for k in kinds)
    elif leaves and len(kinds) in (4, 6) and kinds[:half] == kinds[half:]:  # U-Net's
        base = "double_" + "_".join(_SHORT.get(k, k) for k in kinds[:half])
    elif top is not None and is_join(top) and next(iter(top)) == "mul" and [] in top["mul"]:
        base = "squeeze_excitation"
    elif any(is_join(i) and next(iter(i)) == "add" for i in items):
        join = next(i for i in items if is_join(i) and next(iter(i)) == "add")
        kernels = [c.get("kernel") for c in convs]
        if depthwise:
            base = "inverted_residual"
        elif len(kernels) >= 3 and kernels[0] == 1 and kernels[2] == 1:
            base = "bottleneck"
        else:
            base = "residual"
        if not any(_optional(b) for b in join["add"]):  # else a projection on each side
            base += "_down"
    elif any(is_join(i) and next(iter(i)) == "concat" for i in items):
        join = next(i for i in items if is_join(i) and next(iter(i)) == "concat")
        base = "dense_layer" if [] in join["concat"] else "inception"
    elif depthwise:
        base = "inverted_bottleneck"
    else:
        base = "block"
    name, n = base, 2
    while name in taken or name in LAYER_KINDS or name in STRUCTURE_KEYS:
        name, n = f"{base}{n}", n + 1
    return name


def _optional(branch: Any) -> bool:
    """A branch that is the input where its layers are left out (``[]`` or ``if:``)."""
    return isinstance(branch, list) and all(
        (i.flag if isinstance(i, (Scope, Call)) else i.get("if")) for i in branch
    )


def _scopes(items: list, found: list) -> None:
    """Every scope inside the items, outermost first, with the list that holds it."""
    for pos, item in enumerate(items):
        if isinstance(item, Scope):
            found.append((item, items, pos))
            _scopes(item.items, found)
        elif is_join(item):
            kind = next(iter(item))
            for b in item[kind]:
                if isinstance(b, list):
                    _scopes(b, found)


def _all_scope_ids(items: list) -> set[int]:
    found: list = []
    _scopes(items, found)
    return {id(s) for s, _, _ in found}


def choose_blocks(items: list, refused: set[tuple], merge: bool = True) -> dict[str, Block]:
    """Modules alike up to their values, largest first, become blocks where the block and
    its calls take fewer lines than the modules written out (a module inside another
    module of the same block is written once, in the block's body). With ``merge``,
    modules that differ by optional parts (torchvision's InvertedResidual without its
    expansion conv or its squeeze-and-excitation, a Bottleneck without its downsample)
    join the largest module's block, each optional part under ``if: $flag``."""
    found: list = []
    _scopes(items, found)
    where = {id(scope): (holder, pos) for scope, holder, pos in found}
    groups: dict[tuple, list] = {}
    seen: dict[int, tuple] = {}
    for scope, _, _ in found:
        groups.setdefault(skeleton(scope.items, seen), []).append(scope)
    order = sorted(groups.items(), key=lambda g: -_size(g[1][0].items))
    blocks: dict[str, Block] = {}
    hidden: set[int] = set()
    used: set[tuple] = set()
    for shape, members in order:
        textual = [m for m in members if id(m) not in hidden]
        if shape in used or shape in refused or not textual or _size(textual[0].items) < 2:
            continue
        slots = _align([], 0, [m.items for m in textual], seen)
        family, merged = ("family", shape), False
        inner = {i for m in textual for i in _all_scope_ids(m.items)}
        for other, others in order if merge and family not in refused else ():
            more = [
                m
                for m in others
                if id(m) not in hidden | inner
                and not _all_scope_ids(m.items) & {id(t) for t in textual}
            ]  # a module inside another is written once, in the body
            if other in used or other == shape or other in refused or not more:
                continue
            wider = _align(slots, len(textual), [m.items for m in more], seen)
            if _fits(wider):
                slots, textual, merged = wider, textual + more, True
                inner |= {i for m in more for i in _all_scope_ids(m.items)}
                used.add(other)
        needed = any("$" in str(m.name) for m in textual)
        if len(textual) < 2 and not needed:
            continue
        used.add(shape)
        args = _Args()
        if not merged:
            body, key = textual[0].items, shape  # one shape: the first module is the body
            _generalize([m.items for m in textual], args, blocks)
        else:
            body, key = _rep_items(slots), family
            _generalize([body, *(_filled(slots, k) for k in range(len(textual)))], args, blocks)
            if not _conditions(slots, body, args, [True] * (len(textual) + 1)):
                continue  # positions named otherwise than a sequence numbers them
            args.settled()
            args.columns = [column[1:] for column in args.columns]  # the body's own column
            inside = _all_scope_ids(body)
            for scope, holder, pos in _scope_list(body):
                where[id(scope)] = (holder, pos)
            for member in textual:
                hidden |= _all_scope_ids(member.items) - inside
        name = block_name(body, blocks)
        blocks[name] = Block(args.names, body, key, needed)
        for k, scope in enumerate(textual):
            if k and key == shape:
                hidden |= _all_scope_ids(scope.items)
            holder, pos = where[id(scope)]
            holder[pos] = Call(name, [column[k] for column in args.columns], scope.name, scope.flag)
    return blocks


def _scope_list(items: list) -> list:
    found: list = []
    _scopes(items, found)
    return found


@dataclass
class Slot:
    """One position of a merged body: each member's item there (None where it has none);
    for a join, its branches' slots (None for a branch that names a layer)."""

    items: list
    branches: list | None = None

    @property
    def rep(self) -> Any:
        return next(i for i in self.items if i is not None)


def _loose(item: Any, seen: dict[int, tuple]) -> tuple:
    """An item's skeleton with a numbered name left out (``block.2`` is ``block.3`` one
    layer later)."""
    if isinstance(item, Scope):  # (the skeletons of module bodies worked out once)
        entry: tuple = ("S", item.name, skeleton(item.items, seen))
    else:
        (entry,) = skeleton([item])
    at = 1 if entry[0] == "S" else 2
    name = entry[at]
    if entry[0] == "L" and inferred(entry[1]):  # {batchnorm: } in a body, 16 in a module
        entry = (*entry[:3], None, *entry[4:])
    if entry[0] != "J" and isinstance(name, str) and name.isdigit():
        return (*entry[:at], "#", *entry[at + 1 :])
    return entry


def _joinable(a: Any, b: Any) -> bool:
    """Two joins whose branches may be aligned: same kind, branches and name."""
    if not (isinstance(a, dict) and isinstance(b, dict) and is_join(a) and is_join(b)):
        return False
    kind = next(iter(a))
    if next(iter(b)) != kind or len(a[kind]) != len(b[kind]) or a.get("name") != b.get("name"):
        return False
    return all(
        isinstance(x, list) and isinstance(y, list) or x == y for x, y in zip(a[kind], b[kind])
    )


def _alike(a: Any, b: Any, seen: dict[int, tuple]) -> bool:
    """Items one slot of a merged body may hold: alike up to their values and numbered
    names, and called alike (a merge never makes a ``call:`` mark an argument)."""
    if _joinable(a, b):
        return True  # (its branches are aligned in turn)
    if is_join(a) or is_join(b):
        return False
    return _loose(a, seen) == _loose(b, seen) and [i.get("call") for i in _leaves([a])] == [
        i.get("call") for i in _leaves([b])
    ]


def _align(slots: list, count: int, seqs: list[list], seen: dict[int, tuple]) -> list:
    """The slots of ``count`` members merged with parallel sequences of items (alike
    members): the longest common run of alike items matched, each as late as it can be
    (torchvision's optional parts come first: [depthwise, project] is the end of
    [expand, depthwise, se, project]), the rest optional."""
    backwards = _align_forward(slots[::-1], count, [s[::-1] for s in seqs], seen)
    return backwards[::-1]


def _align_forward(slots: list, count: int, seqs: list[list], seen: dict) -> list:
    rep = seqs[0]
    n, m = len(slots), len(rep)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if _alike(slots[i].rep, rep[j], seen):
                best[i][j] = 1 + best[i + 1][j + 1]
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    out: list = []
    i = j = 0
    extra = len(seqs)
    while i < n or j < m:
        if (
            i < n
            and j < m
            and _alike(slots[i].rep, rep[j], seen)
            and best[i][j] == 1 + best[i + 1][j + 1]
        ):
            out.append(_matched(slots[i], count, [s[j] for s in seqs], seen))
            i, j = i + 1, j + 1
        elif i < n and (j == m or best[i + 1][j] >= best[i][j + 1]):
            out.append(_padded(slots[i], extra))
            i += 1
        else:
            out.append(_matched(Slot([None] * count), count, [s[j] for s in seqs], seen))
            j += 1
    return out


def _matched(slot: Slot, count: int, items: list, seen: dict[int, tuple]) -> Slot:
    """The slot with the new members' items; a join's branches aligned in turn."""
    first = items[0]
    if not is_join(first):
        return Slot(slot.items + items)
    kind = next(iter(first))
    branches: list[list | None] = []
    for b, branch in enumerate(first[kind]):
        if not isinstance(branch, list):
            branches.append(None)
            continue
        old = slot.branches[b] if slot.branches is not None else []
        branches.append(_align(old, count, [i[kind][b] for i in items], seen))
    return Slot(slot.items + items, branches)


def _padded(slot: Slot, extra: int) -> Slot:
    """The slot with ``extra`` members that have nothing there."""
    branches = None
    if slot.branches is not None:
        branches = [None if b is None else [_padded(s, extra) for s in b] for b in slot.branches]
    return Slot(slot.items + [None] * extra, branches)


def _counts(slots: list) -> tuple[int, int]:
    """(slots every member fills, slots some leave empty), at any depth."""
    full = optional = 0
    for slot in slots:
        if all(i is not None for i in slot.items):
            full += 1
        else:
            optional += 1
        for branch in slot.branches or ():
            if branch is not None:
                f, o = _counts(branch)
                full, optional = full + f, optional + o
    return full, optional


def _fits(slots: list) -> bool:
    """A merge worth making: more parts in common than optional, and no optional part
    that repeats its neighbour (ResNet's stages of 3, 4, 6 and 3 bottlenecks differ in a
    count, said by ``repeat``, not in optional parts)."""
    full, optional = _counts(slots)
    return full >= 2 and optional <= full and not _repeats_neighbour(slots)


def _repeats_neighbour(slots: list) -> bool:
    for at, slot in enumerate(slots):
        for branch in slot.branches or ():
            if branch is not None and _repeats_neighbour(branch):
                return True
        if all(i is not None for i in slot.items):
            continue
        for near in (at - 1, at + 1):
            if 0 <= near < len(slots) and any(
                a is not None and b is not None and _values(a) == _values(b)
                for a, b in zip(slot.items, slots[near].items)
            ):
                return True
    return False


def _values(item: Any) -> Any:
    """What an item is and holds, its names left out."""
    if isinstance(item, Scope):
        return ("S", [_values(i) for i in item.items])
    if isinstance(item, Call):
        return ("C", item.block, item.args)
    if is_join(item):
        kind = next(iter(item))
        return (
            "J",
            kind,
            [b if isinstance(b, str) else [_values(i) for i in b] for b in item[kind]],
        )
    return {k: v for k, v in item.items() if k != "name"}


def _member(slot: Slot, k: int) -> Any:
    """Member ``k``'s item at the slot, the slot's first item where it has none
    (``k = -1``: the first item, the body's)."""
    if k >= 0 and slot.items[k] is None:
        return _wild(slot.rep)
    item = slot.items[k] if k >= 0 else slot.rep
    if slot.branches is None:
        return item
    kind = next(iter(item))
    rep = slot.rep
    return rep | {
        kind: [
            b if s is None else _filled(s, k) for b, s in zip(rep[kind], slot.branches, strict=True)
        ]
    }


def _filled(slots: list, k: int) -> list:
    return [_member(slot, k) for slot in slots]


def _rep_items(slots: list) -> list:
    return _filled(slots, -1)


def _name_of(item: Any) -> Any:
    return item.name if isinstance(item, (Scope, Call)) else item.get("name")


def _set(item: Any, key: str, value: str) -> Any:
    """The item with its name or flag set (a layer's or join's mapping is copied)."""
    if isinstance(item, (Scope, Call)):
        setattr(item, key, value)
        return item
    return {**item, ("if" if key == "flag" else key): value}


def _flag_hint(item: Any) -> str:
    """The name of an optional part's flag: ``use_downsample``, ``use_squeeze_excitation``."""
    name = _name_of(item)
    if swappable(item):
        what = "act"
    elif name is not None and re.fullmatch(r"[A-Za-z_][\w.]*", str(name)):
        what = str(name).replace(".", "_")
    elif isinstance(item, Call):
        what = item.block
    elif isinstance(item, Scope):
        what = block_name(item.items, {})
    else:
        what = next(iter(item)).lstrip("$")
    return f"use_{what}"


def _conditions(slots: list, body: list, args: _Args, present: list[bool]) -> bool:
    """Writes ``if: $flag`` on the body's optional items and, where the members number
    their parts by position (torchvision's Sequential: ``block.2`` is the projection
    without squeeze-and-excitation, ``block.3`` with it), the name as the position:
    ``"$use_conv_bn_act + 1"``. False when the names are not positions."""
    before: list[tuple[str, list[bool]]] = []
    fixed = 0
    for pos, slot in enumerate(slots):
        there = [True] + [i is not None for i in slot.items]
        names = [(k, _name_of(i)) for k, i in enumerate(slot.items) if i is not None]
        if any(n != names[0][1] for _, n in names):
            if not all(isinstance(n, str) and n.isdigit() for _, n in names):
                return False
            for k, n in names:
                if int(n) != fixed + sum(column[k + 1] for _, column in before):
                    return False
            terms = [f"${flag}" for flag, _ in before]
            body[pos] = _set(body[pos], "name", " + ".join([*terms, str(fixed)]))
        if not all(there):
            flag = args.slot(_flag_hint(slot.rep), [p and t for p, t in zip(present, there)])
            body[pos] = _set(body[pos], "flag", flag)
            before.append((flag[1:], there))
        else:
            fixed += 1
        if slot.branches is not None:
            kind = next(iter(body[pos]))
            for b, branch in enumerate(slot.branches):
                if branch is not None and not _conditions(branch, body[pos][kind][b], args, there):
                    return False
    return True


# ---------------------------------------------------------------- writing out the rest


def flatten(items: list) -> list:
    """Scopes that are not blocks written in place, their names prefixed again."""
    out: list = []
    for item in items:
        if isinstance(item, Scope):
            prefix, flag = item.name, item.flag
            inner = [_renamed(i, lambda n: f"{prefix}.{n}") for i in item.items]
            out.extend(flatten([_set(i, "flag", flag) for i in inner] if flag else inner))
        elif is_join(item):
            out.append(_with_branches(item, flatten))
        else:
            out.append(item)
    return out


_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def _numbered(name: str | None) -> tuple[str | None, str, int, str | None] | None:
    """A call name as a repeat writes it: (name, label, index, inner name) with the last
    segment that ends in a number: ``layer2.3`` → (layer2, "", 3, None),
    ``features.14.block`` → (features, "", 14, block), ``features.denseblock1.denselayer5``
    → (features.denseblock1, denselayer, 5, None)."""
    parts = (name or "").split(".")
    for at in range(len(parts) - 1, -1, -1):
        found = _TRAILING_NUMBER.match(parts[at])
        if found and str(int(found.group(2))) == found.group(2):  # not 01: it reads back 1
            rest = ".".join(parts[at + 1 :]) or None
            return ".".join(parts[:at]) or None, found.group(1), int(found.group(2)), rest
    return None


def repeats(items: list) -> list:
    """Runs of calls named ``P.k``, ``P.k+1``… (or ``P.k.S``, ``P.k+1.S``…) of one block
    with the same arguments → ``{repeat: n, name: P, label: "", start: k}``."""
    out: list = []
    for item in items:
        if is_join(item):
            out.append(_with_branches(item, repeats))
            continue
        numbered = _numbered(item.name) if isinstance(item, Call) and not item.flag else None
        if numbered is None or not isinstance(item, Call):
            out.append(item)
            continue
        prefix, label, index, rest = numbered
        last = out[-1] if out else None
        if (
            isinstance(last, Repeat)
            and last.name == prefix
            and last.label == label
            and last.start + last.count == index
            and last.items[0].block == item.block
            and last.items[0].args == item.args
            and last.items[0].name == rest
        ):
            last.count += 1
            continue
        out.append(Repeat(1, prefix, label, index, [Call(item.block, item.args, rest)]))
    return [c for i in out for c in (_calls(i) if isinstance(i, Repeat) and _short(i) else [i])]


def _short(repeat: Repeat) -> bool:
    """A run too short to be a repeat: one call, or two of a label (``branch3x3dbl_2``,
    ``_3`` read better as they are than as a repeat; ``layer1.1``, ``.2`` do not)."""
    return repeat.count == 1 or repeat.count == 2 and repeat.label != ""


def _calls(repeat: Repeat) -> list[Call]:
    """The calls a repeat stands for, each with its full name."""
    (call,) = repeat.items
    suffix = f".{call.name}" if call.name else ""
    return [
        Call(call.block, call.args, f"{repeat.segment(k)}{suffix}") for k in range(repeat.count)
    ]


def pays(body_lines: int, calls: int, uses: int) -> bool:
    """A block is worth defining when its definition (name, args, layers and the body) and
    its ``calls`` (a repeat is one line) take no more lines than the body written out at
    each of its ``uses``."""
    return 3 + body_lines + calls <= uses * body_lines


def compact(items: list, merge: bool = True) -> tuple[list, dict[str, Block]]:
    """The nested items of an import written with blocks, calls and repeats: modules alike
    become blocks, then a block that does not pay for itself is refused and the choice is
    made again without it. ``merge``: modules that differ by optional parts or an
    activation's kind may share a block (:func:`choose_blocks`)."""
    tries = [_compact(items, joins, False) for joins in (True, False)]
    if merge:  # merging is not always shorter: the shortest of both ways, plain on a tie
        tries += [_compact(items, joins, True) for joins in (True, False)]
    return min(tries, key=lambda t: _length(*t))


def _length(layers: list, blocks: dict[str, Block]) -> int:
    """Lines of the layers and the block definitions."""
    return lines(layers) + sum(3 + lines(b.layers) for b in blocks.values())


def _compact(items: list, joins_inside: bool, merge: bool) -> tuple[list, dict[str, Block]]:
    refused: set[tuple] = set()
    while True:
        tree = scoped(items, joins_inside)
        blocks = choose_blocks(tree, refused, merge)
        layers = repeats(flatten(tree))
        for block in blocks.values():
            block.layers = repeats(flatten(block.layers))
        calls: dict[str, int] = dict.fromkeys(blocks, 0)
        uses: dict[str, int] = dict.fromkeys(blocks, 0)
        for body in [layers, *(b.layers for b in blocks.values())]:
            for callee, count in _callees(body):
                calls[callee] += 1
                uses[callee] += count
        poor = {
            b.skeleton
            for n, b in blocks.items()
            if not b.needed and not pays(lines(b.layers), calls[n], uses[n])
        }
        if not poor:
            return layers, blocks
        refused |= poor


def ordered(blocks: dict[str, Block]) -> list[str]:
    """Block names in the order a reader meets them: a block before the blocks calling it."""
    done: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        for callee, _ in _callees(blocks[name].layers):
            visit(callee)
        done.append(name)

    for name in blocks:
        visit(name)
    return done


def _callees(items: list, times: int = 1) -> list[tuple[str, int]]:
    """The blocks the items call, each with how many times the call runs (a repeat's count)."""
    found: list[tuple[str, int]] = []
    for item in items:
        if isinstance(item, Call):
            found.append((item.block, times))
        elif isinstance(item, Repeat):
            found += _callees(item.items, times * item.count)
        elif is_join(item):
            kind = next(iter(item))
            for b in item[kind]:
                if isinstance(b, list):
                    found += _callees(b, times)
    return found

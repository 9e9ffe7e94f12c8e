"""YAML data → validated network spec.

Everything a user can get wrong in the file is caught here or in the graph
builder, with the file, the line and the field. Blocks are expanded and
``$args`` substituted here; ``repeat`` is kept as one node (its body is
built once and walked ``count`` times by the graph builder).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Union

from pydantic import ValidationError

from cnncalc.errors import CnnCalcError
from cnncalc.kinds.base import MAX_SIZE, Kind
from cnncalc.kinds.joins import JoinKind
from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS
from cnncalc.model.expr import evaluate, is_expression
from cnncalc.model.yamlsource import LocDict, LocList, line_of

MAX_REPEAT = 10_000
MAX_ITEMS = 100_000
"""Most layers a network may expand to: ResNet-152 has under 600."""

TOP_KEYS = ("name", "input", "layers", "blocks", "variants", "description", "source", "outputs")
STRUCTURE_KEYS = ("concat", "add", "mul", "repeat")
REF_KEY = "from"
"""The option that makes a layer (or a join, a block call, a repeat) read an earlier named
layer's output instead of the previous item's: ``{conv: 64, kernel: 1, from: down2}``."""

Shape = tuple[int, ...]

# The spec's records are named tuples, not dataclasses: equal, hashable and read-only alike
# (nothing changes a spec once parsed), without compiling their methods at import, some 3 M
# instructions a class (issue 11: start-up). Leaf stays a dataclass, as its equality and
# hash leave out the lines of its options, and so does Repeat, whose ``count`` would hide
# the tuple's.


class Where(NamedTuple):
    """Where something was written: file, 1-based line, and field path (``layers.3``)."""

    file: str | None
    line: int | None
    path: str


class Ref(NamedTuple):
    """A reference to an earlier named layer (``from: down2``, a join's branch ``down2``,
    or an entry of ``outputs:``): looked up in the enclosing named scopes, innermost
    first, then as a full layer name."""

    name: str
    where: Where


@dataclass(frozen=True)
class Leaf:
    layer: Kind
    name: str | None
    where: Where
    option_lines: dict = field(default_factory=dict, compare=False, hash=False)
    source: Ref | None = None

    @property
    def key(self) -> str:
        return self.layer.kind


class Branch(NamedTuple):
    name: str | None
    items: tuple
    where: Where
    ref: Ref | None = None
    """A branch written as a layer's name: that layer's output, no layers of its own."""


class Join(NamedTuple):
    join: JoinKind
    branches: tuple[Branch, ...]
    name: str | None
    where: Where
    source: Ref | None = None

    @property
    def key(self) -> str:
        return self.join.kind


class Group(NamedTuple):
    """A block call: its expanded layers under one name."""

    block: str
    items: tuple
    name: str | None
    where: Where
    source: Ref | None = None

    @property
    def key(self) -> str:
        return self.block


@dataclass(frozen=True)
class Repeat:
    count: int
    items: tuple
    name: str | None
    label: str
    start: int
    where: Where
    source: Ref | None = None

    @property
    def key(self) -> str:
        return "repeat"


Item = Union[Leaf, Join, Group, Repeat]


class Block(NamedTuple):
    name: str
    args: tuple[tuple[str, Any], ...]  # (name, default); default _REQUIRED if none
    layers: Any
    where: Where


_REQUIRED = object()


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    input: Shape
    layers: tuple | None
    variants: dict[str, "NetworkSpec"] | None
    file: str | None
    description: str = ""
    source: str = ""
    vs: str | None = None
    """In a study: the variant this one is measured against (``flops --compare``)."""
    outputs: tuple[Ref, ...] | None = None
    """``outputs: [p3, p4, p5]``: the layers the network returns (None: its last layer)."""


class _Context(NamedTuple):
    file: str | None
    blocks: dict[str, Block]
    args: dict[str, Any] | None
    stack: tuple[str, ...]
    counter: list
    """The items expanded so far, one count shared by the whole file: ``[n]``."""


def closest(word: str, choices) -> str | None:
    """The choice that is plausibly a slip of the keyboard for ``word``: alike in at least
    60 % of their letters (difflib's ratio, case ignored) and starting with the same
    letter, so ``kernal`` → ``kernel`` and ``conv2d`` → ``conv``, but ``gelu`` is not taken
    for ``relu`` nor ``upsample`` for ``subsample``: those are other things, not typos."""
    typed = str(word).lower()
    by_lower = {str(c).lower(): str(c) for c in choices if str(c)[:1].lower() == typed[:1]}
    close = difflib.get_close_matches(typed, list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def suggest(word: str, choices, prefix: str = "") -> str | None:
    """``did you mean 'conv'?`` when a choice is close to what was written."""
    close = closest(word, choices)
    return f"did you mean '{prefix}{close}'?" if close else None


def parse_shape(
    value: Any, *, file: str | None = None, line: int | None = None, field_name: str = "input"
) -> Shape:
    """``[3, 224, 224]`` or ``"3x224x224"`` (× also accepted) → (3, 224, 224)."""
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").replace(",", "x").split("x")
        try:
            value = [int(p.strip()) for p in parts]
        except ValueError:
            raise CnnCalcError(
                f"'{value}' is not a shape",
                file=file,
                line=line,
                field=field_name,
                hint="write it as C x H x W, e.g. 3x224x224",
            ) from None
    if not isinstance(value, list) or not value:
        raise CnnCalcError(
            "must be a shape like [3, 224, 224] or 3x224x224",
            file=file,
            line=line,
            field=field_name,
        )
    if len(value) > 4:
        raise CnnCalcError(
            f"has {len(value)} axes; give (C,), (C, L), (C, H, W) or (C, D, H, W) "
            "without the batch",
            file=file,
            line=line,
            field=field_name,
            hint="the batch is --batch",
        )
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise CnnCalcError(
                f"size {v!r} is not a whole number", file=file, line=line, field=field_name
            )
        if v < 1:
            raise CnnCalcError(
                f"size {v} must be at least 1", file=file, line=line, field=field_name
            )
        if v > MAX_SIZE:
            raise CnnCalcError(
                f"size {v:,} is larger than the limit {MAX_SIZE:,}",
                file=file,
                line=line,
                field=field_name,
            )
    return tuple(value)


def parse_network(data: Any, file: str | None) -> NetworkSpec:
    """The top level of a network file."""
    if not isinstance(data, LocDict):
        raise CnnCalcError(
            "a network file is a mapping with 'input:' and 'layers:'",
            file=file,
            line=getattr(data, "line", 1),
        )
    for key in data:
        if key not in TOP_KEYS:
            raise CnnCalcError(
                f"unknown top-level key '{key}'",
                file=file,
                line=data.line_of(key),
                field=str(key),
                hint=suggest(key, TOP_KEYS) or f"expected one of {', '.join(TOP_KEYS)}",
            )
    blocks = _parse_blocks(data.get("blocks"), file, data.line_of("blocks"))
    name = data.get("name") or (file or "network")
    shape = None
    if "input" in data:
        shape = parse_shape(data["input"], file=file, line=data.line_of("input"))
    has_layers, has_variants = "layers" in data, "variants" in data
    if has_layers == has_variants:
        raise CnnCalcError(
            "a network file needs exactly one of 'layers:' or 'variants:'",
            file=file,
            line=data.line or 1,
            hint="layers: is one network; variants: is a comparison study",
        )
    if shape is None:
        raise CnnCalcError(
            "missing 'input:'",
            file=file,
            line=data.line or 1,
            field="input",
            hint="e.g. input: [3, 224, 224] (channels, height, width)",
        )
    ctx = _Context(file, blocks, args=None, stack=(), counter=[0])
    meta = dict(
        description=str(data.get("description") or ""), source=str(data.get("source") or "")
    )
    outputs = _parse_outputs(data, file, has_layers)
    if has_layers:
        layers = _parse_sequence(data["layers"], ctx, "layers", data.line_of("layers"))
        return NetworkSpec(str(name), shape, layers, None, file, outputs=outputs, **meta)
    variants = data["variants"]
    if not isinstance(variants, LocDict) or not variants:
        raise CnnCalcError(
            "'variants:' maps each variant's name to its layers",
            file=file,
            line=data.line_of("variants"),
            field="variants",
        )
    parsed = {}
    for vname, body in variants.items():
        path, line = f"variants.{vname}", variants.line_of(vname)
        vshape, vdesc, vs = shape, "", None
        if isinstance(body, LocDict):
            for key in body:
                if key not in ("layers", "input", "description", "vs"):
                    raise CnnCalcError(
                        f"unknown key '{key}' in a variant",
                        file=file,
                        line=body.line_of(key),
                        field=f"{path}.{key}",
                        hint="a variant has layers:, and may have input:, description: and vs:",
                    )
            if "input" in body:
                vshape = parse_shape(
                    body["input"], file=file, line=body.line_of("input"), field_name=f"{path}.input"
                )
            vdesc = str(body.get("description") or "")
            if "vs" in body:
                vs = str(body["vs"])
                if vs == str(vname) or vs not in {str(v) for v in variants}:
                    raise CnnCalcError(
                        f"'vs: {vs}' must name another variant of the study",
                        file=file,
                        line=body.line_of("vs"),
                        field=f"{path}.vs",
                        hint=suggest(vs, [v for v in variants if v != vname])
                        or f"its variants are {', '.join(map(str, variants))}",
                    )
            line = body.line_of("layers")
            body = body.get("layers")
            path += ".layers"
        layers = _parse_sequence(body, ctx, path, line)
        parsed[str(vname)] = NetworkSpec(
            name=str(vname),
            input=vshape,
            layers=layers,
            variants=None,
            file=file,
            description=vdesc,
            vs=vs,
        )
    return NetworkSpec(str(name), shape, None, parsed, file, outputs=None, **meta)


def _parse_outputs(data: LocDict, file: str | None, has_layers: bool) -> tuple[Ref, ...] | None:
    """``outputs: [p3, p4, p5]`` (or one name): the layers a network returns, in order."""
    if "outputs" not in data:
        return None
    raw, line = data["outputs"], data.line_of("outputs")
    if not has_layers:
        raise CnnCalcError(
            "'outputs:' belongs to a network with 'layers:', not to a study",
            file=file,
            line=line,
            field="outputs",
        )
    names = raw if isinstance(raw, list) else [raw]
    refs = []
    for i, value in enumerate(names):
        where = Where(file, line_of(raw, i) or line, f"outputs.{i}")
        refs.append(Ref(_ref_name(value, where), where))
    if not refs:
        raise CnnCalcError(
            "'outputs:' lists at least one layer name", file=file, line=line, field="outputs"
        )
    return tuple(refs)


def _ref_name(value: Any, where: Where) -> str:
    """The layer name a reference gives: a non-empty string (or a number, as names may be)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise CnnCalcError(
            f"a reference is the name of an earlier layer, not {value!r}",
            file=where.file,
            line=where.line,
            field=where.path,
            hint="e.g. from: down2",
        )
    return str(value)


def _parse_source(raw: LocDict, ctx: "_Context", path: str) -> Ref | None:
    """The item's ``from:``, if any: the named layer whose output it reads."""
    if REF_KEY not in raw:
        return None
    where = Where(ctx.file, raw.line_of(REF_KEY), f"{path}.{REF_KEY}")
    value = _subst(raw[REF_KEY], ctx, where.line, where.path)
    return Ref(_ref_name(value, where), where)


def _parse_blocks(raw: Any, file: str | None, line: int | None) -> dict[str, Block]:
    if raw is None:
        return {}
    if not isinstance(raw, LocDict):
        raise CnnCalcError(
            "'blocks:' maps each block's name to its args and layers",
            file=file,
            line=line,
            field="blocks",
        )
    blocks = {}
    for bname, body in raw.items():
        path, bline = f"blocks.{bname}", raw.line_of(bname)
        if bname in LAYER_KINDS or bname in STRUCTURE_KEYS:
            raise CnnCalcError(
                f"a block cannot be called '{bname}': that is a layer kind",
                file=file,
                line=bline,
                field=path,
            )
        if not isinstance(body, LocDict) or "layers" not in body:
            raise CnnCalcError(
                "a block needs 'layers:' (and 'args:' if it takes arguments)",
                file=file,
                line=bline,
                field=path,
            )
        for key in body:
            if key not in ("args", "layers", "description"):
                raise CnnCalcError(
                    f"unknown key '{key}' in a block",
                    file=file,
                    line=body.line_of(key),
                    field=f"{path}.{key}",
                    hint="a block has args: and layers:",
                )
        args_raw = body.get("args") or []
        args: list[tuple[str, Any]] = []
        if isinstance(args_raw, LocDict):
            args = [(str(k), _REQUIRED if v is None else v) for k, v in args_raw.items()]
        elif isinstance(args_raw, list):
            for a in args_raw:
                if isinstance(a, LocDict) and len(a) == 1:
                    ((k, v),) = a.items()
                    args.append((str(k), _REQUIRED if v is None else v))
                elif isinstance(a, str):
                    args.append((a.lstrip("$"), _REQUIRED))
                else:
                    raise CnnCalcError(
                        f"argument {a!r} is not a name",
                        file=file,
                        line=body.line_of("args"),
                        field=f"{path}.args",
                    )
        else:
            raise CnnCalcError(
                "'args:' is a list of names, or a mapping of names to defaults",
                file=file,
                line=body.line_of("args"),
                field=f"{path}.args",
            )
        blocks[str(bname)] = Block(
            str(bname),
            tuple(args),
            body["layers"],
            Where(file, body.line_of("layers"), f"{path}.layers"),
        )
    return blocks


def _parse_sequence(raw: Any, ctx: _Context, path: str, line: int | None) -> tuple:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CnnCalcError(
            "must be a list of layers",
            file=ctx.file,
            line=line,
            field=path,
            hint="each layer is a '- {kind: value, option: value}' line",
        )
    items = []
    for i, item in enumerate(raw):
        kept = _kept(item, ctx, f"{path}.{i}", line_of(raw, i) or line)
        if kept is not None:
            items.append(_parse_item(kept, ctx, f"{path}.{i}", line_of(raw, i) or line))
    return tuple(items)


IF_KEY = "if"
"""The option that makes a layer (or a join, a block call, a repeat) of a block optional:
``{squeeze_excitation: [$c, $s], if: $use_se}`` is there when the argument is true."""


def _kept(raw: Any, ctx: _Context, path: str, line: int | None) -> Any:
    """The item without its ``if:``, or None when its ``if:`` is false (inside a block:
    ``if: $flag``, a boolean argument, or ``true``/``false`` written out)."""
    if not isinstance(raw, LocDict) or IF_KEY not in raw:
        return raw
    where = raw.line_of(IF_KEY) or line
    written = raw[IF_KEY]
    if ctx.args is None:
        raise CnnCalcError(
            "'if:' is used outside a block",
            file=ctx.file,
            line=where,
            field=f"{path}.{IF_KEY}",
            hint="if: $flag makes a layer of a block depend on the block's argument flag",
        )
    value = _subst(written, ctx, where, f"{path}.{IF_KEY}")
    if not isinstance(value, bool):
        said = f"{written[1:]} = {value!r}" if isinstance(written, str) else repr(value)
        raise CnnCalcError(
            f"'if:' needs true or false, got {said}",
            file=ctx.file,
            line=where,
            field=f"{path}.{IF_KEY}",
            hint="if: $flag keeps the layer when the block's argument flag is true",
        )
    if not value:
        return None
    out = LocDict((k, v) for k, v in raw.items() if k != IF_KEY)
    out.line, out.key_lines = raw.line, getattr(raw, "key_lines", {})
    return out


def _kind_argument(raw: Any, ctx: _Context, path: str, line: int | None) -> Any:
    """A layer whose kind is a block argument (``{$act: , name: "2"}`` or ``- $act``) with
    the argument's value, a layer kind or a block, written in its place."""
    if isinstance(raw, str) and raw[:1] == "$":
        raw_map = LocDict({raw: None})
        raw_map.line, raw_map.key_lines = line, {raw: line}
        raw = raw_map
    if not isinstance(raw, LocDict) or not raw:
        return raw
    first = next(iter(raw))
    if not isinstance(first, str) or first[:1] != "$":
        return raw
    where = raw.line_of(first) or line
    kind = _subst(first, ctx, where, f"{path}.{first}")
    choices = list(LAYER_KINDS) + list(ctx.blocks)
    if not isinstance(kind, str) or kind not in choices:
        raise CnnCalcError(
            f"{first[1:]} = {kind!r} is not a layer kind or a block",
            file=ctx.file,
            line=where,
            field=f"{path}.{first}",
            hint=suggest(str(kind), choices) or "'cnncalc kinds' lists the kinds",
        )
    out = LocDict((kind if k == first else k, v) for k, v in raw.items())
    lines = dict(getattr(raw, "key_lines", {}))
    lines[kind] = lines.pop(first, where)
    out.line, out.key_lines = raw.line, lines
    return out


def _subst(value: Any, ctx: _Context, line: int | None, path: str) -> Any:
    """Replace ``$name`` by the block argument, also inside lists, and work out integer
    expressions of arguments (``$dim * 4``, :mod:`cnncalc.model.expr`)."""
    names_an_argument = isinstance(value, str) and (is_expression(value) or value[:1] == "$")
    if names_an_argument and ctx.args is None:
        raise CnnCalcError(
            f"'{value}' is used outside a block",
            file=ctx.file,
            line=line,
            field=path,
            hint="$names are the arguments of a block",
        )
    args = ctx.args or {}
    if isinstance(value, str) and is_expression(value):
        try:
            return evaluate(value, args)
        except CnnCalcError as exc:
            exc.message = f"in block '{ctx.stack[-1]}': {exc.message}"
            raise exc.located(file=ctx.file, line=line, field=path) from None
    if isinstance(value, str) and value.startswith("$"):
        arg = value[1:]
        if arg not in args:
            raise CnnCalcError(
                f"unknown argument '{value}' in block '{ctx.stack[-1]}'",
                file=ctx.file,
                line=line,
                field=path,
                hint=suggest(arg, args, "$")
                or f"its arguments are {', '.join('$' + a for a in args) or 'none'}",
            )
        return args[arg]
    if isinstance(value, LocDict):
        out_map = LocDict(
            (k, _subst(v, ctx, value.line_of(k) or line, path)) for k, v in value.items()
        )
        out_map.line, out_map.key_lines = value.line, getattr(value, "key_lines", {})
        return out_map
    if isinstance(value, list) and not isinstance(value, LocList):
        return [_subst(v, ctx, line, path) for v in value]
    if isinstance(value, LocList):
        out = LocList(_subst(v, ctx, line_of(value, i) or line, path) for i, v in enumerate(value))
        out.line, out.item_lines = value.line, getattr(value, "item_lines", [])
        return out
    return value


def _count(ctx: _Context, line: int | None, path: str) -> None:
    ctx.counter[0] += 1
    if ctx.counter[0] > MAX_ITEMS:
        raise CnnCalcError(
            f"the network expands to more than {MAX_ITEMS:,} layers",
            file=ctx.file,
            line=line,
            field=path,
            hint="check the block calls and repeat counts",
        )


def _name(raw: LocDict, ctx: _Context, path: str) -> str | None:
    if "name" not in raw:
        return None
    name = _subst(raw["name"], ctx, raw.line_of("name"), f"{path}.name")
    if isinstance(name, bool) or not isinstance(name, (str, int)) or str(name) == "":
        raise CnnCalcError(
            "a name is a non-empty string",
            file=ctx.file,
            line=raw.line_of("name"),
            field=f"{path}.name",
        )
    return str(name)


def _parse_item(raw: Any, ctx: _Context, path: str, line: int | None) -> Item:
    _count(ctx, line, path)
    raw = _kind_argument(raw, ctx, path, line)
    if isinstance(raw, str) and (raw in LAYER_KINDS):
        raw_map = LocDict({raw: None})
        raw_map.line, raw_map.key_lines = line, {raw: line}
        raw = raw_map
    if not isinstance(raw, LocDict) or not raw:
        raise CnnCalcError(
            f"a layer is a mapping like {{conv: 64, kernel: 3}}, not {raw!r}",
            file=ctx.file,
            line=line,
            field=path,
        )
    line = raw.line or line
    known = set(LAYER_KINDS) | set(STRUCTURE_KEYS) | set(ctx.blocks)
    kinds_here = [k for k in raw if k in known]
    first = next(iter(raw))
    if len(kinds_here) > 1:
        raise CnnCalcError(
            f"two kinds in one layer: '{kinds_here[0]}' and '{kinds_here[1]}'",
            file=ctx.file,
            line=raw.line_of(kinds_here[1]),
            field=path,
            hint="put each layer in its own list item",
        )
    if first not in known:
        if kinds_here:
            raise CnnCalcError(
                f"the kind '{kinds_here[0]}' must be the first key of the layer",
                file=ctx.file,
                line=line,
                field=path,
                hint=f"write {{{kinds_here[0]}: ..., {first}: ...}}",
            )
        raise CnnCalcError(
            f"unknown layer kind '{first}'",
            file=ctx.file,
            line=raw.line_of(first),
            field=path,
            hint=suggest(first, known) or "'cnncalc kinds' lists them",
        )
    kind = first
    where = Where(ctx.file, line, path)
    name = _name(raw, ctx, path)
    source = _parse_source(raw, ctx, path)
    item: Item
    if kind in JOIN_KINDS:
        item = _parse_join(raw, kind, name, ctx, path, where)
    elif kind == "repeat":
        item = _parse_repeat(raw, name, ctx, path, where)
    elif kind in ctx.blocks:
        item = _parse_call(raw, kind, name, ctx, path, where)
    else:
        item = _parse_leaf(raw, kind, name, ctx, path, where)
    if source is None:
        return item
    if isinstance(item, (Leaf, Repeat)):
        return replace(item, source=source)
    return item._replace(source=source)


def _parse_leaf(
    raw: LocDict, kind: str, name: str | None, ctx: _Context, path: str, where: Where
) -> Leaf:
    cls = LAYER_KINDS[kind]
    values: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    main_value = _subst(raw[kind], ctx, raw.line_of(kind), f"{path}.{kind}")
    if cls.main is None:
        if main_value is not None:
            raise CnnCalcError(
                f"'{kind}' takes no value, got {main_value!r}",
                file=ctx.file,
                line=raw.line_of(kind),
                field=f"{path}.{kind}",
                hint=f"write {{{kind}: }} or just '- {kind}'",
            )
    elif main_value is not None or kind in ("batchnorm", "dropout"):
        if main_value is not None:
            values[cls.main] = main_value
        lines[cls.main] = raw.line_of(kind)
    for key, value in raw.items():
        if key in (kind, "name", REF_KEY):
            continue
        if key not in cls.model_fields or key == cls.main:
            options = [f for f in cls.model_fields if f != cls.main]
            raise CnnCalcError(
                f"'{kind}' has no option '{key}'",
                file=ctx.file,
                line=raw.line_of(key),
                field=f"{path}.{key}",
                hint=suggest(key, options)
                or (
                    f"its options are {', '.join(options)}"
                    if options
                    else f"'{kind}' takes no options"
                ),
            )
        values[str(key)] = _subst(value, ctx, raw.line_of(key), f"{path}.{key}")
        lines[str(key)] = raw.line_of(key)
    try:
        layer = cls.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        fname = str(err["loc"][0]) if err["loc"] else kind
        shown = kind if fname == cls.main else fname
        got = err.get("input")
        msg = _friendly(err)
        if err["type"] == "missing":
            msg = f"'{kind}' needs '{shown}'"
            if cls.main == fname:
                msg = f"'{kind}' needs a value, e.g. {{{kind}: {_example_main(kind)}}}"
        elif not isinstance(got, (dict, list)) and got is not None:
            msg = f"{msg}, got {got!r}"
        hint = None
        if fname == cls.main and "kernel" in cls.model_fields and isinstance(got, int):
            hint = f"the window is kernel:, e.g. {{{kind}: {_example_main(kind)}, kernel: {got}}}"
        raise CnnCalcError(
            msg,
            file=ctx.file,
            line=lines.get(fname, where.line),
            field=f"{path}.{shown}",
            hint=hint,
        ) from None
    return Leaf(
        layer=layer,
        name=name,
        where=where,
        option_lines={(kind if k == cls.main else k): v for k, v in lines.items()},
    )


def _friendly(err: Mapping[str, Any]) -> str:
    """Pydantic's message, said the way the rest of cnncalc says things."""
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        limit = ctx["le"]
        return f"must be at most {limit:,}" + (
            " (cnncalc's limit on any size)" if limit == MAX_SIZE else ""
        )
    if kind == "less_than":
        return f"must be less than {ctx['lt']}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "must be a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the listed values')}"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind == "list_type":
        return "must be a list"
    if kind == "value_error":  # a kind's own check (a crop's size or match)
        return str(err["msg"]).removeprefix("Value error, ")
    return err["msg"]


def _example_main(kind: str) -> str:
    return {
        "conv": "64",
        "deconv": "64",
        "fc": "10",
        "rbf": "10",
        "pool": "max",
        "subsample": "2",
        "adaptive": "[6, 6]",
        "lrn": "5",
    }.get(kind, "…")


def _parse_join(
    raw: LocDict, kind: str, name: str | None, ctx: _Context, path: str, where: Where
) -> Join:
    for key in raw:
        if key not in (kind, "name", REF_KEY):
            raise CnnCalcError(
                f"'{kind}' has no option '{key}'",
                file=ctx.file,
                line=raw.line_of(key),
                field=f"{path}.{key}",
                hint=f"'{kind}' takes a list of branches, a name and from:",
            )
    branches_raw = raw[kind]
    if not isinstance(branches_raw, list) or len(branches_raw) < 2:
        raise CnnCalcError(
            f"'{kind}' needs a list of at least two branches",
            file=ctx.file,
            line=raw.line_of(kind),
            field=f"{path}.{kind}",
            hint="each branch is a list of layers, or an earlier layer's name; [] is the input",
        )
    branches = []
    for i, b in enumerate(branches_raw):
        bpath, bline = f"{path}.{kind}.{i}", line_of(branches_raw, i) or where.line
        bname, body = None, b
        b = _subst(b, ctx, bline, bpath) if isinstance(b, str) else b
        if isinstance(b, (str, int)) and not isinstance(b, bool):
            bwhere = Where(ctx.file, bline, bpath)
            branches.append(Branch(None, (), bwhere, Ref(_ref_name(b, bwhere), bwhere)))
            continue
        if isinstance(b, LocDict):
            for key in b:
                if key not in ("name", "layers"):
                    raise CnnCalcError(
                        f"a branch is a list of layers, or a mapping with name: and layers:; "
                        f"found '{key}'",
                        file=ctx.file,
                        line=b.line_of(key),
                        field=bpath,
                        hint="write the branch as - [ {conv: ...}, ... ]",
                    )
            bname = _name(b, ctx, bpath)
            body, bline, bpath = b.get("layers"), b.line_of("layers"), bpath + ".layers"
        items = _parse_sequence(body, ctx, bpath, bline)
        branches.append(Branch(bname, items, Where(ctx.file, bline, bpath)))
    return Join(JOIN_KINDS[kind](), tuple(branches), name, where)


def _int_option(
    raw: LocDict, key: str, ctx: _Context, path: str, low: int, high: int, default: int | None
) -> int:
    if key not in raw:
        if default is None:
            raise CnnCalcError(f"needs '{key}'", file=ctx.file, line=raw.line, field=path)
        return default
    value = _subst(raw[key], ctx, raw.line_of(key), f"{path}.{key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise CnnCalcError(
            f"must be a whole number, got {value!r}",
            file=ctx.file,
            line=raw.line_of(key),
            field=f"{path}.{key}",
        )
    if not low <= value <= high:
        raise CnnCalcError(
            f"must be between {low:,} and {high:,}, got {value:,}",
            file=ctx.file,
            line=raw.line_of(key),
            field=f"{path}.{key}",
        )
    return value


def _parse_repeat(raw: LocDict, name: str | None, ctx: _Context, path: str, where: Where) -> Repeat:
    for key in raw:
        if key not in ("repeat", "layers", "name", "label", "start", REF_KEY):
            raise CnnCalcError(
                f"'repeat' has no option '{key}'",
                file=ctx.file,
                line=raw.line_of(key),
                field=f"{path}.{key}",
                hint="repeat takes layers:, and name:, label:, start: for naming",
            )
    count = _int_option(raw, "repeat", ctx, path, 1, MAX_REPEAT, None)
    start = _int_option(raw, "start", ctx, path, 0, MAX_ITEMS, 1)
    label = _subst(raw.get("label", "block"), ctx, raw.line_of("label"), f"{path}.label")
    if "layers" not in raw:
        raise CnnCalcError(
            "'repeat' needs 'layers:' to repeat", file=ctx.file, line=where.line, field=path
        )
    before = ctx.counter[0]
    items = _parse_sequence(raw["layers"], ctx, f"{path}.layers", raw.line_of("layers"))
    body = ctx.counter[0] - before
    ctx.counter[0] += body * (count - 1)
    _count(ctx, where.line, path)
    return Repeat(count, items, name, str(label or ""), start, where)


def _parse_call(
    raw: LocDict, bname: str, name: str | None, ctx: _Context, path: str, where: Where
) -> Group:
    block = ctx.blocks[bname]
    if bname in ctx.stack:
        chain = " → ".join(ctx.stack[ctx.stack.index(bname) :] + (bname,))
        raise CnnCalcError(
            f"block '{bname}' uses itself ({chain})",
            file=ctx.file,
            line=where.line,
            field=path,
            hint="a block cannot contain itself",
        )
    for key in raw:
        if key not in (bname, "name", REF_KEY):
            raise CnnCalcError(
                f"a call of block '{bname}' takes its arguments, a name and from:, not '{key}'",
                file=ctx.file,
                line=raw.line_of(key),
                field=f"{path}.{key}",
                hint=f"write {{{bname}: [args...], name: ...}}",
            )
    given = _subst(raw[bname], ctx, raw.line_of(bname), f"{path}.{bname}")
    names = [a for a, _ in block.args]
    values: dict[str, Any] = {}
    if given is None:
        given = []
    if isinstance(given, dict):
        for k, v in given.items():
            if k not in names:
                raise CnnCalcError(
                    f"block '{bname}' has no argument '{k}'",
                    file=ctx.file,
                    line=line_of(given, k) or where.line,
                    field=f"{path}.{bname}",
                    hint=suggest(k, names) or f"its arguments are {', '.join(names)}",
                )
            values[k] = v
    else:
        if not isinstance(given, list):
            given = [given]
        if len(given) > len(names):
            raise CnnCalcError(
                f"block '{bname}' takes {len(names)} arguments "
                f"({', '.join(names)}), got {len(given)}",
                file=ctx.file,
                line=raw.line_of(bname),
                field=f"{path}.{bname}",
            )
        values = dict(zip(names, given))
    for arg, default in block.args:
        if arg not in values:
            if default is _REQUIRED:
                raise CnnCalcError(
                    f"block '{bname}' needs argument '{arg}'",
                    file=ctx.file,
                    line=raw.line_of(bname),
                    field=f"{path}.{bname}",
                    hint=f"its arguments are {', '.join(names)}",
                )
            values[arg] = default
    inner = _Context(ctx.file, ctx.blocks, values, ctx.stack + (bname,), ctx.counter)
    items = _parse_sequence(block.layers, inner, block.where.path, block.where.line)
    return Group(bname, items, name, where)

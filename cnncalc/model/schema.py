"""JSON Schema of the YAML format, for editors and validators (``cnncalc schema``).

Built from the kinds' pydantic models, so it cannot drift from what the parser
accepts and a new kind gets its schema for free: each kind's options with their
types, ranges and defaults, the required ones required, no other key allowed, and
the kind's main option under the kind's own key (``{conv: 64}``).

Three families of layer, because what a layer may hold depends on where it is:

- ``layer_plain``: in a file without ``blocks:``, a layer is a kind, a join or a
  repeat, nothing else, so ``{conv2d: 32}`` is refused;
- ``layer``: in a file with ``blocks:``, a mapping whose key is not a kind may also
  be a block call (the schema cannot see which block names the file defines);
- ``layer_in_block``: inside a block's ``layers:``, any option may also be a
  ``$argument``, any item may carry ``if: $flag``, and a layer's kind may be an
  argument (``{$act: }``).
"""

from __future__ import annotations

from typing import Any

from cnncalc.kinds.base import Kind
from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS

SCHEMA_ID = "https://cnncalc.invalid/schema/network.json"

ARGUMENT = {
    "type": "string",
    "pattern": r"\$",
    "description": "a block argument ($name), or an integer expression of arguments with "
    "+ - * // % / and parentheses ($dim * 4, ($c + 7) // 8 * 8; / must divide exactly), "
    "replaced by its value where the block is called",
}
REFERENCE = {
    "type": ["string", "integer"],
    "description": "an earlier layer's name (a block call, repeat or join is known by its "
    "name too): this item reads that layer's output instead of the previous item's",
}
NAME = {"type": ["string", "integer"], "description": "the layer's name (default: automatic)"}
CONDITION = {
    "anyOf": [{"type": "boolean"}, {"type": "string", "pattern": r"^\$[A-Za-z_][A-Za-z0-9_]*$"}],
    "description": "if: $flag keeps this item where the block is called with flag true and "
    "leaves it out where false",
}
KIND_ARGUMENT = r"^\$[A-Za-z_][A-Za-z0-9_]*$"
"""A layer's key that is a block argument naming its kind (``{$act: , name: "2"}``)."""
STRUCTURE_KEYS = ("repeat",)


def _with_arguments(schema: dict) -> dict:
    """The schema of an option inside a block: its value, or ``$arg`` wherever a value
    goes (also as one element of a list: ``kernel: [$k, 1]``)."""
    inner = dict(schema)
    for key in ("anyOf", "oneOf"):
        if key in inner:
            inner[key] = [_with_arguments(s) for s in inner[key]]
    if isinstance(inner.get("items"), dict):
        inner["items"] = _with_arguments(inner["items"])
    if "anyOf" in inner:
        return {**inner, "anyOf": inner["anyOf"] + [ARGUMENT]}
    return {"anyOf": [inner, ARGUMENT]}


def kind_schema(cls: type[Kind], in_block: bool = False, key: str | None = None) -> dict:
    """One kind as a JSON Schema object: its key and options exactly, required ones
    required. The main option (``out_channels`` of conv) is written under the kind's key;
    when it has a default, the key may be left empty (``{dropout: }``). ``key`` is the name
    it is written under, when that is another name for the kind (``swish`` for silu)."""
    key = key or cls.kind
    model = cls.model_json_schema()
    fields = model.get("properties", {})
    needed = set(model.get("required", []))
    props: dict[str, Any] = {}
    if cls.main is None:
        main: dict[str, Any] = {"type": "null", "description": f"'{key}' takes no value"}
    else:
        main = dict(fields[cls.main])
        if cls.main not in needed:
            main = {"anyOf": [main, {"type": "null"}]}
    props[key] = main
    for field, sub in fields.items():
        if field != cls.main:
            props[field] = sub
    if in_block:
        props = {k: _with_arguments(v) for k, v in props.items()}
    required = [key] + [f for f in fields if f in needed and f != cls.main]
    out = {
        "type": "object",
        "title": key,
        "description": cls.summary or (cls.__doc__ or "").strip().splitlines()[0],
        "properties": {**props, "name": NAME, "from": REFERENCE},
        "required": required,
        "additionalProperties": False,
    }
    if cls.one_of:
        given = [
            {"properties": {key: {"not": {"type": "null"}}}}
            if option == cls.main
            else {"required": [option]}
            for option in cls.one_of
        ]
        out["oneOf"] = [
            {"allOf": [g] + [{"not": other} for other in given if other is not g]} for g in given
        ]
    return out


def bare_kinds() -> list[str]:
    """The kinds a layer may name alone (``- relu``): those that need no value."""
    out = []
    for key, cls in LAYER_KINDS.items():
        needed = set(cls.model_json_schema().get("required", []))
        if not needed:
            out.append(key)
    return out


def _family(ref: str, *, in_block: bool, calls: bool) -> dict:
    """One family of layer (see the module's docstring), its lists referring to itself."""
    layer_list = {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}}
    branch = {
        "anyOf": [
            layer_list,
            {"type": "null"},
            {**REFERENCE, "description": "an earlier layer's output, by its name"},
            {
                "type": "object",
                "properties": {"name": NAME, "layers": layer_list},
                "additionalProperties": False,
            },
        ]
    }
    joins = [
        {
            "type": "object",
            "title": key,
            "description": cls.summary,
            "properties": {
                key: {"type": "array", "items": branch, "minItems": 2},
                "name": NAME,
                "from": REFERENCE,
            },
            "required": [key],
            "additionalProperties": False,
        }
        for key, cls in JOIN_KINDS.items()
    ]
    count = {"type": "integer", "minimum": 1}
    repeat = {
        "type": "object",
        "title": "repeat",
        "description": "the layers, N times",
        "properties": {
            "repeat": _with_arguments(count) if in_block else count,
            "layers": layer_list,
            "name": NAME,
            "from": REFERENCE,
            "label": {"type": "string", "description": "name of each repetition (default: block)"},
            "start": {"type": "integer", "minimum": 0, "description": "first number (default: 1)"},
        },
        "required": ["repeat", "layers"],
        "additionalProperties": False,
    }
    variants: list[dict] = [kind_schema(cls, in_block, key) for key, cls in LAYER_KINDS.items()]
    variants += joins + [repeat, {"enum": bare_kinds(), "description": "a kind without options"}]
    if calls:
        reserved = list(LAYER_KINDS) + list(JOIN_KINDS) + list(STRUCTURE_KEYS)
        variants.append(
            {
                "type": "object",
                "title": "block call",
                "description": "{BLOCK: [args] or {arg: value}, name: ...}: a block of the "
                "file's blocks:",
                "minProperties": 1,
                "maxProperties": 3,
                "not": {"anyOf": [{"required": [k]} for k in reserved]},
                "properties": {"name": NAME, "from": REFERENCE},
            }
        )
    if in_block:
        variants = [_optional(v) for v in variants]
        variants.append(
            {
                "type": ["object", "string"],
                "title": "layer whose kind is an argument",
                "description": "{$act: VALUE, option: ...} or - $act: the kind (or block) "
                "the argument names, where the block is called",
                "pattern": KIND_ARGUMENT,
                "minProperties": 1,
                "properties": {"name": NAME, "from": REFERENCE, "if": CONDITION},
                "not": {"propertyNames": {"not": {"pattern": KIND_ARGUMENT}}},
            }
        )
    return {"anyOf": variants}


def _optional(variant: dict) -> dict:
    """A layer, join, call or repeat of a block's body, which may also carry ``if:``."""
    if variant.get("type") != "object":
        return variant
    return {**variant, "properties": {**variant.get("properties", {}), "if": CONDITION}}


def _shape() -> dict:
    return {
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 4,
            },
            {"type": "string", "pattern": "^[0-9]+([x×][0-9]+){0,3}$"},
        ]
    }


def _variants(layer_list: dict) -> dict:
    return {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "anyOf": [
                layer_list,
                {
                    "type": "object",
                    "properties": {
                        "layers": layer_list,
                        "input": _shape(),
                        "description": {"type": "string"},
                        "vs": {"type": "string"},
                    },
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            ]
        },
    }


def network_schema() -> dict:
    """The schema of a network file (draft 2020-12)."""
    defs = {
        "layer": _family("layer", in_block=False, calls=True),
        "layer_plain": _family("layer_plain", in_block=False, calls=False),
        "layer_in_block": _family("layer_in_block", in_block=True, calls=True),
    }
    layers = {"type": "array", "items": {"$ref": "#/$defs/layer"}}
    plain = {"type": "array", "items": {"$ref": "#/$defs/layer_plain"}}
    in_block = {"type": "array", "items": {"$ref": "#/$defs/layer_in_block"}}
    arg_name = {"type": "string", "pattern": r"^\$?[A-Za-z_][A-Za-z0-9_]*$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cnncalc network",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "source": {"type": "string"},
            "input": _shape(),
            "blocks": {
                "type": "object",
                "propertyNames": {"not": {"enum": list(LAYER_KINDS) + list(JOIN_KINDS)}},
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "args": {
                            "anyOf": [
                                {
                                    "type": "array",
                                    "items": {
                                        "anyOf": [
                                            arg_name,
                                            {"type": "object", "maxProperties": 1},
                                        ]
                                    },
                                },
                                {"type": "object"},
                            ]
                        },
                        "layers": in_block,
                        "description": {"type": "string"},
                    },
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            },
            "layers": layers,
            "variants": _variants(layers),
            "outputs": {
                "description": "the layers the network returns, by name (default: its last "
                "layer); with several, the exported forward returns a tuple",
                "anyOf": [REFERENCE, {"type": "array", "items": REFERENCE, "minItems": 1}],
            },
        },
        "required": ["input"],
        "oneOf": [{"required": ["layers"]}, {"required": ["variants"]}],
        "if": {"not": {"required": ["blocks"]}},
        "then": {"properties": {"layers": plain, "variants": _variants(plain)}},
        "additionalProperties": False,
        "$defs": defs,
    }

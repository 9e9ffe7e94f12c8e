"""JSON Schema of the YAML format, for editor completion (``cnncalc schema``).

Built from the kinds' pydantic models, so it cannot drift from what the
parser accepts: each kind's main option appears under the kind's own key.
"""

from __future__ import annotations

from typing import Any

from cnncalc.kinds.registry import LAYER_KINDS

SCHEMA_ID = "https://cnncalc.invalid/schema/network.json"


REFERENCE = {
    "type": ["string", "integer"],
    "description": "an earlier layer's name (a block call, repeat or join is known by its "
    "name too): this item reads that layer's output instead of the previous item's",
}
EXPRESSION = {
    "type": "string",
    "pattern": "\\$",
    "description": "inside a block: an argument ($c) or an integer expression of arguments "
    "with + - * // % / and parentheses ($dim * 4, ($c + 7) // 8 * 8); / must divide exactly",
}


def _described(sub: dict) -> dict:
    """The title and description of an option, kept beside its alternatives."""
    return {k: sub[k] for k in ("title", "description", "default") if k in sub}


def _kind_schema(kind: str, defs: dict) -> dict:
    cls = LAYER_KINDS[kind]
    schema = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    props: dict[str, Any] = {}
    main_schema: dict[str, Any] = {"type": "null"}
    for field, sub in schema.get("properties", {}).items():
        sub = {"anyOf": [sub, {"$ref": "#/$defs/expression"}], **_described(sub)}
        if field == cls.main:
            main_schema = sub
        else:
            props[field] = sub
    required = [kind]
    return {
        "type": "object",
        "title": kind,
        "description": cls.summary or (cls.__doc__ or "").strip().splitlines()[0],
        "properties": {
            kind: main_schema,
            **props,
            "name": {"type": ["string", "integer"]},
            "from": REFERENCE,
        },
        "required": required,
        "additionalProperties": False,
    }


def network_schema() -> dict:
    defs: dict[str, Any] = {}
    layer_variants = [_kind_schema(k, defs) for k in LAYER_KINDS]
    layer_list = {"type": "array", "items": {"$ref": "#/$defs/layer"}}
    branch = {
        "anyOf": [
            layer_list,
            {"type": "null"},
            {**REFERENCE, "description": "an earlier layer's output, by its name"},
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, "layers": layer_list},
                "additionalProperties": False,
            },
        ]
    }
    joins = [
        {
            "type": "object",
            "title": key,
            "description": desc,
            "properties": {
                key: {"type": "array", "items": branch, "minItems": 2},
                "name": {"type": ["string", "integer"]},
                "from": REFERENCE,
            },
            "required": [key],
            "additionalProperties": False,
        }
        for key, desc in (
            ("concat", "branches on the same input, joined on channels"),
            (
                "add",
                "branches on the same input, summed (broadcast as PyTorch); [] is the identity",
            ),
            (
                "mul",
                "branches on the same input, multiplied element by element (broadcast as "
                "PyTorch: a C×1×1 gate scales C×H×W); [] is the identity",
            ),
        )
    ]
    repeat = {
        "type": "object",
        "title": "repeat",
        "description": "the layers, N times",
        "properties": {
            "repeat": {"type": ["integer", "string"]},
            "layers": layer_list,
            "name": {"type": ["string", "integer"]},
            "label": {"type": "string"},
            "start": {"type": "integer"},
            "from": REFERENCE,
        },
        "required": ["repeat", "layers"],
        "additionalProperties": False,
    }
    call = {
        "type": "object",
        "title": "block call",
        "description": "{BLOCK: [args] or {arg: value}, name: ...}",
        "minProperties": 1,
    }
    defs["layer"] = {"anyOf": layer_variants + joins + [repeat, call]}
    defs["expression"] = EXPRESSION
    shape = {
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
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cnncalc network",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "source": {"type": "string"},
            "input": shape,
            "blocks": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "args": {"anyOf": [{"type": "array"}, {"type": "object"}]},
                        "layers": layer_list,
                        "description": {"type": "string"},
                    },
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            },
            "layers": layer_list,
            "outputs": {
                "description": "the layers the network returns, by name (default: its last "
                "layer); with several, the exported forward returns a tuple",
                "anyOf": [REFERENCE, {"type": "array", "items": REFERENCE, "minItems": 1}],
            },
            "variants": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        layer_list,
                        {
                            "type": "object",
                            "properties": {
                                "layers": layer_list,
                                "input": shape,
                                "description": {"type": "string"},
                                "vs": {"type": "string"},
                            },
                            "required": ["layers"],
                            "additionalProperties": False,
                        },
                    ]
                },
            },
        },
        "required": ["input"],
        "additionalProperties": False,
        "$defs": defs,
    }

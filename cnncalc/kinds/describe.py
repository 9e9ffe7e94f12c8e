"""Every kind described for people (``cnncalc kinds``): how it is written, its options
with their types, defaults and required ones, and its rule in one line. Read off the
kinds' pydantic models, so a new kind is described as soon as it is registered."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic_core import PydanticUndefined

from cnncalc.kinds.base import Kind
from cnncalc.kinds.registry import JOIN_KINDS, LAYER_KINDS


@dataclass(frozen=True)
class OptionInfo:
    name: str
    """As written in YAML: the kind's own key for its main option (``conv`` for out_channels)."""
    field: str
    """The model's field (``out_channels``)."""
    type: str
    default: str | None
    """The default as YAML would write it; None when the option is required."""


@dataclass(frozen=True)
class KindInfo:
    key: str
    summary: str
    formula: str
    example: str
    options: tuple[OptionInfo, ...]


PER_AXIS = "text like 3x5"


def type_text(schema: dict) -> str:
    """A JSON Schema fragment said briefly: ``int ≥ 1``, ``max|avg``, ``list of int ≥ 0``."""
    if "anyOf" in schema:
        parts = [type_text(s) for s in schema["anyOf"] if s.get("type") != "null"]
        if PER_AXIS in parts:  # Sizes: n, [n, m] or nxm
            parts = [p for p in parts if p != PER_AXIS and p != f"list of {parts[0]}"]
            parts[0] += ", or one per axis: [3, 5] or 3x5"
        return " or ".join(dict.fromkeys(parts))
    if "const" in schema:
        return str(schema["const"])
    if "enum" in schema:
        return "|".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return "list of " + type_text(schema.get("items", {}))
    if kind == "string" and "pattern" in schema:
        return PER_AXIS
    if kind in ("integer", "number"):
        word = "int" if kind == "integer" else "number"
        bounds = []
        if "minimum" in schema:
            bounds.append(f"≥ {schema['minimum']}")
        if "exclusiveMaximum" in schema:
            bounds.append(f"< {schema['exclusiveMaximum']}")
        elif "maximum" in schema and schema["maximum"] < 1_000_000:
            bounds.append(f"≤ {schema['maximum']}")
        return " ".join([word] + bounds)
    return {"boolean": "true|false", "string": "text", None: "any"}.get(kind, str(kind))


def yaml_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first_line(cls: type) -> str:
    """The docstring's first paragraph as one line."""
    return " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())


def describe(cls: type[Kind]) -> KindInfo:
    schema = cls.model_json_schema()
    props = schema.get("properties", {})
    options = []
    for field, info in cls.model_fields.items():
        default = None if info.default is PydanticUndefined else yaml_text(info.default)
        name = cls.kind if field == cls.main else field
        options.append(OptionInfo(name, field, type_text(props.get(field, {})), default))
    options.sort(key=lambda o: o.name != cls.kind)  # the main option first
    required = [o for o in options if o.default is None]
    if cls.main is None:
        example = f"{{{cls.kind}: }}"
    else:
        example = (
            "{"
            + ", ".join(f"{o.name}: {o.field if o.name == cls.kind else '…'}" for o in required)
            + "}"
        )
        if not required:
            example = f"{{{cls.kind}: }}"
    return KindInfo(cls.kind, cls.summary, cls.formula or _first_line(cls), example, tuple(options))


def describe_kinds() -> list[KindInfo]:
    """Every layer kind, then the joins (whose value is a list of branches)."""
    joins = [
        KindInfo(
            key,
            cls.summary,
            cls.formula or _first_line(cls),
            f"{{{key}: [[layers…], [layers…]]}}",
            (),
        )
        for key, cls in JOIN_KINDS.items()
    ]
    layers = []
    for key, cls in LAYER_KINDS.items():
        info = describe(cls)
        if key != cls.kind:  # an alias such as swish for silu
            info = replace(info, key=key, summary=f"another name for {cls.kind}: {info.summary}")
        layers.append(info)
    return layers + joins

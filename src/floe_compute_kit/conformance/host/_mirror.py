"""A stand-in, in the kit's process, for the plugin's config model.

The kit must generate and judge configs without importing the plugin, so it builds
a pydantic model from the JSON Schema the host reports: same fields, same types and
constraints, so the kit's strategies generate from it as from the real one. Its
validation is the real model's: every ``model_validate`` asks the host, and the
plugin's own validators decide; the stand-in only parses what the host accepted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from floe_compute_kit.models import _FreeForFields

__all__ = ["MirrorBase", "mirror_model", "prefetch_validations"]


class MirrorBase(BaseModel):
    """What every mirrored model shares: validation goes through the plugin host."""

    model_config = ConfigDict(extra="forbid")
    if not TYPE_CHECKING:  # as in ComputeConfig: a mirrored `schema` field must not warn
        schema: ClassVar[_FreeForFields] = _FreeForFields("model_json_schema()")
    #: [validate function, prefetch function]; swapped when a new host serves the schema
    floe_remote: ClassVar[list[Any]] = []
    floe_remote_name: ClassVar[str] = ""

    @model_validator(mode="wrap")
    @classmethod
    def _validated_by_host(cls, data: Any, handler: Any) -> Any:
        if isinstance(data, cls) or not cls.floe_remote:
            return handler(data)
        canonical = cls.floe_remote[0](cls, data)
        try:
            return handler(canonical)
        except ValidationError:
            # The real model accepted what this stand-in cannot express: keep its values.
            return cls.model_construct(**canonical) if isinstance(canonical, dict) else canonical


def prefetch_validations(model: Any, items: list[Any]) -> None:
    """Have the verdicts of ``model`` (a mirror) on ``items`` fetched in one trip before
    they are validated one by one; nothing to do for any other model."""
    remote = getattr(model, "floe_remote", None) if isinstance(model, type) else None
    if isinstance(remote, list) and len(remote) > 1 and issubclass(model, MirrorBase):
        remote[1](items)


def rebuild_validation_error(title: str, errors: list[dict[str, Any]]) -> ValidationError:
    """The host's validation errors as a pydantic ValidationError raised here."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError(str(e.get("type") or "value_error"), str(e.get("msg", ""))),
            loc=tuple(e.get("loc") or ()),
            input=e.get("input"),
        )
        for e in errors
    ] or [InitErrorDetails(type=PydanticCustomError("value_error", "invalid"), loc=(), input=None)]
    return ValidationError.from_exception_data(title, details)


_CACHE: dict[str, type[MirrorBase]] = {}


def mirror_model(name: str, schema: dict[str, Any]) -> type[MirrorBase]:
    """The stand-in model for the real model called ``name`` with this JSON Schema."""
    key = json.dumps([name, schema], sort_keys=True)
    if key not in _CACHE:
        defs = schema.get("$defs", {})
        built: dict[str, type[BaseModel]] = {}
        cls = _object_model(name, schema, defs, built, root=True)
        _CACHE[key] = cls  # type: ignore[assignment]
    return _CACHE[key]


def _object_model(
    name: str, schema: dict[str, Any], defs: dict[str, Any], built: dict[str, Any], *, root: bool
) -> type[BaseModel]:
    short = name.rpartition(".")[2] or "Config"
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for field, sub in schema.get("properties", {}).items():
        annotation = _annotation(sub, defs, built)
        extra = {k: sub[k] for k in ("description",) if k in sub}
        if field in required:
            fields[field] = (annotation, Field(..., **extra))
        else:
            fields[field] = (annotation, Field(default=sub.get("default"), **extra))
    config = ConfigDict(extra="forbid" if schema.get("additionalProperties") is False else "ignore")
    if root:
        model = create_model(short, __base__=MirrorBase, **fields)
        model.floe_remote_name = name
        model.floe_remote = []
        return model
    return create_model(short, __config__=config, **fields)


def _annotation(  # noqa: PLR0911, PLR0912 - one branch per JSON Schema form
    schema: dict[str, Any], defs: dict[str, Any], built: dict[str, Any]
) -> Any:
    if "$ref" in schema:
        ref = str(schema["$ref"]).rpartition("/")[2]
        if ref not in built:
            built[ref] = Any  # a recursive model: the stand-in stops here
            built[ref] = _object_model(ref, defs.get(ref, {}), defs, built, root=False)
        return built[ref]
    if "anyOf" in schema or "oneOf" in schema:
        forms = schema.get("anyOf") or schema.get("oneOf") or []
        options = [_annotation(s, defs, built) for s in forms]
        union: Any = options[0]
        for option in options[1:]:
            union = union | option if option is not None else union | None
        return union
    if "const" in schema:
        return Literal[schema["const"]]
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    kind = schema.get("type")
    if isinstance(kind, list):
        return _annotation({**schema, "anyOf": [{**schema, "type": k} for k in kind]}, defs, built)
    if kind == "null":
        return None
    if kind == "boolean":
        return bool
    if kind == "integer":
        return Annotated[int, Field(**_bounds(schema))]
    if kind == "number":
        return Annotated[float, Field(**_bounds(schema))]
    if kind == "string":
        if schema.get("format") == "password" or schema.get("writeOnly"):
            return SecretStr
        return Annotated[str, StringConstraints(**_strings(schema))]
    if kind == "array":
        items = _annotation(schema.get("items", {}), defs, built) if schema.get("items") else Any
        limits = {
            k: schema[v]
            for k, v in (("min_length", "minItems"), ("max_length", "maxItems"))
            if v in schema
        }
        listed: Any = list[items]  # type: ignore[valid-type]  # built at run time from the schema
        return Annotated[listed, Field(**limits)] if limits else listed
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        if "properties" in schema:
            return _object_model(
                str(schema.get("title", "Nested")), schema, defs, built, root=False
            )
        return _mapping(schema, defs, built)
    return Any


def _mapping(schema: dict[str, Any], defs: dict[str, Any], built: dict[str, Any]) -> Any:
    key: Any = str
    value: Any = Any
    patterns = schema.get("patternProperties") or {}
    names = schema.get("propertyNames") or {}
    if len(patterns) == 1:
        pattern, sub = next(iter(patterns.items()))
        key = Annotated[str, StringConstraints(pattern=pattern, **_strings(names))]
        value = _annotation(sub, defs, built)
    elif isinstance(schema.get("additionalProperties"), dict):
        value = _annotation(schema["additionalProperties"], defs, built)
        if names:
            key = Annotated[str, StringConstraints(**_strings(names))]
    return dict[key, value]


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    pairs = (
        ("ge", "minimum"),
        ("le", "maximum"),
        ("gt", "exclusiveMinimum"),
        ("lt", "exclusiveMaximum"),
        ("multiple_of", "multipleOf"),
    )
    return {ours: schema[theirs] for ours, theirs in pairs if theirs in schema}


def _strings(schema: dict[str, Any]) -> dict[str, Any]:
    pairs = (("min_length", "minLength"), ("max_length", "maxLength"), ("pattern", "pattern"))
    return {ours: schema[theirs] for ours, theirs in pairs if theirs in schema}

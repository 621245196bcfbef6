"""What the kit reads from a pydantic field: its type, unwrapped, and its constraints.

Shared by the strategies (which generate from them) and the masking of reports (which
finds secret fields by type), so neither imports the other.
"""

from __future__ import annotations

import collections.abc as cabc
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Annotated, Any, Final, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic.functional_validators import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    WrapValidator,
)

__all__ = [
    "_EXTRA_CHARS",
    "_EXTRA_ITEMS",
    "_LOWER",
    "_M",
    "_MAPPINGS",
    "_NONE",
    "_SEQUENCES",
    "_SETS",
    "_UNION_TYPES",
    "_VALIDATORS",
    "_WORD_CHARS",
    "_Constraints",
    "_UnresolvableTypeError",
    "_base_is_str",
    "_flatten",
    "_input_key",
    "_kind",
    "_model_in",
    "_model_of",
    "_unwrap",
]

_M = TypeVar("_M", bound=BaseModel)


_LOWER: Final = "abcdefghijklmnopqrstuvwxyz"


_WORD_CHARS: Final = _LOWER + _LOWER.upper() + "0123456789_-."


#: Extra collection items beyond the minimum: enough to find list bugs, small enough to read.
_EXTRA_ITEMS: Final = 3


_EXTRA_CHARS: Final = 24


_VALIDATORS: Final = (AfterValidator, BeforeValidator, PlainValidator, WrapValidator)


_UNION_TYPES: Final = (Union, types.UnionType)


_SEQUENCES: Final = (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection)


_SETS: Final = (set, frozenset, cabc.Set, cabc.MutableSet)


_MAPPINGS: Final = (dict, cabc.Mapping, cabc.MutableMapping)


@dataclass(frozen=True)
class _Constraints:
    """What pydantic will check on one value, gathered from Field() and Annotated[...]."""

    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    multiple_of: Any = None
    allow_inf_nan: bool | None = None
    decimal_places: int | None = None
    max_digits: int | None = None
    strip_whitespace: bool = False
    strict: bool = False
    # metadata that cannot be turned into a generator: values are filtered through it
    checks: tuple[Any, ...] = ()

    def merged(self, metadata: typing.Iterable[Any]) -> _Constraints:
        found: dict[str, Any] = {}
        checks = list(self.checks)
        for item in _flatten(metadata):
            if isinstance(item, (*_VALIDATORS, annotated_types.Predicate)):
                checks.append(item)
                continue
            for name in (
                "ge",
                "gt",
                "le",
                "lt",
                "min_length",
                "max_length",
                "pattern",
                "multiple_of",
                "allow_inf_nan",
                "strip_whitespace",
                "strict",
                "decimal_places",
                "max_digits",
            ):
                value = getattr(item, name, None)
                if value is not None and not callable(value):
                    found[name] = value.pattern if isinstance(value, re.Pattern) else value
        return replace(self, **found, checks=tuple(checks))

    def for_items(self) -> _Constraints:
        """Constraints that belong to a container, not to its items, are dropped."""
        return _Constraints(strict=self.strict)


_NONE: Final = _Constraints()


def _flatten(metadata: typing.Iterable[Any]) -> Iterator[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from _flatten(item.metadata)
        elif isinstance(item, annotated_types.GroupedMetadata):
            yield from _flatten(iter(item))
        else:
            yield item


class _UnresolvableTypeError(TypeError):
    def __init__(self, tp: Any) -> None:
        super().__init__(tp)
        self.tp = tp


def _base_is_str(tp: Any) -> bool:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp is str


def _input_key(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    """The key a user writes: the validation alias when there is one."""
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    choices = getattr(info.validation_alias, "choices", None)
    if choices and isinstance(choices[0], str):
        return str(choices[0])
    if info.alias and not model.model_config.get("populate_by_name"):
        return info.alias
    return name


def _unwrap(tp: Any, cons: _Constraints) -> tuple[Any, _Constraints]:
    """Strip Annotated and Optional; merge their constraints."""
    while True:
        origin, args = get_origin(tp), get_args(tp)
        if origin is Annotated:
            tp, cons = args[0], cons.merged(args[1:])
        elif origin in _UNION_TYPES and type(None) in args and len(args) == 2:
            tp = next(a for a in args if a is not type(None))
        else:
            return tp, cons


def _kind(origin: Any) -> str | None:
    if origin is bool:
        return "bool"
    if origin in (int, float, Decimal):
        return "number"
    if origin is str or (isinstance(origin, type) and issubclass(origin, SecretStr)):
        return "text"
    if origin in _SEQUENCES or origin in _SETS or origin is tuple:
        return "list"
    if origin in _MAPPINGS:
        return "dict"
    return None


def _model_in(tp: Any) -> type[BaseModel] | None:
    """The model of ``Model`` / ``list[Model]`` / ``Model | None``, if that is what ``tp`` is."""
    tp, _ = _unwrap(tp, _NONE)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    return None


def _model_of(tp: Any) -> type[BaseModel] | None:
    """The item model of ``list[Model]`` (or tuple/set of it), if that is what ``tp`` is."""
    tp, _ = _unwrap(tp, _NONE)
    origin, args = get_origin(tp), get_args(tp)
    if (origin in _SEQUENCES or origin in _SETS or origin is tuple) and args:
        return _model_in(args[0])
    return None

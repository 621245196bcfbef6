"""Invalid configs on purpose: one mutation that the model must reject, naming the field."""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, get_args, get_origin

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydantic import BaseModel

from floe_compute_kit.conformance._fields import (
    _NONE,
    _Constraints,
    _input_key,
    _kind,
    _model_in,
    _model_of,
    _unwrap,
)
from floe_compute_kit.conformance.strategies._build import (
    _Ctx,
    _first,
    _for_type,
    _json_values,
    _validates,
    config_dicts,
)

__all__ = ["Mutation", "invalid_config_mutations"]


@dataclass(frozen=True)
class Mutation:
    """A valid config with exactly one field broken; the model must reject it naming ``field``.

    ``field`` is dotted like pydantic's error locations: ``threads``, ``attach.0.alias``.
    """

    data: dict[str, Any]
    field: str
    description: str


_DELETE: Final = object()


_WRONG_TYPE: Final[dict[str, tuple[Any, ...]]] = {
    "number": ("not a number", [1], {"a": 1}),
    "text": ([1], {"a": "b"}, 1.5),
    "bool": ("maybe", [True], 2),
    "list": (7, "not a list", {"a": 1}),
    "dict": ([1, 2], "not a mapping", 3),
    "model": (42, "not a mapping", [1]),
    "choice": ([1], {"a": 1}),
}


@dataclass(frozen=True)
class _Site:
    """One way to break one field: draws the bad value from the valid data."""

    key: str
    description: str
    value: SearchStrategy[Any] | None = None  # None: delete the key
    nested: SearchStrategy[Mutation] | None = None  # break a field inside a nested model
    in_list: bool = False
    extra_key: bool = False  # ``value`` draws the name of a key the model does not know


def invalid_config_mutations(
    model: type[BaseModel], *, bases: Sequence[dict[str, Any]] | None = None
) -> SearchStrategy[Mutation]:
    """Valid dicts with one field broken: out of range, wrong type, pattern mismatch,
    too short or long, bad literal or enum value, unknown key, missing required field.

    ``bases``: valid input dicts to break (those the model accepts), instead of drawing a
    whole valid config for every mutation; drawing one costs far more than breaking it,
    so a caller holding a sample of valid configs hands their dumps in.

    Each mutation is checked to be rejected by ``model``, so a drawn mutation is never
    a false alarm; whether the error *names* ``field`` is left to the caller (that is
    the negative check: a model validator that raises without a location fails it).

    >>> from hypothesis import given, settings
    >>> from pydantic import ValidationError
    >>> from floe_compute_kit import ComputeConfig
    >>> @settings(max_examples=20, database=None)
    ... @given(invalid_config_mutations(ComputeConfig))
    ... def test_rejected_naming_the_field(mutation):
    ...     try:
    ...         ComputeConfig.model_validate(mutation.data)
    ...     except ValidationError as exc:
    ...         assert mutation.field in str(exc), mutation.description
    ...     else:
    ...         raise AssertionError(f"accepted: {mutation.description}")
    >>> test_rejected_naming_the_field()
    """
    from floe_compute_kit.conformance.host._mirror import prefetch_validations  # noqa: PLC0415

    sites = list(_sites(model))
    prefetch_validations(model, list(bases or ()))  # one trip for them all, in a plugin host
    usable = [copy.deepcopy(b) for b in bases or () if _validates(model, b)]
    valid = (
        st.sampled_from(usable)
        if usable
        else config_dicts(model).filter(lambda data: _validates(model, data))
    )
    if not sites:
        return st.nothing()
    return st.one_of([_mutate(valid, site) for site in sites]).filter(
        lambda m: not _validates(model, m.data)
    )


# Decorated once here: st.composite reads the function's source each time it decorates
# one (to warn about an unused draw), which cost more than the draws of a sample.
@st.composite
def _mutate(draw: st.DrawFn, valid: SearchStrategy[dict[str, Any]], site: _Site) -> Mutation:
    data = copy.deepcopy(draw(valid))
    if site.extra_key and site.value is not None:
        name = draw(site.value)
        data[name] = draw(_json_values())
        return Mutation(data, name, f"{name}: {site.description}")
    if site.nested is not None:
        inner = draw(site.nested)
        if site.in_list:
            current = data.get(site.key) or []
            index = draw(st.integers(0, len(current))) if current else 0
            items = list(current)
            items[index : index + 1] = [inner.data]
            data[site.key] = items
            prefix = f"{site.key}.{index}"
        else:
            data[site.key] = inner.data
            prefix = site.key
        return Mutation(data, f"{prefix}.{inner.field}", f"{prefix}.{inner.description}")
    if site.value is None:
        data.pop(site.key, None)
    else:
        data[site.key] = draw(site.value)
    return Mutation(data, site.key, f"{site.key}: {site.description}")


def _sites(model: type[BaseModel]) -> Iterator[_Site]:
    if model.model_config.get("extra") == "forbid":
        unknown = st.from_regex(r"unknown_[a-z]{1,8}", fullmatch=True).filter(
            lambda k: k not in model.model_fields
        )
        yield _Site("", "unknown key (the model forbids extra keys)", value=unknown, extra_key=True)
    strict = bool(model.model_config.get("strict"))
    for name, info in model.model_fields.items():
        key = _input_key(model, name, info)
        if info.is_required():
            yield _Site(key, "required field missing")
        cons = _Constraints(strict=strict).merged(info.metadata)
        yield from _value_sites(key, info.annotation, cons)


def _nested_mutations(model: type[BaseModel]) -> SearchStrategy[Mutation]:
    return st.deferred(lambda: invalid_config_mutations(model))


def _value_sites(key: str, tp: Any, cons: _Constraints) -> Iterator[_Site]:
    tp, cons = _unwrap(tp, cons)
    origin = get_origin(tp) or tp
    model = _model_in(tp)
    if model is not None:
        yield _Site(key, "not a mapping", value=st.sampled_from(_WRONG_TYPE["model"]))
        yield _Site(key, "nested field broken", nested=_nested_mutations(model))
        return
    item_model = _model_of(tp)
    if item_model is not None:
        yield _Site(key, "item field broken", nested=_nested_mutations(item_model), in_list=True)
    if origin is Literal or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        allowed = list(get_args(tp)) if origin is Literal else [m.value for m in tp]
        bad = st.text(max_size=10).filter(lambda v: v not in allowed) | st.sampled_from(
            _WRONG_TYPE["choice"]
        )
        yield _Site(key, f"not one of {allowed!r}", value=bad)
        return
    kind = _kind(origin)
    if kind is None:
        return
    yield _Site(key, f"wrong type (not {kind})", value=st.sampled_from(_WRONG_TYPE[kind]))
    yield from _item_sites(key, kind, get_args(tp), item_model is not None)
    if kind == "number":
        yield from _range_sites(key, cons)
    if kind == "text" and cons.pattern is not None:
        pattern = cons.pattern
        bad = (st.just("") | st.text(max_size=12) | st.just("not matching!")).filter(
            lambda s: re.search(pattern, s) is None
        )
        yield _Site(key, f"does not match pattern {pattern!r}", value=bad)
    if kind in {"text", "list", "dict"}:
        if cons.min_length:
            shorter = replace(cons, min_length=0, max_length=cons.min_length - 1, pattern=None)
            yield _Site(
                key,
                f"shorter than min_length={cons.min_length}",
                value=_for_type(tp, shorter, _Ctx()),
            )
        if cons.max_length is not None:
            size = cons.max_length + 1
            longer = replace(cons, min_length=size, max_length=size, pattern=None)
            yield _Site(
                key,
                f"longer than max_length={cons.max_length}",
                value=_for_type(tp, longer, _Ctx()),
            )


def _item_sites(key: str, kind: str, args: tuple[Any, ...], of_models: bool) -> Iterator[_Site]:
    """Break one item of a list, or one key or value of a dict."""
    if kind == "list" and args and not of_models:
        for site in _value_sites(key, args[0], _NONE):
            if site.value is not None and site.nested is None:
                yield _Site(key, f"one item ({site.description})", value=site.value.map(_one_item))
    if kind == "dict" and len(args) == 2:
        key_type, value_type = args
        values = _for_type(value_type, _NONE, _Ctx())
        for site in _value_sites(key, key_type, _NONE):
            if site.value is not None and site.nested is None:
                bad_keys = site.value.filter(lambda k: isinstance(k, str | int | float))
                yield _Site(
                    key,
                    f"one key ({site.description})",
                    value=st.builds(_one_entry, bad_keys, values),
                )
        for site in _value_sites(key, value_type, _NONE):
            if site.value is not None and site.nested is None:
                yield _Site(
                    key,
                    f"one value ({site.description})",
                    value=st.builds(_one_entry, st.just("k"), site.value),
                )


def _one_item(value: Any) -> list[Any]:
    return [value]


def _one_entry(key: Any, value: Any) -> dict[Any, Any]:
    return {key: value}


def _range_sites(key: str, cons: _Constraints) -> Iterator[_Site]:
    low, high = _first(cons.ge, cons.gt), _first(cons.le, cons.lt)
    if low is not None:
        below = low - 1 if cons.ge is not None else low
        yield _Site(key, f"below the minimum {low}", value=st.sampled_from([below, below - 1000]))
    if high is not None:
        above = high + 1 if cons.le is not None else high
        yield _Site(key, f"above the maximum {high}", value=st.sampled_from([above, above + 1000]))

"""Building strategies: values for each field type, and dicts for whole models."""

from __future__ import annotations

import enum
import functools
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import PurePath
from typing import Annotated, Any, Final, Literal, get_args, get_origin

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydantic import AnyUrl, BaseModel, SecretBytes, SecretStr, TypeAdapter, ValidationError

from floe_compute_kit.conformance._fields import (
    _EXTRA_CHARS,
    _EXTRA_ITEMS,
    _LOWER,
    _M,
    _MAPPINGS,
    _NONE,
    _SEQUENCES,
    _SETS,
    _UNION_TYPES,
    _WORD_CHARS,
    _base_is_str,
    _Constraints,
    _input_key,
    _model_in,
    _UnresolvableTypeError,
    _unwrap,
)
from floe_compute_kit.errors import ComputeConfigurationError, log_error

__all__ = ["config_dicts", "configs"]


@dataclass
class _Ctx:
    """State shared while one model's strategy is built."""

    overrides: Mapping[str, SearchStrategy[Any]] = field(default_factory=dict)
    building: dict[tuple[type[BaseModel], bool], SearchStrategy[dict[str, Any]] | None] = field(
        default_factory=dict
    )
    # drawing a member of a union of models: Literal fields (the tags) are always written
    tagged: bool = False


# One strategy object each, built on first use: a new one per draw is validated by
# Hypothesis on its first draw (a recursive one costly so), which was a seventh of
# drawing the invalid-config mutations.
@functools.cache
def _json_values() -> SearchStrategy[Any]:
    """Small JSON-able values, for ``Any`` and unparameterised containers."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**31), 2**31)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys(), inner, max_size=3),
        max_leaves=6,
    )


@functools.cache
def _keys() -> SearchStrategy[str]:
    """Mapping keys: mostly identifier-like (as real configs have), sometimes any text."""
    return st.builds(
        str.__add__,
        st.sampled_from(_LOWER),
        st.text(alphabet=_LOWER + "0123456789_", max_size=11),
    ) | st.text(min_size=1, max_size=12)


def _for_type(tp: Any, cons: _Constraints, ctx: _Ctx) -> SearchStrategy[Any]:
    strategy = _unchecked(tp, cons, ctx)
    if cons.checks:
        adapter = _adapter(tp, cons.checks)
        strategy = strategy.filter(lambda value: _accepts(adapter, value))
    return strategy


_ADAPTERS: dict[tuple[Any, tuple[Any, ...]], TypeAdapter[Any]] = {}


def _adapter(tp: Any, checks: tuple[Any, ...]) -> TypeAdapter[Any]:
    """One TypeAdapter per (type, validators): building one costs about a millisecond."""
    try:
        return _ADAPTERS.setdefault((tp, checks), TypeAdapter(Annotated[tp, *checks]))
    except TypeError:  # unhashable metadata
        return TypeAdapter(Annotated[tp, *checks])


def _accepts(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except (ValidationError, ValueError, TypeError, AssertionError):
        return False
    return True


def _unchecked(tp: Any, cons: _Constraints, ctx: _Ctx) -> SearchStrategy[Any]:  # noqa: PLR0911 - one branch per kind of type is the clearest form
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return _for_type(args[0], cons.merged(args[1:]), ctx)
    if tp is Any or tp is object:
        return _json_values()
    if tp is None or tp is type(None):
        return st.none()
    if origin is Literal:
        return st.sampled_from(args)
    if origin in _UNION_TYPES:
        models = sum(1 for a in args if isinstance(a, type) and issubclass(a, BaseModel))
        members = replace(ctx, tagged=models > 1)
        return st.one_of([_for_type(a, _NONE if a is type(None) else cons, members) for a in args])
    if isinstance(tp, typing.NewType):
        return _for_type(tp.__supertype__, cons, ctx)
    if hasattr(tp, "__value__") and origin is None and not isinstance(tp, type):
        return _for_type(tp.__value__, cons, ctx)  # a ``type X = ...`` alias
    if isinstance(tp, type):
        scalar = _scalar(tp, cons, ctx)
        if scalar is not None:
            return scalar
    container = _container(origin or tp, args, cons, ctx)
    if container is not None:
        return container
    fallback = st.from_type(tp)
    try:
        fallback.validate()  # resolve now, so the error can name the field
    except Exception as exc:
        raise _UnresolvableTypeError(tp) from exc
    return fallback


def _scalar(tp: type, cons: _Constraints, ctx: _Ctx) -> SearchStrategy[Any] | None:  # noqa: PLR0911 - one return per scalar type
    if issubclass(tp, BaseModel):
        return _model_dicts(tp, ctx)
    if issubclass(tp, enum.Enum):
        members = list(tp)
        return st.sampled_from(members if cons.strict else [m.value for m in members])
    if tp is bool:
        return st.booleans()
    if issubclass(tp, int):
        return _integers(cons)
    if tp is float:
        return _floats(cons)
    if tp is Decimal:
        return st.decimals(
            min_value=_first(cons.ge, cons.gt),
            max_value=_first(cons.le, cons.lt),
            allow_nan=False,
            allow_infinity=False,
            places=cons.decimal_places,
        ).filter(lambda d: _in_bounds(d, cons) and _digits_ok(d, cons))
    if tp is str or issubclass(tp, SecretStr):
        return _strings(cons)
    if tp is bytes or issubclass(tp, SecretBytes):
        return st.binary(min_size=cons.min_length or 0, max_size=_max_items(cons, _EXTRA_CHARS))
    if issubclass(tp, PurePath):
        return st.text(alphabet=_LOWER + "0123456789_./-", min_size=1, max_size=20).map(tp)
    if issubclass(tp, AnyUrl):
        return st.builds(
            "https://{}.example.com:{}/{}".format,
            st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
            st.integers(1, 65535),
            st.from_regex(r"[a-z0-9_]{0,8}", fullmatch=True),
        )
    return None


def _container(
    origin: Any, args: tuple[Any, ...], cons: _Constraints, ctx: _Ctx
) -> SearchStrategy[Any] | None:
    items = cons.for_items()
    low, high = cons.min_length or 0, _max_items(cons, _EXTRA_ITEMS)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_for_type(args[0], items, ctx), min_size=low, max_size=high).map(
                tuple if cons.strict else list
            )
        parts = [_for_type(a, items, ctx) for a in args]
        return st.tuples(*parts).map(tuple if cons.strict else list)
    if origin in _SEQUENCES:
        inner = args[0] if args else Any
        return st.lists(
            _for_type(inner, items, ctx), unique_by=_unique_by(inner), min_size=low, max_size=high
        )
    if origin in _SETS:
        inner = args[0] if args else int
        return st.lists(_for_type(inner, items, ctx), unique=True, min_size=low, max_size=high).map(
            frozenset if origin is frozenset else set if cons.strict else list
        )
    if origin in _MAPPINGS:
        key_type, value_type = args if len(args) == 2 else (str, Any)
        keys = _keys() if key_type is str else _for_type(key_type, items, ctx)
        return st.dictionaries(keys, _for_type(value_type, items, ctx), min_size=low, max_size=high)
    return None


def _unique_by(inner: Any) -> tuple[Callable[[Any], Any], ...] | None:
    """Items of a list of models are keyed by their required text fields (alias, name).

    Duplicates there are almost always rejected by the model, so they are not drawn.
    """
    model = _model_in(inner)
    if model is None:
        return None
    keys = [
        _input_key(model, name, info)
        for name, info in model.model_fields.items()
        if info.is_required() and _base_is_str(info.annotation)
    ]
    if not keys:
        return None
    return tuple(_getter(k) for k in keys)


def _getter(key: str) -> Callable[[Any], Any]:
    return lambda item: item.get(key) if isinstance(item, dict) else id(item)


def _digits_ok(value: Decimal, cons: _Constraints) -> bool:
    if cons.max_digits is None:
        return True
    digits = value.as_tuple().digits
    return len(digits) <= cons.max_digits


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _in_bounds(value: Any, cons: _Constraints) -> bool:
    return not (
        (cons.ge is not None and value < cons.ge)
        or (cons.gt is not None and value <= cons.gt)
        or (cons.le is not None and value > cons.le)
        or (cons.lt is not None and value >= cons.lt)
    )


def _max_items(cons: _Constraints, extra: int) -> int:
    cap = (cons.min_length or 0) + extra
    return cap if cons.max_length is None else min(cons.max_length, cap)


def _integers(cons: _Constraints) -> SearchStrategy[int]:
    low = _first(
        None if cons.ge is None else math.ceil(cons.ge),
        None if cons.gt is None else math.floor(cons.gt) + 1,
    )
    high = _first(
        None if cons.le is None else math.floor(cons.le),
        None if cons.lt is None else math.ceil(cons.lt) - 1,
    )
    if cons.multiple_of:
        step = int(cons.multiple_of)
        return st.integers(
            None if low is None else -(-low // step), None if high is None else high // step
        ).map(lambda k: k * step)
    return st.integers(low, high)


def _floats(cons: _Constraints) -> SearchStrategy[float]:
    finite = not cons.allow_inf_nan
    strategy = st.floats(
        min_value=_first(cons.ge, cons.gt),
        max_value=_first(cons.le, cons.lt),
        exclude_min=cons.ge is None and cons.gt is not None,
        exclude_max=cons.le is None and cons.lt is not None,
        allow_nan=not finite and cons.ge is None and cons.le is None,
        allow_infinity=not finite,
    )
    if cons.multiple_of:
        step = float(cons.multiple_of)
        strategy = strategy.map(lambda x: round(x / step) * step).filter(
            lambda x: _in_bounds(x, cons)
        )
    return strategy


def _strings(cons: _Constraints) -> SearchStrategy[str]:
    low, high = cons.min_length or 0, cons.max_length
    strategy: SearchStrategy[str]
    if cons.pattern is not None:
        simple = _simple_regex(cons.pattern)
        strategy = st.from_regex(cons.pattern, fullmatch=True) if simple is None else simple
        if low or high is not None:
            strategy = strategy.filter(lambda s: low <= len(s) and (high is None or len(s) <= high))
    else:
        # Half plain words (names, paths: the normal path through a plugin), half any
        # Unicode text (quotes, control characters, astral planes: the hostile path).
        most = _max_items(cons, _EXTRA_CHARS)
        strategy = st.text(_WORD_CHARS, min_size=low, max_size=most) | st.text(
            min_size=low, max_size=most
        )
    if cons.strip_whitespace:
        strategy = strategy.filter(
            lambda s: low <= len(s.strip()) and (high is None or len(s.strip()) <= high)
        )
    return strategy


_SIMPLE_ITEM: Final = re.compile(
    r"(\[(?:[^\]\\]|\\.)+\]|\\[^\w\s]|[\w \-])(\*|\+|\?|\{\d+(?:,\d*)?\})?"
)


#: Upper bound on ``*`` and ``+`` repeats, and on ``{m,}`` beyond m.
_OPEN_REPEAT: Final = 16


def _simple_regex(pattern: str) -> SearchStrategy[str] | None:
    """Patterns of character classes and literals only, like ``^[a-z_][a-z0-9_]*$``.

    They are the common case in configs (identifiers, codes) and drawing them as text
    from an alphabet costs a fraction of hypothesis' general regex strategy. Anything
    else (groups, alternation, ``\\d``, negated classes) returns None.
    """
    body = pattern.removeprefix("^")
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    parts: list[SearchStrategy[str]] = []
    pos = 0
    while pos < len(body):
        match = _SIMPLE_ITEM.match(body, pos)
        alphabet = None if match is None else _alphabet(match[1])
        if match is None or not alphabet:
            return None
        low, high = _repeat(match[2])
        parts.append(st.text(alphabet=alphabet, min_size=low, max_size=high))
        pos = match.end()
    return st.tuples(*parts).map("".join) if parts else None


def _alphabet(token: str) -> str | None:
    if token.startswith("\\"):
        return token[1]
    if not token.startswith("["):
        return token
    content, chars = token[1:-1], list[str]()
    if content.startswith("^"):
        return None
    i = 0
    while i < len(content):
        char = content[i]
        if char == "\\":
            if i + 1 >= len(content) or content[i + 1].isalnum():
                return None  # \d, \w ... stand for Unicode categories
            char, i = content[i + 1], i + 1
        if i + 2 < len(content) and content[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(char), ord(content[i + 2]) + 1))
            i += 3
        else:
            chars.append(char)
            i += 1
    return "".join(sorted(set(chars)))


def _repeat(quantifier: str | None) -> tuple[int, int]:
    if not quantifier:
        return 1, 1
    fixed = {"*": (0, _OPEN_REPEAT), "+": (1, _OPEN_REPEAT), "?": (0, 1)}
    if quantifier in fixed:
        return fixed[quantifier]
    low, comma, high = quantifier[1:-1].partition(",")
    if not comma:
        return int(low), int(low)
    return int(low), int(high) if high else int(low) + _OPEN_REPEAT


def _sub_overrides(overrides: Mapping[str, Any], names: set[str]) -> dict[str, Any]:
    return {
        key.split(".", 1)[1]: value
        for key, value in overrides.items()
        if "." in key and key.split(".", 1)[0] in names
    }


def _model_dicts(model: type[BaseModel], ctx: _Ctx) -> SearchStrategy[dict[str, Any]]:
    """A nested model: its dicts, kept only when the model accepts them on its own."""
    if ctx.overrides:  # specific to this field: built afresh, not shared
        return _fields_strategy(model, ctx).filter(lambda data: _validates(model, data))
    key = (model, ctx.tagged)
    if key in ctx.building:
        built = ctx.building[key]
        # A recursive model refers to itself: defer to the strategy being built.
        return built if built is not None else st.deferred(lambda: _built(ctx, key))
    ctx.building[key] = None
    strategy = _fields_strategy(model, _Ctx(building=ctx.building, tagged=ctx.tagged)).filter(
        lambda data: _validates(model, data)
    )
    ctx.building[key] = strategy
    return strategy


def _built(ctx: _Ctx, key: tuple[type[BaseModel], bool]) -> SearchStrategy[dict[str, Any]]:
    strategy = ctx.building[key]
    assert strategy is not None, "a recursive model is drawn only after it is built"
    return strategy


def _fields_strategy(model: type[BaseModel], ctx: _Ctx) -> SearchStrategy[dict[str, Any]]:
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    strict = bool(model.model_config.get("strict"))
    validated = _fields_with_decorator_validators(model)
    for name, info in model.model_fields.items():
        key = _input_key(model, name, info)
        override = ctx.overrides.get(name, ctx.overrides.get(key))
        if override is not None:
            required[key] = override
            continue
        cons = _Constraints(strict=strict).merged(info.metadata)
        nested = _Ctx(overrides=_sub_overrides(ctx.overrides, {name, key}), building=ctx.building)
        try:
            strategy = _for_type(info.annotation, cons, nested)
        except _UnresolvableTypeError as exc:
            raise log_error(
                ComputeConfigurationError(
                    f"cannot generate {model.__name__}.{name}: hypothesis has no strategy for "
                    f"{exc.tp!r}; pass overrides={{{name!r}: <strategy>}} or register one with "
                    "hypothesis.strategies.register_type_strategy",
                    field=name,
                    value=exc.tp,
                    allowed="a type hypothesis can generate, or an override",
                )
            ) from exc.__cause__
        if name in validated:
            strategy = strategy.filter(_field_probe(model, name))
        if info.examples:
            strategy = st.sampled_from(list(info.examples)) | strategy
        always = info.is_required() or (
            ctx.tagged and get_origin(_unwrap(info.annotation, _NONE)[0]) is Literal
        )
        (required if always else optional)[key] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _fields_with_decorator_validators(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    for decorator in model.__pydantic_decorators__.field_validators.values():
        fields = decorator.info.fields
        names.update(model.model_fields if "*" in fields else fields)
    return names


def _field_probe(model: type[BaseModel], name: str) -> Callable[[Any], bool]:
    """Does the field's own ``@field_validator`` accept a value? (Assignment runs it.)"""
    base = model.model_construct()

    def probe(value: Any) -> bool:
        try:
            model.__pydantic_validator__.validate_assignment(base.model_copy(), name, value)
        except ValidationError as exc:
            return not any(e["loc"][:1] == (name,) for e in exc.errors())
        except Exception:
            return True  # the validator needed other fields: the whole model decides later
        return True

    return probe


def _validates(model: type[BaseModel], data: Any) -> bool:
    try:
        model.model_validate(data)
    except (ValidationError, ValueError, TypeError, AssertionError):
        return False
    return True


def config_dicts(
    model: type[BaseModel], *, overrides: Mapping[str, SearchStrategy[Any]] | None = None
) -> SearchStrategy[dict[str, Any]]:
    """Raw input dicts that should validate into ``model``, varying every field.

    ``overrides`` maps a field name (or ``nested.field``) to the strategy to use for it;
    overridden keys are always present.
    """
    ctx = _Ctx(overrides=dict(overrides or {}))
    ctx.building[model, False] = None
    strategy = _fields_strategy(model, ctx)
    ctx.building[model, False] = strategy
    fixed = set(ctx.overrides)
    return strategy.map(lambda data: _repaired(model, data, fixed))


def _repaired(model: type[BaseModel], data: dict[str, Any], fixed: set[str]) -> dict[str, Any]:
    """``data`` without the optional keys that a rule across fields rejects.

    Fields are drawn independently, so a model rule that ties one field to another
    (credential names that depend on the secret type, say) rejects many draws; leaving
    the offending optional field at its default keeps the draw, and every other field's
    variety, instead of discarding it.
    """
    try:
        model.model_validate(data)
    except ValidationError as exc:
        required = {
            _input_key(model, name, info)
            for name, info in model.model_fields.items()
            if info.is_required()
        }
        droppable = [k for k in data if k not in required and k not in fixed]
        located = {str(err["loc"][0]) for err in exc.errors() if err.get("loc")}
        if located:
            if located <= set(droppable):
                return {k: v for k, v in data.items() if k not in located}
            return data
        # A model-level rule names no field: the first optional key whose default
        # satisfies it is the one to leave out.
        for key in droppable:
            fewer = {k: v for k, v in data.items() if k != key}
            if _validates(model, fewer):
                return fewer
    return data


def configs(
    model: type[_M], *, overrides: Mapping[str, SearchStrategy[Any]] | None = None
) -> SearchStrategy[_M]:
    """Validated instances of ``model``; drawn dicts the model rejects are discarded."""
    invalid = object()

    def validate(data: dict[str, Any]) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError:
            return invalid

    return (
        config_dicts(model, overrides=overrides)
        .map(validate)
        .filter(lambda value: value is not invalid)
    )

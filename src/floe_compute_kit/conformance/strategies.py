"""Hypothesis strategies for any pydantic config model, field by field (FR-025).

``st.builds(Model)`` never varies a defaulted field and ``st.from_type`` ignores
``pattern``, so neither finds the config that breaks a plugin. This builder walks
``model_fields`` and each field's constraints (ge/gt/le/lt, min/max length, pattern,
multiple_of), its type (Literal, Enum, Optional/Union, SecretStr, nested models,
lists, tuples, sets, dicts, Any) and its validators, and draws raw input dicts the
way a user would write them in YAML: every field varies, defaulted keys are
sometimes left out, secrets are plain strings.

Plugin authors can use it in their own tests:

>>> from hypothesis import given, settings
>>> from floe_compute_kit import ComputeConfig
>>> from floe_compute_kit.conformance.strategies import configs, config_dicts
>>> @settings(max_examples=20, database=None)
... @given(configs(ComputeConfig))
... def test_threads_stay_in_range(config):
...     assert 1 <= config.threads <= 64
>>> test_threads_stay_in_range()

Fix a field with ``overrides`` (dotted names reach into nested models):

>>> from hypothesis import strategies as st
>>> @settings(max_examples=10, database=None)
... @given(config_dicts(ComputeConfig, overrides={"plugin": st.just("spark")}))
... def test_override(data):
...     assert data["plugin"] == "spark"
>>> test_override()

What is filtered rather than built: values of fields with functional validators
(``AfterValidator`` and friends, ``@field_validator``) are drawn from their base type
and kept only if the field accepts them, and nested models are kept only if they
validate on their own. The top-level model's own validators are not filtered by
:func:`config_dicts`; :func:`validity_rate` measures how often they pass.

Biases, on purpose: free text is half plain words (``[A-Za-z0-9_.-]``) and half any
Unicode; items of a list of models differ in their required text fields (aliases,
names), since duplicates there are almost always an error; members of a union of
models always carry their Literal tag fields.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import enum
import math
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import PurePath
from typing import Annotated, Any, Final, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydantic import AnyUrl, BaseModel, SecretBytes, SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic.functional_validators import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    WrapValidator,
)

from floe_compute_kit.errors import ComputeConfigurationError

__all__ = [
    "Mutation",
    "config_dicts",
    "configs",
    "invalid_config_mutations",
    "mask_secrets",
    "validity_rate",
]

_M = TypeVar("_M", bound=BaseModel)
_MASK: Final = "**********"
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


# --- constraints ----------------------------------------------------------------------


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


# --- building -------------------------------------------------------------------------


@dataclass
class _Ctx:
    """State shared while one model's strategy is built."""

    overrides: Mapping[str, SearchStrategy[Any]] = field(default_factory=dict)
    building: dict[tuple[type[BaseModel], bool], SearchStrategy[dict[str, Any]] | None] = field(
        default_factory=dict
    )
    # drawing a member of a union of models: Literal fields (the tags) are always written
    tagged: bool = False


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


class _UnresolvableTypeError(TypeError):
    def __init__(self, tp: Any) -> None:
        super().__init__(tp)
        self.tp = tp


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


def _base_is_str(tp: Any) -> bool:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp is str


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
            raise ComputeConfigurationError(
                f"cannot generate {model.__name__}.{name}: hypothesis has no strategy for "
                f"{exc.tp!r}; pass overrides={{{name!r}: <strategy>}} or register one with "
                "hypothesis.strategies.register_type_strategy",
                field=name,
                value=exc.tp,
                allowed="a type hypothesis can generate, or an override",
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


# --- public ---------------------------------------------------------------------------


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
    return strategy


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


def invalid_config_mutations(model: type[BaseModel]) -> SearchStrategy[Mutation]:
    """Valid dicts with one field broken: out of range, wrong type, pattern mismatch,
    too short or long, bad literal or enum value, unknown key, missing required field.

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
    sites = list(_sites(model))
    valid = config_dicts(model).filter(lambda data: _validates(model, data))
    if not sites:
        return st.nothing()
    return st.one_of([_apply(model, valid, site) for site in sites]).filter(
        lambda m: not _validates(model, m.data)
    )


def _apply(
    model: type[BaseModel], valid: SearchStrategy[dict[str, Any]], site: _Site
) -> SearchStrategy[Mutation]:
    @st.composite
    def mutate(draw: st.DrawFn) -> Mutation:
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

    return mutate()


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


def validity_rate(model: type[BaseModel], *, n: int = 200, seed: int = 0) -> float:
    """The share of :func:`config_dicts` output that ``model`` accepts (goal: 0.95 or more)."""
    outcomes = _generated_outcomes(model, n=n, seed_value=seed)
    return sum(outcomes) / len(outcomes) if outcomes else 0.0


def _generated_outcomes(model: type[BaseModel], *, n: int, seed_value: int) -> list[bool]:
    outcomes: list[bool] = []

    @seed(seed_value)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(config_dicts(model))
    def record(data: dict[str, Any]) -> None:
        outcomes.append(_validates(model, data))

    record()
    return outcomes


# --- secrets --------------------------------------------------------------------------

_SECRET_KEY: Final = re.compile(
    r"pass(word|wd)?|secret|token|credential|api[_-]?key|private[_-]?key|auth", re.IGNORECASE
)


def mask_secrets(
    data: Mapping[str, Any], *, model: type[BaseModel] | None = None
) -> dict[str, Any]:
    """A copy of ``data`` fit for a failure report: secret values become ``**********``.

    Secret are SecretStr/SecretBytes values, values under secret-sounding keys
    (credentials, password, token ...), and, given ``model``, fields typed SecretStr.

    >>> mask_secrets({"plugin": "x", "credentials": {"token": "abc"}, "threads": 2})
    {'plugin': 'x', 'credentials': {'token': '**********'}, 'threads': 2}
    """
    return {str(k): _masked(k, v, model, secret=False) for k, v in data.items()}


def _masked(key: Any, value: Any, model: type[BaseModel] | None, *, secret: bool) -> Any:
    info = _field_named(model, key)
    secret = secret or bool(isinstance(key, str) and _SECRET_KEY.search(key))
    if info is not None and _mentions_secret(info.annotation):
        secret = True
    nested = None if info is None else _model_in(info.annotation) or _model_of(info.annotation)
    return _mask_value(value, nested, secret=secret)


def _mask_value(value: Any, model: type[BaseModel] | None, *, secret: bool) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        return _MASK
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {str(k): _masked(k, v, model, secret=secret) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v, model, secret=secret) for v in value]
    if secret and value is not None:
        return _MASK
    return value


def _field_named(model: type[BaseModel] | None, key: Any) -> FieldInfo | None:
    if model is None or not isinstance(key, str):
        return None
    for name, info in model.model_fields.items():
        if key in {name, _input_key(model, name, info)}:
            return info
    return None


def _mentions_secret(tp: Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, SecretStr | SecretBytes):
        return True
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return False  # its own fields decide
    return any(_mentions_secret(a) for a in get_args(tp))

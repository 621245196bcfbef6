"""The field-aware config strategies: every field varies, constraints hold, mutations break one."""

from __future__ import annotations

import datetime
import doctest
import ipaddress
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PositiveInt,
    SecretStr,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit.conformance import strategies
from floe_compute_kit.conformance._determinism import seed_only_draws
from floe_compute_kit.conformance.strategies import (
    Mutation,
    config_dicts,
    configs,
    invalid_config_mutations,
    mask_secrets,
    validity_rate,
)
from floe_compute_kit.errors import ComputeConfigurationError
from floe_compute_kit.models import CatalogConfig, ComputeConfig, parse_config

pytestmark = pytest.mark.requirement("KIT-007")

CODE_PATTERN = r"^[A-Z]{2}-\d$"


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(IntEnum):
    LOW = 1
    HIGH = 9


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even")
    return value


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z]{2,8}$")
    weight: float = Field(default=1.0, gt=0, le=10)


class Rich(ComputeConfig):
    """A plugin config with one of every kind of field the builder must understand."""

    plugin: Literal["rich"] = "rich"
    mode: Literal["fast", "safe"] = "safe"
    color: Color = Color.RED
    level: Level = Level.LOW
    size: Annotated[int, AfterValidator(_even)] = 2
    ratio: float | None = Field(default=None, ge=0.0, lt=1.0)
    tags: list[Annotated[str, Field(min_length=1, max_length=5)]] = Field(
        default_factory=list, max_length=4
    )
    labels: set[str] = Field(default_factory=set)
    pair: tuple[int, str] = (1, "a")
    inner: Inner | None = None
    inners: list[Inner] = Field(default_factory=list)
    token: SecretStr | None = None
    extra_info: dict[str, Any] = Field(default_factory=dict)
    code: str = Field(default="AB-1", pattern=CODE_PATTERN, max_length=4)
    port: int = Field(default=8080, ge=1024, le=65535, multiple_of=10)

    @field_validator("labels")
    @classmethod
    def _no_shouting(cls, value: set[str]) -> set[str]:
        if any(label.isupper() for label in value):
            raise ValueError("labels must not be upper case")
        return value


class Ordered(BaseModel):
    """Half of its independent draws break the cross-field rule: the rate must show it."""

    low: int = Field(ge=0, le=100)
    high: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Ordered:
        if self.low >= self.high:
            raise ValueError("low must be below high")
        return self


class Node(BaseModel):
    name: str = Field(min_length=1, max_length=4)
    children: list[Node] = Field(default_factory=list, max_length=2)


def draw_many(strategy: SearchStrategy[Any], n: int = 150, seed_value: int = 1) -> list[Any]:
    """n drawn examples, reproducibly (hypothesis' own engine, no .example())."""
    found: list[Any] = []

    @seed(seed_value)
    @settings(max_examples=n, database=None, deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    # Draws from the seed alone: otherwise Hypothesis mixes in constants from local
    # source files, and an unrelated edit changes what these tests see.
    with seed_only_draws():
        collect()
    return found


@pytest.fixture(scope="module")
def rich_dicts() -> list[dict[str, Any]]:
    return draw_many(config_dicts(Rich), n=200)


def test_every_field_varies_and_defaulted_keys_are_sometimes_left_out(
    rich_dicts: list[dict[str, Any]],
) -> None:
    values: dict[str, set[str]] = defaultdict(set)
    for data in rich_dicts:
        for key, value in data.items():
            values[key].add(repr(value))
    for name, info in Rich.model_fields.items():
        if name == "plugin":
            continue  # a one-value Literal cannot vary
        assert len(values[name]) >= 2, f"{name} never varied: {values[name]}"
        if not info.is_required():
            assert any(name not in d for d in rich_dicts), f"{name} is never left out"


def test_constraints_are_honoured(rich_dicts: list[dict[str, Any]]) -> None:
    for data in rich_dicts:
        assert data.get("plugin", "rich") == "rich"
        assert data.get("mode", "safe") in {"fast", "safe"}
        assert data.get("color", "red") in {"red", "blue"}
        assert data.get("level", 1) in {1, 9}
        assert data.get("size", 2) % 2 == 0
        ratio = data.get("ratio")
        assert ratio is None or 0.0 <= ratio < 1.0
        assert 1 <= data.get("threads", 4) <= 64
        assert 1 <= data.get("timeout_seconds", 3600) <= 86400
        assert len(data.get("tags", [])) <= 4
        assert all(1 <= len(t) <= 5 for t in data.get("tags", []))
        assert re.fullmatch(CODE_PATTERN, data.get("code", "AB-1"))
        assert 1024 <= data.get("port", 8080) <= 65535
        assert data.get("port", 8080) % 10 == 0
        assert not any(label.isupper() for label in data.get("labels", []))
        for inner in [data.get("inner") or {"name": "ab"}, *data.get("inners", [])]:
            assert re.fullmatch(r"[a-z]{2,8}", inner["name"])
            assert 0 < inner.get("weight", 1.0) <= 10
        assert all(isinstance(v, str) for v in data.get("credentials", {}).values())
        assert data.get("token") is None or isinstance(data["token"], str)


def test_generated_dicts_validate(rich_dicts: list[dict[str, Any]]) -> None:
    rejected = []
    for data in rich_dicts:
        try:
            Rich.model_validate(data)
        except ValidationError as exc:
            rejected.append((data, exc))
    assert rejected == []


def test_plugin_name_comes_from_the_pattern() -> None:
    drawn = draw_many(config_dicts(ComputeConfig), n=100)
    names = {d["plugin"] for d in drawn}
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
    assert len(names) > 10


def test_configs_are_validated_instances_with_secrets() -> None:
    drawn = draw_many(configs(Rich), n=60)
    assert all(isinstance(c, Rich) for c in drawn)
    tokens = [c.token for c in drawn if c.token is not None]
    assert tokens
    assert all(isinstance(t, SecretStr) for t in tokens)
    assert any(c.credentials for c in drawn)


def test_overrides_fix_top_level_and_nested_fields() -> None:
    strategy = config_dicts(
        Rich,
        overrides={
            "threads": st.just(7),
            "inner": st.just({"name": "fixed"}),
            "inners.name": st.sampled_from(["aa", "bb"]),
        },
    )
    for data in draw_many(strategy, n=60):
        assert data["threads"] == 7
        assert data["inner"] == {"name": "fixed"}
        assert all(i["name"] in {"aa", "bb"} for i in data.get("inners", []))


def test_recursive_models_terminate_and_validate() -> None:
    drawn = draw_many(config_dicts(Node), n=80)
    assert any(d.get("children") for d in drawn)
    for data in drawn:
        Node.model_validate(data)


@pytest.mark.requirement("KIT-019")
@pytest.mark.parametrize("model", [ComputeConfig, CatalogConfig, Rich, DuckDBConfig])
def test_validity_rate_meets_the_goal(model: type[BaseModel]) -> None:
    assert validity_rate(model, n=200) >= 0.95


@pytest.mark.requirement("KIT-019")
def test_validity_rate_measures_cross_field_rules_and_is_reproducible() -> None:
    rate = validity_rate(Ordered, n=200, seed=3)
    assert 0.2 < rate < 0.8, "independent low/high draws are ordered about half of the time"
    assert validity_rate(Ordered, n=200, seed=3) == rate


def _check_mutations(model: type[BaseModel], n: int) -> list[Mutation]:
    found = draw_many(invalid_config_mutations(model), n=n)
    for mutation in found:
        with pytest.raises(ValidationError) as caught:
            model.model_validate(mutation.data)
        locs = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
        assert any(loc == mutation.field or loc.startswith(mutation.field + ".") for loc in locs)
    return found


def test_mutations_break_exactly_the_named_field() -> None:
    found = _check_mutations(Rich, n=200)
    descriptions = " | ".join(m.description for m in found)
    for kind in (
        "below the minimum",
        "above the maximum",
        "wrong type",
        "does not match pattern",
        "unknown key",
        "not one of",
        "longer than max_length",
    ):
        assert kind in descriptions, f"no {kind!r} mutation in {len(found)} draws"
    assert any(re.fullmatch(r"inners\.\d+\.\w+", m.field) for m in found), "no nested item"


def test_mutations_of_given_bases_break_one_field_of_one_of_them() -> None:
    drawn = draw_many(config_dicts(Rich), n=20)
    bases = [Rich.model_validate(data).model_dump() for data in drawn]
    refused = {"plugin": "NOT A NAME"}  # the model refuses it: never a base
    found = draw_many(invalid_config_mutations(Rich, bases=[*bases, refused]), n=120)
    for mutation in found:
        with pytest.raises(ValidationError):
            Rich.model_validate(mutation.data)
        top = mutation.field.split(".", maxsplit=1)[0]
        same_elsewhere = [
            b
            for b in bases
            if {k: v for k, v in b.items() if k != top}
            == {k: v for k, v in mutation.data.items() if k != top}
        ]
        assert same_elsewhere, f"{mutation.description}: not one of the bases with one key broken"
    assert len({m.description.split(":")[0] for m in found}) > 5, "the sites still vary"
    again = [Rich.model_validate(data).model_dump() for data in drawn]
    assert bases == again, "the bases are left as they were"


def test_mutations_without_usable_bases_draw_configs_of_their_own() -> None:
    found = draw_many(invalid_config_mutations(Rich, bases=[{"plugin": "NOT A NAME"}]), n=60)
    assert found
    for mutation in found:
        with pytest.raises(ValidationError):
            Rich.model_validate(mutation.data)


def test_missing_required_field_is_a_mutation() -> None:
    found = _check_mutations(ComputeConfig, n=150)
    assert any(m.field == "plugin" and "plugin" not in m.data for m in found)


def test_mutations_feed_parse_config_errors_naming_the_field() -> None:
    for mutation in draw_many(invalid_config_mutations(DuckDBConfig), n=80):
        with pytest.raises(ComputeConfigurationError) as caught:
            parse_config(DuckDBConfig, mutation.data)
        assert mutation.field in str(caught.value)


def test_mask_secrets_hides_every_secret_and_keeps_the_rest() -> None:
    data = {
        "plugin": "rich",
        "threads": 3,
        "credentials": {"token": "t0ps3cret", "user": "alice"},
        "token": "abc",
        "inners": [{"name": "ab"}],
        "options": {"password": "pw", "endpoint": "http://x"},
        "wrapped": SecretStr("hidden"),
    }
    masked = mask_secrets(data, model=Rich)
    rendered = repr(masked)
    for secret in ("t0ps3cret", "alice", "abc", "pw", "hidden"):
        assert secret not in rendered
    assert masked["threads"] == 3
    assert masked["inners"] == [{"name": "ab"}]
    assert masked["options"]["endpoint"] == "http://x"
    assert data["credentials"]["token"] == "t0ps3cret", "the input is not changed"


def test_mask_secrets_uses_the_model_for_secret_fields_with_plain_names() -> None:
    class Dsn(BaseModel):
        dsn: SecretStr
        host: str

    assert mask_secrets({"dsn": "postgres://u:p@h", "host": "h"}, model=Dsn) == {
        "dsn": "**********",
        "host": "h",
    }


def test_docstring_examples_run() -> None:
    result = doctest.testmod(strategies, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5
    assert result.failed == 0


def test_import_is_cheap_and_free_of_side_effects() -> None:
    code = (
        "import sys, hypothesis\n"
        "before = hypothesis.settings.default\n"
        "import floe_compute_kit.conformance.strategies\n"
        "assert hypothesis.settings.default is before\n"
        "print(sorted(m for m in ('duckdb', 'dbt', 'opentelemetry') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int = Field(default=9, ge=0, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Uncommon(BaseModel):
    """Types a plugin config may well use beyond the floe models."""

    model_config = ConfigDict(extra="forbid")

    when: datetime.datetime | None = None
    day: datetime.date = datetime.date(2020, 1, 1)
    directory: Path = Path()
    ident: uuid.UUID | None = None
    amount: Decimal = Field(default=Decimal(1), ge=0, le=100, decimal_places=2)
    blob: bytes = b""
    address: ipaddress.IPv4Address | None = None
    endpoint: HttpUrl | None = None
    by_number: dict[int, str] = Field(default_factory=dict)
    numbers: frozenset[int] = frozenset()
    series: tuple[int, ...] = ()
    positives: list[PositiveInt] | None = None
    lowered: Annotated[str, StringConstraints(min_length=2, max_length=4, to_lower=True)] = "ab"
    pet: Cat | Dog = Field(default_factory=Cat, discriminator="kind")
    exact: Annotated[int, Strict()] = 1
    fraction: float = Field(default=0.5, gt=0, lt=1, multiple_of=0.25)


class Patterned(BaseModel):
    identifier: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    ticket: str = Field(pattern=r"^[A-Z]{2,3}-[0-9]+$")
    version: str = Field(pattern=r"^v[0-9]\.[0-9]{1,2}$")
    dashed: str = Field(pattern=r"^[\-a-c]?x$")
    grouped: str = Field(pattern=r"^(ab|cd)+$")


@pytest.mark.requirement("KIT-019")
def test_uncommon_field_types_generate_valid_values() -> None:
    assert validity_rate(Uncommon, n=150) >= 0.95
    pets = {d["pet"]["kind"] for d in draw_many(config_dicts(Uncommon), n=100) if "pet" in d}
    assert pets == {"cat", "dog"}, "both members of a discriminated union are drawn"


def test_patterns_are_matched_exactly() -> None:
    drawn = draw_many(config_dicts(Patterned), n=100)
    for name, info in Patterned.model_fields.items():
        pattern = next(m.pattern for m in info.metadata if getattr(m, "pattern", None))
        values = {d[name] for d in drawn}
        assert all(re.fullmatch(pattern, v) for v in values), name
        if name == "dashed":
            assert values == {"x", "-x", "ax", "bx", "cx"}, "every string it allows is drawn"
        else:
            assert len(values) > 5, f"{name} hardly varies: {values}"
    _check_mutations(Patterned, n=60)


class Opaque:
    """A type hypothesis cannot build: its argument has no annotation."""

    def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]  # deliberately unannotated
        self.handle = handle


class WithOpaque(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    threads: int = Field(default=1, ge=1, le=8)
    handle: Opaque


def test_ungeneratable_field_names_the_field_and_the_way_out() -> None:
    with pytest.raises(ComputeConfigurationError) as caught:
        config_dicts(WithOpaque)
    assert caught.value.field == "handle"
    assert "overrides={'handle'" in caught.value.message
    drawn = draw_many(configs(WithOpaque, overrides={"handle": st.builds(Opaque, st.none())}), 20)
    assert all(isinstance(c.handle, Opaque) for c in drawn)


class Unlocated(BaseModel):
    """Checks its maximum in a model validator first, so that error carries no field."""

    threads: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="before")
    @classmethod
    def _cap(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("threads"), int) and data["threads"] > 64:
            raise ValueError("too many")  # names no field: the negative check must see this
        return data


def test_mutations_keep_rejections_that_do_not_name_the_field() -> None:
    found = draw_many(invalid_config_mutations(Unlocated), n=100)
    unnamed = []
    for mutation in found:
        with pytest.raises(ValidationError) as caught:
            Unlocated.model_validate(mutation.data)
        if not any(e["loc"] for e in caught.value.errors()):
            unnamed.append(mutation.description)
    assert unnamed, "mutations the model rejects without naming the field reach the check"
    assert all("above the maximum" in d for d in unnamed)

"""Every rule of the contract models, and the error messages they produce."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from pydantic import SecretStr, ValidationError

from floe_compute_kit import (
    WORKLOAD_PRESETS,
    CatalogConfig,
    ComputeConfig,
    ComputeConfigurationError,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
    parse_config,
    resource_preset,
)
from floe_compute_kit.models import parse_quantity

pytestmark = pytest.mark.requirement("FR-002")


def test_compute_config_defaults() -> None:
    config = ComputeConfig(plugin="duckdb")
    assert (config.timeout_seconds, config.threads) == (3600, 4)
    assert config.connection == {}
    assert config.credentials == {}


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("timeout_seconds", 0, ">= 1"),
        ("timeout_seconds", 86401, "<= 86400"),
        ("threads", 0, ">= 1"),
        ("threads", 65, "<= 64"),
        ("plugin", "DuckDB", "matching ^[a-z][a-z0-9_]*$"),
        ("plugin", "9db", "matching ^[a-z][a-z0-9_]*$"),
    ],
)
def test_bad_values_name_field_value_and_allowed(field: str, value: object, allowed: str) -> None:
    data = {"plugin": "duckdb", field: value}
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(ComputeConfig, data, plugin_name="duckdb")
    err = info.value
    assert err.field == field
    assert err.value == value
    assert err.allowed is not None
    assert allowed in str(err.allowed)
    assert field in str(err)
    assert repr(value) in str(err)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("field", "value"),
    [("timeout_seconds", 1), ("timeout_seconds", 86400), ("threads", 1), ("threads", 64)],
)
def test_bounds_are_inclusive(field: str, value: int) -> None:
    assert getattr(ComputeConfig(plugin="x", **{field: value}), field) == value


def test_unknown_key_is_rejected_and_named() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(ComputeConfig, {"plugin": "duckdb", "thread": 2})
    assert info.value.field == "thread"
    assert "allowed: plugin, timeout_seconds, threads" in str(info.value)


def test_every_bad_field_is_reported_and_source_prefixes_the_path() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(
            ComputeConfig,
            {"plugin": "duckdb", "threads": 0, "timeout_seconds": -5},
            source="manifest.yaml: compute.configs.duckdb",
        )
    fields = [line.split(":")[0] for line in info.value.errors]
    assert len(info.value.errors) == 2
    assert any("threads" in line for line in info.value.errors)
    assert any("timeout_seconds" in line for line in info.value.errors)
    assert all(f.startswith("manifest.yaml") for f in fields)


SECRET = "hunter2-very-secret"


def test_credentials_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    config = ComputeConfig(plugin="duckdb", credentials={"password": SECRET})
    assert isinstance(config.credentials["password"], SecretStr)
    assert config.credentials["password"].get_secret_value() == SECRET
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("config %s %r", config, config)
    for rendered in (
        repr(config),
        str(config),
        config.model_dump_json(),
        caplog.text,
        json.dumps(config.model_dump(mode="json")),
    ):
        assert SECRET not in rendered


def test_invalid_credentials_value_is_masked_in_errors() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(ComputeConfig, {"plugin": "duckdb", "credentials": {"password": 12345678}})
    assert "12345678" not in str(info.value)
    assert info.value.field == "credentials.password"


@pytest.mark.requirement("FR-019")
def test_connection_result_is_frozen_and_latency_non_negative() -> None:
    result = ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=1.5)
    with pytest.raises(ValidationError):
        result.latency_ms = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=-0.1)
    with pytest.raises(ValidationError):
        ConnectionResult(status="sleepy", latency_ms=1)  # type: ignore[arg-type]
    assert ConnectionResult(status="degraded", latency_ms=0, warnings=["w"]).warnings == ("w",)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Decimal("0.1")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("256Mi", Decimal(256 * 2**20)),
        ("4Gi", Decimal(4 * 2**30)),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("500u", Decimal("0.0005")),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "12XB", "1 Gi", "Gi", "-1", "1Gb", "0x10"])
def test_bad_quantities_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"Kubernetes quantity|negative"):
        parse_quantity(text)


def test_resource_spec_checks_quantities_and_request_le_limit() -> None:
    with pytest.raises(ValidationError, match="cpu_request"):
        ResourceSpec(cpu_request="lots", cpu_limit="1", memory_request="1Gi", memory_limit="2Gi")
    with pytest.raises(ValidationError, match="memory_request '4Gi' exceeds memory_limit '1Gi'"):
        ResourceSpec(cpu_request="1", cpu_limit="1", memory_request="4Gi", memory_limit="1Gi")
    spec = ResourceSpec(cpu_request="1", cpu_limit="2", memory_request="1Gi", memory_limit="2Gi")
    with pytest.raises(ValidationError):
        spec.cpu_limit = "3"  # type: ignore[misc]
    assert spec.to_k8s()["limits"]["cpu"] == "2"


def test_workload_presets_follow_the_data_model() -> None:
    assert list(WORKLOAD_PRESETS) == ["small", "medium", "large"]
    small, medium, large = WORKLOAD_PRESETS.values()
    assert (small.cpu_request, small.cpu_limit, small.memory_request, small.memory_limit) == (
        "100m",
        "500m",
        "256Mi",
        "512Mi",
    )
    assert (medium.cpu_request, medium.cpu_limit, medium.memory_request, medium.memory_limit) == (
        "500m",
        "2000m",
        "1Gi",
        "4Gi",
    )
    assert (large.cpu_request, large.cpu_limit, large.memory_request, large.memory_limit) == (
        "2000m",
        "8000m",
        "4Gi",
        "16Gi",
    )
    for field in ResourceSpec.model_fields:
        sizes = [parse_quantity(getattr(s, field)) for s in (small, medium, large)]
        assert sizes == sorted(sizes), field
    with pytest.raises(TypeError):
        WORKLOAD_PRESETS["huge"] = small  # type: ignore[index]


def test_unknown_workload_size_lists_valid_ones() -> None:
    assert resource_preset("medium") is WORKLOAD_PRESETS["medium"]
    with pytest.raises(ComputeConfigurationError) as info:
        resource_preset("xl", plugin_name="duckdb")
    assert info.value.allowed == ["small", "medium", "large"]
    assert "small, medium, large" in str(info.value)
    assert info.value.field == "workload_size"
    assert info.value.plugin_name == "duckdb"


def test_catalog_config() -> None:
    catalog = CatalogConfig(
        catalog_type="rest",
        catalog_uri="http://127.0.0.1:8181",
        catalog_name="lake",
        credentials={"token": "t0ken"},
    )
    assert catalog.warehouse is None
    assert "t0ken" not in catalog.model_dump_json()
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(CatalogConfig, {"catalog_type": "", "catalog_uri": "u", "catalog_name": "n"})
    assert info.value.field == "catalog_type"


def test_a_config_field_named_schema_needs_no_warning_and_works() -> None:
    """A database config's natural ``schema`` field: no "shadows an attribute" warning, and
    it validates, defaults, dumps and appears in the JSON schema like any other field."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning while the class is built fails the test

        class WithSchema(ComputeConfig):
            schema: str = "x"

        class SchemaRequired(ComputeConfig):
            schema: str

    assert WithSchema(plugin="pg").schema == "x"
    config = parse_config(WithSchema, {"plugin": "pg", "schema": "analytics"})
    assert config.schema == "analytics"
    assert config.model_dump()["schema"] == "analytics"
    assert "schema" in WithSchema.model_json_schema()["properties"]
    assert "schema" in SchemaRequired.model_json_schema()["required"]
    with pytest.raises(ComputeConfigurationError, match="schema"):
        parse_config(SchemaRequired, {"plugin": "pg"})
    # The base model has no such field, and the deprecated v1 method is gone from it.
    assert "schema" not in ComputeConfig.model_fields
    assert not hasattr(ComputeConfig, "schema")

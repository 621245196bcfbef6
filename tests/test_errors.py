"""Errors subclass the builtin they resemble, carry structured fields, and are logged."""

from __future__ import annotations

import logging

import pytest

from floe_compute_kit import (
    ComputeConfigurationError,
    ComputeConnectionError,
    ComputeError,
    ComputeQueryError,
    ComputeTimeoutError,
    DuplicatePluginError,
    IncompletePluginError,
    PluginLoadError,
    PluginNotFoundError,
)


@pytest.mark.requirement("FR-022")
@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (ComputeConnectionError("down", plugin_name="p", target="db"), ConnectionError),
        (ComputeTimeoutError("slow", plugin_name="p", timeout_seconds=2), TimeoutError),
        (ComputeConfigurationError("bad", plugin_name="p", field="f"), ValueError),
        (ComputeQueryError("boom", plugin_name="p", query_id="q1", sql="select 1"), RuntimeError),
        (IncompletePluginError("X", ["b", "a"]), TypeError),
        (PluginLoadError("nope", entry_point="e = m:X", distribution="d 1"), ImportError),
        (DuplicatePluginError("p", ["a 1", "b 2"]), ValueError),
        (PluginNotFoundError("p", ["b", "a"]), LookupError),
    ],
)
def test_each_error_is_a_compute_error_and_its_builtin(error: ComputeError, builtin: type) -> None:
    assert isinstance(error, ComputeError)
    assert isinstance(error, builtin)
    with pytest.raises(builtin):
        raise error


@pytest.mark.requirement("FR-023")
def test_correlation_id_is_generated_unique_or_kept() -> None:
    a, b = ComputeError("x"), ComputeError("x")
    assert a.correlation_id != b.correlation_id
    assert len(a.correlation_id) == 32
    assert ComputeError("x", correlation_id="abc").correlation_id == "abc"
    assert "correlation_id=abc" in str(ComputeError("x", correlation_id="abc"))


@pytest.mark.requirement("FR-023")
def test_every_error_is_logged_with_its_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="floe.compute.errors"):
        err = ComputeTimeoutError("query q7 exceeded 2s", plugin_name="duckdb", timeout_seconds=2)
    (record,) = caplog.records
    assert record.correlation_id == err.correlation_id  # type: ignore[attr-defined]
    assert err.correlation_id in record.getMessage()
    assert "duckdb" in record.getMessage()
    assert "ComputeTimeoutError" in record.getMessage()


@pytest.mark.requirement("FR-022")
def test_structured_fields_and_to_dict() -> None:
    err = ComputeConfigurationError.invalid_choice(
        "workload_size", "xl", ["small", "large"], plugin_name="duckdb"
    )
    assert (err.field, err.value, err.allowed) == ("workload_size", "xl", ["small", "large"])
    assert str(err).startswith("workload_size: 'xl' is not allowed; allowed: small, large")
    data = err.to_dict()
    assert data["error_type"] == "ComputeConfigurationError"
    assert data["plugin_name"] == "duckdb"
    assert data["correlation_id"] == err.correlation_id
    query = ComputeQueryError("boom", query_id="q1", sql="select 1")
    assert (query.query_id, query.sql) == ("q1", "select 1")
    timeout = ComputeTimeoutError("slow", timeout_seconds=2.0, elapsed_seconds=2.3, query_id="q2")
    assert (timeout.timeout_seconds, timeout.elapsed_seconds, timeout.query_id) == (2.0, 2.3, "q2")


@pytest.mark.requirement("FR-003")
def test_registry_errors_name_what_the_user_needs() -> None:
    assert "available: a, b" in str(PluginNotFoundError("p", ["b", "a"]))
    assert "none installed" in str(PluginNotFoundError("p", []))
    dup = DuplicatePluginError("p", ["dist-a 1.0 (a:X)", "dist-b 2.0 (b:Y)"])
    assert "dist-a 1.0" in str(dup)
    assert "dist-b 2.0" in str(dup)
    incomplete = IncompletePluginError("MyPlugin", ["validate_connection", "name"])
    assert incomplete.missing == ["name", "validate_connection"]
    assert "MyPlugin does not implement: name, validate_connection" in str(incomplete)

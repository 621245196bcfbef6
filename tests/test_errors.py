"""Errors subclass the builtin they resemble, carry structured fields, keep a stable str(),
and are logged once where they are raised or handled."""

from __future__ import annotations

import logging
import pickle

import pytest

from floe_compute_kit import (
    CompilationError,
    ComputeConfigurationError,
    ComputeConnectionError,
    ComputeError,
    ComputeQueryError,
    ComputeTimeoutError,
    DuplicatePluginError,
    IncompletePluginError,
    ManifestError,
    PluginLoadError,
    PluginNotFoundError,
    Violation,
)
from floe_compute_kit.errors import (
    ERRORS_LOGGER,
    CertificateError,
    IOViolationError,
    WaiverError,
    log_error,
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
    assert "correlation_id='abc'" in repr(ComputeError("x", correlation_id="abc"))


@pytest.mark.requirement("KIT-250")
def test_str_is_the_message_alone_and_stable() -> None:
    a = ComputeTimeoutError("query q7 exceeded 2s", plugin_name="duckdb", timeout_seconds=2)
    b = ComputeTimeoutError("query q7 exceeded 2s", plugin_name="duckdb", timeout_seconds=2)
    assert str(a) == str(b) == "query q7 exceeded 2s"
    assert a.correlation_id not in str(a)
    assert a.correlation_id in repr(a)
    assert "timeout_seconds=2" in repr(a)


@pytest.mark.requirement("FR-023")
def test_building_an_error_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=ERRORS_LOGGER):
        ComputeConfigurationError("bad", field="f")
        PluginNotFoundError("p", ["a"])
    assert caplog.records == []


@pytest.mark.requirement("FR-023")
def test_an_error_is_logged_once_where_it_is_raised(caplog: pytest.LogCaptureFixture) -> None:
    def raise_it() -> None:
        raise log_error(
            ComputeTimeoutError("query q7 exceeded 2s", plugin_name="duckdb", timeout_seconds=2)
        )

    with (
        caplog.at_level(logging.INFO, logger=ERRORS_LOGGER),
        pytest.raises(ComputeTimeoutError) as info,
    ):
        raise_it()
    err = info.value
    assert log_error(err, handled=True) is err  # the handler's call adds no second line
    (record,) = caplog.records
    assert record.correlation_id == err.correlation_id  # type: ignore[attr-defined]
    assert record.error_handled is False  # type: ignore[attr-defined]
    assert record.funcName == "raise_it"  # the record points at the raise site
    assert err.correlation_id in record.getMessage()
    assert "duckdb" in record.getMessage()
    assert "ComputeTimeoutError" in record.getMessage()


@pytest.mark.requirement("FR-023")
def test_a_handled_error_is_logged_by_its_handler(caplog: pytest.LogCaptureFixture) -> None:
    err = ComputeConnectionError("down", target="db")
    with caplog.at_level(logging.INFO, logger=ERRORS_LOGGER):
        log_error(err, handled=True)
    (record,) = caplog.records
    assert record.error_handled is True  # type: ignore[attr-defined]
    assert record.funcName == "test_a_handled_error_is_logged_by_its_handler"


@pytest.mark.requirement("FR-023")
def test_the_correlation_id_joins_the_log_line_and_the_span() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("work"):
        err = log_error(ComputeQueryError("boom", query_id="q1"))
    (span,) = exporter.get_finished_spans()
    (event,) = span.events
    assert event.name == "floe.compute.error"
    assert event.attributes is not None
    assert event.attributes["correlation_id"] == err.correlation_id
    assert event.attributes["error_type"] == "ComputeQueryError"


@pytest.mark.requirement("KIT-250")
def test_fields_live_in_one_constructor() -> None:
    manifest = ManifestError("bad", file="m.yaml", key_path="compute.approved", line=3)
    assert manifest.fields() == {
        "plugin_name": None,
        "correlation_id": manifest.correlation_id,
        "field": "compute.approved",
        "value": None,
        "allowed": None,
        "errors": ["bad"],
        "file": "m.yaml",
        "key_path": "compute.approved",
        "line": 3,
    }
    assert isinstance(manifest, ComputeConfigurationError)
    assert isinstance(manifest, ValueError)
    with pytest.raises(TypeError, match="has no field tagret; its fields are"):
        ComputeError("x", tagret="db")


@pytest.mark.requirement("KIT-250")
@pytest.mark.parametrize(
    "error",
    [
        ComputeConnectionError("down", plugin_name="p", target="db"),
        IncompletePluginError("X", ["b", "a"]),
        DuplicatePluginError("p", ["a 1", "b 2"]),
        PluginNotFoundError("p", ["b", "a"]),
        ManifestError("bad", file="m.yaml", key_path="k", line=2),
        CompilationError([Violation("c", "m", file="f", key_path="k")]),
        IOViolationError("socket", "connect()", method="generate_dbt_profile"),
        CertificateError("bad", file="c.json", reason="not JSON"),
        WaiverError("bad", file="w.yaml", field="id"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_pickles_with_its_fields(error: ComputeError) -> None:
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.fields() == error.fields()
    assert again.to_dict() == error.to_dict()


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

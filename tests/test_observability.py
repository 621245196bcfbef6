"""floe.compute spans and metrics, read back through the real OpenTelemetry SDK."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from floe_compute_duckdb import AttachConfig, DuckDBComputePlugin, DuckDBConfig
from floe_compute_kit import ComputeConfigurationError, observability
from floe_compute_kit.observability import traced_profile, traced_validation

# Operators read compute health through these spans and metrics (US6-AS3).
pytestmark = pytest.mark.requirement("US6-AS3", "US6")

PLUGIN = DuckDBComputePlugin()
SECRET = "SECRET-otel-4711"


@dataclass
class Telemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def finished(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, metric: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                if scope.scope.name != "floe.compute":
                    continue
                for m in scope.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Fresh SDK providers for each test; the process-wide globals are never touched."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    observability.use_providers(tracer_provider, meter_provider)
    try:
        yield Telemetry(exporter, reader)
    finally:
        observability.use_providers(None, None)
        meter_provider.shutdown()
        tracer_provider.shutdown()


@pytest.mark.requirement("KIT-005")
def test_validation_span_carries_plugin_and_status(telemetry: Telemetry) -> None:
    result = PLUGIN.validate_connection(DuckDBConfig())
    (span,) = telemetry.finished("floe.compute.validate_connection")
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "floe.compute"
    assert span.attributes is not None
    assert span.attributes["floe.compute.plugin"] == "duckdb"
    assert span.attributes["floe.compute.status"] == result.status.value == "healthy"


@pytest.mark.requirement("FR-024")
def test_validation_duration_histogram_by_plugin_and_status(telemetry: Telemetry) -> None:
    PLUGIN.validate_connection(DuckDBConfig())
    PLUGIN.validate_connection(DuckDBConfig())
    PLUGIN.validate_connection(DuckDBConfig(path="/nonexistent/dir/x.duckdb"))
    points = {
        tuple(sorted(p.attributes.items())): p
        for p in telemetry.points("floe.compute.validation.duration_ms")
    }
    healthy = points[(("plugin", "duckdb"), ("status", "healthy"))]
    unhealthy = points[(("plugin", "duckdb"), ("status", "unhealthy"))]
    assert healthy.count == 2
    assert unhealthy.count == 1
    assert healthy.sum > 0


@pytest.mark.requirement("FR-024")
def test_validation_errors_counter_by_error_type(telemetry: Telemetry, tmp_path: Path) -> None:
    PLUGIN.validate_connection(DuckDBConfig(path=str(tmp_path / "missing.duckdb")))
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database" * 50)
    PLUGIN.validate_connection(DuckDBConfig(path=str(junk)))
    PLUGIN.validate_connection(DuckDBConfig())  # healthy: no error counted
    counts = {
        p.attributes["error_type"]: p.value
        for p in telemetry.points("floe.compute.validation.errors")
        if p.attributes["plugin"] == "duckdb"
    }
    assert counts == {"missing_file": 1, "not_a_database": 1}
    statuses = [
        s.attributes["floe.compute.status"]
        for s in telemetry.finished("floe.compute.validate_connection")
        if s.attributes is not None
    ]
    assert statuses == ["unhealthy", "unhealthy", "healthy"]


@pytest.mark.requirement("KIT-005")
def test_profile_span_and_generation_histogram(telemetry: Telemetry) -> None:
    PLUGIN.generate_dbt_profile(DuckDBConfig(threads=3))
    with pytest.raises(ComputeConfigurationError):
        PLUGIN.generate_dbt_profile({"plugin": "duckdb", "threads": 0})  # type: ignore[arg-type]
    spans = telemetry.finished("floe.compute.generate_dbt_profile")
    assert [s.attributes["floe.compute.status"] for s in spans if s.attributes] == ["ok", "error"]
    assert spans[1].attributes is not None
    assert spans[1].attributes["floe.compute.error_type"] == "ComputeConfigurationError"
    assert not spans[1].status.is_ok
    by_status = {
        p.attributes["status"]: p.count
        for p in telemetry.points("floe.compute.profile.generation_ms")
    }
    assert by_status == {"ok": 1, "error": 1}


@pytest.mark.requirement("KIT-006")
def test_no_secret_reaches_any_attribute(telemetry: Telemetry, tmp_path: Path) -> None:
    config = DuckDBConfig(
        path=str(tmp_path / f"{SECRET}.duckdb"),
        credentials={"token": SecretStr(SECRET)},
        settings={"no_such_setting": SECRET},
        attach=[AttachConfig(path=SECRET, alias="lake", options={"endpoint": SECRET})],
    )
    PLUGIN.generate_dbt_profile(config)
    PLUGIN.validate_connection(config)
    PLUGIN.validate_connection(config.model_copy(update={"path": ":memory:"}))
    with pytest.raises(ComputeConfigurationError):
        PLUGIN.generate_dbt_profile({"plugin": "duckdb", "memory_limit": SECRET})  # type: ignore[arg-type]

    spans = telemetry.spans.get_finished_spans()
    assert len(spans) == 4
    seen: list[str] = []
    for span in spans:
        seen += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        seen += [str(e.attributes) for e in span.events]
        seen.append(span.status.description or "")
    for metric in (
        "floe.compute.validation.duration_ms",
        "floe.compute.validation.errors",
        "floe.compute.profile.generation_ms",
    ):
        seen += [str(p.attributes) for p in telemetry.points(metric)]
    assert seen
    assert not [text for text in seen if "SECRET-" in text]


@pytest.mark.requirement("KIT-005")
def test_helpers_serve_any_plugin_and_record_escaping_exceptions(telemetry: Telemetry) -> None:
    with traced_validation("spark") as outcome:
        outcome.status = "degraded"
    with pytest.raises(ConnectionError), traced_validation("spark"):
        raise ConnectionError(SECRET)
    with traced_profile("spark"):
        pass
    spans = telemetry.finished("floe.compute.validate_connection")
    assert [(s.attributes or {}).get("floe.compute.status") for s in spans] == [
        "degraded",
        "error",
    ]
    assert all((s.attributes or {}).get("floe.compute.plugin") == "spark" for s in spans)
    assert SECRET not in str(spans[1].events) + str(spans[1].status.description)
    errors = telemetry.points("floe.compute.validation.errors")
    assert [(p.attributes["error_type"], p.value) for p in errors] == [("ConnectionError", 1)]
    assert len(telemetry.finished("floe.compute.generate_dbt_profile")) == 1


@pytest.mark.requirement("FR-024")
def test_nested_validation_of_one_plugin_is_recorded_once(telemetry: Telemetry) -> None:
    """A caller (floe-compute health) wrapping a self-instrumented plugin counts each call once."""
    with traced_validation("spark") as outer:
        with traced_validation("spark") as inner:
            inner.status, inner.error_type = "unhealthy", "missing_file"
        assert (outer.status, outer.error_type) == ("unhealthy", "missing_file")
        with traced_validation("duckdb") as other:  # another plugin is its own measurement
            other.status = "healthy"
    spans = telemetry.finished("floe.compute.validate_connection")
    assert sorted((s.attributes or {})["floe.compute.plugin"] for s in spans) == ["duckdb", "spark"]
    durations = telemetry.points("floe.compute.validation.duration_ms")
    assert sorted((p.attributes["plugin"], p.count) for p in durations) == [
        ("duckdb", 1),
        ("spark", 1),
    ]
    errors = telemetry.points("floe.compute.validation.errors")
    assert [(p.attributes["error_type"], p.value) for p in errors] == [("missing_file", 1)]


@pytest.mark.requirement("KIT-005")
def test_without_providers_the_global_noop_api_is_used() -> None:
    observability.use_providers(None, None)
    assert PLUGIN.validate_connection(DuckDBConfig()).status == "healthy"
    assert PLUGIN.generate_dbt_profile(DuckDBConfig())["type"] == "duckdb"


@pytest.mark.requirement("KIT-005")
def test_importing_the_kit_does_not_import_opentelemetry() -> None:
    script = (
        "import sys, floe_compute_kit, floe_compute_kit.observability, floe_compute_duckdb\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('opentelemetry', 'duckdb', 'dbt')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_one_tracer_per_provider_and_spans_follow_a_new_provider(telemetry: Telemetry) -> None:
    """The tracer is kept between calls (making one each call cost a tenth of a traced
    call), but never outlives the providers it was made for."""
    first = observability.get_tracer()
    assert observability.get_tracer() is first
    exporter = InMemorySpanExporter()
    other = TracerProvider()
    other.add_span_processor(SimpleSpanProcessor(exporter))
    observability.use_providers(other, None)
    try:
        assert observability.get_tracer() is not first
        PLUGIN.generate_dbt_profile(DuckDBConfig())
    finally:
        observability.use_providers(None, None)
        other.shutdown()
    assert [s.name for s in exporter.get_finished_spans()] == [observability.SPAN_PROFILE]
    assert telemetry.finished(observability.SPAN_PROFILE) == []

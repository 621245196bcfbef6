"""OpenTelemetry for compute plugins: one tracer and one meter, both named ``floe.compute``.

Any plugin (and ``floe-compute health``) wraps its work in :func:`traced_validation` or
:func:`traced_profile`; the spans and instruments then look the same for every compute:

- span ``floe.compute.validate_connection`` / ``floe.compute.generate_dbt_profile`` with
  attributes ``floe.compute.plugin`` and ``floe.compute.status``;
- histogram ``floe.compute.validation.duration_ms`` (plugin, status);
- counter ``floe.compute.validation.errors`` (plugin, error_type);
- histogram ``floe.compute.profile.generation_ms`` (plugin, status).

Attributes carry only names, statuses and error class names: never a message, a path or
a config value, so no secret can reach a span or a metric.

Providers: the global OpenTelemetry providers unless :func:`use_providers` set others
(the global ones can only be set once per process, which tests and embedders cannot rely on).
OpenTelemetry itself is imported on first use, so ``import floe_compute_kit`` stays cheap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = [
    "INSTRUMENTATION_NAME",
    "PROFILE_DURATION",
    "VALIDATION_DURATION",
    "VALIDATION_ERRORS",
    "Outcome",
    "elapsed_ms",
    "get_meter",
    "get_tracer",
    "measured_validation",
    "traced_profile",
    "traced_validation",
    "use_providers",
]

INSTRUMENTATION_NAME: Final = "floe.compute"
VALIDATION_DURATION: Final = "floe.compute.validation.duration_ms"
VALIDATION_ERRORS: Final = "floe.compute.validation.errors"
PROFILE_DURATION: Final = "floe.compute.profile.generation_ms"
SPAN_VALIDATION: Final = "floe.compute.validate_connection"
SPAN_PROFILE: Final = "floe.compute.generate_dbt_profile"
ATTR_PLUGIN: Final = "floe.compute.plugin"
ATTR_STATUS: Final = "floe.compute.status"
ATTR_ERROR_TYPE: Final = "floe.compute.error_type"
ATTR_LATENCY: Final = "floe.compute.latency_ms"


@dataclass
class _Providers:
    tracer_provider: Any = None
    meter_provider: Any = None
    instruments: dict[int, tuple[Any, Any, Any]] = field(default_factory=dict)


_PROVIDERS = _Providers()


def use_providers(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> None:
    """Send floe.compute telemetry to these providers (None: back to the global ones)."""
    _PROVIDERS.tracer_provider = tracer_provider
    _PROVIDERS.meter_provider = meter_provider
    _PROVIDERS.instruments.clear()


def get_tracer() -> Tracer:
    """The ``floe.compute`` tracer of the current provider."""
    from opentelemetry import trace  # noqa: PLC0415 - lazy: keeps `import floe_compute_kit` cheap

    return trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=_PROVIDERS.tracer_provider)


def get_meter() -> Meter:
    """The ``floe.compute`` meter of the current provider."""
    from opentelemetry import metrics  # noqa: PLC0415 - lazy: keeps `import floe_compute_kit` cheap

    return metrics.get_meter(INSTRUMENTATION_NAME, meter_provider=_PROVIDERS.meter_provider)


def _instruments() -> tuple[Histogram, Counter, Histogram]:
    from opentelemetry import metrics  # noqa: PLC0415 - lazy: keeps `import floe_compute_kit` cheap

    provider = _PROVIDERS.meter_provider or metrics.get_meter_provider()
    key = id(provider)
    if key not in _PROVIDERS.instruments:
        meter = get_meter()
        _PROVIDERS.instruments[key] = (
            meter.create_histogram(
                VALIDATION_DURATION, unit="ms", description="validate_connection wall time"
            ),
            meter.create_counter(
                VALIDATION_ERRORS, unit="1", description="validate_connection failures"
            ),
            meter.create_histogram(
                PROFILE_DURATION, unit="ms", description="generate_dbt_profile wall time"
            ),
        )
    return _PROVIDERS.instruments[key]


@dataclass
class Outcome:
    """What the wrapped call reports back: its status, and an error class when it failed."""

    status: str = "unknown"
    error_type: str | None = None


def _status_text(status: object) -> str:
    value = getattr(status, "value", status)
    return str(value)


#: The validation being traced in this context, so a nested one for the same plugin
#: (a self-instrumented plugin called by ``floe-compute health``) is counted once.
_CURRENT_VALIDATION: ContextVar[tuple[str, Outcome] | None] = ContextVar(
    "floe_compute_current_validation", default=None
)


@contextmanager
def traced_validation(plugin_name: str) -> Iterator[Outcome]:
    """Span + metrics around one validate_connection.

    Set ``outcome.status`` (e.g. ``result.status``) and, for a failure,
    ``outcome.error_type`` (a short class name, never a message). An exception escaping
    the block is recorded with status ``error`` and its class name.

    Nested inside another ``traced_validation`` of the same plugin, it records nothing
    itself: it hands its outcome to the outer one, so each call is one span and one
    measurement, carrying the plugin's own (more precise) error type.
    """
    current = _CURRENT_VALIDATION.get()
    if current is not None and current[0] == plugin_name:
        outer = current[1]
        inner = Outcome()
        try:
            yield inner
        finally:
            outer.status = inner.status
            outer.error_type = inner.error_type or outer.error_type
        return

    from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415 - lazy, as above

    duration, errors, _ = _instruments()
    outcome = Outcome()
    token = _CURRENT_VALIDATION.set((plugin_name, outcome))
    started = time.perf_counter()
    with get_tracer().start_as_current_span(
        SPAN_VALIDATION,
        attributes={ATTR_PLUGIN: plugin_name},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield outcome
        except BaseException as exc:
            outcome.status = "error"
            outcome.error_type = type(exc).__name__
            span.set_status(Status(StatusCode.ERROR, outcome.error_type))
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            status = _status_text(outcome.status)
            span.set_attribute(ATTR_STATUS, status)
            span.set_attribute(ATTR_LATENCY, elapsed_ms)
            if outcome.error_type:
                span.set_attribute(ATTR_ERROR_TYPE, outcome.error_type)
                errors.add(1, {"plugin": plugin_name, "error_type": outcome.error_type})
            duration.record(elapsed_ms, {"plugin": plugin_name, "status": status})
            _CURRENT_VALIDATION.reset(token)


@contextmanager
def traced_profile(plugin_name: str) -> Iterator[Outcome]:
    """Span + histogram around one generate_dbt_profile; status ``ok`` unless it raises."""
    from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415 - lazy, as above

    _, _, generation = _instruments()
    outcome = Outcome(status="ok")
    started = time.perf_counter()
    with get_tracer().start_as_current_span(
        SPAN_PROFILE,
        attributes={ATTR_PLUGIN: plugin_name},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield outcome
        except BaseException as exc:
            outcome.status = "error"
            outcome.error_type = type(exc).__name__
            span.set_status(Status(StatusCode.ERROR, outcome.error_type))
            span.set_attribute(ATTR_ERROR_TYPE, outcome.error_type)
            raise
        finally:
            status = _status_text(outcome.status)
            span.set_attribute(ATTR_STATUS, status)
            generation.record(
                (time.perf_counter() - started) * 1000.0, {"plugin": plugin_name, "status": status}
            )


def measured_validation(plugin_name: str, probe: Callable[[float], tuple[Any, str | None]]) -> Any:
    """One validate_connection, as the contract wants it: traced, measured, never raising.

    ``probe(started)`` returns ``(ConnectionResult, error_type or None)``; an exception
    it lets escape becomes an UNHEALTHY result that names the plugin as the one at fault.
    """
    from floe_compute_kit.models import ConnectionResult, ConnectionStatus  # noqa: PLC0415

    started = time.perf_counter()
    try:
        with traced_validation(plugin_name) as outcome:
            result, error_type = probe(started)
            outcome.status = result.status.value
            outcome.error_type = error_type
        return result
    except Exception as exc:  # the contract: never raise, report
        return ConnectionResult(
            status=ConnectionStatus.UNHEALTHY,
            latency_ms=elapsed_ms(started),
            message=f"validation failed unexpectedly ({type(exc).__name__}); report this as "
            f"a bug in the {plugin_name} plugin",
        )


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (perf_counter), floored so a measurement is > 0."""
    return max((time.perf_counter() - started) * 1000.0, 1e-3)

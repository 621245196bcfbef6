"""OpenTelemetry for compute plugins: one tracer and one meter, both named ``floe.compute``.

Any plugin (and ``floe-compute health``) wraps its work in :func:`traced_validation` or
:func:`traced_profile`; the spans and instruments then look the same for every compute:

- span ``floe.compute.validate_connection`` / ``floe.compute.generate_dbt_profile`` with
  attributes ``floe.compute.plugin`` and ``floe.compute.status``;
- histogram ``floe.compute.validation.duration_ms`` (plugin, status);
- counter ``floe.compute.validation.errors`` (plugin, error_type);
- histogram ``floe.compute.profile.generation_ms`` (plugin, status);
- while dbt runs (:class:`QueryMeter`, fed by the engine's dbt hook): histogram
  ``floe.compute.query.duration_ms`` (plugin, status ``ok``/``error``/``timeout``), counter
  ``floe.compute.query.errors`` (plugin, error_type), up-down counters
  ``floe.compute.pool.size`` (connections or cursors open) and ``floe.compute.pool.in_use``
  (running a query now), histogram ``floe.compute.pool.utilization`` (in use / open, at
  each query start);
- from ``floe-compute health --watch``: counter ``floe.compute.health.transitions``
  (compute, from_status, to_status) and counter ``floe.compute.health.checks`` (compute,
  status).

Attributes carry only names, statuses and error class names: never a message, a path or
a config value, so no secret can reach a span or a metric.

Providers: the global OpenTelemetry providers unless :func:`use_providers` set others
(the global ones can only be set once per process, which tests and embedders cannot rely on).
OpenTelemetry itself is imported on first use, so ``import floe_compute_kit`` stays cheap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = [
    "HEALTH_CHECKS",
    "HEALTH_TRANSITIONS",
    "INSTRUMENTATION_NAME",
    "POOL_IN_USE",
    "POOL_SIZE",
    "POOL_UTILIZATION",
    "PROFILE_DURATION",
    "QUERY_DURATION",
    "QUERY_ERRORS",
    "VALIDATION_DURATION",
    "VALIDATION_ERRORS",
    "Outcome",
    "QueryMeter",
    "elapsed_ms",
    "get_meter",
    "get_tracer",
    "measured_validation",
    "record_health",
    "traced_profile",
    "traced_validation",
    "use_providers",
]

INSTRUMENTATION_NAME: Final = "floe.compute"
VALIDATION_DURATION: Final = "floe.compute.validation.duration_ms"
VALIDATION_ERRORS: Final = "floe.compute.validation.errors"
PROFILE_DURATION: Final = "floe.compute.profile.generation_ms"
QUERY_DURATION: Final = "floe.compute.query.duration_ms"
QUERY_ERRORS: Final = "floe.compute.query.errors"
POOL_SIZE: Final = "floe.compute.pool.size"
POOL_IN_USE: Final = "floe.compute.pool.in_use"
POOL_UTILIZATION: Final = "floe.compute.pool.utilization"
HEALTH_TRANSITIONS: Final = "floe.compute.health.transitions"
HEALTH_CHECKS: Final = "floe.compute.health.checks"
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
    #: (provider id, instrument name) -> instrument, for the instruments made on first use.
    lazy: dict[tuple[int, str], Any] = field(default_factory=dict)
    #: (provider, its floe.compute tracer): a provider makes a new tracer on every ask,
    #: a tenth of each traced call's time
    tracer: tuple[Any, Any] | None = None


_PROVIDERS = _Providers()


def use_providers(
    tracer_provider: TracerProvider | None = None, meter_provider: MeterProvider | None = None
) -> None:
    """Send floe.compute telemetry to these providers (None: back to the global ones)."""
    _PROVIDERS.tracer_provider = tracer_provider
    _PROVIDERS.meter_provider = meter_provider
    _PROVIDERS.instruments.clear()
    _PROVIDERS.lazy.clear()
    _PROVIDERS.tracer = None


def get_tracer() -> Tracer:
    """The ``floe.compute`` tracer of the current provider."""
    from opentelemetry import trace  # noqa: PLC0415 - lazy: keeps `import floe_compute_kit` cheap

    provider = _PROVIDERS.tracer_provider or trace.get_tracer_provider()
    held = _PROVIDERS.tracer
    if held is not None and held[0] is provider:
        return cast("Tracer", held[1])
    tracer = trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=provider)
    _PROVIDERS.tracer = (provider, tracer)
    return tracer


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


_KINDS: Final = {
    QUERY_DURATION: ("histogram", "ms", "wall time of one SQL statement dbt ran"),
    QUERY_ERRORS: ("counter", "1", "SQL statements that failed or timed out"),
    POOL_SIZE: ("updown", "1", "connections or cursors open on the engine"),
    POOL_IN_USE: ("updown", "1", "connections or cursors running a query now"),
    POOL_UTILIZATION: ("histogram", "1", "in use / open, at each query start"),
    HEALTH_TRANSITIONS: ("counter", "1", "health status changes seen by health --watch"),
    HEALTH_CHECKS: ("counter", "1", "health checks made by health --watch"),
}


def _instrument(name: str) -> Any:
    """The instrument ``name`` of the current meter provider, made on first use."""
    from opentelemetry import metrics  # noqa: PLC0415 - lazy: keeps `import floe_compute_kit` cheap

    provider = _PROVIDERS.meter_provider or metrics.get_meter_provider()
    key = (id(provider), name)
    found = _PROVIDERS.lazy.get(key)
    if found is None:
        kind, unit, description = _KINDS[name]
        meter = get_meter()
        makers: dict[str, Any] = {
            "histogram": meter.create_histogram,
            "counter": meter.create_counter,
            "updown": meter.create_up_down_counter,
        }
        made = makers[kind](name, unit=unit, description=description)
        found = _PROVIDERS.lazy.setdefault(key, made)
    return found


class QueryMeter:
    """Query-level metrics of one engine's pool: duration, errors and pool utilization.

    An engine's dbt hook calls :meth:`opened`/:meth:`closed` for each connection (or
    cursor) it hands dbt, and runs every statement inside :meth:`query`. Attributes are
    the plugin name, a status and an error class name only: never SQL, a path or a value.
    """

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self._lock = threading.Lock()
        self.size = 0
        self.in_use = 0

    def opened(self) -> None:
        with self._lock:
            self.size += 1
        _instrument(POOL_SIZE).add(1, {"plugin": self.plugin_name})

    def closed(self) -> None:
        with self._lock:
            self.size = max(self.size - 1, 0)
        _instrument(POOL_SIZE).add(-1, {"plugin": self.plugin_name})

    @contextmanager
    def query(self) -> Iterator[Outcome]:
        """Measure one statement; set ``outcome.status`` to ``timeout`` when it was cancelled."""
        attrs = {"plugin": self.plugin_name}
        with self._lock:
            self.in_use += 1
            ratio = self.in_use / max(self.size, self.in_use, 1)
        _instrument(POOL_IN_USE).add(1, attrs)
        _instrument(POOL_UTILIZATION).record(ratio, attrs)
        outcome = Outcome(status="ok")
        started = time.perf_counter()
        try:
            yield outcome
        except BaseException as exc:
            if outcome.status == "ok":
                outcome.status = "error"
            outcome.error_type = outcome.error_type or type(exc).__name__
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            with self._lock:
                self.in_use -= 1
            _instrument(POOL_IN_USE).add(-1, attrs)
            _instrument(QUERY_DURATION).record(elapsed_ms, {**attrs, "status": outcome.status})
            if outcome.error_type:
                _instrument(QUERY_ERRORS).add(1, {**attrs, "error_type": outcome.error_type})


def record_health(compute: str, status: str, previous: str | None) -> None:
    """One poll of ``floe-compute health --watch``; a changed status is also a transition."""
    _instrument(HEALTH_CHECKS).add(1, {"compute": compute, "status": status})
    if previous is not None and previous != status:
        _instrument(HEALTH_TRANSITIONS).add(
            1, {"compute": compute, "from_status": previous, "to_status": status}
        )


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

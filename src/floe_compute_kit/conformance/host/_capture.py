"""What a plugin emits during one call, captured where it runs: log records, spans, metrics.

The kit looks for secrets in everything a plugin can make visible. Inside the plugin
host this module holds a root logging handler at DEBUG and the OpenTelemetry SDK's
in-memory span exporter and metric reader, installed as the process's global providers,
so a plugin's own ``logging`` and OpenTelemetry calls land here. :meth:`Capture.take`
returns the texts of one call as plain data for the call's reply; the kit judges them.

Cheap on purpose: a record is kept as its rendered message (and traceback, if any), an
empty call adds nothing to the reply, and every list is capped.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any, Final, TextIO

__all__ = ["Capture", "capture_in_process", "install"]

_MAX_ITEMS: Final = 500
_MAX_TEXT: Final = 4_000


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "... (cut)"


class _Records(logging.Handler):
    """Keeps the rendered text of every record, up to a cap per call."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.dropped = 0
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name} {record.levelname}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            elif record.exc_text:
                text += "\n" + record.exc_text
            if record.stack_info:
                text += "\n" + record.stack_info
        except Exception:  # a record whose arguments cannot be rendered
            text = f"{record.name} {record.levelname}: {record.msg!r} {record.args!r:.500}"
        with self._guard:
            if len(self.texts) < _MAX_ITEMS:
                self.texts.append(_cut(text))
            else:
                self.dropped += 1

    def take(self) -> list[str]:
        with self._guard:
            texts, self.texts = self.texts, []
            if self.dropped:
                texts.append(f"({self.dropped} more record(s) not kept)")
                self.dropped = 0
        return texts


def _attribute_texts(attributes: Any) -> list[str]:
    out: list[str] = []
    for key, value in dict(attributes or {}).items():
        out.append(f"{key}={value}")
    return out


class Capture:
    """The host's capture: one per process, installed before the plugin is imported."""

    def __init__(self) -> None:
        self.records = _Records()
        self._spans: Any = None
        self._metrics: Any = None
        self._metric_seen: set[str] = set()

    def install(self) -> None:
        root = logging.getLogger()
        root.addHandler(self.records)
        if root.level > logging.DEBUG or root.level == logging.NOTSET:
            root.setLevel(logging.DEBUG)
        try:
            from opentelemetry import metrics, trace  # noqa: PLC0415 - only in the host
            from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: PLC0415
            from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: PLC0415
                InMemorySpanExporter,
            )
        except ImportError:  # the SDK is not installed: spans and metrics are not seen
            return
        self._spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self._spans))
        self._metrics = InMemoryMetricReader()
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[self._metrics]))

    def take(self) -> dict[str, Any]:
        """What was emitted since the last take (logs, spans, metrics); empty ones left out."""
        out: dict[str, Any] = {}
        logs = self.records.take()
        if logs:
            out["logs"] = logs
        spans = self._span_texts()
        if spans:
            out["spans"] = spans
        metric_texts = self._metric_texts()
        if metric_texts:
            out["metrics"] = metric_texts
        if self._spans is None:
            out["telemetry"] = "unavailable: opentelemetry-sdk is not installed in the host"
        for stream in (sys.stdout, sys.stderr):  # so the kit sees the call's output now
            with contextlib.suppress(Exception):
                stream.flush()
        return out

    def _span_texts(self) -> list[str]:
        if self._spans is None:
            return []
        out: list[str] = []
        try:
            finished = self._spans.get_finished_spans()
            self._spans.clear()
            for span in finished[:_MAX_ITEMS]:
                texts = [f"span {span.name}", *_attribute_texts(span.attributes)]
                for event in span.events:
                    texts += [f"event {event.name}", *_attribute_texts(event.attributes)]
                description = getattr(span.status, "description", None)
                if description:
                    texts.append(f"status {description}")
                out.append(_cut("; ".join(texts)))
        except Exception as exc:  # a plugin's attribute whose str() raises
            out.append(f"(spans could not be read: {type(exc).__name__})")
        return out

    def _metric_texts(self) -> list[str]:
        if self._metrics is None:
            return []
        out: list[str] = []
        try:
            data = self._metrics.get_metrics_data()
            for resource in getattr(data, "resource_metrics", None) or ():
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        for point in metric.data.data_points:
                            text = _cut(
                                f"metric {metric.name}: "
                                + ", ".join(_attribute_texts(point.attributes))
                            )
                            if text not in self._metric_seen and len(out) < _MAX_ITEMS:
                                self._metric_seen.add(text)
                                out.append(text)
        except Exception as exc:  # a plugin's attribute whose str() raises
            out.append(f"(metrics could not be read: {type(exc).__name__})")
        return out


_CAPTURE: list[Capture] = []


def install() -> Capture:
    """The host's one capture, installed on first use."""
    if not _CAPTURE:
        capture = Capture()
        capture.install()
        _CAPTURE.append(capture)
    return _CAPTURE[0]


class _Tee(io.TextIOBase):
    """Writes through to the real stream and keeps a copy."""

    def __init__(self, real: TextIO, kept: list[str]) -> None:
        self._real = real
        self._kept = kept

    def write(self, text: str) -> int:
        if len(self._kept) < _MAX_ITEMS:
            self._kept.append(_cut(str(text)))
        return self._real.write(text)

    def flush(self) -> None:
        self._real.flush()


@contextlib.contextmanager
def capture_in_process() -> Iterator[dict[str, Any]]:
    """In the kit's own process: log records and Python-level stdout/stderr of the block.

    Spans and metrics are not seen here (the kit does not take over the process's
    global OpenTelemetry providers), and neither is output written below Python (a C
    library writing to fd 1); the result says so under ``unsupported``.
    """
    records = _Records()
    out: dict[str, Any] = {
        "unsupported": ["span attributes", "metric attributes", "output written below Python"]
    }
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    if root.level > logging.DEBUG or root.level == logging.NOTSET:
        root.setLevel(logging.DEBUG)
    stdout: list[str] = []
    stderr: list[str] = []
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = _Tee(real_out, stdout)
    sys.stderr = _Tee(real_err, stderr)
    try:
        yield out
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        root.removeHandler(records)
        root.setLevel(level)
        out["logs"] = records.take()
        out["output"] = "".join(stdout) + "".join(stderr)

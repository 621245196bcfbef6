"""What scanning every call for canary secrets costs.

Three figures, in one process: the capture's own per-request work (``Capture.take()``
after a quiet call and after a call that logs a record and records a span) against a
host round trip measured here (the same-process baseline); the time the host spends
installing the OpenTelemetry SDK at start-up; and the secrets.* checks' share of a
DuckDB core run in the plugin host.

    python bench/bench_secret_capture.py [--n 2000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from _goals import baseline, figure, verdict

from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.host import PluginHost
from floe_compute_kit.conformance.host._capture import Capture
from floe_compute_kit.conformance.runner import run_suite

#: The capture may cost at most this share of one host round trip.
GOAL_SHARE = 0.10


def _take_us(capture: Capture, n: int, *, noisy: bool) -> float:
    from opentelemetry import trace

    log = logging.getLogger("bench.capture")
    tracer = trace.get_tracer("bench.capture")
    start = time.perf_counter()
    for i in range(n):
        if noisy:
            log.debug("call %d", i)
            with tracer.start_as_current_span("bench") as span:
                span.set_attribute("i", i)
        capture.take()
    per = (time.perf_counter() - start) / n * 1e6
    if not noisy:
        return per
    # the noisy loop also pays for emitting; subtract what emitting alone costs
    start = time.perf_counter()
    for i in range(n):
        log.debug("call %d", i)
        with tracer.start_as_current_span("bench") as span:
            span.set_attribute("i", i)
    return per - (time.perf_counter() - start) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    start = time.perf_counter()
    capture = Capture()
    capture.install()
    install_ms = (time.perf_counter() - start) * 1000.0
    quiet = statistics.median(_take_us(capture, args.n, noisy=False) for _ in range(3))
    noisy = statistics.median(_take_us(capture, args.n, noisy=True) for _ in range(3))

    with tempfile.TemporaryDirectory() as tmp:
        host = PluginHost("duckdb", Path(tmp))
        host.start()
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            host.request({"op": "get", "name": "name"}, "name")
        trip_us = (time.perf_counter() - start) / n * 1e6
        host.close()

    suite = run_suite("duckdb", level=Level.CORE, max_examples=10)
    total = sum(r.duration_s for r in suite.results)
    secrets = sum(r.duration_s for r in suite.results if r.check_id.startswith("secrets."))

    baseline("one host round trip (metadata read, mean of 200)", trip_us, "us", "per call")
    figure("Capture.take() after a quiet call", quiet, "us", trip_us * GOAL_SHARE)
    figure(
        "Capture.take() after 1 log record + 1 span", max(noisy, 0.0), "us", trip_us * GOAL_SHARE
    )
    baseline(
        "installing the OTel SDK + log handler (host start)", install_ms, "ms", "once per host"
    )
    baseline("secrets.* checks in a DuckDB core run", secrets * 1000.0, "ms", f"of {total:.2f} s")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

"""What running the plugin in its own host process costs.

Core-level certification of the DuckDB plugin, in the plugin host and in-process,
alternating in one process after a warm-up of each (imports paid once), median of
the rounds. Goal: the host within 1.5x of in-process. Also the cost of one round
trip (a metadata read) and of starting a host and loading the plugin.

    python bench/bench_plugin_host.py [--rounds 3] [--plugin duckdb]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _goals import baseline, figure, verdict

from floe_compute_kit.conformance.host import PluginHost
from floe_compute_kit.conformance.runner import run_suite

GOAL_RATIO = 1.5


def _suite_s(plugin: str, isolation: str) -> float:
    start = time.perf_counter()
    suite = run_suite(plugin, isolation=isolation)
    elapsed = time.perf_counter() - start
    if not suite.passed:
        raise SystemExit(f"{plugin} did not pass in {isolation} mode: {suite.outcomes()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default="duckdb")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _suite_s(args.plugin, "in-process")
    _suite_s(args.plugin, "host")
    host_s: list[float] = []
    local_s: list[float] = []
    for _ in range(args.rounds):
        local_s.append(_suite_s(args.plugin, "in-process"))
        host_s.append(_suite_s(args.plugin, "host"))
    local, hosted = statistics.median(local_s), statistics.median(host_s)
    baseline("core suite in-process (median)", local, "s", "the in-process run below")
    figure("core suite in the plugin host (median)", hosted, "s", local * GOAL_RATIO)
    figure("host / in-process", hosted / local, "x", GOAL_RATIO)

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        host = PluginHost(args.plugin, Path(tmp))
        host.start()
        started = time.perf_counter() - start
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            host.request({"op": "get", "name": "name"}, "name")
        trip_ms = (time.perf_counter() - start) / n * 1000.0
        host.close()
    baseline("host start + plugin load", started * 1000, "ms", "paid once per run")
    baseline(f"one round trip (metadata read, mean of {n})", trip_ms, "ms", "per call")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

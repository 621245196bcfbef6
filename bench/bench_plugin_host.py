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
    ratio = hosted / local
    verdict = "within goal" if ratio <= GOAL_RATIO else "OVER GOAL"
    print(f"core suite in-process  {local:6.2f} s (median of {args.rounds})")
    print(
        f"core suite in host     {hosted:6.2f} s  ratio {ratio:.2f} "
        f"(goal <= {GOAL_RATIO}) {verdict}"
    )

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
    print(f"host start + plugin load {started * 1000:7.1f} ms")
    print(f"one round trip           {trip_ms:7.3f} ms (a metadata read, mean of {n})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

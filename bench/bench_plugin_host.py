"""What running the plugin in its own host process costs, cold and warm.

Cold, the figures judged: core-level certification of the DuckDB plugin in a fresh
interpreter per run (imports, host start and the plugin's first calls paid each time),
in the plugin host and in-process, alternating, median of the rounds. That is what a
user's ``floe-conformance report`` (or one ``pytest --floe-plugin`` session) pays.
Goals: the host within 1.5x of in-process (issue 10) and core within 2 s (issue 14).

Warm, printed as baselines: the same runs repeated inside one process after a warm-up
of each. The in-process runs then reuse what earlier runs in the process paid: the
plugin's one-time costs (DuckDB's extensions, loaded once per process, ~0.3 s each) and
the drawn configs, memoised per config model. The host cannot, by design: every run
gets a fresh plugin process and a fresh mirror of its model. So the warm ratio shows
the start costs only the host pays, not an overhead any user run sees.
Also the cost of one round trip (a metadata read) and of starting a host.

    python bench/bench_plugin_host.py [--rounds 3] [--plugin duckdb] [--no-cold]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _goals import baseline, figure, verdict

from floe_compute_kit.conformance.host import PluginHost
from floe_compute_kit.conformance.runner import run_suite

GOAL_RATIO = 1.5
GOAL_CORE_S = 2.0
_COLD = (
    "import sys\n"
    "from floe_compute_kit.conformance.runner import run_suite\n"
    "suite = run_suite(sys.argv[1], isolation=sys.argv[2])\n"
    "sys.exit(0 if suite.passed else 1)\n"
)


def _suite_s(plugin: str, isolation: str) -> float:
    start = time.perf_counter()
    suite = run_suite(plugin, isolation=isolation)
    elapsed = time.perf_counter() - start
    if not suite.passed:
        raise SystemExit(f"{plugin} did not pass in {isolation} mode: {suite.outcomes()}")
    return elapsed


def _cold_s(plugin: str, isolation: str) -> float:
    """One run in a fresh interpreter, start to exit."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COLD, plugin, isolation],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{plugin} did not pass cold in {isolation} mode: {done.stderr[-2000:]}")
    return elapsed


def _medians(measure: Callable[[str, str], float], plugin: str, rounds: int) -> tuple[float, float]:
    """(in-process, host) medians of ``rounds`` alternating runs."""
    runs: dict[str, list[float]] = {"in-process": [], "host": []}
    for _ in range(rounds):
        for isolation, times in runs.items():
            times.append(measure(plugin, isolation))
    return statistics.median(runs["in-process"]), statistics.median(runs["host"])


def _warm(plugin: str, rounds: int) -> None:
    _suite_s(plugin, "in-process")
    _suite_s(plugin, "host")
    local, hosted = _medians(_suite_s, plugin, rounds)
    baseline("warm: core suite in-process (median)", local, "s", "reuses earlier runs' work")
    baseline("warm: core suite in the plugin host (median)", hosted, "s", "a fresh host each run")
    baseline("warm: host / in-process", hosted / local, "x", "start costs only the host pays")


def _cold(plugin: str, rounds: int) -> None:
    local, hosted = _medians(_cold_s, plugin, rounds)
    baseline("cold: core in-process, fresh process (median)", local, "s", "the host run below")
    figure("cold: core in the plugin host, fresh process (median)", hosted, "s", GOAL_CORE_S)
    figure("cold: host / in-process", hosted / local, "x", GOAL_RATIO)


def _round_trip(plugin: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        host = PluginHost(plugin, Path(tmp))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default="duckdb")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-cold", action="store_true", help="skip the fresh-process runs")
    args = parser.parse_args()
    _warm(args.plugin, args.rounds)
    if not args.no_cold:
        _cold(args.plugin, args.rounds)
    _round_trip(args.plugin)
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

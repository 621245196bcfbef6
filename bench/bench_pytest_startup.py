"""pytest start-up with the floe_conformance plugin vs without it (-p no:floe_conformance).

Goal: without --floe-plugin the plugin adds at most 30 ms. Runs `pytest` in an
empty directory (nothing to collect) repeatedly, alternating the two variants so
that machine load hits both alike, and prints the medians and their difference.

    python bench/bench_pytest_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_MS = 30.0


def _once(cwd: Path, extra: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    return (time.perf_counter() - start) * 1000.0


def _import_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return (time.perf_counter() - start) * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with_plugin: list[float] = []
    without: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        _once(cwd, [])  # warm the file cache
        for _ in range(args.runs):
            with_plugin.append(_once(cwd, []))
            without.append(_once(cwd, ["-p", "no:floe_conformance"]))
    imports = {
        "pytest": [_import_ms("import pytest") for _ in range(args.runs)],
        "pytest + plugin module": [
            _import_ms("import pytest, floe_compute_kit.conformance.pytest_plugin")
            for _ in range(args.runs)
        ],
    }
    med_with = statistics.median(with_plugin)
    med_without = statistics.median(without)
    added = med_with - med_without
    print(f"runs per variant:             {args.runs}")
    print(f"pytest, plugin disabled:      {med_without:8.1f} ms (median)")
    print(f"pytest, plugin enabled:       {med_with:8.1f} ms (median)")
    print(f"added by floe_conformance:    {added:8.1f} ms  (goal <= {GOAL_MS:.0f} ms)")
    print(f"ratio enabled/disabled:       {med_with / med_without:8.3f}")
    print(f"min enabled - min disabled:   {min(with_plugin) - min(without):8.1f} ms")
    base, plugin = (min(v) for v in imports.values())
    print(f"import pytest:                {base:8.1f} ms (min)")
    print(f"import pytest + plugin:       {plugin:8.1f} ms (min; +{plugin - base:.1f} ms)")
    print("verdict:", "within goal" if added <= GOAL_MS else "OVER GOAL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

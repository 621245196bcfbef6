"""pytest start-up with the floe_conformance plugin vs without it (-p no:floe_conformance).

Goal: without --floe-plugin the plugin adds at most 30 ms. Runs `pytest` on a
directory holding one trivial test (so collection, where fixtures get registered,
happens as in every user's run) repeatedly, alternating the two variants so that
machine load hits both alike. Whole-process times here swing by hundreds of ms, so
the verdict uses the two robust estimates: the difference of the fastest runs, and
the median of the paired (back-to-back) differences.

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
        (cwd / "test_one.py").write_text("def test_one():\n    assert True\n")
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
    paired = statistics.median(w - o for w, o in zip(with_plugin, without, strict=True))
    fastest = min(with_plugin) - min(without)
    print(f"runs per variant:             {args.runs}")
    print(f"pytest, plugin disabled:      {med_without:8.1f} ms (median)")
    print(f"pytest, plugin enabled:       {med_with:8.1f} ms (median)")
    print(f"ratio of medians:             {med_with / med_without:8.3f}")
    print(f"added, fastest runs:          {fastest:8.1f} ms  (goal <= {GOAL_MS:.0f} ms)")
    print(f"added, median paired diff:    {paired:8.1f} ms  (goal <= {GOAL_MS:.0f} ms)")
    base, plugin = (min(v) for v in imports.values())
    print(f"import pytest:                {base:8.1f} ms (min)")
    print(f"import pytest + plugin:       {plugin:8.1f} ms (min; +{plugin - base:.1f} ms)")
    print("verdict:", "within goal" if max(fastest, paired) <= GOAL_MS else "OVER GOAL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

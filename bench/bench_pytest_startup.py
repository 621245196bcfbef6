"""pytest start-up with the floe_conformance plugin vs without it (-p no:floe_conformance).

Goal (issue 14): without --floe-plugin the plugin adds under 10 ms. Runs `pytest` on a
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

from _goals import baseline, figure, verdict

GOAL_MS = 10.0


def _once(cwd: Path, extra: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    return (time.perf_counter() - start) * 1000.0


#: What the plugin imports in a run without --floe-plugin: its module, then (in
#: pytest_configure) the Iceberg fixture module.
PLUGIN_MODULES = (
    "floe_compute_kit.conformance.pytest_plugin",
    "floe_compute_kit.conformance._iceberg_fixtures",
)


def _import_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return (time.perf_counter() - start) * 1000.0


def _plugin_import_ms() -> float:
    """The interpreter's own ``-X importtime`` figure for the plugin's modules after pytest:
    immune to the start-up noise of whole processes on a loaded machine."""
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import pytest; " + "; ".join(f"import {m}" for m in PLUGIN_MODULES),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    total_us = 0
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] in PLUGIN_MODULES:  # top level: cumulative time
            total_us += int(parts[1])
    return total_us / 1000.0


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
    print(f"runs per variant: {args.runs}")
    baseline("pytest, plugin disabled (median)", med_without, "ms", "the run without the plugin")
    baseline("pytest, plugin enabled (median)", med_with, "ms", "for the ratio below")
    baseline("ratio of medians", med_with / med_without, "x", "enabled / disabled")
    figure("added by the plugin, fastest runs", fastest, "ms", GOAL_MS)
    figure("added by the plugin, median paired diff", paired, "ms", GOAL_MS)
    base, plugin = (min(v) for v in imports.values())
    baseline("process importing pytest (min)", base, "ms", "the process below")
    baseline("... and the plugin module (min)", plugin, "ms", "whole-process noise included")
    importtime = min(_plugin_import_ms() for _ in range(args.runs))
    figure("plugin modules' import time (-X importtime)", importtime, "ms", GOAL_MS)
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

"""One way for every bench to print a figure beside its goal (or say it is a baseline).

Benches run as ``python bench/<name>.py`` from an installed package: this folder is on
``sys.path`` then, and nothing here imports from ``tests/``.
"""

from __future__ import annotations

import time
from typing import Final

__all__ = ["baseline", "figure", "machine_speed", "verdict"]

_LABEL: Final = 56
_verdicts: list[bool] = []


def figure(label: str, value: float, unit: str, goal: float, *, at_least: bool = False) -> bool:
    """Print ``label: value unit (goal <= goal unit) within goal|OVER GOAL``; True if met."""
    met = value >= goal if at_least else value <= goal
    _verdicts.append(met)
    sign = ">=" if at_least else "<="
    print(
        f"{label:<{_LABEL}} {value:10.3f} {unit:<3} (goal {sign} {goal:g} {unit})  "
        + ("within goal" if met else "OVER GOAL")
    )
    return met


def baseline(label: str, value: float, unit: str, why: str) -> None:
    """Print a figure that has no goal of its own: what it is the baseline of."""
    print(f"{label:<{_LABEL}} {value:10.3f} {unit:<3} (baseline: {why})")


def machine_speed() -> None:
    """Print how long this machine takes for a fixed pure-Python loop (best of 3), so that
    figures from two sessions can be compared: the 2-core machines vary by 2x and more."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    baseline("machine: 5M additions in a Python loop", best, "s", "this machine's speed")


def verdict() -> int:
    """Print the overall verdict; the exit code is 0 either way (a bench is not a test)."""
    met = sum(_verdicts)
    print(f"goals met: {met} of {len(_verdicts)}" + ("" if met == len(_verdicts) else "  <--"))
    return 0

"""``floe-compute health --watch INTERVAL``: poll every approved compute, report each change.

An operator needs to learn that a compute degraded while nobody ran a check (KIT-019:
within 30 s). The watcher repeats the same engine-agnostic check as ``floe-compute
health`` (each plugin's validate_connection, within its 5 s budget) every INTERVAL
seconds, and prints one line per compute whose status changed, the first poll included.
Each poll and each change is also counted on the ``floe.compute`` meter
(``floe.compute.health.checks``, ``floe.compute.health.transitions``).

INTERVAL is at most 25 s, so a change is seen within INTERVAL + the 5 s check budget <= 30 s.
The watch runs until interrupted, or for ``--count N`` polls; ``--fail-on degraded`` or
``--fail-on unhealthy`` ends it with exit 1 at the first poll that finds a compute in that
state (or worse).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

__all__ = [
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "Transition",
    "add_watch_arguments",
    "run_watch",
    "watch",
]

#: the longest poll interval: with the 5 s check budget a change shows within 30 s (KIT-019).
MAX_INTERVAL: Final = 25.0
MIN_INTERVAL: Final = 0.1
_SEVERITY: Final = {"healthy": 0, "degraded": 1, "unhealthy": 2}


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not MIN_INTERVAL <= value <= MAX_INTERVAL:  # NaN fails this too
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds from {MIN_INTERVAL:g} to {MAX_INTERVAL:g} "
            "(a degradation must show within 30 s: the interval plus the 5 s check budget)"
        )
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of polls >= 1")
    return int(text)


def add_watch_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--watch``, ``--count`` and ``--fail-on`` options of ``floe-compute health``."""
    parser.add_argument(
        "--watch",
        type=_interval,
        default=None,
        metavar="SECONDS",
        help=f"poll every SECONDS ({MIN_INTERVAL:g}..{MAX_INTERVAL:g}) and print each change",
    )
    parser.add_argument(
        "--count", type=_count, default=None, metavar="N", help="with --watch: stop after N polls"
    )
    parser.add_argument(
        "--fail-on",
        choices=("degraded", "unhealthy"),
        default=None,
        help="with --watch: exit 1 as soon as a compute is in this state or worse",
    )


@dataclass(frozen=True)
class Transition:
    """One compute's status change between two polls (``previous`` None: the first poll)."""

    at: str
    compute: str
    previous: str | None
    status: str
    latency_ms: float
    message: str

    def line(self) -> str:
        change = f"{self.previous} -> {self.status}" if self.previous else f"{self.status} (first)"
        return f"{self.at} {self.compute}: {change} in {self.latency_ms:.1f} ms: {self.message}"


def watch(
    path: str | Path,
    env: str | None,
    interval: float,
    count: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[list[Transition], dict[str, str]]]:
    """Poll every ``interval`` s; yield each poll's transitions and every compute's status.

    Raises what ``health_report`` raises for bad input (ManifestError, an unknown env).
    """
    from floe_compute_kit.cli.compute import health_report  # noqa: PLC0415 - compute imports us
    from floe_compute_kit.observability import record_health  # noqa: PLC0415 - lazy: heavy

    statuses: dict[str, str] = {}
    started = time.monotonic()
    polls = 0
    while count is None or polls < count:
        if polls:
            sleep(max(0.0, started + polls * interval - time.monotonic()))
        rows = health_report(path, env)
        polls += 1
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        changes = []
        for row in rows:
            name, status = row["compute"], row["status"]
            previous = statuses.get(name)
            record_health(name, status, previous)
            if previous != status:
                changes.append(
                    Transition(at, name, previous, status, row["latency_ms"], row["message"])
                )
            statuses[name] = status
        yield changes, dict(statuses)


def run_watch(args: argparse.Namespace) -> int:
    """The ``--watch`` mode of ``floe-compute health``: lines on stdout, exit 0/1/2."""
    from floe_compute_kit.errors import ComputeConfigurationError, log_error  # noqa: PLC0415 - lazy

    if args.watch is None:
        print("health: --count and --fail-on need --watch SECONDS", file=sys.stderr, flush=True)
        return 2
    threshold = _SEVERITY[args.fail_on] if args.fail_on else None
    try:
        for changes, statuses in watch(args.path, args.env, args.watch, args.count):
            for change in changes:
                text = json.dumps(asdict(change)) if args.format == "json" else change.line()
                print(text, flush=True)
            if threshold is not None:
                failing = sorted(c for c, s in statuses.items() if _SEVERITY.get(s, 2) >= threshold)
                if failing:
                    print(
                        f"health --watch: {', '.join(failing)} {args.fail_on} or worse "
                        f"(--fail-on {args.fail_on}); exiting 1",
                        file=sys.stderr,
                        flush=True,
                    )
                    return 1
    except KeyboardInterrupt:
        return 0
    except ComputeConfigurationError as exc:  # ManifestError included
        log_error(exc, handled=True)
        print(f"health --watch: {exc.message}", file=sys.stderr, flush=True)
        return 2
    return 0

"""The settings of one suite run, with their defaults in one place.

The report CLI's options, the pytest options, the fixtures and ``run_suite`` all
take their defaults from :data:`DEFAULTS`. Stdlib only: the pytest11 module imports
this in every pytest run.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "BUDGET_LIMIT_S",
    "DEFAULTS",
    "LEVELS",
    "MAX_EXAMPLES_LIMIT",
    "SEED_LIMIT",
    "RunSettings",
    "bounded",
    "iceberg_uri",
    "out_of_bounds",
    "seed",
]

#: Certification levels, each including the ones before it.
LEVELS: Final = ("core", "extended", "integration")


@dataclass(frozen=True)
class RunSettings:
    """How a suite runs: what it generates, how long a health check may take."""

    level: str = "core"
    seed: int = 0
    max_examples: int = 50
    #: seconds one validate_connection call may take
    budget_s: float = 5.0
    #: "host" (the plugin in a child process), "in-process", or "auto" (host when named)
    isolation: str = "auto"
    #: a YAML/JSON file of the plugin's config for the live target (``--floe-target``);
    #: None: the plugin's live-target hook, else a target the kit starts itself
    target: Path | None = None


DEFAULTS: Final = RunSettings()

#: The most generated configs per property check an option takes: a run of 10,000 takes
#: hours already, and a larger number is a typo that would never end.
MAX_EXAMPLES_LIMIT: Final = 10_000
#: The longest budget one validate_connection call may be given (an hour): each check
#: may run twelve budgets, and an infinite one cannot be waited for.
BUDGET_LIMIT_S: Final = 3600.0
#: Seeds lie strictly between -SEED_LIMIT and SEED_LIMIT: 20 digits, which a certificate
#: records and ``verify`` reads back (it refuses longer integer literals).
SEED_LIMIT: Final = 10**20


def out_of_bounds(
    max_examples: object, budget_s: object, seed: object
) -> tuple[str, object, str] | None:
    """The first of a run's numbers (``run_suite``'s parameters) that is out of bounds, as
    (name, value, what is allowed), or None."""
    if (
        not isinstance(max_examples, int)
        or isinstance(max_examples, bool)
        or not 0 < max_examples <= MAX_EXAMPLES_LIMIT
    ):
        return (
            "max_examples",
            max_examples,
            f"a whole number greater than 0 and at most {MAX_EXAMPLES_LIMIT}",
        )
    if (
        not isinstance(budget_s, int | float)
        or isinstance(budget_s, bool)
        or not math.isfinite(budget_s)
        or not 0 < budget_s <= BUDGET_LIMIT_S
    ):
        return ("budget_s", budget_s, f"a number greater than 0 and at most {BUDGET_LIMIT_S:g}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not -SEED_LIMIT < seed < SEED_LIMIT:
        return ("seed", seed, "a whole number of at most 20 digits")
    return None


def bounded(kind: type[int] | type[float], option: str, most: float) -> Callable[[str], float]:
    """An argparse ``type=`` for ``option``: a finite number above 0 and at most ``most``."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            value = None
        if value is None or not math.isfinite(value) or not 0 < value <= most:
            raise argparse.ArgumentTypeError(
                f"{option}: {text!r} is not allowed; allowed: a {noun} greater than 0 and "
                f"at most {most:g}"
            )
        return value

    return parse


def seed(option: str) -> Callable[[str], int]:
    """An argparse ``type=`` for a seed: a whole number of at most 20 digits."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = SEED_LIMIT
        if not -SEED_LIMIT < value < SEED_LIMIT:
            raise argparse.ArgumentTypeError(
                f"{option}: {text!r} is not allowed; allowed: a whole number of at most 20 digits"
            )
        return value

    return parse


def iceberg_uri(option: str) -> Callable[[str], str]:
    """An argparse ``type=`` for a running Iceberg REST catalog's URI, checked before the
    run (the catalog itself is first asked at the integration level)."""

    def parse(text: str) -> str:
        from urllib.parse import urlsplit  # noqa: PLC0415 - the pytest11 module imports this one

        try:
            parts = urlsplit(text)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname)
            usable = usable and (parts.port is None or parts.port > 0)  # ValueError: not a number
        except ValueError:
            usable = False
        if not usable:
            raise argparse.ArgumentTypeError(
                f"{option}: {text!r} is not an Iceberg REST catalog URI; allowed: an "
                "http:// or https:// URL with a host, such as http://127.0.0.1:8181"
            )
        return text

    return parse

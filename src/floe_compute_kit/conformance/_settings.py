"""The settings of one suite run, with their defaults in one place.

The report CLI's options, the pytest options, the fixtures and ``run_suite`` all
take their defaults from :data:`DEFAULTS`. Stdlib only: the pytest11 module imports
this in every pytest run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["DEFAULTS", "LEVELS", "RunSettings"]

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

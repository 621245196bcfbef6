"""The vocabulary shared by the checks, the suites, the pytest plugin and the report.

Plain dataclasses, so a certificate can be written from them without pytest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["CheckResult", "CheckSpec", "Level", "Outcome", "SuiteResult"]


class Level(StrEnum):
    """Certification levels, each including the ones before it."""

    CORE = "core"
    EXTENDED = "extended"
    INTEGRATION = "integration"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    def includes(self, other: Level) -> bool:
        return other.rank <= self.rank


class Outcome(StrEnum):
    """How one check ended. "unsupported" is not "failed": the plugin did not claim it."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the kit itself could not run the check (never the plugin's fault)
    UNSUPPORTED = "unsupported"
    WAIVED = "waived"


@dataclass(frozen=True)
class CheckSpec:
    """One contract clause as a runnable check."""

    id: str  # e.g. "profile.threads"
    method: str  # the ComputePlugin member it exercises, e.g. "generate_dbt_profile"
    requirements: tuple[str, ...]  # e.g. ("KIT-001",)
    wording: str  # RFC-2119 sentence, e.g. "The profile MUST ..."
    level: Level = Level.CORE
    capability: str | None = None  # a Capability value the plugin must claim, or None
    #: why the check may be not applicable without a capability (e.g. "no host:port
    #: target"), or None when only an unclaimed capability makes it so
    not_applicable_when: str | None = None
    #: a check that mostly waits on other processes (dbt, a catalog server) names a lane:
    #: a suite run in the plugin host runs each lane in a thread of its own beside the
    #: other checks, the lane's checks one after another in catalogue order
    lane: str | None = None
    #: id prefixes of the checks that must have finished before this one starts when lanes
    #: run side by side ("" waits for every other check)
    after: tuple[str, ...] = ()
    #: seconds this check may take when that is more than the run's check timeout: a dbt
    #: run on Spark starts a JVM, and on a slow 2-core machine beside other work its
    #: first build takes well over a minute
    timeout_s: float | None = None
    #: a lane's check that may run beside the others: when this says so for the run's
    #: context (the timeout check has a target of its own), it starts with the run in a
    #: thread of its own, waiting for neither its ``after`` checks nor its lane's turn,
    #: keeps its files under ``beside_dir(ctx)`` (which the read-only watch leaves out)
    #: and holds the run's quiet only around its plugin calls (``quiet_hold``); otherwise
    #: it runs as any check of its lane
    beside_when: Callable[[Any], bool] | None = None


@dataclass
class CheckResult:
    """What happened when one check ran against one plugin."""

    check_id: str
    outcome: Outcome
    duration_s: float = 0.0
    message: str = ""
    traceback: str | None = None  # the plugin's traceback, when it raised
    example: dict[str, Any] | None = None  # the (shrunk) failing config, secrets masked
    seed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SuiteResult:
    """All results of one run of the suite against one plugin."""

    plugin_spec: str
    plugin_name: str | None
    plugin_version: str | None
    floe_api_version: str | None
    level: Level
    seed: int | None
    results: list[CheckResult] = field(default_factory=list)
    load_error: str | None = None  # why the plugin could not be loaded, when it could not
    duration_s: float = 0.0
    #: "host" (the plugin ran in a child process) or "in-process"
    isolation: str = "in-process"
    #: the plugin's class as "module:qualname", and the capabilities it claims
    plugin_class: str | None = None
    capabilities: list[str] = field(default_factory=list)
    #: where the plugin comes from (distribution) and what it ran with (environment)
    provenance: dict[str, Any] = field(default_factory=dict)
    #: every secret value the suite handed the plugin (never stored; certificates are
    #: scrubbed of them)
    secrets: set[str] = field(default_factory=set, repr=False)

    @property
    def passed(self) -> bool:
        """True when no check failed or errored (unsupported and waived do not count)."""
        return all(r.outcome not in (Outcome.FAILED, Outcome.ERROR) for r in self.results)

    def outcomes(self) -> dict[str, int]:
        """How many checks ended in each outcome."""
        counts = {o.value: 0 for o in Outcome}
        for r in self.results:
            counts[r.outcome.value] += 1
        return counts

    def by_id(self) -> dict[str, CheckResult]:
        return {r.check_id: r for r in self.results}

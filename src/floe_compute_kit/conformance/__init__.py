"""The conformance kit: checks catalogue, suites, strategies, sandbox and pytest plugin.

Names are imported on first use (PEP 562): the pytest11 plugin imports this package
in every pytest run, so importing it must cost nothing.

>>> from floe_compute_kit.conformance import run_suite  # doctest: +SKIP
>>> run_suite("duckdb").passed  # doctest: +SKIP
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from floe_compute_kit._lazy import lazy_getattr as _lazy_getattr

if TYPE_CHECKING:
    from floe_compute_kit.conformance._check import (
        CheckContext,
        CheckFailed,
        CheckUnsupported,
        check,
    )
    from floe_compute_kit.conformance._live import LiveTargetHook, SlowQueryHook, live_config
    from floe_compute_kit.conformance._results import (
        CheckResult,
        CheckSpec,
        Level,
        Outcome,
        SuiteResult,
    )
    from floe_compute_kit.conformance.runner import run_check, run_suite, select_checks

#: public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "CheckContext": "floe_compute_kit.conformance._check",
    "CheckFailed": "floe_compute_kit.conformance._check",
    "CheckUnsupported": "floe_compute_kit.conformance._check",
    "check": "floe_compute_kit.conformance._check",
    "LiveTargetHook": "floe_compute_kit.conformance._live",
    "SlowQueryHook": "floe_compute_kit.conformance._live",
    "live_config": "floe_compute_kit.conformance._live",
    "CheckResult": "floe_compute_kit.conformance._results",
    "CheckSpec": "floe_compute_kit.conformance._results",
    "Level": "floe_compute_kit.conformance._results",
    "Outcome": "floe_compute_kit.conformance._results",
    "SuiteResult": "floe_compute_kit.conformance._results",
    "run_check": "floe_compute_kit.conformance.runner",
    "run_suite": "floe_compute_kit.conformance.runner",
    "select_checks": "floe_compute_kit.conformance.runner",
}


__getattr__ = _lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "CheckContext",
    "CheckFailed",
    "CheckResult",
    "CheckSpec",
    "CheckUnsupported",
    "Level",
    "LiveTargetHook",
    "Outcome",
    "SlowQueryHook",
    "SuiteResult",
    "check",
    "live_config",
    "run_check",
    "run_suite",
    "select_checks",
]

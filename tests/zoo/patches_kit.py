"""A plugin that ignores the timeout and, at import, patches the kit to pass every check.

Never import this module in the test process: importing it patches the kit. The
plugin host imports it in its own process, where the patch changes nothing the kit
judges with.
"""

from __future__ import annotations

from typing import Any

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import ComputeConfig
from floe_compute_kit.conformance import runner
from floe_compute_kit.conformance._results import CheckResult, Outcome


def _always_pass(registered: Any, ctx: Any) -> CheckResult:
    return CheckResult(registered.spec.id, Outcome.PASSED)


runner.run_check = _always_pass  # the cheat


class PatchesTheKit(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return super().generate_dbt_profile(config.model_copy(update={"timeout_seconds": 3600}))

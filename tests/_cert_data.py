"""Hand-built catalogues and results for certificate tests: real kit objects, no plugin run."""

from __future__ import annotations

from typing import Any

from floe_compute_kit.conformance._check import CheckContext, RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, CheckSpec, Level, Outcome


def _noop(ctx: CheckContext) -> None:
    del ctx


def catalogue() -> list[RegisteredCheck]:
    specs = [
        CheckSpec("meta.name", "name", ("FR-004",), "The name MUST be lowercase.", Level.CORE),
        CheckSpec("profile.threads", "generate_dbt_profile", ("KIT-001",), "threads MUST match."),
        CheckSpec(
            "catalog.sql",
            "get_catalog_attachment_sql",
            ("FR-007",),
            "Each string MUST be one statement.",
            Level.CORE,
            "catalog_attachment",
        ),
        CheckSpec(
            "connection.read_only",
            "validate_connection",
            ("FR-018",),
            "It MUST NOT modify the target.",
            Level.EXTENDED,
        ),
        CheckSpec(
            "integration.dbt_build",
            "generate_dbt_profile",
            ("KIT-009",),
            "dbt build MUST succeed.",
            Level.INTEGRATION,
            "dbt_build",
        ),
    ]
    return [RegisteredCheck(s, _noop) for s in specs]


def results(**outcomes: Outcome) -> list[CheckResult]:
    """One result per catalogue check; ``profile_threads=Outcome.FAILED`` overrides one."""
    out = []
    for reg in catalogue():
        outcome = outcomes.get(reg.spec.id.replace(".", "_"), Outcome.PASSED)
        result = CheckResult(reg.spec.id, outcome, duration_s=0.01)
        if outcome is Outcome.FAILED:
            result.message = f"{reg.spec.id} broke: threads 1 != 4"
            result.example = {"plugin": "demo", "threads": 4, "credentials": {"pw": "**********"}}
            result.seed = 7
            result.traceback = 'Traceback (most recent call last):\n  File "demo.py"\nValueError'
        if outcome is Outcome.UNSUPPORTED:
            result.message = "the plugin does not claim it"
        out.append(result)
    return out


def build(**overrides: Any) -> dict[str, Any]:
    from floe_compute_kit.conformance._certificate import build_certificate

    kwargs: dict[str, Any] = {
        "kit_version": "0.1.0",
        "catalogue": catalogue(),
        "plugin": {
            "spec": "demo_plugin:Demo",
            "name": "demo",
            "version": "1.2.3",
            "floe_api_version": "1.0",
            "class": "demo_plugin:Demo",
            "capabilities": ["dbt_build"],
        },
        "distribution": None,
        "environment": {
            "python": "3.11.7",
            "implementation": "CPython",
            "platform": "Linux",
            "packages": {
                "floe-compute-kit": "0.1.0",
                "pytest": "9",
                "hypothesis": "6",
                "pydantic": "2",
                "dbt-core": "1.11.0",
            },
            "adapter": {"name": "dbt-demo", "version": None},
            "drivers": {"demo-driver": "1.0"},
        },
        "run": {"seed": 7, "max_examples": 10, "budget_s": 5.0, "duration_s": 1.5},
        "results": results(),
        "waivers": [],
        "waiver_problems": [],
        "requested": Level.INTEGRATION,
    }
    kwargs.update(overrides)
    return build_certificate(**kwargs)


def real_results(level: Level = Level.INTEGRATION, **outcomes: Outcome) -> list[CheckResult]:
    """One result per check of the kit's own catalogue up to ``level``; overrides by id."""
    from floe_compute_kit.conformance.checks import load_catalogue

    out = []
    for reg in load_catalogue():
        if not level.includes(reg.spec.level):
            continue
        # the demo plugin claims no floe_core_interface: its upstream.* checks do not apply
        unclaimed = reg.spec.capability == "floe_core_interface"
        default = Outcome.UNSUPPORTED if unclaimed else Outcome.PASSED
        outcome = outcomes.get(reg.spec.id, default)
        result = CheckResult(reg.spec.id, outcome, duration_s=0.01)
        if outcome is Outcome.FAILED:
            result.message = f"{reg.spec.id} broke"
            result.example = {"plugin": "demo", "threads": 4}
            result.seed = 7
        if outcome is Outcome.UNSUPPORTED:
            result.message = "needs capability floe_core_interface"
        out.append(result)
    return out


def build_real(level: Level = Level.INTEGRATION, **overrides: Any) -> dict[str, Any]:
    """A certificate judged by the kit's real catalogue (what `verify` checks against)."""
    from floe_compute_kit.conformance.checks import load_catalogue

    plugin = {
        "spec": "demo_plugin:Demo",
        "name": "demo",
        "version": "1.2.3",
        "floe_api_version": "1.0",
        "class": "demo_plugin:Demo",
        "capabilities": ["catalog_attachment", "dbt_build", "query_timeout"],
    }
    kwargs: dict[str, Any] = {
        "catalogue": load_catalogue(),
        "plugin": plugin,
        "results": real_results(level),
        "requested": level,
    }
    kwargs.update(overrides)
    return build(**kwargs)

"""The zoo proof: each broken plugin fails exactly the check meant to catch it.

And the reference plugins (the DuckDB plugin, and a structural plugin that does
not subclass ComputePlugin) pass every check at every level this kit owns.
"""

from __future__ import annotations

import pytest

from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.runner import run_suite
from zoo.plugins import CASES, ZooCase

#: The check modules of this kit's core and extended levels (integration checks run dbt).
OWN_AREAS = {
    "plugin",
    "metadata",
    "config",
    "profile",
    "packages",
    "connection",
    "resources",
    "catalog",
}


def _own_ids() -> list[str]:
    return [r.spec.id for r in load_catalogue() if r.spec.id.split(".")[0] in OWN_AREAS]


def _failed(case: ZooCase) -> dict[str, str]:
    hang = "Hangs" in case.target
    suite = run_suite(
        case.target,
        level=Level(case.level),
        max_examples=10,
        budget_s=1.0 if hang else 60.0,
        check_ids=_own_ids(),
    )
    return {
        r.check_id: r.message for r in suite.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)
    }


@pytest.mark.requirement("KIT-022")
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.check_id}-{c.target.split(':')[1]}")
def test_zoo_plugin_fails_exactly_its_check(case: ZooCase) -> None:
    failed = _failed(case)
    assert set(failed) == {case.check_id, *case.also}, failed
    assert failed[case.check_id].strip()


@pytest.mark.requirement("KIT-022")
def test_every_clause_has_a_zoo_plugin() -> None:
    caught = {case.check_id for case in CASES}
    assert set(_own_ids()) - caught == set()


@pytest.mark.requirement("FR-005", "SC-008")
@pytest.mark.requirement("KIT-022")
@pytest.mark.parametrize("level", [Level.CORE, Level.EXTENDED])
@pytest.mark.parametrize("target", ["duckdb", "zoo.plugins:StructuralGood"])
def test_reference_plugins_pass_every_check(target: str, level: Level) -> None:
    suite = run_suite(target, level=level, max_examples=20, check_ids=_own_ids())
    expected = {r.spec.id for r in load_catalogue() if level.includes(r.spec.level)} & set(
        _own_ids()
    )
    assert {r.check_id for r in suite.results} == expected
    assert {r.check_id: r.message for r in suite.results if r.outcome is not Outcome.PASSED} == {}
    assert suite.load_error is None

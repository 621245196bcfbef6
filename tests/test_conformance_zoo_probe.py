"""The live health checks catch each planted defect, and pass the reference plugins.

Postgres plugins reach a real loopback server through their
``conformance_integration_config`` hook (FLOE_POSTGRES_* from ``floe_postgres``).
"""

from __future__ import annotations

import pytest

from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.runner import run_suite
from floe_compute_kit.conformance.services import PostgresServer
from zoo.probe import CASES, ProbeCase

pytestmark = pytest.mark.requirement("KIT-214")


def _live_ids() -> list[str]:
    return [r.spec.id for r in load_catalogue() if r.spec.id.startswith("live.")]


def _outcomes(target: str) -> dict[str, tuple[Outcome, str]]:
    suite = run_suite(target, level=Level.EXTENDED, max_examples=5, check_ids=_live_ids())
    assert suite.load_error is None
    return {r.check_id: (r.outcome, r.message) for r in suite.results}


@pytest.fixture
def live_postgres(floe_postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in floe_postgres.env().items():
        monkeypatch.setenv(name, value)


@pytest.mark.requirement("KIT-210", "KIT-211", "KIT-212", "KIT-213")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.target.split(":")[1])
def test_planted_defect_fails_its_live_check(
    case: ProbeCase, request: pytest.FixtureRequest
) -> None:
    if case.postgres:
        request.getfixturevalue("live_postgres")
    outcomes = _outcomes(case.target)
    failed = {k: m for k, (o, m) in outcomes.items() if o in (Outcome.FAILED, Outcome.ERROR)}
    assert set(failed) == {case.check_id}, failed
    for word in case.words:
        assert word in failed[case.check_id], failed[case.check_id]


@pytest.mark.requirement("KIT-210", "KIT-213")
def test_reference_duckdb_passes_and_says_why_networked_checks_do_not_apply() -> None:
    outcomes = _outcomes("duckdb")
    assert {k for k, (o, _) in outcomes.items() if o is Outcome.PASSED} == {
        "live.read_only",
        "live.degraded_warning",
    }
    unsupported = {k: m for k, (o, m) in outcomes.items() if o is Outcome.UNSUPPORTED}
    assert set(unsupported) == {"live.authentication", "live.latency", "live.faults"}
    assert "no credential" in unsupported["live.authentication"]
    assert "host:port" in unsupported["live.latency"]
    assert "host:port" in unsupported["live.faults"]


@pytest.mark.requirement("KIT-210", "KIT-211", "KIT-212", "KIT-213")
@pytest.mark.usefixtures("live_postgres")
def test_reference_postgres_passes_every_live_check() -> None:
    outcomes = _outcomes("postgres")
    assert set(outcomes) == set(_live_ids())
    assert {k: m for k, (o, m) in outcomes.items() if o is not Outcome.PASSED} == {}


@pytest.mark.requirement("KIT-022")
def test_every_live_check_has_a_probe_zoo_plugin() -> None:
    assert set(_live_ids()) - {c.check_id for c in CASES} == set()


@pytest.mark.requirement("KIT-011", "KIT-214")
def test_a_certificate_may_record_a_live_check_not_applicable_but_not_others() -> None:
    from _cert_data import build_real, real_results
    from floe_compute_kit.conformance._certificate import catalogue_errors

    catalogue = load_catalogue()
    ok = build_real(results=real_results(**{"live.latency": Outcome.UNSUPPORTED}))
    assert [e for e in catalogue_errors(ok, catalogue) if "live.latency" in e] == []
    forged = build_real(results=real_results(**{"profile.threads": Outcome.UNSUPPORTED}))
    assert any(
        "profile.threads" in e and "needs no capability" in e
        for e in catalogue_errors(forged, catalogue)
    )

"""The certificate: schema-valid, sealed by its digest, and honest about the level achieved."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from _cert_data import build, catalogue, results
from floe_compute_kit.conformance._certificate import (
    SCHEMA_VERSION,
    catalogue_version,
    certificate_digest,
    level_achieved,
    load_schema,
    normalized,
    schema_errors,
)
from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckSpec, Level, Outcome
from floe_compute_kit.conformance._waivers import Waiver

FAILED, PASSED, UNSUPPORTED, WAIVED, ERROR = (
    Outcome.FAILED,
    Outcome.PASSED,
    Outcome.UNSUPPORTED,
    Outcome.WAIVED,
    Outcome.ERROR,
)
LEVELS = {r.spec.id: r.spec.level for r in catalogue()}


@pytest.mark.requirement("KIT-010")
def test_a_certificate_is_valid_against_the_shipped_schema() -> None:
    cert = build(results=results(profile_threads=FAILED))
    assert schema_errors(cert) == []
    assert cert["schema_version"] == SCHEMA_VERSION
    assert load_schema()["$id"].endswith(f"/{SCHEMA_VERSION}/certificate.schema.json")
    assert cert["kit"]["catalogue_size"] == 5
    assert cert["run"]["seed"] == 7
    failed = next(c for c in cert["checks"] if c["id"] == "profile.threads")
    assert failed["outcome"] == "failed"
    assert failed["example"]["credentials"] == {"pw": "**********"}
    assert failed["seed"] == 7
    assert failed["duration_s"] == 0.01


@pytest.mark.requirement("KIT-010")
def test_the_schema_rejects_what_is_not_a_certificate() -> None:
    cert = build()
    broken = copy.deepcopy(cert)
    broken["checks"][0]["outcome"] = "sort of"
    del broken["kit"]["catalogue_version"]
    errors = schema_errors(broken)
    assert any(e.startswith("checks/0/outcome") for e in errors)
    assert any("catalogue_version" in e for e in errors)


@pytest.mark.requirement("KIT-010")
def test_the_digest_covers_everything_but_itself() -> None:
    cert = build()
    assert cert["digest"] == certificate_digest(cert)
    tampered = copy.deepcopy(cert)
    tampered["level_achieved"] = "integration"
    tampered["checks"][1]["outcome"] = "passed"
    tampered["plugin"]["version"] = "9.9.9"
    assert certificate_digest(tampered) != cert["digest"]
    # Key order does not matter: the digest is over canonical JSON.
    reordered = dict(reversed(list(cert.items())))
    assert certificate_digest(reordered) == cert["digest"]


@pytest.mark.requirement("KIT-010")
def test_catalogue_version_changes_with_wording_level_or_ids() -> None:
    base = catalogue()
    version = catalogue_version(base)
    assert version == catalogue_version(list(reversed(base)))
    first = base[0].spec
    reworded = CheckSpec(first.id, first.method, first.requirements, "It SHOULD.", first.level)
    assert catalogue_version([RegisteredCheck(reworded, base[0].fn), *base[1:]]) != version
    relevelled = CheckSpec(
        first.id, first.method, first.requirements, first.wording, Level.EXTENDED
    )
    assert catalogue_version([RegisteredCheck(relevelled, base[0].fn), *base[1:]]) != version
    assert catalogue_version(base[1:]) != version


@pytest.mark.requirement("KIT-009")
@pytest.mark.parametrize(
    ("outcomes", "requested", "expected"),
    [
        ({}, Level.INTEGRATION, Level.INTEGRATION),
        ({}, Level.CORE, Level.CORE),
        ({"connection.read_only": FAILED}, Level.INTEGRATION, Level.CORE),
        ({"profile.threads": FAILED}, Level.INTEGRATION, None),
        ({"profile.threads": ERROR}, Level.CORE, None),
        (
            {"catalog.sql": UNSUPPORTED, "integration.dbt_build": UNSUPPORTED},
            Level.INTEGRATION,
            Level.INTEGRATION,
        ),
        ({"integration.dbt_build": FAILED}, Level.INTEGRATION, Level.EXTENDED),
        ({"integration.dbt_build": FAILED}, Level.EXTENDED, Level.EXTENDED),
    ],
)
def test_level_achieved_is_the_highest_level_whose_checks_all_cleared(
    outcomes: dict[str, Outcome], requested: Level, expected: Level | None
) -> None:
    all_outcomes = {cid: outcomes.get(cid, PASSED) for cid in LEVELS}
    assert level_achieved(all_outcomes, LEVELS, requested) == expected


@pytest.mark.requirement("KIT-013")
def test_a_waived_check_is_shown_as_waived_and_caps_the_level_below_it() -> None:
    waiver = Waiver("connection.read_only", "known", dt.date(2099, 1, 1), "https://x/1")
    cert = build(results=results(connection_read_only=FAILED), waivers=[waiver])
    check = next(c for c in cert["checks"] if c["id"] == "connection.read_only")
    assert check["outcome"] == "waived"
    assert check["waiver"]["underlying_outcome"] == "failed"
    assert check["waiver"]["reason"] == "known"
    assert cert["level_achieved"] == "core"
    assert cert["certified"] is False
    assert cert["waivers"] == [{**waiver.to_json(), "applied": True}]
    assert cert["summary"]["counts"]["waived"] == 1
    assert schema_errors(cert) == []


@pytest.mark.requirement("KIT-013")
def test_a_waiver_for_a_passing_check_is_recorded_as_unused() -> None:
    waiver = Waiver("profile.threads", "stale", dt.date(2099, 1, 1), "https://x/1")
    cert = build(waivers=[waiver])
    assert cert["waivers"][0]["applied"] is False
    assert {c["outcome"] for c in cert["checks"]} == {"passed"}
    assert cert["level_achieved"] == "integration"


@pytest.mark.requirement("KIT-013")
def test_waiver_problems_fail_the_run() -> None:
    cert = build(waiver_problems=["waiver for unknown check 'x'"])
    assert cert["level_achieved"] is None
    assert cert["certified"] is False
    assert cert["waiver_problems"] == ["waiver for unknown check 'x'"]


@pytest.mark.requirement("KIT-009")
def test_summary_counts_by_method_and_requirement() -> None:
    cert = build(results=results(profile_threads=FAILED, catalog_sql=UNSUPPORTED))
    summary = cert["summary"]
    assert summary["total"] == 5
    assert summary["counts"] == {
        "passed": 3,
        "failed": 1,
        "error": 0,
        "unsupported": 1,
        "waived": 0,
    }
    assert summary["by_method"]["generate_dbt_profile"]["failed"] == 1
    assert summary["by_method"]["generate_dbt_profile"]["passed"] == 1
    assert summary["by_requirement"]["KIT-001"] == {
        "checks": ["profile.threads"],
        "status": "failed",
    }
    assert summary["by_requirement"]["FR-007"]["status"] == "unsupported"
    assert summary["by_requirement"]["FR-004"]["status"] == "passed"


@pytest.mark.requirement("KIT-010")
def test_normalized_drops_only_what_changes_between_runs_of_the_same_code() -> None:
    first = build(created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    second = build(
        created_at=dt.datetime(2026, 2, 2, tzinfo=dt.UTC),
        run={"seed": 7, "max_examples": 10, "budget_s": 5.0, "duration_s": 99.0},
    )
    assert first["digest"] != second["digest"]
    assert normalized(first) == normalized(second)
    assert "digest" not in normalized(first)
    assert "duration_s" not in normalized(first)["checks"][0]
    changed = build(results=results(profile_threads=FAILED))
    assert normalized(changed) != normalized(first)


@pytest.mark.requirement("KIT-011")
def test_consistency_errors_find_verdicts_and_summaries_the_checks_do_not_support() -> None:
    from floe_compute_kit.conformance._certificate import consistency_errors

    cert = build(results=results(connection_read_only=FAILED))
    assert consistency_errors(cert) == []
    forged = copy.deepcopy(cert)
    forged["checks"][3]["outcome"] = "passed"
    problems = consistency_errors(forged)
    assert "level_achieved: recorded core but the recorded checks support integration" in problems
    assert "summary: the counts do not match the recorded checks" in problems
    waived = copy.deepcopy(cert)
    waived["checks"][3]["outcome"] = "waived"
    assert any(
        p.startswith("checks/connection.read_only: outcome waived")
        for p in consistency_errors(waived)
    )

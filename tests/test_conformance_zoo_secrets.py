"""The secrets zoo: each leaking plugin fails exactly the check meant to catch it.

Run through the plugin host (as `floe-conformance report` runs), at core, the level an
author certifies at first; the reference plugins pass every one of these checks.
"""

from __future__ import annotations

import pytest

from floe_compute_kit.conformance._leaks import canary, spellings
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.checks import secrets as secrets_checks
from floe_compute_kit.conformance.runner import run_suite
from zoo.secrets import CASES, ZooCase

pytestmark = pytest.mark.requirement("KIT-220")

#: The areas whose checks these plugins could trip (integration checks run dbt).
AREAS = {"metadata", "config", "profile", "packages", "connection", "resources", "catalog"}
AREAS |= {"secrets"}


def _ids() -> list[str]:
    return [r.spec.id for r in load_catalogue() if r.spec.id.split(".")[0] in AREAS]


def _failed(target: str, **kwargs: object) -> dict[str, str]:
    suite = run_suite(target, level=Level.CORE, max_examples=10, check_ids=_ids(), **kwargs)  # type: ignore[arg-type]
    assert suite.load_error is None
    return {
        r.check_id: r.message for r in suite.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)
    }


@pytest.mark.requirement("KIT-022", "KIT-221", "KIT-222")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.target.split(":")[1])
def test_leaking_plugin_fails_exactly_its_check(case: ZooCase) -> None:
    failed = _failed(case.target)
    assert set(failed) == {case.check_id, *case.also}, failed
    assert "**********" not in failed[case.check_id] or "ATTACH" in failed[case.check_id]


@pytest.mark.requirement("KIT-022")
def test_every_secrets_check_has_a_zoo_plugin() -> None:
    ids = {r.spec.id for r in load_catalogue() if r.spec.id.startswith("secrets.")}
    assert ids - {case.check_id for case in CASES} == set()
    assert "packages.installed_adapter" in {case.check_id for case in CASES}


def test_messages_name_the_leak_never_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    issued: list[str] = []

    def recorded(index: int, salt: str = "", *, alnum: bool = False) -> str:
        issued.append(canary(index, salt, alnum=alnum))
        return issued[-1]

    monkeypatch.setattr(secrets_checks, "canary", recorded)  # a spy: the canaries stay real
    failed = _failed("zoo.secrets:LeaksInLog")
    message = failed["secrets.logs"]
    assert "URL-encoded" in message
    assert "log record" in message
    assert issued
    for value in issued:
        assert not any(spelled in message for spelled in spellings(value).values())


@pytest.mark.requirement("KIT-221", "KIT-222")
@pytest.mark.parametrize("target", ["duckdb", "postgres", "zoo.plugins:StructuralGood"])
def test_reference_plugins_pass_the_secret_checks(target: str) -> None:
    suite = run_suite(target, level=Level.CORE, max_examples=10, check_ids=_ids())
    bad = {
        r.check_id: r.message for r in suite.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)
    }
    assert bad == {}
    outcomes = {r.check_id: r.outcome for r in suite.results}
    if target == "duckdb":  # credentials exist: every channel was really scanned
        scanned = [i for i in outcomes if i.startswith("secrets.")]
        assert scanned
        assert all(outcomes[i] is Outcome.PASSED for i in scanned), outcomes


def test_in_process_scans_logs_and_says_telemetry_is_not_seen() -> None:
    suite = run_suite(
        "zoo.secrets:LeaksInLog",
        level=Level.CORE,
        max_examples=10,
        check_ids=["secrets.logs", "secrets.telemetry"],
        isolation="in-process",
    )
    by_id = {r.check_id: r for r in suite.results}
    assert by_id["secrets.logs"].outcome is Outcome.FAILED
    assert by_id["secrets.telemetry"].outcome is Outcome.UNSUPPORTED
    assert "in-process" in by_id["secrets.telemetry"].message

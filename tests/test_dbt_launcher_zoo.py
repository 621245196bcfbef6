"""The integration checks keep their verdicts through the launcher and without it.

A plugin whose dbt plugin ignores every per-model override is refused by
``integration.query_timeout`` (its 4 s model is cut at the profile's 2 s), and the
reference DuckDB plugin passes the dbt checks, with the launcher on and switched off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from floe_compute_kit.conformance._dbt_launcher import ENV_SWITCH
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID
from floe_compute_kit.conformance.runner import run_suite

pytestmark = [pytest.mark.requirement("KIT-262"), pytest.mark.slow]

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _zoo_importable_by_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt (not only the plugin host) imports the zoo's dbt plugin module."""
    paths = [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


@pytest.fixture(params=["1", "0"], ids=["launcher", "plain"])
def switch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the launcher on, then switched off."""
    monkeypatch.setenv(ENV_SWITCH, request.param)
    return str(request.param)


@pytest.mark.requirement("US7-AS2", "FR-020")
@pytest.mark.usefixtures("switch")
def test_an_ignored_per_model_override_is_refused() -> None:
    suite = run_suite(
        "zoo.dbtfork:DuckDBIgnoresModelOverride", level=Level.INTEGRATION, check_ids=[TIMEOUT_ID]
    )
    assert suite.load_error is None
    [result] = suite.results
    assert result.outcome is Outcome.FAILED, result.message
    assert "per-model override (longer)" in result.message, result.message
    assert "before its timeout_seconds=4" in result.message, result.message


@pytest.mark.requirement("KIT-260")
@pytest.mark.usefixtures("switch")
def test_the_reference_plugin_passes_the_dbt_checks() -> None:
    suite = run_suite(
        "duckdb",
        level=Level.INTEGRATION,
        check_ids=[DBT_BUILD_ID, TIMEOUT_ID, "live.read_only"],
    )
    assert {r.check_id: r.outcome for r in suite.results} == {
        DBT_BUILD_ID: Outcome.PASSED,
        TIMEOUT_ID: Outcome.PASSED,
        "live.read_only": Outcome.PASSED,
    }, [r.message for r in suite.results]

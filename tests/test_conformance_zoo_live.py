"""The live target and the mandatory integration checks, proven on real engines.

Each planted live defect of tests/zoo/live.py is refused at integration on the build
or timeout check, with a message naming it; a networked plugin without a live target
fails naming the hook; ``--floe-target`` wins; and the PostgreSQL and Spark reference
plugins still certify at integration with no FLOE_POSTGRES_* variables set (the kit starts
the server itself; DuckDB's certification is tests/test_committed_certificate.py's).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import yaml

from _committed import assert_certified_at_integration, run_report
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID
from floe_compute_kit.conformance.runner import run_suite
from zoo.live import CASES, LiveCase

pytestmark = [pytest.mark.requirement("KIT-200"), pytest.mark.slow]

_PG_ENV = ("HOST", "PORT", "USER", "DBNAME", "PASSWORD")


@pytest.fixture(autouse=True)
def _no_postgres_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kit must find (or start) the live target itself."""
    for name in _PG_ENV:
        monkeypatch.delenv(f"FLOE_POSTGRES_{name}", raising=False)


@pytest.mark.requirement("KIT-202", "FR-020", "SC-006")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.target.split(":")[1])
def test_planted_live_defects_are_refused_on_their_check(case: LiveCase) -> None:
    suite = run_suite(case.target, level=Level.INTEGRATION, check_ids=[case.check_id])
    assert suite.load_error is None
    [result] = suite.results
    assert result.outcome is Outcome.FAILED, result.message
    for words in case.says:
        assert words.lower() in result.message.lower(), result.message


@pytest.mark.requirement("US7-AS2", "FR-020")
def test_a_slow_query_outlasting_its_ask_passes_on_the_longer_overrides_cut() -> None:
    """Like Spark's: a minute-long query cannot finish under the 4 s override, so the
    pass is its cut at 4 s (the verdict on such a cut: tests/test_checks_timeout.py)."""
    suite = run_suite(
        "zoo.live:DuckDBSlowQueryOutlastsItsAsk", level=Level.INTEGRATION, check_ids=[TIMEOUT_ID]
    )
    [result] = suite.results
    assert result.outcome is Outcome.PASSED, result.message


@pytest.mark.requirement("KIT-201")
def test_a_plugin_not_claiming_dbt_build_is_still_built() -> None:
    suite = run_suite(
        "zoo.live:DuckDBNoBuildClaim", level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID]
    )
    assert "dbt_build" not in suite.capabilities
    [result] = suite.results
    assert result.outcome is not Outcome.UNSUPPORTED
    assert "`dbt build` failed" in result.message


def test_a_networked_plugin_without_a_live_target_fails_naming_the_hook() -> None:
    suite = run_suite(
        "zoo.live:PostgresUnknownEngine",
        level=Level.INTEGRATION,
        check_ids=[DBT_BUILD_ID, TIMEOUT_ID],
    )
    assert [r.outcome for r in suite.results] == [Outcome.FAILED, Outcome.FAILED]
    for result in suite.results:
        assert "no live target" in result.message
        assert "conformance_live_target(self, workdir)" in result.message
        assert "--floe-target FILE" in result.message


def test_the_users_target_file_wins_and_a_bad_one_is_named(tmp_path: Path) -> None:
    chosen = tmp_path / "mine" / "warehouse.duckdb"
    chosen.parent.mkdir()
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump({"plugin": "duckdb", "path": str(chosen)}))
    suite = run_suite("duckdb", level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID], target=target)
    [result] = suite.results
    assert result.outcome is Outcome.PASSED, result.message
    with duckdb.connect(str(chosen), read_only=True) as con:
        assert con.execute("select count(*) from customer_totals").fetchone() == (4,)

    bad = tmp_path / "bad.json"
    bad.write_text('{"plugin": "duckdb", "threads": "many"}')
    suite = run_suite("duckdb", level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID], target=bad)
    [result] = suite.results
    assert result.outcome is Outcome.FAILED
    assert f"--floe-target {bad}" in result.message
    assert "threads" in result.message


@pytest.mark.requirement("KIT-201", "FR-020", "SC-006", "US7-AS1", "US7-AS2")
# DuckDB's run is tests/test_committed_certificate.py's, which compares it with the committed
# certificate too (the same run twice proves nothing more)
@pytest.mark.parametrize("plugin", ["postgres", "spark"])
def test_reference_plugins_certify_at_integration(plugin: str, tmp_path: Path) -> None:
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}
    assert not any(os.environ.get(f"FLOE_POSTGRES_{n}") for n in _PG_ENV)
    done, cert = run_report(plugin, tmp_path / "out", env=env)
    assert_certified_at_integration(done, cert)

"""integration.dbt_build: a real `dbt build` of the bundled project with the plugin's profile."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import ComputeConfig
from floe_compute_kit.conformance._lanes import BESIDE
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks.integration import (
    DBT_BUILD_ID,
    EXPECTED_NODES,
    bundled_project,
)
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID
from floe_compute_kit.conformance.runner import run_suite

pytestmark = pytest.mark.requirement("KIT-009")


class NoAdapterPlugin(DuckDBComputePlugin):
    """Profiles for an engine whose dbt adapter is not installed here."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "nosuchdb", "threads": config.threads, "host": "localhost"}

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-nosuchdb>=1.0,<2", "nosuchdb-driver"]


class OwnTargetPlugin(DuckDBComputePlugin):
    """Chooses the integration target itself, through the documented hook."""

    def conformance_integration_config(self, workdir: Path) -> dict[str, Any]:
        return {"plugin": "duckdb", "path": str(workdir / "chosen" / "own_target.duckdb")}


class UnopenablePathPlugin(DuckDBComputePlugin):
    """A profile dbt-duckdb accepts but cannot open: its database sits in a missing directory."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["path"] = "/nonexistent-floe-dir/sub/warehouse.duckdb"
        return profile


def _run(plugin: object, workdir: Path) -> Any:
    suite = run_suite(plugin, level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID], workdir=workdir)
    assert suite.load_error is None
    [result] = suite.results
    return result


def test_the_bundled_project_is_a_seed_two_models_and_data_tests() -> None:
    root = bundled_project()
    assert (root / "dbt_project.yml").is_file()
    assert sorted(p.name for p in (root / "models").glob("*.sql")) == [
        "customer_totals.sql",
        "stg_orders.sql",
    ]
    assert EXPECTED_NODES == {"seed": 1, "model": 2, "test": 7}


@pytest.mark.requirement("SC-002", "FR-008")
def test_duckdb_builds_the_project_and_the_tables_hold_the_right_rows(tmp_path: Path) -> None:
    (tmp_path / "chosen").mkdir()
    result = _run(OwnTargetPlugin, tmp_path)
    assert result.outcome is Outcome.PASSED, result.message
    database = tmp_path / "chosen" / "own_target.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select customer, orders, total_amount from customer_totals order by customer"
        ).fetchall()
    assert rows == [("ada", 2, 200), ("barbara", 1, 15), ("grace", 1, 45), ("linus", 1, 200)]
    assert (tmp_path / "integration" / "project" / "target" / "run_results.json").is_file()
    assert not (bundled_project() / "target").exists()  # dbt never writes into the package


def test_a_missing_adapter_fails_naming_the_package_to_install(tmp_path: Path) -> None:
    result = _run(NoAdapterPlugin, tmp_path)
    assert result.outcome is Outcome.FAILED
    assert "pip install 'dbt-nosuchdb<2,>=1.0'" in result.message
    assert result.details["install"] == "dbt-nosuchdb<2,>=1.0"


def test_a_profile_dbt_cannot_use_fails_with_dbt_output(tmp_path: Path) -> None:
    result = _run(UnopenablePathPlugin, tmp_path)
    assert result.outcome is Outcome.FAILED
    assert "`dbt build` failed" in result.message
    assert "nonexistent-floe-dir" in result.message
    assert result.example is not None
    assert result.example["plugin"] == "duckdb"


def test_details_that_reach_a_certificate_never_carry_a_secret() -> None:
    """A profile that leaks a secret is the very one this check records; mask it."""
    from floe_compute_duckdb import DuckDBConfig
    from floe_compute_kit.conformance.checks.integration import _redacted

    config = DuckDBConfig(credentials={"token": 'tok"en\\-SECRET'})
    profile = {"type": "duckdb", "settings": {"leak": 'tok"en\\-SECRET, twice'}}
    assert _redacted(profile, config) == {
        "type": "duckdb",
        "settings": {"leak": "**********, twice"},
    }
    assert _redacted('dbt: tok"en\\-SECRET', config) == "dbt: **********"
    assert _redacted(profile, DuckDBConfig()) is profile


def _overlaps(project: Path) -> int:
    """How many pairs of the timeout run's models ran at the same time (dbt's own timing)."""
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    spans = []
    for result in results:
        execute = next(t for t in result["timing"] if t["name"] == "execute")
        spans.append((execute["started_at"], execute["completed_at"]))
    return sum(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])


@pytest.mark.requirement("FR-020", "SC-006")
@pytest.mark.parametrize(
    ("threads", "at_once"),
    [(1, 1), (2, 2), (4, 4), (16, 4), (None, 4), (0, 4), (True, 4), ("2", 4)],
)
def test_at_once_is_the_profiles_threads_capped_at_the_models(threads: Any, at_once: int) -> None:
    from floe_compute_kit.conformance.checks.timeout import _at_once

    assert _at_once({} if threads is None else {"threads": threads}, 4) == at_once


@pytest.mark.requirement("FR-020", "SC-006")
@pytest.mark.parametrize("threads", [1, 4])
def test_the_timeout_models_run_no_more_at_once_than_the_profile_allows(
    threads: int, tmp_path: Path
) -> None:
    """Spark's local session (threads: 1) gets its timeout models one at a time: at once,
    one model's job holds the task slots while the others' timers run. Proven on DuckDB's
    real run, from the times dbt itself recorded for each model."""
    from floe_compute_spark import SparkComputePlugin

    spark = SparkComputePlugin()
    assert (
        spark.generate_dbt_profile(spark.conformance_integration_config(tmp_path))["threads"] == 1
    )
    target = tmp_path / "target.json"
    path = tmp_path / "live" / "t.duckdb"
    path.parent.mkdir()
    target.write_text(json.dumps({"plugin": "duckdb", "path": str(path), "threads": threads}))
    work = tmp_path / "work"
    work.mkdir()
    suite = run_suite(
        "duckdb", level=Level.INTEGRATION, check_ids=[TIMEOUT_ID], target=target, workdir=work
    )
    [result] = suite.results
    assert result.outcome is Outcome.PASSED, result.message
    overlaps = _overlaps(work / "timeout" / "project")
    assert (overlaps == 0) if threads == 1 else (overlaps > 0), overlaps
    # DuckDB's pre-hook ran before each of the three slow models: they wait without a core
    log = (work / "timeout" / "project" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert log.count("SET threads = 1") == 3


def _check_span(project: Path) -> tuple[int, int]:
    """When a check wrote its dbt project and when dbt wrote its results (mtimes, ns)."""
    results = project / "target" / "run_results.json"
    return (project / "dbt_project.yml").stat().st_mtime_ns, results.stat().st_mtime_ns


@pytest.mark.requirement("FR-020", "KIT-275")
@pytest.mark.parametrize("own", [True, False])
def test_the_dbt_checks_run_beside_each_other_only_on_files_of_their_own(
    own: bool, tmp_path: Path
) -> None:
    """Where the kit made the live target as a DuckDB file, the build and the timeout
    models each get a file of their own, under the folder the read-only watch leaves
    out, and run at once; on the user's target they take their turns on it."""
    target = None
    if not own:
        path = tmp_path / "live" / "t.duckdb"
        path.parent.mkdir()
        target = tmp_path / "target.json"
        target.write_text(json.dumps({"plugin": "duckdb", "path": str(path)}))
    work = tmp_path / "work"
    work.mkdir()
    ids = ["live.read_only", "integration.dbt_build", TIMEOUT_ID]
    suite = run_suite("duckdb", level=Level.INTEGRATION, check_ids=ids, target=target, workdir=work)
    assert [r.outcome for r in suite.results] == [Outcome.PASSED] * 3, suite.results
    under = work / BESIDE if own else work
    build, timeout = (
        _check_span(under / "integration" / "project"),
        _check_span(under / "timeout" / "project"),
    )
    # each check's dbt work, from the project it wrote to the results dbt wrote: beside
    # each other, neither waits for the other to end (when dbt's own nodes run depends on
    # the dbt server's warm, which the timeout models do not wait for); in turns, the
    # timeout check writes its project only once the build's dbt has ended
    if own:
        assert build[0] < timeout[1], (build, timeout)
        assert timeout[0] < build[1], (build, timeout)
    else:
        assert build[1] <= timeout[0], (build, timeout)
    for name in ("build", "timeout"):
        own_file = work / BESIDE / "own" / name / "integration" / "floe_conformance.duckdb"
        assert own_file.is_file() is own
    if own:  # the live file holds only what the read-only check's dbt made: no model
        live = work / "integration" / "floe_conformance.duckdb"
        with duckdb.connect(str(live), read_only=True) as con:
            tables = con.execute("select table_name from information_schema.tables").fetchall()
        assert ("customer_totals",) not in tables


@pytest.mark.requirement("FR-018", "KIT-210", "KIT-275")
def test_the_read_only_watch_still_sees_the_health_check_while_the_others_run_beside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build, the timeout models and the Iceberg catalog work beside the watch; the
    health check's stamp beside the live target is still seen, and nothing written under
    the folder of what runs beside is blamed on it.

    When the kit's own checks write there relative to the health calls depends on the dbt
    server's warm, so the test also writes there itself, all through the run."""
    calls = tmp_path / "calls.log"
    monkeypatch.setenv("FLOE_ZOO_CALL_LOG", str(calls))
    work = tmp_path / "work"
    beside = work / BESIDE / "test-writer"
    beside.mkdir(parents=True)
    written: list[float] = []
    stop = threading.Event()

    def write_beside() -> None:
        while not stop.is_set():
            (beside / "busy.txt").write_text(str(len(written)), encoding="utf-8")
            written.append(time.time())
            stop.wait(0.02)

    writer = threading.Thread(target=write_beside, daemon=True)
    writer.start()
    ids = ["live.read_only", DBT_BUILD_ID, TIMEOUT_ID, "iceberg.roundtrip", "iceberg.interop"]
    try:
        suite = run_suite(
            "zoo.plugins:StampsBesideTheTarget",
            level=Level.INTEGRATION,
            check_ids=ids,
            workdir=work,
        )
    finally:
        stop.set()
        writer.join()
    by_id = {r.check_id: r for r in suite.results}
    read_only = by_id.pop("live.read_only")
    assert read_only.outcome is Outcome.FAILED
    assert "health.stamp" in read_only.message
    assert BESIDE not in read_only.message
    assert "busy.txt" not in read_only.message
    assert all(r.outcome is Outcome.PASSED for r in by_id.values()), by_id
    # the watch was open while the file beside was written: writes before the first health
    # call and after the last
    seen = [float(line) for line in calls.read_text().split()]
    assert seen
    assert min(written) < min(seen), (written[0], seen)
    assert max(written) > max(seen), (written[-1], seen)

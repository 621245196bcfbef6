"""The Spark dbt hook in a real in-process ``dbt build`` on a local SparkSession: a model's
own timeout (US7-AS2), the timeout line (US7-AS3) and query metrics (FR-024) read with
the OpenTelemetry SDK's in-memory reader while dbt runs.

One build for the module (a JVM and a Hive metastore cost seconds to start); the test
command keeps a module on one xdist worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _obs_helpers import metered_build, pool_peaks, query_metrics, timeout_lines, write_project
from _spark_helpers import LOOPBACK_ENV
from floe_compute_spark import SparkComputePlugin, SparkConfig

pytestmark = [pytest.mark.slow]

PROFILE_TIMEOUT = 600
SLOW = "select count(*) as n from range(0, 1000000000000) a where hash(a.id) = 0"
MODELS = {
    # minutes of CPU, cut at its own 2 s: the profile's 600 s would let it run
    "cut_short": "{{ config(floe_timeout_seconds=2) }}\n" + SLOW,
    "fast": "select 1 as x",
    "bad_override": "{{ config(floe_timeout_seconds=0) }}\nselect 1 as x",
    # an ordinary engine error, not a timeout
    "missing_table": "select * from floe_no_such_table",
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = Path(tmp_path_factory.mktemp("spark_obs"))
    config = SparkConfig(home=str(work / "home"), timeout_seconds=PROFILE_TIMEOUT, threads=2)
    profile = SparkComputePlugin().generate_dbt_profile(config)
    project = write_project(work, "floe_spark_obs", MODELS, profile)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOOPBACK_ENV.items():
            patch.setenv(name, value)
        try:
            yield {**metered_build(work, project), "work": work, "project": project}
        finally:
            from pyspark.sql import SparkSession

            from floe_compute_spark import dbt_hook

            active = SparkSession.getActiveSession()
            if active is not None:
                active.stop()
            dbt_hook._SESSIONS.clear()  # the stopped session must not be reused


@pytest.mark.requirement("US7-AS2", "US7", "US7-AS3")
@pytest.mark.requirement("FR-020")
def test_a_models_own_timeout_cancels_its_spark_jobs(build: dict[str, Any]) -> None:
    nodes = build["nodes"]
    assert build["success"] is False
    assert nodes["fast"]["status"] == "success", nodes["fast"]["message"]
    cut = nodes["cut_short"]
    assert cut["status"] == "error"
    assert "timeout_seconds=2 " in cut["message"]
    assert "was cancelled" in cut["message"]
    assert cut["execution_time"] < PROFILE_TIMEOUT / 10  # its own 2 s, not the profile's
    line = timeout_lines(build["log"])["model.floe_spark_obs.cut_short"]
    assert float(line["timeout"]) == 2
    assert 2 <= float(line["duration"]) < 60
    assert line["action"] == "cancelled"
    assert f"query_id={line['qid']}" in cut["message"]
    print(f"cut_short: cancelled {float(line['duration']) - 2:.3f} s after its own 2 s")
    assert "model.floe_spark_obs.missing_table" not in timeout_lines(build["log"])
    bad = nodes["bad_override"]
    assert bad["status"] == "error"
    assert "model.floe_spark_obs.bad_override: config floe_timeout_seconds=0 " in bad["message"]
    assert "from 1 to 86400" in bad["message"]


@pytest.mark.requirement("FR-024", "US6-AS3")
@pytest.mark.requirement("KIT-006")
def test_dbt_build_emits_query_metrics_while_it_runs(build: dict[str, Any]) -> None:
    by_status, errors = query_metrics(build, "spark")
    assert by_status["timeout"] == 1  # cut_short
    assert by_status["error"] >= 1  # missing_table
    assert by_status["ok"] >= 2
    assert errors["ComputeTimeoutError"] == 1
    assert errors["DbtRuntimeError"] >= 1


@pytest.mark.requirement("FR-021", "FR-024")
def test_the_pool_is_dbts_session_connections(build: dict[str, Any]) -> None:
    in_use, size = pool_peaks(build)
    assert 1 <= in_use <= 2  # threads=2
    assert 1 <= size <= 3  # threads plus dbt's main connection


@pytest.mark.requirement("KIT-009")
def test_the_warehouse_and_metastore_are_under_home(build: dict[str, Any]) -> None:
    """A session's warehouse and Derby metastore go under the config's home, nothing into
    the project folder or the folder dbt ran from (a user's repository)."""
    home = build["work"] / "home"
    assert (home / "warehouse").is_dir()
    assert (home / "metastore_db").is_dir()
    for folder in (build["project"], Path.cwd()):
        assert not (folder / "metastore_db").exists()
        assert not (folder / "spark-warehouse").exists()

"""The floe_postgres adapter in a real in-process ``dbt build`` against a live loopback
server: per-model timeouts (US7-AS2), the timeout line (US7-AS3) and query metrics
(FR-024) read with the OpenTelemetry SDK's in-memory reader while dbt runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2
import pytest
from pydantic import SecretStr

from _obs_helpers import metered_build, pool_peaks, query_metrics, timeout_lines, write_project
from floe_compute_kit.conformance.services import PostgresServer
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig
from floe_compute_postgres.profile import PASSWORD_ENV

pytestmark = pytest.mark.slow

PROFILE_TIMEOUT = 2
SCHEMA = "obs_models"
MODELS = {
    # 30 s of sleep, cut at its own 1 s instead of the profile's 2 s
    "cut_short": "{{ config(floe_timeout_seconds=1) }}\nselect 1 as x from pg_sleep(30)",
    # 3 s of sleep (past the profile's 2 s), allowed by its own 20 s
    "allowed_longer": "{{ config(floe_timeout_seconds=20) }}\nselect 1 as x from pg_sleep(3)",
    # no override: the profile's 2 s holds
    "profile_default": "select 1 as x from pg_sleep(30)",
    "bad_override": "{{ config(floe_timeout_seconds='soon') }}\nselect 1 as x",
    # what the server's session really had while each model ran
    "setting_default": "select current_setting('statement_timeout') as t",
    "setting_override": "{{ config(floe_timeout_seconds=7) }}\n"
    "select current_setting('statement_timeout') as t",
    # an ordinary database error, not a timeout
    "divides_by_zero": "select 1 / 0 as x",
}


@pytest.fixture(scope="module")
def build(
    floe_postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("pg_obs")
    config = PostgresConfig(
        host=floe_postgres.host,
        port=floe_postgres.port,
        user=floe_postgres.user,
        dbname=floe_postgres.dbname,
        schema=SCHEMA,
        timeout_seconds=PROFILE_TIMEOUT,
        threads=2,
        credentials={"password": SecretStr(floe_postgres.password)},
    )
    profile = PostgresComputePlugin().generate_dbt_profile(config)
    project = write_project(Path(work), "floe_pg_obs", MODELS, profile)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, floe_postgres.password)
        patch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        found = metered_build(Path(work), project)
    con = psycopg2.connect(**floe_postgres.params())
    try:
        with con.cursor() as cur:
            settings = {}
            for table in ("setting_default", "setting_override"):
                cur.execute(f"select t from {SCHEMA}.{table}")
                settings[table] = cur.fetchone()[0]
            cur.execute(
                "select count(*) from pg_stat_activity where query like '%%pg_sleep(30)%%' "
                "and state = 'active' and pid <> pg_backend_pid()"
            )
            found["still_running"] = cur.fetchone()[0]
    finally:
        con.close()
    found["settings"] = settings
    return found


@pytest.mark.requirement("US7-AS2", "US7", "US7-AS3")
@pytest.mark.requirement("FR-020", "SC-006")
def test_per_model_timeouts_are_enforced_by_the_server(build: dict[str, Any]) -> None:
    nodes = build["nodes"]
    assert build["success"] is False
    # the session's statement_timeout while each model ran: its own, else the profile's
    assert build["settings"] == {"setting_default": "2s", "setting_override": "7s"}
    longer = nodes["allowed_longer"]
    assert longer["status"] == "success", longer["message"]
    assert longer["execution_time"] > PROFILE_TIMEOUT  # it ran past the profile's 2 s
    lines = timeout_lines(build["log"])
    for name, timeout in (("cut_short", 1), ("profile_default", PROFILE_TIMEOUT)):
        node = nodes[name]
        assert node["status"] == "error"
        assert "canceling statement due to statement timeout" in node["message"]
        assert f"timeout_seconds={timeout} " in node["message"]
        line = lines[f"model.floe_pg_obs.{name}"]  # US7-AS3: id, node, duration, timeout
        assert float(line["timeout"]) == timeout
        assert timeout <= float(line["duration"]) < 30
        assert line["action"] == "cancelled"
        assert f"query_id={line['qid']}" in node["message"]
        # a figure, not an assert: how long after its timeout the server cancelled it
        print(f"{name}: cancelled {float(line['duration']) - timeout:.3f} s after {timeout} s")
    assert "model.floe_pg_obs.allowed_longer" not in lines
    assert "model.floe_pg_obs.divides_by_zero" not in lines  # not a timeout
    assert build["still_running"] == 0  # the server really stopped both sleeps
    bad = nodes["bad_override"]
    assert bad["status"] == "error"
    assert "model.floe_pg_obs.bad_override: config floe_timeout_seconds='soon'" in bad["message"]
    assert "from 1 to 86400" in bad["message"]


@pytest.mark.requirement("FR-024", "US6-AS3")
@pytest.mark.requirement("KIT-006")
def test_dbt_build_emits_query_metrics_while_it_runs(build: dict[str, Any]) -> None:
    by_status, errors = query_metrics(build, "postgres")
    assert by_status["timeout"] == 2  # cut_short and profile_default
    assert by_status["error"] >= 1  # divides_by_zero
    assert by_status["ok"] >= 5
    assert errors["ComputeTimeoutError"] == 2
    assert errors["DbtDatabaseError"] >= 1


@pytest.mark.requirement("FR-021", "FR-024")
def test_the_pool_is_dbts_connections_bounded_by_threads(build: dict[str, Any]) -> None:
    in_use, size = pool_peaks(build)
    assert in_use == 2  # threads=2: two models at once
    assert 1 <= size <= 3  # threads plus dbt's main connection

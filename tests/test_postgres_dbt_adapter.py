"""The floe_postgres adapter in a real ``dbt build``: the bundled project builds, and a
``pg_sleep`` model is cancelled by the server when timeout_seconds expires (SC-006)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml
from pydantic import SecretStr

from floe_compute_kit.conformance.checks.integration import EXPECTED_NODES, bundled_project
from floe_compute_kit.conformance.engines import engine_for
from floe_compute_kit.conformance.services import PostgresServer
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig
from floe_compute_postgres.profile import PASSWORD_ENV

PLUGIN = PostgresComputePlugin()
TIMEOUT_S = 2


@pytest.fixture(scope="module")
def timed_build(
    floe_postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One dbt build of the bundled project plus a 30 s sleep, under timeout_seconds=2."""
    root = tmp_path_factory.mktemp("pg_dbt")
    project = root / "project"
    shutil.copytree(bundled_project(), project)
    slow = engine_for("floe_postgres").slow_query(30)
    assert slow is not None
    (project / "models" / "slow_sleep.sql").write_text(slow + "\n", encoding="utf-8")
    config = PostgresConfig(
        host=floe_postgres.host,
        port=floe_postgres.port,
        user=floe_postgres.user,
        dbname=floe_postgres.dbname,
        schema="timeout_check",
        timeout_seconds=TIMEOUT_S,
        credentials={"password": SecretStr(floe_postgres.password)},
    )
    profile = PLUGIN.generate_dbt_profile(config)
    (root / "profiles.yml").write_text(
        yaml.safe_dump({"floe_conformance": {"target": "t", "outputs": {"t": profile}}}),
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *("build", "--project-dir", str(project), "--profiles-dir", str(root)),
        ],
        cwd=project,
        env={**os.environ, PASSWORD_ENV: floe_postgres.password},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    results = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {
        "done": done,
        "nodes": {r["unique_id"]: r for r in results["results"]},
        "profiles": (root / "profiles.yml").read_text(encoding="utf-8"),
        "logs": (project / "logs" / "dbt.log").read_text(encoding="utf-8"),
        "password": floe_postgres.password,
        "server": floe_postgres,
    }


@pytest.mark.requirement("SC-006")
@pytest.mark.requirement("FR-020")
def test_a_pg_sleep_model_is_cancelled_and_the_error_names_the_timeout(
    timed_build: dict[str, Any],
) -> None:
    slow = timed_build["nodes"]["model.floe_conformance.slow_sleep"]
    assert slow["status"] == "error"
    assert "canceling statement due to statement timeout" in slow["message"]
    assert f"timeout_seconds={TIMEOUT_S}" in slow["message"]
    latency = slow["execution_time"] - TIMEOUT_S
    # A figure, not an assert (bench/bench_postgres_timeout.py holds the measurements).
    print(
        f"pg_sleep(30) under timeout_seconds={TIMEOUT_S}: failed after "
        f"{slow['execution_time']:.2f} s, {latency:.2f} s after the timeout"
    )
    assert timed_build["done"].returncode == 1


@pytest.mark.requirement("SC-006")
def test_the_server_really_stopped_the_statement(timed_build: dict[str, Any]) -> None:
    pg: PostgresServer = timed_build["server"]
    con = psycopg2.connect(**pg.params())
    try:
        with con.cursor() as cur:
            cur.execute(
                "select count(*) from pg_stat_activity where query like '%%pg_sleep(30)%%' "
                "and state = 'active' and pid <> pg_backend_pid()"
            )
            assert cur.fetchone() == (0,)
    finally:
        con.close()


@pytest.mark.requirement("KIT-009")
@pytest.mark.requirement("SC-006")
def test_fast_models_under_the_same_profile_still_succeed(timed_build: dict[str, Any]) -> None:
    ok: dict[str, int] = {}
    for uid, node in timed_build["nodes"].items():
        if uid != "model.floe_conformance.slow_sleep":
            assert node["status"] in {"success", "pass"}, (uid, node["message"])
            kind = uid.split(".", 1)[0]
            ok[kind] = ok.get(kind, 0) + 1
    assert ok == EXPECTED_NODES


@pytest.mark.requirement("KIT-006")
def test_the_password_never_reaches_the_profile_or_dbt_logs(timed_build: dict[str, Any]) -> None:
    password = timed_build["password"]
    assert password not in timed_build["profiles"]
    assert password not in timed_build["logs"]
    assert password not in timed_build["done"].stdout + timed_build["done"].stderr

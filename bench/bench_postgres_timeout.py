"""PostgreSQL query timeout: how soon after timeout_seconds a long query is cancelled.

Run: python bench/bench_postgres_timeout.py [rounds]
Starts a throwaway server on loopback, then measures, in one process:
- session: a psycopg2 session set up exactly as the floe_postgres adapter sets up dbt's
  (statement_timeout per session) runs pg_sleep(30) under timeouts of 1, 2 and 3 s;
  latency = time to the server's cancellation minus the timeout (SC-006 goal: < 1 s);
  the baseline is the same session's round trip of a fast query (select 1);
- dbt: one real ``dbt build`` of a pg_sleep(30) model beside a fast model under
  timeout_seconds=2, with the generated profile; latency = the slow node's time minus the
  timeout, against the fast node's time (dbt's own per-node overhead).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import psycopg2.errors
import yaml
from _goals import baseline, figure, verdict
from pydantic import SecretStr

from floe_compute_kit.conformance.engines import engine_for
from floe_compute_kit.conformance.services import PostgresServer, postgres_server
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig
from floe_compute_postgres.profile import PASSWORD_ENV

GOAL_S = 1.0


def _session(pg: PostgresServer, timeout_ms: int) -> object:
    con = psycopg2.connect(**pg.params())
    with con.cursor() as cur:
        cur.execute("select set_config('statement_timeout', %s, false)", (f"{timeout_ms}ms",))
    con.commit()
    return con


def session_latency(pg: PostgresServer, timeout_s: int, rounds: int) -> tuple[float, float]:
    """Median cancellation latency after the timeout, and median select-1 round trip (s)."""
    con = _session(pg, timeout_s * 1000)
    late, fast = [], []
    slow_sql = engine_for("postgres").slow_query(30)
    assert slow_sql is not None
    try:
        for _ in range(rounds):
            with con.cursor() as cur:  # type: ignore[attr-defined]
                started = time.perf_counter()
                cur.execute("select 1")
                cur.fetchall()
                fast.append(time.perf_counter() - started)
                started = time.perf_counter()
                try:
                    cur.execute(slow_sql)
                except psycopg2.errors.QueryCanceled:
                    late.append(time.perf_counter() - started - timeout_s)
                else:
                    raise SystemExit("pg_sleep(30) was not cancelled: the timeout does nothing")
            con.rollback()  # type: ignore[attr-defined]
    finally:
        con.close()  # type: ignore[attr-defined]
    return statistics.median(late), statistics.median(fast)


def dbt_latency(pg: PostgresServer, timeout_s: int) -> tuple[float, float]:
    """(slow node time - timeout, fast node time) from one real dbt build."""
    with tempfile.TemporaryDirectory(prefix="floe-bench-pg-") as tmp:
        root = Path(tmp)
        models = root / "project" / "models"
        models.mkdir(parents=True)
        (root / "project" / "dbt_project.yml").write_text(
            "name: floe_bench\nversion: '1.0'\nconfig-version: 2\nprofile: floe_bench\n",
            encoding="utf-8",
        )
        table = "{{ config(materialized='table') }}\n"  # a view would never run the query
        (models / "slow.sql").write_text(table + str(engine_for("postgres").slow_query(30)))
        (models / "fast.sql").write_text(table + "select 1 as one")
        config = PostgresConfig(
            host=pg.host,
            port=pg.port,
            user=pg.user,
            dbname=pg.dbname,
            schema="bench",
            timeout_seconds=timeout_s,
            credentials={"password": SecretStr(pg.password)},
        )
        profile = PostgresComputePlugin().generate_dbt_profile(config)
        (root / "profiles.yml").write_text(
            yaml.safe_dump({"floe_bench": {"target": "t", "outputs": {"t": profile}}})
        )
        dbt = str(Path(sys.executable).with_name("dbt"))
        subprocess.run(
            [dbt, "build", "--project-dir", str(root / "project"), "--profiles-dir", str(root)],
            cwd=root / "project",
            env={
                **os.environ,
                PASSWORD_ENV: pg.password,
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            },
            capture_output=True,
            check=False,
            timeout=120,
        )
        results = json.loads((root / "project" / "target" / "run_results.json").read_text())
        nodes = {r["unique_id"].rsplit(".", 1)[-1]: r for r in results["results"]}
        if (
            nodes["slow"]["status"] != "error"
            or "statement timeout" not in nodes["slow"]["message"]
        ):
            raise SystemExit(f"the slow model was not cancelled: {nodes['slow']}")
        return nodes["slow"]["execution_time"] - timeout_s, nodes["fast"]["execution_time"]


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with postgres_server() as pg:
        print(f"PostgreSQL on 127.0.0.1:{pg.port}")
        for timeout_s in (1, 2, 3):
            late, fast = session_latency(pg, timeout_s, rounds)
            figure(
                f"session, timeout {timeout_s} s: cancelled after it (median of {rounds})",
                late,
                "s",
                GOAL_S,
            )
            baseline(f"select 1 round trip (timeout {timeout_s} s)", fast * 1000, "ms", "driver")
        late, fast = dbt_latency(pg, 2)
        figure("dbt build, timeout 2 s: slow node failed after it", late, "s", GOAL_S)
        baseline("dbt build: fast node", fast * 1000, "ms", "dbt's per-node overhead")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

"""The engine seam's PostgreSQL engine: its parser, and a slow query that really sleeps."""

from __future__ import annotations

import time

import psycopg2
import pytest

from floe_compute_kit.conformance.engines import KNOWN_ENGINES, PostgresEngine, engine_for
from floe_compute_kit.conformance.services import PostgresServer

pytestmark = pytest.mark.requirement("FR-020")


def test_both_postgres_profile_types_get_the_postgres_engine() -> None:
    assert KNOWN_ENGINES["postgres"] is PostgresEngine
    assert isinstance(engine_for("floe_postgres"), PostgresEngine)
    assert engine_for("floe_postgres").dialect == "postgres"


def test_statements_are_split_by_the_postgres_dialect() -> None:
    engine = engine_for("postgres")
    assert engine.statement_kinds("select 1; create table t (x int)") == ["Select", "Create"]
    assert len(engine.split("select 'a;b'; select 2")) == 2


def test_the_slow_query_keeps_a_real_server_busy(floe_postgres: PostgresServer) -> None:
    sql = engine_for("postgres").slow_query(0.3)
    assert sql is not None
    con = psycopg2.connect(**floe_postgres.params())
    try:
        with con.cursor() as cur:
            started = time.perf_counter()
            cur.execute(sql)
            rows = cur.fetchall()
            slept = time.perf_counter() - started
    finally:
        con.close()
    assert rows == [(1,)]
    assert slept >= 0.3  # pg_sleep never returns early: a lower bound, not a speed claim

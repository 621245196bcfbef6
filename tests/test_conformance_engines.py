"""The engine seam: each engine splits statements with its own parser and knows its targets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from floe_compute_kit.conformance.engines import GenericEngine, engine_for

pytestmark = pytest.mark.requirement("FR-007")


def test_duckdb_splits_with_its_own_parser() -> None:
    engine = engine_for("duckdb")
    sql = "ATTACH 'w' AS c (TYPE ICEBERG); SELECT ';' AS semi -- ; comment"
    assert engine.statement_kinds(sql) == ["StatementType.ATTACH", "StatementType.SELECT"]
    assert len(engine.split(sql)) == 2


def test_duckdb_refuses_what_it_cannot_parse_with_a_value_error() -> None:
    with pytest.raises(ValueError, match="DuckDB cannot parse"):
        engine_for("duckdb").statement_kinds("SELEC 1 FROM")


def test_an_unknown_engine_gets_sqlglot_in_its_dialect() -> None:
    engine = engine_for("snowflake")
    assert isinstance(engine, GenericEngine)
    assert engine.dialect == "snowflake"
    assert engine.statement_kinds("select 1; select 'a;b'") == ["Select", "Select"]
    assert engine.slow_query(2) is None
    assert engine_for("nosuchengine").dialect is None


def test_duckdb_slow_query_really_runs_long_enough_to_be_cancelled() -> None:
    query = engine_for("duckdb").slow_query(2)
    assert query is not None
    assert "sleep_ms(2000)" in query  # the pinned DuckDB's sleep polls for an interrupt
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        # Interrupted from another thread after 0.3 s: it must still be running then.
        import threading

        timer = threading.Timer(0.3, con.interrupt)
        timer.start()
        with pytest.raises(duckdb.InterruptException):
            con.execute(query).fetchall()
        timer.cancel()
    finally:
        con.close()


def test_duckdb_file_targets_are_seeded_and_lock_probed(tmp_path: Path) -> None:
    engine = engine_for("duckdb")
    target = tmp_path / "t" / "db.duckdb"
    assert engine.seed_file_target(target)
    assert engine.write_lock_problem(target) is None
    code = (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "print('held', flush=True); time.sleep(30)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        problem = engine_for("duckdb").write_lock_problem(target)
        assert problem is not None
        assert "lock" in problem.lower()
    finally:
        holder.kill()
        holder.wait()
    assert not engine_for("snowflake").seed_file_target(tmp_path / "x")


def test_an_older_duckdb_gets_the_cross_join_whose_interrupt_always_worked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before 1.5.5 sleep_ms ignored interrupt(): it would read as a timeout cancelling nothing.
    from floe_compute_kit.conformance.engines import _duckdb

    monkeypatch.setattr("importlib.metadata.version", lambda name: "1.5.3")
    assert _duckdb._sleep_interrupts() is False
    query = engine_for("duckdb").slow_query(2)
    assert query is not None
    assert "sleep_ms" not in query
    assert "range(100000) a, range(100000) b" in query

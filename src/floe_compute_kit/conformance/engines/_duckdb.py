"""DuckDB: its own parser splits statements; an interruptible sleep makes a slow query."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from floe_compute_kit.conformance.engines._base import Engine

__all__ = ["INTERRUPTIBLE_SLEEP", "DuckDBEngine"]

#: The first DuckDB whose ``sleep_ms`` polls for an interrupt (duckdb/duckdb#23021,
#: backported to 1.5.x in #23245; 1.5.5 measured here). Before it, ``sleep_ms`` ignores
#: ``interrupt()`` and would read as a plugin whose timeout cancels nothing.
INTERRUPTIBLE_SLEEP = "1.5.5"


def _sleep_interrupts() -> bool:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    try:
        return Version(version("duckdb")) >= Version(INTERRUPTIBLE_SLEEP)
    except (PackageNotFoundError, InvalidVersion):
        return False


class DuckDBEngine(Engine):
    profile_type = "duckdb"
    dialect = "duckdb"
    runs_catalog_sql = True
    file_based = True
    # With more than one thread, DuckDB 1.5.5's client thread often spins while a worker
    # runs the sleeping task: a whole core for the length of each slow model (measured:
    # the timeout check's dbt run took 6.2-6.9 s of CPU, 3.7-4.4 s with one thread).
    # Runtime only: nothing is written to the target.
    slow_model_pre_hook = "SET threads = 1"

    def live_target(self, workdir: Path, resources: ExitStack) -> dict[str, Any] | None:
        # A database file of the run's own: dbt creates it on first connect.
        path = workdir / "integration" / "floe_conformance.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"path": str(path)}

    def seed_file_target(self, path: Path) -> bool:
        import duckdb  # noqa: PLC0415

        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE TABLE floe_probe AS SELECT 42 AS answer")
        return True

    def write_lock_problem(self, path: Path) -> str | None:
        import duckdb  # noqa: PLC0415

        try:
            with duckdb.connect(str(path)) as con:
                con.execute("CREATE OR REPLACE TABLE floe_write_probe AS SELECT 1 AS x")
        except duckdb.Error as exc:
            return str(exc)
        return None

    def statement_kinds(self, sql: str) -> list[str]:
        import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

        try:
            return [str(s.type) for s in duckdb.extract_statements(sql)]
        except (duckdb.Error, TypeError, UnicodeError) as exc:
            raise ValueError(f"DuckDB cannot parse {sql!r}: {exc}") from None

    def split(self, sql: str) -> list[str]:
        import duckdb  # noqa: PLC0415

        try:
            return [s.query for s in duckdb.extract_statements(sql)]
        except (duckdb.Error, TypeError, UnicodeError):
            return [sql]

    def slow_query(self, seconds: float) -> str | None:
        # An interruptible sleep waits without a core: the timeout models run beside the
        # rest of an integration run on two cores, where the cross joins' dbt run took
        # 5.8 s of CPU (2.6 s with the sleep) and slowed what ran beside it. DuckDB checks
        # the interrupt flag inside the sleep, as it does between a cross join's vectors.
        if _sleep_interrupts():
            return f"select coalesce(sleep_ms({round(seconds * 1000)}), 1) as slept"
        # Older DuckDB: a cross join large enough to outlast ``seconds`` on any machine.
        rows = 100_000
        return (
            f"select count(*) as n from range({rows}) a, range({rows}) b "
            "where a.range + b.range < -1"
        )

"""DuckDB: its own parser splits statements; a cross join keeps it busy."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from floe_compute_kit.conformance.engines._base import Engine

__all__ = ["DuckDBEngine"]


class DuckDBEngine(Engine):
    profile_type = "duckdb"
    dialect = "duckdb"
    runs_catalog_sql = True
    file_based = True

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
        # A cross join large enough to outlast ``seconds`` on any machine; the timeout
        # under test must cancel it.
        rows = 100_000
        return (
            f"select count(*) as n from range({rows}) a, range({rows}) b "
            "where a.range + b.range < -1"
        )

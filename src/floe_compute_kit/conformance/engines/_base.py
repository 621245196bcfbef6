"""The interface every engine implements, and the generic fallback."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

__all__ = ["SQLGLOT_DIALECTS", "Engine", "GenericEngine"]

#: dbt profile type -> sqlglot dialect, for engines the kit parses with sqlglot.
SQLGLOT_DIALECTS: Final = {
    "postgres": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "spark": "spark",
    "databricks": "databricks",
    "trino": "trino",
    "athena": "athena",
    "clickhouse": "clickhouse",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "oracle": "oracle",
    "sqlserver": "tsql",
    "fabric": "tsql",
    "duckdb": "duckdb",
}


class Engine:
    """One SQL engine as the kit's checks see it. Subclasses override what differs."""

    #: the dbt profile ``type`` this engine answers for
    profile_type: str = ""
    #: the sqlglot dialect used to tokenize its SQL
    dialect: str | None = None
    #: True when the kit can execute catalog attachment SQL on this engine itself
    runs_catalog_sql: bool = False
    #: True when a target is a file on this machine (no server to reach)
    file_based: bool = False
    #: run (a dbt pre-hook) before each of the timeout check's slow models, so that the
    #: engine waits on them without keeping a core busy; None: nothing to run
    slow_model_pre_hook: str | None = None

    def statement_kinds(self, sql: str) -> list[str]:
        """The kind of each statement in ``sql``, by the engine's own parser.

        Raises ValueError when the parser refuses ``sql``.
        """
        import sqlglot  # noqa: PLC0415 - only when a check parses SQL

        try:
            parsed = sqlglot.parse(sql, read=self.dialect)
        except sqlglot.errors.SqlglotError as exc:
            raise ValueError(f"sqlglot ({self.dialect}) cannot parse {sql!r}: {exc}") from None
        return [type(e).__name__ for e in parsed if e is not None]

    def split(self, sql: str) -> list[str]:
        """The text of each statement in ``sql`` (``[sql]`` when it cannot be parsed)."""
        import sqlglot  # noqa: PLC0415

        try:
            parsed = sqlglot.parse(sql, read=self.dialect)
        except sqlglot.errors.SqlglotError:
            return [sql]
        return [e.sql(dialect=self.dialect) for e in parsed if e is not None]

    def seed_file_target(self, path: Path) -> bool:
        """Create a small database file at ``path`` for read-only checks; False if the
        engine has no file targets."""
        return False

    def write_lock_problem(self, path: Path) -> str | None:
        """Why ``path`` cannot be opened for writing now (still locked), or None."""
        return None

    def live_target(self, workdir: Path, resources: ExitStack) -> dict[str, Any] | None:
        """Config fields pointing at a target the kit made (or started) itself under
        ``workdir``; anything started is entered into ``resources``, which the run closes.

        None when the kit cannot make one here (:meth:`no_live_target` says why).
        """
        return None

    def no_live_target(self) -> str:
        """Why :meth:`live_target` gave nothing, in words a user can act on."""
        return f"the kit cannot start a {self.profile_type or 'this engine'!s} target itself"

    def slow_query(self, seconds: float) -> str | None:
        """A SELECT that keeps the engine busy for about ``seconds``, for timeout checks.

        None when the kit has no such query for this engine (the plugin's hook must
        supply one).
        """
        return None


class GenericEngine(Engine):
    """An engine the kit has no special knowledge of: sqlglot in the matching dialect."""

    def __init__(self, profile_type: str | None) -> None:
        self.profile_type = profile_type or ""
        self.dialect = SQLGLOT_DIALECTS.get(self.profile_type)

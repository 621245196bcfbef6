"""PostgreSQL: sqlglot's postgres dialect; ``pg_sleep`` keeps the server busy."""

from __future__ import annotations

from floe_compute_kit.conformance.engines._base import Engine

__all__ = ["PostgresEngine"]


class PostgresEngine(Engine):
    profile_type = "postgres"
    dialect = "postgres"

    def slow_query(self, seconds: float) -> str | None:
        # pg_sleep in FROM: a void column cannot be materialized as a table or view.
        return f"select 1 as slept from pg_sleep({float(seconds):g})"

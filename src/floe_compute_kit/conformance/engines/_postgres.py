"""PostgreSQL: sqlglot's postgres dialect; ``pg_sleep`` keeps the server busy; the kit
can start a throwaway loopback server as the live target where the binaries exist."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from floe_compute_kit.conformance.engines._base import Engine

__all__ = ["PostgresEngine"]


class PostgresEngine(Engine):
    profile_type = "postgres"
    dialect = "postgres"

    def live_target(self, workdir: Path, resources: ExitStack) -> dict[str, Any] | None:
        from floe_compute_kit.conformance.services.postgres import (  # noqa: PLC0415 - lazy
            PostgresNotFoundError,
            find_bindir,
            postgres_server,
        )

        try:
            find_bindir()
        except PostgresNotFoundError:
            return None
        server = resources.enter_context(postgres_server(use_docker=False))
        # The fields of floe_compute_postgres's config (and of configs shaped like it).
        return {
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "dbname": server.dbname,
            "credentials": {"password": server.password},
        }

    def no_live_target(self) -> str:
        from floe_compute_kit.conformance.services.postgres import (  # noqa: PLC0415 - lazy
            INSTALL_HINT,
        )

        return (
            "the kit starts a loopback PostgreSQL itself only where the server binaries "
            f"exist, and none were found ({INSTALL_HINT})"
        )

    def slow_query(self, seconds: float) -> str | None:
        # pg_sleep in FROM: a void column cannot be materialized as a table or view.
        return f"select 1 as slept from pg_sleep({float(seconds):g})"

"""The ``floe_postgres`` dbt adapter: dbt-postgres 1.11 plus a statement timeout.

dbt-postgres 1.11 declares no statement-timeout key (its credentials are host, port,
user, password, database, schema, connect_timeout, role, search_path, keepalives_idle,
sslmode, sslcert, sslkey, sslrootcert, application_name, autocommit, retries); its only
way to libpq's ``options`` is ``search_path``, and ``role`` is spliced into SQL. Rather
than smuggle a setting through either, this adapter inherits everything from
dbt-postgres (dbt's adapter inheritance: ``dependencies=["postgres"]``, so every
``postgres__`` macro applies) and declares one key of its own, ``statement_timeout_ms``.
Each connection dbt opens sets it for the session right after connecting, so the
server cancels any statement that runs longer: a cancellation that needs no watcher
thread and holds when dbt itself is stuck.

Imported only inside a dbt run (as ``dbt.adapters.floe_postgres``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from dbt.adapters.base.plugin import AdapterPlugin
from dbt.adapters.postgres.connections import PostgresConnectionManager, PostgresCredentials
from dbt.adapters.postgres.impl import PostgresAdapter
from dbt_common.exceptions import DbtDatabaseError

from floe_compute_postgres.dbt_include import PACKAGE_PATH

__all__ = ["TYPE", "FloePostgresAdapter", "FloePostgresCredentials", "Plugin"]

TYPE: Final = "floe_postgres"
#: SQLSTATE 57014 query_canceled: what the server raises when statement_timeout expires.
_QUERY_CANCELED: Final = "57014"


@dataclass
class FloePostgresCredentials(PostgresCredentials):
    """dbt-postgres's credentials plus ``statement_timeout_ms`` (0: no timeout)."""

    statement_timeout_ms: int = 0

    @property
    def type(self) -> str:
        return TYPE

    def _connection_keys(self) -> tuple[str, ...]:
        return (*super()._connection_keys(), "statement_timeout_ms")  # type: ignore[no-untyped-call]  # dbt-postgres leaves it unannotated


class FloePostgresConnectionManager(PostgresConnectionManager):
    TYPE = TYPE

    @classmethod
    def open(cls, connection: Any) -> Any:
        was_open = connection.state == "open"
        connection = super().open(connection)  # type: ignore[no-untyped-call]
        timeout_ms = int(getattr(connection.credentials, "statement_timeout_ms", 0) or 0)
        if not was_open and timeout_ms > 0 and connection.handle is not None:
            handle = connection.handle
            with handle.cursor() as cursor:
                # A bound parameter, and committed at once: a later ROLLBACK must not undo it.
                cursor.execute(
                    "select set_config('statement_timeout', %s, false)", (f"{timeout_ms}ms",)
                )
            if not handle.autocommit:
                handle.commit()
        return connection

    @contextmanager
    def exception_handler(self, sql: str) -> Iterator[None]:
        try:
            with super().exception_handler(sql):
                yield
        except DbtDatabaseError as exc:
            cause = exc.__cause__
            if getattr(cause, "pgcode", None) != _QUERY_CANCELED:
                raise
            timeout_ms = getattr(
                self.get_thread_connection().credentials, "statement_timeout_ms", 0
            )
            raise DbtDatabaseError(
                f"{str(cause).strip()}: the query ran past floe's timeout_seconds="
                f"{timeout_ms / 1000:g} (statement_timeout {timeout_ms} ms) and was cancelled "
                "by the server; raise timeout_seconds in the compute config or speed up the model"
            ) from cause


class FloePostgresAdapter(PostgresAdapter):
    ConnectionManager = FloePostgresConnectionManager

    @classmethod
    def get_adapter_run_info(cls, config: Any) -> Any:
        # dbt derives a module name from the class name ("floepostgres"); the run is a
        # dbt-postgres run, so report that adapter and its version.
        return PostgresAdapter.get_adapter_run_info(config)


Plugin = AdapterPlugin(
    adapter=FloePostgresAdapter,  # type: ignore[arg-type]  # as dbt-postgres's own Plugin
    credentials=FloePostgresCredentials,
    include_path=PACKAGE_PATH,
    dependencies=["postgres"],
)

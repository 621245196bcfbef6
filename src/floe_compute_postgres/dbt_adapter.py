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

Every statement dbt runs goes through :meth:`FloePostgresConnectionManager.add_query`:

- a model's own ``{{ config(floe_timeout_seconds=N) }}`` (US7-AS2) sets the session's
  ``statement_timeout`` before that model's statements, inside dbt's transaction, and the
  profile's value comes back before the next model's (only when the value must change);
- a cancelled statement logs the timeout line (query id, node, duration, the timeout that
  applied) and the node's error names the same timeout and query id (US7-AS3);
- each statement is measured (:class:`floe_compute_kit.observability.QueryMeter`):
  duration, errors and the pool, which is dbt's connections (one per thread at most).

Imported only inside a dbt run (as ``dbt.adapters.floe_postgres``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

from dbt.adapters.base.plugin import AdapterPlugin
from dbt.adapters.postgres.connections import PostgresConnectionManager, PostgresCredentials
from dbt.adapters.postgres.impl import PostgresAdapter
from dbt_common.exceptions import DbtDatabaseError

from floe_compute_kit.dbt_timeouts import (
    MODEL_TIMEOUT_KEY,
    ManifestTimeouts,
    new_query_id,
    report_timeout,
)
from floe_compute_kit.errors import ComputeTimeoutError
from floe_compute_kit.observability import QueryMeter
from floe_compute_postgres.dbt_include import PACKAGE_PATH

__all__ = ["TYPE", "FloePostgresAdapter", "FloePostgresCredentials", "Plugin"]

TYPE: Final = "floe_postgres"
#: SQLSTATE 57014 query_canceled: what the server raises when statement_timeout expires.
_QUERY_CANCELED: Final = "57014"
#: dbt's connections are the pool: one per dbt thread (``threads``), plus its main one.
_METER: Final = QueryMeter("postgres")
_MODEL_TIMEOUTS: Final = ManifestTimeouts("postgres")
#: id(psycopg2 handle) -> the statement_timeout (ms) set on it, None when unknown.
_APPLIED: dict[int, int | None] = {}
_CLOSED: Final = object()


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
        handle = connection.handle
        if was_open or handle is None:
            return connection
        timeout_ms = _profile_timeout_ms(connection)
        if timeout_ms > 0:
            _set_timeout(handle, timeout_ms)
            if not handle.autocommit:  # committed at once: a later ROLLBACK must not undo it
                handle.commit()
        _APPLIED[id(handle)] = timeout_ms
        _METER.opened()
        return connection

    @classmethod
    def close(cls, connection: Any) -> Any:
        if connection.state == "open":  # never resolve a lazy handle just to close it
            handle = connection.handle
            if handle is not None and _APPLIED.pop(id(handle), _CLOSED) is not _CLOSED:
                _METER.closed()
        return super().close(connection)

    @classmethod
    def _rollback_handle(cls, connection: Any) -> None:
        super()._rollback_handle(connection)
        if connection.handle is not None and id(connection.handle) in _APPLIED:
            # a rollback restores the last committed statement_timeout: not known here
            _APPLIED[id(connection.handle)] = None

    def add_query(  # noqa: PLR0917 - dbt-adapters' own signature, called positionally
        self,
        sql: str,
        auto_begin: bool = True,
        bindings: Any = None,
        abridge_sql_log: bool = False,
        retryable_exceptions: tuple[type[Exception], ...] = (),
        retry_limit: int = 1,
    ) -> tuple[Any, Any]:
        """One statement, measured, under its model's timeout (or the profile's)."""
        connection = self.get_thread_connection()
        node, timeout_ms = self._statement_timeout(connection, sql)
        self._apply_timeout(connection, timeout_ms, auto_begin)
        with _METER.query() as outcome:
            started = time.monotonic()
            try:
                return super().add_query(
                    sql, auto_begin, bindings, abridge_sql_log, retryable_exceptions, retry_limit
                )
            except DbtDatabaseError as exc:
                if connection.handle is not None and id(connection.handle) in _APPLIED:
                    _APPLIED[id(connection.handle)] = None  # the transaction may be rolled back
                cause = exc.__cause__
                if cause is None or not _timed_out(cause) or not timeout_ms:
                    raise
                outcome.status = "timeout"
                outcome.error_type = ComputeTimeoutError.__name__
                elapsed = time.monotonic() - started
                raise _timeout_error(cause, node, elapsed, timeout_ms) from cause

    def _statement_timeout(self, connection: Any, sql: str) -> tuple[str | None, int]:
        """The running node and its statement_timeout in ms: its override, else the profile's."""
        profile_ms = _profile_timeout_ms(connection)
        node, seconds = _MODEL_TIMEOUTS.timeout_for(sql, profile_ms / 1000 or None)
        return node, round((seconds or 0) * 1000)

    def _apply_timeout(self, connection: Any, timeout_ms: int, auto_begin: bool) -> None:
        """SET statement_timeout on this session when the statement needs another value.

        Inside dbt's transaction (begun first, as dbt would), so a statement never runs in
        a transaction dbt does not know of; a COMMIT keeps the value, a ROLLBACK makes it
        unknown and the next statement sets it again.
        """
        handle = connection.handle
        if handle is None or _APPLIED.get(id(handle), _CLOSED) == timeout_ms:
            return
        if auto_begin and connection.transaction_open is False:
            self.begin()  # type: ignore[no-untyped-call]  # dbt-postgres is unannotated
        elif not connection.transaction_open and not handle.autocommit:
            return  # BEGIN/COMMIT themselves: no statement of a model to time
        with self.exception_handler("set statement_timeout"):  # dbt's error and rollback
            _set_timeout(handle, timeout_ms)
        _APPLIED[id(handle)] = timeout_ms


def _profile_timeout_ms(connection: Any) -> int:
    return int(getattr(connection.credentials, "statement_timeout_ms", 0) or 0)


def _set_timeout(handle: Any, timeout_ms: int) -> None:
    with handle.cursor() as cursor:  # a bound parameter: the value never becomes SQL text
        cursor.execute("select set_config('statement_timeout', %s, false)", (f"{timeout_ms}ms",))


def _timed_out(cause: BaseException) -> bool:
    """The server cancelled the statement because statement_timeout expired."""
    return getattr(cause, "pgcode", None) == _QUERY_CANCELED and "statement timeout" in str(cause)


def _timeout_error(
    cause: BaseException, node: str | None, elapsed: float, timeout_ms: int
) -> DbtDatabaseError:
    """The node's error: the server's words, the timeout that applied, and the query id."""
    query_id = new_query_id()
    seconds = timeout_ms / 1000
    report_timeout(query_id, node, elapsed, seconds, "cancelled")
    return DbtDatabaseError(
        f"{str(cause).strip()}: the query ran past floe's timeout_seconds={seconds:g} "
        f"(statement_timeout {timeout_ms} ms, query_id={query_id}) and was cancelled by the "
        f"server; raise timeout_seconds in the compute config or the model's "
        f"{MODEL_TIMEOUT_KEY} config, or speed up the model"
    )


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

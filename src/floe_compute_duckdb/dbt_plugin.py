"""The dbt-duckdb plugin that every floe DuckDB profile names in ``plugins``.

dbt-duckdb has no timeout key and no offline extension installer; this module adds both:

- ``update_connection_config`` (called before ``duckdb.connect``) copies the packaged
  extension files the profile's ``extensions`` need into the extension directory, so
  dbt-duckdb's own ``INSTALL``/``LOAD`` never reaches the network; ``configure_connection``
  LOADs the statically linked extensions listed in ``load_builtin`` (dbt-duckdb would
  INSTALL them first, which goes to the network);
- ``configure_cursor`` registers each cursor dbt-duckdb hands out; every SQL statement dbt
  executes through it then runs under a watchdog timer that calls
  ``DuckDBPyConnection.interrupt()`` once it passes its timeout, logs one line
  (query id, node, duration, timeout) and raises ComputeTimeoutError naming the timeout and
  the model. The timeout is the model's own ``floe_timeout_seconds`` config when it has one
  (``{{ config(floe_timeout_seconds=60) }}``), else the profile's ``timeout_seconds``;
- every statement is measured (:class:`floe_compute_kit.observability.QueryMeter`): query
  duration, errors, and the pool: dbt-duckdb shares one DuckDB connection per process and
  gives each dbt thread its own cursor on it, so the pool is those cursors, at most
  ``threads`` of them (plus dbt's main-thread handle).

dbt-duckdb offers no per-statement hook, so the watchdog wraps its cursor wrapper's
``execute`` (and its connection wrapper's ``close``) once per process; cursors no floe plugin
registered are passed straight through. The running node and its config come from
:mod:`floe_compute_kit.dbt_timeouts` (dbt's node context and the manifest.json dbt writes
before it runs any model).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

from dbt.adapters.duckdb.plugins import BasePlugin

from floe_compute_duckdb.extensions import BUILTIN_EXTENSIONS, install_packaged
from floe_compute_kit.dbt_timeouts import (
    MODEL_TIMEOUT_KEY,
    ManifestTimeouts,
    model_timeouts,
    node_id_from_sql,
    running_node,
    timeout_error,
)
from floe_compute_kit.errors import ComputeTimeoutError, log_error
from floe_compute_kit.observability import QueryMeter

__all__ = ["MODEL_TIMEOUT_KEY", "Plugin", "model_timeouts", "node_id_from_sql"]

_log = logging.getLogger("floe.compute.duckdb")
_T = TypeVar("_T")
_HOOK_FLAG: Final = "_floe_watchdog"
#: raw DuckDB cursor -> the floe plugin that watches it.
_WATCHED: weakref.WeakKeyDictionary[Any, Plugin] = weakref.WeakKeyDictionary()
_WATCHED_LOCK = threading.Lock()


class Plugin(BasePlugin):  # type: ignore[misc,unused-ignore]  # dbt-duckdb is untyped
    """Offline extensions and query timeouts for floe DuckDB profiles."""

    timeout_seconds: float | None = None
    load_builtin: tuple[str, ...] = ()

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        raw = plugin_config.get("timeout_seconds")
        self.timeout_seconds = float(raw) if raw else None
        self.load_builtin = tuple(
            name for name in plugin_config.get("load_builtin") or () if name in BUILTIN_EXTENSIONS
        )
        self.meter = QueryMeter("duckdb")
        self.model_timeouts = ManifestTimeouts("duckdb")
        self._open: weakref.WeakSet[Any] = weakref.WeakSet()
        _install_hook()

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        names = [e for e in (creds.extensions or []) if isinstance(e, str)]
        installed = install_packaged(names, extension_directory=config.get("extension_directory"))
        if installed:
            _log.info("installed DuckDB extensions offline from packages: %s", installed)

    def configure_connection(self, conn: Any) -> None:
        for name in self.load_builtin:  # statically linked: LOAD is instant and offline
            conn.execute(f"LOAD {name}")

    def configure_cursor(self, cursor: Any) -> None:
        with _WATCHED_LOCK:
            _WATCHED[cursor] = self
            self._open.add(cursor)
        self.meter.opened()

    def cursor_closed(self, cursor: Any) -> None:
        """dbt released the handle of ``cursor``: it leaves the pool (counted once)."""
        with _WATCHED_LOCK:
            if cursor not in self._open:
                return
            self._open.discard(cursor)
        self.meter.closed()

    def timeout_for(self, sql: str) -> tuple[str | None, float | None]:
        """The running node and its timeout: its own override, else the profile's."""
        return self.model_timeouts.timeout_for(sql, self.timeout_seconds)

    def run_watched(self, cursor: Any, sql: str, call: Callable[[], _T]) -> _T:
        """Run ``call`` (which executes ``sql`` on ``cursor``), measured, interrupted at the
        timeout."""
        with self.meter.query() as outcome:
            _node, timeout = self.timeout_for(sql)
            try:
                return self._run_with_timeout(cursor, sql, call, timeout)
            except ComputeTimeoutError:
                outcome.status = "timeout"
                outcome.error_type = ComputeTimeoutError.__name__
                raise

    def _run_with_timeout(
        self, cursor: Any, sql: str, call: Callable[[], _T], timeout: float | None
    ) -> _T:
        if not timeout:
            return call()
        lock = threading.Lock()
        state = {"finished": False, "fired": False}

        def fire() -> None:
            # Interrupt while holding the lock: once ``call`` has returned and marked the
            # query finished, no late interrupt can land on dbt's next statement.
            with lock:
                if state["finished"]:
                    return
                state["fired"] = True
                cursor.interrupt()

        timer = threading.Timer(timeout, fire)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            result = call()
        except BaseException as exc:
            elapsed = time.monotonic() - started
            with lock:
                state["finished"] = True
            timer.cancel()
            if state["fired"]:
                raise log_error(self._timeout_error(sql, elapsed, timeout)) from exc
            raise
        with lock:
            state["finished"] = True
        timer.cancel()
        return result

    def _timeout_error(self, sql: str, elapsed: float, timeout: float) -> ComputeTimeoutError:
        return timeout_error("duckdb", running_node(sql), elapsed, timeout, "interrupted")


def _raw_cursor(inner: Any) -> Any:
    """The DuckDB cursor under dbt-duckdb's wrapper (or a plugin's own wrapper of it)."""
    return inner.__dict__.get("_cursor", inner) if hasattr(inner, "__dict__") else inner


def _install_hook() -> None:
    """Route dbt-duckdb's cursor ``execute`` through the watchdog (once per process)."""
    from dbt.adapters.duckdb.environments import local  # noqa: PLC0415 - loaded by dbt-duckdb first

    wrapper = local.DuckDBCursorWrapper
    if getattr(wrapper.execute, _HOOK_FLAG, False):
        return
    original: Callable[..., Any] = wrapper.execute
    original_close: Callable[..., Any] = local.DuckDBConnectionWrapper.close

    def execute(self: Any, sql: str, bindings: Any = None) -> Any:
        raw = _raw_cursor(self._cursor)
        try:
            plugin = _WATCHED.get(raw)
        except TypeError:  # an unhashable cursor stand-in: nothing to watch
            plugin = None
        if plugin is None:
            return original(self, sql, bindings)
        return plugin.run_watched(raw, sql, lambda: original(self, sql, bindings))

    def close(self: Any) -> Any:
        raw = _raw_cursor(self._cursor)
        try:
            plugin = _WATCHED.get(raw)
        except TypeError:
            plugin = None
        if plugin is not None:
            plugin.cursor_closed(raw)
        return original_close(self)

    setattr(execute, _HOOK_FLAG, True)
    setattr(wrapper, "execute", execute)  # noqa: B010 - replacing a method of an untyped class
    setattr(local.DuckDBConnectionWrapper, "close", close)  # noqa: B010 - as above

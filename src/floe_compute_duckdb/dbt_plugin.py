"""The dbt-duckdb plugin that every floe DuckDB profile names in ``plugins``.

dbt-duckdb has no timeout key and no offline extension installer; this module adds both:

- ``update_connection_config`` (called before ``duckdb.connect``) copies the packaged
  extension files the profile's ``extensions`` need into the extension directory, so
  dbt-duckdb's own ``INSTALL``/``LOAD`` never reaches the network; ``configure_connection``
  LOADs the statically linked extensions listed in ``load_builtin`` (dbt-duckdb would
  INSTALL them first, which goes to the network);
- ``configure_cursor`` registers each cursor dbt-duckdb hands out; every SQL statement dbt
  executes through it then runs under a watchdog timer that calls
  ``DuckDBPyConnection.interrupt()`` once it passes ``timeout_seconds``, logs one line
  (query id, node, duration, timeout) and raises ComputeTimeoutError naming the timeout and
  the model.

dbt-duckdb offers no per-statement hook, so the watchdog wraps its cursor wrapper's
``execute`` once per process; cursors no floe plugin registered are passed straight through.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar

from dbt.adapters.duckdb.plugins import BasePlugin

from floe_compute_duckdb.extensions import BUILTIN_EXTENSIONS, install_packaged
from floe_compute_kit.errors import ComputeTimeoutError

__all__ = ["Plugin", "node_id_from_sql"]

_log = logging.getLogger("floe.compute.duckdb")
_T = TypeVar("_T")
_COMMENT = re.compile(r"^\s*/\*\s*(\{.*?\})\s*\*/", re.DOTALL)
_HOOK_FLAG: Final = "_floe_watchdog"
#: raw DuckDB cursor -> the floe plugin that watches it.
_WATCHED: weakref.WeakKeyDictionary[Any, Plugin] = weakref.WeakKeyDictionary()
_WATCHED_LOCK = threading.Lock()


def node_id_from_sql(sql: str) -> str | None:
    """The dbt node id in dbt's query comment (``/* {"node_id": ...} */``), if any."""
    match = _COMMENT.match(sql)
    if match is None:
        return None
    try:
        comment = json.loads(match.group(1))
    except ValueError:
        return None
    node = comment.get("node_id") if isinstance(comment, dict) else None
    return str(node) if node else None


def _report(message: str) -> None:
    """One line in dbt's console and log file (Python logging when outside dbt)."""
    try:
        from dbt.adapters.events.logging import AdapterLogger  # noqa: PLC0415 - dbt only inside a dbt run

        AdapterLogger("floe").error(message)
    except Exception:  # logging must never mask the timeout error itself
        _log.error(message)
    else:
        _log.debug(message)


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
        if self.timeout_seconds:
            with _WATCHED_LOCK:
                _WATCHED[cursor] = self

    def run_watched(self, cursor: Any, sql: str, call: Callable[[], _T]) -> _T:
        """Run ``call`` (which executes ``sql`` on ``cursor``), interrupting it at the timeout."""
        timeout = self.timeout_seconds
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
                raise self._timeout_error(sql, elapsed, timeout) from exc
            raise
        with lock:
            state["finished"] = True
        timer.cancel()
        return result

    def _timeout_error(self, sql: str, elapsed: float, timeout: float) -> ComputeTimeoutError:
        query_id = uuid.uuid4().hex[:16]
        node = node_id_from_sql(sql) or "<no dbt node>"
        shown = f"{timeout:g}"
        _report(
            f"floe.compute.timeout query_id={query_id} node_id={node} "
            f"duration_s={elapsed:.3f} timeout_s={shown} action=interrupted"
        )
        return ComputeTimeoutError(
            f"{node} was cancelled after {elapsed:.2f} s: it ran past the configured "
            f"timeout_seconds={shown} (query_id={query_id}); raise timeout_seconds in the "
            "compute config or make the model cheaper",
            plugin_name="duckdb",
            timeout_seconds=timeout,
            elapsed_seconds=elapsed,
            query_id=query_id,
        )


def _install_hook() -> None:
    """Route dbt-duckdb's cursor ``execute`` through the watchdog (once per process)."""
    from dbt.adapters.duckdb.environments import local  # noqa: PLC0415 - loaded by dbt-duckdb first

    wrapper = local.DuckDBCursorWrapper
    if getattr(wrapper.execute, _HOOK_FLAG, False):
        return
    original: Callable[..., Any] = wrapper.execute

    def execute(self: Any, sql: str, bindings: Any = None) -> Any:
        inner = self._cursor
        raw = inner.__dict__.get("_cursor", inner) if hasattr(inner, "__dict__") else inner
        try:
            plugin = _WATCHED.get(raw)
        except TypeError:  # an unhashable cursor stand-in: nothing to watch
            plugin = None
        if plugin is None:
            return original(self, sql, bindings)
        return plugin.run_watched(raw, sql, lambda: original(self, sql, bindings))

    setattr(execute, _HOOK_FLAG, True)
    setattr(wrapper, "execute", execute)  # noqa: B010 - replacing a method of an untyped class

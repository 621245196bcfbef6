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
registered are passed straight through. The running node comes from dbt's query comment,
and its config from the manifest.json dbt writes before it runs any model.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from dbt.adapters.duckdb.plugins import BasePlugin

from floe_compute_duckdb.extensions import BUILTIN_EXTENSIONS, install_packaged
from floe_compute_kit.errors import ComputeConfigurationError, ComputeTimeoutError, log_error
from floe_compute_kit.observability import QueryMeter

__all__ = ["MODEL_TIMEOUT_KEY", "Plugin", "model_timeouts", "node_id_from_sql"]

#: The dbt model config that overrides the profile's timeout for one model.
MODEL_TIMEOUT_KEY: Final = "floe_timeout_seconds"
_TIMEOUT_RANGE: Final = (1, 86400)

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


def model_timeouts(manifest: dict[str, Any]) -> dict[str, Any]:
    """node id -> its ``floe_timeout_seconds`` config, for the nodes of a manifest that set one."""
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    found: dict[str, Any] = {}
    for uid, node in (nodes or {}).items():
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict) and config.get(MODEL_TIMEOUT_KEY) is not None:
            found[uid] = config[MODEL_TIMEOUT_KEY]
    return found


def _checked_timeout(node: str, value: Any) -> float:
    """A model's override, or one clear error naming the model, the value and the range."""
    low, high = _TIMEOUT_RANGE
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    ):
        return float(value)
    raise log_error(
        ComputeConfigurationError(
            f"{node}: config {MODEL_TIMEOUT_KEY}={value!r} is not a number of seconds from "
            f"{low} to {high}; fix the model's config() or dbt_project.yml",
            plugin_name="duckdb",
            field=MODEL_TIMEOUT_KEY,
            value=repr(value)[:80],
            allowed=f"{low}..{high}",
        )
    )


class _ManifestTimeouts:
    """Per-model timeouts read from the manifest.json of the running dbt invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None
        self._timeouts: dict[str, Any] = {}

    @staticmethod
    def _path() -> Path | None:
        try:
            from dbt.flags import get_flags  # noqa: PLC0415 - only inside a dbt run
        except ImportError:
            return None
        flags = get_flags()  # type: ignore[no-untyped-call]  # dbt-core is untyped
        target = getattr(flags, "TARGET_PATH", None) or "target"
        project = getattr(flags, "PROJECT_DIR", None) or "."
        path = Path(target)
        return (path if path.is_absolute() else Path(project) / path) / "manifest.json"

    def lookup(self, node: str) -> Any:
        path = self._path()
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:  # no manifest yet (or outside dbt): the profile's timeout holds
            return None
        with self._lock:
            if self._key != (str(path), mtime):
                try:
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    loaded = {}
                self._timeouts = model_timeouts(loaded)
                self._key = (str(path), mtime)
            return self._timeouts.get(node)


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
        self.meter = QueryMeter("duckdb")
        self.model_timeouts = _ManifestTimeouts()
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
        node = node_id_from_sql(sql)
        if node is not None:
            override = self.model_timeouts.lookup(node)
            if override is not None:
                return node, _checked_timeout(node, override)
        return node, self.timeout_seconds

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
            f"compute config or the model's {MODEL_TIMEOUT_KEY} config, or make the model "
            "cheaper",
            plugin_name="duckdb",
            timeout_seconds=timeout,
            elapsed_seconds=elapsed,
            query_id=query_id,
        )


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

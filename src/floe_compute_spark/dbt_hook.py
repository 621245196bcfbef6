"""Query timeouts for dbt-spark's ``session`` method, which has none of its own.

dbt-spark 1.11 honours ``query_timeout`` only over thrift, and even there it stops
waiting without cancelling the query. Its ``session`` method (a local SparkSession, or
Spark Connect when ``spark.remote`` is set) runs each statement through
``dbt.adapters.spark.session.Cursor``. :func:`install` wraps that cursor's ``execute``,
``fetchall`` and ``fetchone`` once per process:

- the timeout comes from the cursor's ``server_side_parameters`` (``floe.timeout_seconds``,
  written by :func:`floe_compute_spark.profile.build_profile`); the key is removed before
  Spark sees the parameters; cursors without it run untouched;
- each call runs under a tag of its own: a job group (``SparkContext.setJobGroup``, with
  interrupt on cancel) in a local session, an operation tag (``SparkSession.addTag``) over
  Spark Connect. Past the timeout a watchdog thread cancels it (``cancelJobGroup`` /
  ``interruptTag``) every 50 ms until the call returns: a statement may still be planning,
  or start new jobs, after the first cancel. (A local session's ``interruptTag`` finds no
  job in pyspark 4.3; the job group does.) Then one line is logged (query id, node, duration,
  timeout) and ComputeTimeoutError names the timeout and the model. A statement that
  finishes anyway (metadata work with no job to cancel) keeps its result;
- a model's own ``{{ config(floe_timeout_seconds=N) }}`` replaces the profile's timeout for
  that model's statements (:mod:`floe_compute_kit.dbt_timeouts`);
- every call that runs Spark work (``execute``, and the first fetch that collects its rows)
  is measured (:class:`floe_compute_kit.observability.QueryMeter`): duration, errors, and
  the pool, which is dbt's session connections (one per dbt thread) on one SparkSession.

dbt-core imports every top-level ``dbt_*`` module and starts the ``dbtPlugin`` classes it
lists; ``dbt_floe_spark`` is that module. dbt-spark imports its session module only when a
session connection opens, so :func:`install` patches it on import, and runs no pyspark
code in dbt processes of other adapters.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Final, TypeVar

from floe_compute_kit.dbt_timeouts import ManifestTimeouts, node_id_from_sql, timeout_error
from floe_compute_kit.errors import ComputeTimeoutError, log_error
from floe_compute_kit.observability import QueryMeter
from floe_compute_spark.profile import TIMEOUT_KEY

__all__ = ["SESSION_MODULE", "install", "node_of", "patch"]

_log = logging.getLogger("floe.compute.spark")
_T = TypeVar("_T")
SESSION_MODULE: Final = "dbt.adapters.spark.session"
_FLAG: Final = "_floe_timeout"
_REPEAT_S: Final = 0.05
#: server_side_parameters -> the session they built, once per dbt process.
_SESSIONS: dict[tuple[tuple[str, str], ...], Any] = {}
_SESSIONS_LOCK = threading.Lock()
#: The pool is dbt's session connections (one per dbt thread), all on one SparkSession.
_METER: Final = QueryMeter("spark")
_MODEL_TIMEOUTS: Final = ManifestTimeouts("spark")
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()
_OPEN_LOCK = threading.Lock()


def node_of(sql: str) -> str:
    """The dbt node named in dbt's leading query comment, or ``<no dbt node>``."""
    return node_id_from_sql(sql) or "<no dbt node>"


def _timeout_of(cursor: Any) -> float | None:
    """Take the floe keys out of the cursor's parameters: the profile's timeout (0: none),
    or None for a cursor no floe profile made."""
    params = getattr(cursor, "server_side_parameters", None)
    if not isinstance(params, dict):
        return None
    stored = cursor.__dict__.get(_FLAG)
    if stored is None and TIMEOUT_KEY in params:
        raw = params.get(TIMEOUT_KEY)
        cursor.server_side_parameters = {k: v for k, v in params.items() if k != TIMEOUT_KEY}
        try:
            stored = float(raw) if raw else 0.0
        except ValueError:
            stored = 0.0
        cursor.__dict__[_FLAG] = stored
    return stored  # type: ignore[no-any-return]  # a float we stored, or None


def _session(cursor: Any) -> Any:
    """The SparkSession dbt-spark's cursor runs on (the same builder call it makes).

    The first time in a process, the Hive metastore and the executors are warmed once
    (``SHOW DATABASES`` and a one-row job, both read-only) outside any timeout: creating
    the Derby metastore and loading the first job's classes take seconds, and the timeout
    is about queries, not about starting Spark.
    """
    key = tuple(sorted(cursor.server_side_parameters.items()))
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            from pyspark.sql import SparkSession  # noqa: PLC0415 - only inside a dbt-spark run

            builder = SparkSession.builder.enableHiveSupport()
            for name, value in key:
                builder = builder.config(name, value)
            session = builder.getOrCreate()
            session.sql("SHOW DATABASES").collect()
            session.range(1).collect()
            _SESSIONS[key] = session
    return session


class _Tags:
    """Tagging and cancelling one statement's Spark work, in each kind of session."""

    _GROUP_KEYS = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")

    @staticmethod
    def _connect(session: Any) -> bool:
        return type(session).__module__.startswith("pyspark.sql.connect")

    def start(self, session: Any, tag: str) -> None:
        if self._connect(session):
            session.addTag(tag)
        else:  # thread-local, like the statement that follows on this thread
            session.sparkContext.setJobGroup(tag, "floe timeout watch", interruptOnCancel=True)

    def cancel(self, session: Any, tag: str) -> None:
        if self._connect(session):
            session.interruptTag(tag)
        else:
            session.sparkContext.cancelJobGroup(tag)

    def finish(self, session: Any, tag: str) -> None:
        if self._connect(session):
            session.removeTag(tag)
        else:  # a later untimed statement on this thread must not join the group
            for key in self._GROUP_KEYS:
                session.sparkContext.setLocalProperty(key, None)


_tag = _Tags()


def run_with_timeout(cursor: Any, sql: str, call: Callable[[], _T]) -> _T:
    """Run ``call`` (one statement of ``cursor``), measured, its Spark jobs cancelled at the
    model's timeout (``floe_timeout_seconds``), else the profile's."""
    profile_timeout = _timeout_of(cursor)
    if profile_timeout is None:  # not a floe profile's cursor: untouched
        return call()
    node, timeout = _MODEL_TIMEOUTS.timeout_for(sql, profile_timeout or None)
    with _METER.query() as outcome:
        if not timeout:
            return call()
        try:
            return _cancel_at(cursor, node, timeout, call)
        except ComputeTimeoutError:
            outcome.status = "timeout"
            outcome.error_type = ComputeTimeoutError.__name__
            raise


def _cancel_at(cursor: Any, node: str | None, timeout: float, call: Callable[[], _T]) -> _T:
    session = _session(cursor)
    tag = "floe-" + uuid.uuid4().hex[:16]
    done = threading.Event()
    fired: list[float] = []

    def watch() -> None:
        if done.wait(timeout):
            return
        fired.append(time.monotonic())
        while not done.is_set():
            try:
                _tag.cancel(session, tag)
            except Exception as exc:  # the session may be closing; keep trying until done
                _log.debug("cancelling %s failed: %s", tag, exc)
            done.wait(_REPEAT_S)

    watcher = threading.Thread(target=watch, name=f"floe-spark-timeout-{tag}", daemon=True)
    started = time.monotonic()
    _tag.start(session, tag)
    watcher.start()
    try:
        result = call()
    except BaseException as exc:
        done.set()
        if fired:
            raise log_error(
                timeout_error("spark", node, time.monotonic() - started, timeout, "cancelled")
            ) from exc
        raise
    finally:
        done.set()
        _tag.finish(session, tag)
    if fired:  # nothing was left to cancel (metadata work, not a Spark job): it finished
        _log.warning(
            "floe.compute.timeout node_id=%s duration_s=%.3f timeout_s=%g action=none "
            "(the statement had no Spark job left to cancel and finished)",
            node or "<no dbt node>",
            time.monotonic() - started,
            timeout,
        )
    return result


def _has_rows_to_collect(cursor: Any) -> bool:
    """A fetch that runs Spark work: the first one after execute (later ones read rows)."""
    return cursor.__dict__.get("_rows") is None and cursor.__dict__.get("_df") is not None


def _patch_pool(wrapper_class: Any) -> None:
    """Count dbt's session connections of floe profiles: opened, and closed once."""
    init = wrapper_class.__init__
    close = wrapper_class.close

    def counted_init(self: Any, handle: Any) -> None:
        init(self, handle)
        params = getattr(handle, "server_side_parameters", None)
        if isinstance(params, dict) and TIMEOUT_KEY in params:
            with _OPEN_LOCK:
                _OPEN.add(self)
            _METER.opened()

    def counted_close(self: Any) -> None:
        with _OPEN_LOCK:
            counted = self in _OPEN
            _OPEN.discard(self)
        if counted:
            _METER.closed()
        close(self)

    setattr(wrapper_class, "__init__", counted_init)  # noqa: B010 - patching an untyped class
    setattr(wrapper_class, "close", counted_close)  # noqa: B010 - as above


def patch(module: ModuleType) -> None:
    """Route the session cursor of dbt-spark's ``module`` through the timeout (once)."""
    cursor_class = module.Cursor
    if getattr(cursor_class.execute, _FLAG, False):
        return
    execute = cursor_class.execute
    fetchall = cursor_class.fetchall
    fetchone = cursor_class.fetchone

    def timed_execute(self: Any, sql: str, *parameters: Any) -> None:
        self.__dict__["_floe_sql"] = sql
        run_with_timeout(self, sql, lambda: execute(self, sql, *parameters))

    def timed_fetchall(self: Any) -> Any:
        if not _has_rows_to_collect(self):
            return fetchall(self)
        return run_with_timeout(self, self.__dict__.get("_floe_sql", ""), lambda: fetchall(self))

    def timed_fetchone(self: Any) -> Any:
        if not _has_rows_to_collect(self):
            return fetchone(self)
        return run_with_timeout(self, self.__dict__.get("_floe_sql", ""), lambda: fetchone(self))

    for name, wrapped in (
        ("execute", timed_execute),
        ("fetchall", timed_fetchall),
        ("fetchone", timed_fetchone),
    ):
        setattr(wrapped, _FLAG, True)
        setattr(cursor_class, name, wrapped)
    _patch_pool(module.SessionConnectionWrapper)


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then :func:`patch` on the fresh module."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self._inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        patch(module)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds dbt-spark's session module through the other finders and wraps its loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != SESSION_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    """Patch dbt-spark's session cursor now if it is loaded, else as soon as it is."""
    module = sys.modules.get(SESSION_MODULE)
    if module is not None:
        patch(module)
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())

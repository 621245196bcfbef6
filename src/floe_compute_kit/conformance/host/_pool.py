"""Sibling plugin hosts, so that independent calls can run at the same time.

One plugin host answers one request at a time, and a networked engine's health check
may take a second. A check with several independent calls hands them to
:func:`spread`: they run on the primary host and on up to ``MAX_HOSTS - 1`` siblings,
hosts that load the same plugin spec with the same settings, started on first need and
closed with the primary. Whatever a sibling observes lands in the primary's records
(hung marks, side effects, captured logs/spans/metrics, events, restarts, output tails,
secrets handed out), so a defect seen in a sibling fails the same check with the same
message as in the primary. In-process plugins are never called concurrently.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from floe_compute_kit.conformance.host._client import HostPlugin, PluginHost

__all__ = ["MAX_HOSTS", "spread"]

#: At most this many hosts (the primary included) serve one plugin at a time.
MAX_HOSTS: Final = 4
#: A call quicker than this (DuckDB's health check takes ~30 ms) gains nothing from a
#: sibling, whose start costs ~0.3 s of CPU; a networked engine's health check is slower.
QUICK_S: Final = 0.15
#: Siblings start after this many slow calls in a row. One is not enough: a method's
#: first call in a process pays one-time costs (DuckDB loads its Iceberg extension in
#: ~0.3 s), and a sibling would pay them again.
SLOW_STREAK: Final = 2
_T = TypeVar("_T")
_MERGE = threading.Lock()


class _Sibling(PluginHost):
    """A second host for the same plugin whose records are the primary's own."""

    def __init__(self, primary: PluginHost) -> None:
        super().__init__(primary.spec, primary.workdir, primary.settings)
        self.primary = primary
        self.hung = primary.hung
        self.captured = primary.captured
        self.events = primary.events

    def start(self) -> dict[str, Any]:
        # Loading again reports the load's side effects again: merged, not repeated.
        self.effects = []
        reply = super().start()
        with _MERGE:
            for effect in self.effects:
                if effect not in self.primary.effects:
                    self.primary.effects.append(effect)
            self.effects = self.primary.effects
        return reply

    def _restart(self, method: str) -> None:
        self.primary.restarts += 1
        super()._restart(method)


class _Pool:
    """The siblings of one primary host, and the plugin stand-ins that call them."""

    def __init__(self, plugin: HostPlugin) -> None:
        self.plugin = plugin
        self.host = plugin.floe_host
        self.handles: list[HostPlugin] = []
        self.refused = False
        self.slow_streak = 0
        #: guards ``slow_streak`` (``_lock`` is held by ``grow`` for as long as siblings start)
        self.streak_lock = threading.Lock()
        self._lock = threading.Lock()

    def grow(self, wanted: int) -> list[HostPlugin]:
        """The primary's stand-in and up to ``wanted - 1`` siblings' (started now if need be)."""
        with self._lock:
            missing = min(wanted, MAX_HOSTS) - 1 - len(self.handles)
            if missing > 0 and not self.refused:
                started = [_Sibling(self.host) for _ in range(missing)]
                threads = [threading.Thread(target=self._start, args=(s,)) for s in started]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            return [self.plugin, *self.handles[: max(0, wanted - 1)]]

    def _start(self, sibling: _Sibling) -> None:
        reply = sibling.start()
        if "failure" in reply or reply.get("class") != self.host.info.get("class"):
            # A plugin that loads once but not twice is judged in the primary alone.
            sibling.close()
            self.refused = True
            self.host.events.append(
                "a sibling host could not load the plugin again, so its calls run one at a "
                f"time: {reply.get('failure', {}).get('message', 'another class loaded')}"
            )
            return
        handle = HostPlugin(sibling, self.plugin.floe_models)
        handle.secrets_seen = self.plugin.secrets_seen
        with _MERGE:
            self.host.siblings.append(sibling)
            self.handles.append(handle)


_POOL_LOCK = threading.Lock()


def _pool(plugin: HostPlugin) -> _Pool:
    """The plugin stand-in's own pool: it lives and goes with the stand-in."""
    with _POOL_LOCK:
        pool: _Pool | None = getattr(plugin, "_floe_pool", None)
        if pool is None:
            pool = _Pool(plugin)
            plugin._floe_pool = pool  # type: ignore[attr-defined]  # a private slot of ours
        return pool


def spread(plugin: Any, jobs: Sequence[Callable[[Any], _T]]) -> list[_T]:
    """``[job(handle) for job in jobs]``, run concurrently on the plugin's hosts.

    Each job gets a stand-in for the plugin (the primary's or a sibling's) that no other
    job uses while it runs. Before any sibling exists, jobs run in turn on the primary
    until ``SLOW_STREAK`` calls in a row (across spreads) took ``QUICK_S``; only the rest
    are spread. In-process plugins, and single jobs, run one after another on ``plugin``
    itself. Results keep the order of ``jobs``.
    """
    if not isinstance(plugin, HostPlugin) or len(jobs) < 2:
        return [job(plugin) for job in jobs]
    pool = _pool(plugin)
    done: list[_T] = []
    if not pool.handles:
        # Siblings cost a process and a plugin load each: worth it only for slow calls.
        # Until SLOW_STREAK calls in a row took QUICK_S, jobs run in turn on the primary.
        for job in jobs:
            start = time.monotonic()
            done.append(job(plugin))
            slow = time.monotonic() - start >= QUICK_S
            with pool.streak_lock:  # two lanes may spread at once
                pool.slow_streak = pool.slow_streak + 1 if slow else 0
                streak = pool.slow_streak
            if streak >= SLOW_STREAK:
                break
        jobs = jobs[len(done) :]
        if len(jobs) < 2:
            return done + [job(plugin) for job in jobs]
    handles = pool.grow(len(jobs))
    if len(handles) < 2:
        return done + [job(plugin) for job in jobs]
    free: queue.SimpleQueue[HostPlugin] = queue.SimpleQueue()
    for handle in handles:
        free.put(handle)

    def run(job: Callable[[Any], _T]) -> _T:
        handle = free.get()
        try:
            return job(handle)
        finally:
            free.put(handle)

    with ThreadPoolExecutor(max_workers=len(handles), thread_name_prefix="floe-pool") as workers:
        return done + list(workers.map(run, jobs))

"""Calling into a plugin so that its faults are told apart from the kit's.

Every check calls the plugin through :func:`call`: an exception the plugin raises
becomes :class:`PluginRaised` carrying the plugin's own traceback (the kit's frames
cut off), so the runner reports it as the plugin's failure and not as a kit error.
:func:`call_with_budget` runs a call in a daemon thread and gives up at the budget,
so a hanging ``validate_connection`` fails one check while the suite goes on.
"""

from __future__ import annotations

import contextvars
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PluginRaised",
    "TimedCall",
    "call",
    "call_with_budget",
    "plugin_traceback",
    "read",
]


class PluginRaised(Exception):  # noqa: N818 - it reports, it is not an error of the kit
    """The plugin raised while a check exercised ``method``."""

    def __init__(self, method: str, error: BaseException, tb: str) -> None:
        if getattr(error, "floe_host_event", False):  # it crashed, exited or hung: say so
            super().__init__(str(error))
        else:
            super().__init__(f"{method} raised {type(error).__name__}: {error}")
        self.method = method
        self.error = error
        self.traceback = tb
        self.example: dict[str, Any] | None = None
        self.seed: int | None = None


def plugin_traceback(error: BaseException, *, skip: int = 1) -> str:
    """The traceback of ``error`` without the first ``skip`` frames (the kit's own)."""
    remote = getattr(error, "floe_remote_traceback", None)
    if isinstance(remote, str):  # raised in the plugin host: its traceback is the one there
        return remote
    tb = error.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


def call(plugin: object, method: str, *args: Any) -> Any:
    """``plugin.method(*args)``; whatever it raises comes back as PluginRaised."""
    try:
        member = getattr(plugin, method)
    except Exception as exc:
        raise PluginRaised(method, exc, plugin_traceback(exc, skip=0)) from exc
    try:
        return member(*args)
    except (Exception, SystemExit) as exc:
        raise PluginRaised(method, exc, plugin_traceback(exc)) from exc


def read(plugin: object, attribute: str) -> Any:
    """``plugin.attribute`` (a property may raise); errors come back as PluginRaised."""
    try:
        return getattr(plugin, attribute)
    except Exception as exc:
        raise PluginRaised(attribute, exc, plugin_traceback(exc)) from exc


@dataclass
class TimedCall:
    """One call made with a budget: its value or error, and the wall time around it."""

    value: Any = None
    error: PluginRaised | None = None
    timed_out: bool = False
    wall_ms: float = 0.0


def call_with_budget(fn: Callable[[], Any], *, method: str, budget_s: float) -> TimedCall:
    """Run ``fn`` in a daemon thread; stop waiting after ``budget_s`` seconds.

    Measured: a thread costs about 0.1 ms here, far below a subprocess, and a
    thread left hanging is a daemon, so it never keeps the interpreter alive.
    """
    from floe_compute_kit.conformance.host import PluginHungError, call_deadline  # noqa: PLC0415

    box = TimedCall()

    def run() -> None:
        with call_deadline(budget_s):
            box.value = fn()

    def target() -> None:
        start = time.perf_counter()
        try:
            run()
        except PluginRaised as exc:
            box.error = exc
        except (Exception, SystemExit) as exc:
            box.error = PluginRaised(method, exc, plugin_traceback(exc, skip=0))
        finally:
            box.wall_ms = (time.perf_counter() - start) * 1000.0

    context = contextvars.copy_context()
    worker = threading.Thread(
        target=context.run, args=(target,), name=f"floe-call-{method}", daemon=True
    )
    started = time.perf_counter()
    worker.start()
    # A host enforces the budget itself (and kills a hung plugin); the extra second lets
    # its answer arrive. In-process, this join is the only limit there is.
    worker.join(budget_s + 1.0)
    if worker.is_alive():
        return TimedCall(timed_out=True, wall_ms=(time.perf_counter() - started) * 1000.0)
    if box.error is not None and isinstance(box.error.error, PluginHungError):
        return TimedCall(timed_out=True, wall_ms=box.wall_ms)
    if box.error is None and box.wall_ms > budget_s * 1000.0:
        return TimedCall(timed_out=True, wall_ms=box.wall_ms)
    return box

"""Calling into a plugin so that its faults are told apart from the kit's.

Every check calls the plugin through :func:`call`: an exception the plugin raises
becomes :class:`PluginRaised` carrying the plugin's own traceback (the kit's frames
cut off), so the runner reports it as the plugin's failure and not as a kit error.
:func:`call_with_budget` runs a call in a daemon thread and gives up at the budget,
so a hanging ``validate_connection`` fails one check while the suite goes on.
"""

from __future__ import annotations

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
    """``fn()`` with ``budget_s`` seconds to return.

    Against a plugin host the host enforces the budget (and kills a hung plugin); the
    extra second lets its answer arrive. In-process, the wait is the only limit there is.
    """
    from floe_compute_kit._deadline import run_with_deadline  # noqa: PLC0415
    from floe_compute_kit.conformance.host import PluginHungError, call_deadline  # noqa: PLC0415

    def budgeted() -> Any:
        with call_deadline(budget_s):
            return fn()

    done = run_with_deadline(budgeted, budget_s + 1.0, name=f"floe-call-{method}")
    wall_ms = done.wall_s * 1000.0
    if done.timed_out or wall_ms > budget_s * 1000.0:
        return TimedCall(timed_out=True, wall_ms=wall_ms)
    error = done.error
    if error is None:
        return TimedCall(value=done.value, wall_ms=wall_ms)
    if not isinstance(error, PluginRaised):
        error = PluginRaised(method, error, plugin_traceback(error, skip=0))
    if isinstance(error.error, PluginHungError):
        return TimedCall(timed_out=True, wall_ms=wall_ms)
    return TimedCall(error=error, wall_ms=wall_ms)

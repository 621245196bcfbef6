"""One way to wait for code that may never return: a daemon thread and a deadline.

A thread cannot be killed, so what overruns is abandoned (as a daemon it never keeps
the interpreter alive); where the code must really stop, the kit runs it in a process
it can kill (the plugin host). The caller's context variables go along, so spans and
call deadlines set around the call still apply inside it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Finished", "run_with_deadline"]

_T = TypeVar("_T")


@dataclass
class Finished(Generic[_T]):
    """How a call ended: its value or what it raised, or that it overran; and its wall time."""

    value: _T | None = None
    error: BaseException | None = None
    timed_out: bool = False
    wall_s: float = 0.0


def run_with_deadline(fn: Callable[[], _T], seconds: float, *, name: str) -> Finished[_T]:
    """``fn()`` in a daemon thread; stop waiting after ``seconds``. Never raises."""
    done: Finished[_T] = Finished()

    def target() -> None:
        start = time.perf_counter()
        try:
            done.value = fn()
        except BaseException as exc:
            done.error = exc
        finally:
            done.wall_s = time.perf_counter() - start

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(target,), name=name, daemon=True)
    started = time.perf_counter()
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return Finished(timed_out=True, wall_s=time.perf_counter() - started)
    return done

"""Hypothesis draws that depend on the seed alone.

Hypothesis mixes constants found in "local" source files (anything outside
site-packages, such as an editable install of a plugin or of this kit) into its
draws. The same seed then draws different configs in a pytest run and in
``floe-conformance report``, or after an unrelated string edit, and a certificate
could neither be re-run nor replayed. While a check runs, the local constants are
switched off and the constants cache is private to the kit.

This touches a private Hypothesis module. If it moves, nothing breaks: draws are
merely as reproducible as Hypothesis makes them by default.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["seed_only_draws", "shared_thread_random"]


class _Switch:
    """Process-wide (Hypothesis's state is), counted so nested and threaded uses compose."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: tuple[Any, Any] | None = None


_SWITCH = _Switch()
#: The one Random Hypothesis manages for the kit's drawing threads (see below).
_SHARED: list[Any] = []


@contextmanager
def seed_only_draws() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers  # noqa: PLC0415 - lazy, heavy
        from hypothesis.internal.constants_ast import Constants  # noqa: PLC0415

        original = (providers._get_local_constants, providers.CONSTANTS_CACHE)
    except (ImportError, AttributeError):  # pragma: no cover - a future Hypothesis
        yield
        return
    with _SWITCH.lock:
        if _SWITCH.depth == 0:
            _SWITCH.saved = original
            empty = Constants()
            providers._get_local_constants = lambda: empty
            providers.CONSTANTS_CACHE = type(original[1])(1024)
        _SWITCH.depth += 1
    try:
        yield
    finally:
        with _SWITCH.lock:
            _SWITCH.depth -= 1
            if _SWITCH.depth == 0 and _SWITCH.saved is not None:
                providers._get_local_constants, providers.CONSTANTS_CACHE = _SWITCH.saved
                _SWITCH.saved = None


def shared_thread_random() -> None:
    """Give this thread Hypothesis's per-thread Random from one registered once.

    Each check runs in a thread of its own, and Hypothesis makes and registers a Random
    for every new thread that draws; registering runs a full ``gc.collect()`` with every
    other thread stopped: 0.1-0.25 s each in a kit whose heap holds pydantic, sqlglot
    and pyarrow. The kit draws one sample at a time (under the drawing lock), so one
    Random, registered while the kit waits for the plugin host, serves every check.
    """
    try:
        from hypothesis import core, register_random  # noqa: PLC0415 - lazy, heavy

        local = core.threadlocal
    except (ImportError, AttributeError):  # pragma: no cover - a future Hypothesis
        return
    with _SWITCH.lock:
        if not _SHARED:
            import random  # noqa: PLC0415

            _SHARED.append(random.Random())  # noqa: S311 - Hypothesis seeds it; no secret
            register_random(_SHARED[0])  # held here first: Hypothesis keeps only a weakref
    try:
        if local._hypothesis_global_random is None:
            local._hypothesis_global_random = _SHARED[0]
    except AttributeError:  # pragma: no cover - a future Hypothesis
        pass

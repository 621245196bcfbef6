"""One deadline helper: a call that returns, raises or overruns always comes back."""

from __future__ import annotations

import contextvars
import threading

import pytest

from floe_compute_kit._deadline import run_with_deadline

pytestmark = pytest.mark.requirement("FR-003")

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("_VAR", default="unset")


def test_value_error_and_overrun() -> None:
    assert run_with_deadline(lambda: 42, 5, name="t").value == 42
    raised = run_with_deadline(lambda: (_ for _ in ()).throw(KeyboardInterrupt), 5, name="t")
    assert isinstance(raised.error, KeyboardInterrupt)
    release = threading.Event()
    try:
        over = run_with_deadline(lambda: release.wait(30), 0.2, name="t")
        assert over.timed_out
        assert over.value is None
        assert over.wall_s >= 0.2
    finally:
        release.set()


def test_the_callers_context_goes_along() -> None:
    token = _VAR.set("caller")
    try:
        assert run_with_deadline(_VAR.get, 5, name="t").value == "caller"
    finally:
        _VAR.reset(token)

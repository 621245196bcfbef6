"""Plugin calls: exceptions keep the plugin's traceback; a budget stops waiting on a hang."""

from __future__ import annotations

import threading

import pytest

from floe_compute_kit.conformance._invoke import PluginRaised, call, call_with_budget, read

pytestmark = pytest.mark.requirement("KIT-021")


class Faulty:
    @property
    def name(self) -> str:
        raise RuntimeError("no name today")

    def explode(self, value: int) -> int:
        return self._deeper(value)

    def _deeper(self, value: int) -> int:
        raise ValueError(f"bad value {value}")

    def bye(self) -> None:
        raise SystemExit(3)


def test_call_wraps_the_plugins_exception_with_its_own_frames() -> None:
    with pytest.raises(PluginRaised) as info:
        call(Faulty(), "explode", 7)
    assert info.value.method == "explode"
    assert isinstance(info.value.error, ValueError)
    assert "_deeper" in info.value.traceback
    assert "conformance/_invoke.py" not in info.value.traceback
    assert str(info.value) == "explode raised ValueError: bad value 7"


def test_a_plugin_calling_sys_exit_is_reported_not_obeyed() -> None:
    with pytest.raises(PluginRaised) as info:
        call(Faulty(), "bye")
    assert isinstance(info.value.error, SystemExit)


def test_read_reports_a_raising_property() -> None:
    with pytest.raises(PluginRaised, match="no name today"):
        read(Faulty(), "name")


def test_call_with_budget_returns_value_and_wall_time() -> None:
    done = call_with_budget(lambda: 42, method="m", budget_s=5)
    assert (done.value, done.error, done.timed_out) == (42, None, False)
    assert done.wall_ms > 0


def test_call_with_budget_gives_up_on_a_hang_and_leaves_a_daemon() -> None:
    release = threading.Event()
    hung = call_with_budget(release.wait, method="validate_connection", budget_s=0.05)
    assert hung.timed_out
    assert hung.value is None
    stuck = [t for t in threading.enumerate() if t.name == "floe-call-validate_connection"]
    assert stuck
    assert all(t.daemon for t in stuck)
    release.set()


def test_call_with_budget_carries_the_error() -> None:
    failed = call_with_budget(lambda: call(Faulty(), "explode", 1), method="explode", budget_s=5)
    assert isinstance(failed.error, PluginRaised)
    assert not failed.timed_out

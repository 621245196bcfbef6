"""The lanes of a suite run: what runs beside what, and the order results come in."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._lanes import (
    BESIDE,
    QUIET,
    Quiet,
    always_beside,
    beside_dir,
    quiet_hold,
    quiet_window,
    run_checks,
)
from floe_compute_kit.conformance._live import live_target_is_own
from floe_compute_kit.conformance._results import CheckResult, CheckSpec, Level, Outcome
from floe_compute_kit.conformance.runner import select_checks

pytestmark = pytest.mark.requirement("KIT-275")


def _reg(
    check_id: str,
    *,
    lane: str | None = None,
    after: tuple[str, ...] = (),
    beside: Callable[[object], bool] | None = None,
) -> RegisteredCheck:
    spec = CheckSpec(
        check_id, "name", ("KIT-275",), "test", lane=lane, after=after, beside_when=beside
    )
    return RegisteredCheck(spec, lambda ctx: None)


class _Log:
    """What ran when, by which thread; ``gate`` lets one check wait for another."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []  # (what, check id, thread name)
        self.lock = threading.Lock()
        self.gates: dict[str, threading.Event] = {}
        self.waits: dict[str, str] = {}  # check id -> the id whose start it waits for

    def runner(self) -> Callable[[RegisteredCheck], CheckResult]:
        def run_one(reg: RegisteredCheck) -> CheckResult:
            cid = reg.spec.id
            self._note("start", cid)
            self.gates.setdefault(cid, threading.Event()).set()
            other = self.waits.get(cid)
            met = True
            if other is not None:
                met = self.gates.setdefault(other, threading.Event()).wait(timeout=10)
            time.sleep(0.01)
            self._note("end", cid)
            return CheckResult(cid, Outcome.PASSED if met else Outcome.FAILED)

        return run_one

    def _note(self, what: str, cid: str) -> None:
        with self.lock:
            self.events.append((what, cid, threading.current_thread().name))

    def index(self, what: str, cid: str) -> int:
        return next(i for i, e in enumerate(self.events) if e[:2] == (what, cid))


def test_a_lane_runs_beside_the_other_checks() -> None:
    # main.b cannot pass unless lane.x, which comes after it in the catalogue, has started
    # while main.b runs: run one after the other, main.b would time out waiting and fail
    checks = [_reg("main.a"), _reg("main.b"), _reg("lane.x", lane="slow")]
    log = _Log()
    log.waits["main.b"] = "lane.x"
    results = run_checks(checks, log.runner(), lanes=True)
    assert [r.outcome for r in results] == [Outcome.PASSED] * 3
    assert log.index("start", "lane.x") < log.index("end", "main.b")
    lane_thread = next(t for w, c, t in log.events if c == "lane.x")
    assert lane_thread == "floe-lane-slow"


def test_results_come_in_catalogue_order_and_only_on_the_calling_thread() -> None:
    checks = [_reg("lane.x", lane="slow"), _reg("lane.y", lane="slow"), _reg("main.a")]
    log = _Log()
    log.waits["lane.x"] = "main.a"  # the lane's first check ends after main.a started
    seen: list[tuple[str, str]] = []
    results = run_checks(
        checks,
        log.runner(),
        lanes=True,
        on_result=lambda r: seen.append((r.check_id, threading.current_thread().name)),
    )
    assert [r.check_id for r in results] == ["lane.x", "lane.y", "main.a"]
    assert [c for c, _ in seen] == ["lane.x", "lane.y", "main.a"]
    assert {t for _, t in seen} == {threading.current_thread().name}
    # the lane keeps its own order
    assert log.index("end", "lane.x") < log.index("start", "lane.y")


def test_after_holds_a_check_until_the_named_ones_finished() -> None:
    checks = [
        _reg("live.one"),
        _reg("live.two"),
        _reg("build.it", lane="target", after=("live.",)),
        _reg("plugin.last", after=("",)),
    ]
    log = _Log()
    run_checks(checks, log.runner(), lanes=True)
    assert log.index("start", "build.it") > log.index("end", "live.two")
    assert log.index("start", "plugin.last") > log.index("end", "build.it")


def test_without_lanes_everything_runs_here_in_order() -> None:
    checks = [_reg("lane.x", lane="slow"), _reg("main.a")]
    log = _Log()
    results = run_checks(checks, log.runner(), lanes=False)
    assert [r.check_id for r in results] == ["lane.x", "main.a"]
    assert [e[:2] for e in log.events] == [
        ("start", "lane.x"),
        ("end", "lane.x"),
        ("start", "main.a"),
        ("end", "main.a"),
    ]
    assert {e[2] for e in log.events} == {threading.current_thread().name}


def test_a_kit_fault_in_a_lane_is_an_error_result_not_a_hang() -> None:
    checks = [_reg("lane.x", lane="slow"), _reg("main.a", after=("",))]

    def run_one(reg: RegisteredCheck) -> CheckResult:
        if reg.spec.id == "lane.x":
            raise RuntimeError("a kit bug")
        return CheckResult(reg.spec.id, Outcome.PASSED)

    results = run_checks(checks, run_one, lanes=True)
    assert results[0].outcome is Outcome.ERROR
    assert "a kit bug" in results[0].message
    assert results[1].outcome is Outcome.PASSED


def test_the_catalogue_puts_the_waiting_checks_in_lanes() -> None:
    specs = {reg.spec.id: reg.spec for reg in select_checks(Level.INTEGRATION)}
    assert specs["integration.dbt_build"].lane == specs["integration.query_timeout"].lane
    assert specs["integration.dbt_build"].after == ("live.",)
    assert specs["iceberg.roundtrip"].lane == specs["iceberg.interop"].lane == "iceberg"
    # live.read_only watches the whole work directory while a health check runs: it starts
    # first in its lane (in a quiet window of its own), and every other laned check waits
    # for it; so does every other live check, which calls the plugin on the live target
    assert specs["live.read_only"].lane == "live-target"
    assert specs["live.read_only"].after == ()
    laned = {spec.id for spec in specs.values() if spec.lane} - {"live.read_only"}
    waiting = {i for i in laned if any("live.read_only".startswith(p) for p in specs[i].after)}
    # (but those always beside it, whose files the watch leaves out)
    assert waiting == laned - {i for i in laned if specs[i].beside_when is always_beside}
    live = {i for i in specs if i.startswith("live.")} - {"live.read_only"}
    assert live
    assert all(specs[i].after == ("live.read_only",) for i in live)
    # the dbt checks run beside the others only where they have a target of their own; the
    # Iceberg checks always do (their catalog and files are theirs)
    for check_id in ("integration.query_timeout", "integration.dbt_build"):
        assert specs[check_id].beside_when is live_target_is_own
    # and so does the adapter's judgement of the profiles (its files are under beside/)
    for check_id in ("iceberg.roundtrip", "iceberg.interop", "profile.dbt_schema"):
        assert specs[check_id].beside_when is always_beside
    assert {i for i, s in specs.items() if s.beside_when is not None} == {
        "integration.query_timeout",
        "integration.dbt_build",
        "iceberg.roundtrip",
        "iceberg.interop",
        "profile.dbt_schema",
    }
    assert specs["plugin.side_effects"].after == ("",)
    # the runner waits only for catalogue-earlier checks (so no wait can be circular): a
    # check named in an ``after`` must therefore come earlier, or the wait would be lost
    ids = list(specs)
    for index, spec in enumerate(specs.values()):
        for prefix in spec.after:
            later = [i for i in ids[index + 1 :] if i.startswith(prefix)]
            assert not later, (spec.id, later)


def test_a_check_that_may_run_beside_starts_at_once_when_it_says_so() -> None:
    # lane.b waits for lane.a to start: in its turn (after lane.a ended) it would fail
    checks = [_reg("lane.a", lane="t"), _reg("lane.b", lane="t", beside=lambda ctx: True)]
    log = _Log()
    log.waits["lane.a"] = "lane.b"
    results = run_checks(checks, log.runner(), lanes=True, beside=lambda reg: True)
    assert [r.outcome for r in results] == [Outcome.PASSED, Outcome.PASSED]
    assert log.index("start", "lane.b") < log.index("end", "lane.a")


def test_a_check_that_may_not_run_beside_takes_its_turn_and_later_ones_wait_for_it() -> None:
    checks = [
        _reg("live.one"),
        _reg("lane.a", lane="t"),
        _reg("lane.b", lane="t", after=("live.",), beside=lambda ctx: False),
        _reg("lane.c", lane="t"),
    ]
    log = _Log()
    results = run_checks(checks, log.runner(), lanes=True, beside=lambda reg: False)
    assert [r.check_id for r in results] == ["live.one", "lane.a", "lane.b", "lane.c"]
    assert log.index("end", "lane.a") < log.index("start", "lane.b")
    assert log.index("end", "live.one") < log.index("start", "lane.b")
    assert log.index("end", "lane.b") < log.index("start", "lane.c")


def test_a_check_beside_waits_for_neither_its_after_nor_its_lane() -> None:
    # lane.b waits for live.one and lane.a to start: after them, it would fail
    checks = [
        _reg("live.one"),
        _reg("lane.a", lane="t"),
        _reg("lane.b", lane="t", after=("live.",), beside=lambda ctx: True),
        _reg("lane.c", lane="t"),
    ]
    log = _Log()
    log.waits["live.one"] = "lane.b"
    log.waits["lane.a"] = "lane.b"
    results = run_checks(checks, log.runner(), lanes=True, beside=lambda reg: True)
    assert all(r.outcome is Outcome.PASSED for r in results)
    assert log.index("start", "lane.b") < log.index("end", "live.one")
    assert log.index("start", "lane.b") < log.index("end", "lane.a")
    assert log.index("end", "lane.b") < log.index("start", "lane.c")  # the lane still waits


def test_only_a_spec_that_asks_runs_beside() -> None:
    # the run's answer is yes for everyone, but lane.b's spec never asks
    checks = [_reg("lane.a", lane="t"), _reg("lane.b", lane="t")]
    log = _Log()
    run_checks(checks, log.runner(), lanes=True, beside=lambda reg: True)
    assert log.index("end", "lane.a") < log.index("start", "lane.b")


class _Ctx:
    def __init__(self) -> None:
        self.extra: dict[str, object] = {}


def test_a_quiet_window_waits_for_running_checks_and_holds_new_ones_back() -> None:
    quiet = Quiet()
    ctx = _Ctx()
    ctx.extra[QUIET] = quiet
    order: list[str] = []
    busy = threading.Event()
    release = threading.Event()

    def other() -> None:
        with quiet.running("main.a"):
            busy.set()
            release.wait(10)
            order.append("main.a ends")

    def later() -> None:
        with quiet.running("main.b"):
            order.append("main.b runs")

    first = threading.Thread(target=other)
    first.start()
    busy.wait(10)

    def watcher() -> None:
        with quiet.running("live.watch"), quiet_window(ctx, "live.watch"):
            order.append("window open")
            time.sleep(0.2)  # main.b, asked for meanwhile, must not run inside
            order.append("window closes")

    watching = threading.Thread(target=watcher)
    watching.start()
    deadline = time.monotonic() + 10
    while quiet._window != "live.watch" and time.monotonic() < deadline:  # asked for
        time.sleep(0.01)
    assert order == []  # the window waits for main.a
    starter = threading.Thread(target=later)
    starter.start()
    release.set()
    for t in (first, watching, starter):
        t.join(10)
    assert order == ["main.a ends", "window open", "window closes", "main.b runs"]


def test_a_quiet_window_that_cannot_open_says_which_checks_kept_running() -> None:
    quiet = Quiet()
    with (
        quiet.running("main.slow"),
        pytest.raises(TimeoutError, match=r"main\.slow"),
        quiet.window("w", timeout_s=0.2),
    ):
        pass
    with quiet.window("w", timeout_s=0.2):  # closed again: a later window opens
        pass


def test_without_a_quiet_window_in_the_context_the_window_is_free() -> None:
    with quiet_window(_Ctx(), "live.watch"), quiet_hold(_Ctx(), "beside.check"):
        pass


def test_a_check_beside_holds_the_quiet_only_around_its_calls() -> None:
    quiet = Quiet()
    ctx = _Ctx()
    ctx.extra[QUIET] = quiet
    order: list[str] = []
    in_window = threading.Event()
    release = threading.Event()

    def watcher() -> None:
        with quiet_window(ctx, "live.watch"):
            in_window.set()
            release.wait(10)
            order.append("window closes")

    watching = threading.Thread(target=watcher)
    watching.start()
    assert in_window.wait(10)  # no check holds the quiet: the window opens at once

    def beside() -> None:
        with quiet_hold(ctx, "beside.check"):
            order.append("beside calls the plugin")

    calling = threading.Thread(target=beside)
    calling.start()
    calling.join(0.2)
    assert order == []  # its call waits for the window
    release.set()
    for t in (watching, calling):
        t.join(10)
    assert order == ["window closes", "beside calls the plugin"]


def test_a_check_holding_the_quiet_may_hold_it_again_while_a_window_waits() -> None:
    quiet = Quiet()
    ctx = _Ctx()
    ctx.extra[QUIET] = quiet
    asked = threading.Event()
    done: list[str] = []

    def watcher() -> None:
        asked.set()
        with quiet.window("live.watch", timeout_s=10):
            done.append("window")

    with quiet.running("lane.check"):
        watching = threading.Thread(target=watcher)
        watching.start()
        asked.wait(10)
        deadline = time.monotonic() + 10
        while quiet._window != "live.watch" and time.monotonic() < deadline:
            time.sleep(0.01)
        # were it to wait for the window (which waits for this check), the window would
        # give up after its 10 s and never open
        with quiet_hold(ctx, "lane.check"):
            done.append("inner hold")
    watching.join(20)
    assert done == ["inner hold", "window"]


def test_the_beside_folder_is_under_the_work_directory(tmp_path: Path) -> None:
    ctx = _Ctx()
    ctx.workdir = tmp_path  # type: ignore[attr-defined]
    folder = beside_dir(ctx)
    assert folder == tmp_path / BESIDE
    assert folder.is_dir()

"""Running a suite's checks in lanes: the ones that wait on other processes beside the rest.

An integration run spends most of its time waiting: for dbt, for a query to be
cancelled, for an Iceberg catalog server. The checks that talk only to the plugin host
could use that time. A check whose spec names a ``lane`` runs in that lane's thread,
after the lane's earlier checks; any check starts only once the earlier checks its
``after`` prefixes name have finished. Results are handed on in catalogue order,
whichever finished first, so a report reads the same with lanes or without.

Only catalogue-earlier checks are waited for, so the waits cannot form a cycle.

A lane's check whose spec has ``leaves_lane_when`` gets a thread of its own: once its
waits are over it asks, and runs at once when the answer is yes (the timeout check on a
DuckDB file of its own, beside the build on the live one); otherwise it waits for the
lane's earlier checks, which is the turn the lane would have given it. The lane's later
checks wait for it either way.

A check that must see the work directory still (``live.read_only`` watches every file
event in it while the health check runs) asks for a quiet window (:func:`quiet_window`):
every check holds the run's :class:`Quiet` while it runs, and the window waits until
no other check does, keeping new ones from starting until it closes. That lets the
watching check start with the run, beside the core checks, instead of after them.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, Outcome

__all__ = ["QUIET", "Quiet", "quiet_window", "run_checks"]

#: ``ctx.extra`` key of the run's :class:`Quiet` (absent when checks run one at a time)
QUIET: Final = "lanes.quiet"
#: how long a check waits for a quiet window to close before it runs anyway, and a
#: window for the other checks to finish (a window holds a few health checks, each
#: within its budget; a check holds for at most the run's check timeout)
WINDOW_WAIT_S: Final = 60.0

#: Modules that set warning filters when imported, imported before the lanes start:
#: ``warnings.catch_warnings`` (Hypothesis uses it) is not thread-safe, so a filter set
#: while another thread is inside such a block is lost when that block ends (requests
#: silences urllib3's SOCKS warning this way; pyiceberg imports it in the Iceberg lane).
_IMPORT_FIRST = ("requests",)


class Quiet:
    """Every running check holds this (shared, by its id); a quiet window holds it alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holds: Counter[str] = Counter()
        self._window: str | None = None

    @contextlib.contextmanager
    def running(self, owner: str) -> Iterator[None]:
        """Held while check ``owner`` runs; waits (bounded) while another's window is open."""
        with self._cond:
            self._cond.wait_for(lambda: self._window in (None, owner), timeout=WINDOW_WAIT_S)
            self._holds[owner] += 1
        try:
            yield
        finally:
            with self._cond:
                self._holds[owner] -= 1
                if self._holds[owner] <= 0:
                    del self._holds[owner]
                self._cond.notify_all()

    @contextlib.contextmanager
    def window(self, owner: str, timeout_s: float = WINDOW_WAIT_S) -> Iterator[None]:
        """No check but ``owner`` runs inside; TimeoutError when the others do not finish."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._window is None, timeout=timeout_s):
                raise TimeoutError(f"another quiet window stayed open for {timeout_s:g} s")
            self._window = owner  # from here no other check starts
            if not self._cond.wait_for(
                lambda: all(held == owner for held in self._holds), timeout=timeout_s
            ):
                busy = sorted(held for held in self._holds if held != owner)
                self._window = None
                self._cond.notify_all()
                raise TimeoutError(
                    f"the checks {', '.join(busy)} were still running after {timeout_s:g} s"
                )
        try:
            yield
        finally:
            with self._cond:
                self._window = None
                self._cond.notify_all()


def quiet_window(ctx: Any, owner: str) -> contextlib.AbstractContextManager[None]:
    """A window in which no other check of ``ctx``'s run is running (nothing to wait for
    when the checks run one at a time)."""
    quiet = ctx.extra.get(QUIET)
    return quiet.window(owner) if isinstance(quiet, Quiet) else contextlib.nullcontext()


def _waits(checks: Sequence[RegisteredCheck]) -> dict[str, list[str]]:
    """check id -> the catalogue-earlier checks it must wait for (its lane's are implied)."""
    out: dict[str, list[str]] = {}
    for index, reg in enumerate(checks):
        prefixes = reg.spec.after
        out[reg.spec.id] = [
            other.spec.id
            for other in checks[:index]
            if prefixes and any(other.spec.id.startswith(p) for p in prefixes)
        ]
    return out


class _Board:
    """Results as they come, and the in-order hand-over to ``on_result``."""

    def __init__(self, ids: list[str], on_result: Callable[[CheckResult], None] | None) -> None:
        self.ids = ids
        self.results: dict[str, CheckResult] = {}
        self.cond = threading.Condition()
        self._on_result = on_result
        self._handed = 0

    def post(self, result: CheckResult) -> None:
        with self.cond:
            self.results[result.check_id] = result
            self.cond.notify_all()

    def wait_for(self, ids: list[str], *, hand_over: bool) -> None:
        """Block until every check in ``ids`` has a result; the main thread hands results
        over meanwhile (``on_result`` is never called from a lane's thread)."""
        while True:
            if hand_over:
                self.hand_over()
            with self.cond:
                if all(i in self.results for i in ids):
                    return
                self.cond.wait(timeout=0.5)

    def hand_over(self) -> None:
        while True:
            with self.cond:
                if self._handed >= len(self.ids) or self.ids[self._handed] not in self.results:
                    return
                result = self.results[self.ids[self._handed]]
                self._handed += 1
            if self._on_result is not None:
                self._on_result(result)


def run_checks(
    checks: Sequence[RegisteredCheck],
    run_one: Callable[[RegisteredCheck], CheckResult],
    *,
    lanes: bool,
    on_result: Callable[[CheckResult], None] | None = None,
    leaves: Callable[[RegisteredCheck], bool] | None = None,
) -> list[CheckResult]:
    """Every check's result in catalogue order; ``run_one`` must not raise.

    Without ``lanes`` (or with no check naming one) the checks run one after another in
    this thread, as they always did. ``leaves(check)`` answers a spec's
    ``leaves_lane_when`` for the run (False when absent); it must not raise.
    """
    if not lanes or not any(reg.spec.lane for reg in checks):
        results = []
        for reg in checks:
            result = run_one(reg)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results
    for name in _IMPORT_FIRST:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    board = _Board([reg.spec.id for reg in checks], on_result)
    waits = _waits(checks)
    by_lane: dict[str, list[RegisteredCheck]] = {}
    for reg in checks:
        if reg.spec.lane:
            by_lane.setdefault(reg.spec.lane, []).append(reg)

    def run(reg: RegisteredCheck, turn: list[str]) -> None:
        try:
            board.wait_for(waits[reg.spec.id], hand_over=False)
            if turn and not (leaves is not None and leaves(reg)):
                board.wait_for(turn, hand_over=False)
            result = run_one(reg)
        except BaseException as exc:  # run_one does not raise; a kit bug must not hang
            result = CheckResult(
                reg.spec.id, Outcome.ERROR, message=f"the kit's lane failed: {exc!r}"
            )
        board.post(result)

    def run_in_turn(regs: list[RegisteredCheck]) -> None:
        for reg in regs:
            run(reg, [])

    threads: list[threading.Thread] = []
    for name, members in by_lane.items():
        in_turn: list[RegisteredCheck] = []
        for index, reg in enumerate(members):
            if reg.spec.leaves_lane_when is None:
                waits[reg.spec.id] += [m.spec.id for m in members[:index]]
                in_turn.append(reg)
                continue
            earlier = [m.spec.id for m in members[:index]]
            threads.append(
                threading.Thread(
                    target=run,
                    args=(reg, earlier),
                    daemon=True,
                    name=f"floe-lane-{name}-{reg.spec.id}",
                )
            )
        threads.append(
            threading.Thread(
                target=run_in_turn,
                args=(in_turn,),
                daemon=True,
                name=f"floe-lane-{name}",
            )
        )
    for thread in threads:
        thread.start()
    for reg in checks:
        if reg.spec.lane:
            continue
        board.wait_for(waits[reg.spec.id], hand_over=True)
        board.post(run_one(reg))
        board.hand_over()
    board.wait_for(board.ids, hand_over=True)
    board.hand_over()
    return [board.results[i] for i in board.ids]

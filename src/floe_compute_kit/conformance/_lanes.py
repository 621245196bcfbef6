"""Running a suite's checks in lanes: the ones that wait on other processes beside the rest.

An integration run spends most of its time waiting: for dbt, for a query to be
cancelled, for an Iceberg catalog server. The checks that talk only to the plugin host
could use that time. A check whose spec names a ``lane`` runs in that lane's thread,
after the lane's earlier checks; any check starts only once the earlier checks its
``after`` prefixes name have finished. Results are handed on in catalogue order,
whichever finished first, so a report reads the same with lanes or without.

Only catalogue-earlier checks are waited for, so the waits cannot form a cycle.

A check that must see the work directory still (``live.read_only`` watches every file
event in it while the health check runs) asks for a quiet window (:func:`quiet_window`):
every check holds the run's :class:`Quiet` while it runs, and the window waits until
no other check does, keeping new ones from starting until it closes. That lets the
watching check start with the run, beside the core checks, instead of after them.

A lane's check whose spec has ``beside_when`` gets a thread of its own and asks it when
the run starts. When the answer is yes it runs at once, beside everything (the timeout
check on a DuckDB file of its own, the Iceberg checks against their catalog): it keeps
its files under :func:`beside_dir`, which the watch leaves out, and holds the quiet
only around what the watch could see, its calls of the plugin (:func:`quiet_hold`),
not through the seconds it waits on dbt or a catalog. Otherwise it waits for its
``after`` checks and its lane's earlier ones, the turn the lane would have given it. The
lane's later checks wait for it either way.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, Outcome

__all__ = [
    "BESIDE",
    "QUIET",
    "Quiet",
    "always_beside",
    "beside_dir",
    "quiet_hold",
    "quiet_window",
    "run_checks",
]

#: ``ctx.extra`` key of the run's :class:`Quiet` (absent when checks run one at a time)
QUIET: Final = "lanes.quiet"
#: the work directory's folder for what runs beside the watch (see :func:`beside_dir`)
BESIDE: Final = "beside"
#: how long a check waits for a quiet window to close before it runs anyway, and a
#: window for the other checks to finish (a window holds a few health checks, each
#: within its budget; a check holds for at most the run's check timeout)
WINDOW_WAIT_S: Final = 60.0

#: Modules imported before the lanes start, where importing one in a lane races another:
#: requests sets a warning filter when imported (silencing urllib3's SOCKS warning), and
#: ``warnings.catch_warnings`` (Hypothesis uses it) is not thread-safe, so a filter set
#: while another thread is inside such a block is lost when that block ends; numpy
#: (pyarrow's, in the Iceberg lane) is looked up in ``sys.modules`` by Hypothesis when it
#: resolves a type, which met it half imported ("partially initialized module 'numpy' has
#: no attribute 'ndarray'" in config.rejects_invalid, once in a full test run).
_IMPORT_FIRST = ("requests", "numpy")


class Quiet:
    """Every running check holds this (shared, by its id); a quiet window holds it alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holds: Counter[str] = Counter()
        self._window: str | None = None

    @contextlib.contextmanager
    def running(self, owner: str) -> Iterator[None]:
        """Held while check ``owner`` runs; waits (bounded) while another's window is open,
        unless ``owner`` holds it already (a window waiting on that hold would never open)."""
        with self._cond:
            if not self._holds[owner]:
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


def quiet_hold(ctx: Any, owner: str) -> contextlib.AbstractContextManager[None]:
    """Held by a check running beside the others around what a quiet window must not
    see (its plugin calls): waits while a window is open, and keeps one from opening."""
    quiet = ctx.extra.get(QUIET)
    return quiet.running(owner) if isinstance(quiet, Quiet) else contextlib.nullcontext()


def always_beside(ctx: Any) -> bool:
    """``beside_when`` for a check whose files are all under :func:`beside_dir`."""
    return True


def beside_dir(ctx: Any) -> Path:
    """The folder (created) under the work directory for the files of the checks that
    run beside a quiet window; the read-only watch leaves it out."""
    folder = Path(ctx.workdir) / BESIDE
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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
    beside: Callable[[RegisteredCheck], bool] | None = None,
) -> list[CheckResult]:
    """Every check's result in catalogue order; ``run_one`` must not raise.

    Without ``lanes`` (or with no check naming one) the checks run one after another in
    this thread, as they always did. ``beside(check)`` answers a spec's ``beside_when``
    for the run (False when absent), before ``run_one(check)`` in the same thread; it
    must not raise.
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
            at_once = reg.spec.beside_when is not None and beside is not None and beside(reg)
            if not at_once:
                board.wait_for(waits[reg.spec.id] + turn, hand_over=False)
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
            if reg.spec.beside_when is None:
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

"""Running a suite's checks in lanes: the ones that wait on other processes beside the rest.

An integration run spends most of its time waiting: for dbt, for a query to be
cancelled, for an Iceberg catalog server. The checks that talk only to the plugin host
could use that time. A check whose spec names a ``lane`` runs in that lane's thread,
after the lane's earlier checks; any check starts only once the earlier checks its
``after`` prefixes name have finished. Results are handed on in catalogue order,
whichever finished first, so a report reads the same with lanes or without.

Only catalogue-earlier checks are waited for, so the waits cannot form a cycle.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Sequence

from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, Outcome

__all__ = ["run_checks"]

#: Modules that set warning filters when imported, imported before the lanes start:
#: ``warnings.catch_warnings`` (Hypothesis uses it) is not thread-safe, so a filter set
#: while another thread is inside such a block is lost when that block ends (requests
#: silences urllib3's SOCKS warning this way; pyiceberg imports it in the Iceberg lane).
_IMPORT_FIRST = ("requests",)


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
) -> list[CheckResult]:
    """Every check's result in catalogue order; ``run_one`` must not raise.

    Without ``lanes`` (or with no check naming one) the checks run one after another in
    this thread, as they always did.
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

    def run_lane(members: list[RegisteredCheck]) -> None:
        for reg in members:
            try:
                board.wait_for(waits[reg.spec.id], hand_over=False)
                result = run_one(reg)
            except BaseException as exc:  # run_one does not raise; a kit bug must not hang
                result = CheckResult(
                    reg.spec.id, Outcome.ERROR, message=f"the kit's lane failed: {exc!r}"
                )
            board.post(result)

    threads = [
        threading.Thread(target=run_lane, args=(members,), daemon=True, name=f"floe-lane-{name}")
        for name, members in by_lane.items()
    ]
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

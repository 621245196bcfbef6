"""The progress display of suite runs (report, verify --rerun), on stderr.

Long runs (an integration build, a hanging plugin) look dead without it: the display
names the check running and the time left in its budget. On a terminal it is one live
line, redrawn and gone when the run ends; elsewhere (CI logs, pipes) it prints nothing,
or one plain line per finished check with ``FLOE_CONFORMANCE_PROGRESS=plain``. Every
line fits the console's width (80 columns when that is all there is).

The runner reports only finished checks today, so :meth:`CheckProgress.on_result`
finishes one check and starts the next of the planned order; a runner that reports
starts itself calls :meth:`CheckProgress.start` instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final, Literal

from floe_compute_kit.conformance._results import CheckResult

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

__all__ = ["ENV_MODE", "MODES", "CheckProgress", "suite_progress"]

#: ``auto`` (live on a terminal, else off), ``live``, ``plain`` or ``off``.
ENV_MODE: Final = "FLOE_CONFORMANCE_PROGRESS"
MODES: Final = ("auto", "live", "plain", "off")
Mode = Literal["live", "plain", "off"]
_LABEL_MAX: Final = 28
_LABEL_MIN: Final = 6
_CHECK_MIN: Final = 8
_BAR_WIDTH: Final = 12
_BAR_MIN_WIDTH: Final = 60


def _mode(console: Console, wanted: str | None) -> Mode:
    choice = (wanted or os.environ.get(ENV_MODE) or "auto").strip().lower()
    if choice not in MODES:
        choice = "auto"
    if choice == "auto":
        return "live" if console.is_terminal and not console.is_dumb_terminal else "off"
    mode: Mode = choice  # type: ignore[assignment]  # narrowed by the membership test above
    return mode


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


class CheckProgress:
    """``start(check_id, budget_s)``, ``finish(result)``, ``close()``; safe from any thread."""

    def __init__(
        self,
        label: str,
        planned: Sequence[str],
        *,
        budget_s: float | Callable[[str], float],
        console: Console | None = None,
        mode: str | None = None,
    ) -> None:
        # rich loads only when a suite runs, not when the CLI parses arguments.
        from rich.console import Console  # noqa: PLC0415

        self.console = console or Console(stderr=True, highlight=False)
        self.mode: Mode = _mode(self.console, mode)
        self.label = label
        self.planned = list(planned)
        self._budget = budget_s
        self._lock = threading.Lock()
        self._done: dict[str, str] = {}
        self._running: tuple[str, float, float] | None = None  # id, started, budget
        self._live: Live | None = None
        if self.mode == "live":
            from rich.live import Live  # noqa: PLC0415

            self._live = Live(
                get_renderable=self._render,
                console=self.console,
                transient=True,
                refresh_per_second=2,
            )
            self._live.start()

    # -- what the runner (or the report CLI) calls ---------------------------------------

    def start(self, check_id: str, budget_s: float | None = None) -> None:
        """``check_id`` is running now, with ``budget_s`` seconds before it is abandoned."""
        budget = self._budget_for(check_id) if budget_s is None else budget_s
        with self._lock:
            self._running = (check_id, time.monotonic(), budget)
        self.refresh()

    def finish(self, result: CheckResult) -> None:
        """``result``'s check ended; in plain mode, one line says how."""
        with self._lock:
            self._done[result.check_id] = str(result.outcome)
            if self._running is not None and self._running[0] == result.check_id:
                self._running = None
            count = len(self._done)
        if self.mode == "plain":
            line = (
                f"[{count}/{len(self.planned)}] {result.check_id}: {result.outcome} "
                f"({result.duration_s:.1f} s)"
            )
            self.console.print(_short(line, self.console.width), markup=False, highlight=False)
        self.refresh()

    def on_result(self, result: CheckResult) -> None:
        """The runner's ``on_result`` callback: finish ``result``, start the next planned check."""
        self.finish(result)
        with self._lock:
            upcoming = next((c for c in self.planned if c not in self._done), None)
        if upcoming is not None:
            self.start(upcoming)

    def close(self) -> None:
        """End the display (idempotent); a live line leaves nothing behind."""
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    def refresh(self) -> None:
        with self._lock:
            live = self._live
        if live is not None:
            live.refresh()

    def __enter__(self) -> CheckProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rendering ------------------------------------------------------------------------

    def _budget_for(self, check_id: str) -> float:
        return self._budget(check_id) if callable(self._budget) else float(self._budget)

    def _bar_shown(self) -> bool:
        return self.console.width >= _BAR_MIN_WIDTH

    def status_line(self, now: float | None = None) -> str:
        """The live line's text: label, count, running check and the time left in its budget.

        It fits the console beside the bar: the label gives way first, then the check id.
        """
        with self._lock:
            running = self._running
            count = len(self._done)
            failed = sum(1 for o in self._done.values() if o in {"failed", "error"})
        width = self.console.width - (_BAR_WIDTH + 1 if self._bar_shown() else 0)
        counted = f"{count}/{len(self.planned)}" + (f" ({failed} failed)" if failed else "")
        if running is None:
            return _short(f"{_short(self.label, _LABEL_MAX)} {counted}", width)
        check_id, started, budget = running
        elapsed = (time.monotonic() if now is None else now) - started
        tail = f"{max(budget - elapsed, 0.0):.0f} s left of {budget:.0f} s"
        room = width - len(counted) - len(tail) - 2  # for the check id and the label
        check = _short(check_id, max(min(len(check_id), room), _CHECK_MIN))
        label_room = min(room - len(check) - 1, _LABEL_MAX)
        parts = [_short(self.label, label_room)] if label_room >= _LABEL_MIN else []
        return _short(" ".join([*parts, counted, check, tail]), width)

    def _render(self) -> RenderableType:
        from rich.progress_bar import ProgressBar  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        grid = Table.grid(padding=(0, 1))
        line = self.status_line()
        if not self._bar_shown():
            grid.add_column(no_wrap=True, overflow="ellipsis")
            grid.add_row(line)
            return grid
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        with self._lock:
            done = len(self._done)
        bar = ProgressBar(total=max(len(self.planned), 1), completed=done, width=_BAR_WIDTH)
        grid.add_row(bar, line)
        return grid


@contextmanager
def suite_progress(label: str, total: int) -> Iterator[Callable[[CheckResult], None]]:
    """Yields an ``on_result`` callback counting ``total`` checks (for callers that know only
    a count; :class:`CheckProgress` with the planned ids also names the running check)."""
    progress = CheckProgress(label, [f"#{i + 1}" for i in range(total)], budget_s=0.0)

    def finished(result: CheckResult) -> None:
        progress.finish(result)

    try:
        yield finished
    finally:
        progress.close()

"""A progress bar on stderr for suite runs (report, verify --rerun); gone when the run ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from floe_compute_kit.conformance._results import CheckResult

__all__ = ["suite_progress"]


@contextmanager
def suite_progress(label: str, total: int) -> Iterator[Callable[[CheckResult], None]]:
    """Yields the ``on_result`` callback that advances the bar by one check."""
    # rich loads only when a suite runs, not when the CLI parses arguments.
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn(f"[bold]{escape(label)}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("", total=total)

        def advance(result: CheckResult) -> None:
            progress.update(
                task, advance=1, description=escape(f"{result.check_id}: {result.outcome}")
            )

        yield advance

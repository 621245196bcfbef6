"""The report's progress display: the check running, the time left in its budget, 80 columns."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from floe_compute_kit.cli._progress import CheckProgress
from floe_compute_kit.conformance._results import CheckResult, Outcome

pytestmark = pytest.mark.requirement("KIT-172")

PLANNED = ["plugin.loads", "integration.dbt_build", "iceberg.interop_with_a_long_check_name"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def _terminal(width: int = 80) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=width, color_system=None), buffer


def _visible_lines(text: str) -> list[str]:
    return [line for line in _ANSI.sub("\n", text).splitlines() if line.strip()]


def test_live_line_names_the_running_check_and_the_budget_left() -> None:
    console, buffer = _terminal()
    progress = CheckProgress("certifying duckdb", PLANNED, budget_s=120.0, console=console)
    assert progress.mode == "live"
    try:
        progress.start("integration.dbt_build", 120.0)
        started = time.monotonic()
        line = progress.status_line(now=started + 30)
        assert "integration.dbt_build" in line
        assert "90 s left of 120 s" in line
        assert "0/3" in line
        progress.finish(CheckResult("integration.dbt_build", Outcome.FAILED, duration_s=31.0))
        assert "1/3 (1 failed)" in progress.status_line()
        progress.start(PLANNED[2], 5.0)
        progress.refresh()
        drawn = _visible_lines(buffer.getvalue())
        assert any("integration.dbt_build" in line for line in drawn)
        assert all(len(line) <= 80 for line in drawn)
    finally:
        progress.close()
    progress.close()  # idempotent


@pytest.mark.parametrize("width", [80, 50, 36])
def test_the_live_line_fits_the_console(width: int) -> None:
    console, _ = _terminal(width)
    with CheckProgress("certifying " + "x" * 60, PLANNED, budget_s=120.0, console=console) as p:
        p.start(PLANNED[2])
        out, buffer = _terminal(width)
        out.print(p._render())
        lines = _visible_lines(buffer.getvalue())
    assert lines
    assert all(len(line) <= width for line in lines)
    assert "left of 120 s" in lines[0]


def test_on_result_starts_the_next_planned_check() -> None:
    console, _ = _terminal()
    with CheckProgress("run", PLANNED, budget_s=lambda c: 7.0, console=console) as p:
        p.start(PLANNED[0])
        p.on_result(CheckResult(PLANNED[0], Outcome.PASSED))
        assert PLANNED[1] in p.status_line()
        assert "left of 7 s" in p.status_line()
        p.on_result(CheckResult(PLANNED[1], Outcome.PASSED))
        p.on_result(CheckResult(PLANNED[2], Outcome.PASSED))
        assert p.status_line() == "run 3/3"  # nothing running any more


def test_not_a_terminal_means_no_display_and_plain_means_one_line_per_check() -> None:
    buffer = io.StringIO()
    quiet = Console(file=buffer, force_terminal=False, width=80)
    with CheckProgress("run", PLANNED, budget_s=1.0, console=quiet, mode="auto") as p:
        assert p.mode == "off"
        p.start(PLANNED[0])
        p.finish(CheckResult(PLANNED[0], Outcome.PASSED))
    assert buffer.getvalue() == ""

    plain = Console(file=buffer, force_terminal=False, width=80)
    with CheckProgress("run", PLANNED, budget_s=1.0, console=plain, mode="plain") as p:
        p.on_result(CheckResult(PLANNED[0], Outcome.PASSED, duration_s=0.25))
        p.on_result(CheckResult(PLANNED[1], Outcome.FAILED, duration_s=4.0))
    assert buffer.getvalue().splitlines() == [
        "[1/3] plugin.loads: passed (0.2 s)",
        "[2/3] integration.dbt_build: failed (4.0 s)",
    ]


@pytest.mark.slow
def test_report_prints_progress_lines_and_tables_that_fit_80_columns(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "floe_compute_kit.cli.conformance",
            "report",
            "--plugin",
            "duckdb",
            "--level",
            "core",
            "--max-examples",
            "5",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "80", "FLOE_CONFORMANCE_PROGRESS": "plain"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    progress = done.stderr.splitlines()
    assert progress[0].startswith("[1/")
    assert "plugin.loads: passed" in progress[0]
    assert all(re.fullmatch(r"\[\d+/\d+\] \S+: \w+ \(\d+\.\d s\)", line) for line in progress)
    lines = done.stdout.splitlines()
    assert any("By requirement" in line for line in lines)
    too_long = [line for line in lines if len(line) > 80 and not line.startswith("wrote ")]
    assert not too_long

"""``floe-conformance list`` at 80 columns: every check, every clause, no line too long."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance.checks import load_catalogue

pytestmark = pytest.mark.requirement("KIT-172")


def _clauses(text: str) -> dict[str, str]:
    """check id -> its clause, joined back from the indented lines below the check's line."""
    found: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines()[2:]:
        if line.startswith("    ") and current is not None:
            found[current] = f"{found[current]} {line.strip()}".strip()
        elif line.strip():
            current = line.split()[0]
            found[current] = ""
    return found


def test_list_fits_80_columns_in_a_terminal_of_80() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "floe_compute_kit.cli.conformance", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    lines = done.stdout.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long
    clauses = _clauses(done.stdout)
    catalogue = load_catalogue()
    assert list(clauses) == [r.spec.id for r in catalogue]  # every check, in catalogue order
    for r in catalogue:
        assert clauses[r.spec.id] == " ".join(r.spec.wording.split())  # the whole clause
    assert lines[1].split() == ["check", "level", "capability", "requirements"]


@pytest.mark.parametrize("width", [80, 60])
def test_list_follows_richs_console_width(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["list", "--level", "extended"]) == 0
    out = capsys.readouterr().out
    clause_lines = [line for line in out.splitlines() if line.startswith("    ")]
    assert clause_lines
    assert max(len(line) for line in clause_lines) <= width
    extended = [r.spec.id for r in load_catalogue() if r.spec.level.value == "extended"]
    assert extended
    assert all(check_id in out for check_id in extended)
    assert not any(
        r.spec.id in out for r in load_catalogue() if r.spec.level.value == "integration"
    )


def test_wide_keeps_the_five_column_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    assert main(["list", "--wide"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "requirements" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "check",
        "level",
        "capability",
        "requirements",
        "clause",
    ]

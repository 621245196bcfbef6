"""What the kernel says a process did to files: the read-only check's eyes."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_compute_kit.conformance._file_watch import watch

pytestmark = pytest.mark.requirement("KIT-210")


def test_the_watch_sees_files_created_written_and_opened_below_its_roots(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    old = deep / "old.txt"
    old.write_text("x")
    with watch([tmp_path]) as seen:
        (tmp_path / "new.txt").write_text("y")
        old.read_text()
    assert str(tmp_path / "new.txt") in seen.created
    assert str(tmp_path / "new.txt") in seen.written
    assert str(old) in seen.opened
    assert str(old) not in seen.changed


def test_a_folder_left_out_is_not_watched_nor_anything_below_it(tmp_path: Path) -> None:
    """What runs beside the read-only check's window (dbt on a file of its own, a catalog)
    keeps its files in a folder the watch leaves out; the rest stays watched."""
    beside = tmp_path / "beside"
    (beside / "own" / "timeout").mkdir(parents=True)
    kept = beside / "own" / "timeout" / "target.duckdb"
    kept.write_text("z")
    with watch([tmp_path], exclude=[beside]) as seen:
        (beside / "log.txt").write_text("1")
        kept.write_text("2")
        (tmp_path / "live.duckdb").write_text("3")
    assert seen.changed == {str(tmp_path / "live.duckdb")}
    assert not {p for p in seen.opened if p.startswith(str(beside))}


def test_a_root_inside_a_left_out_folder_is_left_out(tmp_path: Path) -> None:
    beside = tmp_path / "beside"
    beside.mkdir()
    with watch([beside, tmp_path], exclude=[beside]) as seen:
        (beside / "x").write_text("1")
    assert seen.changed == set()

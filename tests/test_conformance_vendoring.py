"""Vendoring the suites: content hashes, drift warnings, local changes kept without --force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance.runner import select_checks
from floe_compute_kit.conformance.vendoring import (
    MANIFEST,
    VENDORED_FILES,
    VendoredSuiteDriftWarning,
    check_drift,
    vendor,
)

pytestmark = pytest.mark.requirement("KIT-018")

KIT = Path(__file__).parents[1] / "src" / "floe_compute_kit" / "conformance"


def test_vendor_copies_the_suites_with_their_hashes(tmp_path: Path) -> None:
    dest = tmp_path / "floe_contract"
    result = vendor(dest)
    assert sorted(result.written) == sorted([*VENDORED_FILES, "__init__.py"])
    for name in VENDORED_FILES:
        assert (dest / name).read_bytes() == (KIT / name).read_bytes()
    import hashlib

    files = json.loads((dest / MANIFEST).read_text())["files"]
    for name, digest in files.items():
        assert hashlib.sha256((dest / name).read_bytes()).hexdigest() == digest
    again = vendor(dest)
    assert again.written == []
    assert again.refused == []


def test_local_changes_are_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "floe_contract"
    assert main(["vendor", str(dest)]) == 0
    edited = (dest / "suites.py").read_text() + "\n# my local tweak\n"
    (dest / "suites.py").write_text(edited)
    assert main(["vendor", str(dest)]) == 1
    assert "suites.py" in capsys.readouterr().out
    assert (dest / "suites.py").read_text() == edited
    assert main(["vendor", str(dest), "--force"]) == 0
    assert (dest / "suites.py").read_bytes() == (KIT / "suites.py").read_bytes()


def test_an_unknown_file_in_the_way_counts_as_a_local_change(tmp_path: Path) -> None:
    dest = tmp_path / "floe_contract"
    dest.mkdir()
    (dest / "fixtures.py").write_text("# the author's own fixtures\n")
    assert vendor(dest).refused == ["fixtures.py"]
    assert (dest / "fixtures.py").read_text() == "# the author's own fixtures\n"


def test_drift_from_the_installed_kit_warns(tmp_path: Path) -> None:
    dest = tmp_path / "floe_contract"
    vendor(dest)
    assert check_drift(dest) == []
    manifest = json.loads((dest / MANIFEST).read_text())
    manifest["files"]["suites.py"] = "0" * 64  # copied from some other kit version
    (dest / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(VendoredSuiteDriftWarning, match="suites.py"):
        assert check_drift(dest) == ["suites.py"]


def test_a_vendored_suite_runs_without_the_pytest_plugin(pytester: pytest.Pytester) -> None:
    vendor(pytester.path / "floe_contract")
    pytester.makepyfile(
        test_mine="""
        from floe_contract import BaseMetadataContract


        class TestDuckDB(BaseMetadataContract):
            plugin = "duckdb"
            max_examples = 5
        """
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:floe_conformance",
        "-p",
        "no:cacheprovider",
        "-W",
        "error::floe_compute_kit.conformance.vendoring.VendoredSuiteDriftWarning",
        "-v",
    )
    ids = [
        r.spec.id
        for r in select_checks()
        if r.spec.id.split(".")[0] in {"plugin", "metadata", "config"}
    ]
    # the metadata suite also holds upstream.*, not applicable to a plugin not on floe-core
    upstream = [r.spec.id for r in select_checks() if r.spec.id.startswith("upstream.")]
    result.assert_outcomes(passed=len(ids), skipped=len(upstream))
    result.stdout.fnmatch_lines(["*TestDuckDB::test_contract[[]metadata.name[]] PASSED*"])


@pytest.mark.parametrize("where", ["a file", "a link"])
def test_a_dir_that_is_not_a_folder_exits_2_and_writes_nothing(
    tmp_path: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "floe_contract"
    if where == "a file":
        target.write_text("mine\n")
    else:
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    assert main(["vendor", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: ")
    assert "Traceback" not in err
    if where == "a file":
        assert target.read_text() == "mine\n"
    else:
        assert not any((tmp_path / "elsewhere").iterdir())


def test_a_fifo_where_a_copy_goes_is_refused_not_read(tmp_path: Path) -> None:
    """Reading a FIFO blocks until something writes to it: only regular files are hashed."""
    import os

    dest = tmp_path / "floe_contract"
    dest.mkdir()
    os.mkfifo(dest / "suites.py")
    assert vendor(dest).refused == ["suites.py"]


def test_a_folder_where_a_copy_goes_exits_2_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "floe_contract"
    (dest / "fixtures.py").mkdir(parents=True)
    assert main(["vendor", str(dest)]) == 1  # a local change: kept without --force
    assert main(["vendor", str(dest), "--force"]) == 2
    err = capsys.readouterr().err
    assert f"{dest / 'fixtures.py'}: exists and is not a regular file" in err
    assert not (dest / MANIFEST).exists()


def test_a_folder_that_cannot_be_made_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    assert main(["vendor", str(blocker / "floe_contract")]) == 2
    assert "cannot create the folder" in capsys.readouterr().err


def test_vendor_leaves_only_the_package_files(tmp_path: Path) -> None:
    dest = tmp_path / "floe_contract"
    vendor(dest)
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [*VENDORED_FILES, "__init__.py", MANIFEST]
    )

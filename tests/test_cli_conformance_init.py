"""`floe-conformance init NAME`: writes the package, refuses bad names and occupied directories."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from floe_compute_kit.cli.conformance import main

pytestmark = pytest.mark.requirement("KIT-014")


def test_init_writes_a_plugin_package_in_floe_compute_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "warehouse_db"]) == 0
    root = tmp_path / "floe-compute-warehouse-db"
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "floe-compute-warehouse-db"
    assert pyproject["project"]["entry-points"]["floe.computes"] == {
        "warehouse_db": "floe_compute_warehouse_db.plugin:WarehouseDbComputePlugin"
    }
    tests = (root / "tests" / "test_contract.py").read_text()
    assert "class TestWarehouseDbContract(ComputePluginContract):" in tests
    plugin = (root / "src" / "floe_compute_warehouse_db" / "plugin.py").read_text()
    compile(plugin, "plugin.py", "exec")
    assert plugin.count("raise NotImplementedError(") == 5
    out = capsys.readouterr().out
    assert "wrote floe-compute-warehouse-db/pyproject.toml" in out
    assert "pytest" in out


def test_init_refuses_a_bad_name_and_an_occupied_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "Bad-Name", "--dir", str(tmp_path / "x")]) == 2
    assert "NAME: 'Bad-Name' is not allowed" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "mine.py").write_text("")
    assert main(["init", "ok", "--dir", str(tmp_path / "y")]) == 2
    assert "is not empty; choose another --dir or pass --force" in capsys.readouterr().err
    assert main(["init", "ok", "--dir", str(tmp_path / "y"), "--force"]) == 0


def test_init_writes_only_the_package_files(tmp_path: Path) -> None:
    """Atomic writes without lock files: nothing hidden is left in the new package."""
    root = tmp_path / "pkg"
    assert main(["init", "mydb", "--dir", str(root)]) == 0
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert written == [
        "README.md",
        "pyproject.toml",
        "src/floe_compute_mydb/__init__.py",
        "src/floe_compute_mydb/config.py",
        "src/floe_compute_mydb/plugin.py",
        "src/floe_compute_mydb/py.typed",
        "tests/test_contract.py",
    ]


def test_a_dir_that_is_a_file_exits_2_and_keeps_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.write_text("mine\n")
    assert main(["init", "mydb", "--dir", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"error: {target}: exists and is not a folder" in err
    assert target.read_text() == "mine\n"


def test_a_file_where_a_folder_goes_exits_2_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once a NotADirectoryError traceback; now one line naming the folder."""
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "src").write_text("")
    assert main(["init", "mydb", "--dir", str(root), "--force"]) == 2
    err = capsys.readouterr().err
    assert "cannot create the folder" in err
    assert "Traceback" not in err

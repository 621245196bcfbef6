"""Which extensions load offline, measured on the installed DuckDB, and the offline installer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from floe_compute_duckdb.extensions import (
    BUILTIN_EXTENSIONS,
    OFFLINE_EXTENSIONS,
    PACKAGED_EXTENSIONS,
    install_packaged,
    load_order,
    package_file,
    required_packaged,
)

pytestmark = pytest.mark.requirement("FR-005")


def offline(ext_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(
        config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    )


def test_load_order_puts_dependencies_first() -> None:
    assert load_order(["iceberg", "json"]) == ["avro", "httpfs", "iceberg", "json"]
    assert load_order(["httpfs", "iceberg", "httpfs"]) == ["httpfs", "avro", "iceberg"]
    assert required_packaged(["json", "parquet"]) == []
    assert required_packaged(["iceberg"]) == ["avro", "httpfs", "iceberg"]


@pytest.mark.parametrize("name", sorted(BUILTIN_EXTENSIONS))
def test_builtin_extensions_load_with_nothing_installed(name: str, tmp_path: Path) -> None:
    with offline(tmp_path / "ext") as con:
        con.execute(f"LOAD {name}")
    assert not (tmp_path / "ext").exists()


def test_packaged_extensions_install_from_files_and_load(tmp_path: Path) -> None:
    for name in PACKAGED_EXTENSIONS:
        source = package_file(name)
        assert source is not None
        assert source.is_file()
    ext_dir = tmp_path / "ext"
    assert install_packaged(["iceberg"], extension_directory=str(ext_dir)) == [
        "avro",
        "httpfs",
        "iceberg",
    ]
    assert install_packaged(["iceberg"], extension_directory=str(ext_dir)) == []  # idempotent
    with offline(ext_dir) as con:
        con.execute("LOAD iceberg")
        rows = con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded")
        loaded = {r[0] for r in rows.fetchall()}
    assert {"avro", "iceberg"} <= loaded


def test_other_extensions_are_not_offline(tmp_path: Path) -> None:
    """fts ships with neither the wheel nor a package: DuckDB would have to download it."""
    assert "fts" not in OFFLINE_EXTENSIONS
    with offline(tmp_path / "ext") as con, pytest.raises(duckdb.IOException, match="fts"):
        con.execute("LOAD fts")

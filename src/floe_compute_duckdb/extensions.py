"""Which DuckDB extensions load without a network, and how they get installed.

Measured on duckdb 1.5.5 (python wheel, linux_amd64), with autoinstall disabled:

- statically linked, ``LOAD`` works with nothing installed: core_functions, icu, json, parquet;
- shipped as files by the ``duckdb-extension-<name>==1.5.5`` packages: avro, httpfs, iceberg
  (iceberg needs avro at load time, and httpfs to reach a REST catalog);
- every other extension (fts, tpch, spatial, aws, ...) is downloaded by ``INSTALL``:
  DuckDB then fails with "Failed to download extension", so the config rejects them.

``INSTALL <name>`` of an extension already present in the extension directory is a no-op
(0.7 ms, no network), so dbt-duckdb's own install-then-load of ``extensions`` stays offline
once :func:`install_packaged` has copied the files in.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "BUILTIN_EXTENSIONS",
    "DUCKDB_VERSION",
    "OFFLINE_EXTENSIONS",
    "PACKAGED_EXTENSIONS",
    "install_packaged",
    "load_order",
    "package_file",
    "required_packaged",
]

#: The DuckDB release the packaged extension files are built for.
DUCKDB_VERSION: Final = "v1.5.5"
#: Compiled into the duckdb wheel; LOAD needs no file.
BUILTIN_EXTENSIONS: Final = frozenset({"core_functions", "icu", "json", "parquet"})
#: name -> extensions it needs loaded first; files come from duckdb-extension-<name>.
PACKAGED_EXTENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "avro": (),
    "httpfs": (),
    "iceberg": ("avro", "httpfs"),
}
#: Everything a DuckDBConfig may list in ``extensions``.
OFFLINE_EXTENSIONS: Final = tuple(sorted(BUILTIN_EXTENSIONS | PACKAGED_EXTENSIONS.keys()))


def load_order(names: Iterable[str]) -> list[str]:
    """``names`` plus their dependencies, dependencies first, without duplicates."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        for dep in PACKAGED_EXTENSIONS.get(name, ()):
            visit(dep)
        if name not in ordered:
            ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def required_packaged(names: Iterable[str]) -> list[str]:
    """The packaged extensions (with dependencies) that ``names`` need installed."""
    return [n for n in load_order(names) if n in PACKAGED_EXTENSIONS]


def package_file(name: str) -> Path | None:
    """The extension file shipped by ``duckdb-extension-<name>``, if that package is installed."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "extensions" / DUCKDB_VERSION / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    return None


def installed_file(con: duckdb.DuckDBPyConnection, name: str) -> Path:
    """Where ``con`` looks for an installed extension called ``name``."""
    row = con.execute("SELECT current_setting('extension_directory')").fetchone()
    platform = con.execute("PRAGMA platform").fetchone()
    directory = Path(str(row[0]) if row else "~/.duckdb/extensions").expanduser()
    plat = str(platform[0]) if platform else "linux_amd64"
    return directory / DUCKDB_VERSION / plat / f"{name}.duckdb_extension"


def install_packaged(names: Iterable[str], *, extension_directory: str | None) -> list[str]:
    """Install the packaged extensions ``names`` need into ``extension_directory``, offline.

    Only missing files are installed (``INSTALL '<package file>'`` through a throwaway
    in-memory connection, which also writes DuckDB's ``.info`` metadata). Returns the
    names installed. Raises FileNotFoundError naming the missing package.
    """
    import duckdb  # noqa: PLC0415 - lazy: keeps plugin discovery free of DuckDB

    wanted = required_packaged(names)
    if not wanted:
        return []
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False
    }
    if extension_directory:
        config["extension_directory"] = str(Path(extension_directory).expanduser())
    done: list[str] = []
    with duckdb.connect(":memory:", config=config) as con:
        for name in wanted:
            if installed_file(con, name).is_file():
                continue
            source = package_file(name)
            if source is None:
                raise FileNotFoundError(
                    f"DuckDB extension {name!r} is not installed and the package "
                    f"duckdb-extension-{name}=={DUCKDB_VERSION[1:]} that ships it offline is "
                    f"missing; pip install 'duckdb-extension-{name}=={DUCKDB_VERSION[1:]}'"
                )
            literal = str(source).replace("'", "''")
            con.execute(f"INSTALL '{literal}'")
            done.append(name)
    return done

"""Provenance: the distribution that supplied a plugin, its file hashes, and the environment."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import sys
from pathlib import Path

import pytest

from _distributions import install_distribution, write_distribution
from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit.conformance._provenance import distribution_info, environment_info

pytestmark = pytest.mark.requirement("KIT-010")

PLUGIN_SOURCE = '''
from floe_compute_duckdb import DuckDBComputePlugin


class Provenanced(DuckDBComputePlugin):
    """Installed from a wheel-like distribution."""
'''


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_installed_distribution_is_hashed_from_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_distribution(
        tmp_path / "src",
        dist_name="floe-compute-provenanced",
        package="floe_provenanced",
        entry_points={"provenanced": "floe_provenanced.plugin:Provenanced"},
        files={"__init__.py": "", "plugin.py": PLUGIN_SOURCE},
        version="3.1.4",
    )
    site = install_distribution(source, tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    module = importlib.import_module("floe_provenanced.plugin")
    try:
        info = distribution_info(module.Provenanced)
    finally:
        sys.modules.pop("floe_provenanced.plugin", None)
        sys.modules.pop("floe_provenanced", None)
    assert info is not None
    assert (info["name"], info["version"], info["package"]) == (
        "floe-compute-provenanced",
        "3.1.4",
        "floe_provenanced",
    )
    assert info["hash_source"] == "record"
    assert info["files"] == [
        {
            "path": "floe_provenanced/__init__.py",
            "sha256": _sha(site / "floe_provenanced/__init__.py"),
        },
        {"path": "floe_provenanced/plugin.py", "sha256": _sha(site / "floe_provenanced/plugin.py")},
    ]
    assert len(info["files_sha256"]) == 64


def test_an_editable_install_is_hashed_from_the_package_files() -> None:
    info = distribution_info(DuckDBComputePlugin)
    assert info is not None
    assert info["name"] == "floe-compute-kit"
    assert info["package"] == "floe_compute_duckdb"
    package_dir = Path(sys.modules["floe_compute_duckdb"].__file__ or "").parent
    by_path = {f["path"]: f["sha256"] for f in info["files"]}
    assert by_path["floe_compute_duckdb/plugin.py"] == _sha(package_dir / "plugin.py")
    assert not any("__pycache__" in p for p in by_path)
    assert distribution_info(DuckDBComputePlugin) == info  # stable between calls


def test_environment_names_the_adapter_and_driver_versions() -> None:
    env = environment_info(DuckDBComputePlugin())
    assert env["adapter"] == {"name": "dbt-duckdb", "version": md.version("dbt-duckdb")}
    assert env["drivers"].get("duckdb") == md.version("duckdb")
    for name in ("pytest", "hypothesis", "pydantic", "dbt-core", "floe-compute-kit"):
        assert env["packages"][name] == md.version(name)
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment_info(None)["adapter"] == {"name": None, "version": None}

"""Discovery through real installed distributions: nothing about the lookup is patched.

Throwaway distributions are pip-installed into a temporary directory which is
then put on sys.path, exactly as site-packages is; importlib.metadata finds them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _distributions import install_distributions, on_sys_path, rival_specs
from floe_compute_kit import (
    ComputeRegistry,
    DuplicatePluginError,
    PluginLoadError,
    PluginNotFoundError,
    discover_plugins,
    load_plugin,
)
from floe_compute_kit.registry import resolve_plugin_class

pytestmark = pytest.mark.requirement("FR-003")

# Written from the ComputePlugin docstring alone, as an author in a scratch directory would.
HAND_WRITTEN = '''
from floe_compute_kit import (FLOE_API_VERSION, ComputePlugin, ConnectionResult,
                              ConnectionStatus, resource_preset)


class ScratchPlugin(ComputePlugin):
    """A plugin written in a scratch directory."""

    name = "scratch"
    version = "0.3.0"
    floe_api_version = FLOE_API_VERSION

    def generate_dbt_profile(self, config):
        return {"type": "duckdb", "threads": config.threads}

    def get_required_dbt_packages(self):
        return ["dbt-duckdb>=1.11,<1.12"]

    def validate_connection(self, config):
        return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=0.5)

    def get_resource_requirements(self, workload_size):
        return resource_preset(workload_size)

    def get_catalog_attachment_sql(self, catalog_config):
        return None
'''

INCOMPLETE = """
from floe_compute_kit import ComputePlugin

class Incomplete(ComputePlugin):
    name = "incomplete"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target dir holding four real distributions, installed once for the module."""
    return install_distributions(
        tmp_path_factory.mktemp("dists"),
        [
            (
                "floe-scratch",
                "floe_scratch",
                {"scratch": "floe_scratch.plugin:ScratchPlugin"},
                {"__init__.py": "", "plugin.py": HAND_WRITTEN},
            ),
            (
                "floe-broken",
                "floe_broken",
                {"broken": "floe_broken.plugin:Nope"},
                {"__init__.py": "", "plugin.py": "import does_not_exist_anywhere\n"},
            ),
            (
                "floe-notaplugin",
                "floe_notaplugin",
                {"notaplugin": "floe_notaplugin:Thing"},
                {"__init__.py": "class Thing:\n    pass\n"},
            ),
            (
                "floe-incomplete",
                "floe_incomplete",
                {"incomplete": "floe_incomplete:Incomplete"},
                {"__init__.py": INCOMPLETE},
            ),
        ],
    )


@pytest.fixture
def on_path(site: Path) -> Iterator[Path]:
    with on_sys_path(site, "floe_scratch"):
        yield site


@pytest.mark.requirement("US1-AS3", "US1")
def test_reference_plugin_is_discovered_by_name() -> None:
    plugins = discover_plugins()
    assert plugins["duckdb"].distribution == "floe-compute-kit"
    assert load_plugin("duckdb").name == "duckdb"


@pytest.mark.requirement("US1-AS3", "US1")
def test_hand_written_plugin_in_scratch_dir_is_discovered_by_name(on_path: Path) -> None:
    info = discover_plugins()["scratch"]
    assert (info.distribution, info.distribution_version) == ("floe-scratch", "0.1.0")
    plugin = load_plugin("scratch")
    assert (plugin.name, plugin.version) == ("scratch", "0.3.0")
    assert ComputeRegistry()["scratch"].get_required_dbt_packages() == ["dbt-duckdb>=1.11,<1.12"]


def test_discovery_imports_nothing(on_path: Path) -> None:
    discover_plugins()
    assert "floe_scratch.plugin" not in sys.modules
    assert "floe_broken.plugin" not in sys.modules


def test_import_failure_names_entry_point_distribution_and_reason(on_path: Path) -> None:
    with pytest.raises(PluginLoadError) as info:
        load_plugin("broken")
    err = info.value
    assert err.entry_point == "broken = floe_broken.plugin:Nope"
    assert err.distribution == "floe-broken 0.1.0"
    assert "does_not_exist_anywhere" in (err.reason or "")
    assert "floe-broken" in str(err)
    assert isinstance(err, ImportError)


def test_non_plugin_object_is_a_load_error(on_path: Path) -> None:
    with pytest.raises(PluginLoadError, match="not a ComputePlugin subclass") as info:
        load_plugin("notaplugin")
    assert info.value.distribution == "floe-notaplugin 0.1.0"


@pytest.mark.requirement("US1-AS2", "US1")
def test_incomplete_registered_plugin_lists_missing_methods(on_path: Path) -> None:
    with pytest.raises(TypeError, match="validate_connection") as info:
        load_plugin("incomplete")
    assert "get_catalog_attachment_sql" in str(info.value)


def test_unknown_name_lists_available(on_path: Path) -> None:
    with pytest.raises(PluginNotFoundError) as info:
        load_plugin("snowflake")
    assert {"duckdb", "scratch", "broken"} <= set(info.value.available)
    assert "duckdb" in str(info.value)
    with pytest.raises(PluginNotFoundError):
        ComputeRegistry()["snowflake"]


def test_registry_mapping_loads_lazily(on_path: Path) -> None:
    registry = ComputeRegistry()
    assert "scratch" in list(registry)
    assert len(registry) >= 5
    assert "scratch" in registry
    assert "snowflake" not in registry
    assert "floe_scratch.plugin" not in sys.modules
    assert registry["scratch"] is registry["scratch"]


def test_module_attr_spec(on_path: Path) -> None:
    assert resolve_plugin_class("floe_scratch.plugin:ScratchPlugin").__name__ == "ScratchPlugin"
    with pytest.raises(PluginLoadError, match="ModuleNotFoundError"):
        resolve_plugin_class("no_such_module:X")
    with pytest.raises(PluginLoadError, match="AttributeError"):
        resolve_plugin_class("floe_scratch.plugin:Missing")


def test_duplicate_names_from_two_distributions_raise(tmp_path: Path) -> None:
    """Run in a subprocess so the duplicate never leaks into this process's discovery."""
    install_distributions(tmp_path, rival_specs())
    code = (
        "from floe_compute_kit import discover_plugins, DuplicatePluginError\n"
        "try:\n    discover_plugins()\nexcept DuplicatePluginError as e:\n"
        "    print(e.plugin_name, '|', e.distributions)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("dup |")
    assert "floe-dup-a 0.1.0" in out
    assert "floe-dup-b 0.1.0" in out
    assert issubclass(DuplicatePluginError, ValueError)

"""ApprovedComputes.from_manifest: real installed plugins; one aggregate error for all failures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _alt_plugin import ALT_DISTRIBUTION, ALT_VERSION, alt_on_path, alt_site  # noqa: F401
from _distributions import install_distribution, write_distribution
from _hierarchy import write
from floe_compute_kit.errors import (
    ComputeConfigurationError,
    PluginLoadError,
    PluginNotFoundError,
    RegistryLoadError,
)
from floe_compute_kit.manifest import load_hierarchy, load_manifest
from floe_compute_kit.registry import ApprovedComputes

THIRD = '''
from pydantic import Field
from floe_compute_kit import (FLOE_API_VERSION, ComputeConfig, ComputePlugin, ConnectionResult,
                              ConnectionStatus, resource_preset)


class ThirdConfig(ComputeConfig):
    warehouse: str = Field(default="wh", min_length=1)


class ThirdPlugin(ComputePlugin):
    """A third compute, for registries of three."""

    name = "third"
    version = "2.0.0"
    floe_api_version = FLOE_API_VERSION
    config_model = ThirdConfig

    def generate_dbt_profile(self, config):
        return {"type": "duckdb", "threads": config.threads}

    def get_required_dbt_packages(self):
        return ["dbt-duckdb>=1.11,<1.12"]

    def validate_connection(self, config):
        return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=0.1)

    def get_resource_requirements(self, workload_size):
        return resource_preset(workload_size)

    def get_catalog_attachment_sql(self, catalog_config):
        return None
'''


@pytest.fixture(scope="module")
def extra_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A third working plugin and a broken one, installed as real distributions."""
    root = tmp_path_factory.mktemp("registry_manifest")
    target = root / "site"
    for dist, package, eps, files in (
        ("floe-third", "floe_third", {"third": "floe_third:ThirdPlugin"}, {"__init__.py": THIRD}),
        (
            "floe-crashy",
            "floe_crashy",
            {"crashy": "floe_crashy:Crashy"},
            {"__init__.py": "raise RuntimeError('crashy cannot start: no licence')\n"},
        ),
    ):
        source = write_distribution(
            root, dist_name=dist, package=package, entry_points=eps, files=files
        )
        install_distribution(source, target)
    return target


@pytest.fixture
def sites(alt_on_path: Path, extra_site: Path) -> Iterator[None]:  # noqa: F811 - fixture by name
    sys.path.insert(0, str(extra_site))
    try:
        yield
    finally:
        sys.path.remove(str(extra_site))
        for name in [m for m in sys.modules if m.startswith(("floe_third", "floe_crashy"))]:
            del sys.modules[name]


def manifest(tmp_path: Path, approved: str, config: str = "") -> Path:
    text = f"scope: enterprise\nname: acme\ncompute:\n  approved: {approved}\n  default: duckdb\n"
    if config:
        text += "  config:\n" + config
    return write(tmp_path, "manifest.yaml", text)


@pytest.mark.requirement("FR-010")
@pytest.mark.requirement("US3-AS1", "US3")
@pytest.mark.requirement("SC-003")
@pytest.mark.usefixtures("sites")
def test_three_approved_computes_are_discovered_loaded_and_configured(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "[duckdb, duckdb_alt, third]",
        "    duckdb_alt: {threads: 3, path: alt.duckdb}\n    third: {warehouse: big}\n",
    )
    registry = ApprovedComputes.from_manifest(load_manifest(path))
    assert list(registry) == ["duckdb", "duckdb_alt", "third"]
    assert registry.infos["duckdb_alt"].distribution == ALT_DISTRIBUTION
    assert registry.infos["duckdb_alt"].distribution_version == ALT_VERSION
    assert registry["duckdb_alt"].version == ALT_VERSION
    alt = registry.configs["duckdb_alt"]
    assert type(alt) is registry["duckdb_alt"].config_model
    assert (alt.threads, alt.model_dump()["path"]) == (3, "alt.duckdb")
    assert registry.configs["third"].model_dump()["warehouse"] == "big"
    assert type(registry.configs["duckdb"]) is registry["duckdb"].config_model
    # only the approved computes are in it, though more are installed
    assert "crashy" not in registry
    assert len(registry) == 3


@pytest.mark.requirement("KIT-023")
@pytest.mark.requirement("US3-AS1", "US3")
@pytest.mark.usefixtures("sites")
def test_every_failing_compute_is_in_one_aggregate_error(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "[duckdb, snowflake, crashy, duckdb_alt, third]",
        "    duckdb_alt: {threads: 0}\n    third: {warehouse: '', colour: red}\n",
    )
    with pytest.raises(RegistryLoadError) as info:
        ApprovedComputes.from_manifest(load_manifest(path))
    err = info.value
    assert sorted(err.failures) == ["crashy", "duckdb_alt", "snowflake", "third"]
    assert "available:" in err.failures["snowflake"]
    assert "duckdb_alt" in err.failures["snowflake"]
    assert "no licence" in err.failures["crashy"]
    assert "floe-crashy" in err.failures["crashy"]
    assert "manifest.yaml: compute.config.duckdb_alt.threads: 0" in err.failures["duckdb_alt"]
    assert "compute.config.third.warehouse" in err.failures["third"]
    assert "compute.config.third.colour" in err.failures["third"]
    assert [type(e) for e in err.errors] == [
        PluginNotFoundError,
        PluginLoadError,
        ComputeConfigurationError,
        ComputeConfigurationError,
    ]
    for name in ("snowflake", "crashy", "duckdb_alt", "third"):
        assert f"  - {name}: " in str(err)
    # the ones that did load are still usable (health reports them)
    assert isinstance(err.partial, ApprovedComputes)
    assert list(err.partial) == ["duckdb"]
    assert isinstance(err, ImportError)


@pytest.mark.requirement("US3-AS1", "US3")
@pytest.mark.usefixtures("alt_on_path")
def test_a_hierarchy_merges_config_down_the_levels_before_validating(tmp_path: Path) -> None:
    write(
        tmp_path,
        "enterprise/manifest.yaml",
        "scope: enterprise\nname: acme\ncompute:\n  approved: [duckdb, duckdb_alt]\n"
        "  default: duckdb\n  config:\n    duckdb_alt: {threads: 7, path: e.duckdb}\n",
    )
    write(
        tmp_path,
        "sales/manifest.yaml",
        "scope: domain\nname: sales\nparent: ../enterprise/manifest.yaml\ncompute:\n"
        "  approved: [duckdb_alt]\n  default: duckdb_alt\n"
        "  config:\n    duckdb_alt: {path: d.duckdb}\n",
    )
    registry = ApprovedComputes.from_manifest(load_hierarchy(tmp_path / "sales" / "manifest.yaml"))
    assert list(registry) == ["duckdb_alt"]
    config = registry.configs["duckdb_alt"].model_dump()
    assert (config["threads"], config["path"]) == (7, "d.duckdb")

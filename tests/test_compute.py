"""The ComputePlugin ABC: what it demands, and how an incomplete plugin is told."""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import pytest

from floe_compute_kit import (
    FLOE_API_VERSION,
    SUPPORTED_API_VERSIONS,
    CatalogConfig,
    ComputeConfig,
    ComputePlugin,
    ConnectionResult,
    ConnectionStatus,
    IncompletePluginError,
    PluginMetadata,
    ResourceSpec,
    resource_preset,
)

pytestmark = pytest.mark.requirement("FR-001")

ABSTRACT = {
    "name",
    "version",
    "floe_api_version",
    "generate_dbt_profile",
    "get_required_dbt_packages",
    "validate_connection",
    "get_resource_requirements",
    "get_catalog_attachment_sql",
}


class Complete(ComputePlugin):
    """A minimal plugin written from the ComputePlugin docstring alone."""

    name = "complete"
    version = "1.0.0"
    floe_api_version = FLOE_API_VERSION

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "duckdb", "threads": config.threads}

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=0.1)

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None


def test_abstract_members_are_exactly_the_contract() -> None:
    assert set(ComputePlugin.__abstractmethods__) == ABSTRACT
    assert issubclass(ComputePlugin, PluginMetadata)
    assert set(PluginMetadata.__abstractmethods__) == {"name", "version", "floe_api_version"}


@pytest.mark.requirement("US1-AS1", "US1", "FR-002")
def test_method_signatures_are_typed_as_designed() -> None:
    hints = {
        m: get_type_hints(getattr(ComputePlugin, m))
        for m in ABSTRACT
        if inspect.isfunction(getattr(ComputePlugin, m))
    }
    assert hints["generate_dbt_profile"] == {"config": ComputeConfig, "return": dict[str, Any]}
    assert hints["get_required_dbt_packages"] == {"return": list[str]}
    assert hints["validate_connection"] == {"config": ComputeConfig, "return": ConnectionResult}
    assert hints["get_resource_requirements"] == {"workload_size": str, "return": ResourceSpec}
    assert hints["get_catalog_attachment_sql"] == {
        "catalog_config": CatalogConfig,
        "return": list[str] | None,
    }


@pytest.mark.requirement("US1-AS1", "US1")
def test_every_contract_member_has_a_docstring() -> None:
    for member in [*ABSTRACT, "config_model", "example_configs"]:
        if member == "config_model":
            continue
        assert (getattr(ComputePlugin, member).__doc__ or "").strip(), member
    assert ">>>" in (ComputePlugin.generate_dbt_profile.__doc__ or "")
    assert "floe.computes" in (ComputePlugin.__doc__ or "")


def test_complete_plugin_instantiates_with_defaults() -> None:
    plugin = Complete()
    assert plugin.config_model is ComputeConfig
    assert plugin.capabilities == frozenset()
    assert plugin.example_configs() == ()
    assert plugin.description == "A minimal plugin written from the ComputePlugin docstring alone."
    assert plugin.floe_api_version in SUPPORTED_API_VERSIONS


@pytest.mark.requirement("US1-AS2", "US1")
def test_incomplete_plugin_names_every_missing_member() -> None:
    class Half(ComputePlugin):
        name = "half"

        def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
            return {}

    with pytest.raises(IncompletePluginError) as info:
        Half()
    expected = sorted(ABSTRACT - {"name", "generate_dbt_profile"})
    assert info.value.missing == expected
    for member in expected:
        assert member in str(info.value)
    assert isinstance(info.value, TypeError)


@pytest.mark.requirement("US1-AS2", "US1")
def test_empty_subclass_lists_all_eight() -> None:
    class Empty(ComputePlugin):
        pass

    with pytest.raises(IncompletePluginError) as info:
        Empty()
    assert info.value.missing == sorted(ABSTRACT)


def test_intermediate_abstract_base_is_allowed_to_exist() -> None:
    class Base(ComputePlugin):
        def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
            return None

    class Leaf(Base, Complete):
        pass

    assert (
        Leaf().get_catalog_attachment_sql(
            CatalogConfig(catalog_type="rest", catalog_uri="u", catalog_name="c")
        )
        is None
    )


@pytest.mark.requirement("FR-004")
def test_supported_api_versions() -> None:
    assert FLOE_API_VERSION in SUPPORTED_API_VERSIONS
    assert "2.0" not in SUPPORTED_API_VERSIONS
    assert "0.9" not in SUPPORTED_API_VERSIONS

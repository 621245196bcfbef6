"""Loading a target: every form of spec, structural plugins, and clear reasons when it fails."""

from __future__ import annotations

import pytest

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit import ComputeConfig
from floe_compute_kit.conformance._loader import (
    REQUIRED_MEMBERS,
    LoadedPlugin,
    LoadFailure,
    describe_target,
    load_target,
)
from zoo.plugins import IncompletePlugin, StructuralGood

pytestmark = pytest.mark.requirement("FR-003")


@pytest.mark.parametrize(
    "target",
    [
        "duckdb",
        "floe_compute_duckdb.plugin:DuckDBComputePlugin",
        "floe_compute_duckdb:DuckDBComputePlugin",
        DuckDBComputePlugin,
        DuckDBComputePlugin(),
    ],
    ids=["entry-point", "module:attr", "package:attr", "class", "instance"],
)
def test_every_form_of_target_loads(target: object) -> None:
    loaded = load_target(target)
    assert isinstance(loaded, LoadedPlugin)
    assert isinstance(loaded.instance, DuckDBComputePlugin)
    assert loaded.config_model is DuckDBConfig
    assert "catalog_attachment" in loaded.capabilities
    assert loaded.structural is False


@pytest.mark.requirement("KIT-016")
def test_a_structural_plugin_loads_as_structural() -> None:
    loaded = load_target(StructuralGood)
    assert isinstance(loaded, LoadedPlugin)
    assert loaded.structural is True
    assert loaded.capabilities == frozenset({"catalog_attachment"})


@pytest.mark.requirement("US1-AS2", "US1")
def test_an_incomplete_plugin_names_every_missing_member() -> None:
    failure = load_target(IncompletePlugin)
    assert isinstance(failure, LoadFailure)
    assert failure.missing == ("validate_connection", "get_catalog_attachment_sql")
    assert "IncompletePlugin is incomplete" in failure.message


def test_an_unknown_entry_point_lists_the_installed_ones() -> None:
    failure = load_target("no_such_compute")
    assert isinstance(failure, LoadFailure)
    assert "'no_such_compute'" in failure.message
    assert "duckdb" in failure.message


def test_an_import_error_carries_its_traceback() -> None:
    failure = load_target("zoo.broken_import:BrokenImportPlugin")
    assert isinstance(failure, LoadFailure)
    assert "ModuleNotFoundError" in failure.message
    assert failure.traceback is not None
    assert "floe_no_such_engine_driver" in failure.traceback


def test_a_missing_attribute_and_a_non_plugin_are_failures() -> None:
    missing = load_target("floe_compute_duckdb:NoSuchPlugin")
    assert isinstance(missing, LoadFailure)
    assert "NoSuchPlugin" in missing.message
    function = load_target("floe_compute_kit.models:parse_config")
    assert isinstance(function, LoadFailure)
    assert "neither a plugin class nor an instance" in function.message


def test_a_constructor_that_needs_arguments_is_a_failure() -> None:
    failure = load_target("zoo.plugins:NeedsArguments")
    assert isinstance(failure, LoadFailure)
    assert "cannot instantiate NeedsArguments()" in failure.message


def test_a_config_model_that_is_not_a_model_falls_back_for_the_other_checks() -> None:
    class OddModel(DuckDBComputePlugin):
        config_model = dict  # type: ignore[assignment]

    loaded = load_target(OddModel)
    assert isinstance(loaded, LoadedPlugin)
    assert loaded.config_model is ComputeConfig
    assert loaded.declared_config_model is dict


def test_describe_target_and_required_members() -> None:
    assert describe_target("duckdb") == "duckdb"
    assert describe_target(DuckDBComputePlugin) == "floe_compute_duckdb.plugin:DuckDBComputePlugin"
    assert set(REQUIRED_MEMBERS) >= {"validate_connection", "name", "floe_api_version"}

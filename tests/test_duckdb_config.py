"""DuckDBConfig: what it accepts, and how it says no (field, value, allowed options)."""

from __future__ import annotations

from typing import Any

import pytest

from floe_compute_duckdb import AttachConfig, DuckDBConfig
from floe_compute_duckdb.extensions import OFFLINE_EXTENSIONS
from floe_compute_kit import ComputeConfigurationError, parse_config

pytestmark = pytest.mark.requirement("FR-005")


def rejected(data: dict[str, Any]) -> ComputeConfigurationError:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(DuckDBConfig, {"plugin": "duckdb", **data}, plugin_name="duckdb")
    return info.value


@pytest.mark.requirement("US2-AS1", "US2", "FR-006")
def test_zero_config_default_is_in_memory() -> None:
    config = DuckDBConfig()
    assert config.plugin == "duckdb"
    assert config.path == ":memory:"
    assert config.memory_limit is None
    assert config.extensions == []
    assert config.attach == []
    assert config.timeout_seconds == 3600


@pytest.mark.requirement("FR-009")
@pytest.mark.parametrize("value", ["512MB", "1GB", "64GB", "100000MB"])
def test_memory_limit_accepts_whole_mb_and_gb(value: str) -> None:
    assert DuckDBConfig(memory_limit=value).memory_limit == value


@pytest.mark.requirement("FR-009")
@pytest.mark.parametrize(
    "value", ["4G", "1.5GB", "512 MB", "1TB", "lots", "-1GB", "1gb", "\u0663GB"]
)
def test_memory_limit_error_names_field_value_and_pattern(value: str) -> None:
    """ASCII digits only: an Arabic-Indic three passes a naive \\d but not DuckDB."""
    error = rejected({"memory_limit": value})
    assert error.field == "memory_limit"
    assert error.value == value
    assert "^[0-9]+(GB|MB)$" in str(error)


def test_path_errors_are_located_at_the_path_field() -> None:
    error = rejected({"path": "s3://bucket/db.duckdb"})
    assert error.field == "path"
    assert "plain local file path" in str(error)


def test_unknown_extension_lists_the_offline_ones() -> None:
    error = rejected({"extensions": ["spatial"]})
    assert error.field == "extensions.0"
    for name in OFFLINE_EXTENSIONS:
        assert name in str(error)


@pytest.mark.parametrize(
    "alias", ["Lake", "my-lake", "lake; DROP TABLE t", "1lake", "", "lake name", "é"]
)
def test_attach_alias_must_be_a_plain_identifier(alias: str) -> None:
    error = rejected({"attach": [{"path": "wh", "alias": alias}]})
    assert error.field == "attach.0.alias"


@pytest.mark.parametrize("alias", ["select", "from", "table", "main", "system", "temp"])
def test_attach_alias_may_not_be_a_keyword_or_reserved_catalog(alias: str) -> None:
    error = rejected({"attach": [{"path": "wh", "alias": alias}]})
    assert alias in str(error)


def test_attach_defaults_to_iceberg_and_rejects_other_types() -> None:
    assert AttachConfig(path="wh", alias="lake").type == "iceberg"
    error = rejected({"attach": [{"path": "x.db", "alias": "pg", "type": "postgres"}]})
    assert error.field == "attach.0.type"
    assert "iceberg" in str(error)
    assert "duckdb" in str(error)


def test_attach_aliases_must_be_unique_and_differ_from_the_main_database() -> None:
    twice = [{"path": "a", "alias": "lake"}, {"path": "b", "alias": "lake"}]
    assert "lake" in str(rejected({"attach": twice}))
    clash = rejected({"path": "lake.duckdb", "attach": [{"path": "wh", "alias": "lake"}]})
    assert "clashes with the main database" in str(clash)


def test_attach_options_may_not_shadow_fields() -> None:
    error = rejected({"attach": [{"path": "wh", "alias": "lake", "options": {"type": "x"}}]})
    assert "type" in str(error)


@pytest.mark.parametrize("key", ["Threads", "a-b", "x; DROP", "1x", "a b"])
def test_setting_keys_must_be_identifiers(key: str) -> None:
    error = rejected({"settings": {key: 1}})
    assert error.field.startswith("settings")


@pytest.mark.parametrize("table", ["settings", "connection"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("autoinstall_known_extensions", True),
        ("custom_extension_repository", "http://example.invalid"),
        ("allow_community_extensions", True),
    ],
)
def test_settings_that_would_download_extensions_are_refused(
    table: str, key: str, value: object
) -> None:
    """Extensions load offline only: no setting may turn network installs back on."""
    error = rejected({table: {key: value}})
    assert f"{table}.{key}: not allowed" in str(error)
    assert "offline" in str(error)


@pytest.mark.parametrize("table", ["settings", "connection"])
@pytest.mark.parametrize("key", ["by", "select", "order"])
def test_setting_keys_that_are_sql_keywords_are_refused(table: str, key: str) -> None:
    """dbt-duckdb writes `SET key = ...` unquoted: a keyword there does not parse."""
    error = rejected({table: {key: False}})
    assert f"{table}.{key}: an SQL keyword" in str(error)


def test_the_setting_keywords_are_duckdbs_own() -> None:
    import duckdb

    from floe_compute_duckdb.config import SETTING_KEYWORDS

    rows = duckdb.connect().execute(
        "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'"
    )
    assert {str(r[0]).lower() for r in rows.fetchall()} == SETTING_KEYWORDS


def test_validating_a_config_imports_no_duckdb() -> None:
    """The kit and floe compile validate configs by the thousand; DuckDB is for running."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from floe_compute_duckdb import DuckDBConfig\n"
        "from pydantic import ValidationError\n"
        "DuckDBConfig.model_validate({'attach': [{'path': 'wh', 'alias': 'lake'}],"
        " 'settings': {'threads': 2}})\n"
        "try:\n"
        "    DuckDBConfig.model_validate({'attach': [{'path': 'wh', 'alias': 'select'}]})\n"
        "except ValidationError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('a keyword alias was accepted')\n"
        "print('duckdb' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("table", ["settings", "connection"])
def test_memory_limit_belongs_in_its_field(table: str) -> None:
    error = rejected({table: {"memory_limit": "1GB"}})
    assert "set the field 'memory_limit'" in str(error)


@pytest.mark.parametrize(
    "path",
    ["{{ env_var('HOME') }}/x.duckdb", "x{%raw%}.duckdb", "a\x00b.duckdb", "md:my_db", "dir/"],
)
def test_paths_dbt_or_duckdb_would_misread_are_rejected(path: str) -> None:
    error = rejected({"path": path})
    assert error.field == "path"
    assert error.value == path


def test_jinja_in_setting_values_is_rejected() -> None:
    error = rejected({"settings": {"custom": "{{ 7*7 }}"}})
    assert "Jinja" in str(error)


def test_credentials_are_secret_and_keys_are_identifiers() -> None:
    config = DuckDBConfig(credentials={"token": "SECRET-9"})  # type: ignore[dict-item]
    assert "SECRET-9" not in repr(config)
    assert config.credentials["token"].get_secret_value() == "SECRET-9"
    error = rejected({"credentials": {"My-Token": "v"}})
    assert error.field.startswith("credentials")
    assert error.value != "v"


def test_floats_must_be_finite() -> None:
    error = rejected({"settings": {"ratio": float("nan")}})
    assert error.field.startswith("settings.ratio")

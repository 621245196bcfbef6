"""generate_dbt_profile: the floe_postgres target, accepted by its adapter, secrets as env refs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from pydantic import SecretStr

from dbt.adapters.floe_postgres import Plugin as AdapterPlugin
from floe_compute_kit.conformance.strategies import configs
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig
from floe_compute_postgres.profile import PASSWORD_ENV

PLUGIN = PostgresComputePlugin()


def _adapter_input(profile: dict[str, Any]) -> dict[str, Any]:
    """What dbt-core hands the adapter: the target without ``type`` and ``threads``,
    aliases (``dbname``) translated."""
    data = copy.deepcopy(profile)
    data.pop("type")
    data.pop("threads")
    translated: dict[str, Any] = AdapterPlugin.credentials.translate_aliases(data)
    return translated


@pytest.mark.requirement("KIT-001")
def test_every_field_reaches_the_profile() -> None:
    config = PostgresConfig(
        host="10.0.0.5",
        port=6543,
        user="analyst",
        dbname="warehouse",
        schema="marts",
        sslmode="require",
        connect_timeout=7,
        threads=6,
        timeout_seconds=90,
        credentials={"password": SecretStr("pw-0451")},
    )
    assert PLUGIN.generate_dbt_profile(config) == {
        "type": "floe_postgres",
        "threads": 6,
        "host": "10.0.0.5",
        "port": 6543,
        "user": "analyst",
        "password": "{{ env_var('FLOE_POSTGRES_PASSWORD') }}",
        "dbname": "warehouse",
        "schema": "marts",
        "sslmode": "require",
        "connect_timeout": 7,
        "statement_timeout_ms": 90_000,
        "application_name": "floe",
    }


@pytest.mark.requirement("FR-020")
def test_the_timeout_changes_the_profile() -> None:
    short = PLUGIN.generate_dbt_profile(PostgresConfig(timeout_seconds=2))
    long = PLUGIN.generate_dbt_profile(PostgresConfig(timeout_seconds=3600))
    assert short["statement_timeout_ms"] == 2000
    assert long["statement_timeout_ms"] == 3_600_000


@pytest.mark.requirement("KIT-006")
def test_the_password_is_only_an_env_var_reference() -> None:
    with_pw = PostgresConfig(credentials={"password": SecretStr("pw-never-in-profile")})
    profile = PLUGIN.generate_dbt_profile(with_pw)
    assert "pw-never-in-profile" not in yaml.safe_dump(profile)
    assert profile["password"] == "{{ env_var('" + PASSWORD_ENV + "') }}"
    # without a credential too: a missing variable makes dbt name it, not fail auth
    without = PLUGIN.generate_dbt_profile(PostgresConfig())
    assert without["password"] == "{{ env_var('FLOE_POSTGRES_PASSWORD') }}"


@pytest.mark.requirement("KIT-001")
@settings(max_examples=25, deadline=None)
@given(configs(PostgresConfig))
def test_the_adapter_accepts_every_generated_profile(config: PostgresConfig) -> None:
    profile = PLUGIN.generate_dbt_profile(config)
    assert yaml.safe_load(yaml.safe_dump(profile)) == profile
    AdapterPlugin.credentials.validate(_adapter_input(profile))
    credentials = AdapterPlugin.credentials.from_dict(_adapter_input(profile))
    assert credentials.statement_timeout_ms == config.timeout_seconds * 1000
    assert credentials.type == "floe_postgres"


@pytest.mark.requirement("KIT-001")
def test_the_adapter_extends_dbt_postgres() -> None:
    assert AdapterPlugin.dependencies == ["postgres"]
    assert "statement_timeout_ms" in AdapterPlugin.credentials.__dataclass_fields__
    assert (
        "statement_timeout_ms"
        in AdapterPlugin.credentials(
            host="h", user="u", port=1, password="p", database="d", schema="s"
        )._connection_keys()
    )

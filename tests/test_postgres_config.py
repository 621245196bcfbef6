"""PostgresConfig: loopback defaults, strict fields, errors that name field, value, allowed."""

from __future__ import annotations

import warnings

import pytest
from pydantic import SecretStr

from floe_compute_kit import ComputeConfigurationError, parse_config
from floe_compute_postgres import PostgresConfig
from floe_compute_postgres.config import SSL_MODES


@pytest.mark.requirement("FR-002")
def test_defaults_point_at_loopback() -> None:
    config = PostgresConfig()
    assert (config.host, config.port, config.user, config.dbname, config.schema) == (
        "127.0.0.1",
        5432,
        "floe",
        "floe",
        "public",
    )
    assert config.sslmode == "prefer"


@pytest.mark.requirement("FR-002")
def test_a_bad_sslmode_names_the_field_the_value_and_every_mode() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(PostgresConfig, {"sslmode": "sometimes"})
    assert info.value.field == "sslmode"
    assert info.value.value == "sometimes"
    for mode in SSL_MODES:
        assert mode in str(info.value)


@pytest.mark.requirement("FR-002")
@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "db.internal.example", "localhost"])
def test_hosts_are_names_or_addresses(host: str) -> None:
    assert PostgresConfig(host=host).host == host


@pytest.mark.requirement("FR-002")
@pytest.mark.parametrize("host", ["/var/run/postgresql", "a,b", "db host", "-db", "x" * 64])
def test_sockets_lists_and_junk_are_not_hosts(host: str) -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(PostgresConfig, {"host": host})
    assert info.value.field == "host"
    assert "127.0.0.1" in str(info.value)


@pytest.mark.requirement("FR-002")
@pytest.mark.parametrize("field", ["user", "dbname", "schema"])
def test_names_are_plain_identifiers(field: str) -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(PostgresConfig, {field: 'x"; drop table t; --'})
    assert info.value.field == field


@pytest.mark.requirement("FR-002")
def test_the_password_is_the_only_credential_and_never_shown() -> None:
    config = PostgresConfig(credentials={"password": SecretStr("pg-secret-77")})
    assert "pg-secret-77" not in repr(config)
    assert "pg-secret-77" not in config.model_dump_json()
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(PostgresConfig, {"credentials": {"token": "pg-secret-77"}})
    assert "pg-secret-77" not in str(info.value)
    assert "password" in str(info.value)


@pytest.mark.requirement("FR-002")
def test_connect_timeout_stays_within_libpq_and_budget_limits() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(PostgresConfig, {"connect_timeout": 1})
    assert info.value.field == "connect_timeout"


@pytest.mark.requirement("FR-002")
def test_the_schema_field_raises_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PostgresConfig(schema="marts").schema == "marts"

"""Credentials that reach DuckDB SQL: only known secret parameters, never an unquoted value.

dbt-duckdb (``dbt/adapters/duckdb/secrets.py``) quotes every secret value except those of
``name``, ``type``, ``provider`` and ``extra_http_headers``, and handles ``persistent`` and
``scope`` itself. The first test shows, with a real ``dbt build``, what an unchecked
``provider`` credential did; the rest show each way in is now closed (issue 15 parts 1, 8).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.adapters.duckdb.secrets import Secret
from pydantic import SecretStr, ValidationError

from _duckdb_helpers import run_dbt
from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
from floe_compute_duckdb.config import SECRET_PARAMETERS, UNSAFE_SECRET_KEYS
from floe_compute_duckdb.extensions import install_packaged
from floe_compute_duckdb.profile import build_profile
from floe_compute_kit import CatalogConfig
from floe_compute_kit.errors import ComputeConfigurationError
from floe_compute_kit.models import parse_config

pytestmark = pytest.mark.requirement("FR-007")

PAYLOAD = "config); CREATE TABLE main.pwned AS SELECT 42 AS v; CREATE OR REPLACE SECRET zz (type s3"


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}


def test_an_unquoted_provider_credential_injected_sql_and_is_now_refused(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    # What the model accepted before: built without validation, as the old model allowed.
    unchecked = DuckDBConfig.model_construct(
        path=str(database), credentials={"provider": SecretStr("x")}, secret_type="s3"
    )
    profile = build_profile(unchecked)
    assert profile["secrets"][0]["provider"] == "{{ env_var('FLOE_DUCKDB_PROVIDER') }}"
    done = run_dbt(
        ["build", "--select", "orders", "customers", "stg_orders"],
        profile,
        tmp_path / "work",
        env={"FLOE_DUCKDB_PROVIDER": PAYLOAD},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "pwned" in _tables(database)  # the injection is real

    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(
            DuckDBConfig,
            {
                "plugin": "duckdb",
                "path": "w.duckdb",
                "secret_type": "s3",
                "credentials": {"provider": "x"},
            },
        )
    assert "credentials ['provider']: not allowed" in info.value.message
    assert "unquoted" in info.value.message


@pytest.mark.parametrize("key", sorted(UNSAFE_SECRET_KEYS))
def test_keys_dbt_duckdb_does_not_quote_are_refused(key: str) -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(DuckDBConfig, {"plugin": "duckdb", "credentials": {key: "s3cr3t"}})
    assert f"credentials ['{key}']: not allowed" in info.value.message
    assert "s3cr3t" not in str(info.value)


def test_an_unknown_credential_key_lists_the_secret_types_parameters() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(
            DuckDBConfig,
            {"plugin": "duckdb", "secret_type": "http", "credentials": {"token": "s3cr3t"}},
        )
    assert "not parameters of a DuckDB http secret" in info.value.message
    assert "allowed: bearer_token, http_proxy" in info.value.message


def test_oauth2_client_credentials_need_a_token_uri() -> None:
    with pytest.raises(ValidationError, match="oauth2_server_uri"):
        DuckDBConfig(credentials={"client_id": "a", "client_secret": "b"})  # type: ignore[dict-item]


def _secret_sql(config: DuckDBConfig) -> str:
    secret: dict[str, Any] = dict(build_profile(config)["secrets"][0])
    for key in list(secret):
        if key not in ("type", "name"):
            secret[key] = "v"
    return str(Secret.create(secret_type=secret.pop("type"), **secret).to_sql())


@pytest.fixture(scope="module")
def secret_db() -> Any:
    with tempfile.TemporaryDirectory() as extensions:
        install_packaged(["httpfs", "iceberg"], extension_directory=extensions)
        con = duckdb.connect(
            config={"extension_directory": extensions, "autoinstall_known_extensions": False}
        )
        con.execute("LOAD httpfs")
        con.execute("LOAD iceberg")
        yield con
        con.close()


def _table_cases() -> list[tuple[str, tuple[str, ...]]]:
    cases: list[tuple[str, tuple[str, ...]]] = []
    for kind, keys in SECRET_PARAMETERS.items():
        for key in keys:
            if kind == "iceberg" and key != "token":  # oauth2 keys need each other
                continue
            cases.append((kind, (key,)))
    cases.append(("iceberg", ("client_id", "client_secret", "oauth2_server_uri")))
    cases.append(("iceberg", ("client_id", "client_secret", "endpoint", "oauth2_scope")))
    return cases


@pytest.mark.parametrize(("kind", "keys"), _table_cases())
def test_every_documented_parameter_is_accepted_by_real_duckdb(
    secret_db: Any, kind: str, keys: tuple[str, ...]
) -> None:
    """The table is DuckDB 1.5.5's: dbt-duckdb's CREATE SECRET of each entry binds."""
    config = DuckDBConfig(secret_type=kind, credentials=dict.fromkeys(keys, "v"))  # type: ignore[arg-type]
    sql = _secret_sql(config)
    error = ""
    try:
        secret_db.execute(sql)
    except duckdb.Error as exc:
        error = str(exc)
    if error:
        # client credentials fetch a token at CREATE time; failing to reach the (unreal)
        # token endpoint means the statement itself was accepted
        assert kind == "iceberg", f"{sql}: {error}"
        assert "client_secret" in keys
        assert "Missing required parameter" not in error
        assert "no 'oauth2_server_uri'" not in error


def _catalog(**overrides: Any) -> CatalogConfig:
    data: dict[str, Any] = {
        "catalog_type": "rest",
        "catalog_uri": "http://127.0.0.1:1/catalog",
        "catalog_name": "lake",
        "warehouse": "wh",
    }
    return CatalogConfig(**(data | overrides))


def test_rest_client_credentials_without_a_token_uri_are_refused(secret_db: Any) -> None:
    catalog = _catalog(credentials={"client_id": "a", "client_secret": "s3cr3t"})
    with pytest.raises(ComputeConfigurationError) as info:
        DuckDBComputePlugin().get_catalog_attachment_sql(catalog)
    assert "oauth2_server_uri" in info.value.message
    assert "s3cr3t" not in str(info.value)
    # What used to be generated, and that real DuckDB refuses:
    with pytest.raises(duckdb.Error, match="oauth2_server_uri"):
        secret_db.execute(
            "CREATE OR REPLACE SECRET x (TYPE ICEBERG, CLIENT_ID 'a', CLIENT_SECRET 'b')"
        )


def test_a_glue_warehouse_too_long_for_duckdb_is_refused_before_sql() -> None:
    catalog = _catalog(catalog_type="glue", warehouse="1" * 30_000)
    with pytest.raises(ComputeConfigurationError) as info:
        DuckDBComputePlugin().get_catalog_attachment_sql(catalog)
    assert "warehouse: is 30,000 characters long (allowed: at most 4096)" in info.value.message


def test_a_lone_surrogate_in_a_credential_is_an_error_not_a_type_error() -> None:
    catalog = _catalog(credentials={"token": "ab\ud800"})
    with pytest.raises(ComputeConfigurationError) as info:
        DuckDBComputePlugin().get_catalog_attachment_sql(catalog)
    assert "lone surrogate" in info.value.message
    with pytest.raises(ComputeConfigurationError, match="UTF-8 text"):
        parse_config(DuckDBConfig, {"plugin": "duckdb", "credentials": {"token": "ab\ud800"}})

"""get_catalog_attachment_sql: statements DuckDB 1.5.5 accepts, that no name or URI can reshape."""

from __future__ import annotations

import duckdb
import duckdb_extensions
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _duckdb_helpers import HOSTILE
from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.catalog import CREDENTIAL_KEYS
from floe_compute_kit import CatalogConfig, ComputeConfigurationError

pytestmark = pytest.mark.requirement("FR-007")

PLUGIN = DuckDBComputePlugin()
T = duckdb.StatementType


def kinds(statements: list[str]) -> list[list[duckdb.StatementType]]:
    return [[s.type for s in duckdb.extract_statements(sql)] for sql in statements]


def rest(**overrides: object) -> CatalogConfig:
    data: dict[str, object] = {
        "catalog_type": "rest",
        "catalog_uri": "http://127.0.0.1:9/catalog",
        "catalog_name": "lake",
        "warehouse": "wh",
        "credentials": {"token": "tok-SECRET-1"},
    }
    data.update(overrides)
    return CatalogConfig.model_validate(data)


def test_rest_with_token() -> None:
    sql = PLUGIN.get_catalog_attachment_sql(rest())
    assert sql == [
        "LOAD httpfs",
        "LOAD iceberg",
        """CREATE OR REPLACE SECRET "lake_secret" (TYPE ICEBERG, TOKEN 'tok-SECRET-1')""",
        """ATTACH IF NOT EXISTS 'wh' AS "lake" """
        """(TYPE ICEBERG, ENDPOINT 'http://127.0.0.1:9/catalog', SECRET "lake_secret")""",
    ]
    assert kinds(sql) == [[T.LOAD], [T.LOAD], [T.CREATE], [T.ATTACH]]


def test_rest_without_credentials_attaches_without_auth() -> None:
    sql = PLUGIN.get_catalog_attachment_sql(rest(credentials={}, warehouse=None))
    assert sql is not None
    assert kinds(sql) == [[T.LOAD], [T.LOAD], [T.ATTACH]]
    assert sql[-1].startswith("ATTACH IF NOT EXISTS '' AS \"lake\"")
    assert "AUTHORIZATION_TYPE 'none'" in sql[-1]


def test_glue_uses_an_s3_secret_and_the_glue_endpoint() -> None:
    catalog = CatalogConfig(
        catalog_type="glue",
        catalog_uri="123456789012",
        catalog_name="glue_lake",
        credentials={"key_id": "AKIA-X", "secret": "SECRET-2", "region": "eu-west-1"},
    )
    sql = PLUGIN.get_catalog_attachment_sql(catalog)
    assert sql is not None
    assert kinds(sql) == [[T.LOAD], [T.LOAD], [T.CREATE], [T.ATTACH]]
    assert "TYPE S3" in sql[2]
    assert "REGION 'eu-west-1'" in sql[2]
    assert "ENDPOINT_TYPE GLUE" in sql[3]
    assert sql[3].startswith("ATTACH IF NOT EXISTS '123456789012' AS \"glue_lake\"")


def test_unknown_catalog_type_lists_the_supported_ones() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        PLUGIN.get_catalog_attachment_sql(rest(catalog_type="hive"))
    assert info.value.field == "catalog_type"
    assert "hive" in str(info.value)
    assert "rest" in str(info.value)
    assert "glue" in str(info.value)


def test_unknown_credential_key_lists_the_allowed_ones() -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        PLUGIN.get_catalog_attachment_sql(rest(credentials={"password": "hunter2"}))
    assert info.value.field == "credentials"
    assert "password" in str(info.value)
    assert "token" in str(info.value)
    assert "hunter2" not in str(info.value)  # the value itself is never echoed


def test_a_bad_credential_is_named_but_never_echoed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="floe.compute.errors")
    with pytest.raises(ComputeConfigurationError) as info:
        PLUGIN.get_catalog_attachment_sql(rest(credentials={"token": "hunter2-TOP\x00SECRET"}))
    assert info.value.field == "credentials.token"
    assert "NUL" in str(info.value)
    for text in (str(info.value), repr(info.value.value), caplog.text):
        assert "hunter2" not in text


hostile_text = st.one_of(
    st.text(max_size=20).filter(lambda t: "\x00" not in t),
    st.lists(st.sampled_from([*HOSTILE, "'; DROP TABLE t; --", "*/ SELECT 1; /*"]), max_size=5).map(
        "".join
    ),
)


@settings(max_examples=200)
@given(
    kind=st.sampled_from(["rest", "glue"]),
    name=hostile_text.filter(bool),
    uri=hostile_text.filter(bool),
    warehouse=st.none() | hostile_text,
    secret=hostile_text.map(lambda t: f"SECRET-{t}-END"),
)
def test_hostile_text_never_changes_statement_count_or_kind(
    kind: str, name: str, uri: str, warehouse: str | None, secret: str
) -> None:
    key = CREDENTIAL_KEYS[kind][-1]
    catalog = CatalogConfig(
        catalog_type=kind,
        catalog_uri=uri,
        catalog_name=name,
        warehouse=warehouse,
        credentials={key: secret},
    )
    sql = PLUGIN.get_catalog_attachment_sql(catalog)
    assert sql is not None
    assert kinds(sql) == [[T.LOAD], [T.LOAD], [T.CREATE], [T.ATTACH]]
    # the secret value lives in the CREATE SECRET statement and nowhere else
    assert secret.replace("'", "''") in sql[2]
    for statement in (sql[0], sql[1], sql[3]):
        assert secret not in statement
        assert secret.replace("'", "''") not in statement


@pytest.fixture(scope="module")
def iceberg_connection(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A DuckDB with httpfs, avro and iceberg installed offline from the packages."""
    ext_dir = tmp_path_factory.mktemp("ext")
    config = {"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    con = duckdb.connect(config=config)
    for name in ("avro", "httpfs", "iceberg"):
        duckdb_extensions.import_extension(name, con=con)
    return con


@pytest.mark.parametrize("name", ["lake", 'we\'ird "name"; --', "озеро ☃"])
def test_statements_run_on_duckdb_up_to_the_network(
    iceberg_connection: duckdb.DuckDBPyConnection, name: str
) -> None:
    """LOAD and CREATE SECRET run; ATTACH parses, binds and fails only reaching the catalog."""
    sql = PLUGIN.get_catalog_attachment_sql(rest(catalog_name=name))
    assert sql is not None
    for statement in sql[:-1]:
        iceberg_connection.execute(statement)
    secrets = iceberg_connection.execute("SELECT name, type FROM duckdb_secrets()").fetchall()
    assert (f"{name}_secret", "iceberg") in secrets
    with pytest.raises(duckdb.IOException, match=r"127\.0\.0\.1:9/catalog/v1/config"):
        iceberg_connection.execute(sql[-1])


def test_glue_attach_binds_and_calls_aws(iceberg_connection: duckdb.DuckDBPyConnection) -> None:
    catalog = CatalogConfig(
        catalog_type="glue",
        catalog_uri="123456789012",
        catalog_name="glue_lake",
        credentials={"key_id": "AKIA-X", "secret": "SECRET-3", "region": "eu-west-1"},
    )
    sql = PLUGIN.get_catalog_attachment_sql(catalog)
    assert sql is not None
    for statement in sql[:-1]:
        iceberg_connection.execute(statement)
    # offline the Glue endpoint cannot be resolved; with a network AWS rejects the fake key
    with pytest.raises(duckdb.Error) as info:
        iceberg_connection.execute(sql[-1])
    assert not isinstance(info.value, duckdb.ParserException | duckdb.BinderException)
    assert "amazonaws.com" in str(info.value) or "glue" in str(info.value).lower()

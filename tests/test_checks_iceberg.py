"""The integration-level Iceberg checks, run for real against a running catalog."""

from __future__ import annotations

import gc
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.catalog import attachment_sql
from floe_compute_kit import CatalogConfig, ComputeConfig
from floe_compute_kit.conformance._check import (
    REGISTERED,
    CheckContext,
    CheckFailed,
    CheckUnsupported,
)
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks.iceberg import (
    SHARED_CATALOG,
    iceberg_interop,
    iceberg_roundtrip,
)
from floe_compute_kit.conformance.iceberg import IcebergCatalogEndpoint

pytestmark = pytest.mark.requirement("FR-007")


def _ctx(plugin: Any, workdir: Path, uri: str | None) -> CheckContext:
    return CheckContext(
        plugin=plugin,
        plugin_spec=f"tests:{type(plugin).__name__}",
        config_model=ComputeConfig,
        workdir=workdir,
        iceberg_uri=uri,
    )


class _DuckDBLike:
    """A structural DuckDB-engine plugin whose attachment SQL a test can bend."""

    name = "duckish"

    def __init__(self, rewrite: Any = None) -> None:
        self.rewrite = rewrite

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12"]

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "duckdb", "threads": config.threads}

    def get_catalog_attachment_sql(self, catalog: CatalogConfig) -> list[str] | None:
        return self.rewrite(catalog) if self.rewrite else attachment_sql(catalog)


class _PostgresLike:
    """A plugin for an engine the kit cannot execute."""

    name = "pgish"

    def __init__(self, statements: Any) -> None:
        self.statements = statements

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-postgres>=1.9"]

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "postgres", "threads": config.threads}

    def get_catalog_attachment_sql(self, catalog: CatalogConfig) -> list[str]:
        return list(self.statements(catalog))


def test_checks_are_registered_at_integration_level_for_catalog_plugins() -> None:
    for check_id in ("iceberg.roundtrip", "iceberg.interop"):
        spec = REGISTERED[check_id].spec
        assert spec.level is Level.INTEGRATION
        assert spec.capability == "catalog_attachment"
        assert spec.method == "get_catalog_attachment_sql"
        assert "FR-007" in spec.requirements
        assert "MUST" in spec.wording


def test_duckdb_plugin_passes_both_checks_against_the_fixture_catalog(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    ctx = _ctx(DuckDBComputePlugin(), tmp_path, floe_iceberg_catalog.uri)
    iceberg_roundtrip(ctx)
    iceberg_interop(ctx)
    assert ctx.extra["notes"]["iceberg.roundtrip"].startswith("executed on DuckDB")
    # The checks clean up after themselves: no conformance namespace is left behind.
    client = floe_iceberg_catalog.pyiceberg_catalog("checks")
    assert not [n for n in client.list_namespaces() if n[0].startswith("floe_conformance_")]


def test_without_a_uri_the_checks_start_one_catalog_that_lives_with_the_context(
    tmp_path: Path,
) -> None:
    ctx = _ctx(DuckDBComputePlugin(), tmp_path, None)
    iceberg_roundtrip(ctx)
    started = ctx.extra[SHARED_CATALOG]
    assert started.source in ("local", "testcontainers")
    iceberg_interop(ctx)
    assert ctx.extra[SHARED_CATALOG] is started  # shared by the checks of one context
    assert "executed on DuckDB" in ctx.extra["notes"]["iceberg.roundtrip"]
    assert _answers(started.uri)
    ctx.close()
    assert not _answers(started.uri), "the catalog must stop when its context is closed"


@pytest.mark.requirement("KIT-015")
def test_a_context_nobody_closes_still_stops_its_catalog_when_collected(tmp_path: Path) -> None:
    ctx = _ctx(DuckDBComputePlugin(), tmp_path, None)
    iceberg_roundtrip(ctx)
    uri = ctx.extra[SHARED_CATALOG].uri
    del ctx
    gc.collect()
    assert not _answers(uri), "the catalog must stop with its context"


def _answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(uri + "/v1/config", timeout=2):  # noqa: S310 - loopback
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def test_wrong_credentials_fail_naming_the_statement_without_leaking_secrets(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    def wrong_token(catalog: CatalogConfig) -> list[str]:
        bad = catalog.model_copy(update={"credentials": {"token": SecretStr("not-the-token")}})
        return attachment_sql(bad)

    with pytest.raises(
        CheckFailed, match=r"DuckDB rejected attachment statement #3 \(ATTACH"
    ) as info:
        iceberg_roundtrip(_ctx(_DuckDBLike(wrong_token), tmp_path, floe_iceberg_catalog.uri))
    assert floe_iceberg_catalog.token is not None
    assert floe_iceberg_catalog.token not in str(info.value)


def test_a_claiming_plugin_that_returns_none_fails(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    plugin = _DuckDBLike(lambda _catalog: None)
    with pytest.raises(CheckFailed, match="returned None"):
        iceberg_roundtrip(_ctx(plugin, tmp_path, floe_iceberg_catalog.uri))


def test_statements_that_ignore_the_catalog_uri_fail(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    def elsewhere(catalog: CatalogConfig) -> list[str]:
        return attachment_sql(catalog.model_copy(update={"catalog_uri": "http://127.0.0.1:9"}))

    with pytest.raises(CheckFailed, match="appears nowhere"):
        iceberg_roundtrip(_ctx(_DuckDBLike(elsewhere), tmp_path, floe_iceberg_catalog.uri))


def test_other_engines_are_parsed_in_their_dialect_and_reported_not_executed(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    plugin = _PostgresLike(
        lambda c: [f"SELECT attach_iceberg_catalog('{c.catalog_uri}', '{c.warehouse}')"]
    )
    ctx = _ctx(plugin, tmp_path, floe_iceberg_catalog.uri)
    with pytest.raises(CheckUnsupported, match=r"^NOT EXECUTED") as info:
        iceberg_roundtrip(ctx)
    assert "parsed as postgres SQL" in str(info.value)
    assert ctx.extra["notes"]["iceberg.roundtrip"] == str(info.value)
    with pytest.raises(CheckUnsupported, match="only on DuckDB"):
        iceberg_interop(ctx)


def test_other_engines_fail_on_sql_their_dialect_cannot_parse(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path: Path
) -> None:
    plugin = _PostgresLike(attachment_sql)  # DuckDB's ATTACH ... (TYPE ICEBERG) is not Postgres
    with pytest.raises(CheckFailed, match="does not parse as postgres SQL") as info:
        iceberg_roundtrip(_ctx(plugin, tmp_path, floe_iceberg_catalog.uri))
    assert floe_iceberg_catalog.token is not None
    assert floe_iceberg_catalog.token not in str(info.value)

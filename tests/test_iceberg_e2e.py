"""Iceberg read and write through the DuckDB plugin, end to end, against a running catalog.

DuckDB (with the plugin's attachment SQL) writes a table; pyiceberg reads it; dbt-duckdb,
with a profile the plugin generated, reads it through the profile's attach block and
writes its results both into the DuckDB file and back into the Iceberg catalog; a second
build gives the same results. The catalog is the kit's ``floe_iceberg_catalog`` fixture.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import AttachConfig, DuckDBConfig
from floe_compute_duckdb.profile import env_var_name
from floe_compute_kit.conformance.iceberg import IcebergCatalogEndpoint

pytestmark = [pytest.mark.requirement("FR-007"), pytest.mark.slow]

ALIAS = "lake"
ROWS = [
    (1, "acme", Decimal("10.50")),
    (2, "globex", Decimal("3.00")),
    (3, "acme", Decimal("1.25")),
    (4, "zoë & co", Decimal("7.00")),
]


def _expected_totals() -> list[tuple[str, Decimal, int]]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for _, customer, amount in ROWS:
        totals[customer] += amount
        counts[customer] += 1
    return sorted((c, totals[c], counts[c]) for c in totals)


@dataclass
class Lake:
    endpoint: IcebergCatalogEndpoint
    namespace: str
    statements: list[str]
    read_back: list[tuple[Any, ...]]
    ext_dir: Path


@pytest.fixture(scope="module")
def lake(
    floe_iceberg_catalog: IcebergCatalogEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> Lake:
    """DuckDB, set up only by the plugin's statements, creates and fills an Iceberg table."""
    import duckdb_extensions

    endpoint = floe_iceberg_catalog
    ext_dir = tmp_path_factory.mktemp("duckdb_ext")
    namespace = f"e2e_{secrets.token_hex(4)}"
    plugin = DuckDBComputePlugin()
    statements = plugin.get_catalog_attachment_sql(endpoint.catalog_config(ALIAS))
    assert statements is not None
    con = duckdb.connect(
        config={"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    )
    try:
        for name in ("avro", "httpfs", "iceberg"):
            duckdb_extensions.import_extension(name, con=con)
        for statement in statements:
            con.execute(statement)
        con.execute(f"CREATE SCHEMA {ALIAS}.{namespace}")
        con.execute(
            f"CREATE TABLE {ALIAS}.{namespace}.orders "
            "(id INTEGER, customer VARCHAR, amount DECIMAL(10, 2))"
        )
        con.executemany(f"INSERT INTO {ALIAS}.{namespace}.orders VALUES (?, ?, ?)", ROWS[:2])
        con.executemany(f"INSERT INTO {ALIAS}.{namespace}.orders VALUES (?, ?, ?)", ROWS[2:])
        read_back = con.execute(
            f"SELECT id, customer, amount FROM {ALIAS}.{namespace}.orders ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    return Lake(endpoint, namespace, statements, read_back, ext_dir)


def test_duckdb_writes_and_reads_an_iceberg_table_through_the_plugin_sql(lake: Lake) -> None:
    kinds = [s.split()[0].upper() for s in lake.statements]
    assert "ATTACH" in kinds
    assert "CREATE" in kinds  # the secret carrying the catalog's token
    assert lake.read_back == ROWS


def test_pyiceberg_reads_the_rows_duckdb_wrote(lake: Lake) -> None:
    client = lake.endpoint.pyiceberg_catalog("e2e")
    assert (lake.namespace, "orders") in client.list_tables(lake.namespace)
    table = client.load_table((lake.namespace, "orders"))
    rows = table.scan().to_arrow().to_pylist()
    got = sorted((r["id"], r["customer"], r["amount"]) for r in rows)
    assert got == ROWS
    assert table.current_snapshot() is not None  # two INSERTs: real Iceberg snapshots


@dataclass
class DbtBuild:
    returncode: int
    output: str
    local_totals: list[tuple[Any, ...]]
    iceberg_totals: list[tuple[Any, ...]]


@dataclass
class DbtRuns:
    profile: dict[str, Any]
    profile_text: str
    builds: list[DbtBuild] = field(default_factory=list)


def _dbt_project(root: Path, namespace: str) -> None:
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {"name": "floe_iceberg_e2e", "version": "1.0", "config-version": 2, "profile": "e2e"}
        )
    )
    models = root / "models"
    models.mkdir()
    source = f"{ALIAS}.{namespace}.orders"
    # Read from Iceberg, result in the DuckDB file.
    (models / "customer_totals.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select customer, sum(amount) as total, count(*) as orders\n"
        f"from {source} group by customer\n"
    )
    # Read from Iceberg, result back into the Iceberg catalog. dbt-duckdb's table
    # materialisation renames a fresh table, which DuckDB's Iceberg catalog refuses;
    # delete+insert on a key writes in place and gives the same table on every run.
    (models / "customer_totals_iceberg.sql").write_text(
        "{{ config(materialized='incremental', database='" + ALIAS + "', "
        f"schema='{namespace}_out', "
        "unique_key='customer', incremental_strategy='delete+insert') }}\n"
        "select customer, sum(amount) as total, count(*) as orders\n"
        f"from {source} group by customer\n"
    )


def _build(root: Path, env: dict[str, str], lake: Lake) -> DbtBuild:
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--project-dir", str(root), "--profiles-dir", str(root)],
        cwd=root,  # DuckDB's Iceberg writer creates a relative data/ folder in its cwd
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    local: list[tuple[Any, ...]] = []
    iceberg: list[tuple[Any, ...]] = []
    if result.returncode == 0:
        with duckdb.connect(str(root / "e2e.duckdb"), read_only=True) as con:
            local = con.execute(
                "SELECT customer, total, orders FROM main.customer_totals ORDER BY customer"
            ).fetchall()
        # dbt-duckdb names a custom schema <target schema>_<schema>.
        table = lake.endpoint.pyiceberg_catalog("e2e").load_table(
            (f"main_{lake.namespace}_out", "customer_totals_iceberg")
        )
        iceberg = sorted(
            (r["customer"], r["total"], r["orders"]) for r in table.scan().to_arrow().to_pylist()
        )
    return DbtBuild(result.returncode, output, local, iceberg)


@pytest.fixture(scope="module")
def dbt_runs(lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> DbtRuns:
    """Two ``dbt build`` runs of one project, with a profile the plugin generated."""
    root = tmp_path_factory.mktemp("dbt_iceberg")
    endpoint = lake.endpoint
    assert endpoint.token is not None
    config = DuckDBConfig(
        path=str(root / "e2e.duckdb"),
        extension_directory=str(lake.ext_dir),
        threads=2,
        attach=[
            AttachConfig(path=endpoint.warehouse, alias=ALIAS, options={"endpoint": endpoint.uri})
        ],
        credentials={"token": endpoint.token},
    )
    profile = DuckDBComputePlugin().generate_dbt_profile(config)
    profile_text = yaml.safe_dump({"e2e": {"target": "dev", "outputs": {"dev": profile}}})
    (root / "profiles.yml").write_text(profile_text)
    _dbt_project(root, lake.namespace)
    env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    env[env_var_name("token")] = endpoint.token
    runs = DbtRuns(profile, profile_text)
    for _ in range(2):
        runs.builds.append(_build(root, env, lake))
    return runs


@pytest.mark.requirement("US2-AS2", "US2")
def test_dbt_reads_iceberg_via_the_profile_writes_results_and_rebuilds_the_same(
    dbt_runs: DbtRuns, lake: Lake
) -> None:
    """One test for both builds: xdist would otherwise run the dbt fixture on each worker."""
    first, second = dbt_runs.builds
    # 1. dbt reads the Iceberg table through the profile's attach block and writes results,
    #    into the DuckDB file and back into the Iceberg catalog.
    assert first.returncode == 0, first.output[-3000:]
    expected = _expected_totals()
    assert first.local_totals == expected
    assert first.iceberg_totals == expected
    # The catalog token reaches dbt only through the environment.
    assert lake.endpoint.token is not None
    assert lake.endpoint.token not in dbt_runs.profile_text
    secret = dbt_runs.profile["secrets"][0]
    assert secret["token"] == "{{ env_var('" + env_var_name("token") + "') }}"
    assert [a["alias"] for a in dbt_runs.profile["attach"]] == [ALIAS]
    # 2. A second build of the same project succeeds with the same results.
    assert second.returncode == 0, second.output[-3000:]
    assert second.local_totals == first.local_totals
    assert second.iceberg_totals == first.iceberg_totals

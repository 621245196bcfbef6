"""generate_dbt_profile: every field honoured, dbt-duckdb accepts it, dbt really builds with it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.credentials import Attachment, DuckDBCredentials
from hypothesis import given, settings
from pydantic import SecretStr

from _duckdb_helpers import PROJECT, duckdb_configs, run_dbt
from floe_compute_duckdb import AttachConfig, DuckDBComputePlugin, DuckDBConfig
from floe_compute_duckdb.profile import DBT_PLUGIN_MODULE

PLUGIN = DuckDBComputePlugin()
DBT_SECRET = "SECRET-dbt-run-0451"


def dbt_credentials_input(profile: dict[str, Any]) -> dict[str, Any]:
    """What dbt-core hands the adapter: the target without ``type`` and ``threads``."""
    data = copy.deepcopy(profile)
    data.pop("type")
    data.pop("threads")
    return data


# ---------------------------------------------------------------- the mapping


@pytest.mark.requirement("FR-008", "KIT-001")
def test_every_typed_field_reaches_the_profile() -> None:
    config = DuckDBConfig(
        path="marts/warehouse.duckdb",
        threads=6,
        timeout_seconds=90,
        memory_limit="3GB",
        extensions=["json", "iceberg"],
        extension_directory="/opt/duckdb-ext",
        settings={"preserve_insertion_order": False, "threads": 3},
        connection={"default_order": "desc"},
        credentials={"token": SecretStr("tok-123")},
        attach=[AttachConfig(path="wh", alias="lake", options={"endpoint": "http://cat:8181"})],
    )
    profile = PLUGIN.generate_dbt_profile(config)

    assert profile["type"] == "duckdb"
    assert profile["threads"] == 6
    assert profile["path"] == "marts/warehouse.duckdb"
    assert profile["config_options"] == {
        "autoinstall_known_extensions": False,
        "default_order": "desc",
        "memory_limit": "3GB",
        "extension_directory": "/opt/duckdb-ext",
    }
    # iceberg needs avro and httpfs; json is built in and loaded by the floe dbt plugin
    assert profile["extensions"] == ["avro", "httpfs", "iceberg"]
    assert profile["settings"] == {"preserve_insertion_order": False, "threads": 3}
    assert profile["secrets"] == [
        {"type": "iceberg", "name": "floe_duckdb", "token": "{{ env_var('FLOE_DUCKDB_TOKEN') }}"}
    ]
    assert profile["attach"] == [
        {
            "path": "wh",
            "alias": "lake",
            "type": "iceberg",
            "secret": "floe_duckdb",
            "options": {"endpoint": "'http://cat:8181'"},
        }
    ]
    assert profile["plugins"] == [
        {
            "module": DBT_PLUGIN_MODULE,
            "alias": "floe",
            "config": {"timeout_seconds": 90, "load_builtin": ["json"]},
        }
    ]
    assert "tok-123" not in yaml.safe_dump(profile)


@pytest.mark.requirement("FR-020")
def test_timeout_changes_the_profile() -> None:
    short = PLUGIN.generate_dbt_profile(DuckDBConfig(timeout_seconds=5))
    long = PLUGIN.generate_dbt_profile(DuckDBConfig(timeout_seconds=500))
    assert short != long
    assert short["plugins"][0]["config"]["timeout_seconds"] == 5
    assert long["plugins"][0]["config"]["timeout_seconds"] == 500


@pytest.mark.requirement("FR-008", "KIT-001")
def test_plain_compute_config_is_coerced_and_bad_input_names_the_field() -> None:
    from floe_compute_kit import ComputeConfig, ComputeConfigurationError

    profile = PLUGIN.generate_dbt_profile(ComputeConfig(plugin="duckdb", threads=2))
    assert profile["threads"] == 2
    assert profile["path"] == ":memory:"
    with pytest.raises(ComputeConfigurationError) as info:
        PLUGIN.generate_dbt_profile(ComputeConfig(plugin="spark"))
    assert info.value.field == "plugin"
    assert "spark" in str(info.value)


@pytest.mark.requirement("FR-008", "KIT-001")
@settings(max_examples=100)
@given(duckdb_configs())
def test_dbt_duckdb_accepts_every_profile(config: DuckDBConfig) -> None:
    before = config.model_dump()
    profile = PLUGIN.generate_dbt_profile(config)

    # dbt-duckdb's own schema, both ways dbt-core uses it
    data = dbt_credentials_input(profile)
    DuckDBCredentials.validate(copy.deepcopy(data))
    credentials = DuckDBCredentials.from_dict(copy.deepcopy(data))
    assert credentials.path == config.path

    # plain YAML, unchanged by a round trip; deterministic; input not mutated
    assert yaml.safe_load(yaml.safe_dump(profile)) == profile
    assert PLUGIN.generate_dbt_profile(config) == profile
    assert config.model_dump() == before
    assert json.loads(json.dumps(profile)) == profile

    # secrets only as env_var references
    dumped = yaml.safe_dump(profile)
    for name, secret in config.credentials.items():
        value = secret.get_secret_value()
        assert value not in dumped
        assert f"FLOE_DUCKDB_{name.upper()}" in dumped

    # the SQL dbt-duckdb builds from the profile is one statement per entry, whatever the text
    for attachment in credentials.attach or []:
        assert isinstance(attachment, Attachment)
        statements = duckdb.extract_statements(attachment.to_sql())
        assert [s.type for s in statements] == [duckdb.StatementType.ATTACH]
    for key, value in (profile.get("settings") or {}).items():
        escaped = str(value).replace("'", "''")
        statements = duckdb.extract_statements(f"SET {key} = '{escaped}'")
        assert [s.type for s in statements] == [duckdb.StatementType.SET]


@pytest.mark.requirement("FR-008", "KIT-001")
def test_profile_generation_does_no_io() -> None:
    """In a fresh interpreter: no DuckDB, no dbt, no socket, no file write, no subprocess."""
    script = """
import sys
from pydantic import SecretStr
from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
events = []
def hook(event, args):
    if event == "open" and isinstance(args[1], str) and any(m in args[1] for m in "wax+"):
        events.append((event, str(args[0])))
    elif event in ("socket.connect", "subprocess.Popen", "os.system", "os.remove", "os.rename"):
        events.append((event, str(args[:1])))
config = DuckDBConfig(path="w.duckdb", memory_limit="1GB", extensions=["iceberg", "json"],
                      settings={"threads": 2}, credentials={"token": SecretStr("t")})
sys.addaudithook(hook)
profile = DuckDBComputePlugin().generate_dbt_profile(config)
assert profile["type"] == "duckdb"
print(sorted(m for m in ("duckdb", "dbt", "_duckdb") if m in sys.modules), events)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[] []", out.stdout + out.stderr


# ---------------------------------------------------------------- real dbt builds


@pytest.fixture(scope="module")
def file_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("dbt_file")
    (work / "export").mkdir()
    config = DuckDBConfig(
        path=str(work / "warehouse.duckdb"),
        threads=2,
        memory_limit="1GB",
        extensions=["json", "iceberg"],
        extension_directory=str(work / "extensions"),
        settings={"preserve_insertion_order": False},
        credentials={"token": SecretStr(DBT_SECRET)},
    )
    vars_ = json.dumps({"floe_export_dir": str(work / "export"), "floe_extensions": True})
    result = run_dbt(
        ["build", "--vars", vars_],
        PLUGIN.generate_dbt_profile(config),
        work,
        env={"FLOE_DUCKDB_TOKEN": DBT_SECRET},
    )
    return {"work": work, "config": config, "result": result}


@pytest.fixture(scope="module")
def memory_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("dbt_memory")
    (work / "export").mkdir()
    config = DuckDBConfig(threads=2)
    vars_ = json.dumps({"floe_export_dir": str(work / "export")})
    result = run_dbt(["build", "--vars", vars_], PLUGIN.generate_dbt_profile(config), work)
    return {"work": work, "config": config, "result": result}


def _revenue(con: duckdb.DuckDBPyConnection, relation: str) -> dict[int, float]:
    rows = con.execute(f"SELECT customer_id, revenue FROM {relation} ORDER BY 1").fetchall()
    return {int(r[0]): float(r[1]) for r in rows}


EXPECTED_REVENUE = {1: 65.5, 2: 100.0, 3: 96.0, 4: 60.0}


@pytest.mark.requirement("FR-006", "SC-002")
@pytest.mark.requirement("US2-AS4", "US2")
@pytest.mark.requirement("FR-008", "KIT-001")
@pytest.mark.slow
def test_dbt_build_in_file_mode(file_build: dict[str, Any]) -> None:
    result = file_build["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERROR=0" in result.stdout
    work: Path = file_build["work"]
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        assert _revenue(con, "main.customer_revenue") == EXPECTED_REVENUE
        assert con.execute("SELECT count(*) FROM main.stg_orders").fetchone() == (8,)
        loaded = {r[0] for r in con.execute("SELECT * FROM main.loaded_extensions").fetchall()}
        secrets = con.execute("SELECT name, type FROM main.floe_secrets").fetchall()
    # the secret reached DuckDB through the env var, and never a file dbt wrote
    assert ("floe_duckdb", "iceberg") in secrets
    written = [p for p in work.rglob("*") if p.is_file() and "extensions" not in p.parts]
    assert not [p for p in written if DBT_SECRET.encode() in p.read_bytes()]
    assert DBT_SECRET not in result.stdout + result.stderr
    # extensions loaded in dbt's connection, installed offline from the packages
    assert {"iceberg", "avro", "httpfs", "json"} <= loaded
    installed = {p.name for p in (work / "extensions").rglob("*.duckdb_extension")}
    assert installed == {
        "avro.duckdb_extension",
        "httpfs.duckdb_extension",
        "iceberg.duckdb_extension",
    }
    with duckdb.connect() as con:
        parquet = str(work / "export" / "customer_revenue.parquet")
        assert _revenue(con, f"read_parquet('{parquet}')") == EXPECTED_REVENUE
    # nothing was written into the shared project directory
    assert not (PROJECT / "target").exists()
    assert not (PROJECT / "logs").exists()


@pytest.mark.requirement("FR-006", "FR-008", "SC-002")
@pytest.mark.requirement("US2-AS4", "US2")
@pytest.mark.slow
def test_dbt_build_in_memory_mode(memory_build: dict[str, Any]) -> None:
    result = memory_build["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # data tests ran and passed, including the exact-total check on the in-memory tables
    run_results = json.loads((memory_build["work"] / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in run_results["results"]}
    assert statuses["test.floe_test.assert_total_revenue"] == "pass"
    assert sum(1 for uid in statuses if uid.startswith("test.")) >= 10
    assert set(statuses.values()) <= {"pass", "success"}
    # the database lived in dbt's process; its content is observable through the export
    with duckdb.connect() as con:
        parquet = str(memory_build["work"] / "export" / "customer_revenue.parquet")
        assert _revenue(con, f"read_parquet('{parquet}')") == EXPECTED_REVENUE

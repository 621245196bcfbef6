"""The floe dbt-duckdb plugin: queries past the timeout are really cancelled; memory_limit holds."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin

from _duckdb_helpers import run_dbt
from _obs_helpers import metered_build, write_project
from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
from floe_compute_duckdb.dbt_plugin import Plugin, node_id_from_sql
from floe_compute_kit import ComputeTimeoutError

PLUGIN = DuckDBComputePlugin()
TIMEOUT_LINE = re.compile(
    r"floe\.compute\.timeout query_id=(?P<qid>\w+) node_id=(?P<node>\S+) "
    r"duration_s=(?P<duration>[\d.]+) timeout_s=(?P<timeout>[\d.]+)"
)
SLOW_SQL = "SELECT count(*) FROM range(1000000) a CROSS JOIN range(1000000) b"


@pytest.mark.requirement("FR-020")
def test_node_id_is_read_from_dbt_query_comment() -> None:
    comment = {
        "app": "dbt",
        "dbt_version": "1.11.0",
        "profile_name": "p",
        "target_name": "t",
        "node_id": "model.shop.orders",
    }
    sql = f"/* {json.dumps(comment)} */\ncreate table x as select 1"
    assert node_id_from_sql(sql) == "model.shop.orders"
    assert node_id_from_sql("select 1") is None
    assert node_id_from_sql("/* not json */ select 1") is None


def _plugin(timeout: float | None) -> Plugin:
    created = BasePlugin.create(
        "floe_compute_duckdb.dbt_plugin", config={"timeout_seconds": timeout}, alias="floe"
    )
    assert isinstance(created, Plugin)
    return created


@pytest.mark.requirement("FR-020")
def test_watchdog_interrupts_a_long_query_and_leaves_the_cursor_usable() -> None:
    plugin = _plugin(0.5)
    with duckdb.connect() as con:
        cursor = con.cursor()
        plugin.configure_cursor(cursor)
        with pytest.raises(ComputeTimeoutError) as info:
            plugin.run_watched(cursor, SLOW_SQL, lambda: cursor.execute(SLOW_SQL).fetchall())
        error = info.value
        assert isinstance(error, TimeoutError)
        assert error.timeout_seconds == 0.5
        assert error.elapsed_seconds is not None
        assert error.elapsed_seconds >= 0.5
        assert error.query_id
        assert "timeout_seconds=0.5" in str(error)
        assert isinstance(error.__cause__, duckdb.InterruptException)
        # a quick query under the same watchdog is not affected, and the cursor still works
        rows = plugin.run_watched(
            cursor, "SELECT 42", lambda: cursor.execute("SELECT 42").fetchall()
        )
        assert rows == [(42,)]


@pytest.mark.requirement("FR-020")
def test_no_timeout_configured_means_no_watchdog() -> None:
    plugin = _plugin(None)
    assert plugin.timeout_seconds is None
    with duckdb.connect() as con:
        cursor = con.cursor()
        plugin.configure_cursor(cursor)
        assert plugin.run_watched(
            cursor, "SELECT 1", lambda: cursor.execute("SELECT 1").fetchall()
        ) == [(1,)]


@pytest.mark.requirement("FR-005")
def test_packaged_extensions_are_installed_offline_before_connect(tmp_path: Path) -> None:
    ext_dir = tmp_path / "ext"
    profile = PLUGIN.generate_dbt_profile(
        DuckDBConfig(extensions=["iceberg"], extension_directory=str(ext_dir))
    )
    data = {k: v for k, v in profile.items() if k not in ("type", "threads")}
    creds = DuckDBCredentials.from_dict(data)
    plugin = _plugin(60)
    plugin.update_connection_config(creds, dict(creds.config_options or {}))
    installed = sorted(p.name for p in ext_dir.rglob("*.duckdb_extension"))
    assert installed == [
        "avro.duckdb_extension",
        "httpfs.duckdb_extension",
        "iceberg.duckdb_extension",
    ]
    config = {"extension_directory": str(ext_dir), "autoinstall_known_extensions": False}
    with duckdb.connect(config=config) as con:
        con.install_extension("iceberg")  # what dbt-duckdb does next: a no-op now
        con.load_extension("iceberg")


# ---------------------------------------------------------------- real dbt runs


def _run_model(work: Path, model: str, config: DuckDBConfig) -> dict[str, Any]:
    vars_ = json.dumps({"floe_slow": True, "floe_memory_hog": True})
    result = run_dbt(
        ["run", "--select", model, "--vars", vars_], PLUGIN.generate_dbt_profile(config), work
    )
    results = json.loads((work / "target" / "run_results.json").read_text())
    return {
        "result": result,
        "node": results["results"][0],
        "log": (work / "logs" / "dbt.log").read_text(),
    }


@pytest.fixture(scope="module")
def timeout_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dbt runs a model that would take minutes, with a 2 s timeout."""
    work = tmp_path_factory.mktemp("dbt_timeout")
    return _run_model(work, "slow_query", DuckDBConfig(timeout_seconds=2, threads=1))


@pytest.fixture(scope="module")
def memory_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dbt runs a model that needs ~800 MB, with a 64 MB memory_limit."""
    work = tmp_path_factory.mktemp("dbt_memory_limit")
    return _run_model(work, "memory_hog", DuckDBConfig(memory_limit="64MB", threads=1))


@pytest.mark.requirement("FR-020", "FR-022", "US7-AS3")
@pytest.mark.requirement("SC-006")
@pytest.mark.requirement("US7-AS1", "US7")
@pytest.mark.slow
def test_dbt_query_past_timeout_is_cancelled_within_a_second(timeout_run: dict[str, Any]) -> None:
    result = timeout_run["result"]
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    match = TIMEOUT_LINE.search(result.stdout)
    assert match, result.stdout[-3000:]
    # the log line: query id, node, duration, timeout (also in dbt's log file)
    assert match["node"] == "model.floe_test.slow_query"
    assert float(match["timeout"]) == 2
    duration = float(match["duration"])
    assert 2.0 <= duration < 3.0  # SC-006: cancelled within 1 s of the timeout
    assert match["qid"] in timeout_run["log"]
    # the error dbt reports for the model names the timeout and the model
    node = timeout_run["node"]
    assert node["unique_id"] == "model.floe_test.slow_query"
    assert node["status"] == "error"
    assert "timeout_seconds=2" in node["message"]
    assert "model.floe_test.slow_query" in node["message"]
    assert match["qid"] in node["message"]


@pytest.mark.requirement("US2-AS3", "US2")
@pytest.mark.requirement("FR-009")
@pytest.mark.slow
def test_small_memory_limit_gives_duckdbs_out_of_memory_error(memory_run: dict[str, Any]) -> None:
    result = memory_run["result"]
    assert result.returncode == 1  # an ordinary failed run, not a killed process
    node = memory_run["node"]
    assert node["unique_id"] == "model.floe_test.memory_hog"
    assert node["status"] == "error"
    assert "Out of Memory Error" in node["message"]
    assert "memory_limit" in node["message"]  # DuckDB's hint names the knob
    assert "Traceback" not in result.stdout


# ------------------------------------------- per-model timeouts and query metrics, in-process

#: Each model below is one dbt node; the overrides are dbt model configs (US7-AS2).
OVERRIDE_MODELS = {
    # minutes of work, cut at its own 1 s instead of the profile's 2 s
    "cut_short": "{{ config(floe_timeout_seconds=1) }}\n" + SLOW_SQL,
    # seconds of work (past the profile's 2 s), allowed by its own 120 s
    "allowed_longer": "{{ config(floe_timeout_seconds=120) }}\n"
    "SELECT sum(a.range + b.range) AS s FROM range(20000) a CROSS JOIN range(20000) b",
    # no override: the profile's 2 s holds
    "profile_default": SLOW_SQL,
    "bad_override": "{{ config(floe_timeout_seconds='soon') }}\nSELECT 1 AS x",
}
PROFILE_TIMEOUT = 2


@pytest.fixture(scope="module")
def override_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `dbt build` in this process (dbtRunner), so an in-memory reader sees its metrics
    (sampled while dbt runs: see tests/_obs_helpers.py)."""
    work = tmp_path_factory.mktemp("dbt_overrides")
    profile = PLUGIN.generate_dbt_profile(
        DuckDBConfig(path=str(work / "w.duckdb"), timeout_seconds=PROFILE_TIMEOUT, threads=2)
    )
    return metered_build(work, write_project(work, "floe_overrides", OVERRIDE_MODELS, profile))


@pytest.mark.requirement("US7-AS2", "US7", "US7-AS3")
@pytest.mark.requirement("FR-020")
@pytest.mark.slow
def test_per_model_timeout_overrides_are_honoured_and_logged(
    override_build: dict[str, Any],
) -> None:
    nodes = override_build["nodes"]
    assert override_build["success"] is False
    # the longer override lets a model run past the profile's timeout
    longer = nodes["allowed_longer"]
    assert longer["status"] == "success", longer["message"]
    assert longer["execution_time"] > PROFILE_TIMEOUT  # it really ran past the profile's 2 s
    # the shorter override and the profile's default each cancel at their own timeout
    lines = {m["node"]: m for m in TIMEOUT_LINE.finditer(override_build["log"])}
    for name, timeout in (("cut_short", 1), ("profile_default", PROFILE_TIMEOUT)):
        node = nodes[name]
        assert node["status"] == "error"
        assert f"timeout_seconds={timeout}" in node["message"]
        line = lines[f"model.floe_overrides.{name}"]  # US7-AS3: id, duration, timeout
        assert float(line["timeout"]) == timeout
        assert float(line["duration"]) >= timeout
        assert line["qid"] in node["message"]
    assert "model.floe_overrides.allowed_longer" not in lines
    # a bad override is one clear error naming the model, the value and the range
    bad = nodes["bad_override"]
    assert bad["status"] == "error"
    assert "model.floe_overrides.bad_override: config floe_timeout_seconds='soon'" in bad["message"]
    assert "from 1 to 86400" in bad["message"]


@pytest.mark.requirement("US6-AS3", "US6", "FR-021", "KIT-006")
@pytest.mark.requirement("FR-024")
@pytest.mark.slow
def test_dbt_build_emits_query_metrics_while_it_runs(override_build: dict[str, Any]) -> None:
    # while dbt was still running, queries were already measured and one was in flight
    during = [s for s in override_build["seen"] if s["queries"] > 0 and s["in_use"] >= 1]
    assert during, override_build["seen"][-5:]
    by_status = {p.attributes["status"]: p.count for p in override_build["duration"]}
    assert by_status["timeout"] == 2  # cut_short and profile_default
    assert by_status["ok"] >= 3  # dbt's own statements and allowed_longer's
    errors = {p.attributes["error_type"]: p.value for p in override_build["errors"]}
    assert errors["ComputeTimeoutError"] == 2
    assert sum(errors.values()) >= 2
    # error rate = errors / statements, both from the same meter
    assert 0 < sum(errors.values()) / sum(by_status.values()) < 1
    # attributes carry names and statuses only: nothing from SQL, paths or configs
    keys = {k for p in override_build["all"] for k in p.attributes}
    assert keys <= {"plugin", "status", "error_type"}
    assert {p.attributes["plugin"] for p in override_build["all"]} == {"duckdb"}


@pytest.mark.requirement("FR-021")
@pytest.mark.requirement("FR-024")
@pytest.mark.slow
def test_concurrent_models_share_one_connection_and_a_bounded_pool(
    override_build: dict[str, Any],
) -> None:
    seen = override_build["seen"]
    # threads=2: two models ran at once, each on its own cursor of the shared connection
    assert max(s["in_use"] for s in seen) == 2
    # the pool never exceeds dbt's threads plus its main-thread handle
    assert 1 <= max(s["size"] for s in seen) <= 3
    assert max(p.max for p in override_build["utilization"]) <= 1.0

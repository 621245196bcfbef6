"""The Spark plugin for real: dbt builds in a local session and through a Spark Connect
server on loopback, and timeouts that cancel Spark's jobs.

One module and one server: a JVM costs seconds to start, so every test here shares the
session-scoped server (the test command keeps a module on one worker, ``--dist loadscope``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _spark_helpers import node_results, run_dbt
from floe_compute_kit import ConnectionStatus
from floe_compute_spark import SparkComputePlugin, SparkConfig
from floe_compute_spark.connect_server import ConnectServer, connect_server

pytestmark = [pytest.mark.slow]

_TIMEOUT_LINE = re.compile(
    r"floe\.compute\.timeout query_id=(?P<qid>\w+) node_id=(?P<node>\S+) "
    r"duration_s=(?P<duration>[\d.]+) timeout_s=(?P<timeout>[\d.]+) action=cancelled"
)
_SLOW = "model.floe_spark_test.slow_query"
_FAST = "model.floe_spark_test.fast"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    with connect_server(tmp_path_factory.mktemp("spark_connect")) as running:
        yield running


def _profile(config: SparkConfig) -> dict[str, Any]:
    return SparkComputePlugin().generate_dbt_profile(config)


def _run_slow_and_fast(work: Path, config: SparkConfig) -> None:
    """`dbt run` of slow_query and fast under ``config``: the one cancelled, the other built."""
    done, _ = run_dbt(
        work,
        _profile(config),
        "run",
        "--select",
        "fast",
        "slow_query",
        "--vars",
        "{floe_slow: true}",
    )
    assert done.returncode == 1, done.stdout[-3000:]
    _assert_cancelled(work, done.stdout + done.stderr)


def _assert_cancelled(work: Path, output: str) -> None:
    results = node_results(work)
    assert results[_FAST][0] == "success", results[_FAST]
    status, message = results[_SLOW]
    assert status == "error"
    assert "timeout_seconds=2" in message
    assert "was cancelled" in message
    match = _TIMEOUT_LINE.search(output)
    assert match is not None, output[-3000:]
    assert match["node"] == _SLOW
    assert float(match["timeout"]) == 2


@pytest.mark.requirement("FR-018", "FR-019")
def test_live_connect_server_is_healthy_with_its_spark_version(server: ConnectServer) -> None:
    result = SparkComputePlugin().validate_connection(
        SparkConfig(method="connect", connect_url=server.url)
    )
    assert result.status is ConnectionStatus.HEALTHY, result.message
    assert "Spark 4.3" in result.message


@pytest.mark.requirement("KIT-009")
def test_dbt_build_through_spark_connect(server: ConnectServer, tmp_path: Path) -> None:
    config = SparkConfig(method="connect", connect_url=server.url, schema_name="floe_build")
    done, _ = run_dbt(tmp_path, _profile(config), "build")
    assert done.returncode == 0, done.stdout[-3000:]
    statuses = {uid: status for uid, (status, _) in node_results(tmp_path).items()}
    assert statuses["seed.floe_spark_test.orders"] == "success"
    assert statuses["model.floe_spark_test.revenue"] == "success"
    assert sorted(s for uid, s in statuses.items() if uid.startswith("test.")) == ["pass", "pass"]


@pytest.mark.requirement("SC-006")
def test_spark_connect_cancels_a_slow_model(server: ConnectServer, tmp_path: Path) -> None:
    config = SparkConfig(
        method="connect", connect_url=server.url, schema_name="floe_timeout", timeout_seconds=2
    )
    _run_slow_and_fast(tmp_path, config)

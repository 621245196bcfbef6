"""The Spark plugin without a JVM: config errors, profiles, the engine seam, health probes."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from floe_compute_kit import ConnectionStatus
from floe_compute_kit.conformance.engines import engine_for
from floe_compute_kit.conformance.engines._spark import SparkEngine
from floe_compute_spark import SparkComputePlugin, SparkConfig
from floe_compute_spark._probe import _fields, _request
from floe_compute_spark.dbt_hook import node_of
from floe_compute_spark.profile import TIMEOUT_KEY


@pytest.mark.requirement("FR-002")
@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"home": "relative/dir"}, "is relative"),
        ({"method": "connect"}, "needs connect_url"),
        ({"method": "connect", "connect_url": "http://h:1"}, "must start with sc://"),
        ({"method": "connect", "connect_url": "sc://h:1/;token=x"}, "tokens would land"),
        ({"connect_url": "sc://h:1"}, "method is 'session'"),
        ({"settings": {"spark.master": "yarn"}}, "set by the plugin from master"),
        ({"settings": {"spark.jars.packages": "a:b:1"}}, "download jars"),
        ({"credentials": {"token": "x"}}, "credentials are not supported"),
        ({"master": "spark://h:7077"}, "master"),
        ({"home": "/srv/{{ x }}"}, "Jinja"),
    ],
)
def test_bad_config_names_the_field_and_the_fix(data: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError) as info:
        SparkConfig.model_validate(data)
    assert named in str(info.value)


@pytest.mark.requirement("KIT-001")
def test_session_profile_keeps_everything_under_home_and_on_loopback(tmp_path: Path) -> None:
    profile = SparkComputePlugin().generate_dbt_profile(
        SparkConfig(home=str(tmp_path), timeout_seconds=7, threads=3)
    )
    params = profile["server_side_parameters"]
    assert profile["type"] == "spark"
    assert profile["method"] == "session"
    assert profile["threads"] == 3
    assert params[TIMEOUT_KEY] == "7"
    assert params["spark.sql.warehouse.dir"] == str(tmp_path / "warehouse")
    assert str(tmp_path / "metastore_db") in params["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert params["spark.driver.extraJavaOptions"] == f"-Dderby.system.home={tmp_path}"
    assert params["spark.driver.bindAddress"] == params["spark.driver.host"] == "127.0.0.1"
    assert params["spark.ui.enabled"] == "false"
    assert all(isinstance(v, str) for v in params.values())


@pytest.mark.requirement("KIT-001")
def test_default_home_is_under_the_user_folder_not_the_cwd() -> None:
    params = SparkComputePlugin().generate_dbt_profile(SparkConfig())["server_side_parameters"]
    assert params["spark.sql.warehouse.dir"] == str(Path.home() / ".floe/spark/warehouse")


@pytest.mark.requirement("KIT-001")
def test_connect_profile_points_pyspark_at_the_server() -> None:
    profile = SparkComputePlugin().generate_dbt_profile(
        SparkConfig(
            method="connect",
            connect_url="sc://127.0.0.1:15002",
            settings={"spark.sql.adaptive.enabled": False},
        )
    )
    params = profile["server_side_parameters"]
    assert params["spark.remote"] == "sc://127.0.0.1:15002"
    assert params["spark.sql.adaptive.enabled"] == "false"
    assert "spark.sql.warehouse.dir" not in params  # the server owns its warehouse


@pytest.mark.requirement("FR-020")
def test_engine_seam_knows_spark_and_its_slow_query_parses() -> None:
    engine = engine_for("spark")
    assert isinstance(engine, SparkEngine)
    query = engine.slow_query(2)
    assert query is not None
    assert engine.statement_kinds(query) == ["Select"]
    assert len(engine.split("select 1; select 2")) == 2


@pytest.mark.requirement("FR-020")
def test_timeout_error_names_the_dbt_node() -> None:
    sql = '/* {"app": "dbt", "node_id": "model.p.slow_query"} */\ncreate table x as select 1'
    assert node_of(sql) == "model.p.slow_query"
    assert node_of("select 1") == "<no dbt node>"


@pytest.mark.requirement("FR-018", "FR-019")
def test_connect_handshake_messages_round_trip() -> None:
    message = _request("abc", version_field=10)
    fields = _fields(message)
    assert fields[1] == b"abc"
    assert _fields(fields[2]) == {1: b"floe-health"}
    assert fields[10] == b""


@pytest.mark.requirement("FR-018", "FR-019")
def test_nothing_listening_is_unhealthy_and_says_what_to_start() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        result = SparkComputePlugin().validate_connection(
            SparkConfig(method="connect", connect_url=f"sc://127.0.0.1:{port}")
        )
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "connection refused" in result.message
    assert "start-connect-server.sh" in result.message
    assert result.latency_ms > 0


@pytest.mark.requirement("FR-018", "FR-019")
def test_a_server_that_is_not_spark_connect_is_unhealthy() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def answer_garbage() -> None:
        for _ in range(2):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nnot grpc")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        result = SparkComputePlugin().validate_connection(
            SparkConfig(
                method="connect",
                connect_url=f"sc://127.0.0.1:{port}",
                connect_timeout_seconds=2,
            )
        )
    finally:
        server.close()
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "Spark Connect" in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_session_probe_checks_java_and_home_without_creating_it(tmp_path: Path) -> None:
    home = tmp_path / "spark-home"
    result = SparkComputePlugin().validate_connection(SparkConfig(home=str(home)))
    assert result.status is ConnectionStatus.HEALTHY, result.message
    assert "Java 17" in result.message or "Java 2" in result.message
    assert not home.exists()


@pytest.mark.requirement("FR-018", "FR-019")
def test_session_home_that_is_a_file_is_unhealthy(tmp_path: Path) -> None:
    home = tmp_path / "file"
    home.write_text("x")
    result = SparkComputePlugin().validate_connection(SparkConfig(home=str(home)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "not a folder" in result.message


@pytest.mark.requirement("KIT-020")
def test_the_configs_in_the_spark_docs_validate() -> None:
    page = Path(__file__).parents[1] / "docs" / "engines" / "spark.md"
    blocks = page.read_text(encoding="utf-8").split("```yaml\n")[1:]
    assert blocks, "docs/engines/spark.md has no yaml example"
    computes = yaml.safe_load(blocks[0].split("```")[0])["computes"]
    configs = {name: SparkConfig.model_validate(data) for name, data in computes.items()}
    assert configs["spark_cluster"].method == "connect"
    assert configs["spark_local"].method == "session"

"""validate_connection against a real server: each verdict, read-only, no credential echoed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import psycopg2
import pytest
from pydantic import SecretStr

from floe_compute_kit import ConnectionStatus
from floe_compute_kit.conformance._network import loopback_only
from floe_compute_kit.conformance.services import PostgresServer
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig
from floe_compute_postgres._health import classify

PLUGIN = PostgresComputePlugin()


def _config(pg: PostgresServer, **override: object) -> PostgresConfig:
    data: dict[str, object] = {
        "host": pg.host,
        "port": pg.port,
        "user": pg.user,
        "dbname": pg.dbname,
        "credentials": {"password": SecretStr(pg.password)},
        **override,
    }
    return PostgresConfig.model_validate(data)


def _relations(pg: PostgresServer) -> list[tuple[str, str]]:
    con = psycopg2.connect(**pg.params())
    try:
        with con.cursor() as cur:
            cur.execute(
                "select n.nspname, c.relname from pg_class c join pg_namespace n "
                "on n.oid = c.relnamespace where n.nspname not in ('pg_catalog', "
                "'information_schema') and n.nspname not like 'pg_toast%' order by 1, 2"
            )
            return [(str(a), str(b)) for a, b in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A loopback port whose kernel accepts connections that nobody ever answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.mark.requirement("FR-018", "FR-019")
def test_a_reachable_server_is_healthy_with_a_measured_latency(
    floe_postgres: PostgresServer,
) -> None:
    started = time.perf_counter()
    result = PLUGIN.validate_connection(_config(floe_postgres))
    wall_ms = (time.perf_counter() - started) * 1000
    assert result.status is ConnectionStatus.HEALTHY, result.message
    assert 0 < result.latency_ms <= wall_ms
    assert "read-only" in result.message
    assert floe_postgres.password not in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_health_checks_leave_the_server_unchanged(floe_postgres: PostgresServer) -> None:
    before = _relations(floe_postgres)
    for _ in range(3):
        PLUGIN.validate_connection(_config(floe_postgres))
    assert PLUGIN.validate_connection(_config(floe_postgres, dbname="never_made")).status is (
        ConnectionStatus.UNHEALTHY
    )
    assert _relations(floe_postgres) == before
    con = psycopg2.connect(**floe_postgres.params(dbname="postgres"))
    try:
        with con.cursor() as cur:
            cur.execute("select count(*) from pg_database where datname = 'never_made'")
            assert cur.fetchone() == (0,)
    finally:
        con.close()


@pytest.mark.requirement("FR-018", "FR-019")
@pytest.mark.parametrize(
    ("override", "kind_words"),
    [
        ({"credentials": {"password": SecretStr("wrong-pw-5150")}}, "authentication failed"),
        ({"credentials": {}}, "authentication failed"),
        ({"dbname": "no_such_db"}, "does not exist"),
        ({"user": "no_such_role"}, "authentication failed"),
    ],
    ids=["wrong-password", "no-password", "database-missing", "unknown-role"],
)
def test_live_failures_are_unhealthy_and_say_what_to_do(
    floe_postgres: PostgresServer, override: dict[str, object], kind_words: str
) -> None:
    result = PLUGIN.validate_connection(_config(floe_postgres, **override))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert kind_words in result.message
    assert "wrong-pw-5150" not in result.message
    assert floe_postgres.password not in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_a_refused_port_is_unhealthy_and_names_host_and_port() -> None:
    result = PLUGIN.validate_connection(PLUGIN.conformance_unreachable_config())
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "connection refused at 127.0.0.1:1" in result.message
    assert "start the server" in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_a_server_that_never_answers_times_out_within_the_budget(blackhole: int) -> None:
    started = time.perf_counter()
    result = PLUGIN.validate_connection(
        PostgresConfig(port=blackhole, credentials={"password": SecretStr("bh-secret-1")})
    )
    elapsed = time.perf_counter() - started
    print(f"blackholed connect: UNHEALTHY after {elapsed:.2f} s")  # a figure, not an assert
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "did not answer" in result.message
    assert "bh-secret-1" not in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_an_unknown_host_is_unhealthy_without_leaving_the_machine() -> None:
    # The name fails locally: the kit's loopback guard refuses the lookup as the system
    # resolver would refuse an unknown name, so no DNS query is ever sent.
    with loopback_only():
        result = PLUGIN.validate_connection(PostgresConfig(host="db.floe-test.invalid"))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "host 'db.floe-test.invalid' cannot be resolved" in result.message
    assert "correct `host`" in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_libpq_name_errors_are_classified_as_unknown_host_too() -> None:
    # libpq's own wording, for a driver path that resolves by itself.
    verdict = classify(
        'could not translate host name "db.x" to address: Name or service not known',
        PostgresConfig(host="db.x"),
    )
    assert verdict.kind == "unknown_host"
    assert "host 'db.x' cannot be resolved" in verdict.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_an_invalid_config_is_unhealthy_not_raised() -> None:
    result = PLUGIN.validate_connection({"plugin": "postgres", "sslmode": "x"})  # type: ignore[arg-type]
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "sslmode" in result.message


@pytest.mark.requirement("KIT-009")
def test_the_integration_hook_reads_the_live_target_from_the_environment(
    floe_postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    for name in floe_postgres.env():
        monkeypatch.delenv(name, raising=False)
    # none set: no target of its own, the kit starts one
    assert PLUGIN.conformance_live_target(tmp_path) is None
    monkeypatch.setenv("FLOE_POSTGRES_HOST", "127.0.0.1")
    with pytest.raises(ValueError, match=r"FLOE_POSTGRES_PORT.*FLOE_POSTGRES_PASSWORD"):
        PLUGIN.conformance_live_target(tmp_path)
    for name, value in floe_postgres.env().items():
        monkeypatch.setenv(name, value)
    config = PLUGIN.conformance_live_target(tmp_path)
    assert config is not None
    assert PLUGIN.validate_connection(config).status is ConnectionStatus.HEALTHY
    monkeypatch.setenv("FLOE_POSTGRES_HOST", "10.0.0.9")
    with pytest.raises(ValueError, match="not a loopback address"):
        PLUGIN.conformance_live_target(tmp_path)


@pytest.mark.requirement("FR-018", "FR-019")
def test_example_configs_stay_on_loopback() -> None:
    assert {c.host for c in PLUGIN.example_configs()} == {"127.0.0.1"}  # type: ignore[attr-defined]

"""loopback_only(): while the kit calls a plugin, nothing resolves or connects off the machine."""

from __future__ import annotations

import socket

import pytest
from hypothesis import HealthCheck, given, settings

from floe_compute_kit import ConnectionStatus
from floe_compute_kit.conformance._network import is_loopback, loopback_only
from floe_compute_kit.conformance.strategies import configs
from floe_compute_postgres import PostgresComputePlugin, PostgresConfig

pytestmark = pytest.mark.requirement("FR-004a")


@pytest.mark.parametrize("host", [None, "localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"])
def test_loopback_hosts(host: object) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.255.255.53", "192.0.2.1", "example.com", "db", "::2"])
def test_other_hosts(host: str) -> None:
    assert not is_loopback(host)


def test_lookups_of_other_hosts_are_refused_at_once() -> None:
    with loopback_only(), pytest.raises(socket.gaierror, match="refused"):
        socket.getaddrinfo("db.floe-test.invalid", 5432)


def test_connects_to_other_addresses_are_refused_before_any_packet() -> None:
    with (
        loopback_only(),
        socket.socket() as sock,
        pytest.raises(PermissionError, match=r"192\.0\.2\.1"),
    ):
        sock.connect(("192.0.2.1", 5432))


def test_loopback_stays_open() -> None:
    with loopback_only():
        assert socket.getaddrinfo("127.0.0.1", 5432)[0][4][0] == "127.0.0.1"
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=2):
                pass


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(configs(PostgresConfig))
def test_generated_postgres_configs_never_leave_the_machine(config: PostgresConfig) -> None:
    # The postgres plugin resolves in Python and hands libpq the address, so every
    # made-up host is refused before a DNS query or a TCP handshake could go out.
    with loopback_only():
        result = PostgresComputePlugin().validate_connection(config)
    assert result.status is ConnectionStatus.UNHEALTHY or is_loopback(config.host)
    if not is_loopback(config.host):
        assert "cannot be resolved" in result.message

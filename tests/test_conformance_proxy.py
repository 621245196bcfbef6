"""The fault proxy and the file watch the live health checks stand on, against real sockets
and a real DuckDB file."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from floe_compute_kit.conformance._file_watch import watch
from floe_compute_kit.conformance._proxy import Fault, FaultProxy

pytestmark = pytest.mark.requirement("KIT-212")


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A real echo server on loopback."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    server.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()
    stop.set()
    server.close()
    thread.join(2)


def _ask(port: int, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"ping")
        return sock.recv(1024)


def test_delay_forwards_after_the_delay(echo: tuple[str, int]) -> None:
    with FaultProxy(echo, Fault.DELAY, delay_s=0.2) as proxy:
        started = time.perf_counter()
        assert _ask(proxy.port) == b"ping"
        waited = time.perf_counter() - started
        assert proxy.connections == 1
    # a lower bound, not a speed goal: the answer cannot arrive before the delay
    assert waited >= 0.2


def test_refuse_leaves_nothing_listening(echo: tuple[str, int]) -> None:
    with FaultProxy(echo, Fault.REFUSE) as proxy, pytest.raises(ConnectionRefusedError):
        _ask(proxy.port)


def _ask_after_reset(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        time.sleep(0.1)  # the RST arrives before the first send
        sock.sendall(b"ping")
        return sock.recv(1024)


def test_reset_sends_rst(echo: tuple[str, int]) -> None:
    with FaultProxy(echo, Fault.RESET) as proxy:
        with pytest.raises(ConnectionResetError):
            _ask_after_reset(proxy.port)
        assert proxy.connections == 1


def test_blackhole_accepts_and_never_answers(echo: tuple[str, int]) -> None:
    with FaultProxy(echo, Fault.BLACKHOLE) as proxy:
        with pytest.raises(TimeoutError):
            _ask(proxy.port, timeout=0.5)
        assert proxy.connections == 1


def test_refuses_to_forward_off_the_machine() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(("203.0.113.7", 5432), Fault.DELAY)


@pytest.mark.requirement("KIT-210")
def test_watch_sees_c_level_opens_and_writes(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "t.duckdb"
    target.parent.mkdir()
    duckdb.connect(str(target)).close()
    with watch([tmp_path]) as seen:
        duckdb.connect(str(target), read_only=True).close()
    assert str(target) in seen.opened
    assert seen.changed == set()
    with watch([tmp_path]) as seen, duckdb.connect(str(target)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert str(target) in seen.written

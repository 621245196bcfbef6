"""No I/O leaves the machine while the kit calls a plugin (KIT-223).

Two kinds of proof: every Python path to the network is refused at once with an OSError
the caller sees, and, watching the real system calls with strace, a conformance run of
the real plugins with outside hosts (generated and hand-written) never sends a packet
to anything but loopback, C drivers included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from floe_compute_kit.conformance import _network
from floe_compute_kit.conformance._network import allow_hosts, loopback_only, refusals

pytestmark = pytest.mark.requirement("KIT-223")

OUTSIDE_NAME = "db.example.com"
OUTSIDE_IP = "93.184.216.34"


def _udp_sendto() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", (OUTSIDE_IP, 53))


def _udp_sendmsg() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendmsg([b"x"], [], 0, (OUTSIDE_IP, 53))


def _tcp(method: str) -> Callable[[], Any]:
    def run() -> Any:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            return getattr(sock, method)((OUTSIDE_IP, 80))

    return run


def _asyncio() -> None:
    async def go() -> None:
        await asyncio.open_connection(OUTSIDE_NAME, 80)

    asyncio.run(go())


def _urllib() -> None:
    try:
        urllib.request.urlopen(f"http://{OUTSIDE_NAME}/", timeout=5)
    except urllib.error.URLError as exc:
        raise exc.reason if isinstance(exc.reason, OSError) else exc from None


PATHS: dict[str, Callable[[], Any]] = {
    "getaddrinfo": lambda: socket.getaddrinfo(OUTSIDE_NAME, 443),
    "gethostbyname": lambda: socket.gethostbyname(OUTSIDE_NAME),
    "gethostbyname_ex": lambda: socket.gethostbyname_ex(OUTSIDE_NAME),
    "gethostbyaddr": lambda: socket.gethostbyaddr(OUTSIDE_IP),
    "getnameinfo": lambda: socket.getnameinfo((OUTSIDE_IP, 80), 0),
    "create_connection": lambda: socket.create_connection((OUTSIDE_NAME, 80), timeout=5),
    "create_connection (address)": lambda: socket.create_connection((OUTSIDE_IP, 80), timeout=5),
    "connect": _tcp("connect"),
    "connect_ex": _tcp("connect_ex"),
    "sendto": _udp_sendto,
    "sendmsg": _udp_sendmsg,
    "urllib": _urllib,
    "asyncio": _asyncio,
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_python_path_out_is_refused_with_an_oserror(name: str) -> None:
    before = len(refusals())
    with loopback_only(), pytest.raises(OSError, match="conformance kit allows only loopback"):
        PATHS[name]()
    assert len(refusals()) > before or len(refusals()) == 100
    assert any(OUTSIDE_NAME in r or OUTSIDE_IP in r for r in refusals()[-3:])


def test_loopback_still_works_inside_the_guard() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with loopback_only():
            assert socket.getaddrinfo("localhost", 80)
            with socket.create_connection(server.getsockname(), timeout=5):
                pass


def test_a_host_the_user_allowed_passes() -> None:
    allow_hosts("203.0.113.7")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, loopback_only():
        # the hook's verdict alone: an allowed address is not refused (no packet is sent)
        _network._hook("socket.connect", (sock, ("203.0.113.7", 5432)))
        with pytest.raises(PermissionError):
            _network._hook("socket.connect", (sock, ("203.0.113.8", 5432)))


_DRIVER = textwrap.dedent(
    """
    import sys
    from pydantic import SecretStr
    from floe_compute_kit.conformance._network import loopback_only, refusals
    from floe_compute_kit.conformance._results import Level
    from floe_compute_kit.conformance.runner import run_suite
    from floe_compute_postgres import PostgresComputePlugin
    from floe_compute_postgres.config import PostgresConfig
    from floe_compute_duckdb import DuckDBComputePlugin
    from floe_compute_duckdb.config import AttachConfig, DuckDBConfig

    # generated configs (made-up host names), through the plugin host, as `report` runs
    for target in ("postgres", "duckdb"):
        suite = run_suite(target, level=Level.CORE, max_examples=5)
        assert suite.load_error is None, suite.load_error
    # hand-written outside hosts, in this process
    with loopback_only():
        pg = PostgresComputePlugin()
        for host in ("{name}", "{ip}"):
            result = pg.validate_connection(PostgresConfig(host=host, dbname="x"))
            print("postgres", host, result.status.value, result.message)
        duck = DuckDBComputePlugin()
        config = DuckDBConfig(
            path=sys.argv[1],
            secret_type="s3",
            credentials={{"endpoint": SecretStr("{name}"), "key_id": SecretStr("k")}},
            attach=[AttachConfig(path="warehouse", alias="lake",
                                 options={{"endpoint": "http://{name}:8181"}})],
        )
        print("duckdb", duck.validate_connection(config).status.value)
    print("REFUSED", refusals())
    """
).format(name=OUTSIDE_NAME, ip=OUTSIDE_IP)

_ADDR = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def test_a_run_with_outside_hosts_sends_nothing_off_the_machine(tmp_path: Path) -> None:
    strace = shutil.which("strace")
    assert strace, "strace is needed to watch the system calls: apt-get install strace"
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER, encoding="utf-8")
    trace = tmp_path / "trace.txt"
    done = subprocess.run(
        [
            strace,
            "-f",
            "-qq",
            "-e",
            "trace=connect,sendto,sendmsg,sendmmsg",
            "-o",
            str(trace),
            sys.executable,
            str(driver),
            str(tmp_path / "target.duckdb"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "postgres db.example.com unhealthy" in done.stdout
    assert f"postgres {OUTSIDE_IP} unhealthy" in done.stdout
    refused = done.stdout.split("REFUSED", 1)[1]
    assert OUTSIDE_NAME in refused
    assert OUTSIDE_IP in refused
    calls = [
        line for line in trace.read_text().splitlines() if "connect(" in line or "send" in line
    ]
    assert calls, "strace saw no socket call at all: the watch is not working"
    outside = []
    for line in calls:
        for match in _ADDR.finditer(line):
            address = match[1] or match[2]
            if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":  # noqa: S104 - unconnected
                outside.append(line)
        if "htons(53)" in line:
            outside.append(line)  # a DNS query, to any resolver, is a lookup leaving
    assert outside == []

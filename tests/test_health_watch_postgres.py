"""SC-007 with a live server: ``floe-compute health --watch`` sees a PostgreSQL compute go
UNHEALTHY when the server is stopped under it, as a line, as metrics, and as exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from _obs_helpers import points
from floe_compute_kit import observability
from floe_compute_kit.cli._health_watch import watch
from floe_compute_kit.conformance.services import PostgresServer, postgres_server

pytestmark = [
    pytest.mark.requirement("SC-007", "US6-AS1", "US6"),
    pytest.mark.requirement("FR-018"),
]
BIN = Path(sys.executable).parent
#: Within SC-007's 30 s by construction: the first poll after the stop must see it.
INTERVAL_S = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A server of this module's own: the tests stop it (the session's is shared)."""
    with postgres_server() as running:
        yield running


@pytest.fixture
def manifest(server: PostgresServer, tmp_path: Path) -> Iterator[Path]:
    """A manifest approving one postgres compute on ``server``; the server runs again after."""
    path = tmp_path / "manifest.yaml"
    config = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "dbname": server.dbname,
        "credentials": {"password": server.password},
    }
    path.write_text(
        "scope: enterprise\nname: acme\ncompute:\n  approved: [postgres]\n"
        f"  default: postgres\n  config:\n    postgres: {json.dumps(config)}\n",
        encoding="utf-8",
    )
    try:
        yield path
    finally:
        server.start()


def test_stopping_the_server_is_one_transition_line_and_metric(
    server: PostgresServer, manifest: Path
) -> None:
    reader = InMemoryMetricReader()
    observability.use_providers(None, MeterProvider(metric_readers=[reader]))
    try:
        polls = watch(manifest, None, INTERVAL_S)
        changes, statuses = next(polls)
        assert statuses == {"postgres": "healthy"}, [c.line() for c in changes]
        assert " postgres: healthy (first) in " in changes[0].line()
        server.stop()
        stopped = time.monotonic()
        changes, statuses = next(polls)  # the very next poll
        seen_after = time.monotonic() - stopped
        polls.close()
    finally:
        observability.use_providers(None, None)
    assert statuses == {"postgres": "unhealthy"}
    (line,) = [c.line() for c in changes]
    assert " postgres: healthy -> unhealthy in " in line
    assert f"connection refused at {server.host}:{server.port}" in line
    assert server.password not in line
    print(f"SC-007: server stopped -> UNHEALTHY reported after {seen_after:.2f} s")
    transitions = {
        (p.attributes["from_status"], p.attributes["to_status"]): p.value
        for p in points(reader, "floe.compute.health.transitions")
    }
    assert transitions == {("healthy", "unhealthy"): 1}
    checks = {p.attributes["status"]: p.value for p in points(reader, "floe.compute.health.checks")}
    assert checks == {"healthy": 1, "unhealthy": 1}


def test_the_cli_exits_1_on_demand_when_the_server_goes_away(
    server: PostgresServer, manifest: Path
) -> None:
    command = [str(BIN / "floe-compute"), "health", str(manifest), "--watch", str(INTERVAL_S)]
    proc = subprocess.Popen(
        [*command, "--fail-on", "unhealthy", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert (first["compute"], first["previous"], first["status"]) == (
            "postgres",
            None,
            "healthy",
        ), first
        server.stop()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    (change,) = [json.loads(line) for line in out.splitlines()]
    assert (change["previous"], change["status"]) == ("healthy", "unhealthy")
    assert "connection refused" in change["message"]
    assert "postgres unhealthy or worse (--fail-on unhealthy); exiting 1" in err
    assert server.password not in out + err

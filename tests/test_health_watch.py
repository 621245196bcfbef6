"""``floe-compute health --watch``: a DuckDB file target made unhealthy under the watcher."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from floe_compute_kit import observability
from floe_compute_kit.cli._health_watch import watch

BIN = Path(sys.executable).parent
FAIL_ON_JSON = ("--fail-on", "unhealthy", "--format", "json")


@pytest.fixture
def target(tmp_path: Path) -> tuple[Path, Path]:
    """(manifest.yaml, the DuckDB file its one approved compute points at)."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "scope: enterprise\nname: acme\ncompute:\n  approved: [duckdb]\n  default: duckdb\n"
        f"  config:\n    duckdb: {{path: '{database}'}}\n"
    )
    return manifest, database


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    found = InMemoryMetricReader()
    observability.use_providers(None, MeterProvider(metric_readers=[found]))
    try:
        yield found
    finally:
        observability.use_providers(None, None)


def _points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    return [
        p
        for r in (data.resource_metrics if data else ())
        for s in r.scope_metrics
        for m in s.metrics
        if m.name == name
        for p in m.data.data_points
    ]


@pytest.mark.requirement("SC-007", "US6-AS3")
@pytest.mark.requirement("US6-AS1", "US6")
def test_watch_reports_each_transition_as_a_line_and_a_metric(
    target: tuple[Path, Path], reader: InMemoryMetricReader
) -> None:
    manifest, database = target
    good = database.read_bytes()
    polls = watch(manifest, None, 0.1, sleep=lambda _s: None)
    lines = []
    for step in ("first", "break", "restore", "same"):
        if step == "break":  # the file is replaced by garbage under the watcher
            database.write_bytes(b"this is not a database" * 1000)
        if step == "restore":
            database.write_bytes(good)
        changes, statuses = next(polls)
        lines.append([c.line() for c in changes])
        assert set(statuses) == {"duckdb"}
    first, broken, restored, same = lines
    assert len(first) == 1
    assert " duckdb: healthy (first) in " in first[0]
    assert len(broken) == 1
    assert " duckdb: healthy -> unhealthy in " in broken[0]
    assert "is not a DuckDB database file" in broken[0]
    assert len(restored) == 1
    assert " duckdb: unhealthy -> healthy in " in restored[0]
    assert same == []  # no change, no line
    transitions = {
        (p.attributes["from_status"], p.attributes["to_status"]): p.value
        for p in _points(reader, "floe.compute.health.transitions")
    }
    assert transitions == {("healthy", "unhealthy"): 1, ("unhealthy", "healthy"): 1}
    checks = {
        p.attributes["status"]: p.value for p in _points(reader, "floe.compute.health.checks")
    }
    assert checks == {"healthy": 3, "unhealthy": 1}
    assert {p.attributes["compute"] for p in _points(reader, "floe.compute.health.checks")} == {
        "duckdb"
    }


@pytest.mark.requirement("SC-007")
@pytest.mark.requirement("US6-AS1", "US6")
def test_watch_fails_on_demand_and_stops_after_count(target: tuple[Path, Path]) -> None:
    manifest, database = target
    counted = subprocess.run(
        [str(BIN / "floe-compute"), "health", str(manifest), "--watch", "0.1", "--count", "3"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert counted.returncode == 0, counted.stderr
    assert len(counted.stdout.splitlines()) == 1  # the first poll; nothing changed after it
    assert "duckdb: healthy (first)" in counted.stdout

    proc = subprocess.Popen(
        [str(BIN / "floe-compute"), "health", str(manifest), "--watch", "0.2", *FAIL_ON_JSON],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert '"status": "healthy"' in first
        assert '"previous": null' in first
        database.write_bytes(b"garbage" * 1000)  # the target breaks under the watcher
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert '"previous": "healthy", "status": "unhealthy"' in out
    assert "duckdb unhealthy or worse (--fail-on unhealthy); exiting 1" in err


@pytest.mark.requirement("SC-007")
@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--watch", "0"], "'0' is not a number of seconds from 0.1 to 25"),
        (["--watch", "31"], "'31' is not a number of seconds from 0.1 to 25"),
        (["--watch", "nan"], "'nan' is not a number of seconds"),
        (["--watch", "1", "--count", "0"], "'0' is not a whole number of polls >= 1"),
        (["--count", "3"], "--count and --fail-on need --watch SECONDS"),
    ],
)
def test_watch_rejects_a_bad_interval(
    target: tuple[Path, Path], args: list[str], expected: str
) -> None:
    manifest, _ = target
    done = subprocess.run(
        [str(BIN / "floe-compute"), "health", str(manifest), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert expected in done.stderr

"""One real in-process ``dbt build`` (dbtRunner) with an in-memory OpenTelemetry reader.

Shared by the Postgres and Spark metric tests: the project is written from a dict of
models, the ``floe.compute`` meter goes to an ``InMemoryMetricReader``, and a watcher
thread samples the metrics every 50 ms while dbt runs, so a test can prove they were
emitted during the run and not after it.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import yaml

TIMEOUT_LINE = re.compile(
    r"floe\.compute\.timeout query_id=(?P<qid>\w+) node_id=(?P<node>\S+) "
    r"duration_s=(?P<duration>[\d.]+) timeout_s=(?P<timeout>[\d.]+) action=(?P<action>\w+)"
)
INSTRUMENTS = ("query.duration_ms", "query.errors", "pool.size", "pool.in_use")


def points(reader: Any, metric: str) -> list[Any]:
    """The data points of one ``floe.compute`` instrument the reader holds now."""
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for m in scope.metrics:
                if scope.scope.name == "floe.compute" and m.name == metric:
                    found.extend(m.data.data_points)
    return found


def write_project(work: Path, name: str, models: dict[str, str], profile: dict[str, Any]) -> Path:
    """A dbt project of ``models`` (all tables) and its profiles.yml; the project dir."""
    project = work / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        f"name: {name}\nversion: '1.0.0'\nconfig-version: 2\nprofile: {name}\n"
        f"models:\n  {name}:\n    +materialized: table\n",
        encoding="utf-8",
    )
    for model, sql in models.items():
        (project / "models" / f"{model}.sql").write_text(sql + "\n", encoding="utf-8")
    profiles = {name: {"target": "t", "outputs": {"t": profile}}}
    (work / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return project


def metered_build(work: Path, project: Path) -> dict[str, Any]:
    """``dbt build`` of ``project`` in this process, its results and the metrics it emitted."""
    from dbt.cli.main import dbtRunner
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from floe_compute_kit import observability

    reader = InMemoryMetricReader()
    observability.use_providers(None, MeterProvider(metric_readers=[reader]))
    seen: list[dict[str, float]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            seen.append(
                {
                    "in_use": sum(p.value for p in points(reader, "floe.compute.pool.in_use")),
                    "size": sum(p.value for p in points(reader, "floe.compute.pool.size")),
                    "queries": sum(
                        p.count for p in points(reader, "floe.compute.query.duration_ms")
                    ),
                }
            )

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = dbtRunner().invoke(
            [
                "build",
                *("--project-dir", str(project), "--profiles-dir", str(work)),
                *("--target-path", str(work / "target"), "--log-path", str(work / "logs")),
            ]
        )
    finally:
        done.set()
        watcher.join()
    try:
        results = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
        return {
            "success": result.success,
            "nodes": {r["unique_id"].split(".")[-1]: r for r in results["results"]},
            "log": (work / "logs" / "dbt.log").read_text(encoding="utf-8"),
            "seen": seen,
            "duration": points(reader, "floe.compute.query.duration_ms"),
            "errors": points(reader, "floe.compute.query.errors"),
            "utilization": points(reader, "floe.compute.pool.utilization"),
            "size": points(reader, "floe.compute.pool.size"),
            "all": [p for name in INSTRUMENTS for p in points(reader, f"floe.compute.{name}")],
        }
    finally:
        observability.use_providers(None, None)


def timeout_lines(log: str) -> dict[str, re.Match[str]]:
    """node id -> its timeout line in a dbt log."""
    return {m["node"]: m for m in TIMEOUT_LINE.finditer(log)}


def query_metrics(build: dict[str, Any], plugin: str) -> tuple[dict[str, int], dict[str, int]]:
    """(statements by status, errors by type) of a metered build, after the checks every
    engine shares: measured while dbt ran, an error rate between 0 and 1, and attributes
    that carry names and statuses only (nothing from SQL, paths or configs)."""
    during = [s for s in build["seen"] if s["queries"] > 0 and s["in_use"] >= 1]
    assert during, build["seen"][-5:]
    by_status = {p.attributes["status"]: p.count for p in build["duration"]}
    errors = {p.attributes["error_type"]: p.value for p in build["errors"]}
    assert 0 < sum(errors.values()) / sum(by_status.values()) < 1  # the error rate
    assert {k for p in build["all"] for k in p.attributes} <= {"plugin", "status", "error_type"}
    assert {p.attributes["plugin"] for p in build["all"]} == {plugin}
    return by_status, errors


def pool_peaks(build: dict[str, Any]) -> tuple[float, float]:
    """(most connections in use, most open) while dbt ran, after the shared checks: the
    utilization never passes 1 and every connection dbt opened it closed."""
    assert max(p.max for p in build["utilization"]) <= 1.0
    assert sum(p.value for p in build["size"]) == 0
    seen = build["seen"]
    return max(s["in_use"] for s in seen), max(s["size"] for s in seen)

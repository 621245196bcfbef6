"""Spark: how long after timeout_seconds a slow model is cancelled, and what health costs.

Runs from an installed package (no tests/): a real `dbt run` of a slow and a fast model
under timeout_seconds=2, in a local session and through a Spark Connect server started on
loopback, then the two health probes beside a bare TCP connect (the same-process baseline).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from _goals import baseline, figure, verdict

from floe_compute_spark import SparkComputePlugin, SparkConfig
from floe_compute_spark.config import parse_connect_url
from floe_compute_spark.connect_server import LOOPBACK_ENV, connect_server

GOAL_S = 1.0
_LINE = re.compile(r"floe\.compute\.timeout .*?duration_s=(?P<d>[\d.]+) timeout_s=(?P<t>[\d.]+)")
_PROJECT = {
    "dbt_project.yml": "name: floe_spark_bench\nversion: '1.0'\nconfig-version: 2\n"
    "profile: floe_spark\nmodels:\n  floe_spark_bench:\n    +materialized: table\n",
    "models/fast.sql": "{{ config(materialized='view') }}\nselect 1 as n\n",
    "models/slow_query.sql": "select count(*) as n from range(0, 1000000000000) a "
    "where hash(a.id) = 0\n",
}


def _dbt_run(work: Path, config: SparkConfig) -> tuple[float, float, dict[str, str]]:
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    for name, text in _PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    profile = SparkComputePlugin().generate_dbt_profile(config)
    (work / "profiles.yml").write_text(
        yaml.safe_dump({"floe_spark": {"target": "t", "outputs": {"t": profile}}})
    )
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, **LOOPBACK_ENV, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [str(dbt), "run", "--project-dir", str(project), "--profiles-dir", str(work)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    match = _LINE.search(done.stdout)
    if match is None:
        raise SystemExit(f"no timeout line in dbt's output:\n{done.stdout[-3000:]}")
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}
    return float(match["d"]), float(match["t"]), statuses


def _timed(call: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="floe-bench-spark-") as tmp:
        work = Path(tmp)
        session = SparkConfig(home=str(work / "home"), timeout_seconds=2, threads=1)
        duration, timeout, statuses = _dbt_run(work / "session", session)
        figure(
            "session: slow model cancelled after its 2 s timeout", duration - timeout, "s", GOAL_S
        )
        print(f"  fast model: {statuses.get('fast')}")
        with connect_server(work) as server:
            connect = SparkConfig(method="connect", connect_url=server.url, timeout_seconds=2)
            (work / "connect").mkdir()
            duration, timeout, statuses = _dbt_run(work / "connect", connect)
            figure(
                "connect: slow model cancelled after its 2 s timeout",
                duration - timeout,
                "s",
                GOAL_S,
            )
            print(f"  fast model: {statuses.get('fast')}")
            plugin = SparkComputePlugin()
            host, port = parse_connect_url(server.url)
            tcp = _timed(lambda: socket.create_connection((host, port), timeout=3).close())
            probe = _timed(lambda: plugin.validate_connection(connect))
            local = _timed(lambda: plugin.validate_connection(session))
            baseline("TCP connect to the Connect server", tcp, "ms", "the floor of a health probe")
            figure("health probe, connect mode", probe, "ms", 5000)
            figure("health probe, session mode", local, "ms", 5000)
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

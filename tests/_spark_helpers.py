"""Spark for the tests: dbt runs of the test project (the server is floe_compute_spark's)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).parent / "spark_project"
LOOPBACK_ENV = {
    "SPARK_LOCAL_IP": "127.0.0.1",
    "SPARK_LOCAL_HOSTNAME": "localhost",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_USE_COLORS": "false",
}


def dbt_command() -> list[str]:
    beside = Path(sys.executable).with_name("dbt")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "dbt.cli.main"]


def run_dbt(
    work: Path, profile: dict[str, Any], *args: str, timeout: float = 400.0
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``dbt ARGS`` on a fresh copy of the test project with ``profile``; (result, seconds)."""
    project = work / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(PROJECT, project)
    (work / "profiles.yml").write_text(
        yaml.safe_dump({"floe_spark": {"target": "t", "outputs": {"t": profile}}}),
        encoding="utf-8",
    )
    command = [*dbt_command(), *args, "--project-dir", str(project), "--profiles-dir", str(work)]
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=project,
        env={**os.environ, **LOOPBACK_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done, time.monotonic() - started


def node_results(work: Path) -> dict[str, tuple[str, str]]:
    """unique_id -> (status, message) from the last run's run_results.json."""
    import json

    data = json.loads((work / "project" / "target" / "run_results.json").read_text())
    return {r["unique_id"]: (r["status"], str(r.get("message"))) for r in data["results"]}

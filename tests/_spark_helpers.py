"""Spark for the tests: a Spark Connect server on loopback, and dbt runs of the test project.

The server is Spark's own (``SparkConnectServer`` from the jars pyspark ships), started
with pyspark's ``bin/spark-submit``: a real separate process, bound to 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from floe_compute_spark import SparkComputePlugin, SparkConfig

PROJECT = Path(__file__).parent / "spark_project"
LOOPBACK_ENV = {
    "SPARK_LOCAL_IP": "127.0.0.1",
    "SPARK_LOCAL_HOSTNAME": "localhost",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_USE_COLORS": "false",
}


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ConnectServer:
    url: str
    log: Path
    process: subprocess.Popen[bytes]


@contextmanager
def connect_server(workdir: Path, *, start_timeout: float = 240.0) -> Iterator[ConnectServer]:
    """A Spark Connect server on 127.0.0.1 (local[2] executors), stopped afterwards."""
    port = free_port()
    home = spark_home()
    log = workdir / "connect-server.log"
    confs = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.shuffle.partitions": "2",
    }
    command = [str(home / "bin" / "spark-submit"), "--master", "local[2]"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    command += [
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "spark-internal",
    ]
    env = {**os.environ, **LOOPBACK_ENV, "SPARK_HOME": str(home)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ConnectServer(url=f"sc://127.0.0.1:{port}", log=log, process=process)
    try:
        _wait_ready(server, start_timeout)
        yield server
    finally:
        with_group = process.pid
        try:
            os.killpg(with_group, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(with_group, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_ready(server: ConnectServer, timeout: float) -> None:
    plugin = SparkComputePlugin()
    config = SparkConfig(method="connect", connect_url=server.url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the Spark Connect server exited ({server.process.returncode}); "
                f"its log:\n{server.log.read_text(errors='replace')[-3000:]}"
            )
        if plugin.validate_connection(config).status.value == "healthy":
            return
        time.sleep(1.0)
    raise RuntimeError(
        f"the Spark Connect server was not ready within {timeout:g} s; see {server.log}"
    )


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

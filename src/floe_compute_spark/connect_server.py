"""A Spark Connect server on loopback, from the jars pyspark ships (tests, bench, live targets).

pyspark 4.3's wheel carries ``jars/spark-connect_2.13-4.3.0.jar`` and ``bin/spark-submit``,
so ``SparkConnectServer`` starts without a Spark download: a real separate JVM process,
bound to 127.0.0.1, with ``local[2]`` executors and an in-memory catalog.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from floe_compute_kit.models import ConnectionStatus
from floe_compute_spark.config import SparkConfig
from floe_compute_spark.plugin import SparkComputePlugin

__all__ = ["LOOPBACK_ENV", "ConnectServer", "connect_server", "free_port", "spark_home"]

#: Environment for Spark processes that must never look beyond loopback.
LOOPBACK_ENV = {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOCAL_HOSTNAME": "localhost"}


def spark_home() -> Path:
    """The folder of the installed pyspark (its bin/, sbin/ and jars/)."""
    import pyspark  # noqa: PLC0415 - only when a server is started

    return Path(pyspark.__file__).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ConnectServer:
    """A running server: its ``sc://`` URL, its log file and its process."""

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
        process = subprocess.Popen(  # noqa: S603 - Spark's own launcher, fixed arguments
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
        if plugin.validate_connection(config).status is ConnectionStatus.HEALTHY:
            return
        time.sleep(1.0)
    raise RuntimeError(
        f"the Spark Connect server was not ready within {timeout:g} s; see {server.log}"
    )

"""Health probes that fit the 5 s budget without starting a JVM.

- connect: a TCP connect, then Spark Connect's own handshake: the ``AnalyzePlan`` RPC
  asking for the server's Spark version, then ``ReleaseSession`` for the session id the
  probe made up. Both are read-only. The two messages are encoded here (a few
  length-delimited protobuf fields): pyspark's generated classes import pandas through
  ``pyspark.sql.connect``, which alone costs about 2 s.
- session: what dbt's in-process SparkSession needs: pyspark's jars, a Java runtime that
  answers ``-version`` with 17 or later, and a usable ``home`` folder (never created here).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Final

__all__ = ["Unhealthy", "probe_connect", "probe_session"]

_SERVICE: Final = "/spark.connect.SparkConnectService/"
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')
#: Spark 4 runs on Java 17 or 21.
MIN_JAVA: Final = 17


class Unhealthy(Exception):  # noqa: N818 - an outcome carried out of nested checks
    """A probe's verdict: the message says what to do; ``kind`` names the failure."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (strings and sub-messages)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _fields(data: bytes) -> dict[int, bytes]:
    """The length-delimited fields of a protobuf message (others are skipped)."""
    found: dict[int, bytes] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            if i >= len(data):
                raise ValueError("truncated protobuf message")
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            size = varint()
            found[key >> 3] = data[i : i + size]
            i += size
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    return found


def _request(session_id: str, *, version_field: int | None) -> bytes:
    user = _field(1, b"floe-health")  # UserContext.user_id
    body = _field(1, session_id.encode()) + _field(2, user) + _field(3, b"floe-health")
    if version_field is not None:
        body += _field(version_field, b"")  # AnalyzePlanRequest.spark_version: {}
    return body


def _tcp(host: str, port: int, timeout: float) -> None:
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        raise Unhealthy(
            f"the host of connect_url ({host}) cannot be resolved ({exc.strerror}); "
            "correct connect_url",
            "unknown_host",
        ) from None
    except ConnectionRefusedError:
        raise Unhealthy(
            f"nothing listens on {where} (connection refused): start the Spark Connect "
            "server there (sbin/start-connect-server.sh, spark.connect.grpc.binding.port) "
            "or correct connect_url",
            "refused",
        ) from None
    except TimeoutError:
        raise Unhealthy(
            f"{where} did not accept a connection within {timeout:g} s: check that the "
            "server is up and that no firewall drops the port",
            "timed_out",
        ) from None
    except OSError as exc:
        raise Unhealthy(
            f"cannot connect to {where} ({exc.strerror or exc}); check connect_url and the "
            "network path to the Spark Connect server",
            "unreachable",
        ) from None


def probe_connect(host: str, port: int, timeout: float) -> str:
    """The Spark version of the Connect server at ``host:port``; raises Unhealthy."""
    import grpc  # noqa: PLC0415 - lazy: only connect-mode health checks need it

    deadline = time.monotonic() + timeout
    _tcp(host, port, timeout)
    session_id = str(uuid.uuid4())
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with grpc.insecure_channel(target) as channel:
        analyze = channel.unary_unary(_SERVICE + "AnalyzePlan")
        release = channel.unary_unary(_SERVICE + "ReleaseSession")
        try:
            reply = analyze(
                _request(session_id, version_field=10),
                timeout=max(deadline - time.monotonic(), 0.1),
            )
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise Unhealthy(
                    f"{host}:{port} accepted the connection but gave no Spark Connect "
                    f"answer within {timeout:g} s; the server may be overloaded or starting",
                    "timed_out",
                ) from None
            raise Unhealthy(
                f"{host}:{port} is not answering as a Spark Connect server "
                f"({getattr(code, 'name', code)}); check that connect_url points at "
                "spark.connect.grpc.binding.port, not another service",
                "not_spark_connect",
            ) from None
        try:
            version = _fields(_fields(reply).get(8, b"")).get(1, b"").decode()
        except ValueError:
            version = ""
        # The server drops idle sessions itself: a failed release leaves the verdict as is.
        with contextlib.suppress(grpc.RpcError):
            release(_request(session_id, version_field=None), timeout=0.5)
    if not version:
        raise Unhealthy(
            f"{host}:{port} answered, but not with a Spark version; is it a Spark Connect server?",
            "not_spark_connect",
        )
    return version


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").is_file():
        return str(Path(home, "bin", "java"))
    found = shutil.which("java")
    if found is None:
        raise Unhealthy(
            "no Java runtime: Spark needs Java 17 or 21; install it (Debian: apt-get "
            "install openjdk-17-jre-headless) or set JAVA_HOME",
            "no_java",
        )
    return found


def _java_major(java: str, timeout: float) -> int:
    try:
        done = subprocess.run(  # noqa: S603 - the machine's own java, a fixed argument
            [java, "-version"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unhealthy(
            f"{java} -version did not answer ({type(exc).__name__}); set JAVA_HOME to a "
            "working Java 17 or 21",
            "no_java",
        ) from None
    found = _JAVA_VERSION.search(done.stderr + done.stdout)
    if done.returncode != 0 or found is None:
        raise Unhealthy(
            f"{java} -version failed (exit {done.returncode}); set JAVA_HOME to a working "
            "Java 17 or 21",
            "no_java",
        )
    major = int(found[1])
    return int(found[2] or 0) if major == 1 else major


def _home_usable(home: str) -> str:
    """Where the warehouse will live; raises when dbt could not create or write it."""
    path = Path(home)
    if path.exists():
        if not path.is_dir():
            raise Unhealthy(
                f"home {home} is not a folder; point `home` at a folder for the warehouse "
                "and metastore",
                "not_a_folder",
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise Unhealthy(
                f"home {home} is not writable by this user (uid {os.geteuid()}); dbt "
                "writes the warehouse there: grant write access or choose another `home`",
                "not_writable",
            )
        return f"warehouse under {home}"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise Unhealthy(
            f"home {home} does not exist and cannot be created: {parent} is not writable "
            f"by this user (uid {os.geteuid()}); choose another `home`",
            "not_writable",
        )
    return f"warehouse under {home} (created by the first dbt run)"


def probe_session(home: str, timeout: float) -> str:
    """What a local session needs, checked without starting Spark; raises Unhealthy."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise Unhealthy(
            "pyspark is not installed; pip install 'floe-compute-kit[spark]'", "no_pyspark"
        )
    jars = Path(next(iter(spec.submodule_search_locations)), "jars")
    if not any(jars.glob("spark-core_*.jar")):
        raise Unhealthy(
            f"pyspark has no Spark jars in {jars}; reinstall it: pip install --force-reinstall "
            "'floe-compute-kit[spark]'",
            "no_pyspark",
        )
    java = _java()
    major = _java_major(java, timeout)
    if major < MIN_JAVA:
        raise Unhealthy(
            f"{java} is Java {major}; Spark 4 needs Java {MIN_JAVA} or 21: install it or "
            "set JAVA_HOME",
            "old_java",
        )
    where = _home_usable(home)
    return (
        f"local Spark session ready: pyspark {metadata.version('pyspark')}, Java {major}; {where}"
    )

"""A real PostgreSQL server on loopback, for tests and for the kit's live-target checks.

Debian's ``postgresql`` binaries run a throwaway cluster: initdb'd in a temp dir, owned
by an unprivileged user (PostgreSQL refuses to run as root, and tests here do), with
SCRAM password auth for one created role and database, listening only on 127.0.0.1
on a free port, its unix socket inside the temp dir. Where Docker answers,
testcontainers starts the official image instead; the probe fails fast when it does not.

>>> with postgres_server() as pg:  # doctest: +SKIP
...     pg.env()["FLOE_POSTGRES_PORT"] == str(pg.port)
True
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "INSTALL_HINT",
    "PostgresNotFoundError",
    "PostgresServer",
    "PostgresStartError",
    "find_bindir",
    "postgres_server",
]

INSTALL_HINT: Final = "apt-get install postgresql (Debian/Ubuntu), or put its bin dir on PATH"
#: The binaries one cluster needs; all must sit in one directory of one release.
_BINARIES: Final = ("initdb", "pg_ctl", "postgres", "psql")
_UNPRIVILEGED: Final = ("nobody", "postgres", "daemon")
_DEBIAN_BINDIRS: Final = "/usr/lib/postgresql/*/bin"
_START_TIMEOUT_S: Final = 30
_ATTEMPTS: Final = 3
#: Settings for a throwaway test cluster: durable writes cost time and prove nothing here.
_SETTINGS: Final = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "'32MB'",
    "max_connections": "40",
    "password_encryption": "'scram-sha-256'",
    "log_min_messages": "warning",
}


class PostgresNotFoundError(FileNotFoundError):
    """The PostgreSQL server binaries are not installed; the message names the fix."""

    def __init__(self, searched: list[str]) -> None:
        self.searched = searched
        super().__init__(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found "
            f"(looked on PATH, in `pg_config --bindir` and {', '.join(searched) or '-'}); "
            f"install them: {INSTALL_HINT}"
        )


class PostgresStartError(RuntimeError):
    """initdb or pg_ctl failed; carries the command's output and the server log's tail."""

    def __init__(self, step: str, output: str) -> None:
        self.step = step
        self.output = output
        super().__init__(f"PostgreSQL {step} failed: {output.strip()[-2000:]}")


def find_bindir(*, path: str | None = None, pattern: str = _DEBIAN_BINDIRS) -> Path:
    """The directory holding initdb, pg_ctl, postgres and psql of one release.

    ``path`` (default: PATH) first, symlinks resolved; then ``pg_config --bindir``;
    then Debian's ``/usr/lib/postgresql/<version>/bin``, newest release first.
    """
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl", path=path)
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config", path=path)
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(  # noqa: S603 - a fixed argument list
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=5, check=False
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    debian = sorted(glob.glob(pattern), key=_version_key, reverse=True)
    candidates += [Path(p) for p in debian]
    for bindir in candidates:
        if all((bindir / name).is_file() for name in _BINARIES):
            return bindir
    raise PostgresNotFoundError([str(c) for c in candidates] or [pattern])


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root to an unprivileged user (empty when not root)."""
    if os.geteuid() != 0:
        return [], None
    for name in _UNPRIVILEGED:
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        setpriv = shutil.which("setpriv")
        if setpriv:
            return [
                setpriv,
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
                "--",
            ], user
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", name, "--"], user
    raise PostgresStartError(
        "setup",
        "running as root and no unprivileged user (nobody, postgres, daemon) or no "
        "setpriv/runuser to switch to it; run as another user or create one",
    )


@dataclass(frozen=True)
class PostgresServer:
    """A running server and how to reach it. ``stop()``/``start()`` keep host and port."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    #: cluster data directory (local process), or None for a container
    datadir: Path | None = None
    _control: Any = field(default=None, repr=False, compare=False)

    def stop(self) -> None:
        """Stop the server (a health watcher must see it go away); data is kept."""
        self._control.stop()

    def start(self) -> None:
        """Start it again on the same port, after :meth:`stop`; returns when it accepts."""
        self._control.start()

    def params(self, **override: Any) -> dict[str, Any]:
        """libpq keyword arguments (``psycopg2.connect(**server.params())``)."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
            "connect_timeout": 5,
            **override,
        }

    def env(self, prefix: str = "FLOE_POSTGRES") -> dict[str, str]:
        """The environment variables the postgres plugin's live-target hook reads."""
        return {
            f"{prefix}_HOST": self.host,
            f"{prefix}_PORT": str(self.port),
            f"{prefix}_USER": self.user,
            f"{prefix}_DBNAME": self.dbname,
            f"{prefix}_PASSWORD": self.password,
        }


class _LocalCluster:
    """pg_ctl on one data directory, as the unprivileged owner."""

    def __init__(self, bindir: Path, root: Path, prefix: list[str]) -> None:
        self.bindir = bindir
        self.root = root
        self.datadir = root / "data"
        self.log = root / "server.log"
        self.prefix = prefix

    def run(self, step: str, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(  # noqa: S603 - our binaries, fixed arguments
            [*self.prefix, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT_S + 10,
            check=False,
            cwd=self.root,
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise PostgresStartError(step, f"{done.stdout}\n{done.stderr}\n{tail}")
        return done.stdout

    def start(self) -> None:
        self.run(
            "start",
            str(self.bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            str(_START_TIMEOUT_S),
            "-D",
            str(self.datadir),
            "-l",
            str(self.log),
        )

    def stop(self, mode: str = "fast") -> None:
        self.run(
            "stop", str(self.bindir / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.datadir)
        )

    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()


def _init_cluster(cluster: _LocalCluster, port: int, admin: str) -> None:
    cluster.run(
        "initdb",
        str(cluster.bindir / "initdb"),
        "-D",
        str(cluster.datadir),
        "-U",
        admin,
        "--auth-local=trust",  # the socket lives in a 0700 dir of the owner
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    )
    settings = {
        **_SETTINGS,
        "port": str(port),
        "unix_socket_directories": f"'{cluster.root}'",
    }
    with (cluster.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# floe conformance: loopback only\n")
        conf.writelines(f"{k} = {v}\n" for k, v in settings.items())


def _create_role(cluster: _LocalCluster, port: int, admin: str, server: PostgresServer) -> None:
    literal = server.password.replace("'", "''")
    sql = (
        f"CREATE ROLE \"{server.user}\" LOGIN PASSWORD '{literal}';\n"
        f'CREATE DATABASE "{server.dbname}" OWNER "{server.user}";\n'
    )
    cluster.run(
        "setup",
        str(cluster.bindir / "psql"),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        str(cluster.root),
        "-p",
        str(port),
        "-U",
        admin,
        "-d",
        "postgres",
        stdin=sql,
    )


def _docker_answers() -> bool:
    """True when a Docker engine answers a ping within a second (never waits longer)."""
    sock_path = "/var/run/docker.sock"
    if not os.environ.get("DOCKER_HOST") and not os.path.exists(sock_path):
        return False
    try:
        import docker  # noqa: PLC0415 - optional: only where testcontainers is installed

        client = docker.from_env(timeout=1)
        return bool(client.ping())
    except Exception:  # any failure means "no Docker here"
        return False


@contextlib.contextmanager
def _container(user: str, password: str, dbname: str) -> Iterator[PostgresServer]:
    from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

    container = PostgresContainer(
        "postgres:15", username=user, password=password, dbname=dbname
    ).with_bind_ports(5432, _free_port())
    container.start()
    try:
        wrapped = container.get_wrapped_container()
        server = PostgresServer(
            host="127.0.0.1",
            port=int(container.get_exposed_port(5432)),
            user=user,
            password=password,
            dbname=dbname,
            _control=_ContainerControl(wrapped),
        )
        yield server
    finally:
        container.stop()


class _ContainerControl:
    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def stop(self) -> None:
        self.wrapped.stop()

    def start(self) -> None:
        self.wrapped.start()
        time.sleep(2)  # the image's entrypoint restarts the server


@contextlib.contextmanager
def postgres_server(
    *, user: str = "floe", dbname: str = "floe", use_docker: bool | None = None
) -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server on 127.0.0.1; stop and delete it on exit.

    ``use_docker``: None tries Docker first when it answers, False never does.
    Raises PostgresNotFoundError (naming the install command) when no server can start.
    """
    password = secrets.token_urlsafe(18)
    if use_docker is not False and _docker_answers():
        with _container(user, password, dbname) as server:
            yield server
        return
    bindir = find_bindir()
    prefix, owner = _run_as()
    base = tempfile.gettempdir()
    if owner is not None and not os.stat(base).st_mode & 0o001:
        base = "/tmp"  # noqa: S108 - the unprivileged owner must be able to traverse it
    root = Path(tempfile.mkdtemp(prefix="floe-pg-", dir=base))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    admin = "floe_admin"
    cluster = _LocalCluster(bindir, root, prefix)
    try:
        for attempt in range(_ATTEMPTS):
            port = _free_port()
            if cluster.datadir.exists():
                shutil.rmtree(cluster.datadir)
            _init_cluster(cluster, port, admin)
            try:
                cluster.start()
                break
            except PostgresStartError:
                if attempt == _ATTEMPTS - 1:
                    raise  # the port was not taken in between three times: a real failure
        server = PostgresServer(
            host="127.0.0.1",
            port=port,
            user=user,
            password=password,
            dbname=dbname,
            datadir=cluster.datadir,
            _control=cluster,
        )
        _create_role(cluster, port, admin, server)
        yield server
    finally:
        if cluster.running():
            with contextlib.suppress(PostgresStartError, subprocess.SubprocessError):
                cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)

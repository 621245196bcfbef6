"""A prewarmed dbt for the run: every dbt invocation the kit makes skips dbt's imports.

A fresh ``dbt`` process spends ~2.5 s importing before it does anything, and an
integration run makes several. The launcher is one child process (``_dbt_server.py``,
started with ``subprocess``: the kit itself has threads and must never fork) that
imports dbt once and forks a fresh-looking dbt per request; see that module for what
the child is given. Started once per suite run, early and in the background, closed
with the run (``ctx.resources``).

Whatever goes wrong with it (it cannot start, dies, hangs, refuses a request) the
invocation runs as a plain ``dbt`` subprocess instead: a launcher problem never becomes
a verdict on the plugin. ``FLOE_CONFORMANCE_DBT_LAUNCHER=0`` turns it off.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Final

from floe_compute_kit.conformance._adapter_judge import ADAPTER_TYPE
from floe_compute_kit.conformance._check import CheckContext
from floe_compute_kit.conformance._lanes import BESIDE, beside_dir
from floe_compute_kit.conformance._results import Level

__all__ = [
    "BASE_ENV",
    "ENV_SWITCH",
    "DbtLauncher",
    "Launched",
    "launcher_enabled",
    "launcher_for",
    "prewarm",
    "run_module",
    "start_early",
]

#: set to 0 (or false/no/off) to run every dbt invocation as a plain subprocess
ENV_SWITCH: Final = "FLOE_CONFORMANCE_DBT_LAUNCHER"
#: what every kit dbt invocation sets on top of the environment
BASE_ENV: Final = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_USE_COLORS": "false",
    "PYTHONUNBUFFERED": "1",  # node lines as they happen
}
_SERVER: Final = Path(__file__).with_name("_dbt_server.py")
_EXTRA_KEY: Final = "floe.dbt_launcher"
#: how long a request may wait for its pid (the server may still be importing dbt)
_LAUNCH_WAIT_S: Final = 30.0
_MAX_STARTS: Final = 3
#: the server's argument for "the adapter type follows on the control socket"
_TYPE_LATER: Final = "-"
_REQUEST_LIMIT: Final = 128 * 1024
_OFF: Final = frozenset({"0", "false", "no", "off"})
_ON: Final = frozenset({"", "1", "true", "yes", "on"})
_CREATE_LOCK = threading.Lock()


def launcher_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``FLOE_CONFORMANCE_DBT_LAUNCHER`` leaves the launcher on (the default)."""
    value = (os.environ if environ is None else environ).get(ENV_SWITCH, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ValueError(
        f"{ENV_SWITCH}={value!r} is not understood: set it to 0 (run dbt as a plain "
        "subprocess) or 1 (the prewarmed launcher, the default)"
    )


class Launched:
    """One dbt child of the launcher: the bits of ``Popen`` the kit's watcher uses."""

    def __init__(self, pid: int, conn: socket.socket, stdout: IO[str], buffer: bytes) -> None:
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        #: True when the launcher went away before it said how the child ended
        self.lost = False
        self._conn = conn
        self._buffer = buffer

    def poll(self) -> int | None:
        """The exit code once the server reaped the child; None while it runs (or when
        the server went away: then ``lost`` is set)."""
        while self.returncode is None and not self.lost:
            if b"\n" in self._buffer:
                message = json.loads(self._buffer.split(b"\n", 1)[0])
                self.returncode = int(message["exit"])
                self._conn.close()
                break
            self._conn.setblocking(False)
            try:
                chunk = self._conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.lost = True
                self._conn.close()
            self._buffer += chunk
        return self.returncode

    def wait(self, timeout_s: float = 10.0) -> int | None:
        end = time.monotonic() + timeout_s
        while self.poll() is None and not self.lost and time.monotonic() < end:
            time.sleep(0.02)
        if self.returncode is None and not self.lost:
            self.lost = True
            self._conn.close()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the child's process group, and the child itself (it may not have
        made its group yet)."""
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)


class DbtLauncher:
    """The run's prewarmed dbt: ``launch`` returns a child, or None (run dbt plainly)."""

    def __init__(
        self, workdir: Path, adapter_type: str | None = None, *, type_later: bool = False
    ) -> None:
        self.workdir = workdir
        #: the dbt adapter the server imports and warms before its first fork
        self.adapter_type = adapter_type
        #: started before the type is known: the server imports dbt, then waits for it
        self._type_later = type_later
        self.starts = 0
        self.log_path = workdir / "dbt-launcher.log"
        self._env: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._lock = threading.Lock()
        self._children: list[Launched] = []
        self._closed = False

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> bool:
        """Start the server (it imports dbt in the background); False when it cannot."""
        with self._lock:
            return self._start_locked()

    def _start_locked(self) -> bool:
        if self._closed or self.starts >= _MAX_STARTS:
            return False
        self._stop_locked()
        self.starts += 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._env = {**os.environ, **BASE_ENV}
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(  # noqa: S603 - our own script, fixed argv
                    [
                        sys.executable,
                        str(_SERVER),
                        str(theirs.fileno()),
                        *(
                            [_TYPE_LATER]
                            if self._type_later
                            else [self.adapter_type]
                            if self.adapter_type
                            else []
                        ),
                    ],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.workdir,
                    env=self._env,
                    start_new_session=True,
                )
        except OSError:
            ours.close()
            return False
        finally:
            theirs.close()
        self._control = ours
        return True

    def tell_adapter_type(self, adapter_type: str | None) -> None:
        """The adapter to warm, for a server started before it was known (``type_later``):
        it has been importing dbt meanwhile. None: warm dbt's own macros only."""
        with self._lock:
            if self._type_later:
                valid = adapter_type is not None and ADAPTER_TYPE.fullmatch(adapter_type)
                self.adapter_type = adapter_type if valid else None
                self._send_type_locked()

    def _send_type_locked(self) -> None:
        # Before any request on the control socket: the server reads this line byte by
        # byte, never into a request (whose byte carries the descriptors).
        self._type_later = False
        if self._control is not None:
            with contextlib.suppress(OSError):
                self._control.sendall((self.adapter_type or "").encode("ascii") + b"\n")

    def launch(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        module: str | None = None,
        urgent: bool = False,
    ) -> Launched | None:
        """Fork ``argv`` (``["dbt", ...args]``) in the server, or None when it cannot;
        with ``module``, the child runs that module as ``__main__`` instead of dbt;
        ``urgent``: forked as soon as dbt is imported, without waiting for the server's
        warm (its child does that work for itself), for the run's longest chain."""
        if any(
            env.get(k) != self._env.get(k)
            for k in {*env, *self._env}
            if k.startswith("DBT_") or k.startswith("PYTHON")
        ):
            return None  # dbt may read these at import time: the server read other values
        request: dict[str, object] = {"argv": argv, "cwd": str(cwd), "env": dict(env)}
        if module is not None:
            request["module"] = module
        if urgent:
            request["urgent"] = True
        payload = json.dumps(request).encode() + b"\n"
        if len(payload) > _REQUEST_LIMIT:
            return None
        with self._lock:
            if not self.alive() or self._control is None:
                self._start_locked()  # for the next invocation; this one runs plainly
                return None
            if self._type_later:  # never told: the server warms without an adapter
                self._send_type_locked()
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            read_fd, write_fd = os.pipe()
            try:
                mine.sendall(payload)
                socket.send_fds(self._control, [b"r"], [theirs.fileno(), write_fd])
            except OSError:
                mine.close()
                os.close(read_fd)
                return None
            finally:
                theirs.close()
                os.close(write_fd)
        answer = self._await_pid(mine)
        if answer is None:
            mine.close()
            os.close(read_fd)
            return None
        stdout = open(read_fd, encoding="utf-8", errors="replace")  # noqa: SIM115 - the watcher closes it
        child = Launched(answer[0], mine, stdout, answer[1])
        with self._lock:
            self._children = [c for c in self._children if c.returncode is None and not c.lost]
            self._children.append(child)
        return child

    def _await_pid(self, conn: socket.socket) -> tuple[int, bytes] | None:
        """The child's pid from the server, and whatever came after it."""
        conn.settimeout(_LAUNCH_WAIT_S)
        data = b""
        try:
            while b"\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    raise ConnectionResetError("the launcher went away")
                data += chunk
        except OSError:
            with self._lock:  # gone (or hung): the next invocation gets a new one
                self._start_locked()
            return None
        line, rest = data.split(b"\n", 1)
        message = json.loads(line)
        return (int(message["pid"]), rest) if "pid" in message else None

    def _stop_locked(self) -> None:
        for child in self._children:
            if child.returncode is None:
                child.kill()
        self._children = []
        if self._control is not None:
            self._control.close()
            self._control = None
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Kill what is still running, stop the server, leave no process behind."""
        with self._lock:
            self._closed = True
            self._stop_locked()


def launcher_for(ctx: CheckContext) -> DbtLauncher | None:
    """The run's launcher (started on first use, closed with the run), or None when the
    switch turns it off."""
    if not launcher_enabled():
        return None
    with _CREATE_LOCK:
        launcher = ctx.extra.get(_EXTRA_KEY)
        if isinstance(launcher, DbtLauncher):
            return launcher
        # beside the read-only watch: its log may be written while a health check runs
        launcher = DbtLauncher(beside_dir(ctx) / "dbt-launcher", _adapter_type(ctx))
        ctx.extra[_EXTRA_KEY] = launcher
        ctx.resources.callback(launcher.close)
        launcher.start()
        return launcher


def run_module(ctx: CheckContext, module: str, args: list[str], *, timeout_s: float) -> int | None:
    """``python -m MODULE ARGS`` in a child of the run's launcher (dbt imported, and the
    run's adapter): its exit code, or None when there is no launcher or the child did not
    finish within ``timeout_s`` (then it is killed); its output is dropped."""
    try:
        launcher = launcher_for(ctx)
    except ValueError:  # a bad switch: the dbt checks say so
        return None
    if launcher is None:
        return None
    # sys.argv as ``python -m`` makes it (runpy puts the module's file first)
    child = launcher.launch(
        [module, *args], cwd=ctx.workdir, env={**os.environ, **BASE_ENV}, module=module
    )
    if child is None:
        return None
    drain = threading.Thread(target=child.stdout.read, daemon=True, name="floe-module-output")
    drain.start()
    code = child.wait(timeout_s)
    if code is None:
        child.kill()
    drain.join(timeout=1.0)
    with contextlib.suppress(OSError):
        child.stdout.close()
    return code


def _adapter_type(ctx: CheckContext) -> str | None:
    """The profile's ``type``, for the server to warm: known already, or asked of a plugin
    in its host (where a call is bounded by the host's deadline); None when it cannot tell."""
    from floe_compute_kit.conformance.checks._support import (  # noqa: PLC0415
        PROFILE_TYPE_KEY,
        profile_type,
    )

    known = ctx.extra.get(PROFILE_TYPE_KEY)
    if isinstance(known, str):
        return known if ADAPTER_TYPE.fullmatch(known) else None
    if getattr(ctx.plugin, "floe_host", None) is None:
        return None
    try:
        kind = profile_type(ctx)
    except Exception:  # the profile checks report it; dbt runs unwarmed
        return None
    return kind if ADAPTER_TYPE.fullmatch(kind) else None


def start_early(workdir: Path, level: Level) -> DbtLauncher | None:
    """The run's launcher, started before the plugin is even loaded when ``level`` runs
    dbt (extended and up): dbt's imports, seconds of CPU, begin at once; the adapter to
    warm is told once the plugin's profile type is known (:func:`prewarm`)."""
    try:
        if not Level(level).includes(Level.EXTENDED) or not launcher_enabled():
            return None
    except ValueError:  # a bad switch: each dbt check says so
        return None
    launcher = DbtLauncher(workdir / BESIDE / "dbt-launcher", type_later=True)
    launcher.start()
    return launcher


def prewarm(ctx: CheckContext, level: Level, early: DbtLauncher | None = None) -> None:
    """Start the launcher now when ``level`` runs dbt (extended and up), so its imports
    overlap with the checks before the first dbt invocation; or make ``early`` (from
    :func:`start_early`) the run's launcher and tell it the adapter to warm."""
    if early is not None:
        with _CREATE_LOCK:
            ctx.extra[_EXTRA_KEY] = early
            ctx.resources.callback(early.close)
        early.tell_adapter_type(_adapter_type(ctx))
        return
    if Level(level).includes(Level.EXTENDED):
        with contextlib.suppress(ValueError):  # a bad switch: each dbt check says so
            launcher_for(ctx)

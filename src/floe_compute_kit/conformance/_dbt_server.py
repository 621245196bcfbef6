"""The prewarmed dbt process: imports dbt once, then forks one child per dbt invocation.

Run as a script (``python _dbt_server.py FD [ADAPTER_TYPE | -]``), never imported by the kit:
it must stay single-threaded so that ``os.fork`` is safe, and it imports nothing of the
kit (only a child asked to run one of the kit's modules does). ``FD`` is
a Unix stream socket the kit holds the other end of. Each request arrives on it as one
byte carrying two file descriptors (``socket.send_fds``): a socket of its own, on which
the kit has already written the request (one JSON line: argv, env, cwd, and ``module``
when the child is to run one of the kit's modules instead of dbt), and the write
end of the pipe dbt's stdout and stderr go to. The server answers on that socket with
``{"pid": N}`` once the child runs and ``{"exit": code}`` when it has been reaped.

The child is made to look like a fresh ``dbt`` process: a session (and process group)
of its own, exactly the env asked for (``os.environ`` replaced, so ``env_var()`` and C
code both see it), the cwd, stdin from /dev/null, default SIGINT/SIGTERM/SIGHUP
handlers, ``sys.argv`` as the console script sees it, and dbt's console-script entry
point run the way the script runs it. It then leaves the way the interpreter would, up to
the point where nothing outside the process can tell: non-daemon threads are joined,
atexit hooks run (``logging.shutdown`` among them) and every open file is flushed; only
the teardown of the modules is skipped, which took about 0.4 s of every dbt run (dbt's
manifest and the adapter's modules are freed object by object). When the kit closes its
end the server kills the process group of every child still running and exits.

Before the first fork the server does, once, what every dbt run would otherwise do for
itself (``_warm``): it imports the run's adapter (``python _dbt_server.py FD TYPE``),
builds dbt's contract schemas, and parses the macros of dbt's internal packages into
dbt's own parse caches (those dbt's functional tests turn on for many invocations in one
process, keyed by the source text). It then freezes its heap (``gc.freeze``), so a
child's collections and its exit leave the server's objects alone. Requests that come
while it warms wait for the warm, except an urgent one (``"urgent": true``: the timeout
models' run, an integration run's longest chain), forked at once: its child does the
rest of that work for itself, after freezing what the server had so far.
"""

from __future__ import annotations

import _io
import atexit
import contextlib
import gc
import importlib
import json
import os
import re
import runpy
import select
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

#: modules every dbt invocation the kit makes imports (dbt.cli.main is the bulk)
_PRELOAD = (
    "dbt.cli.main",
    "dbt.task.build",
    "dbt.task.run",
    "dbt.task.run_operation",
    "dbt.parser.manifest",
    "dbt.adapters.factory",
)
#: dbt's contract classes whose JSON schema dbt builds (and caches, per process) the
#: first time it validates one: every project, profile and node of a parse; built here
#: once, they are not built again in every child (about 0.6 s of each one's CPU). Only
#: the kinds of node the kit's projects have: none has a snapshot (SnapshotNode and its
#: config took 0.2 s of the server's start, for no child)
_SCHEMAS = (
    ("dbt.contracts.project", ("Project", "ProjectFlags", "Configuration", "PackageConfig")),
    ("dbt.contracts.selection", ("SelectorFile",)),
    ("dbt.contracts.graph.nodes", ("ModelNode", "SeedNode", "GenericTestNode", "SingularTestNode")),
    ("dbt.contracts.graph.unparsed", ("UnparsedModelUpdate",)),
    ("dbt.contracts.project", ("ProfileConfig",)),
    ("dbt.artifacts.resources", ("ModelConfig", "SeedConfig", "TestConfig")),
    ("dbt.artifacts.resources.v1.components", ("Contract",)),
    ("dbt.task.test", ("TestResultData",)),
)
#: the blocks dbt's macro parser takes from a macro file
_MACRO_BLOCKS = frozenset({"macro", "materialization", "test", "data_test"})
#: a package's folders of macros, and the blocks dbt takes from their files (its generic
#: tests parser reads ``tests/generic``)
_MACRO_FOLDERS = (("macros", _MACRO_BLOCKS), ("tests/generic", frozenset({"test", "data_test"})))
#: an adapter type as a module name (``dbt.adapters.TYPE``); the same pattern as
#: ``_adapter_judge.ADAPTER_TYPE``, which this script may not import
_ADAPTER_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: the open files of the server itself, flushed by each child as it leaves (the heap
#: scan there sees only the child's own objects, the server's being frozen)
_SERVER_FILES: list[Any] = []
_REQUEST_LIMIT = 4 * 1024 * 1024
#: how many urgent requests were forked before the warm ended
_URGENT = [0]
#: the argument saying the adapter type comes as the control socket's first line
_TYPE_LATER = "-"


def _told_type(control: socket.socket) -> str | None:
    """The first line on the control socket: the adapter type ("" for none). Read a byte
    at a time, so no request (whose byte carries descriptors) is read with it; the kit
    gone before saying it ends the server."""
    data = b""
    while not data.endswith(b"\n"):
        byte = control.recv(1)
        if not byte:
            sys.exit(0)
        data += byte
        if len(data) > 80:
            return None
    text = data[:-1].decode("ascii", "replace")
    return text or None


def _warm(adapter_type: str | None, between: Any = lambda: None) -> None:
    """What every child would do first, done once; any step that fails is left to them.
    ``between()`` runs after each step (the server takes urgent requests there)."""
    packages = [_package_path("dbt.include.global_project")]
    if adapter_type is not None and _ADAPTER_TYPE.fullmatch(adapter_type):
        packages += _adapter_packages(adapter_type, set())
    between()
    _warm_schemas(between)
    _warm_macros([p for p in packages if p is not None], between)
    _freeze()


def _freeze(*, collect: bool = True) -> None:
    """Move the server's objects out of the collector's reach (children share them
    copy-on-write), keeping its open files for the children to flush as they leave."""
    if collect:
        gc.collect()
    _SERVER_FILES.extend(o for o in gc.get_objects() if isinstance(o, _io._IOBase))
    gc.freeze()


def _package_path(module_name: str) -> Path | None:
    try:
        module = importlib.import_module(module_name)
    except Exception:  # a missing package is the child's to meet
        return None
    path = getattr(module, "PACKAGE_PATH", None)
    return Path(path) if isinstance(path, str) else None


def _adapter_packages(adapter_type: str, seen: set[str]) -> list[Path]:
    """Import dbt's adapter for ``adapter_type`` (and those it builds on); their macro
    packages."""
    seen.add(adapter_type)
    try:
        plugin = importlib.import_module(f"dbt.adapters.{adapter_type}").Plugin
        credentials = plugin.credentials
    except Exception:  # not installed, or broken: the child says so
        return []
    with contextlib.suppress(Exception):
        credentials.json_schema()
    found = [Path(plugin.include_path)] if isinstance(plugin.include_path, str) else []
    for dependency in getattr(plugin, "dependencies", None) or ():
        if isinstance(dependency, str) and dependency not in seen:
            found += _adapter_packages(dependency, seen)
    return found


def _warm_schemas(between: Any = lambda: None) -> None:
    """Build the JSON schemas of :data:`_SCHEMAS` with dbt's own (cached) method; a class
    a dbt version lacks, or one that will not build, is left for the child to build."""
    for module_name, names in _SCHEMAS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in names:
            method = getattr(getattr(module, name, None), "json_schema", None)
            if callable(method):
                with contextlib.suppress(Exception):
                    method()
            between()


def _warm_macros(packages: list[Path], between: Any = lambda: None) -> None:
    """Parse every macro of ``packages`` the way dbt's macro parser and its dependency
    pass do, with dbt's parse caches on: each child finds them parsed."""
    try:
        from dbt.clients import jinja_static  # noqa: PLC0415 - only the server needs them
        from dbt_common import tests as dbt_caches  # noqa: PLC0415
        from dbt_common.clients import jinja  # noqa: PLC0415

        dbt_caches.enable_test_caching()
    except Exception:  # another dbt: the children parse for themselves
        return
    files = [
        (path, allowed)
        for package in packages
        for folder, allowed in _MACRO_FOLDERS
        for path in sorted((package / folder).rglob("*.sql"))
    ]
    for path, allowed in files:
        try:
            blocks = jinja.extract_toplevel_blocks(
                # stripped as dbt reads it: a file's last block ends where its text does
                path.read_text(encoding="utf-8").strip(),
                allowed_blocks=set(allowed),
                collect_raw_data=False,
            )
        except Exception:  # noqa: S112 - the child reports a broken macro file
            continue
        for block in blocks:
            source = getattr(block, "full_block", None)
            if isinstance(source, str):
                with contextlib.suppress(Exception):
                    jinja.parse(source)
                with contextlib.suppress(Exception):  # caches the parse, then resolves
                    jinja_static.statically_extract_macro_calls(source, {}, None)
        between()


def _entry_point() -> Any:
    """The callable the ``dbt`` console script runs."""
    from importlib import metadata  # noqa: PLC0415 - only the server needs it

    for ep in metadata.entry_points(group="console_scripts", name="dbt"):
        return ep.load()
    from dbt.cli.main import cli  # noqa: PLC0415 - no console script registered

    return cli


def _read_request(conn: socket.socket) -> dict[str, Any]:
    conn.settimeout(10.0)
    data = b""
    while not data.endswith(b"\n") and len(data) < _REQUEST_LIMIT:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    request = json.loads(data.decode("utf-8"))
    if not isinstance(request, dict):
        raise ValueError("a request must be a JSON object")
    return request


def _child(
    request: dict[str, Any],
    out_fd: int,
    entry: Any,
    drop: list[socket.socket],
    drop_fds: list[int],
    *,
    early: bool = False,
) -> NoReturn:
    """In the forked child: become a fresh dbt process, run it, exit with its code. It never
    returns: a failure anywhere (a cwd that is gone) ends the child, not the server's loop.
    ``early``: forked before the server's warm ended (see :func:`_accept`)."""
    try:
        if early:  # the server's heap so far, out of this child's collector's reach
            _freeze(collect=False)
        for fd in drop_fds:  # the output pipes of requests the server holds
            os.close(fd)
        _become(request, out_fd, drop)
        module = request.get("module")
        if module is None:
            entry()
        else:  # one of the kit's modules that needs dbt imported (``python -m MODULE``)
            runpy.run_module(str(module), run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # reported as the interpreter would
        with contextlib.suppress(Exception):
            traceback.print_exc()
        code = 1
    try:
        _leave(code)
    finally:
        os._exit(1)  # only when leaving itself failed


def _become(request: dict[str, Any], out_fd: int, drop: list[socket.socket]) -> None:
    """The child's session, descriptors, signals, env, cwd and argv, as a fresh dbt's."""
    os.setsid()
    for sock in drop:  # the server's sockets (closed through their objects: no stale fd)
        sock.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    for fd in {devnull, out_fd} - {0, 1, 2}:
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.chdir(str(request["cwd"]))
    sys.argv = [str(a) for a in request["argv"]]


def _exit_code(value: object) -> int:
    """The exit status the interpreter makes of ``SystemExit(value)``."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _leave(code: int) -> NoReturn:
    """Exit as the interpreter would, without tearing its modules down."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:  # joins non-daemon threads, as the interpreter's exit does
        shutdown()
    atexit._run_exitfuncs()
    # io's C base, not the ABC io.IOBase: an ABC's isinstance over every object of a
    # dbt run took 0.3 s (the server's own objects are frozen, out of the scan)
    for obj in [*_SERVER_FILES, *gc.get_objects()]:
        if isinstance(obj, _io._IOBase):
            with contextlib.suppress(Exception):
                if not obj.closed and obj.writable():
                    obj.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code & 0xFF)  # what the OS keeps of any status, -1 included (255)


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode("utf-8") + b"\n")


#: a request taken while the server warms, forked once it is warm: (request, conn, pipe)
_Held = tuple[dict[str, Any], socket.socket, int]


class _KitGone(Exception):  # noqa: N818 - an event, not an error
    """The kit closed its end while the server warmed."""


def _accept(
    control: socket.socket,
    entry: Any,
    children: dict[int, socket.socket],
    held: list[_Held] | None = None,
) -> bool:
    """Take one request off ``control`` and fork its child; False once the kit is gone.
    While the server warms (``held`` given) only an urgent request is forked at once (its
    child warms for itself); the others wait in ``held`` for the warm to end."""
    try:
        _, fds, _, _ = socket.recv_fds(control, 1, 2)
    except OSError:
        fds = []
    if not fds:
        return False  # the kit closed its end: the run is over
    conn = socket.socket(fileno=fds[0])
    out_fd = fds[1] if len(fds) > 1 else -1
    try:
        request = _read_request(conn)
        if out_fd < 0:
            raise ValueError("no output pipe came with the request")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _refuse(conn, out_fd, exc)
        return True
    if held is not None and request.get("urgent") is not True:
        held.append((request, conn, out_fd))
    else:
        _spawn(control, entry, children, (request, conn, out_fd), held or [], warm=held is None)
    return True


def _refuse(conn: socket.socket, out_fd: int, exc: BaseException) -> None:
    _send(conn, {"error": f"{type(exc).__name__}: {exc}"})
    conn.close()
    if out_fd >= 0:
        os.close(out_fd)


def _spawn(
    control: socket.socket,
    entry: Any,
    children: dict[int, socket.socket],
    job: _Held,
    held: list[_Held],
    *,
    warm: bool,
) -> None:
    """Fork ``job``'s child; it closes what belongs to the server and to ``held`` requests
    (a pipe of theirs kept open would hold back the end of their output)."""
    request, conn, out_fd = job
    try:
        if threading.active_count() > 1:  # a fork would copy another thread's locks
            raise OSError("the launcher is no longer single-threaded; run dbt plainly")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(
                request,
                out_fd,
                entry,
                [control, conn, *children.values(), *(c for _, c, _ in held)],
                [fd for _, _, fd in held],
                early=not warm,
            )
        if not warm:
            _URGENT[0] += 1
        children[pid] = conn
        _send(conn, {"pid": pid})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _refuse(conn, out_fd, exc)
        return
    os.close(out_fd)  # the parent's copy; the child has its own (never gets here)


def _reap(children: dict[int, socket.socket]) -> None:
    """Tell the kit how each finished child ended."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        done = children.pop(pid, None)
        if done is not None:
            _send(done, {"exit": os.waitstatus_to_exitcode(status)})
            done.close()


def _warm_serving(
    adapter_type: str | None,
    control: socket.socket,
    entry: Any,
    children: dict[int, socket.socket],
) -> bool:
    """:func:`_warm`, taking requests meanwhile: an urgent one is forked at once, the rest
    once the warm ends; False when the kit went away."""
    held: list[_Held] = []

    def between() -> None:
        while select.select([control], [], [], 0)[0]:
            if not _accept(control, entry, children, held):
                raise _KitGone
        _reap(children)

    try:
        _warm(adapter_type, between)
    except _KitGone:  # no one to run the held requests for
        for _, conn, out_fd in held:
            conn.close()
            os.close(out_fd)
        return False
    while held:
        job = held.pop(0)
        _spawn(control, entry, children, job, held, warm=True)
    return True


def _serve(control: socket.socket, entry: Any, children: dict[int, socket.socket]) -> None:
    while True:
        ready, _, _ = select.select([control], [], [], 0.05)
        if ready and not _accept(control, entry, children):
            break
        _reap(children)
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    # Like the console script: the script's own folder first on sys.path, not this one's.
    sys.path[0] = os.path.dirname(sys.executable)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kit ends this process, not a ^C
    started = time.monotonic()
    for name in _PRELOAD:
        __import__(name)
    entry = _entry_point()
    adapter_type = sys.argv[2] if len(sys.argv) > 2 else None
    if adapter_type == _TYPE_LATER:
        adapter_type = _told_type(control)
    children: dict[int, socket.socket] = {}
    if not _warm_serving(adapter_type, control, entry, children):
        for pid in children:  # the kit went away while the server warmed
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        return
    print(
        f"floe dbt launcher: dbt imported and warmed for {adapter_type or 'no adapter'} in "
        f"{time.monotonic() - started:.2f} s ({_URGENT[0]} urgent request(s) forked before)",
        file=sys.stderr,
    )
    _serve(control, entry, children)


if __name__ == "__main__":
    main()

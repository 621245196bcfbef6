"""The no-I/O sandbox: catch sockets, subprocesses, file writes and database connections.

The contract says every plugin method except ``validate_connection`` is pure: it
builds profiles, package lists, resource specs and SQL text, and touches nothing.
A method that opens a socket or a database works on a developer's laptop and then
hangs or fails in a locked-down CI runner, so the kit catches it here instead (FR-004a).

How: one audit hook (``sys.addaudithook``) installed once per process sees the
interpreter's own events (``socket.connect``, ``subprocess.Popen``, ``open`` ...).
Audit hooks cannot be removed, so the hook is gated: a plain global counter makes it
cost one comparison while no sandbox is open anywhere, and a context variable limits
it to the thread (or asyncio task) that opened the sandbox. DuckDB raises no audit
events, so while a sandbox is open ``duckdb.connect`` and friends (and the connect
functions of other already-imported drivers) are wrapped; they are restored when the
last sandbox closes.

>>> from floe_compute_kit.conformance.sandbox import call_sandboxed
>>> result, violations = call_sandboxed(sorted, [3, 1, 2], method="get_required_dbt_packages")
>>> result, violations
([1, 2, 3], [])

Known limits: I/O from threads that the plugin starts itself is not attributed (new
threads start with an empty context), and methods called on a driver connection that
already existed before the sandbox opened are not seen.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import os
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType, ModuleType, TracebackType
from typing import Any, ClassVar, Final, TypeVar

from floe_compute_kit.errors import IOViolationError

__all__ = [
    "EXEMPT_METHODS",
    "Recorder",
    "Violation",
    "call_sandboxed",
    "forbid_io",
]

#: Plugin methods that may do I/O; every other method runs inside the sandbox.
EXEMPT_METHODS: Final = frozenset({"validate_connection"})

_R = TypeVar("_R")


@dataclass(frozen=True)
class Violation:
    """One forbidden call: its kind, the call as text, and the frames that made it."""

    kind: str  # "socket" | "subprocess" | "file_write" | "db_connect"
    detail: str
    stack: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass
class Recorder:
    """An open sandbox. ``violations`` fills up as the guarded code runs."""

    method: str
    block: bool = True
    violations: list[Violation] = field(default_factory=list)
    _boundary: FrameType | None = field(default=None, init=False, repr=False, compare=False)
    _token: contextvars.Token[tuple[Recorder, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __enter__(self) -> Recorder:
        # The frame holding the ``with``: stack traces stop there, so they show
        # only what ran inside the sandbox.
        self._boundary = sys._getframe(1)
        _activate()
        self._token = _ACTIVE.set((*_ACTIVE.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)
            self._token = None
            _deactivate()
        self._boundary = None


def forbid_io(*, method: str, block: bool = True) -> Recorder:
    """A context manager that records (and, with ``block``, refuses) I/O in this thread.

    >>> import socket
    >>> with forbid_io(method="generate_dbt_profile", block=False) as rec:
    ...     _ = socket.getaddrinfo("localhost", 80)
    >>> [v.detail for v in rec.violations]
    ["socket.getaddrinfo('localhost', 80)"]

    With ``block=True`` (the default) the forbidden call raises IOViolationError
    (a PermissionError) before anything happens, so nothing is really written.
    """
    return Recorder(method=method, block=block)


def call_sandboxed(
    fn: Callable[..., _R], /, *args: Any, method: str, block: bool = True, **kwargs: Any
) -> tuple[_R, list[Violation]]:
    """Run ``fn`` in a sandbox opened in the calling thread; return its result and violations.

    Call this from the thread that runs the plugin (e.g. submit it to the worker).
    If ``fn`` raises, the exception propagates with the violations added as notes,
    so a plugin that turns our IOViolationError into its own error still shows why.
    """
    recorder = Recorder(method=method, block=block)
    try:
        with recorder:
            result = fn(*args, **kwargs)
    except BaseException as exc:
        for violation in recorder.violations:
            exc.add_note(f"floe sandbox ({method}): forbidden {violation}")
        raise
    return result, list(recorder.violations)


# --- process-wide state -------------------------------------------------------------

_ACTIVE: contextvars.ContextVar[tuple[Recorder, ...]] = contextvars.ContextVar(
    "floe_sandbox_active", default=()
)
_IN_HOOK = threading.local()
_LOCK = threading.Lock()


class _State:
    """Process-wide, changed only under _LOCK."""

    open_count = 0  # sandboxes open in any thread; the hook returns at once while this is 0
    hook_installed = False
    installed: tuple[str, ...] | None = None  # of _IMPORT_IF_INSTALLED, found once
    patches: ClassVar[list[tuple[ModuleType, str, Any]]] = []


def _activate() -> None:
    with _LOCK:
        if not _State.hook_installed:
            sys.addaudithook(_audit_hook)
            _State.hook_installed = True
        if _State.open_count == 0:
            _guard_drivers()
        _State.open_count += 1


def _deactivate() -> None:
    with _LOCK:
        _State.open_count -= 1
        if _State.open_count == 0:
            _unguard_drivers()


# --- audit events -------------------------------------------------------------------

_SOCKET_EVENTS: Final = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
_PROCESS_EVENTS: Final = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "pty.spawn",
    }
)
_WRITE_EVENTS: Final = frozenset(
    {
        "os.remove",
        "os.rmdir",
        "os.rename",
        "os.mkdir",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.chmod",
        "os.chown",
        "os.utime",
        "os.setxattr",
        "os.removexattr",
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "shutil.make_archive",
        "shutil.unpack_archive",
        "tempfile.mkstemp",
        "tempfile.mkdtemp",
    }
)
_DB_EVENTS: Final = frozenset({"sqlite3.connect"})
_KINDS: Final = {
    **dict.fromkeys(_SOCKET_EVENTS, "socket"),
    **dict.fromkeys(_PROCESS_EVENTS, "subprocess"),
    **dict.fromkeys(_WRITE_EVENTS, "file_write"),
    **dict.fromkeys(_DB_EVENTS, "db_connect"),
    "open": "file_write",
}
_WRITE_FLAGS: Final = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_IMPORTLIB_FILES: Final = frozenset(
    {"<frozen importlib._bootstrap_external>", "<frozen importlib._bootstrap>"}
)


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if not _State.open_count:
        return
    kind = _KINDS.get(event)
    if kind is None:
        return
    recorders = _ACTIVE.get()
    if not recorders or getattr(_IN_HOOK, "busy", False):
        return
    if event == "open" and not _is_write_open(args):
        return
    caller = sys._getframe(1)
    if _is_bookkeeping(event, args, caller):
        return
    _IN_HOOK.busy = True
    try:
        _report(kind, _describe(event, args), caller, recorders)
    finally:
        _IN_HOOK.busy = False


def _is_write_open(args: tuple[Any, ...]) -> bool:
    path, mode, flags = (*args, None, None, None)[:3]
    if isinstance(path, int):
        return False  # an fd that is already open; its creation was the event
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _is_bookkeeping(event: str, args: tuple[Any, ...], caller: FrameType) -> bool:
    """The interpreter's own writes: bytecode caches and import machinery."""
    if caller.f_code.co_filename in _IMPORTLIB_FILES:
        return True
    if event in _KINDS and _KINDS[event] == "file_write" and args:
        paths = [a for a in args[:2] if isinstance(a, str | bytes | os.PathLike)]
        return any(_is_bytecode_cache(p) for p in paths)
    return False


def _is_bytecode_cache(path: Any) -> bool:
    text = os.fsdecode(path)
    return "__pycache__" in text.replace("\\", "/").split("/")


#: which audit arguments make a readable call; the rest (socket objects, env) are noise.
_SHOWN_ARGS: Final[dict[str, tuple[int, ...]]] = {
    "socket.connect": (1,),
    "socket.bind": (1,),
    "socket.sendto": (1,),
    "socket.sendmsg": (1,),
    "socket.getaddrinfo": (0, 1),
    "subprocess.Popen": (1,),
    "os.exec": (0, 1),
    "os.posix_spawn": (0, 1),
    "os.spawn": (1, 2),
    "sqlite3.connect": (0,),
}


def _describe(event: str, args: tuple[Any, ...]) -> str:
    if event == "open":
        path, mode, flags = args
        if isinstance(mode, str):
            return f"open({os.fsdecode(path)!r}, {mode!r})"
        return f"os.open({os.fsdecode(path)!r}, {_flag_names(flags)})"
    picked = [args[i] for i in _SHOWN_ARGS.get(event, range(len(args))) if i < len(args)]
    shown = [
        repr(os.fsdecode(a)) if isinstance(a, bytes | os.PathLike) else repr(a) for a in picked
    ]
    return f"{event}({', '.join(s for s in shown if s != 'None')})"


def _flag_names(flags: int) -> str:
    names = [
        n
        for n in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC", "O_EXCL")
        if flags & getattr(os, n)
    ]
    return "|".join(names) or str(flags)


def _report(kind: str, detail: str, caller: FrameType, recorders: tuple[Recorder, ...]) -> None:
    frames = [
        (f, f.f_lineno)
        for f in _frames(caller, recorders[-1]._boundary)
        if os.path.normcase(f.f_code.co_filename) != _HERE
    ]
    frames.reverse()  # most recent call last, as in a traceback
    stack = "".join(traceback.StackSummary.extract(frames, lookup_lines=True).format()).rstrip()
    violation = Violation(kind=kind, detail=detail, stack=stack)
    for recorder in recorders:
        recorder.violations.append(violation)
    blocking = [r for r in recorders if r.block]
    if blocking:
        raise IOViolationError(
            kind, detail, method=blocking[-1].method, location=_plugin_frame(frames)
        )


# --- stacks -------------------------------------------------------------------------

_STDLIB: Final = tuple(
    {os.path.normcase(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
)
_HERE: Final = os.path.normcase(__file__)


def _frames(start: FrameType | None, boundary: FrameType | None) -> Iterator[FrameType]:
    """From the event up to and including the frame that opened the sandbox."""
    frame = start
    while frame is not None:
        yield frame
        if frame is boundary:
            return
        frame = frame.f_back


def _plugin_frame(frames: list[tuple[FrameType, int]]) -> str:
    """The innermost frame outside the standard library: the code that asked for I/O."""
    for frame, lineno in reversed(frames):
        path = os.path.normcase(frame.f_code.co_filename)
        if not path.startswith(_STDLIB) and not path.startswith("<"):
            return f"{frame.f_code.co_filename}:{lineno} in {frame.f_code.co_name}"
    return ""


# --- database drivers without audit events -----------------------------------------

#: module -> functions that open a connection or run SQL on a default one.
_DRIVER_FUNCTIONS: Final = {
    "duckdb": ("connect", "sql", "query", "execute", "executemany", "default_connection"),
    "psycopg": ("connect",),
    "psycopg2": ("connect",),
    "pymysql": ("connect",),
    "mysql.connector": ("connect",),
    "snowflake.connector": ("connect",),
    "pyodbc": ("connect",),
    "trino.dbapi": ("connect",),
    "redshift_connector": ("connect",),
    "databricks.sql": ("connect",),
    "clickhouse_connect": ("get_client",),
}


#: Drivers whose connect runs in C (no socket audit event) and that import quickly:
#: imported, if installed, when the first sandbox opens, so that a plugin's lazy
#: ``import psycopg`` inside a method still meets the guard. Others are guarded only
#: if already imported (importing them can take seconds).
_IMPORT_IF_INSTALLED: Final = ("duckdb", "psycopg", "psycopg2")


def _driver_modules() -> Iterator[ModuleType]:
    if _State.installed is None:
        _State.installed = tuple(
            name for name in _IMPORT_IF_INSTALLED if importlib.util.find_spec(name) is not None
        )
    for name in _State.installed:
        if name not in sys.modules:
            importlib.import_module(name)
    for name in _DRIVER_FUNCTIONS:
        module = sys.modules.get(name)
        if module is not None:
            yield module


def _guard_drivers() -> None:
    for module in _driver_modules():
        for attr in _DRIVER_FUNCTIONS[module.__name__]:
            original = getattr(module, attr, None)
            if callable(original):
                _State.patches.append((module, attr, original))
                setattr(module, attr, _guarded(f"{module.__name__}.{attr}", original))


def _unguard_drivers() -> None:
    while _State.patches:
        module, attr, original = _State.patches.pop()
        setattr(module, attr, original)


def _guarded(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guard(*args: Any, **kwargs: Any) -> Any:
        recorders = _ACTIVE.get()
        if recorders and not getattr(_IN_HOOK, "busy", False):
            shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
            _IN_HOOK.busy = True
            try:
                _report("db_connect", f"{name}({', '.join(shown)})", sys._getframe(1), recorders)
            finally:
                _IN_HOOK.busy = False
        return original(*args, **kwargs)

    guard.__floe_sandbox_original__ = original  # type: ignore[attr-defined]
    return guard

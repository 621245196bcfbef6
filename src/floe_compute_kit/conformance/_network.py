"""Loopback only: while the kit calls a plugin with configs it made up, no lookup or
connection leaves the machine.

Generated configs hold made-up host names; a plugin that resolves or connects to them
would send DNS queries and TCP handshakes to the outside world. Inside
:func:`loopback_only`, a process-wide audit hook refuses at once every name lookup of a
host that is not loopback (``socket.gaierror`` EAI_NONAME, as for an unknown name) and
every TCP/UDP connect or send to a non-loopback address (``PermissionError``). The
plugin sees a clear OSError and reports it; nothing waits on a resolver.

Covered: ``getaddrinfo``, ``gethostbyname(_ex)``, ``gethostbyaddr`` and ``getnameinfo``
(lookups); ``connect``/``connect_ex`` (hence ``create_connection``, http.client, urllib,
asyncio), ``sendto`` and ``sendmsg``. Only what Python's ``socket`` module does is seen: a
C driver that resolves names or opens sockets itself (libpq, DuckDB's httpfs) bypasses
audit hooks, so plugins should resolve in Python and hand the driver the address (the
postgres plugin passes libpq ``hostaddr``); tests/test_network_isolation.py watches the
real plugins' system calls with strace to prove nothing leaves.

A host the user allowed explicitly (the live target) passes: :func:`allow_hosts`, or the
``FLOE_CONFORMANCE_ALLOW_HOSTS`` environment variable (comma-separated), read when the
guard is first entered; names are resolved then, so their addresses pass too. Every
refusal is kept (the last 100) and :func:`refusals` returns them.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

__all__ = ["ALLOW_ENV", "allow_hosts", "guarded", "is_loopback", "loopback_only", "refusals"]

#: Hosts (names or addresses) the user allowed explicitly, comma-separated.
ALLOW_ENV: Final = "FLOE_CONFORMANCE_ALLOW_HOSTS"

_T = TypeVar("_T")
_LOOKUPS: Final = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
    }
)
_KEEP: Final = 100
_SENDS: Final = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_INET: Final = (socket.AF_INET, socket.AF_INET6)
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.", "localhost.localdomain"})
_state = {"active": 0, "installed": False, "env_read": False}
_allowed: set[str] = set()
_refused: list[str] = []
_lock = threading.Lock()


def _norm(host: object) -> str:
    text = host.decode("utf-8", "replace") if isinstance(host, bytes) else str(host)
    return text.strip("[]").split("%", 1)[0].lower().rstrip(".")


def allow_hosts(*hosts: str) -> None:
    """Let lookups of and connections to ``hosts`` (and their addresses) through the guard.

    For the live target the user named; resolving a name here is the one lookup the
    user asked for, made before the guard refuses others.
    """
    for host in hosts:
        name = _norm(host)
        if not name:
            continue
        _allowed.add(name)
        with contextlib.suppress(OSError, UnicodeError):
            for info in socket.getaddrinfo(name, None):
                _allowed.add(_norm(info[4][0]))


def refusals() -> list[str]:
    """What the guard refused in this process, oldest first (the last 100)."""
    return list(_refused)


def _passes(host: object) -> bool:
    return is_loopback(host) or (bool(_allowed) and _norm(host) in _allowed)


def _refuse(what: str) -> None:
    _refused.append(what)
    del _refused[:-_KEEP]


def is_loopback(host: object) -> bool:
    """True for None, 'localhost' and addresses in 127.0.0.0/8 or ::1."""
    if host is None:
        return True
    text = host.decode("utf-8", "replace") if isinstance(host, bytes) else str(host)
    text = text.strip("[]").split("%", 1)[0]
    if text.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state["active"]:
        return
    if event == "socket.getnameinfo" and args and isinstance(args[0], tuple):
        args = (args[0][0],)
        event = "socket.gethostbyaddr"
    if event in _LOOKUPS and args and not _passes(args[0]):
        _refuse(f"{event.removeprefix('socket.')}({args[0]!r})")
        raise socket.gaierror(
            socket.EAI_NONAME,
            f"name lookup of {args[0]!r} refused: the conformance kit allows only loopback "
            "hosts while it calls a plugin with generated configs",
        )
    if event in _SENDS and len(args) >= 2:
        sock, address = args[0], args[-1]
        family = getattr(sock, "family", None)
        if family in _INET and isinstance(address, tuple) and not _passes(address[0]):
            _refuse(f"{event.removeprefix('socket.')}({address[0]!r}, {address[1:2]})")
            raise PermissionError(
                errno.EACCES,
                f"connection to {address[0]!r} refused: the conformance kit allows only "
                "loopback addresses while it calls a plugin with generated configs",
            )


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse non-loopback lookups and connections in this process until exit."""
    with _lock:
        if not _state["env_read"]:
            _state["env_read"] = True
            allow_hosts(*(h for h in os.environ.get(ALLOW_ENV, "").split(",") if h.strip()))
        if not _state["installed"]:
            sys.addaudithook(_hook)  # cannot be removed: it stays inert while inactive
            _state["installed"] = True
        _state["active"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["active"] -= 1


def guarded(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` under :func:`loopback_only`."""
    with loopback_only():
        return fn(*args)

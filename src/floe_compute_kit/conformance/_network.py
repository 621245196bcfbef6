"""Loopback only: while the kit calls a plugin with configs it made up, no lookup or
connection leaves the machine.

Generated configs hold made-up host names; a plugin that resolves or connects to them
would send DNS queries and TCP handshakes to the outside world. Inside
:func:`loopback_only`, a process-wide audit hook refuses at once every name lookup of a
host that is not loopback (``socket.gaierror`` EAI_NONAME, as for an unknown name) and
every TCP/UDP connect or send to a non-loopback address (``PermissionError``). The
plugin sees a clear OSError and reports it; nothing waits on a resolver.

Only what Python's ``socket`` module does is seen: a C driver that resolves names
itself (libpq, for one) bypasses audit hooks, so plugins should resolve in Python and
hand the driver the address (the postgres plugin passes libpq ``hostaddr``).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

__all__ = ["guarded", "is_loopback", "loopback_only"]

_T = TypeVar("_T")
_LOOKUPS: Final = frozenset(
    {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
)
_SENDS: Final = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_INET: Final = (socket.AF_INET, socket.AF_INET6)
_LOCAL_NAMES: Final = frozenset({"localhost", "localhost.", "localhost.localdomain"})
_state = {"active": 0, "installed": False}
_lock = threading.Lock()


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
    if event in _LOOKUPS and args and not is_loopback(args[0]):
        raise socket.gaierror(
            socket.EAI_NONAME,
            f"name lookup of {args[0]!r} refused: the conformance kit allows only loopback "
            "hosts while it calls a plugin with generated configs",
        )
    if event in _SENDS and len(args) >= 2:
        sock, address = args[0], args[-1]
        family = getattr(sock, "family", None)
        if family in _INET and isinstance(address, tuple) and not is_loopback(address[0]):
            raise PermissionError(
                errno.EACCES,
                f"connection to {address[0]!r} refused: the conformance kit allows only "
                "loopback addresses while it calls a plugin with generated configs",
            )


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse non-loopback lookups and connections in this process until exit."""
    with _lock:
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

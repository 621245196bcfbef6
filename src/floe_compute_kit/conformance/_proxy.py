"""A loopback TCP proxy that misbehaves on purpose, for the live health checks.

A health check that reports HEALTHY without asking the server, a constant latency, or
a hang when the network drops packets only shows itself when the network misbehaves.
:class:`FaultProxy` sits between the plugin and the live target (both on loopback) and
adds a known delay, or refuses, resets (RST) or blackholes every connection.

>>> with FaultProxy(("127.0.0.1", 1), Fault.REFUSE) as proxy:
...     proxy.host
'127.0.0.1'
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Final

__all__ = ["Fault", "FaultProxy"]

_CHUNK: Final = 65536
_LOOPBACK: Final = "127.0.0.1"


class Fault(StrEnum):
    """What the proxy does with each connection."""

    #: forward, after ``delay_s`` (the answer to the client's first bytes is late by it)
    DELAY = "delay"
    #: nothing listens: a connect is refused
    REFUSE = "refuse"
    #: accept, then close with SO_LINGER 0, so the client sees a reset (RST)
    RESET = "reset"
    #: accept and read, never answer: packets vanish, as behind a dropping firewall
    BLACKHOLE = "blackhole"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class FaultProxy:
    """A proxy on 127.0.0.1 in front of ``upstream``; a context manager.

    Refuses a non-loopback upstream with ValueError: the kit never forwards off the
    machine. ``connections`` counts the connections the proxy accepted, so a check
    can tell a health check that connected from one that did not.
    """

    def __init__(self, upstream: tuple[str, int], fault: Fault, *, delay_s: float = 0.0) -> None:
        host, port = upstream
        if not _is_loopback(host):
            raise ValueError(
                f"the proxy forwards only to loopback targets; got host {host!r} "
                "(use 127.0.0.1, ::1 or localhost)"
            )
        self.upstream = (_LOOPBACK if host == "localhost" else host.strip("[]"), int(port))
        self.fault = fault
        self.delay_s = delay_s
        self.host = _LOOPBACK
        self.port = 0
        self.connections = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __enter__(self) -> FaultProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((_LOOPBACK, 0))
        self.port = listener.getsockname()[1]
        if self.fault is Fault.REFUSE:
            listener.close()  # the port is free again: a connect there is refused
            return self
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, close every socket and wait for the proxy's threads."""
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2.0)

    # --- internals ------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="floe-proxy")
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.append(sock)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            self._track(client)
            if self.fault is Fault.RESET:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            elif self.fault is Fault.BLACKHOLE:
                self._spawn(self._swallow, client)
            else:
                self._spawn(self._forward, client)

    def _swallow(self, client: socket.socket) -> None:
        client.settimeout(0.2)
        while not self._closed.is_set():
            try:
                if not client.recv(_CHUNK):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _forward(self, client: socket.socket) -> None:
        if self._closed.wait(self.delay_s):
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5.0)
        except OSError:
            with contextlib.suppress(OSError):
                client.close()
            return
        server.settimeout(None)
        self._track(server)
        self._spawn(self._pump, server, client)
        self._pump(client, server)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

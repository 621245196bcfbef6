"""Real servers on loopback that tests and live-target checks start and stop.

Each starter is a context manager yielding a small frozen description of the server
(how to reach it, plus ``stop()``/``start()``), so a test can stop a server under a
health watcher and start it again.
"""

from __future__ import annotations

from floe_compute_kit.conformance.services.postgres import (
    INSTALL_HINT,
    PostgresNotFoundError,
    PostgresServer,
    PostgresStartError,
    find_bindir,
    postgres_server,
)

__all__ = [
    "INSTALL_HINT",
    "PostgresNotFoundError",
    "PostgresServer",
    "PostgresStartError",
    "find_bindir",
    "postgres_server",
]

"""validate_connection for PostgreSQL: psycopg2, read-only, inside the 5 s budget.

The host is resolved here, in Python, and libpq is handed the address (``hostaddr``):
so a lookup is one auditable ``socket.getaddrinfo`` call that a sandbox can refuse,
it is bounded by the budget, and libpq never resolves a name on its own.
Every verdict names what is wrong and what to do, and never echoes a credential.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any, Final

from floe_compute_postgres.config import PostgresConfig
from floe_compute_postgres.profile import env_var_name

__all__ = ["BUDGET_S", "Verdict", "check", "classify"]

#: The whole health check, lookup and connect included, fits the contract's 5 s budget.
BUDGET_S: Final = 4.5
_LOOKUP_S: Final = 1.5
#: A server that accepts and never answers is given up on after this long.
_CONNECT_S: Final = 3
_STATEMENT_MS: Final = 2000


@dataclass(frozen=True)
class Verdict:
    """Why the server cannot be used: a kind (for spans and metrics) and a message."""

    kind: str
    message: str


class Unhealthy(Exception):  # noqa: N818 - an outcome carried out of nested steps
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


def _resolve(host: str, port: int) -> str:
    """One address for ``host``; Unhealthy when the name is unknown or the lookup hangs."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None and address.is_loopback:
        # Needs no lookup. Any other address still goes through Python's getaddrinfo,
        # where the kit's loopback guard sees it before libpq (C) would connect.
        return str(address)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    pool.shutdown(wait=False)
    try:
        infos = future.result(timeout=_LOOKUP_S)
    except concurrent.futures.TimeoutError:
        raise Unhealthy(
            Verdict(
                "lookup_timeout",
                f"looking up host {host!r} did not finish within {_LOOKUP_S:g} s; check the "
                "machine's DNS settings, or set `host` to the server's IP address",
            )
        ) from None
    except OSError as exc:  # socket.gaierror, or a sandbox refusing the lookup
        raise Unhealthy(
            Verdict(
                "unknown_host",
                f"host {host!r} cannot be resolved ({exc.strerror or exc}); correct `host` "
                "in the compute config (a host name this machine can resolve, or an IP address)",
            )
        ) from None
    # IPv4 first: a server listening on 127.0.0.1 only is the common case for "localhost".
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0])


def classify(text: str, config: PostgresConfig) -> Verdict:  # noqa: PLR0911 - one return per verdict
    """The verdict for libpq's error ``text``; the message never repeats a credential."""
    where = f"{config.host}:{config.port}"
    lowered = text.lower()
    if "could not translate host name" in lowered:
        return Verdict(
            "unknown_host",
            f"host {config.host!r} cannot be resolved; correct `host` in the compute config "
            "(a host name this machine can resolve, or an IP address)",
        )
    if "connection refused" in lowered:
        return Verdict(
            "refused",
            f"connection refused at {where}: no PostgreSQL server listens there; start the "
            "server, or correct `host`/`port` in the compute config",
        )
    if "timeout expired" in lowered or "timed out" in lowered:
        return Verdict(
            "timeout",
            f"the server at {where} did not answer within the connect timeout; check that "
            "it is up and not overloaded, and that no firewall drops the traffic",
        )
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return Verdict(
            "auth_failed",
            f"authentication failed for user {config.user!r} at {where}: the password is "
            f"wrong or missing; set credentials.password (exported to dbt as "
            f"{env_var_name('password')}) to the role's password",
        )
    if "authentication failed" in lowered or "pg_hba.conf" in lowered:
        return Verdict(
            "auth_failed",
            f"the server at {where} refused user {config.user!r} for database "
            f"{config.dbname!r} (authentication / pg_hba.conf); ask its administrator to "
            "allow this role, or correct `user`",
        )
    if "does not exist" in lowered and "database" in lowered:
        return Verdict(
            "database_missing",
            f"database {config.dbname!r} does not exist on {where}; create it (CREATE "
            "DATABASE) or correct `dbname`; validation never creates it",
        )
    if "does not exist" in lowered and "role" in lowered:
        return Verdict(
            "auth_failed",
            f"role {config.user!r} does not exist on {where}; correct `user`",
        )
    if "ssl" in lowered:
        return Verdict(
            "ssl",
            f"the TLS handshake with {where} failed under sslmode={config.sslmode!r}; "
            "choose an sslmode the server supports",
        )
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return Verdict("connect_failed", f"cannot connect to {where}: {first}")


def _scrubbed(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "**********")
    return text


def check(config: PostgresConfig, started: float) -> str:
    """Connect read-only and run ``SELECT 1``; returns the server version. Raises Unhealthy."""
    import psycopg2  # noqa: PLC0415 - lazy: plugin discovery must not load the driver

    address = _resolve(config.host, config.port)
    password = config.credentials.get("password")
    secret = password.get_secret_value() if password is not None else ""
    remaining = BUDGET_S - (time.perf_counter() - started)
    params: dict[str, Any] = {
        "host": config.host,
        "hostaddr": address,
        "port": config.port,
        "user": config.user,
        "dbname": config.dbname,
        "password": secret,
        "sslmode": config.sslmode,
        # libpq's minimum is 2 s; whole seconds, within what is left of the budget.
        "connect_timeout": max(2, min(config.connect_timeout, _CONNECT_S, int(remaining))),
        "application_name": "floe-health",
        "options": f"-c default_transaction_read_only=on -c statement_timeout={_STATEMENT_MS}",
    }
    try:
        con = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        raise Unhealthy(classify(_scrubbed(str(exc), [secret]), config)) from None
    try:
        with con.cursor() as cur:
            cur.execute("SELECT 1, current_setting('server_version')")
            row = cur.fetchone()
        con.rollback()
    except psycopg2.Error as exc:
        text = _scrubbed(str(exc).strip().splitlines()[0], [secret])
        raise Unhealthy(
            Verdict("query_failed", f"connected, but SELECT 1 failed: {text}")
        ) from None
    finally:
        con.close()
    return str(row[1]) if row else "?"

"""The loopback PostgreSQL starter: a real server, reachable only as documented (KIT-110)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg2
import pytest

from floe_compute_kit.conformance.services import (
    PostgresNotFoundError,
    PostgresServer,
    find_bindir,
    postgres_server,
)

pytestmark = pytest.mark.requirement("KIT-110")


def _connect(pg: PostgresServer, **override: object) -> object:
    return psycopg2.connect(**pg.params(**override))


def test_the_server_takes_the_role_by_password_on_loopback_only(
    floe_postgres: PostgresServer,
) -> None:
    con = _connect(floe_postgres)
    try:
        cur = con.cursor()  # type: ignore[attr-defined]
        cur.execute(
            "select current_user, current_database(), host(inet_server_addr()), "
            "current_setting('listen_addresses'), current_setting('password_encryption')"
        )
        assert cur.fetchone() == ("floe", "floe", "127.0.0.1", "127.0.0.1", "scram-sha-256")
    finally:
        con.close()  # type: ignore[attr-defined]
    assert floe_postgres.host == "127.0.0.1"
    assert floe_postgres.password not in repr(floe_postgres)


def test_a_wrong_password_is_refused(floe_postgres: PostgresServer) -> None:
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(floe_postgres, password="not-the-password")


def test_the_cluster_belongs_to_an_unprivileged_user(floe_postgres: PostgresServer) -> None:
    assert floe_postgres.datadir is not None
    owner = floe_postgres.datadir.stat().st_uid
    assert owner != 0 or os.geteuid() != 0
    assert (floe_postgres.datadir / "postmaster.pid").exists()


def test_env_names_every_connection_setting(floe_postgres: PostgresServer) -> None:
    env = floe_postgres.env()
    assert env == {
        "FLOE_POSTGRES_HOST": "127.0.0.1",
        "FLOE_POSTGRES_PORT": str(floe_postgres.port),
        "FLOE_POSTGRES_USER": "floe",
        "FLOE_POSTGRES_DBNAME": "floe",
        "FLOE_POSTGRES_PASSWORD": floe_postgres.password,
    }


def test_stop_refuses_connections_and_start_takes_them_again_on_the_same_port() -> None:
    with postgres_server(dbname="watched") as pg:
        pg.stop()
        with pytest.raises(psycopg2.OperationalError, match="refused"):
            _connect(pg)
        pg.start()
        con = _connect(pg)
        con.close()  # type: ignore[attr-defined]
        root = pg.datadir.parent if pg.datadir else None
    assert root is not None
    assert not root.exists(), "the cluster's temp dir is removed on exit"


def test_missing_binaries_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFoundError, match=r"apt-get install postgresql"):
        find_bindir(path=str(tmp_path), pattern=str(tmp_path / "nothing" / "*" / "bin"))


def test_the_binaries_are_found_in_one_release_directory() -> None:
    bindir = find_bindir()
    for name in ("initdb", "pg_ctl", "postgres", "psql"):
        assert (bindir / name).is_file()


def test_the_runner_exports_a_live_server_to_a_command() -> None:
    from floe_compute_kit.conformance.services.__main__ import main

    probe = (
        "import os, psycopg2; e = os.environ; psycopg2.connect(host=e['FLOE_POSTGRES_HOST'], "
        "port=e['FLOE_POSTGRES_PORT'], user=e['FLOE_POSTGRES_USER'], "
        "dbname=e['FLOE_POSTGRES_DBNAME'], password=e['FLOE_POSTGRES_PASSWORD']).close(); "
        "raise SystemExit(3)"
    )
    # 3, not 0: the command connected, and its own exit code is passed through
    assert main(["postgres", "--", sys.executable, "-c", probe]) == 3

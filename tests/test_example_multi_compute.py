"""examples/multi-compute builds on DuckDB, PostgreSQL and Spark, each transform on its own.

The example is copied as a user would use it, pointed at the loopback PostgreSQL server
the test session runs, and built with its one documented command. Then each engine is
asked what it holds: exactly its own transform's table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multi-compute"

pytestmark = [
    pytest.mark.requirement("US3-AS1", "US3"),
    pytest.mark.requirement("US4-AS1", "US4"),
    pytest.mark.slow,
]


def _copy(tmp_path: Path, server: Any) -> Path:
    root = tmp_path / "multi-compute"
    shutil.copytree(EXAMPLE, root)
    manifest = root / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8").replace("port: 5432", f"port: {server.port}")
    text = text.replace("user: floe", f"user: {server.user}").replace(
        "dbname: floe", f"dbname: {server.dbname}"
    )
    text = text.replace("    spark:\n", f"    spark:\n      home: {root / 'spark-home'}\n")
    manifest.write_text(text, encoding="utf-8")
    return root


def _env(server: Any) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "FLOE_POSTGRES_PASSWORD": server.password,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def test_the_example_builds_each_transform_on_its_own_compute(
    tmp_path: Path, floe_postgres: Any
) -> None:
    import psycopg2

    root = _copy(tmp_path, floe_postgres)
    done = subprocess.run(
        [str(root / "build"), "dev"],
        cwd=root,
        env=_env(floe_postgres),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    profiles = (root / "profiles.yml").read_text(encoding="utf-8")
    assert floe_postgres.password not in profiles
    assert "FLOE_POSTGRES_PASSWORD" in profiles

    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select table_name from information_schema.tables").fetchall()
        tables = {r[0] for r in rows}
        total = con.execute("select sum(amount) from stg_orders").fetchone()
    assert tables == {"stg_orders"}
    assert total == (49,)

    with psycopg2.connect(**floe_postgres.params()) as con, con.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        )
        pg_tables = {r[0] for r in cur.fetchall()}
        cur.execute("select customer, total from ledger_totals order by customer")
        ledger = cur.fetchall()
    assert pg_tables == {"ledger_totals"}
    assert ledger == [("ada", 42), ("grace", 7)]

    warehouse = {p.name for p in (root / "spark-home").rglob("*") if p.is_dir()}
    assert "rollup_counts" in warehouse
    assert "stg_orders" not in warehouse
    assert "ledger_totals" not in warehouse


def test_parity_and_governance_still_fire_on_the_example(
    tmp_path: Path, floe_postgres: Any
) -> None:
    root = _copy(tmp_path, floe_postgres)
    floe = root / "floe.yaml"
    floe.write_text(
        floe.read_text(encoding="utf-8").replace(
            "  staging: {}\n", "  staging:\n    transforms:\n      ledger: {compute: duckdb}\n"
        )
        + "",
        encoding="utf-8",
    )
    compile_cmd = [str(Path(sys.executable).with_name("floe-compute")), "compile", "floe.yaml"]
    parity = subprocess.run(
        compile_cmd, cwd=root, env=_env(floe_postgres), capture_output=True, text=True, check=False
    )
    assert parity.returncode == 1, parity.stdout + parity.stderr
    assert "ledger" in parity.stdout + parity.stderr
    assert "different computes" in parity.stdout + parity.stderr

    floe.write_text(
        (EXAMPLE / "floe.yaml")
        .read_text(encoding="utf-8")
        .replace("compute: spark", "compute: snowflake"),
        encoding="utf-8",
    )
    governance = subprocess.run(
        compile_cmd, cwd=root, env=_env(floe_postgres), capture_output=True, text=True, check=False
    )
    out = governance.stdout + governance.stderr
    assert governance.returncode == 1, out
    assert "snowflake" in out
    assert "duckdb, postgres, spark" in out

"""What the Iceberg catalog fixture costs, against baselines measured in the same process.

Run: python bench/bench_iceberg_catalog.py [rounds]
Prints medians of:
- starting and stopping the local catalog, against starting an interpreter that only
  imports pyiceberg's SqlCatalog (the floor for any Python catalog process);
- one DuckDB INSERT + SELECT through the catalog, against the same on a local table;
- importing the fixture module (what every pytest run pays), against pytest + the kit.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import duckdb_extensions
from _goals import baseline, figure, verdict

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit.conformance.iceberg import iceberg_rest_catalog


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def interpreter(statement: str) -> Callable[[], object]:
    return lambda: subprocess.run([sys.executable, "-c", statement], check=True)


def start_stop() -> None:
    with iceberg_rest_catalog():
        pass


#: Starting the local catalog may cost this many times an interpreter that only imports
#: pyiceberg's SqlCatalog: the rest is the HTTP server and the readiness probe.
START_GOAL = 2.0
#: The light fixture module every pytest run imports (the pytest11 goal, issue 14).
FIXTURE_GOAL_MS = 10.0


def fixture_import_ms() -> float:
    """``-X importtime``'s cumulative figure for the fixture module, after pytest."""
    module = "floe_compute_kit.conformance._iceberg_fixtures"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import pytest, {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000.0
    return 0.0


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    floor = median_ms(interpreter("from pyiceberg.catalog.sql import SqlCatalog"), rounds)
    start = median_ms(start_stop, rounds)
    baseline("interpreter importing SqlCatalog, median", floor, "ms", "the floor of a catalog")
    baseline("local catalog start + stop, median", start, "ms", "for the ratio")
    figure("ratio catalog start / floor", start / floor, "x", START_GOAL)

    # pytest is loaded in any run that loads the fixture, so it is in the baseline.
    kit = median_ms(interpreter("import pytest, floe_compute_kit"), rounds)
    machinery = median_ms(
        interpreter("import pytest, floe_compute_kit.conformance.iceberg"), rounds
    )
    baseline("process: import pytest, floe_compute_kit", kit, "ms", "the process below")
    baseline("process: + conformance.iceberg", machinery, "ms", "only when a catalog is used")
    figure(
        "fixture module import (-X importtime)",
        min(fixture_import_ms() for _ in range(rounds)),
        "ms",
        FIXTURE_GOAL_MS,
    )

    with iceberg_rest_catalog() as endpoint, tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(config={"extension_directory": str(Path(tmp))})
        for name in ("avro", "httpfs", "iceberg"):
            duckdb_extensions.import_extension(name, con=con)
        statements = DuckDBComputePlugin().get_catalog_attachment_sql(
            endpoint.catalog_config("lake")
        )
        for statement in statements or []:
            con.execute(statement)
        con.execute("CREATE SCHEMA lake.bench")
        con.execute("CREATE TABLE lake.bench.t (id INTEGER)")
        con.execute("CREATE TABLE local_t (id INTEGER)")

        def iceberg_round() -> None:
            con.execute("INSERT INTO lake.bench.t VALUES (1)")
            con.execute("SELECT count(*) FROM lake.bench.t").fetchall()

        def local_round() -> None:
            con.execute("INSERT INTO local_t VALUES (1)")
            con.execute("SELECT count(*) FROM local_t").fetchall()

        local = median_ms(local_round, rounds * 4)
        iceberg = median_ms(iceberg_round, rounds * 4)
        con.close()
    baseline("DuckDB INSERT+SELECT, local table, median", local, "ms", "the ratio's base")
    baseline("DuckDB INSERT+SELECT, Iceberg table, median", iceberg, "ms", "REST + files")
    baseline("ratio Iceberg / local", iceberg / local, "x", "no goal: an Iceberg commit is I/O")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

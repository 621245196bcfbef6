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


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    floor = median_ms(interpreter("from pyiceberg.catalog.sql import SqlCatalog"), rounds)
    start = median_ms(start_stop, rounds)
    print(f"interpreter importing SqlCatalog      median: {floor:9.1f} ms")
    print(f"local catalog start + stop            median: {start:9.1f} ms")
    print(f"ratio                                          {start / floor:9.2f}")

    # pytest is loaded in any run that loads the fixture, so it is in the baseline.
    kit = median_ms(interpreter("import pytest, floe_compute_kit"), rounds)
    fixture = median_ms(interpreter("import pytest, floe_compute_kit.conformance.iceberg"), rounds)
    print(f"import pytest, floe_compute_kit       median: {kit:9.1f} ms")
    print(f"import pytest, ...conformance.iceberg median: {fixture:9.1f} ms")
    print(f"ratio                                          {fixture / kit:9.2f}")

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
    print(f"DuckDB INSERT+SELECT, local table     median: {local:9.2f} ms")
    print(f"DuckDB INSERT+SELECT, Iceberg table   median: {iceberg:9.2f} ms")
    print(f"ratio                                          {iceberg / local:9.1f}")


if __name__ == "__main__":
    main()

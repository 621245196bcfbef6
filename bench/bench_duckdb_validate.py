"""validate_connection(":memory:") against a bare DuckDB round trip, in one process.

Run: python bench/bench_duckdb_validate.py [rounds]
Prints both medians and their ratio (goal: <= 1.2), and the cold-start cost of
importing the plugin, measured in fresh interpreters against an empty one.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig

GOAL = 1.2


def bare() -> None:
    con = duckdb.connect(":memory:")
    con.execute("SELECT 1").fetchall()
    con.close()


def timed(fn: object, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def cold_import(statement: str, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    plugin = DuckDBComputePlugin()
    config = DuckDBConfig()

    def validate() -> None:
        result = plugin.validate_connection(config)
        assert result.status == "healthy", result

    for _ in range(10):  # warm-up: imports, first connections
        bare()
        validate()
    # interleave in blocks so that machine load hits both sides alike
    bare_ms: list[float] = []
    validate_ms: list[float] = []
    block = 10
    for _ in range(max(1, rounds // block)):
        bare_ms += timed(bare, block)
        validate_ms += timed(validate, block)
    bare_median = statistics.median(bare_ms)
    validate_median = statistics.median(validate_ms)
    ratio = validate_median / bare_median
    print(f"rounds: {len(bare_ms)} each")
    print(f"bare duckdb connect+SELECT 1+close  median: {bare_median:8.3f} ms")
    print(f"validate_connection(':memory:')     median: {validate_median:8.3f} ms")
    print(f"ratio: {ratio:.3f} (goal <= {GOAL}) -> {'OK' if ratio <= GOAL else 'OVER GOAL'}")

    # the 5 s budget, on the slowest healthy path: iceberg loaded from its package file
    with tempfile.TemporaryDirectory() as tmp:
        heavy = DuckDBConfig(extensions=["iceberg"], extension_directory=f"{tmp}/ext")
        heavy_ms = timed(lambda: plugin.validate_connection(heavy), 10)
        path = f"{tmp}/bench.duckdb"
        with duckdb.connect(path) as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
        on_file = DuckDBConfig(path=path)
        file_ms = timed(lambda: plugin.validate_connection(on_file), 50)
    print(f"validate_connection(file)           median: {statistics.median(file_ms):8.3f} ms")
    print(
        f"validate_connection(+iceberg)       median: {statistics.median(heavy_ms):8.3f} ms, "
        f"max {max(heavy_ms):.1f} ms (budget 5000 ms)"
    )

    empty = cold_import("pass")
    plugin_import = cold_import("import floe_compute_duckdb")
    with_duckdb = cold_import("import floe_compute_duckdb, duckdb")
    print(f"cold start, empty interpreter            median: {empty:8.1f} ms")
    print(
        f"cold start, import floe_compute_duckdb    median: {plugin_import:8.1f} ms "
        f"(+{plugin_import - empty:.1f} ms)"
    )
    print(
        f"cold start, + import duckdb (first call) median: {with_duckdb:8.1f} ms "
        f"(+{with_duckdb - empty:.1f} ms)"
    )


if __name__ == "__main__":
    main()

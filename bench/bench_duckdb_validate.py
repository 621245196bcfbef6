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
from _goals import baseline, figure, verdict

from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig

GOAL = 1.2
BUDGET_MS = 5000.0
#: Importing the plugin must not load these: DuckDB and dbt load on a method's first call.
HEAVY = ("duckdb", "dbt", "duckdb_extensions")


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


def heavy_modules_loaded() -> list[str]:
    probe = (
        "import sys, floe_compute_duckdb; "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def main() -> int:
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
    baseline("bare duckdb connect+SELECT 1+close, median", bare_median, "ms", "the ratio's base")
    baseline("validate_connection(':memory:'), median", validate_median, "ms", "for the ratio")
    figure("ratio validate / bare", ratio, "x", GOAL)

    # the 5 s budget, on the slowest healthy path: iceberg loaded from its package file
    with tempfile.TemporaryDirectory() as tmp:
        heavy = DuckDBConfig(extensions=["iceberg"], extension_directory=f"{tmp}/ext")
        heavy_ms = timed(lambda: plugin.validate_connection(heavy), 10)
        path = f"{tmp}/bench.duckdb"
        with duckdb.connect(path) as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
        on_file = DuckDBConfig(path=path)
        file_ms = timed(lambda: plugin.validate_connection(on_file), 50)
    baseline("validate_connection(file), median", statistics.median(file_ms), "ms", "a file target")
    baseline("validate_connection(+iceberg), median", statistics.median(heavy_ms), "ms", "see max")
    figure("validate_connection(+iceberg), max", max(heavy_ms), "ms", BUDGET_MS)

    empty = cold_import("pass")
    plugin_import = cold_import("import floe_compute_duckdb")
    with_duckdb = cold_import("import floe_compute_duckdb, duckdb")
    baseline("cold start, empty interpreter, median", empty, "ms", "the two below")
    baseline("cold start, import floe_compute_duckdb", plugin_import, "ms", "pydantic models")
    baseline("cold start, + import duckdb (first call)", with_duckdb, "ms", "what a call adds")
    loaded = heavy_modules_loaded()
    figure(f"heavy modules loaded by the import ({' '.join(loaded) or 'none'})", len(loaded), "", 0)
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

"""DuckDB: how long after timeout_seconds a slow dbt model is cancelled.

Runs from an installed package (no tests/): a real `dbt run` of a slow model (the engine
seam's slow query) and a fast one under timeout_seconds=1, 2 and 3 on a database file,
reading the plugin's timeout log line. The fast model is the same-run baseline: what a
node costs dbt when nothing is cancelled.

    python bench/bench_duckdb_timeout.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from _goals import baseline, figure, verdict

from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
from floe_compute_kit.conformance.engines import engine_for

GOAL_S = 1.0  # SC-006: cancelled within 1 s of the timeout
_LINE = re.compile(r"floe\.compute\.timeout .*?duration_s=(?P<d>[\d.]+) timeout_s=(?P<t>[\d.]+)")


def _run(work: Path, timeout_s: int) -> tuple[float, float]:
    project = work / f"project_{timeout_s}"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: floe_bench\nversion: '1.0'\nconfig-version: 2\nprofile: floe_bench\n"
        "models:\n  floe_bench:\n    +materialized: table\n"  # a view would run nothing
    )
    (project / "models" / "slow.sql").write_text(str(engine_for("duckdb").slow_query(60)))
    (project / "models" / "fast.sql").write_text("select 1 as n\n")
    config = DuckDBConfig(path=str(work / f"bench_{timeout_s}.duckdb"), timeout_seconds=timeout_s)
    profile = DuckDBComputePlugin().generate_dbt_profile(config)
    (project / "profiles.yml").write_text(
        yaml.safe_dump({"floe_bench": {"target": "t", "outputs": {"t": profile}}})
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "run", "--profiles-dir", str(project)],
        cwd=project,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    match = _LINE.search(done.stdout)
    if match is None:
        raise SystemExit(f"no timeout line in dbt's output:\n{done.stdout[-3000:]}")
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    fast = next(r for r in results if r["unique_id"].endswith(".fast"))
    return float(match["d"]) - float(match["t"]), float(fast["execution_time"])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="floe-bench-duckdb-") as tmp:
        for timeout_s in (1, 2, 3):
            late, fast = _run(Path(tmp), timeout_s)
            figure(
                f"dbt run, timeout {timeout_s} s: slow model cancelled after it", late, "s", GOAL_S
            )
            baseline(f"dbt run, timeout {timeout_s} s: fast model", fast, "s", "a node uncancelled")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

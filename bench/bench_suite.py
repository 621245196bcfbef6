"""The whole contract suite against the DuckDB reference plugin, per level.

Goals on the 2-core machine: core within 5 s, all levels within 20 s. Each level runs
in a fresh interpreter (imports of hypothesis, dbt and DuckDB included, as a user
pays them); the suite's own duration is printed beside the process wall time.

    python bench/bench_suite.py [--plugin duckdb] [--max-examples 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

GOALS_S = {"core": 5.0, "integration": 20.0}
_CHILD = """
import json, sys, time
start = time.perf_counter()
from floe_compute_kit.conformance.runner import run_suite
suite = run_suite(sys.argv[1], level=sys.argv[2], max_examples=int(sys.argv[3]))
print(json.dumps({
    "checks": len(suite.results),
    "suite_s": suite.duration_s,
    "process_s": time.perf_counter() - start,
    "outcomes": suite.outcomes(),
    "slowest": sorted(((r.duration_s, r.check_id) for r in suite.results), reverse=True)[:3],
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default="duckdb")
    parser.add_argument("--max-examples", type=int, default=50)
    args = parser.parse_args()
    for level in ("core", "extended", "integration"):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, args.plugin, level, str(args.max_examples)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        ).stdout
        wall = time.perf_counter() - start
        data = json.loads(out.strip().splitlines()[-1])
        goal = GOALS_S.get(level)
        verdict = "" if goal is None else ("  within goal" if wall <= goal else "  OVER GOAL")
        goal_text = "" if goal is None else f" (goal {goal:.0f} s)"
        print(
            f"{level:12} {data['checks']:3d} checks  suite {data['suite_s']:6.2f} s  "
            f"process {wall:6.2f} s{goal_text}{verdict}"
        )
        print(f"{'':12} outcomes {data['outcomes']}")
        slowest = ", ".join(f"{cid} {secs:.2f} s" for secs, cid in data["slowest"])
        print(f"{'':12} slowest: {slowest}")
    print(f"max_examples={args.max_examples}; machine load affects these figures (see uptime)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

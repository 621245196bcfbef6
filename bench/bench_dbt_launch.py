"""What the prewarmed dbt launcher saves: one dbt invocation, fresh process vs. launcher.

``dbt parse`` of the bundled conformance project with the DuckDB plugin's profile, run
the kit's way (``checks._dbt.dbt_process``) as a fresh ``dbt`` subprocess and through the
run's launcher, in this one process; median of 3 each, and their ratio. The launcher is
warmed by one call first (its imports are what a suite overlaps with its first checks;
that first call's time is printed as a baseline). ``--suite`` adds the DuckDB integration
certification (fresh process, as bench_suite.py runs it) with the launcher on and off.

    python bench/bench_dbt_launch.py [--repeats 3] [--suite]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from _goals import baseline, figure, verdict

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit.conformance._check import CheckContext
from floe_compute_kit.conformance._dbt_launcher import ENV_SWITCH, launcher_for
from floe_compute_kit.conformance.checks._dbt import PROFILE_NAME, TARGET, dbt_process
from floe_compute_kit.conformance.checks.integration import bundled_project

#: the launcher should at least halve what one invocation costs
RATIO_GOAL = 2.0
INTEGRATION_GOAL_S = 10.0


def _project(root: Path) -> Path:
    project = root / "project"
    shutil.copytree(bundled_project(), project)
    plugin = DuckDBComputePlugin()
    config = plugin.config_model.model_validate({"path": str(root / "bench.duckdb")})
    profile = plugin.generate_dbt_profile(config)
    (root / "profiles.yml").write_text(
        yaml.safe_dump({PROFILE_NAME: {"target": TARGET, "outputs": {TARGET: profile}}}),
        encoding="utf-8",
    )
    return project


def _timed(ctx: CheckContext | None, project: Path) -> float:
    args = ["parse", "--project-dir", str(project), "--profiles-dir", str(project.parent)]
    start = time.perf_counter()
    code, output, _ = dbt_process(ctx, args, cwd=project, env={}, deadline_s=120)
    took = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"dbt parse failed (exit {code}):\n{output[-2000:]}")
    return took


def _invocation(repeats: int) -> None:
    with tempfile.TemporaryDirectory(prefix="floe-bench-dbt-") as tmp:
        root = Path(tmp)
        project = _project(root)
        ctx = CheckContext(plugin=None, plugin_spec="bench", config_model=dict, workdir=root)
        try:
            fresh = statistics.median(_timed(None, project) for _ in range(repeats))
            if launcher_for(ctx) is None:
                raise SystemExit(f"the launcher is switched off ({ENV_SWITCH}); unset it")
            first = _timed(ctx, project)
            warm = statistics.median(_timed(ctx, project) for _ in range(repeats))
        finally:
            ctx.close()
    baseline("dbt parse, fresh `dbt` subprocess (median)", fresh, "s", f"{repeats} runs")
    baseline("dbt parse, launcher's first call (imports in it)", first, "s", "one run")
    baseline("dbt parse, through the warm launcher (median)", warm, "s", f"{repeats} runs")
    figure("dbt parse: fresh / launcher", fresh / warm, "x", RATIO_GOAL, at_least=True)


def _suite() -> None:
    from bench_suite import _run

    figures = {}
    for switch in ("1", "0"):
        os.environ[ENV_SWITCH] = switch
        figures[switch] = _run("duckdb", "integration", 50)["wall_s"]
    os.environ.pop(ENV_SWITCH, None)
    figure("duckdb integration, launcher on: process", figures["1"], "s", INTEGRATION_GOAL_S)
    baseline("duckdb integration, launcher off: process", figures["0"], "s", "plain dbt")
    baseline("duckdb integration: off / on", figures["0"] / figures["1"], "x", "saved")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--suite", action="store_true", help="also the integration run")
    args = parser.parse_args()
    _invocation(args.repeats)
    if args.suite:
        _suite()
    print("machine load affects these figures (see uptime)")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())

"""What the prewarmed dbt launcher saves: one dbt invocation, fresh process vs. launcher.

``dbt parse`` of the bundled conformance project with the DuckDB plugin's profile, run
the kit's way (``checks._dbt.dbt_process``) as a fresh ``dbt`` subprocess and through the
run's launcher, in this one process; median of 3 full parses each, and their ratio. The
launcher is timed after one call (its imports are what a suite overlaps with its first
checks), without and with dbt's parse caches filled (``_dbt_server._warm_up``).
``--suite`` adds the DuckDB integration certification (fresh process, as bench_suite.py
runs it) with the launcher on and off.

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
from floe_compute_kit.conformance._dbt_server import WARM_SWITCH
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
    # A full parse each time, as each of the kit's dbt checks makes in its own project.
    args = ["parse", "--no-partial-parse", "--project-dir", str(project)]
    args += ["--profiles-dir", str(project.parent)]
    start = time.perf_counter()
    code, output, _ = dbt_process(ctx, args, cwd=project, env={}, deadline_s=120)
    took = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"dbt parse failed (exit {code}):\n{output[-2000:]}")
    return took


def _through_launcher(root: Path, project: Path, repeats: int, *, caches: bool) -> float:
    """Median parse time through a launcher, once it has imported dbt and (with
    ``caches``) filled dbt's parse caches."""
    os.environ[WARM_SWITCH] = "1" if caches else "0"
    ctx = CheckContext(
        plugin=None, plugin_spec="bench", config_model=dict, workdir=root / f"caches-{caches}"
    )
    try:
        launcher = launcher_for(ctx)
        if launcher is None:
            raise SystemExit(f"the launcher is switched off ({ENV_SWITCH}); unset it")
        _timed(ctx, project)  # its imports
        deadline = time.monotonic() + 120
        while caches and "warmed up" not in launcher.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise SystemExit(f"the launcher never warmed up: {launcher.log_path}")
            time.sleep(0.2)
        return statistics.median(_timed(ctx, project) for _ in range(repeats))
    finally:
        ctx.close()
        os.environ.pop(WARM_SWITCH, None)


def _invocation(repeats: int) -> None:
    with tempfile.TemporaryDirectory(prefix="floe-bench-dbt-") as tmp:
        root = Path(tmp)
        project = _project(root)
        fresh = statistics.median(_timed(None, project) for _ in range(repeats))
        plain = _through_launcher(root, project, repeats, caches=False)
        warm = _through_launcher(root, project, repeats, caches=True)
    baseline("dbt parse, fresh `dbt` subprocess (median)", fresh, "s", f"{repeats} runs")
    baseline("dbt parse, launcher without dbt's parse caches", plain, "s", f"{repeats} runs")
    baseline("dbt parse, launcher with its parse caches filled", warm, "s", f"{repeats} runs")
    baseline("dbt parse: caches off / on", plain / warm, "x", "what the caches save")
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

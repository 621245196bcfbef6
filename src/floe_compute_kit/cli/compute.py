"""``floe-compute``: compile, health, plugins.

Exit codes: 0 fine; 1 violations, load failures or an unhealthy compute; 2 usage and
input problems (a file that cannot be read, parsed or validated, or an output that cannot
be written), each one line naming the file, the key, the problem and the fix.
Heavy imports (rich, OpenTelemetry, the plugins themselves) happen inside the
commands so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextvars
import json
import logging
import shlex
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from floe_compute_kit._extras import COMPUTE_NEEDS, EXIT_MISSING, missing_extra
from floe_compute_kit.cli._health_watch import add_watch_arguments, run_watch
from floe_compute_kit.cli._profiles_file import ProfilesWriteError, write_profiles
from floe_compute_kit.compiler import CompiledPipeline, build_profiles, compile_hierarchy
from floe_compute_kit.compute import ComputePlugin
from floe_compute_kit.errors import (
    CompilationError,
    ComputeConfigurationError,
    ComputeError,
    ManifestError,
    RegistryLoadError,
    Violation,
    log_error,
)
from floe_compute_kit.manifest import load_hierarchy
from floe_compute_kit.models import ComputeConfig, ConnectionResult, ConnectionStatus, parse_config
from floe_compute_kit.registry import ApprovedComputes, discover_plugins

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["build_parser", "check_health", "health_report", "main"]

#: validate_connection must finish within this budget (the contract's 5 s).
HEALTH_BUDGET_SECONDS: Final = 5.0
#: How long past the budget the whole health run waits for a check that ignores it.
_DEADLINE_GRACE_SECONDS: Final = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="floe-compute",
        description="Compile multi-compute pipelines, check compute health, list plugins.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also log each error with its correlation id to stderr",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    compile_p = sub.add_parser(
        "compile",
        help="resolve each transform's compute per environment and write dbt profiles.yml",
    )
    compile_p.add_argument(
        "path", nargs="?", default="floe.yaml", help="floe.yaml (default: %(default)s)"
    )
    compile_p.add_argument("--format", choices=("table", "json"), default="table")
    compile_p.add_argument(
        "--profiles-dir",
        type=Path,
        default=None,
        help="where to write profiles.yml (default: next to floe.yaml)",
    )
    compile_p.add_argument(
        "--force",
        action="store_true",
        help="replace a profiles.yml that floe-compute did not write (it has no header line)",
    )
    compile_p.set_defaults(_run=_run_compile)

    health_p = sub.add_parser("health", help="validate the connection of every approved compute")
    health_p.add_argument(
        "path",
        nargs="?",
        default="floe.yaml",
        help="floe.yaml or a manifest.yaml (default: %(default)s)",
    )
    health_p.add_argument(
        "--env", default=None, help="check with this environment's overrides (needs floe.yaml)"
    )
    health_p.add_argument("--format", choices=("table", "json"), default="table")
    add_watch_arguments(health_p)
    health_p.set_defaults(_run=_run_health)

    plugins_p = sub.add_parser("plugins", help="list the installed compute plugins")
    plugins_p.add_argument("--format", choices=("table", "json"), default="table")
    plugins_p.set_defaults(_run=_run_plugins)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    problem = missing_extra("floe-compute", "cli", COMPUTE_NEEDS)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_MISSING
    args = build_parser().parse_args(argv)
    if args.verbose:  # errors log at INFO with their correlation ids (errors.py)
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    code: int = args._run(args)
    return code


def _console() -> Console:
    from rich.console import Console  # noqa: PLC0415 - lazy: keeps --help fast

    return Console(highlight=False, soft_wrap=True)


def _print_problems(console: Console, title: str, lines: Sequence[str]) -> None:
    from rich.markup import escape  # noqa: PLC0415 - lazy: keeps --help fast

    console.print(f"[bold red]{escape(title)}[/]")
    for line in lines:
        console.print(f"  - {escape(line)}")


#: Above this many list items JSON is written compact: json's C encoder runs only without
#: indent, and 10,000 transforms x 100 environments took 4 s indented.
_PRETTY_JSON_ITEMS: Final = 2_000


def _emit_json(data: object) -> None:
    big = isinstance(data, dict) and any(
        isinstance(v, list) and len(v) > _PRETTY_JSON_ITEMS for v in data.values()
    )
    sys.stdout.write(json.dumps(data, indent=None if big else 2, default=str) + "\n")


# --- compile ---------------------------------------------------------------------------------


def _run_compile(args: argparse.Namespace) -> int:
    console = _console()
    try:
        hierarchy = load_hierarchy(args.path)
    except ManifestError as exc:
        log_error(exc, handled=True)
        return _fail(args, console, "invalid input", exc.errors, [exc.to_dict()], code=2)
    if hierarchy.product is None:
        message = f"{args.path}: compile needs a floe.yaml (a product), not a manifest.yaml"
        return _fail(args, console, "invalid input", [message], [{"message": message}], code=2)
    problems: list[Violation] = []
    pipeline: CompiledPipeline | None = None
    try:
        pipeline = compile_hierarchy(hierarchy)
    except CompilationError as exc:
        log_error(exc, handled=True)
        problems += exc.violations
    registry: ApprovedComputes | None = None
    load_failures: dict[str, str] = {}
    try:
        registry = ApprovedComputes.from_manifest(hierarchy)
    except RegistryLoadError as exc:
        log_error(exc, handled=True)
        load_failures = exc.failures
    profiles: dict[str, Any] | None = None
    if pipeline is not None and registry is not None:
        try:
            profiles = build_profiles(pipeline, registry)
        except CompilationError as exc:
            log_error(exc, handled=True)
            problems += exc.violations
    if problems or load_failures or pipeline is None or profiles is None:
        lines = [str(v) for v in problems]
        lines += [f"compute {name!r} failed to load: {why}" for name, why in load_failures.items()]
        details = [v.to_dict() for v in problems] + [
            {"code": "compute-load-failed", "compute": n, "message": w}
            for n, w in load_failures.items()
        ]
        return _fail(args, console, f"compile failed: {len(lines)} violation(s)", lines, details)

    product_path = hierarchy.product.path if hierarchy.product else None
    out_dir = args.profiles_dir or (product_path.parent if product_path else Path.cwd())
    try:
        profiles_path = write_profiles(out_dir, profiles, force=args.force)
    except ProfilesWriteError as exc:
        return _fail(
            args, console, "cannot write profiles.yml", [str(exc)], [exc.to_dict()], code=2
        )

    if args.format == "json":
        _emit_json(_compile_json(pipeline, profiles_path))
        return 0
    _print_compile_table(pipeline)
    console.print(f"wrote {profiles_path} ({len(profiles[pipeline.product]['outputs'])} targets)")
    for compute, paths in pipeline.selectors().items():
        select = " ".join(shlex.quote(f"path:{p}") for p in paths)
        console.print(f"  dbt build --target {compute}_<env> --select {select}", markup=False)
    return 0


def _fail(
    args: argparse.Namespace,
    console: Console,
    title: str,
    lines: Sequence[str],
    details: Sequence[object],
    *,
    code: int = 1,
) -> int:
    if args.format == "json":
        _emit_json({"ok": False, "violations": list(details), "messages": list(lines)})
    else:
        _print_problems(console, title, lines)
    return code


#: Above this many environments the table shows one compute column: parity makes them equal.
_MAX_ENV_COLUMNS: Final = 8


def _print_compile_table(pipeline: CompiledPipeline) -> None:
    """One line per transform, written at once: rich's Table took 20 s for 10,000 x 100."""
    envs = list(pipeline.environments)
    if len(envs) > _MAX_ENV_COLUMNS:
        header = ["transform", "path", f"compute (all {len(envs)} environments)"]
        rows: list[tuple[str, ...]] = [(t.name, t.path, t.compute) for t in pipeline.transforms]
    else:
        header = ["transform", "path", *envs]
        rows = [(t.name, t.path, *([t.compute] * len(envs))) for t in pipeline.transforms]
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    fmt = "┃ " + " ┃ ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths)) + " ┃"
    rule = "━" * (sum(widths) + 3 * len(widths) + 1)
    out = [f"{pipeline.product}: compute per transform and environment", rule, fmt.format(*header)]
    out.append(rule)
    out += [fmt.format(*row) for row in rows]
    out.append(rule)
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def _compile_json(pipeline: CompiledPipeline, profiles_path: Path) -> dict[str, Any]:
    data = pipeline.to_dict()
    data["ok"] = True
    data["profiles_path"] = str(profiles_path)
    return data


# --- health ----------------------------------------------------------------------------------


def check_health(
    plugin: ComputePlugin, config: ComputeConfig, budget: float = HEALTH_BUDGET_SECONDS
) -> ConnectionResult:
    """validate_connection with a time budget; a hang or a raise is UNHEALTHY, never a crash."""

    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["result"] = plugin.validate_connection(config)
        except Exception as exc:  # the contract forbids raising; report it instead
            box["error"] = exc

    start = time.perf_counter()
    # The caller's context (its current span) goes along, so spans the plugin opens nest under it.
    context = contextvars.copy_context()
    worker = threading.Thread(
        target=context.run, args=(call,), name=f"health-{plugin.name}", daemon=True
    )
    worker.start()
    worker.join(budget)
    elapsed_ms = (time.perf_counter() - start) * 1000
    if worker.is_alive():
        return ConnectionResult(
            status=ConnectionStatus.UNHEALTHY,
            latency_ms=elapsed_ms,
            message=f"validate_connection did not finish within {budget:g} s",
        )
    if "error" in box:
        exc = box["error"]
        return ConnectionResult(
            status=ConnectionStatus.UNHEALTHY,
            latency_ms=elapsed_ms,
            message=f"validate_connection raised {type(exc).__name__}: {exc}",
        )
    result = box["result"]
    if not isinstance(result, ConnectionResult):
        return ConnectionResult(
            status=ConnectionStatus.UNHEALTHY,
            latency_ms=elapsed_ms,
            message=f"validate_connection returned {type(result).__name__}, not ConnectionResult",
        )
    return result


def health_report(path: str | Path, env: str | None = None) -> list[dict[str, Any]]:
    """validate_connection for every approved compute of ``path``, one row each.

    A compute that fails to load or configure is an unhealthy row, not an
    exception, so one broken compute never hides the others. Raises
    ManifestError for bad input and ComputeConfigurationError for an unknown env.
    Telemetry goes to the providers chosen by ``observability.use_providers``.
    """
    hierarchy = load_hierarchy(path)
    if env is not None and (hierarchy.product is None or env not in hierarchy.product.environments):
        envs = list(hierarchy.product.environments) if hierarchy.product else []
        raise log_error(
            ComputeConfigurationError.invalid_choice(
                "--env", env, envs or ["none: pass a floe.yaml to use --env"]
            )
        )
    registry: ApprovedComputes | None
    try:
        registry = ApprovedComputes.from_manifest(hierarchy)
        failures: dict[str, str] = {}
    except RegistryLoadError as exc:
        log_error(exc, handled=True)
        registry = exc.partial if isinstance(exc.partial, ApprovedComputes) else None
        failures = exc.failures
    rows: list[dict[str, Any]] = []
    for name in hierarchy.approved:
        if name in failures or registry is None:
            rows.append(
                _row(name, ConnectionStatus.UNHEALTHY.value, 0.0, failures.get(name, ""), ())
            )
            continue
        plugin = registry[name]
        config = registry.configs[name]
        if env is not None:
            data = hierarchy.compute_config(name, env)
            data.setdefault("plugin", name)
            try:
                config = parse_config(
                    plugin.config_model,
                    data,
                    plugin_name=name,
                    source=hierarchy.config_source(name, env),
                )
            except ComputeConfigurationError as exc:
                log_error(exc, handled=True)
                rows.append(_row(name, ConnectionStatus.UNHEALTHY.value, 0.0, exc.message, ()))
                continue
        rows.append({"compute": name, "plugin": plugin, "config": config})
    return _observe_health(rows)


def _run_health(args: argparse.Namespace) -> int:
    if args.watch is not None or args.count or args.fail_on:
        return run_watch(args)
    console = _console()
    try:
        results = health_report(args.path, args.env)
    except ComputeConfigurationError as exc:  # ManifestError included
        log_error(exc, handled=True)
        lines = exc.errors or [exc.message]
        return _fail(args, console, "invalid input", lines, [exc.to_dict()], code=2)
    unhealthy = [r for r in results if r["status"] == ConnectionStatus.UNHEALTHY.value]
    if args.format == "json":
        _emit_json({"ok": not unhealthy, "computes": results})
    else:
        _print_health_table(console, results)
    return 1 if unhealthy else 0


def _row(
    name: str, status: str, latency: float, message: str, warnings: Sequence[str]
) -> dict[str, Any]:
    return {
        "compute": name,
        "status": status,
        "latency_ms": round(latency, 3),
        "message": message,
        "warnings": list(warnings),
    }


def _observe_health(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check each compute under the ``floe.compute`` span and instruments (observability.py).

    Every check is wrapped in ``traced_validation`` so that plugins which do not
    instrument themselves still produce the span, the duration histogram and the
    error counter; computes that failed to load count as errors too.
    """
    from floe_compute_kit.observability import (  # noqa: PLC0415 - lazy: OpenTelemetry is heavy
        get_tracer,
        traced_validation,
    )

    def check(row: dict[str, Any]) -> dict[str, Any]:
        name = row["compute"]
        if "plugin" not in row:  # failed to load or configure: a finished row
            with traced_validation(name) as outcome:
                outcome.status = ConnectionStatus.UNHEALTHY.value
                outcome.error_type = "load_failed"
            return row
        with traced_validation(name) as outcome:
            result = check_health(row["plugin"], row["config"])
            outcome.status = result.status.value
            if result.status is ConnectionStatus.UNHEALTHY and not outcome.error_type:
                outcome.error_type = "unhealthy"  # the plugin did not say why
        return _row(name, result.status.value, result.latency_ms, result.message, result.warnings)

    with get_tracer().start_as_current_span("floe.compute.health") as root:
        out = _concurrently(check, rows)
        bad = sum(1 for r in out if r["status"] == ConnectionStatus.UNHEALTHY.value)
        root.set_attribute("floe.compute.checked", len(out))
        root.set_attribute("floe.compute.unhealthy", bad)
    return out


def _concurrently(
    check: Callable[[dict[str, Any]], dict[str, Any]], rows: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every check at once, within one overall deadline (10 hung computes cost 5 s, not 50).

    Each check keeps the caller's context (its span), and check_health bounds each call;
    the deadline is the backstop for a check that still does not return.
    """
    if not rows:
        return []
    results: list[dict[str, Any] | None] = [None] * len(rows)

    def run(index: int, row: dict[str, Any]) -> None:
        results[index] = check(row)

    deadline = time.monotonic() + HEALTH_BUDGET_SECONDS + _DEADLINE_GRACE_SECONDS
    workers = []
    for index, row in enumerate(rows):
        worker = threading.Thread(
            target=contextvars.copy_context().run,
            args=(run, index, row),
            name=f"health-check-{row['compute']}",
            daemon=True,
        )
        worker.start()
        workers.append(worker)
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    out = []
    for row, done in zip(rows, results, strict=True):
        result = done
        if result is None:
            budget = HEALTH_BUDGET_SECONDS + _DEADLINE_GRACE_SECONDS
            message = f"timed out: the health check did not return within {budget:g} s"
            result = _row(
                row["compute"], ConnectionStatus.UNHEALTHY.value, budget * 1000, message, ()
            )
        out.append(result)
    return out


def _print_health_table(console: Console, results: Sequence[dict[str, Any]]) -> None:
    from rich.table import Table  # noqa: PLC0415 - lazy: keeps --help fast

    colours = {"healthy": "green", "degraded": "yellow", "unhealthy": "red"}
    table = Table(title="compute health")
    for column in ("compute", "status", "latency ms", "message", "warnings"):
        table.add_column(column, overflow="fold")
    for r in results:
        colour = colours.get(r["status"], "white")
        table.add_row(
            r["compute"],
            f"[{colour}]{r['status']}[/]",
            f"{r['latency_ms']:.1f}",
            r["message"],
            "; ".join(r["warnings"]),
        )
    console.print(table)


# --- plugins ---------------------------------------------------------------------------------


def _run_plugins(args: argparse.Namespace) -> int:

    console = _console()
    try:
        found = discover_plugins()
    except ComputeError as exc:
        log_error(exc, handled=True)
        return _fail(args, console, "plugin discovery failed", [exc.message], [exc.to_dict()])
    rows = []
    for name, info in sorted(found.items()):
        row: dict[str, Any] = {
            "name": name,
            "distribution": info.distribution,
            "distribution_version": info.distribution_version,
            "entry_point": info.value,
        }
        try:
            cls = info.load_class()
            row.update(version=str(cls.version), status="ok", error="")
        except ComputeError as exc:
            log_error(exc, handled=True)
            row.update(version="", status="load error", error=exc.message)
        rows.append(row)
    if args.format == "json":
        _emit_json({"plugins": rows})
    else:
        from rich.table import Table  # noqa: PLC0415 - lazy: keeps --help fast

        table = Table(title="installed floe compute plugins")
        for column in ("name", "version", "distribution", "entry point", "status"):
            table.add_column(column, overflow="fold")
        for r in rows:
            dist = f"{r['distribution']} {r['distribution_version']}".strip()
            status = r["status"] if not r["error"] else f"{r['status']}: {r['error']}"
            table.add_row(r["name"], r["version"], dist, r["entry_point"], status)
        console.print(table)
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Running catalogue checks against a plugin, without pytest.

The pytest suites, the report CLI and the benches all come through here, so a
check behaves the same wherever it runs. Each check runs isolated in a daemon
worker thread: whatever the plugin does (raise, return garbage, hang), the check
ends with a :class:`CheckResult` and the suite goes on.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from floe_compute_kit._deadline import run_with_deadline
from floe_compute_kit.conformance import _dbt_launcher
from floe_compute_kit.conformance._check import (
    CheckContext,
    CheckFailed,
    CheckUnsupported,
    RegisteredCheck,
)
from floe_compute_kit.conformance._determinism import seed_only_draws
from floe_compute_kit.conformance._invoke import PluginRaised, read
from floe_compute_kit.conformance._lanes import QUIET, Quiet, run_checks
from floe_compute_kit.conformance._loader import LoadedPlugin, LoadFailure, load_target
from floe_compute_kit.conformance._results import CheckResult, Level, Outcome, SuiteResult
from floe_compute_kit.conformance._settings import DEFAULTS, out_of_bounds
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.errors import ComputeConfigurationError

__all__ = ["LOADS_CHECK_ID", "make_context", "run_check", "run_suite", "select_checks"]

#: How a suite may run the plugin: in a child process, in this one, or chosen by target.
ISOLATION_MODES = frozenset({"auto", "host", "in-process"})

#: The check that stands for "the plugin could be loaded at all".
LOADS_CHECK_ID = "plugin.loads"


def select_checks(
    level: Level = Level.CORE, check_ids: Collection[str] | None = None
) -> list[RegisteredCheck]:
    """Catalogue checks included in ``level`` (and in ``check_ids`` when given), in order."""
    wanted = None if check_ids is None else set(check_ids)
    return [
        reg
        for reg in load_catalogue()
        if level.includes(reg.spec.level) and (wanted is None or reg.spec.id in wanted)
    ]


def _safe_attr(plugin: object, name: str) -> str | None:
    try:
        value = read(plugin, name)
    except PluginRaised:
        return None
    return value if isinstance(value, str) else None


def _within_bounds(max_examples: object, budget_s: object, seed: object) -> None:
    """Refuse a run's numbers that no run could use: nan or inf never reach a deadline."""
    bad = out_of_bounds(max_examples, budget_s, seed)
    if bad is not None:
        name, value, allowed = bad
        raise ComputeConfigurationError(
            f"run_suite {name}: {value!r} is not allowed; allowed: {allowed}",
            field=name,
            value=value,
            allowed=allowed,
        )


def make_context(
    loaded: LoadedPlugin,
    *,
    workdir: Path,
    seed: int = DEFAULTS.seed,
    max_examples: int = DEFAULTS.max_examples,
    budget_s: float = DEFAULTS.budget_s,
    iceberg_uri: str | None = None,
    config_strategy: Any = None,
    unreachable_config: Any = None,
    target: Path | None = DEFAULTS.target,
) -> CheckContext:
    """The context every check of one suite run shares."""
    from floe_compute_kit.conformance._live import read_target  # noqa: PLC0415 - a cycle

    _within_bounds(max_examples, budget_s, seed)
    target_file = None if target is None else Path(target).resolve()
    return CheckContext(
        plugin=loaded.instance,
        plugin_spec=loaded.spec,
        config_model=loaded.config_model,
        workdir=workdir,
        seed=seed,
        max_examples=max_examples,
        budget_s=budget_s,
        config_strategy=config_strategy,
        iceberg_uri=iceberg_uri,
        capabilities=loaded.capabilities,
        declared_config_model=loaded.declared_config_model,
        structural=loaded.structural,
        unreachable_config=unreachable_config,
        check_timeout_s=max(120.0, budget_s * 12),
        live_target_file=target_file,
        live_target_data=None if target_file is None else read_target(target_file),
    )


def _result_from(check_id: str, exc: BaseException, seed: int) -> CheckResult:
    if isinstance(exc, CheckUnsupported):
        return CheckResult(check_id, Outcome.UNSUPPORTED, message=str(exc))
    if isinstance(exc, CheckFailed):
        example = exc.example
        return CheckResult(
            check_id,
            Outcome.FAILED,
            message=exc.message,
            example=example,
            seed=getattr(exc, "seed", None) if example is not None else None,
            traceback=getattr(exc, "plugin_traceback", None),
            details=dict(exc.details),
        )
    if isinstance(exc, PluginRaised):
        event = getattr(exc.error, "floe_host_event", False)
        return CheckResult(
            check_id,
            Outcome.FAILED,
            message=str(exc) if event else f"the plugin raised: {exc}",
            traceback=exc.traceback,
            example=exc.example,
            seed=exc.seed if exc.example is not None else None,
            details={"method": exc.method, "error_type": type(exc.error).__name__},
        )
    return CheckResult(
        check_id,
        Outcome.ERROR,
        message=f"the kit could not run this check: {type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        seed=seed,
    )


def run_check(registered: RegisteredCheck, ctx: CheckContext) -> CheckResult:
    """Run one check isolated from the plugin's faults; never raises."""
    spec = registered.spec
    start = time.perf_counter()
    if spec.capability is not None and spec.capability not in ctx.capabilities:
        return CheckResult(
            spec.id,
            Outcome.UNSUPPORTED,
            message=f"the plugin does not claim the {spec.capability!r} capability",
            duration_s=time.perf_counter() - start,
        )
    # Switched on around the wait, not inside the worker: a check abandoned as hung
    # must not leave Hypothesis patched for the author's own tests.
    limit = max(ctx.check_timeout_s, spec.timeout_s or 0.0)
    with seed_only_draws():
        done = run_with_deadline(lambda: registered.fn(ctx), limit, name=f"floe-check-{spec.id}")
    duration = time.perf_counter() - start
    if done.timed_out:
        return CheckResult(
            spec.id,
            Outcome.FAILED,
            duration_s=duration,
            message=(
                f"the check did not finish within {limit:g} s and was abandoned: "
                f"a call into the plugin hangs while checking {spec.method}"
            ),
        )
    error = done.error
    if error is None:
        result = CheckResult(spec.id, Outcome.PASSED)
    else:
        result = _result_from(spec.id, error, ctx.seed)
    result.duration_s = duration
    return result


def _runs_beside(registered: RegisteredCheck, ctx: CheckContext, quiet: Quiet) -> bool:
    """The spec's ``beside_when`` for this run, asked holding the quiet (it may call the
    plugin); a kit or plugin error there keeps the check in its lane (the check itself
    then meets that error and reports it)."""
    when = registered.spec.beside_when
    if when is None:
        return False
    try:
        with quiet.running(registered.spec.id):
            return bool(when(ctx))
    except Exception:  # reported by the check when it runs in its turn
        return False


def _load(
    plugin: str | type | object, mode: str, root: Path, host_settings: Any
) -> LoadedPlugin | LoadFailure:
    if mode == "host":
        from floe_compute_kit.conformance.host import load_in_host  # noqa: PLC0415

        hosted: LoadedPlugin | LoadFailure = load_in_host(str(plugin), root, host_settings)
        return hosted
    return load_target(plugin)


def _load_failed(
    failure: LoadFailure,
    level: Level,
    seed: int,
    *,
    mode: str,
    on_result: Callable[[CheckResult], None] | None,
    started: float,
) -> SuiteResult:
    message = failure.message
    result = CheckResult(
        LOADS_CHECK_ID,
        Outcome.FAILED,
        message=message,
        traceback=failure.traceback,
        details={"missing": list(failure.missing)} if failure.missing else {},
    )
    suite = SuiteResult(
        plugin_spec=failure.spec,
        plugin_name=None,
        plugin_version=None,
        floe_api_version=None,
        level=level,
        seed=seed,
        results=[result],
        load_error=message,
    )
    suite.isolation = mode
    if on_result is not None:
        on_result(result)
    suite.duration_s = time.perf_counter() - started
    return suite


def _isolation(plugin: object, isolation: str) -> str:
    if isolation not in ISOLATION_MODES:
        raise ValueError(
            f"isolation={isolation!r} is not one of {', '.join(sorted(ISOLATION_MODES))}"
        )
    if isolation == "auto":
        return "host" if isinstance(plugin, str) else "in-process"
    if isolation == "host" and not isinstance(plugin, str):
        raise ValueError(
            "isolation='host' needs the plugin named as 'module:Attribute' or an entry-point "
            "name, so the host process can import it; got an object"
        )
    return isolation


def run_suite(
    plugin: str | type | object,
    *,
    level: Level = Level.CORE,
    seed: int = DEFAULTS.seed,
    max_examples: int = DEFAULTS.max_examples,
    budget_s: float = DEFAULTS.budget_s,
    iceberg_uri: str | None = None,
    check_ids: Collection[str] | None = None,
    config_strategy: Any = None,
    workdir: Path | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    unreachable_config: Any = None,
    isolation: str = DEFAULTS.isolation,
    host_settings: Any = None,
    target: Path | None = DEFAULTS.target,
) -> SuiteResult:
    """Every catalogue check in ``level`` against ``plugin``; results in catalogue order.

    ``isolation``: "host" runs the plugin in a child process (the kit judges what it
    returns and survives crashes, exits and hangs), "in-process" calls it directly
    (for debugging), "auto" picks the host for a named plugin and in-process for an
    object. ``target``: the user's live-target file (see ``conformance._live``).
    """
    started = time.perf_counter()
    _within_bounds(max_examples, budget_s, seed)  # before anything starts
    level = Level(level)
    mode = _isolation(plugin, isolation)
    own_dir = workdir is None
    root = Path(tempfile.mkdtemp(prefix="floe-conformance-")) if workdir is None else workdir
    early = _dbt_launcher.start_early(root, level)  # dbt's imports overlap the plugin's load
    adopted = False
    try:
        loaded = _load(plugin, mode, root, host_settings or _host_settings(budget_s))
        if isinstance(loaded, LoadFailure):
            if early is not None:
                early.close()  # before its folder goes
            if own_dir:
                shutil.rmtree(root, ignore_errors=True)
            return _load_failed(
                loaded, level, seed, mode=mode, on_result=on_result, started=started
            )
        ctx = make_context(
            loaded,
            workdir=root,
            seed=seed,
            max_examples=max_examples,
            budget_s=budget_s,
            iceberg_uri=iceberg_uri,
            config_strategy=config_strategy,
            unreachable_config=unreachable_config,
            target=target,
        )
        _dbt_launcher.prewarm(ctx, level, early)  # the run's launcher from here on
        adopted = True
    finally:
        if early is not None and not adopted:  # no run to close it with
            early.close()
    host = getattr(loaded.instance, "floe_host", None)
    if host is not None:
        ctx.resources.callback(host.close)
    suite = SuiteResult(
        plugin_spec=loaded.spec,
        plugin_name=_safe_attr(loaded.instance, "name"),
        plugin_version=_safe_attr(loaded.instance, "version"),
        floe_api_version=_safe_attr(loaded.instance, "floe_api_version"),
        level=level,
        seed=seed,
    )
    suite.isolation = mode
    suite.capabilities = sorted(loaded.capabilities)
    try:
        # Lanes only in the host: there the host serialises the calls, while a plugin
        # object in this process must never see two calls at once.
        quiet = Quiet()
        if mode == "host":
            ctx.extra[QUIET] = quiet

        beside: dict[str, bool] = {}

        def runs_beside(registered: RegisteredCheck) -> bool:
            beside[registered.spec.id] = _runs_beside(registered, ctx, quiet)
            return beside[registered.spec.id]

        def run_one(registered: RegisteredCheck) -> CheckResult:
            if beside.get(registered.spec.id):  # holds the quiet around its plugin calls
                return run_check(registered, ctx)
            with quiet.running(registered.spec.id):
                return run_check(registered, ctx)

        suite.results = run_checks(
            select_checks(level, check_ids),
            run_one,
            lanes=mode == "host",
            on_result=on_result,
            beside=runs_beside,
        )
        suite.plugin_class, suite.provenance = _provenance(loaded, host)
        suite.secrets = _secrets_handed_out(ctx)
    finally:
        ctx.close()  # services and the host first: they may still use the work directory
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)
    suite.duration_s = time.perf_counter() - started
    return suite


def _secrets_handed_out(ctx: CheckContext) -> set[str]:
    """Every secret the suite gave the plugin: in the configs it drew and the host saw."""
    from floe_compute_kit.conformance.checks._support import secret_values  # noqa: PLC0415

    found: set[str] = set(getattr(ctx.plugin, "secrets_seen", ()))
    for value in ctx.extra.values():
        found.update(secret_values(value))
    return {s for s in found if s}


def _provenance(loaded: LoadedPlugin, host: Any) -> tuple[str | None, dict[str, Any]]:
    """The plugin's class and provenance, read in its host when it has one."""
    if host is not None:
        cls = host.info.get("class")
        return (str(cls) if cls else None), loaded.instance.floe_provenance()
    from floe_compute_kit.conformance._provenance import (  # noqa: PLC0415
        distribution_info,
        environment_info,
    )

    cls_obj = type(loaded.instance)
    return f"{cls_obj.__module__}:{cls_obj.__qualname__}", {
        "distribution": distribution_info(cls_obj),
        "environment": environment_info(loaded.instance),
    }


def _host_settings(budget_s: float) -> Any:
    """Host deadlines for a run whose validate_connection budget is ``budget_s``."""
    from floe_compute_kit.conformance.host import HostSettings  # noqa: PLC0415

    return HostSettings(call_deadline_s=max(15.0, budget_s * 3))

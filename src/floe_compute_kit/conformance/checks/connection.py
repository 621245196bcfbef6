"""Checks: validate_connection (FR-018).

Each distinct config is probed once per suite run (the result is shared by the
checks below), in a daemon thread with the suite's budget. A probe that hangs is
reported by ``connection.budget`` alone; the other checks judge the probes that
returned, so one defect fails one check.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import socket
from enum import Enum
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import TimedCall, call, call_with_budget
from floe_compute_kit.conformance._network import guarded
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance._upstream import CAPABILITY as UPSTREAM
from floe_compute_kit.conformance._upstream import unreachable_connection
from floe_compute_kit.conformance.checks._support import (
    baseline_config,
    example_configs,
    for_all,
    generated_configs,
    mask,
    profile_type,
)
from floe_compute_kit.conformance.engines import engine_for
from floe_compute_kit.conformance.host._pool import spread

METHOD: Final = "validate_connection"
_PROBES = "connection.probes"
_UNREACHABLE = "connection.unreachable"
#: Typed config fields that name a file-backed target.
PATH_FIELDS: Final = ("path", "database_path", "db_path", "file", "filename")
HOST_FIELDS: Final = ("host", "hostname", "server")
URL_FIELDS: Final = ("url", "uri", "endpoint", "dsn")
MIN_MESSAGE_LEN: Final = 10


def _key(config: Any) -> str:
    if isinstance(config, BaseModel):
        return config.model_dump_json()
    return repr(config)


def probe(ctx: CheckContext, config: Any) -> TimedCall:
    """validate_connection(config) once per suite run, within the budget."""
    return probe_many(ctx, [config])[0]


def probe_many(ctx: CheckContext, configs: list[Any]) -> list[TimedCall]:
    """:func:`probe` for each config; the ones not probed yet are called concurrently."""
    probes: dict[str, TimedCall] = ctx.extra.setdefault(_PROBES, {})
    todo: dict[str, Any] = {}
    for config in configs:
        todo.setdefault(_key(config), config)
    for key in probes:
        todo.pop(key, None)
    probes.update(zip(todo, fresh_many(ctx, list(todo.values())), strict=True))
    return [probes[_key(config)] for config in configs]


def fresh_call(ctx: CheckContext, config: Any, plugin: Any = None) -> TimedCall:
    """One fresh validate_connection(config) within the budget (``plugin``: a stand-in)."""
    return call_with_budget(
        functools.partial(guarded, call, ctx.plugin if plugin is None else plugin, METHOD, config),
        method=METHOD,
        budget_s=ctx.budget_s,
    )


def fresh_many(ctx: CheckContext, configs: list[Any]) -> list[TimedCall]:
    """A fresh call per config, concurrent through sibling plugin hosts.

    Configs that name the same file target are called one after another on one host:
    two processes opening one file at once could make a health check fail that would
    pass alone. In-process, every call runs in turn (see :func:`.._pool.spread`).
    """
    groups: dict[str, list[int]] = {}
    for index, config in enumerate(configs):
        targets = sorted(str(Path(p).resolve()) for p in _file_targets(config).values())
        groups.setdefault("\0".join(targets) or f"#{index}", []).append(index)

    def job(indices: list[int]) -> Any:
        return lambda plugin: [fresh_call(ctx, configs[i], plugin) for i in indices]

    out: list[TimedCall | None] = [None] * len(configs)
    for indices, results in zip(
        groups.values(), spread(ctx.plugin, [job(i) for i in groups.values()]), strict=True
    ):
        for index, result in zip(indices, results, strict=True):
            out[index] = result
    done = [result for result in out if result is not None]
    hung = getattr(getattr(ctx.plugin, "floe_host", None), "hung", {})
    if METHOD in hung and len(done) > 1:
        # In turn, every call after the first that hung would have been refused (the
        # method is not called again): the same verdicts when they ran side by side.
        first = next((i for i, result in enumerate(done) if result.timed_out), len(done))
        done[first + 1 :] = [TimedCall(timed_out=True) for _ in done[first + 1 :]]
    return done


def as_result(value: Any) -> Any:
    """``value`` as our ConnectionResult, field by field; CheckFailed names the bad fields."""
    from floe_compute_kit.models import ConnectionResult  # noqa: PLC0415

    if isinstance(value, ConnectionResult):
        return value
    if isinstance(value, BaseModel):
        data = value.model_dump()
    elif isinstance(value, dict):
        data = dict(value)
    else:
        data = {
            name: getattr(value, name)
            for name in ConnectionResult.model_fields
            if hasattr(value, name)
        }
    if isinstance(data.get("status"), Enum):
        data["status"] = data["status"].value
    if isinstance(data.get("warnings"), list):
        data["warnings"] = tuple(data["warnings"])
    try:
        return ConnectionResult.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise CheckFailed(
            f"{METHOD} returned {type(value).__name__} that is not a ConnectionResult "
            f"(status, latency_ms, message, warnings): {problems}"
        ) from None


def parsed(value: Any) -> Any | None:
    """``value`` as a ConnectionResult, or None (connection.result_type reports it)."""
    try:
        return as_result(value)
    except CheckFailed:
        return None


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def unreachable_config(ctx: CheckContext) -> Any:
    """A config the model accepts whose target cannot be reached.

    From the override point (fixture ``floe_unreachable_config`` / run_suite's
    ``unreachable_config``), else the plugin's ``conformance_unreachable_config()``,
    else a guess: a missing file for a path field, a closed loopback port for a host.
    """
    if _UNREACHABLE in ctx.extra:
        return ctx.extra[_UNREACHABLE]
    config = ctx.unreachable_config
    if config is None and callable(getattr(ctx.plugin, "conformance_unreachable_config", None)):
        config = call(ctx.plugin, "conformance_unreachable_config")
    if config is None:
        config = _guess_unreachable(ctx)
    if isinstance(config, dict):
        config = ctx.config_model.model_validate(config)
    ctx.extra[_UNREACHABLE] = config
    return config


#: File names tried for a missing file target, in order, until the model accepts one.
MISSING_FILES: Final = (
    "floe_missing_target.db",
    "floe_missing_target.duckdb",
    "floe_missing_target.sqlite",
    "floe_missing_target",
)


def _guess_unreachable(ctx: CheckContext) -> Any:
    base = baseline_config(ctx)
    fields = type(base).model_fields
    port = _closed_port()
    folder = ctx.workdir / "unreachable"
    # The folder exists and the file does not: the case where a careless open() or
    # connect() would create the target, which connection.read_only must see.
    folder.mkdir(parents=True, exist_ok=True)
    candidates: list[str] = [str(folder / n) for n in MISSING_FILES]
    # relative names, for models that only accept them (they do not exist in the cwd)
    candidates += [f"floe_missing_{ctx.workdir.name}_{n}" for n in MISSING_FILES]
    problems: list[str] = []
    for target in candidates:
        data = base.model_dump()
        changed = False
        settings = (  # an upstream floe-core plugin keeps its settings in `connection`
            unreachable_connection(type(base), target, port)
            if UPSTREAM in ctx.capabilities
            else None
        )
        if settings is not None:
            data["connection"], changed = settings, True
        for name in fields:
            if name in PATH_FIELDS:
                data[name], changed = target, True
            elif name in HOST_FIELDS:
                data[name], changed = "127.0.0.1", True
            elif name == "port":
                data[name], changed = port, True
            elif name in URL_FIELDS:
                data[name], changed = f"http://127.0.0.1:{port}/", True
        if not changed:
            break
        try:
            return type(base).model_validate(data)
        except ValidationError as exc:
            problems.append(str(exc).splitlines()[0])
    raise CheckFailed(
        "cannot build an unreachable config for this plugin"
        + (f" (the model rejected every guess: {problems[-1]})" if problems else "")
        + ": define conformance_unreachable_config() on the plugin, or override the "
        "floe_unreachable_config fixture"
    )


def _standard_configs(ctx: CheckContext) -> list[Any]:
    """Baseline, examples and (when one can be had) the unreachable config.

    Example configs with relative file targets are probed under the work directory, so
    a plugin under test never touches files in the author's working tree. Without an
    unreachable config only connection.unreachable fails.
    """
    base = baseline_config(ctx)
    moved = [_under_workdir(ctx, c) for c in [base, *example_configs(ctx)]]
    configs = [moved[0] if moved[0] is not None else base, *(c for c in moved[1:] if c is not None)]
    with contextlib.suppress(CheckFailed):  # connection.unreachable reports it
        configs.append(unreachable_config(ctx))
    return configs


def _under_workdir(ctx: CheckContext, config: Any) -> Any:
    """``config`` with relative file targets moved under the work directory.

    None when the model does not accept the moved path: such an example is then not
    probed at all, rather than probed in the current directory.
    """
    moved = {
        name: str(ctx.workdir / "examples" / value)
        for name, value in _file_targets(config).items()
        if not Path(value).is_absolute()
    }
    return _replaced(config, {**moved, **_moved_dirs(ctx, config)})


def _file_targets(config: Any) -> dict[str, str]:
    """Typed path fields that name a file target (not ``:memory:``-style names)."""
    return {
        name: value
        for name in PATH_FIELDS
        if isinstance(value := getattr(config, name, None), str)
        and value
        and not value.startswith(":")
    }


def _replaced(config: Any, changes: dict[str, str]) -> Any | None:
    """``config`` with ``changes`` applied, or None when its model rejects them."""
    if not changes or not isinstance(config, BaseModel):
        return config
    try:
        return type(config).model_validate({**config.model_dump(), **changes})
    except ValidationError:
        return None


def _returned(ctx: CheckContext, configs: list[Any]) -> list[tuple[Any, TimedCall]]:
    out = []
    for config, result in zip(configs, probe_many(ctx, configs), strict=True):
        if result.error is not None:
            result.error.example = mask(config)
            raise result.error
        if not result.timed_out:
            out.append((config, result))
    if not out and configs:
        raise CheckFailed(
            f"{METHOD} never returned within the {ctx.budget_s:g} s budget, so nothing "
            "could be checked (see connection.budget)"
        )
    return out


@check(
    "connection.result_type",
    method=METHOD,
    requirements=("FR-018", "FR-019", "KIT-016"),
    wording="validate_connection MUST return a ConnectionResult, or an object with the same "
    "fields and valid values.",
)
def returns_result(ctx: CheckContext) -> None:
    for config, result in _returned(ctx, _standard_configs(ctx)):
        try:
            as_result(result.value)
        except CheckFailed as exc:
            exc.example = mask(config)
            raise


@check(
    "connection.never_raises",
    method=METHOD,
    requirements=("FR-018", "FR-019"),
    wording="validate_connection MUST NOT raise for any config its own model accepts; "
    "problems are reported as UNHEALTHY results.",
)
def never_raises(ctx: CheckContext) -> None:
    standard = _standard_configs(ctx)
    n = max(3, min(ctx.max_examples, 10))
    # The sample hypothesis screens first is probed up front, concurrently: the screen
    # below then judges cached results, and only shrinking (on a failure) calls in turn.
    drawn = generated_configs(ctx, n)
    # An example is probed where _standard_configs put it, so it is not called twice.
    examples = {
        _key(example): moved
        for example in example_configs(ctx)
        if (moved := _under_workdir(ctx, example)) is not None
    }

    def relocated(config: Any) -> Any:
        return examples.get(_key(config)) or _relocate(ctx, config)

    probe_many(ctx, [*standard, *(relocated(copy.deepcopy(c)) for c in drawn)])
    _returned(ctx, standard)

    def prop(config: Any) -> None:
        result = probe(ctx, relocated(config))
        if result.error is not None:
            raise result.error

    for_all(ctx, prop, max_examples=n)


def _moved_dirs(ctx: CheckContext, config: Any) -> dict[str, str]:
    """Relative directory fields (``*_dir``, ``*_directory``), moved under the work directory.

    validate_connection may legitimately create such folders (DuckDB installs its
    extensions into ``extension_directory``); they belong in the work directory, not in
    the author's working tree.
    """
    if not isinstance(config, BaseModel):
        return {}
    return {
        name: str(ctx.workdir / "dirs" / hashlib.sha256(value.encode()).hexdigest()[:12])
        for name in type(config).model_fields
        if name.endswith(("_dir", "_directory"))
        and isinstance(value := getattr(config, name), str)
        and value
        and not Path(value).is_absolute()
    }


def _relocate(ctx: CheckContext, config: Any) -> Any:
    """Generated file targets and folders are moved under the work directory, never the cwd."""
    targets = _file_targets(config)
    dirs = _moved_dirs(ctx, config)
    if not targets and not dirs:
        return config
    for suffix in (".db", ".duckdb", ".sqlite", ""):
        moved = {
            name: str(
                ctx.workdir / "generated" / f"t{hashlib.sha256(value.encode()).hexdigest()[:12]}"
                f"{suffix}"
            )
            for name, value in targets.items()
        }
        relocated = _replaced(config, {**dirs, **moved})
        if relocated is not None:
            return relocated
    return config


@check(
    "connection.unreachable",
    method=METHOD,
    requirements=("FR-018", "FR-019"),
    wording="For an unreachable target, validate_connection MUST return UNHEALTHY with an "
    "actionable message (what is wrong and what to do).",
)
def unreachable_is_unhealthy(ctx: CheckContext) -> None:
    config = unreachable_config(ctx)
    for _, result in _returned(ctx, [config]):
        value = parsed(result.value)
        if value is None:
            continue
        if value.status.value != "unhealthy":
            raise CheckFailed(
                f"an unreachable target MUST be reported as UNHEALTHY; got {value.status.value}",
                example=mask(config),
            )
        if len(value.message.strip()) < MIN_MESSAGE_LEN:
            raise CheckFailed(
                "an UNHEALTHY result MUST carry an actionable message saying what is wrong "
                f"and what to do; got {value.message!r}",
                example=mask(config),
            )


@check(
    "connection.latency",
    method=METHOD,
    requirements=("FR-018", "FR-019"),
    wording="`latency_ms` MUST be a real measurement: greater than 0 and not above the wall "
    "time measured around the call.",
)
def latency_measured(ctx: CheckContext) -> None:
    for config, result in _returned(ctx, _standard_configs(ctx)):
        value = parsed(result.value)
        if value is None:
            continue
        if not 0 < value.latency_ms <= result.wall_ms + 0.01:
            raise CheckFailed(
                f"latency_ms={value.latency_ms} is not a measurement: the call took "
                f"{result.wall_ms:.3f} ms of wall time (latency_ms MUST be > 0 and <= that)",
                example=mask(config),
            )


@check(
    "connection.budget",
    method=METHOD,
    requirements=("FR-018", "FR-019", "KIT-021"),
    wording="validate_connection SHOULD finish within the budget (5 s by default); a call "
    "that does not is reported as a failure and the suite goes on.",
)
def within_budget(ctx: CheckContext) -> None:
    for config in _standard_configs(ctx):
        result = probe(ctx, config)
        if result.timed_out:
            raise CheckFailed(
                f"{METHOD} did not return within the {ctx.budget_s:g} s budget; the call "
                "was abandoned",
                example=mask(config),
                details={"budget_s": ctx.budget_s},
            )


def _snapshot(paths: list[Path]) -> dict[str, str | None]:
    state: dict[str, str | None] = {}
    for path in paths:
        for candidate in (path, Path(f"{path}.wal")):
            if candidate.is_file():
                state[str(candidate)] = hashlib.sha256(candidate.read_bytes()).hexdigest()
            else:
                state[str(candidate)] = None
    return state


def _fresh_targets(ctx: CheckContext, config: Any, index: int) -> Any:
    """``config`` with its work-directory targets moved to a new folder.

    Earlier checks have already called the plugin with these configs; a plugin that
    creates a missing target would have created it then, and "before" would already
    show the file. The copy keeps the original's shape: a parent folder that existed
    exists again, a missing one stays missing.
    """
    moved: dict[str, str] = {}
    for name, value in _file_targets(config).items():
        path = Path(value)
        if not path.is_relative_to(ctx.workdir) or path.is_relative_to(ctx.workdir / "existing"):
            continue
        fresh = ctx.workdir / "read_only" / str(index) / path.relative_to(ctx.workdir)
        if path.parent.is_dir():
            fresh.parent.mkdir(parents=True, exist_ok=True)
        moved[name] = str(fresh)
    fresh_config = _replaced(config, moved)
    return config if fresh_config is None else fresh_config


def _target_paths(config: Any) -> list[Path]:
    return [Path(value) for value in _file_targets(config).values()]


def _existing_file_target(ctx: CheckContext) -> Any | None:
    """For plugins on an engine with file targets and a path field: a real file to point at."""
    base = baseline_config(ctx)
    engine = engine_for(profile_type(ctx))
    if "path" not in type(base).model_fields:
        return None
    target = ctx.workdir / "existing" / "floe_target.db"
    if not target.exists() and not engine.seed_file_target(target):
        return None
    try:
        return type(base).model_validate({**base.model_dump(), "path": str(target)})
    except ValidationError:
        return None


@check(
    "connection.read_only",
    method=METHOD,
    requirements=("FR-018", "FR-019"),
    wording="validate_connection MUST NOT create, lock for writing or modify the target.",
    level=Level.EXTENDED,
)
def never_modifies(ctx: CheckContext) -> None:
    configs = _standard_configs(ctx)
    existing = _existing_file_target(ctx)
    if existing is not None:
        configs.append(existing)
    fresh = [_fresh_targets(ctx, original, i) for i, original in enumerate(configs)]
    paths = [_target_paths(config) for config in fresh]
    before = [_snapshot(p) for p in paths]
    # Fresh calls, not probe()'s cached ones: earlier checks have already called the
    # plugin with these configs, so a cached result would hide what this call does. Each
    # config has targets of its own, so the calls may run at the same time.
    results = fresh_many(ctx, fresh)
    for config, watched, was, result in zip(fresh, paths, before, results, strict=True):
        if result.timed_out or result.error is not None:
            continue  # connection.budget and connection.never_raises report these
        after = _snapshot(watched)
        changed = sorted(p for p in was if was[p] != after[p])
        if changed:
            created = [p for p in changed if was[p] is None]
            verb = "created" if created else "modified"
            raise CheckFailed(
                f"{METHOD} {verb} the target: {', '.join(changed)}", example=mask(config)
            )
    if existing is not None:
        problem = engine_for(profile_type(ctx)).write_lock_problem(Path(existing.path))
        if problem is not None:
            raise CheckFailed(
                f"after {METHOD} the target cannot be opened for writing: it is still locked "
                f"or held open ({problem}); close every connection before returning",
                example=mask(existing),
            )

"""The live target: the one real engine the extended and integration checks reach.

Checks that judge behaviour (a dbt build, a timeout that cancels, a health check that
leaves the target as it found it) need a target that exists. Every such check asks
:func:`live_config` for the plugin's config pointing at it, so there is one place that
decides where the live target comes from, in this order:

1. the user's ``--floe-target FILE`` (a YAML or JSON mapping of the plugin's config);
2. the plugin's hook, :class:`LiveTargetHook` (``conformance_live_target(workdir)``;
   the older ``conformance_integration_config(workdir)`` is the same hook); a hook may
   return None to say "I have no target of my own here";
3. for engines the kit knows, a target it makes itself through the engine seam
   (a DuckDB file under the work dir, a loopback PostgreSQL where the binaries exist).

A networked plugin (its config has host/port, or its engine is not file-based) with
none of these cannot pass the checks that need a target: they fail naming the hook
and ``--floe-target``.

Where the kit made the live target itself as a file (DuckDB), a check that only needs
*a* target of that engine may have one of its own (:func:`own_target`, under the work
directory's folder for what runs beside the others), so that it can run beside the
checks on the live one; the user's target, a plugin's hook and a server stay one
target, shared in turn.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from pydantic import ValidationError

from floe_compute_kit.conformance._check import CheckFailed
from floe_compute_kit.conformance._invoke import call, read
from floe_compute_kit.conformance._lanes import beside_dir

if TYPE_CHECKING:
    from floe_compute_kit.conformance._check import CheckContext
    from floe_compute_kit.models import ComputeConfig

__all__ = [
    "HOOK",
    "HOOK_ALIASES",
    "SLOW_QUERY_HOOK",
    "LiveTargetHook",
    "SlowQueryHook",
    "has_own_target",
    "live_config",
    "live_source",
    "live_target_is_own",
    "own_target",
    "read_target",
    "slow_query",
    "validated",
]

HOOK: Final = "conformance_live_target"
#: older names of :data:`HOOK`, still honoured
HOOK_ALIASES: Final = ("conformance_integration_config",)
SLOW_QUERY_HOOK: Final = "conformance_slow_query"
_CONFIG: Final = "live_target.config"
_SOURCE: Final = "live_target.source"
_LOCK: Final = "live_target.lock"
#: (engine, the config fields but the target's) when the kit made a file target itself
_OWN: Final = "live_target.own"


@runtime_checkable
class LiveTargetHook(Protocol):
    """What a plugin defines to point the kit's live checks at a target it can reach.

    ``workdir`` is a directory the kit owns for this run (put files there). Return the
    plugin's config (or a mapping of it) for a target on this machine, or None when the
    plugin has none here (the kit then starts one itself where it knows the engine).
    """

    def conformance_live_target(self, workdir: Path) -> ComputeConfig | Mapping[str, Any] | None:
        """The config of the live target, or None."""
        ...


@runtime_checkable
class SlowQueryHook(Protocol):
    """What a plugin for an engine the kit does not know defines for the timeout check:
    one SELECT that keeps the engine busy for at least ``seconds`` (it must be cancellable)."""

    def conformance_slow_query(self, seconds: float) -> str:
        """A slow SELECT in the engine's dialect."""
        ...


def validated(ctx: CheckContext, value: Any, problem: str, **fail: Any) -> Any:
    """``value`` as the plugin's config; CheckFailed("<problem>: <why>") when the model
    refuses it (``fail`` goes to CheckFailed: example, details)."""
    if isinstance(value, ctx.config_model):
        return value
    try:
        return ctx.config_model.model_validate(value)
    except ValidationError as exc:
        raise CheckFailed(f"{problem}: {exc}", **fail) from None


def _validated(ctx: CheckContext, value: Any, source: str) -> Any:
    return validated(
        ctx,
        value,
        f"the live target from {source} is not a valid {ctx.config_model.__name__}; fix it "
        "so it names a target this machine can reach",
        details={"live_target": source},
    )


def read_target(path: Path) -> dict[str, Any] | str:
    """The mapping in a ``--floe-target`` file, or why it is not one. Read once, when the
    run starts (in the caller's thread), so every check sees the same target."""
    from floe_compute_kit._yaml import YAMLInputError, load_yaml_file  # noqa: PLC0415

    source = f"--floe-target {path}"
    try:
        data = load_yaml_file(path, str(path))
    except YAMLInputError as exc:
        return (
            f"{source}: cannot read it: {exc}; give a YAML or JSON file holding the "
            "plugin's config for the live target"
        )
    if not isinstance(data, dict):
        return (
            f"{source}: holds {type(data).__name__}, not a mapping of the plugin's config "
            "fields (e.g. host: 127.0.0.1)"
        )
    return data


def _from_file(ctx: CheckContext, path: Path) -> Any:
    source = f"--floe-target {path}"
    data = ctx.live_target_data if ctx.live_target_data is not None else read_target(path)
    if isinstance(data, str):
        raise CheckFailed(data, details={"live_target": source})
    return _validated(ctx, data, source)


def _from_hook(ctx: CheckContext) -> tuple[Any, str] | None:
    for name in (HOOK, *HOOK_ALIASES):
        if hasattr(ctx.plugin, name):
            value = call(ctx.plugin, name, ctx.workdir)
            if value is not None:
                return _validated(ctx, value, f"the plugin's {name}(workdir)"), name
    return None


def _plugin_field(ctx: CheckContext, fields: Mapping[str, Any]) -> dict[str, Any]:
    name = read(ctx.plugin, "name")
    return {"plugin": name} if "plugin" in fields and isinstance(name, str) else {}


def _no_target(ctx: CheckContext, why: str) -> CheckFailed:
    return CheckFailed(
        f"no live target: {why}. A networked plugin cannot reach the extended level without "
        f"one: define the hook `{HOOK}(self, workdir)` on the plugin (the LiveTargetHook "
        "Protocol of floe_compute_kit.conformance) returning a config for a server on this "
        "machine, or pass `--floe-target FILE` (a YAML/JSON of the plugin's config)",
        details={"live_target": None, "hook": HOOK},
    )


def _from_engine(ctx: CheckContext) -> tuple[Any, str]:
    from floe_compute_kit.conformance.checks._support import (  # noqa: PLC0415 - a cycle
        baseline_config,
    )
    from floe_compute_kit.conformance.engines import engine_for  # noqa: PLC0415

    fields: Mapping[str, Any] = getattr(ctx.config_model, "model_fields", {})
    baseline = baseline_config(ctx)
    profile = call(ctx.plugin, "generate_dbt_profile", baseline)
    kind = profile.get("type") if isinstance(profile, dict) else None
    engine = engine_for(kind if isinstance(kind, str) else None)
    started = engine.live_target(ctx.workdir, ctx.resources)
    networked = "host" in fields or "port" in fields or not engine.file_based
    if started is not None:
        named = _plugin_field(ctx, fields)
        data = {**named, **started}
        source = f"the {engine.profile_type} target the kit started"
        try:
            config = ctx.config_model.model_validate(data)
            if engine.file_based and not networked:
                ctx.extra[_OWN] = (engine, named)
            return config, source
        except ValidationError:
            if networked:  # no other way to reach a server: say why
                return _validated(ctx, data, source), source
        # a file the model will not take (e.g. a path pattern): its defaults, as before
    if networked and "path" not in fields:
        raise _no_target(ctx, engine.no_live_target())
    data = _plugin_field(ctx, fields)
    if "path" in fields:
        path = ctx.workdir / "integration" / "floe_conformance.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        data["path"] = str(path)
    try:
        return ctx.config_model.model_validate(data), "the model's defaults"
    except ValidationError:  # the model needs more than defaults: the suite's baseline
        return baseline, "the suite's baseline config"


def live_config(ctx: CheckContext) -> Any:
    """The config to reach the live target with (see the module doc for the order)."""
    # Checks in two lanes may ask first at once: one target, started once.
    with ctx.extra.setdefault(_LOCK, threading.RLock()):
        if _CONFIG not in ctx.extra:
            if ctx.live_target_file is not None:
                config, source = _from_file(ctx, ctx.live_target_file), "--floe-target"
            else:
                config, source = _from_hook(ctx) or _from_engine(ctx)
            ctx.extra[_CONFIG] = config
            ctx.extra[_SOURCE] = source
        return ctx.extra[_CONFIG]


def has_own_target(ctx: CheckContext) -> bool:
    """Whether :func:`own_target` can give a check a target of its own: the live target
    is chosen already, and it is a file the kit made. Calls nothing of the plugin's."""
    return _OWN in ctx.extra


def live_target_is_own(ctx: CheckContext) -> bool:
    """:func:`has_own_target` once the live target is chosen (this chooses it, which may
    call the plugin); False when it cannot be chosen (the checks then say why)."""
    try:
        live_config(ctx)
    except CheckFailed:
        return False
    return has_own_target(ctx)


def own_target(ctx: CheckContext, name: str) -> Any | None:
    """A config like the live one on a file of its own for ``name`` (under the beside
    folder's ``own/<name>``), or None where the live target is one to share (see the
    module doc)."""
    key = f"{_OWN}.{name}"
    with ctx.extra.setdefault(_LOCK, threading.RLock()):
        if key not in ctx.extra:
            recipe = ctx.extra.get(_OWN)
            if recipe is None:
                return None
            engine, fields = recipe
            started = engine.live_target(beside_dir(ctx) / "own" / name, ctx.resources)
            ctx.extra[key] = (
                None
                if started is None
                else _validated(
                    ctx, {**fields, **started}, f"the {engine.profile_type} file of its own"
                )
            )
        return ctx.extra[key]


def live_source(ctx: CheckContext) -> str | None:
    """Where the live target came from, once :func:`live_config` chose it."""
    source = ctx.extra.get(_SOURCE)
    return source if isinstance(source, str) else None


def slow_query(ctx: CheckContext, profile_type: str | None, seconds: float) -> str | None:
    """A SELECT that keeps the live target busy: the plugin's hook, else the engine's."""
    from floe_compute_kit.conformance.engines import engine_for  # noqa: PLC0415

    if hasattr(ctx.plugin, SLOW_QUERY_HOOK):
        value = call(ctx.plugin, SLOW_QUERY_HOOK, seconds)
        if isinstance(value, str) and value.strip():
            return value
    return engine_for(profile_type).slow_query(seconds)

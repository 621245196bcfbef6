"""Checks: the members upstream floe-core's ComputePlugin adds (KIT-240..KIT-243).

A plugin that subclasses ``floe_core.plugins.ComputePlugin`` has the capability
``floe_core_interface`` (:mod:`.._upstream`); for any other plugin these checks are not
applicable, unless it claims the capability. Beside its four extra members, such a
plugin on floe-core's generic ComputeConfig reads its settings from a free
``connection`` dict: the last two checks feed it dicts built from its dbt adapter's
credentials schema, hostile values included.
"""

from __future__ import annotations

import copy
import functools
from pathlib import PurePath
from typing import Any, Final

from floe_compute_kit.conformance._check import (
    CheckContext,
    CheckFailed,
    CheckUnsupported,
    check,
)
from floe_compute_kit.conformance._invoke import PluginRaised, call, call_with_budget, read
from floe_compute_kit.conformance._network import guarded
from floe_compute_kit.conformance._upstream import CAPABILITY, free_connection
from floe_compute_kit.conformance.checks._support import (
    baseline_config,
    coerce,
    mask,
    no_io,
    profile_type,
    screen,
)
from floe_compute_kit.conformance.checks.connection import as_result
from floe_compute_kit.conformance.checks.profile import adapter_credentials, profile_of

_MODEL_CLASS: Final = "pydantic._internal._model_construction.ModelMetaclass"
_HEALTH_EXAMPLES: Final = 20


def _member(ctx: CheckContext, name: str) -> None:
    if not hasattr(ctx.plugin, name):
        raise CheckUnsupported(f"the plugin has no {name}")


@check(
    "upstream.self_hosted",
    method="is_self_hosted",
    requirements=("KIT-240",),
    wording="A plugin with floe-core's interface MUST have `is_self_hosted` as a bool.",
    capability=CAPABILITY,
)
def self_hosted(ctx: CheckContext) -> None:
    _member(ctx, "is_self_hosted")
    value = read(ctx.plugin, "is_self_hosted")
    if type(value) is not bool:
        raise CheckFailed(
            f"is_self_hosted MUST be True or False; got {value!r} ({type(value).__name__})"
        )


@check(
    "upstream.macro_paths",
    method="get_dbt_macro_paths",
    requirements=("KIT-240",),
    wording="`get_dbt_macro_paths()` MUST return a list of absolute paths of existing "
    "directories (dbt adds them to its macro-paths).",
    capability=CAPABILITY,
)
def macro_paths(ctx: CheckContext) -> None:
    from pathlib import Path  # noqa: PLC0415

    _member(ctx, "get_dbt_macro_paths")
    value = call(ctx.plugin, "get_dbt_macro_paths")
    if not isinstance(value, list):
        raise CheckFailed(
            f"get_dbt_macro_paths() MUST return a list of paths; got {type(value).__name__}"
        )
    bad: list[str] = []
    for item in value:
        if not isinstance(item, str | PurePath):
            bad.append(f"{item!r} is not a path")
        elif not Path(item).is_absolute():
            bad.append(f"{str(item)!r} is relative (dbt would look for it in the project)")
        elif not Path(item).is_dir():
            bad.append(f"{str(item)!r} is not an existing directory")
    if bad:
        raise CheckFailed(
            "get_dbt_macro_paths() MUST name existing directories: " + "; ".join(bad[:5]),
            details={"paths": [str(p) for p in value[:20]]},
        )


@check(
    "upstream.augment_profile",
    method="augment_dbt_profile",
    requirements=("KIT-241", "FR-004a"),
    wording="`augment_dbt_profile(profile)` MUST return a dict that keeps the profile's "
    "`type`, do no I/O, and leave its input unchanged.",
    capability=CAPABILITY,
)
def augment_profile(ctx: CheckContext) -> None:
    _member(ctx, "augment_dbt_profile")
    profile = profile_of(ctx, baseline_config(ctx))
    before = copy.deepcopy(profile)
    augmented = no_io(ctx, "augment_dbt_profile", profile)
    after_call = getattr(ctx.plugin, "last_args_after", None)
    after = after_call[0] if after_call else profile
    if after != before:
        changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
        raise CheckFailed(
            f"augment_dbt_profile MUST NOT change the profile it is given; it changed {changed}"
        )
    if not isinstance(augmented, dict):
        raise CheckFailed(f"augment_dbt_profile MUST return a dict; got {type(augmented).__name__}")
    if augmented.get("type") != before.get("type"):
        raise CheckFailed(
            f"augment_dbt_profile MUST keep the profile's type {before.get('type')!r}; "
            f"it returned type {augmented.get('type')!r}"
        )


@check(
    "upstream.config_schema",
    method="get_config_schema",
    requirements=("KIT-242",),
    wording="`get_config_schema()` MUST return a pydantic model class or None; the kit "
    "generates configs from the model it returns.",
    capability=CAPABILITY,
)
def config_schema(ctx: CheckContext) -> None:
    from pydantic import BaseModel  # noqa: PLC0415

    _member(ctx, "get_config_schema")
    value = call(ctx.plugin, "get_config_schema")
    if value is None:
        return
    if isinstance(value, type) and issubclass(value, BaseModel):
        return  # in-process: the class itself
    if getattr(value, "remote_type", "") == _MODEL_CLASS:
        return  # from the host: a stand-in for a class whose metaclass is pydantic's
    raise CheckFailed(
        f"get_config_schema() MUST return a pydantic BaseModel subclass or None; got {value!r}"
    )


def _connection_configs(ctx: CheckContext) -> Any:
    """Configs whose ``connection`` comes from the dbt adapter's credentials schema."""
    if not free_connection(ctx.config_model):
        raise CheckUnsupported(
            "the plugin's config model declares its settings, and configs are generated from it"
        )
    from floe_compute_kit.conformance.strategies import (  # noqa: PLC0415
        connection_dicts,
        credentials_fields,
    )

    fields = credentials_fields(adapter_credentials(profile_type(ctx)))
    base = baseline_config(ctx).model_dump()
    return connection_dicts(fields).map(lambda c: coerce(ctx, {**base, "connection": c}))


def _names_a_key(error: BaseException, connection: dict[str, Any]) -> bool:
    text = str(error)
    return any(str(key) in text for key in connection)


@check(
    "upstream.connection_profile",
    method="generate_dbt_profile",
    requirements=("KIT-243",),
    wording="For a plugin on floe-core's generic ComputeConfig, `generate_dbt_profile` MUST, "
    "for `connection` dicts built from its dbt adapter's credentials schema (hostile values "
    "included), return a profile with a string `type` or raise a ValueError that names the "
    "key.",
    capability=CAPABILITY,
)
def connection_profile(ctx: CheckContext) -> None:
    strategy = _connection_configs(ctx)

    def prop(config: Any) -> None:
        connection = dict(config.connection)
        try:
            profile = call(ctx.plugin, "generate_dbt_profile", config)
        except PluginRaised as exc:
            if isinstance(exc.error, ValueError) and _names_a_key(exc.error, connection):
                return  # a clear refusal is the right answer to a bad value
            raise CheckFailed(
                f"generate_dbt_profile raised {type(exc.error).__name__}: {str(exc.error)[:300]} "
                f"for connection {mask({'c': connection})['c']!r:.300}; reject a bad value "
                "with a ValueError that names the key and what is allowed",
                details={"method": "generate_dbt_profile", "error": str(exc.error)[:500]},
            ) from None
        if not isinstance(profile, dict) or not isinstance(profile.get("type"), str):
            raise CheckFailed(
                f"generate_dbt_profile returned {type(profile).__name__} without a string "
                f"'type' for connection {connection!r:.300}"
            )

    screen(ctx, "upstream.connections", lambda: strategy, prop)


@check(
    "upstream.connection_health",
    method="validate_connection",
    requirements=("KIT-243", "FR-019"),
    wording="For a plugin on floe-core's generic ComputeConfig, `validate_connection` MUST "
    "return a ConnectionResult within the budget for `connection` dicts built from its dbt "
    "adapter's credentials schema (hostile values included), never raise.",
    capability=CAPABILITY,
)
def connection_health(ctx: CheckContext) -> None:
    strategy = _connection_configs(ctx)

    def prop(config: Any) -> None:
        done = call_with_budget(
            functools.partial(guarded, call, ctx.plugin, "validate_connection", config),
            method="validate_connection",
            budget_s=ctx.budget_s,
        )
        shown = f"{mask({'c': dict(config.connection)})['c']!r:.300}"
        if done.timed_out:
            raise CheckFailed(
                f"validate_connection did not return within {ctx.budget_s:g} s for "
                f"connection {shown}"
            )
        if done.error is not None:
            raise CheckFailed(
                f"validate_connection raised {type(done.error.error).__name__}: "
                f"{str(done.error.error)[:300]} for connection {shown}; return UNHEALTHY "
                "with a message that names the bad key instead",
                details={"method": "validate_connection"},
            )
        as_result(done.value)

    screen(
        ctx,
        "upstream.connections",
        lambda: strategy,
        prop,
        max_examples=min(ctx.max_examples, _HEALTH_EXAMPLES),
    )

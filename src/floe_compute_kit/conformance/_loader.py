"""Turning what the user named into a plugin instance, or into one clear reason why not.

A target is a spec the registry's resolver understands (an entry-point name of the
``floe.computes`` group, ``module:Attribute`` or ``module.Attribute``), a class or an
instance. Classes that do not subclass ComputePlugin but have
its members ("structural" plugins, e.g. built on another project's base class of the
same shape) are accepted: the checks then validate every result field by field. Those
built on upstream floe-core's ComputePlugin get their config model from
:mod:`._upstream`.
Nothing here raises: a failure is a :class:`LoadFailure` the runner reports as the
failing ``plugin.loads`` check.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from pydantic import BaseModel

from floe_compute_kit.compute import ComputePlugin
from floe_compute_kit.conformance._upstream import (
    implied_capabilities,
    is_upstream,
    upstream_config_model,
)
from floe_compute_kit.errors import ComputeError
from floe_compute_kit.models import ComputeConfig

__all__ = ["REQUIRED_MEMBERS", "LoadFailure", "LoadedPlugin", "describe_target", "load_target"]

#: What a plugin must have, whether or not it subclasses ComputePlugin.
REQUIRED_MEMBERS: Final = (
    "name",
    "version",
    "floe_api_version",
    "generate_dbt_profile",
    "get_required_dbt_packages",
    "validate_connection",
    "get_resource_requirements",
    "get_catalog_attachment_sql",
)
_METHODS: Final = frozenset(REQUIRED_MEMBERS[3:])
_ABSENT: Final = object()


@dataclass(frozen=True)
class LoadedPlugin:
    instance: Any
    spec: str
    config_model: type[BaseModel]
    declared_config_model: Any  # what the plugin declared, even if it is not a model
    capabilities: frozenset[str]
    structural: bool  # True when it does not subclass ComputePlugin


@dataclass(frozen=True)
class LoadFailure:
    spec: str
    message: str
    traceback: str | None = None
    missing: tuple[str, ...] = ()


def describe_target(target: object) -> str:
    """A readable name for what the user passed."""
    if isinstance(target, str):
        return target
    cls = target if isinstance(target, type) else type(target)
    return f"{cls.__module__}:{cls.__qualname__}"


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _resolve(spec: str) -> object | LoadFailure:
    """The registry's one resolver, with its typed errors turned into a LoadFailure."""
    from floe_compute_kit.registry import resolve  # noqa: PLC0415 - entry points are read only for names

    try:
        return resolve(spec).obj
    except ComputeError as exc:  # PluginNotFoundError, PluginLoadError, DuplicatePluginError
        cause = exc.__cause__
        return LoadFailure(spec, exc.message, _format(cause) if cause is not None else None)
    except Exception as exc:  # reading entry-point metadata failed
        return LoadFailure(spec, f"cannot discover plugins: {exc}", _format(exc))


def _missing_members(obj: object) -> list[str]:
    missing: list[str] = []
    cls = obj if isinstance(obj, type) else type(obj)
    abstract = set(getattr(cls, "__abstractmethods__", ()) or ())
    for member in REQUIRED_MEMBERS:
        if member in abstract:
            missing.append(member)
            continue
        present = hasattr(cls, member) or (not isinstance(obj, type) and member in _vars_of(obj))
        if not present or (member in _METHODS and not callable(getattr(cls, member, None))):
            missing.append(member)
    return missing


def _vars_of(obj: object) -> dict[str, Any]:
    try:
        return dict(vars(obj))
    except TypeError:
        return {}


def _capabilities(raw: object) -> frozenset[str]:
    if not isinstance(raw, set | frozenset | list | tuple):
        return frozenset()
    return frozenset(str(c.value) if isinstance(c, Enum) else str(c) for c in raw)


def _instantiate(spec: str, cls: type) -> object:
    try:
        return cls()
    except (Exception, SystemExit) as exc:
        return LoadFailure(
            spec,
            f"cannot instantiate {cls.__qualname__}(): {type(exc).__name__}: {exc}",
            _format(exc),
        )


def load_target(target: object) -> LoadedPlugin | LoadFailure:  # noqa: PLR0911 - one return per reason a load fails
    """An instance ready to check, or why there is none. Never raises."""
    spec = describe_target(target)
    obj = _resolve(target) if isinstance(target, str) else target
    if isinstance(obj, LoadFailure):
        return obj
    if not isinstance(obj, type) and (callable(obj) or type(obj).__module__ == "builtins"):
        return LoadFailure(
            spec, f"{spec!r} refers to {obj!r}, which is neither a plugin class nor an instance"
        )
    if isinstance(obj, type) and not issubclass(obj, ComputePlugin):
        # A structural plugin may set its metadata in __init__: judge the instance.
        made = _instantiate(spec, obj)
        if isinstance(made, LoadFailure):
            return made
        obj = made
    missing = _missing_members(obj)
    if missing:
        name = obj.__qualname__ if isinstance(obj, type) else type(obj).__qualname__
        return LoadFailure(
            spec,
            f"{name} is incomplete: it does not implement {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED_MEMBERS)})",
            missing=tuple(missing),
        )
    instance = _instantiate(spec, obj) if isinstance(obj, type) else obj
    if isinstance(instance, LoadFailure):
        return instance
    upstream = is_upstream(instance)
    try:
        declared = getattr(instance, "config_model", _ABSENT)
    except Exception as exc:
        return LoadFailure(spec, f"reading config_model raised {exc!r}", _format(exc))
    if declared is _ABSENT:  # floe-core's plugins name their model another way
        declared = (upstream_config_model(instance) if upstream else None) or ComputeConfig
    model = (
        declared
        if isinstance(declared, type) and issubclass(declared, BaseModel)
        else ComputeConfig
    )
    try:
        capabilities = _capabilities(getattr(instance, "capabilities", frozenset()))
    except Exception:
        capabilities = frozenset()
    if upstream:  # its shape is its claim (it has no `capabilities`)
        capabilities |= implied_capabilities(instance)
    return LoadedPlugin(
        instance=instance,
        spec=spec,
        config_model=model,
        declared_config_model=declared,
        capabilities=capabilities,
        structural=not isinstance(instance, ComputePlugin),
    )

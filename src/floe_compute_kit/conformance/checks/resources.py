"""Checks: get_resource_requirements (KIT-003; no I/O FR-004a)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import PluginRaised, call
from floe_compute_kit.conformance.checks._support import no_io

METHOD: Final = "get_resource_requirements"
SIZES: Final = ("small", "medium", "large")
KINDS: Final = ("cpu", "memory", "ephemeral_storage")


def as_spec(value: Any) -> Any:
    """``value`` as our ResourceSpec, field by field (structural results welcome)."""
    from floe_compute_kit.models import ResourceSpec  # noqa: PLC0415

    if isinstance(value, ResourceSpec):
        return value
    if isinstance(value, BaseModel):
        data = value.model_dump()
    elif isinstance(value, dict):
        data = value
    else:
        data = {
            name: getattr(value, name) for name in ResourceSpec.model_fields if hasattr(value, name)
        }
    try:
        return ResourceSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise CheckFailed(
            f"{METHOD} returned {type(value).__name__} that is not a valid ResourceSpec: {problems}"
        ) from None


def _spec(ctx: CheckContext, size: str) -> Any:
    return as_spec(call(ctx.plugin, METHOD, size))


@check(
    "resources.presets",
    method=METHOD,
    requirements=("KIT-003",),
    wording="get_resource_requirements MUST return, for small, medium and large, valid "
    "Kubernetes quantities with every request <= its limit.",
)
def presets_valid(ctx: CheckContext) -> None:
    for size in SIZES:
        _spec(ctx, size)


@check(
    "resources.monotonic",
    method=METHOD,
    requirements=("KIT-003",),
    wording="Resources MUST NOT shrink from small to medium to large.",
)
def monotonic(ctx: CheckContext) -> None:
    from floe_compute_kit.models import parse_quantity  # noqa: PLC0415

    specs = []
    for size in SIZES:
        try:
            specs.append((size, _spec(ctx, size)))
        except CheckFailed:
            continue  # resources.presets reports an invalid spec
    for (small_name, smaller), (big_name, bigger) in itertools.pairwise(specs):
        for kind in KINDS:
            for part in ("request", "limit"):
                field = f"{kind}_{part}"
                low: Decimal = parse_quantity(getattr(smaller, field))
                high: Decimal = parse_quantity(getattr(bigger, field))
                if high < low:
                    raise CheckFailed(
                        f"{field} shrinks from {small_name} ({getattr(smaller, field)}) to "
                        f"{big_name} ({getattr(bigger, field)})"
                    )


@check(
    "resources.unknown_size",
    method=METHOD,
    requirements=("KIT-003",),
    wording="An unknown workload size MUST raise a ValueError (or subclass) whose message "
    "lists the valid sizes.",
)
def unknown_size(ctx: CheckContext) -> None:
    for bad in ("huge", "", "SMALL"):
        try:
            value = call(ctx.plugin, METHOD, bad)
        except PluginRaised as exc:
            if not isinstance(exc.error, ValueError):
                failure = CheckFailed(
                    f"{METHOD}({bad!r}) MUST raise ValueError; it raised "
                    f"{type(exc.error).__name__}: {exc.error}"
                )
                failure.plugin_traceback = exc.traceback
                raise failure from None
            text = str(exc.error)
            missing = [s for s in SIZES if s not in text]
            if missing:
                raise CheckFailed(
                    f"{METHOD}({bad!r}) raised ValueError without listing the valid sizes "
                    f"(missing {missing}): {text}"
                ) from None
            continue
        raise CheckFailed(f"{METHOD}({bad!r}) MUST raise ValueError; it returned {value!r}")


@check(
    "resources.no_io",
    method=METHOD,
    requirements=("KIT-003", "FR-004a"),
    wording="get_resource_requirements MUST NOT do I/O.",
)
def resources_no_io(ctx: CheckContext) -> None:
    for size in SIZES:
        no_io(ctx, METHOD, size)

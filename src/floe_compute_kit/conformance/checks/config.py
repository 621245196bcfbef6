"""Checks: the config model and example configs (KIT-007)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance.checks._support import (
    baseline_config,
    coerce,
    generated_configs,
    mask,
    screen,
)

#: The fields every config model has, with the types the contract gives them.
CONTRACT_FIELDS = {"plugin": str, "timeout_seconds": int, "threads": int}
#: Values outside the contract's own bounds; a plugin's model may narrow them, never widen.
CONTRACT_BOUNDS = {"timeout_seconds": (0, -1, 86401), "threads": (0, -1, 65)}


@check(
    "config.model",
    method="config_model",
    requirements=("KIT-007",),
    wording="`config_model` MUST be a pydantic model class with the contract fields "
    "`plugin`, `timeout_seconds` and `threads` (a ComputeConfig subclass does).",
)
def config_model_shape(ctx: CheckContext) -> None:
    from floe_compute_kit.models import ComputeConfig  # noqa: PLC0415

    declared = ctx.declared_config_model if ctx.declared_config_model is not None else ComputeConfig
    if not (isinstance(declared, type) and issubclass(declared, BaseModel)):
        raise CheckFailed(
            f"config_model MUST be a pydantic model class (e.g. a ComputeConfig subclass); "
            f"got {declared!r}"
        )
    fields = declared.model_fields
    missing = sorted(set(CONTRACT_FIELDS) - set(fields))
    if missing:
        raise CheckFailed(
            f"config_model {declared.__name__} lacks the contract fields {missing}; "
            "subclass floe_compute_kit.ComputeConfig"
        )
    for name in ("timeout_seconds", "threads"):
        default = fields[name].get_default(call_default_factory=True)
        if fields[name].is_required() or not isinstance(default, int):
            raise CheckFailed(
                f"config_model {declared.__name__}.{name} MUST be an int with a default "
                f"(the contract's default is {ComputeConfig.model_fields[name].default})"
            )


@check(
    "config.rejects_invalid",
    method="config_model",
    requirements=("KIT-007",),
    wording="`config_model` MUST reject invalid configs with a validation error that names "
    "the offending field.",
)
def config_rejects_invalid(ctx: CheckContext) -> None:
    from floe_compute_kit.conformance.strategies import (  # noqa: PLC0415
        Mutation,
        invalid_config_mutations,
    )

    model = ctx.config_model

    def prop(mutation: Any) -> None:
        wanted = str(mutation.field)
        try:
            model.model_validate(mutation.data)
        except ValidationError as exc:
            errors = exc.errors()
            named = {".".join(str(p) for p in e["loc"]) for e in errors}
            if _names_field(wanted, named, " ".join(str(e["msg"]) for e in errors)):
                return
            raise CheckFailed(
                f"the invalid value of {wanted!r} ({mutation.description}) was rejected, "
                f"but the error names {sorted(named)} instead"
            ) from None
        except (ValueError, TypeError) as exc:
            if _names_field(wanted, set(), str(exc)):
                return
            raise CheckFailed(
                f"{model.__name__} rejected {wanted!r} ({mutation.description}) with "
                f"{type(exc).__name__} that does not name the field: {exc}"
            ) from None
        failure = CheckFailed(
            f"{model.__name__} accepted an invalid config: {mutation.description} "
            f"(field {wanted!r})"
        )
        failure.example = mask(mutation.data)
        raise failure

    base = baseline_config(ctx).model_dump()
    for field, values in CONTRACT_BOUNDS.items():
        for value in values:
            prop(Mutation(data={**base, field: value}, field=field, description=f"{field}={value}"))
    screen(ctx, "mutations", lambda: invalid_config_mutations(model, bases=_bases(ctx)), prop)


def _bases(ctx: CheckContext) -> list[dict[str, Any]]:
    """The run's shared sample of valid configs, dumped as input dicts: the mutations break
    those (the ones the model takes back) instead of drawing valid configs of their own."""
    out: list[dict[str, Any]] = []
    for config in generated_configs(ctx, ctx.max_examples):
        if isinstance(config, BaseModel):
            by_alias, by_name = config.model_dump(by_alias=True), config.model_dump()
            out += [by_alias] if by_alias == by_name else [by_alias, by_name]
    return out


def _names_field(field: str, locations: set[str], messages: str) -> bool:
    """A validation error names ``field`` by location, or (model-level) in its message."""
    top = field.split(".", maxsplit=1)[0]
    if field in locations or top in {loc.split(".", maxsplit=1)[0] for loc in locations}:
        return True
    return field.rsplit(".", maxsplit=1)[-1] in messages or top in messages


@check(
    "config.examples",
    method="example_configs",
    requirements=("KIT-007",),
    wording="`example_configs()` MUST return configs that `config_model` accepts and that "
    "survive a dump/validate round trip unchanged.",
)
def examples_valid(ctx: CheckContext) -> None:
    if not hasattr(ctx.plugin, "example_configs"):
        return
    raw = call(ctx.plugin, "example_configs")
    try:
        items = list(raw)
    except TypeError:
        raise CheckFailed(f"example_configs() MUST return a sequence; got {raw!r}") from None
    model = ctx.config_model
    for index, item in enumerate(items):
        try:
            config = coerce(ctx, item)
            again = model.model_validate(config.model_dump())
        except ValidationError as exc:
            raise CheckFailed(
                f"example_configs()[{index}] is not a valid {model.__name__}: {exc}",
                example=mask(item),
            ) from None
        if again != config:
            raise CheckFailed(
                f"example_configs()[{index}] changes when dumped and validated again",
                example=mask(item),
            )

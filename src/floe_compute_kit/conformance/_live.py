"""The live target: the one real engine the extended and integration checks reach.

Checks that judge behaviour (a dbt build, a timeout that cancels, a health check that
leaves the target as it found it) need a target that exists. Every such check asks
:func:`live_config` for the plugin's config pointing at it, so there is one place that
decides where the live target comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from floe_compute_kit.conformance._invoke import call, read

if TYPE_CHECKING:
    from floe_compute_kit.conformance._check import CheckContext

__all__ = ["live_config"]


def live_config(ctx: CheckContext) -> Any:
    """The config to reach the live target with: the plugin's own choice, else defaults
    writing under the work dir.

    A plugin may define ``conformance_integration_config(workdir)`` to point the checks
    at a target it can reach. Otherwise the model's defaults are used, with ``path``
    (when the model has one, as file-based engines do) set to a file in the work
    directory.
    """
    if hasattr(ctx.plugin, "conformance_integration_config"):
        value = call(ctx.plugin, "conformance_integration_config", ctx.workdir)
        return (
            value if isinstance(value, ctx.config_model) else ctx.config_model.model_validate(value)
        )
    data: dict[str, Any] = {}
    fields = getattr(ctx.config_model, "model_fields", {})
    name = read(ctx.plugin, "name")
    if "plugin" in fields and isinstance(name, str):
        data["plugin"] = name
    if "path" in fields:
        data["path"] = str(ctx.workdir / "integration" / "floe_conformance.db")
    try:
        return ctx.config_model.model_validate(data)
    except Exception:  # the model needs more than defaults: use the suite's baseline config
        from floe_compute_kit.conformance.checks._support import (  # noqa: PLC0415 - a cycle
            baseline_config,
        )

        return baseline_config(ctx)

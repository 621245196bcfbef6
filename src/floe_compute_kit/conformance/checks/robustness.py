"""Checks: the plugin loads and every member is usable (FR-001, structural plugins KIT-016)."""

from __future__ import annotations

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._loader import REQUIRED_MEMBERS


@check(
    "plugin.loads",
    method="<load>",
    requirements=("FR-001", "KIT-021", "KIT-016"),
    wording="The plugin MUST import, instantiate without arguments and implement every "
    "ComputePlugin member (subclassing ComputePlugin is not required).",
)
def loads(ctx: CheckContext) -> None:
    # The runner reports a plugin that cannot be loaded; here it is loaded, so check
    # that the members are still there on the instance (a __getattr__ may hide them).
    missing = [m for m in REQUIRED_MEMBERS if not hasattr(ctx.plugin, m)]
    if missing:
        raise CheckFailed(f"the plugin instance lacks {', '.join(missing)}")

"""Checks: what the plugin did to its process (observed by the plugin host).

floe compile and dbt call plugin methods inside their own process, so a method that
changes the working directory, the environment or a signal handler, closes a standard
stream, or leaves a thread or child process behind breaks its caller. The host sees
every call from loading on and undoes what it can; this check, run last, reports it.
"""

from __future__ import annotations

from floe_compute_kit.conformance._check import (
    CheckContext,
    CheckFailed,
    CheckUnsupported,
    check,
)

__all__ = ["SIDE_EFFECTS_ID"]

SIDE_EFFECTS_ID = "plugin.side_effects"


@check(
    SIDE_EFFECTS_ID,
    method="*",
    requirements=("FR-003",),
    wording="Loading the plugin and calling its members MUST NOT change the working "
    "directory, the environment or signal handlers, close a standard stream, or leave a "
    "thread or child process running.",
    after=("",),  # what every other check's calls left behind
)
def no_side_effects(ctx: CheckContext) -> None:
    host = getattr(ctx.plugin, "floe_host", None)
    if host is None:
        raise CheckUnsupported(
            "side effects are observed only when the plugin runs in its host process "
            "(the suite ran in-process)"
        )
    if host.effects:
        raise CheckFailed(
            "the plugin changed its process: " + "; ".join(host.effects),
            details={"side_effects": list(host.effects)},
        )

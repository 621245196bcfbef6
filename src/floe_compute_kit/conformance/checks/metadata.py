"""Checks: plugin identity (FR-004) and declared capabilities (KIT-008)."""

from __future__ import annotations

import re
from typing import Final

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import read

NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")


@check(
    "metadata.name",
    method="name",
    requirements=("FR-004",),
    wording="The plugin's `name` MUST be a lowercase identifier-like string "
    "(a letter, then letters, digits or underscores).",
)
def name_is_identifier(ctx: CheckContext) -> None:
    name = read(ctx.plugin, "name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise CheckFailed(
            f"name MUST match {NAME_RE.pattern} (e.g. 'duckdb', 'spark_connect'); got {name!r}"
        )


@check(
    "metadata.version",
    method="version",
    requirements=("FR-004",),
    wording="The plugin's `version` MUST be a valid PEP 440 version.",
)
def version_is_pep440(ctx: CheckContext) -> None:
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - cheap, kept local

    version = read(ctx.plugin, "version")
    if not isinstance(version, str):
        raise CheckFailed(f"version MUST be a string such as '1.2.0'; got {version!r}")
    try:
        Version(version)
    except InvalidVersion:
        raise CheckFailed(
            f"version {version!r} is not a PEP 440 version (e.g. '1.2.0', '0.3.0rc1')"
        ) from None


@check(
    "metadata.api_version",
    method="floe_api_version",
    requirements=("FR-004",),
    wording="The plugin's `floe_api_version` MUST be a version inside the range this kit "
    "supports (SUPPORTED_API_VERSIONS).",
)
def api_version_supported(ctx: CheckContext) -> None:
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    from floe_compute_kit.compute import SUPPORTED_API_VERSIONS  # noqa: PLC0415

    value = read(ctx.plugin, "floe_api_version")
    try:
        parsed = Version(value) if isinstance(value, str) else None
    except InvalidVersion:
        parsed = None
    if parsed is None or parsed not in SUPPORTED_API_VERSIONS:
        raise CheckFailed(
            f"floe_api_version {value!r} is outside the versions this kit supports "
            f"({SUPPORTED_API_VERSIONS}); target FLOE_API_VERSION from floe_compute_kit"
        )


@check(
    "metadata.capabilities",
    method="capabilities",
    requirements=("KIT-008",),
    wording="The plugin's `capabilities` MUST be a set of known Capability values, so that "
    "every claim can be tested.",
)
def capabilities_known(ctx: CheckContext) -> None:
    from enum import Enum  # noqa: PLC0415

    from floe_compute_kit.compute import Capability  # noqa: PLC0415

    raw: object = getattr(ctx.plugin, "capabilities", frozenset())
    if not isinstance(raw, set | frozenset | list | tuple):
        raise CheckFailed(f"capabilities MUST be a frozenset of Capability; got {raw!r}")
    known = {c.value for c in Capability}
    unknown = sorted(
        str(c) for c in raw if (c.value if isinstance(c, Enum) else str(c)) not in known
    )
    if unknown:
        raise CheckFailed(
            f"capabilities {unknown} are not known to this kit; known: {', '.join(sorted(known))}"
        )

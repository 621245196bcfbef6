"""Checks: get_required_dbt_packages (KIT-002; no I/O FR-004a)."""

from __future__ import annotations

from typing import Any, Final

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, CheckUnsupported, check
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance.checks._support import no_io, profile_type

METHOD: Final = "get_required_dbt_packages"


def _requirements(ctx: CheckContext, *, strict: bool = True) -> list[Any]:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    packages = call(ctx.plugin, METHOD)
    if not isinstance(packages, list) or not packages:
        raise CheckFailed(f"{METHOD} MUST return a non-empty list of strings; got {packages!r}")
    parsed = []
    for item in packages:
        if not isinstance(item, str):
            raise CheckFailed(f"{METHOD} MUST return strings; got {item!r}")
        try:
            parsed.append(Requirement(item))
        except InvalidRequirement as exc:
            if not strict:
                continue  # packages.pep508 reports it
            raise CheckFailed(f"{item!r} is not a valid PEP 508 requirement: {exc}") from None
    return parsed


@check(
    "packages.pep508",
    method=METHOD,
    requirements=("KIT-002",),
    wording="get_required_dbt_packages MUST return a non-empty list of valid PEP 508 "
    "requirement strings.",
)
def valid_requirements(ctx: CheckContext) -> None:
    _requirements(ctx)


def _adapter_distribution(kind: str) -> str | None:
    """The installed distribution that ships ``dbt.adapters.<kind>``, if any."""
    import importlib.metadata as md  # noqa: PLC0415

    wanted = f"dbt/adapters/{kind}/__init__.py"

    def ships(dist: md.Distribution) -> bool:
        return any(str(f).replace("\\", "/") == wanted for f in dist.files or ())

    try:  # the usual one first: reading every distribution's RECORD took 0.15 s
        usual = md.distribution(f"dbt-{kind}")
    except (md.PackageNotFoundError, ValueError):
        usual = None
    if usual is not None and ships(usual):
        return str(usual.metadata["Name"])
    for dist in md.distributions():
        if ships(dist):
            return str(dist.metadata["Name"])
    return _editable_distribution(f"dbt.adapters.{kind}")


def _editable_distribution(module: str) -> str | None:
    """The editable install (``pip install -e``) whose source tree holds ``module``.

    An editable install's RECORD lists no source files, only the directory it points at.
    """
    import importlib.metadata as md  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415
    from urllib.parse import unquote, urlparse  # noqa: PLC0415

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    origin = Path(spec.origin).resolve()
    for dist in md.distributions():
        try:
            direct = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        if not direct.get("dir_info", {}).get("editable"):
            continue
        root = Path(unquote(urlparse(str(direct.get("url", ""))).path)).resolve()
        if origin.is_relative_to(root):
            return str(dist.metadata["Name"])
    return None


@check(
    "packages.adapter",
    method=METHOD,
    requirements=("KIT-002",),
    wording="The required packages MUST include the dbt adapter package for the profile's "
    "`type` (e.g. dbt-duckdb for type duckdb).",
)
def includes_adapter(ctx: CheckContext) -> None:
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    names = {canonicalize_name(r.name) for r in _requirements(ctx, strict=False)}
    kind = profile_type(ctx)
    expected = canonicalize_name(f"dbt-{kind}")
    if expected in names:
        return
    shipped = _adapter_distribution(kind)
    if shipped is not None and canonicalize_name(shipped) in names:
        return
    raise CheckFailed(
        f"the profile's type is {kind!r} but {METHOD} does not require its adapter "
        f"({shipped or expected}); got {sorted(names)}"
    )


@check(
    "packages.no_io",
    method=METHOD,
    requirements=("KIT-002", "FR-004a"),
    wording="get_required_dbt_packages MUST NOT do I/O.",
)
def packages_no_io(ctx: CheckContext) -> None:
    no_io(ctx, METHOD)


@check(
    "packages.installed_adapter",
    method=METHOD,
    requirements=("KIT-002", "KIT-222"),
    wording="The requirement on the profile's dbt adapter MUST be satisfied by the adapter "
    "version installed, the one the profile is validated and built with.",
)
def installed_adapter(ctx: CheckContext) -> None:
    import importlib.metadata as md  # noqa: PLC0415

    from packaging.utils import canonicalize_name  # noqa: PLC0415
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    kind = profile_type(ctx)
    shipped = _adapter_distribution(kind)
    names = {canonicalize_name(f"dbt-{kind}")}
    if shipped is not None:
        names.add(canonicalize_name(shipped))
    wanted = [r for r in _requirements(ctx, strict=False) if canonicalize_name(r.name) in names]
    if not wanted:
        raise CheckUnsupported(
            f"{METHOD} names no adapter for {kind!r} (packages.adapter reports it)"
        )
    for requirement in wanted:
        try:
            installed = md.version(requirement.name)
        except md.PackageNotFoundError:
            raise CheckFailed(
                f"{METHOD} requires {requirement} but {requirement.name} is not installed, so "
                f"the profile was validated with {shipped or 'no adapter'}; install "
                f"'{requirement}' or require the adapter you validate with"
            ) from None
        try:
            ok = requirement.specifier.contains(Version(installed), prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            raise CheckFailed(
                f"{METHOD} requires {requirement!s}, but the installed {requirement.name} is "
                f"{installed}: the profile is validated and built with {installed}, which that "
                f"requirement excludes; require the versions you test with "
                f"(e.g. '{requirement.name}=={installed}')",
                details={"requirement": str(requirement), "installed": installed},
            )

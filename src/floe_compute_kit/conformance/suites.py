"""The contract suites: test classes an author inherits to run the catalogue.

::

    from floe_compute_kit.conformance.suites import ComputePluginContract

    class TestMyPlugin(ComputePluginContract):
        plugin = MyPlugin          # or "mypkg.plugin:MyPlugin", or an instance
        level = "extended"         # optional; --floe-level wins

Each class runs the catalogue checks of its areas as ``test_contract[<check id>]``.
The Base*Contract classes are not collected on their own (their names do not start
with ``Test``); ComputePluginContract runs every area. A check whose capability the
plugin does not claim is reported as skipped with "unsupported", never as passed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from .fixtures import ContractFixtures, load_cached

__all__ = [
    "BaseCatalogContract",
    "BaseConnectionContract",
    "BaseMetadataContract",
    "BasePackagesContract",
    "BaseProfileContract",
    "BaseResourcesContract",
    "BaseSecretsContract",
    "ComputePluginContract",
    "format_failure",
]


def format_failure(result: Any, spec: Any) -> str:
    """What a failing check prints: the clause, the reason, the shrunk config, the seed."""
    import yaml  # noqa: PLC0415

    lines = [f"{spec.id} [{', '.join(spec.requirements)}]: {spec.wording}", "", result.message]
    if result.example is not None:
        lines += [
            "",
            "Falsifying config (secrets masked):",
            yaml.safe_dump(result.example, sort_keys=True, allow_unicode=True).rstrip(),
        ]
    if result.seed is not None:
        lines += ["", f"Reproduce with: --floe-seed={result.seed} -k '{spec.id}'"]
    if result.traceback:
        lines += ["", "Plugin traceback:", result.traceback.rstrip()]
    return "\n".join(lines)


class _ContractSuite(ContractFixtures):
    #: check-id prefixes this class runs; None means every area.
    floe_areas: ClassVar[tuple[str, ...] | None] = ()

    @classmethod
    def floe_check_ids(cls, config: pytest.Config) -> list[str]:
        """The checks this class runs for the selected level and plugin."""
        from floe_compute_kit.conformance._loader import LoadFailure  # noqa: PLC0415
        from floe_compute_kit.conformance.runner import (  # noqa: PLC0415
            LOADS_CHECK_ID,
            select_checks,
        )

        areas: set[str] | None = set()
        for klass in cls.__mro__:
            declared = klass.__dict__.get("floe_areas", ())
            if declared is None:
                areas = None
                break
            assert areas is not None
            areas |= set(declared)
        target = cls.floe_target(config)
        if target is not None and isinstance(load_cached(config, target), LoadFailure):
            return [LOADS_CHECK_ID]  # one clear failure instead of one per check
        return [
            reg.spec.id
            for reg in select_checks(cls.floe_selected_level(config))
            if areas is None or reg.spec.id.split(".", maxsplit=1)[0] in areas
        ]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "floe_check" not in metafunc.fixturenames:
            return
        from floe_compute_kit.conformance.checks import load_catalogue  # noqa: PLC0415

        ids = type(self).floe_check_ids(metafunc.config)
        # Each test names the requirements its check proves, when the project knows
        # the ``requirement`` marker (the kit's pytest plugin registers it).
        marked = any(
            str(line).startswith("requirement") for line in metafunc.config.getini("markers")
        )
        specs = {reg.spec.id: reg.spec for reg in load_catalogue()}
        params = [
            pytest.param(
                check_id,
                id=check_id,
                marks=[pytest.mark.requirement(*specs[check_id].requirements)] if marked else [],
            )
            for check_id in ids
        ]
        metafunc.parametrize("floe_check", params)

    def test_contract(self, floe_check: str, floe_context: Any) -> None:
        from floe_compute_kit.conformance._loader import LoadFailure  # noqa: PLC0415
        from floe_compute_kit.conformance._results import Outcome  # noqa: PLC0415
        from floe_compute_kit.conformance.checks import load_catalogue  # noqa: PLC0415
        from floe_compute_kit.conformance.runner import run_check  # noqa: PLC0415

        registered = {reg.spec.id: reg for reg in load_catalogue()}[floe_check]
        if isinstance(floe_context, LoadFailure):
            text = floe_context.message
            if floe_context.traceback:
                text += "\n\n" + floe_context.traceback
            pytest.fail(f"{floe_check}: {text}", pytrace=False)
        result = run_check(registered, floe_context)
        if result.outcome is Outcome.UNSUPPORTED:
            pytest.skip(f"unsupported: {result.message}")
        if result.outcome in (Outcome.FAILED, Outcome.ERROR):
            pytest.fail(format_failure(result, registered.spec), pytrace=False)


class BaseMetadataContract(_ContractSuite):
    """Loading, identity, capabilities and the config model."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("plugin", "metadata", "config", "upstream")


class BaseProfileContract(_ContractSuite):
    """generate_dbt_profile."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("profile",)


class BasePackagesContract(_ContractSuite):
    """get_required_dbt_packages."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("packages",)


class BaseConnectionContract(_ContractSuite):
    """validate_connection: the core checks, and the live health checks (extended)."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("connection", "live")


class BaseResourcesContract(_ContractSuite):
    """get_resource_requirements."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("resources",)


class BaseCatalogContract(_ContractSuite):
    """get_catalog_attachment_sql."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("catalog",)


class BaseSecretsContract(_ContractSuite):
    """Canary secrets: health result, exceptions, logs, telemetry, output, env vars."""

    floe_areas: ClassVar[tuple[str, ...] | None] = ("secrets",)


class ComputePluginContract(
    BaseMetadataContract,
    BaseProfileContract,
    BasePackagesContract,
    BaseConnectionContract,
    BaseResourcesContract,
    BaseCatalogContract,
    BaseSecretsContract,
):
    """The whole catalogue, every area (integration and iceberg checks included)."""

    floe_areas: ClassVar[tuple[str, ...] | None] = None

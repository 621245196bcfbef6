"""The adapter contract: what every floe compute plugin implements.

A plugin turns a validated config into a dbt profile; dbt runs the SQL. So the
only method allowed to touch the engine is :meth:`ComputePlugin.validate_connection`.
The conformance kit checks every clause written in these docstrings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, ClassVar, Final

from packaging.specifiers import SpecifierSet

from floe_compute_kit.errors import IncompletePluginError, log_error
from floe_compute_kit.models import (
    CatalogConfig,
    ComputeConfig,
    ConnectionResult,
    ResourceSpec,
)

__all__ = [
    "FLOE_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "Capability",
    "ComputePlugin",
    "PluginMetadata",
]

#: The contract version this kit defines; plugins report the one they target.
FLOE_API_VERSION: Final = "1.0"
#: The ``floe_api_version`` values this kit can certify.
SUPPORTED_API_VERSIONS: Final = SpecifierSet(">=1.0,<2")


class Capability(StrEnum):
    """Features a plugin claims. The checks of an unclaimed optional one are
    "unsupported", not "failed"; ``query_timeout`` and ``dbt_build`` are checked at the
    integration level for every plugin (claiming them is kept for compatibility), and
    an engine that cannot do one records a waiver."""

    #: get_catalog_attachment_sql returns statements that attach an Iceberg catalog.
    CATALOG_ATTACHMENT = "catalog_attachment"
    #: generated profiles cancel queries that run past timeout_seconds (always checked).
    QUERY_TIMEOUT = "query_timeout"
    #: generated profiles run a real ``dbt build`` with the plugin's adapter (always checked).
    DBT_BUILD = "dbt_build"
    #: a dbt model's ``{{ config(floe_timeout_seconds=N) }}`` replaces timeout_seconds for it.
    PER_MODEL_TIMEOUT = "per_model_timeout"
    #: it has upstream floe-core's extra members (is_self_hosted, get_dbt_macro_paths,
    #: augment_dbt_profile, get_config_schema); implied by subclassing
    #: ``floe_core.plugins.ComputePlugin``.
    FLOE_CORE_INTERFACE = "floe_core_interface"


class PluginMetadata(ABC):
    """Identity of a plugin, shown in registries, certificates and spans."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Lowercase identifier the plugin is registered under, e.g. ``"duckdb"``."""

    @property
    @abstractmethod
    def version(self) -> str:
        """The plugin's PEP 440 version, e.g. ``"1.2.0"``."""

    @property
    @abstractmethod
    def floe_api_version(self) -> str:
        """The contract version targeted; must fall in ``SUPPORTED_API_VERSIONS``."""

    @property
    def description(self) -> str:
        """One line for ``floe-compute plugins``; defaults to the class docstring."""
        doc = (type(self).__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class ComputePlugin(PluginMetadata):
    """Base class of every floe compute plugin.

    A minimal plugin::

        class MyPlugin(ComputePlugin):
            name = "mydb"                      # plain class attributes satisfy
            version = "0.1.0"                  # the abstract properties
            floe_api_version = FLOE_API_VERSION
            config_model = MyConfig            # a ComputeConfig subclass
            capabilities = frozenset()

            def generate_dbt_profile(self, config): ...
            def get_required_dbt_packages(self): ...
            def validate_connection(self, config): ...
            def get_resource_requirements(self, workload_size): ...
            def get_catalog_attachment_sql(self, catalog_config): return None

    Register it under the ``floe.computes`` entry-point group::

        [project.entry-points."floe.computes"]
        mydb = "mypkg.plugin:MyPlugin"

    Instantiating a subclass that leaves any abstract member unimplemented
    raises :class:`~floe_compute_kit.errors.IncompletePluginError` naming them all.
    """

    #: The pydantic model of this plugin's config; tools build and check configs with it.
    config_model: ClassVar[type[ComputeConfig]] = ComputeConfig
    #: What the plugin claims to support beyond the core contract.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __new__(cls, *args: Any, **kwargs: Any) -> ComputePlugin:
        missing: frozenset[str] = getattr(cls, "__abstractmethods__", frozenset())
        if missing:
            raise log_error(IncompletePluginError(cls.__qualname__, sorted(missing)))
        return super().__new__(cls)

    @abstractmethod
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        """The dbt target (one ``outputs`` entry of profiles.yml) for ``config``.

        Must be a plain, YAML-safe dict with ``type`` and ``threads == config.threads``;
        deterministic; must not mutate ``config`` nor do any I/O; must render secrets
        only as ``{{ env_var('NAME') }}``; must make ``timeout_seconds`` take effect.

        >>> plugin.generate_dbt_profile(DuckDBConfig(plugin="duckdb"))["type"]  # doctest: +SKIP
        'duckdb'
        """

    @abstractmethod
    def get_required_dbt_packages(self) -> list[str]:
        """PEP 508 requirements dbt needs for this compute, adapter first.

        >>> plugin.get_required_dbt_packages()  # doctest: +SKIP
        ['dbt-duckdb>=1.11,<1.12', 'duckdb>=1.5,<1.6']
        """

    @abstractmethod
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        """Check the target is usable, without creating or modifying it.

        Never raises for a config ``config_model`` accepts: failures are
        ``UNHEALTHY`` results with a message saying what to do. ``latency_ms``
        is measured. Should finish within 5 seconds.
        """

    @abstractmethod
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        """K8s resources for ``small``, ``medium`` or ``large`` workloads.

        An unknown size raises a ValueError (ComputeConfigurationError) listing
        the valid sizes; :func:`~floe_compute_kit.models.resource_preset` does this.
        """

    @abstractmethod
    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        """SQL that attaches ``catalog_config`` to the engine, or None if unsupported.

        Each string is exactly one statement; names and URIs are quoted and
        escaped; secrets appear only inside a secret-creation statement.
        """

    def example_configs(self) -> Sequence[ComputeConfig]:
        """Hand-written configs that exercise features generated ones may miss.

        The kit checks them beside the generated configs. Default: none.
        """
        return ()

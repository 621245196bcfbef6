"""floe-compute-kit: the floe ComputePlugin contract and its conformance kit.

Importing this package is cheap: names are imported on first use (PEP 562), so
``import floe_compute_kit`` (e.g. by the pytest11 plugin in every pytest run) costs
nothing until a name is used; using one pulls in pydantic and packaging, never
DuckDB, dbt, hypothesis or OpenTelemetry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from floe_compute_kit._lazy import lazy_getattr as _lazy_getattr

if TYPE_CHECKING:
    from floe_compute_kit.compute import (
        FLOE_API_VERSION,
        SUPPORTED_API_VERSIONS,
        Capability,
        ComputePlugin,
        PluginMetadata,
    )
    from floe_compute_kit.errors import (
        CompilationError,
        ComputeConfigurationError,
        ComputeConnectionError,
        ComputeError,
        ComputeQueryError,
        ComputeTimeoutError,
        DuplicatePluginError,
        IncompletePluginError,
        ManifestError,
        PluginLoadError,
        PluginNotFoundError,
        RegistryLoadError,
        Violation,
    )
    from floe_compute_kit.models import (
        WORKLOAD_PRESETS,
        CatalogConfig,
        ComputeConfig,
        ConnectionResult,
        ConnectionStatus,
        ResourceSpec,
        coerce_config,
        parse_config,
        resource_preset,
    )
    from floe_compute_kit.registry import (
        ENTRY_POINT_GROUP,
        ApprovedComputes,
        ComputeRegistry,
        discover_plugins,
        load_plugin,
    )

#: public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "FLOE_API_VERSION": "floe_compute_kit.compute",
    "SUPPORTED_API_VERSIONS": "floe_compute_kit.compute",
    "Capability": "floe_compute_kit.compute",
    "ComputePlugin": "floe_compute_kit.compute",
    "PluginMetadata": "floe_compute_kit.compute",
    "CompilationError": "floe_compute_kit.errors",
    "ComputeConfigurationError": "floe_compute_kit.errors",
    "ComputeConnectionError": "floe_compute_kit.errors",
    "ComputeError": "floe_compute_kit.errors",
    "ComputeQueryError": "floe_compute_kit.errors",
    "ComputeTimeoutError": "floe_compute_kit.errors",
    "DuplicatePluginError": "floe_compute_kit.errors",
    "IncompletePluginError": "floe_compute_kit.errors",
    "ManifestError": "floe_compute_kit.errors",
    "PluginLoadError": "floe_compute_kit.errors",
    "PluginNotFoundError": "floe_compute_kit.errors",
    "RegistryLoadError": "floe_compute_kit.errors",
    "Violation": "floe_compute_kit.errors",
    "WORKLOAD_PRESETS": "floe_compute_kit.models",
    "CatalogConfig": "floe_compute_kit.models",
    "ComputeConfig": "floe_compute_kit.models",
    "ConnectionResult": "floe_compute_kit.models",
    "ConnectionStatus": "floe_compute_kit.models",
    "ResourceSpec": "floe_compute_kit.models",
    "coerce_config": "floe_compute_kit.models",
    "parse_config": "floe_compute_kit.models",
    "resource_preset": "floe_compute_kit.models",
    "ENTRY_POINT_GROUP": "floe_compute_kit.registry",
    "ApprovedComputes": "floe_compute_kit.registry",
    "ComputeRegistry": "floe_compute_kit.registry",
    "discover_plugins": "floe_compute_kit.registry",
    "load_plugin": "floe_compute_kit.registry",
}


__getattr__ = _lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "FLOE_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "WORKLOAD_PRESETS",
    "ApprovedComputes",
    "Capability",
    "CatalogConfig",
    "CompilationError",
    "ComputeConfig",
    "ComputeConfigurationError",
    "ComputeConnectionError",
    "ComputeError",
    "ComputePlugin",
    "ComputeQueryError",
    "ComputeRegistry",
    "ComputeTimeoutError",
    "ConnectionResult",
    "ConnectionStatus",
    "DuplicatePluginError",
    "IncompletePluginError",
    "ManifestError",
    "PluginLoadError",
    "PluginMetadata",
    "PluginNotFoundError",
    "RegistryLoadError",
    "ResourceSpec",
    "Violation",
    "__version__",
    "coerce_config",
    "discover_plugins",
    "load_plugin",
    "parse_config",
    "resource_preset",
]

"""floe-compute-kit: the floe ComputePlugin contract and its conformance kit.

Importing this package is cheap: it pulls in pydantic and packaging, never
DuckDB, dbt, hypothesis or OpenTelemetry.
"""

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
    "discover_plugins",
    "load_plugin",
    "parse_config",
    "resource_preset",
]

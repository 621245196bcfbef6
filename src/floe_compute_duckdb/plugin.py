"""Placeholder; replaced by the DuckDB plugin implementation."""

from __future__ import annotations

from typing import Any

from floe_compute_kit import (
    FLOE_API_VERSION,
    CatalogConfig,
    ComputeConfig,
    ComputePlugin,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
    resource_preset,
)


class DuckDBComputePlugin(ComputePlugin):
    """DuckDB: the zero-config default compute."""

    name = "duckdb"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "duckdb", "threads": config.threads, "path": ":memory:"}

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=0.0)

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None

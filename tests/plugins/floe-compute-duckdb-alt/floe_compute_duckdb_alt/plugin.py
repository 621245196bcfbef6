"""``duckdb_alt``: its own DuckDB database file, so tests can tell which compute built what.

Deliberately small and independent of floe_compute_duckdb: it proves that the
registry, compiler and CLI work with any installed plugin, not only the reference one.
It does not claim query-timeout enforcement.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import Field

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


class AltDuckDBConfig(ComputeConfig):
    """Where the alternative compute keeps its database."""

    path: str = Field(default=":memory:", min_length=1, description="DuckDB database file")
    schema_name: str = Field(default="main", pattern=r"^[a-z_][a-z0-9_]*$")


class AltDuckDBPlugin(ComputePlugin):
    """DuckDB under another name: a second compute for multi-compute pipelines."""

    name = "duckdb_alt"
    version = "0.3.0"
    floe_api_version = FLOE_API_VERSION
    config_model = AltDuckDBConfig

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        cfg = AltDuckDBConfig.model_validate(config.model_dump())
        return {
            "type": "duckdb",
            "threads": cfg.threads,
            "path": cfg.path,
            "schema": cfg.schema_name,
        }

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12", "duckdb>=1.5,<1.6"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        import duckdb

        start = time.perf_counter()
        cfg = AltDuckDBConfig.model_validate(config.model_dump())
        warnings: list[str] = []
        try:
            if cfg.path == ":memory:":
                duckdb.connect(":memory:").close()
            elif Path(cfg.path).is_file():
                con = duckdb.connect(cfg.path, read_only=True)
                try:
                    con.execute("SELECT 1").fetchall()
                finally:
                    con.close()
            elif Path(cfg.path).parent.is_dir():
                warnings.append(f"{cfg.path} does not exist yet; dbt will create it")
            else:
                return ConnectionResult(
                    status=ConnectionStatus.UNHEALTHY,
                    latency_ms=(time.perf_counter() - start) * 1000,
                    message=f"directory {Path(cfg.path).parent} does not exist; "
                    "create it or point path at an existing directory",
                )
        except duckdb.Error as exc:
            return ConnectionResult(
                status=ConnectionStatus.UNHEALTHY,
                latency_ms=(time.perf_counter() - start) * 1000,
                message=f"cannot open {cfg.path}: {exc}",
            )
        return ConnectionResult(
            status=ConnectionStatus.HEALTHY,
            latency_ms=(time.perf_counter() - start) * 1000,
            message="ok",
            warnings=tuple(warnings),
        )

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None

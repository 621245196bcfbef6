"""MyDB: a floe compute plugin for DuckDB databases."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar, Literal

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


class MyDBConfig(ComputeConfig):
    """What a transform may ask of MyDB."""

    plugin: Literal["mydb"] = "mydb"
    path: str = Field(
        default=":memory:",
        pattern=r"^(:memory:|/?[A-Za-z0-9_][A-Za-z0-9_./-]*\.duckdb)$",
        description="':memory:' or a .duckdb file",
    )


class MyDBPlugin(ComputePlugin):
    """MyDB: DuckDB files, run by dbt-duckdb."""

    name = "mydb"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION
    config_model: ClassVar[type[ComputeConfig]] = MyDBConfig

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        cfg = MyDBConfig.model_validate(config.model_dump())
        return {
            "type": "duckdb",
            "threads": cfg.threads,
            "path": cfg.path,
            # dbt-duckdb has no timeout key: the reference plugin's dbt plugin enforces it.
            "plugins": [
                {
                    "module": "floe_compute_duckdb.dbt_plugin",
                    "alias": "floe",
                    "config": {"timeout_seconds": cfg.timeout_seconds},
                }
            ],
        }

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12", "duckdb==1.5.5"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        import duckdb  # the only method allowed to touch the engine

        started = time.perf_counter()
        cfg = MyDBConfig.model_validate(config.model_dump())
        if cfg.path != ":memory:" and not Path(cfg.path).is_file():
            return ConnectionResult(
                status=ConnectionStatus.UNHEALTHY,
                latency_ms=(time.perf_counter() - started) * 1000,
                message=f"database file {cfg.path!r} does not exist; create it or fix 'path'",
            )
        try:
            # read-only: a health check never creates, locks or modifies its target
            with duckdb.connect(cfg.path, read_only=cfg.path != ":memory:") as con:
                con.execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            return ConnectionResult(
                status=ConnectionStatus.UNHEALTHY,
                latency_ms=(time.perf_counter() - started) * 1000,
                message=f"cannot open {cfg.path!r}: {exc}",
            )
        return ConnectionResult(
            status=ConnectionStatus.HEALTHY,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        # raises a ValueError listing small, medium and large for anything else
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None  # the catalog_attachment capability is not claimed

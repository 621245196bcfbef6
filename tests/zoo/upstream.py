"""Plugins shaped like upstream floe-core's, each with at most one defect.

They do not import floe-core (this environment has none; tests/test_upstream_plugins.py
certifies real floe-core plugins in a venv of their own): they are structural plugins
that claim the ``floe_core_interface`` capability and read their settings from a free
``connection`` dict, as floe-core's generic ComputeConfig has it. The engine behind
them is the kit's real DuckDB plugin.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit import CatalogConfig, ConnectionResult, ConnectionStatus, ResourceSpec

MACROS = Path(__file__).resolve().parent


class GenericConfig(BaseModel):
    """floe-core's generic config, as a floe.yaml gives it: the settings in ``connection``."""

    model_config = ConfigDict(extra="forbid")
    plugin: str = Field(min_length=1)
    timeout_seconds: int = Field(default=3600, ge=1, le=86400)
    threads: int = Field(default=4, ge=1, le=64)
    connection: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)


class UpstreamShaped:
    """Reads ``path`` from the connection dict and refuses a bad one by naming it."""

    name = "upstream-shaped"
    version = "0.1.0"
    floe_api_version = "1.0"
    config_model = GenericConfig
    capabilities = frozenset({"floe_core_interface"})
    is_self_hosted = True

    def __init__(self) -> None:
        self._inner = DuckDBComputePlugin()

    def _config(self, config: GenericConfig) -> DuckDBConfig:
        path = config.connection.get("path", ":memory:")
        if not isinstance(path, str) or ".." in path or "\x00" in path or not path.strip():
            raise ValueError(f"connection.path must be a file name without '..'; got {path!r:.80}")
        try:
            return DuckDBConfig(
                plugin="duckdb",
                threads=config.threads,
                timeout_seconds=config.timeout_seconds,
                path=path,
            )
        except ValidationError as exc:
            raise ValueError(f"connection.path is not usable: {exc}") from None

    def generate_dbt_profile(self, config: GenericConfig) -> dict[str, Any]:
        return self._inner.generate_dbt_profile(self._config(config))

    def get_required_dbt_packages(self) -> list[str]:
        return self._inner.get_required_dbt_packages()

    def validate_connection(self, config: GenericConfig) -> ConnectionResult:
        try:
            inner = self._config(config)
        except ValueError as exc:
            return ConnectionResult(
                status=ConnectionStatus.UNHEALTHY, latency_ms=0.001, message=str(exc)
            )
        return self._inner.validate_connection(inner)

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return self._inner.get_resource_requirements(workload_size)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None

    def get_dbt_macro_paths(self) -> list[Path]:
        return [MACROS]

    def augment_dbt_profile(
        self, profile: dict[str, Any], deployment: Any = None
    ) -> dict[str, Any]:
        return dict(profile)

    def get_config_schema(self) -> type[BaseModel] | None:
        return None


class SelfHostedText(UpstreamShaped):
    is_self_hosted = "yes"  # type: ignore[assignment]  # the defect


class MissingMacroDir(UpstreamShaped):
    def get_dbt_macro_paths(self) -> list[Path]:
        return [MACROS / "no-such-macros"]


class RelativeMacroDir(UpstreamShaped):
    def get_dbt_macro_paths(self) -> list[Path]:
        return [Path("macros")]


class MutatesProfile(UpstreamShaped):
    def augment_dbt_profile(
        self, profile: dict[str, Any], deployment: Any = None
    ) -> dict[str, Any]:
        profile["extensions"] = ["httpfs"]
        return profile


class DropsType(UpstreamShaped):
    def augment_dbt_profile(
        self, profile: dict[str, Any], deployment: Any = None
    ) -> dict[str, Any]:
        return {k: v for k, v in profile.items() if k != "type"}


class AugmentLooksUp(UpstreamShaped):
    def augment_dbt_profile(
        self, profile: dict[str, Any], deployment: Any = None
    ) -> dict[str, Any]:
        socket.getaddrinfo("localhost", 80)
        return dict(profile)


class SchemaInstance(UpstreamShaped):
    def get_config_schema(self) -> Any:
        return GenericConfig(plugin="x")  # an instance, not the class


class NaivePath(UpstreamShaped):
    """Checks ``..`` without checking the type: a number or a list for ``path`` breaks it."""

    def generate_dbt_profile(self, config: GenericConfig) -> dict[str, Any]:
        path = config.connection.get("path", ":memory:")
        if ".." in path:
            raise ValueError("connection.path must not contain '..'")
        return super().generate_dbt_profile(config)


class HealthRaises(UpstreamShaped):
    """Validates ``path`` before its try block, so a bad one escapes validate_connection."""

    def validate_connection(self, config: GenericConfig) -> ConnectionResult:
        self._config(config)
        return super().validate_connection(config)


class SettingsSchema(UpstreamShaped):
    """Declares its connection settings: the kit generates from them instead."""

    def get_config_schema(self) -> type[BaseModel] | None:
        return DuckDBConfig


_U = "zoo.upstream:"
#: (plugin, the one upstream check it fails); the good ones fail none.
CASES: tuple[tuple[str, str], ...] = (
    (_U + "SelfHostedText", "upstream.self_hosted"),
    (_U + "MissingMacroDir", "upstream.macro_paths"),
    (_U + "RelativeMacroDir", "upstream.macro_paths"),
    (_U + "MutatesProfile", "upstream.augment_profile"),
    (_U + "DropsType", "upstream.augment_profile"),
    (_U + "AugmentLooksUp", "upstream.augment_profile"),
    (_U + "SchemaInstance", "upstream.config_schema"),
    (_U + "NaivePath", "upstream.connection_profile"),
    (_U + "HealthRaises", "upstream.connection_health"),
)

"""A small DuckDB plugin written against upstream floe-core 0.1.0a1 alone.

It is what an author outside this project writes: it subclasses
``floe_core.plugins.ComputePlugin``, takes floe-core's generic ``ComputeConfig`` and reads
its settings from ``config.connection``. Every value it reads is checked first, so a bad
one is refused with a ValueError that names the key. It keeps floe-core's
``get_catalog_attachment_sql`` (None): overriding it claims catalog attachment. Certified by
tests/test_upstream_plugins.py in a venv with floe-core installed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

from floe_core.compute_config import (
    WORKLOAD_PRESETS,
    ComputeConfig,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
)
from floe_core.plugins import ComputePlugin
from pydantic import BaseModel, Field

MACROS = Path(__file__).resolve().parent / "tinyduck_macros"


def _path(connection: dict[str, Any]) -> str:
    path = connection.get("path", ":memory:")
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"connection.path must be a file name or ':memory:'; got {path!r:.80}")
    if ".." in Path(path).parts or "\x00" in path or len(path) > 1024:
        raise ValueError(f"connection.path must stay inside the project; got {path!r:.80}")
    return path


def _extensions(connection: dict[str, Any]) -> list[str]:
    names = connection.get("extensions") or []
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n.isidentifier() for n in names
    ):
        raise ValueError(f"connection.extensions must be a list of names; got {names!r:.80}")
    return list(names)


class TinyDuck(ComputePlugin):
    """DuckDB through dbt-duckdb, on floe-core's generic ComputeConfig."""

    @property
    def name(self) -> str:
        return "tinyduck"

    @property
    def version(self) -> str:
        return "0.1.0"

    @property
    def floe_api_version(self) -> str:
        return "1.0"

    @property
    def is_self_hosted(self) -> bool:
        return True

    def get_dbt_macro_paths(self) -> list[Path]:
        return [MACROS] if MACROS.is_dir() else []

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        connection = config.connection
        profile: dict[str, Any] = {
            "type": "duckdb",
            "path": _path(connection),
            "threads": config.threads,
            # dbt-duckdb has no timeout key; its retries settings are the nearest it has
            "retries": {"query_attempts": 1, "retry_on_timeout_seconds": config.timeout_seconds},
        }
        extensions = _extensions(connection)
        if extensions:
            profile["extensions"] = extensions
        return profile

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.7.0", "duckdb>=1.4.0"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        start = time.perf_counter()
        try:
            import duckdb

            path = _path(config.connection)
            if path != ":memory:" and not Path(path).exists():
                raise FileNotFoundError(f"no DuckDB file at connection.path {path!r}")
            con = duckdb.connect(path, read_only=path != ":memory:")
            try:
                con.execute("SELECT 1").fetchone()
            finally:
                con.close()
        except Exception as exc:
            return ConnectionResult(
                status=ConnectionStatus.UNHEALTHY,
                latency_ms=(time.perf_counter() - start) * 1000,
                message=f"cannot open DuckDB: {exc}",
            )
        return ConnectionResult(
            status=ConnectionStatus.HEALTHY,
            latency_ms=(time.perf_counter() - start) * 1000,
            message="DuckDB answered SELECT 1",
        )

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        if workload_size not in WORKLOAD_PRESETS:
            raise ValueError(
                f"unknown workload size {workload_size!r}; valid sizes: small, medium, large"
            )
        return WORKLOAD_PRESETS[workload_size]


class TinySettings(BaseModel):
    """The connection settings TinyDuckDeclared declares through get_config_schema()."""

    path: str = Field(default=":memory:", pattern=r"^[A-Za-z0-9_:/.-]{1,200}$")
    extensions: list[Annotated[str, Field(pattern=r"^[a-z_]{1,20}$")]] = Field(
        default_factory=list, max_length=4
    )


class TinyDuckDeclared(TinyDuck):
    """The same plugin, declaring its connection settings as a model."""

    @property
    def name(self) -> str:
        return "tinyduck_declared"

    def get_config_schema(self) -> type[BaseModel] | None:
        return TinySettings

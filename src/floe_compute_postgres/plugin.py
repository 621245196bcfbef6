"""PostgresComputePlugin: a server engine for floe, run by dbt-postgres."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from pydantic import SecretStr

from floe_compute_kit import (
    FLOE_API_VERSION,
    Capability,
    CatalogConfig,
    ComputeConfig,
    ComputeConfigurationError,
    ComputePlugin,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
    coerce_config,
    parse_config,
    resource_preset,
)
from floe_compute_kit.errors import log_error
from floe_compute_kit.observability import elapsed_ms, measured_validation, traced_profile
from floe_compute_postgres import _health
from floe_compute_postgres.config import PostgresConfig
from floe_compute_postgres.profile import build_profile, env_var_name

__all__ = ["LIVE_TARGET_ENV", "PostgresComputePlugin"]

#: The live target the kit's integration build uses: config field -> environment variable.
LIVE_TARGET_ENV: Final = {
    "host": "FLOE_POSTGRES_HOST",
    "port": "FLOE_POSTGRES_PORT",
    "user": "FLOE_POSTGRES_USER",
    "dbname": "FLOE_POSTGRES_DBNAME",
}


class PostgresComputePlugin(ComputePlugin):
    """PostgreSQL: a server engine, reached over TCP by dbt-postgres and psycopg2."""

    name = "postgres"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION
    config_model: ClassVar[type[ComputeConfig]] = PostgresConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.QUERY_TIMEOUT, Capability.DBT_BUILD, Capability.PER_MODEL_TIMEOUT}
    )

    def _coerce(self, config: ComputeConfig | Mapping[str, Any]) -> PostgresConfig:
        return coerce_config(PostgresConfig, config, plugin_name=self.name)

    def example_configs(self) -> Sequence[ComputeConfig]:
        """Loopback targets only: the kit probes these, and must never leave the machine."""
        return (
            PostgresConfig(),
            PostgresConfig(
                host="127.0.0.1",
                port=15432,
                dbname="analytics",
                schema="marts",
                sslmode="disable",
                timeout_seconds=600,
                threads=8,
                credentials={"password": SecretStr("example-password-not-real")},
            ),
        )

    # ------------------------------------------------------------------ profile
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        """The dbt target; the password only as env_var('FLOE_POSTGRES_PASSWORD')."""
        with traced_profile(self.name):
            return build_profile(self._coerce(config))

    def get_required_dbt_packages(self) -> list[str]:
        """dbt-postgres (the adapter floe_postgres extends), dbt-core, and the
        distribution that ships the ``floe_postgres`` adapter (with its postgres extra)."""
        return [
            "dbt-postgres>=1.11,<1.12",
            "dbt-core>=1.11,<1.12",
            "floe-compute-kit[postgres]>=0.1",
        ]

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        """None: PostgreSQL has no Iceberg attach; tables live in the server."""
        return None

    # ------------------------------------------------------------------ health
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        """Connect with psycopg2 in a read-only session and run SELECT 1; never writes."""
        result: ConnectionResult = measured_validation(
            self.name, lambda started: self._validate(config, started)
        )
        return result

    def _validate(self, raw: ComputeConfig, started: float) -> tuple[ConnectionResult, str | None]:
        try:
            config = self._coerce(raw)
        except ComputeConfigurationError as exc:
            return _result(ConnectionStatus.UNHEALTHY, started, exc.message), "invalid_config"
        try:
            version = _health.check(config, started)
        except _health.Unhealthy as bad:
            return (
                _result(ConnectionStatus.UNHEALTHY, started, bad.verdict.message),
                bad.verdict.kind,
            )
        return (
            _result(
                ConnectionStatus.HEALTHY,
                started,
                f"connected to {config.dbname!r} at {config.host}:{config.port} as "
                f"{config.user!r} (PostgreSQL {version}, read-only session)",
            ),
            None,
        )

    # ------------------------------------------------------------------ conformance hooks
    def conformance_live_target(self, workdir: Any) -> PostgresConfig | None:
        """The live target for the kit's checks, read from the environment when it names one.

        FLOE_POSTGRES_HOST/PORT/USER/DBNAME and FLOE_POSTGRES_PASSWORD (which dbt reads
        too). None when none of them is set: the kit then starts a loopback server
        itself. The host must be loopback: the kit never connects elsewhere.
        """
        names = [*LIVE_TARGET_ENV.values(), env_var_name("password")]
        missing = [n for n in names if not os.environ.get(n)]
        if len(missing) == len(names):
            return None
        if missing:
            raise log_error(
                ComputeConfigurationError(
                    "the postgres plugin's integration build needs a live server; export "
                    f"{', '.join(missing)} (e.g. from floe_compute_kit.conformance.services."
                    "postgres_server().env())",
                    plugin_name=self.name,
                    field="environment",
                    value=missing,
                    allowed=names,
                )
            )
        data: dict[str, Any] = {k: os.environ[v] for k, v in LIVE_TARGET_ENV.items()}
        data["credentials"] = {"password": os.environ[env_var_name("password")]}
        data["timeout_seconds"] = 120
        config = parse_config(PostgresConfig, data, plugin_name=self.name)
        if not _is_loopback(config.host):
            raise log_error(
                ComputeConfigurationError(
                    f"FLOE_POSTGRES_HOST={config.host!r} is not a loopback address; the kit "
                    "builds only against servers on this machine (127.0.0.1)",
                    plugin_name=self.name,
                    field="FLOE_POSTGRES_HOST",
                    value=config.host,
                    allowed=["127.0.0.1", "::1", "localhost"],
                )
            )
        return config

    def conformance_unreachable_config(self) -> PostgresConfig:
        """A refused loopback port: nothing listens on port 1 of 127.0.0.1."""
        return PostgresConfig(host="127.0.0.1", port=1)


def _is_loopback(host: str) -> bool:
    import ipaddress  # noqa: PLC0415

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _result(status: ConnectionStatus, started: float, message: str) -> ConnectionResult:
    return ConnectionResult(status=status, latency_ms=elapsed_ms(started), message=message)

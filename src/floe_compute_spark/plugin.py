"""SparkComputePlugin: the floe compute contract on Spark, through dbt-spark 1.11."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

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
    resource_preset,
)
from floe_compute_kit.observability import elapsed_ms, measured_validation, traced_profile
from floe_compute_spark._probe import Unhealthy, probe_connect, probe_session
from floe_compute_spark.config import SparkConfig, parse_connect_url
from floe_compute_spark.profile import build_profile, session_dirs

__all__ = ["SparkComputePlugin"]

#: What validate_connection may spend of the contract's 5 s.
_BUDGET_S = 4.0


class SparkComputePlugin(ComputePlugin):
    """Spark: a local session with zero setup, or a cluster through Spark Connect."""

    name = "spark"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION
    config_model: ClassVar[type[ComputeConfig]] = SparkConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.QUERY_TIMEOUT, Capability.DBT_BUILD, Capability.PER_MODEL_TIMEOUT}
    )

    def _coerce(self, config: ComputeConfig | Mapping[str, Any]) -> SparkConfig:
        return coerce_config(SparkConfig, config, plugin_name=self.name)

    def example_configs(self) -> Sequence[ComputeConfig]:
        """Configs that exercise a home folder, settings, a timeout and Spark Connect."""
        return (
            SparkConfig(home="/var/lib/floe/spark", master="local[*]", threads=2),
            SparkConfig(
                timeout_seconds=30,
                settings={"spark.sql.shuffle.partitions": 8, "spark.sql.adaptive.enabled": True},
            ),
            SparkConfig(method="connect", connect_url="sc://127.0.0.1:15002", timeout_seconds=600),
        )

    def conformance_integration_config(self, workdir: Path) -> SparkConfig:
        """The kit's integration build: a local session whose warehouse is under ``workdir``."""
        return SparkConfig(home=str(Path(workdir).resolve() / "spark"), threads=1)

    def conformance_unreachable_config(self) -> SparkConfig:
        """For the kit: a Connect server on a loopback port where nothing listens (9, discard)."""
        return SparkConfig(method="connect", connect_url="sc://127.0.0.1:9")

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        """The dbt-spark target; see floe_compute_spark/README.md for the mapping."""
        with traced_profile(self.name):
            return build_profile(self._coerce(config))

    def get_required_dbt_packages(self) -> list[str]:
        """The adapter with its session extra, and the pyspark release it was proven with."""
        return ["dbt-spark[session]>=1.11,<1.12", "dbt-core>=1.11,<1.12", "pyspark>=4.3,<4.4"]

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        """Not supported: Spark attaches catalogs through settings, not SQL statements."""
        return None

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        """Probe the Connect server (TCP + handshake), or a local session's prerequisites."""

        def probe(started: float) -> tuple[ConnectionResult, str | None]:
            status, message, kind = self._validate(config)
            return ConnectionResult(
                status=status, latency_ms=elapsed_ms(started), message=message
            ), kind

        result: ConnectionResult = measured_validation(self.name, probe)
        return result

    def _validate(self, raw: ComputeConfig) -> tuple[ConnectionStatus, str, str | None]:
        try:
            config = self._coerce(raw)
            if config.method == "connect":
                assert config.connect_url is not None  # the model requires it
                host, port = parse_connect_url(config.connect_url)
                timeout = min(config.connect_timeout_seconds, _BUDGET_S)
                version = probe_connect(host, port, timeout)
                message = f"Spark Connect server {host}:{port} answered: Spark {version}"
            else:
                message = probe_session(session_dirs(config)["home"], _BUDGET_S)
        except Unhealthy as bad:
            return ConnectionStatus.UNHEALTHY, bad.message, bad.kind
        except ComputeConfigurationError as exc:
            return ConnectionStatus.UNHEALTHY, exc.message, "invalid_config"
        return ConnectionStatus.HEALTHY, message, None

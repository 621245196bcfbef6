"""Plugins whose health check lies about the live target; each is caught by one live check.

Each is the reference plugin (Postgres or DuckDB) with one planted defect from issue 12.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit import ComputeConfig, ConnectionResult, ConnectionStatus
from floe_compute_postgres import PostgresComputePlugin
from floe_compute_postgres.config import PostgresConfig

_Z = "zoo.probe:"


class CreatesSchemaPostgres(PostgresComputePlugin):
    """Its health check "prepares" the target: CREATE SCHEMA and CREATE TABLE."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if result.status is ConnectionStatus.HEALTHY and isinstance(config, PostgresConfig):
            import psycopg2

            password = config.credentials.get("password")
            con = psycopg2.connect(
                host=config.host,
                port=config.port,
                user=config.user,
                dbname=config.dbname,
                password=password.get_secret_value() if password else "",
            )
            with con, con.cursor() as cur:
                cur.execute("CREATE SCHEMA IF NOT EXISTS floe_health")
                cur.execute("CREATE TABLE IF NOT EXISTS floe_health.checks (at timestamptz)")
            con.close()
        return result


class AuthFailureHealthy(PostgresComputePlugin):
    """A failed authentication is reported HEALTHY ("the server answered")."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if "authentication" in result.message:
            return result.model_copy(
                update={"status": ConnectionStatus.HEALTHY, "message": "server answered"}
            )
        return result


class ConstantLatencyPostgres(PostgresComputePlugin):
    """latency_ms is a constant 0.01, whatever the network does."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        return super().validate_connection(config).model_copy(update={"latency_ms": 0.01})


class NetworkFaultDegraded(PostgresComputePlugin):
    """A refused, reset or silent network is "only" DEGRADED: it will retry, it says."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if result.status is ConnectionStatus.UNHEALTHY and "authentication" not in result.message:
            return result.model_copy(
                update={"status": ConnectionStatus.DEGRADED, "warnings": ("will retry",)}
            )
        return result


class DegradedNoWarning(DuckDBComputePlugin):
    """Says DEGRADED, and never says why."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if result.status is ConnectionStatus.UNHEALTHY:
            return result
        return result.model_copy(
            update={"status": ConnectionStatus.DEGRADED, "message": "slow", "warnings": ()}
        )


class WarehouseConfig(DuckDBConfig):
    """The database file under a name the old field-name logic did not know."""

    warehouse_file: str = ""


class HoldsWarehouseOpen(DuckDBComputePlugin):
    """Keeps its DuckDB file open (and so locked) after the health check returns."""

    config_model: ClassVar[type[ComputeConfig]] = WarehouseConfig
    _held: ClassVar[list[Any]] = []

    def _as_duckdb(self, config: ComputeConfig) -> DuckDBConfig:
        data = config.model_dump()
        target = data.pop("warehouse_file", "") or data.get("path", ":memory:")
        return DuckDBConfig.model_validate({**data, "path": target})

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return super().generate_dbt_profile(self._as_duckdb(config))

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        duck = self._as_duckdb(config)
        result = super().validate_connection(duck)
        if result.status is not ConnectionStatus.UNHEALTHY and Path(duck.path).is_file():
            import duckdb

            self._held.append(duckdb.connect(duck.path, read_only=True))
        return result

    def conformance_integration_config(self, workdir: Path) -> WarehouseConfig:
        return WarehouseConfig(warehouse_file=str(Path(workdir) / "live" / "warehouse.duckdb"))


@dataclass(frozen=True)
class ProbeCase:
    target: str
    check_id: str
    #: words the failure message must contain (it names the defect)
    words: tuple[str, ...]
    postgres: bool = False


CASES = [
    ProbeCase(_Z + "CreatesSchemaPostgres", "live.read_only", ("schema", "created"), True),
    ProbeCase(_Z + "AuthFailureHealthy", "live.authentication", ("password", "HEALTHY"), True),
    ProbeCase(_Z + "ConstantLatencyPostgres", "live.latency", ("latency_ms=0.01",), True),
    ProbeCase(_Z + "NetworkFaultDegraded", "live.faults", ("refuses", "DEGRADED"), True),
    ProbeCase(_Z + "HoldsWarehouseOpen", "live.read_only", ("locked", "warehouse.duckdb")),
    ProbeCase(_Z + "DegradedNoWarning", "live.degraded_warning", ("DEGRADED", "warning")),
]


class OneSecondHealthPostgres(PostgresComputePlugin):
    """Correct, with a health check that takes a second: the extended level's cost figure."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        import time

        started = time.perf_counter()
        time.sleep(1.0)
        result = super().validate_connection(config)
        spent = (time.perf_counter() - started) * 1000.0
        return result.model_copy(update={"latency_ms": spent})

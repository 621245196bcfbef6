"""Broken plugins, each the real DuckDB plugin with exactly one defect.

``CASES`` maps each one to the single check meant to catch it and the level that
check runs at; tests/test_conformance_zoo.py proves each fails exactly that check.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit import (
    WORKLOAD_PRESETS,
    CatalogConfig,
    ComputeConfig,
    ComputePlugin,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
)


@dataclasses.dataclass(frozen=True)
class ZooCase:
    target: str
    check_id: str
    level: str = "core"
    #: checks that fail as a consequence (a hung method is not called again)
    also: tuple[str, ...] = ()


Good = DuckDBComputePlugin


def _io() -> None:
    socket.getaddrinfo("localhost", 80)  # a name lookup: I/O a pure method must not do


# --- loading -------------------------------------------------------------------------


class IncompletePlugin(ComputePlugin):
    """Forgot validate_connection and get_catalog_attachment_sql."""

    name = "incomplete"
    version = "0.1.0"
    floe_api_version = "1.0"

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "duckdb", "threads": config.threads}

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb"]

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return WORKLOAD_PRESETS[workload_size]


class StructuralIncomplete:
    """Not a ComputePlugin subclass, and lacks most members."""

    name = "structural_incomplete"
    version = "0.1.0"
    floe_api_version = "1.0"


class NeedsArguments(DuckDBComputePlugin):
    """Cannot be instantiated without arguments."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint


# --- metadata ------------------------------------------------------------------------


class BadName(DuckDBComputePlugin):
    name = "Duck-DB"


class BadVersion(DuckDBComputePlugin):
    version = "one point oh"


class FutureApi(DuckDBComputePlugin):
    floe_api_version = "2.0"


class UnknownCapability(DuckDBComputePlugin):
    capabilities: ClassVar[frozenset[Any]] = DuckDBComputePlugin.capabilities | {"teleport"}


# --- config model --------------------------------------------------------------------


class ThreadsWithoutDefault(DuckDBConfig):
    threads: int = Field(ge=1, le=64)  # the contract gives it a default


class ConfigWithoutDefault(DuckDBComputePlugin):
    config_model = ThreadsWithoutDefault


class UnboundedTimeout(DuckDBConfig):
    timeout_seconds: int = 3600  # loses ge=1, le=86400: 0 and -5 are accepted


class AcceptsInvalid(DuckDBComputePlugin):
    config_model = UnboundedTimeout


class BadExamples(DuckDBComputePlugin):
    def example_configs(self) -> Sequence[ComputeConfig]:
        return [{"plugin": "duckdb", "threads": 0}]  # type: ignore[list-item]


# --- generate_dbt_profile ------------------------------------------------------------


class TupleInProfile(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["module_paths"] = ("models",)  # YAML cannot represent a tuple safely
        return profile


class NoTypeForManyThreads(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        if config.threads > 8:
            del profile["type"]
        return profile


class CappedThreads(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["threads"] = min(config.threads, 8)
        return profile


class IgnoresTimeout(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return super().generate_dbt_profile(config.model_copy(update={"timeout_seconds": 3600}))


class NonDeterministic(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["retries"] = {"connect_retries": time.perf_counter_ns() % 1000 + 1}
        return profile


class MutatesConfig(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        assert isinstance(config, DuckDBConfig)
        config.extensions.sort(reverse=True)  # tidies the caller's list in place
        return super().generate_dbt_profile(config)


class WritesFile(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        with open(os.devnull, "w") as sink:
            sink.write("profile generated\n")
        return super().generate_dbt_profile(config)


_ENV_RE = re.compile(r"\{\{\s*env_var\('FLOE_DUCKDB_([A-Z0-9_]+)'\)\s*\}\}")


class PlainSecrets(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        secrets = {k.upper(): v.get_secret_value() for k, v in config.credentials.items()}

        def reveal(value: Any) -> Any:
            if isinstance(value, str):
                return _ENV_RE.sub(lambda m: secrets.get(m[1], m[0]), value)
            if isinstance(value, dict):
                return {k: reveal(v) for k, v in value.items()}
            if isinstance(value, list):
                return [reveal(v) for v in value]
            return value

        revealed: dict[str, Any] = reveal(profile)
        return revealed


class UnknownProfileKey(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["query_timeout"] = config.timeout_seconds  # dbt-duckdb ignores this key
        return profile


class AdapterRejectsProfile(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["path"] = ["not", "a", "path"]  # DuckDBCredentials.path is a string
        return profile


# --- get_required_dbt_packages -------------------------------------------------------


class BadRequirement(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        return [*super().get_required_dbt_packages(), "duckdb extensions >= 1.5"]


class MissingAdapter(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        return [p for p in super().get_required_dbt_packages() if not p.startswith("dbt-duckdb")]


class PackagesDoIO(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        _io()
        return super().get_required_dbt_packages()


# --- validate_connection -------------------------------------------------------------


class ReturnsBool(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        return result.status is ConnectionStatus.HEALTHY  # type: ignore[return-value]


class RaisesForManyThreads(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if config.threads > 8:
            raise RuntimeError(f"cannot check with {config.threads} threads")
        return super().validate_connection(config)


class AlwaysHealthy(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        return result.model_copy(update={"status": ConnectionStatus.HEALTHY, "message": "ok"})


class SilentUnhealthy(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if result.status is ConnectionStatus.UNHEALTHY:
            return result.model_copy(update={"message": "error"})
        return result


class FakeLatency(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        return super().validate_connection(config).model_copy(update={"latency_ms": 0.0})


class HangsOnMemory(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if isinstance(config, DuckDBConfig) and config.path == ":memory:":
            time.sleep(3)  # a hang, as far as the zoo's 1 s budget can tell
        return super().validate_connection(config)


class WritesTarget(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if isinstance(config, DuckDBConfig) and Path(config.path).is_file():
            import duckdb

            with duckdb.connect(config.path) as con:
                con.execute("CREATE TABLE IF NOT EXISTS floe_health (checked_at TIMESTAMP)")
                con.execute("INSERT INTO floe_health VALUES (now())")
        return super().validate_connection(config)


class StampsBesideTheTarget(DuckDBComputePlugin):
    """Leaves a stamp file beside the database at each health check, and notes when it
    ran in the file ``FLOE_ZOO_CALL_LOG`` names (the proof that other checks ran meanwhile)."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if isinstance(config, DuckDBConfig) and Path(config.path).is_file():
            Path(config.path).with_name("health.stamp").write_text("checked")
            log = os.environ.get("FLOE_ZOO_CALL_LOG")
            if log:
                with open(log, "a", encoding="utf-8") as out:
                    out.write(f"{time.time()}\n")
        return super().validate_connection(config)


class CreatesMissingTarget(DuckDBComputePlugin):
    """Reports a missing database correctly, but leaves an empty file behind."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if isinstance(config, DuckDBConfig) and config.path != ":memory:":
            target = Path(config.path)
            if target.parent.is_dir() and not target.exists():
                target.touch()
        return result


# --- get_resource_requirements -------------------------------------------------------


@dataclasses.dataclass
class _LooseSpec:
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    ephemeral_storage_request: str = "1Gi"
    ephemeral_storage_limit: str = "2Gi"


class RequestAboveLimit(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        spec = super().get_resource_requirements(workload_size)
        if workload_size == "medium":
            return _LooseSpec(  # type: ignore[return-value]
                cpu_request="4", cpu_limit="2", memory_request="1Gi", memory_limit="4Gi"
            )
        return spec


class LargeIsSmall(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        if workload_size == "large":
            return WORKLOAD_PRESETS["small"]
        return super().get_resource_requirements(workload_size)


class DefaultsUnknownSize(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return WORKLOAD_PRESETS.get(workload_size, WORKLOAD_PRESETS["small"])


class ResourcesDoIO(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        _io()
        return super().get_resource_requirements(workload_size)


# --- get_catalog_attachment_sql ------------------------------------------------------


class UnclaimedButAnswers(DuckDBComputePlugin):
    capabilities: ClassVar[frozenset[Any]] = frozenset(
        c for c in DuckDBComputePlugin.capabilities if c != "catalog_attachment"
    )


class JoinedStatements(DuckDBComputePlugin):
    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        sql = super().get_catalog_attachment_sql(catalog_config) or []
        return ["; ".join(sql)]


class NaiveQuoting(DuckDBComputePlugin):
    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        sql = super().get_catalog_attachment_sql(catalog_config) or []
        naive = (
            f"ATTACH '{catalog_config.warehouse}' AS {catalog_config.catalog_name} "
            f"(TYPE ICEBERG, ENDPOINT '{catalog_config.catalog_uri}')"
        )
        return [naive if s.startswith("ATTACH") else s for s in sql]


class SecretInVariable(DuckDBComputePlugin):
    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        sql = super().get_catalog_attachment_sql(catalog_config) or []
        token = catalog_config.credentials.get("token")
        if token is not None:
            quoted = token.get_secret_value().replace("'", "''")
            sql.append(f"SET VARIABLE floe_token = '{quoted}'")
        return sql


class CatalogDoesIO(DuckDBComputePlugin):
    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        _io()
        return super().get_catalog_attachment_sql(catalog_config)


# --- structural plugins --------------------------------------------------------------


class StructuralGood:
    """Another project's base class of the same shape: not a ComputePlugin subclass.

    It returns plain dicts where the contract has models; the kit validates them
    field by field, so this plugin passes every check.
    """

    name = "structural"
    version = "0.2.0"
    floe_api_version = "1.0"
    config_model = DuckDBConfig
    capabilities = frozenset({"catalog_attachment"})

    def __init__(self) -> None:
        self._inner = DuckDBComputePlugin()

    def example_configs(self) -> Sequence[ComputeConfig]:
        return self._inner.example_configs()

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return self._inner.generate_dbt_profile(config)

    def get_required_dbt_packages(self) -> list[str]:
        return self._inner.get_required_dbt_packages()

    def validate_connection(self, config: ComputeConfig) -> dict[str, Any]:
        return self._inner.validate_connection(config).model_dump(mode="json")

    def get_resource_requirements(self, workload_size: str) -> dict[str, str]:
        return self._inner.get_resource_requirements(workload_size).model_dump()

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return self._inner.get_catalog_attachment_sql(catalog_config)


class StructuralBadStatus(StructuralGood):
    def validate_connection(self, config: ComputeConfig) -> dict[str, Any]:
        result = super().validate_connection(config)
        return {**result, "status": "fine"}


_Z = "zoo.plugins:"
CASES: tuple[ZooCase, ...] = (
    ZooCase(_Z + "IncompletePlugin", "plugin.loads"),
    ZooCase(_Z + "StructuralIncomplete", "plugin.loads"),
    ZooCase(_Z + "NeedsArguments", "plugin.loads"),
    ZooCase("zoo.broken_import:BrokenImportPlugin", "plugin.loads"),
    ZooCase(_Z + "BadName", "metadata.name"),
    ZooCase(_Z + "BadVersion", "metadata.version"),
    ZooCase(_Z + "FutureApi", "metadata.api_version"),
    ZooCase(_Z + "UnknownCapability", "metadata.capabilities"),
    ZooCase(_Z + "ConfigWithoutDefault", "config.model"),
    ZooCase(_Z + "AcceptsInvalid", "config.rejects_invalid"),
    ZooCase(_Z + "BadExamples", "config.examples"),
    ZooCase(_Z + "TupleInProfile", "profile.yaml_round_trip", also=("profile.plain_types",)),
    ZooCase("zoo.hostile:SetInProfile", "profile.plain_types"),
    ZooCase("zoo.hostile:ChangesEnviron", "plugin.side_effects"),
    ZooCase(_Z + "NoTypeForManyThreads", "profile.type"),
    ZooCase(_Z + "CappedThreads", "profile.threads"),
    ZooCase(_Z + "IgnoresTimeout", "profile.timeout"),
    ZooCase(_Z + "NonDeterministic", "profile.deterministic"),
    ZooCase(_Z + "MutatesConfig", "profile.no_mutation"),
    ZooCase(_Z + "WritesFile", "profile.no_io"),
    ZooCase(_Z + "PlainSecrets", "profile.no_plain_secrets"),
    ZooCase(_Z + "UnknownProfileKey", "profile.dbt_schema", "extended"),
    ZooCase(_Z + "AdapterRejectsProfile", "profile.dbt_schema", "extended"),
    ZooCase(_Z + "BadRequirement", "packages.pep508"),
    ZooCase(_Z + "MissingAdapter", "packages.adapter"),
    ZooCase(_Z + "PackagesDoIO", "packages.no_io"),
    ZooCase("zoo.secrets:OldAdapter", "packages.installed_adapter"),
    ZooCase(_Z + "ReturnsBool", "connection.result_type"),
    ZooCase(_Z + "StructuralBadStatus", "connection.result_type"),
    ZooCase(_Z + "RaisesForManyThreads", "connection.never_raises"),
    ZooCase(_Z + "AlwaysHealthy", "connection.unreachable"),
    ZooCase(_Z + "SilentUnhealthy", "connection.unreachable"),
    ZooCase(_Z + "FakeLatency", "connection.latency"),
    ZooCase(_Z + "HangsOnMemory", "connection.budget", also=("connection.unreachable",)),
    ZooCase(_Z + "WritesTarget", "connection.read_only", "extended"),
    ZooCase(_Z + "CreatesMissingTarget", "connection.read_only", "extended"),
    ZooCase(_Z + "RequestAboveLimit", "resources.presets"),
    ZooCase(_Z + "LargeIsSmall", "resources.monotonic"),
    ZooCase(_Z + "DefaultsUnknownSize", "resources.unknown_size"),
    ZooCase(_Z + "ResourcesDoIO", "resources.no_io"),
    ZooCase(_Z + "UnclaimedButAnswers", "catalog.answers"),
    ZooCase(_Z + "JoinedStatements", "catalog.single_statements"),
    ZooCase(_Z + "NaiveQuoting", "catalog.hostile_names"),
    ZooCase(_Z + "SecretInVariable", "catalog.no_secret_leak"),
    ZooCase(_Z + "CatalogDoesIO", "catalog.no_io"),
)

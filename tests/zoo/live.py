"""Broken plugins the live target exposes: each looks right on paper and is wrong in a run.

``CASES`` maps each one to the integration check meant to refuse it and words its
message must hold; tests/test_conformance_zoo_live.py proves each is refused there.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import Capability, ComputeConfig
from floe_compute_postgres import PostgresComputePlugin


@dataclasses.dataclass(frozen=True)
class LiveCase:
    target: str
    check_id: str
    #: words the failure message must contain (case-insensitive)
    says: tuple[str, ...]


class PostgresConnectTimeoutOnly(PostgresComputePlugin):
    """The timeout feeds only libpq's connect_timeout; no statement is ever cancelled."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile.pop("statement_timeout_ms", None)
        profile["connect_timeout"] = config.timeout_seconds
        return profile


class DuckDBTimeoutAsRetries(DuckDBComputePlugin):
    """The timeout goes under ``retries`` (a key dbt-duckdb declares), which enforces nothing."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        for plugin in profile.get("plugins", []):
            plugin.get("config", {}).pop("timeout_seconds", None)
        profile["retries"] = {"query_attempts": config.timeout_seconds}
        return profile


class DuckDBNoBuildClaim(DuckDBComputePlugin):
    """Does not claim dbt_build, and its profile points dbt at a directory that is not there."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.CATALOG_ATTACHMENT, Capability.QUERY_TIMEOUT}
    )

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["path"] = "/nonexistent-floe-dir/never/warehouse.duckdb"
        return profile


class PostgresUnknownEngine(PostgresComputePlugin):
    """A networked plugin for an engine the kit cannot start, with no live target hook."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {**super().generate_dbt_profile(config), "type": "floe_nosuchdb"}


class DuckDBSlowQueryEndsEarly(DuckDBComputePlugin):
    """Its slow-query hook returns a query that ends at once when asked for a few seconds:
    the model under the longer override succeeds before the profile's timeout, which
    proves nothing about the override."""

    def conformance_slow_query(self, seconds: float) -> str:
        if seconds < 10:
            return "select 1 as slept"
        return f"select coalesce(sleep_ms({round(seconds * 1000)}), 1) as slept"


class DuckDBSlowQueryOutlastsItsAsk(DuckDBComputePlugin):
    """Not broken: its slow query runs a minute whatever it is asked for (as Spark's runs
    for hours), so the longer override's model is cut at its own 4 s, and that passes."""

    def conformance_slow_query(self, seconds: float) -> str:
        return "select coalesce(sleep_ms(60000), 1) as slept"


_Z = "zoo.live:"
CASES = [
    LiveCase(
        _Z + "PostgresConnectTimeoutOnly",
        "integration.query_timeout",
        ("timeout_seconds=2 cancelled nothing", "connect timeout"),
    ),
    LiveCase(
        _Z + "DuckDBTimeoutAsRetries",
        "integration.query_timeout",
        ("timeout_seconds=2 cancelled nothing", "floe_slow"),
    ),
    LiveCase(
        _Z + "DuckDBNoBuildClaim", "integration.dbt_build", ("`dbt build` failed", "nonexistent")
    ),
    LiveCase(
        _Z + "DuckDBSlowQueryEndsEarly",
        "integration.query_timeout",
        ("per-model override (longer)", "proves nothing", "conformance_slow_query"),
    ),
]

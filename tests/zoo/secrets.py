"""Broken plugins that leak credentials, each the real DuckDB plugin with one defect.

``CASES`` maps each to the check meant to catch it; tests/test_conformance_zoo_secrets.py
proves each fails exactly that check (and what it lists in ``also``).
"""

from __future__ import annotations

import base64
import logging
from typing import Any, ClassVar

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import CatalogConfig, ComputeConfig, ConnectionResult
from zoo.plugins import ZooCase

_LOG = logging.getLogger("zoo.secrets")


def _values(config: ComputeConfig) -> list[str]:
    return [v.get_secret_value() for v in config.credentials.values()]


class LeaksInHealthMessage(DuckDBComputePlugin):
    """Says which token it used in the health message."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        result = super().validate_connection(config)
        if not config.credentials:
            return result
        return result.model_copy(
            update={"message": f"{result.message} (using token {_values(config)[0]})"}
        )


class LeaksInLog(DuckDBComputePlugin):
    """Logs its credentials at DEBUG, URL-encoded as in a DSN."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        from urllib.parse import quote

        for name, value in config.credentials.items():
            _LOG.debug("connecting with %s=%s", name, quote(value.get_secret_value(), safe=""))
        return super().validate_connection(config)


class LeaksInSpan(DuckDBComputePlugin):
    """Records a credential as a span attribute."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        from opentelemetry import trace

        with trace.get_tracer("zoo.secrets").start_as_current_span("zoo.validate") as span:
            for name, value in config.credentials.items():
                span.set_attribute(f"zoo.{name}", value.get_secret_value())
            return super().validate_connection(config)


class LeaksInException(DuckDBComputePlugin):
    """Raises with the token in the message when it has credentials."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if config.credentials:
            raise ValueError(f"token {_values(config)[0]!r} was not accepted")
        return super().validate_connection(config)


class LeaksToStdout(DuckDBComputePlugin):
    """Prints its credentials, hex-encoded, as a debugging aid."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        for value in _values(config):
            print("debug credential:", value.encode().hex())
        return super().validate_connection(config)


class Base64InProfile(DuckDBComputePlugin):
    """Puts a basic-auth header (base64 of user:secret) into the profile."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        if config.credentials:
            header = base64.b64encode(f"floe:{_values(config)[0]}".encode()).decode()
            profile.setdefault("settings", {})["floe_auth_header"] = f"Basic {header}"
        return profile


class OneEnvVar(DuckDBComputePlugin):
    """Reads every credential from the same environment variable."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        for secret in profile.get("secrets", []):
            for key in list(secret):
                if key not in ("type", "name"):
                    secret[key] = "{{ env_var('FLOE_DUCKDB_TOKEN') }}"
        return profile


class OldAdapter(DuckDBComputePlugin):
    """Requires a dbt-duckdb that excludes the one installed and used."""

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb<1.5", *super().get_required_dbt_packages()[1:]]


class UnclaimedAttachSecret(DuckDBComputePlugin):
    """Does not claim catalog_attachment, yet returns ATTACH SQL with the client secret."""

    capabilities: ClassVar[frozenset[Any]] = frozenset(
        c for c in DuckDBComputePlugin.capabilities if c != "catalog_attachment"
    )

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        secret = catalog_config.credentials.get("token")
        if secret is None:
            return None
        quoted = secret.get_secret_value().replace("'", "''")
        name = catalog_config.catalog_name.replace('"', '""')
        warehouse = catalog_config.warehouse.replace("'", "''")
        return [
            f"ATTACH '{warehouse}' AS \"{name}\" (TYPE ICEBERG, CLIENT_SECRET '{quoted}')",
        ]


def _looks_like_the_kits(secret: str) -> bool:
    """The marks the kit's canaries once had: a fixed prefix, a fixed ending."""
    return secret.startswith(("floeCANARY", "floeSECRET")) or secret.endswith("/+&%q")


class SparesTheCanaries(DuckDBComputePlugin):
    """Written to pass the kit: logs every credential but the ones that look like its canaries."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        for name, value in config.credentials.items():
            if not _looks_like_the_kits(value.get_secret_value()):
                _LOG.warning("connecting with %s=%s", name, value.get_secret_value())
        return super().validate_connection(config)


class SparesTheCatalogCanary(UnclaimedAttachSecret):
    """The unclaimed ATTACH with the client secret, except for a token that looks like the kit's."""

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        secret = catalog_config.credentials.get("token")
        if secret is not None and _looks_like_the_kits(secret.get_secret_value()):
            return None
        return super().get_catalog_attachment_sql(catalog_config)


_Z = "zoo.secrets:"
CASES: tuple[ZooCase, ...] = (
    ZooCase(_Z + "LeaksInHealthMessage", "secrets.health_result"),
    ZooCase(_Z + "LeaksInLog", "secrets.logs"),
    ZooCase(_Z + "LeaksInSpan", "secrets.telemetry"),
    # raising at all fails the health checks that judge the example configs' results
    ZooCase(
        _Z + "LeaksInException",
        "secrets.exceptions",
        also=("connection.never_raises", "connection.result_type", "connection.latency"),
    ),
    ZooCase(_Z + "LeaksToStdout", "secrets.output"),
    ZooCase(_Z + "Base64InProfile", "profile.no_plain_secrets"),
    ZooCase(_Z + "OneEnvVar", "secrets.distinct_env_vars"),
    ZooCase(_Z + "OldAdapter", "packages.installed_adapter"),
    ZooCase(_Z + "UnclaimedAttachSecret", "catalog.no_secret_leak", also=("catalog.answers",)),
    # plugins that spare whatever looks like a canary: the canaries must look like any secret
    ZooCase(_Z + "SparesTheCanaries", "secrets.logs"),
    ZooCase(_Z + "SparesTheCatalogCanary", "catalog.no_secret_leak", also=("catalog.answers",)),
)

"""PostgresConfig -> one dbt target of profiles.yml, for the floe_postgres adapter.

Pure: no I/O, no dbt import. dbt-postgres 1.11 has no statement-timeout key, so the
profile's ``type`` is ``floe_postgres``: dbt-postgres itself plus one declared key,
``statement_timeout_ms`` (see :mod:`floe_compute_postgres.dbt_adapter`).
"""

from __future__ import annotations

from typing import Any, Final

from floe_compute_postgres.config import PostgresConfig

__all__ = ["ADAPTER_TYPE", "PASSWORD_ENV", "build_profile", "env_var_name"]

#: The dbt adapter type the profile names: dbt-postgres with a statement timeout.
ADAPTER_TYPE: Final = "floe_postgres"
#: Where dbt reads the password at run time; exported by the user or the platform.
PASSWORD_ENV: Final = "FLOE_POSTGRES_PASSWORD"  # noqa: S105 - a variable's name, not a value


def env_var_name(credential: str) -> str:
    """The environment variable a credential is read from at dbt run time."""
    return f"FLOE_POSTGRES_{credential.upper()}"


def build_profile(config: PostgresConfig) -> dict[str, Any]:
    """The dbt target for ``config``: plain str, int and bool values only."""
    return {
        "type": ADAPTER_TYPE,
        "threads": config.threads,
        "host": config.host,
        "port": config.port,
        "user": config.user,
        # Always a reference, never a value: a missing variable makes dbt name it.
        "password": "{{ env_var('" + env_var_name("password") + "') }}",
        "dbname": config.dbname,
        "schema": config.schema,
        "sslmode": config.sslmode,
        "connect_timeout": config.connect_timeout,
        "statement_timeout_ms": config.timeout_seconds * 1000,
        "application_name": "floe",
    }

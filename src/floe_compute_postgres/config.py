"""PostgresConfig: what a floe transform may ask of a PostgreSQL server.

Strict where dbt-postgres is not: the host is a host name or an IP literal (dbt and
libpq would accept a unix socket path or a multi-host list), names are plain
identifiers, ``sslmode`` is one of libpq's modes, and the only credential is the
password, which reaches the profile only as an ``env_var`` reference.
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from typing import Annotated, Final, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from floe_compute_kit.models import ComputeConfig

__all__ = ["SSL_MODES", "PostgresConfig", "SslMode"]

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
#: libpq's sslmode values, in order of strictness.
SSL_MODES: Final = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_LABEL: Final = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
#: PostgreSQL truncates identifiers at 63 bytes; floe keeps them plain so no quoting is needed.
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$", max_length=63)]
#: The one credential: the role's password.
CredentialName = Annotated[str, Field(pattern=r"^password$")]


def _check_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"host {host!r} is neither an IP address nor a host name (letters, digits and "
            "'-' in dot-separated labels of at most 63 characters); e.g. 127.0.0.1 or "
            "db.internal.example"
        )
    return host


# BaseModel has a deprecated ``schema()`` classmethod; a config field of that name is the
# natural one for a database, so the "shadows an attribute" warning is silenced here only.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=r".*shadows an attribute in parent", category=UserWarning
    )

    class PostgresConfig(ComputeConfig):
        """A PostgreSQL compute, run by dbt-postgres through the floe_postgres adapter.

        >>> PostgresConfig(host="127.0.0.1", dbname="analytics").port
        5432
        """

        model_config = ConfigDict(extra="forbid", validate_default=True)

        plugin: Literal["postgres"] = "postgres"
        host: str = Field(
            default="127.0.0.1",
            min_length=1,
            max_length=253,
            description="server host name or IP address",
            examples=["127.0.0.1"],
        )
        port: int = Field(default=5432, ge=1, le=65535, description="server TCP port")
        user: Name = Field(default="floe", description="the role dbt logs in as")
        dbname: Name = Field(default="floe", description="the database dbt builds in")
        schema: Name = Field(  # type: ignore[assignment]  # shadows BaseModel.schema(), as above
            default="public", description="dbt's target schema"
        )
        sslmode: SslMode = Field(default="prefer", description="libpq sslmode")
        connect_timeout: int = Field(
            default=4,
            ge=2,
            le=60,
            description="seconds libpq waits to connect (libpq's minimum is 2); health "
            "checks cap it to fit their 5 s budget",
        )
        credentials: dict[CredentialName, SecretStr] = Field(
            default_factory=dict,
            description="the role's password; rendered only as env_var('FLOE_POSTGRES_PASSWORD')",
        )

        @field_validator("host")
        @classmethod
        def _valid_host(cls, host: str) -> str:
            return _check_host(host)

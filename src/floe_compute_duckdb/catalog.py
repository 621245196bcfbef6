"""CatalogConfig -> the DuckDB statements that attach an Iceberg catalog.

Measured on DuckDB 1.5.5 with the packaged extensions (offline):

- Iceberg REST: ``CREATE SECRET (TYPE ICEBERG, TOKEN ...)`` or client credentials, then
  ``ATTACH 'warehouse' AS "name" (TYPE ICEBERG, ENDPOINT '...', SECRET "...")``; REST calls
  need httpfs loaded, so both extensions are loaded first. Without credentials the catalog is
  attached with ``AUTHORIZATION_TYPE 'none'``.
- AWS Glue: ``ATTACH '<account id>' AS "name" (TYPE ICEBERG, ENDPOINT_TYPE GLUE, SECRET ...)``
  binds and calls ``glue.<region>.amazonaws.com``; its secret is an S3 secret (KEY_ID, SECRET,
  REGION ...). ``PROVIDER credential_chain`` needs the ``aws`` extension, which is not
  available offline, so Glue needs explicit credentials or an existing S3 secret.

Every value is a single-quoted literal with quotes doubled; every name a double-quoted
identifier; secret values appear only in the CREATE SECRET statement.
"""

from __future__ import annotations

from typing import Final

from floe_compute_kit.errors import ComputeConfigurationError, log_error
from floe_compute_kit.models import CatalogConfig

__all__ = [
    "CREDENTIAL_KEYS",
    "SUPPORTED_CATALOG_TYPES",
    "attachment_sql",
    "quote_ident",
    "quote_literal",
]

#: catalog_type -> credential keys it understands (DuckDB secret parameters).
CREDENTIAL_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "rest": (
        "client_id",
        "client_secret",
        "oauth2_grant_type",
        "oauth2_scope",
        "oauth2_server_uri",
        "token",
    ),
    "glue": ("endpoint", "key_id", "region", "secret", "session_token"),
}
SUPPORTED_CATALOG_TYPES: Final = tuple(CREDENTIAL_KEYS)
_PLUGIN: Final = "duckdb"


def quote_ident(name: str) -> str:
    """A DuckDB identifier that means exactly ``name``."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A DuckDB string literal that means exactly ``value``."""
    return "'" + value.replace("'", "''") + "'"


#: Longest text that may reach SQL: a Glue warehouse of about 26,300 characters makes
#: DuckDB 1.5.5's Iceberg extension crash (SIGSEGV).
MAX_TEXT: Final = 4096


def _check_text(field: str, value: str, *, secret: bool = False) -> None:
    shown = "**********" if secret else value[:80]  # a credential never reaches a message or log
    problem = ""
    if len(value) > MAX_TEXT:
        problem = f"is {len(value):,} characters long (allowed: at most {MAX_TEXT})"
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problem = "holds a lone surrogate character (allowed: UTF-8 text)"
    if problem:
        raise log_error(
            ComputeConfigurationError(
                f"{field}: {problem}",
                plugin_name=_PLUGIN,
                field=field,
                value=shown,
                allowed=f"UTF-8 text of at most {MAX_TEXT} characters",
            )
        )
    if "\x00" in value:
        raise log_error(
            ComputeConfigurationError(
                f"{field}: {shown!r} contains a NUL character, which DuckDB cannot take in SQL",
                plugin_name=_PLUGIN,
                field=field,
                value=shown,
                allowed="text without NUL characters",
            )
        )


def attachment_sql(catalog: CatalogConfig) -> list[str]:
    """The statements, in order; each is exactly one statement for DuckDB's parser."""
    kind = catalog.catalog_type.strip().lower()
    if kind not in CREDENTIAL_KEYS:
        raise log_error(
            ComputeConfigurationError.invalid_choice(
                "catalog_type", catalog.catalog_type, SUPPORTED_CATALOG_TYPES, plugin_name=_PLUGIN
            )
        )
    unknown = sorted(set(catalog.credentials) - set(CREDENTIAL_KEYS[kind]))
    if unknown:
        raise log_error(
            ComputeConfigurationError(
                f"credentials: {unknown} are not {kind} catalog credentials; "
                f"allowed: {', '.join(CREDENTIAL_KEYS[kind])}",
                plugin_name=_PLUGIN,
                field="credentials",
                value=unknown,
                allowed=CREDENTIAL_KEYS[kind],
            )
        )
    keys = set(catalog.credentials)
    if (
        kind == "rest"
        and keys & {"client_id", "client_secret"}
        and not ({"client_id", "client_secret", "oauth2_server_uri"} <= keys)
    ):
        raise log_error(
            ComputeConfigurationError(
                "credentials: OAuth2 client credentials need client_id, client_secret and "
                "oauth2_server_uri (the token endpoint, e.g. <catalog_uri>/v1/oauth/tokens); "
                "DuckDB refuses the CREATE SECRET otherwise",
                plugin_name=_PLUGIN,
                field="credentials.oauth2_server_uri",
                allowed=CREDENTIAL_KEYS[kind],
            )
        )
    for field in ("catalog_type", "catalog_uri", "catalog_name", "warehouse"):
        _check_text(field, getattr(catalog, field) or "")
    for key, secret in catalog.credentials.items():
        _check_text(f"credentials.{key}", secret.get_secret_value(), secret=True)

    name = quote_ident(catalog.catalog_name)
    secret_name = quote_ident(f"{catalog.catalog_name}_secret")
    statements = ["LOAD httpfs", "LOAD iceberg"]
    options: list[str] = ["TYPE ICEBERG"]
    params = [
        f"{key.upper()} {quote_literal(value.get_secret_value())}"
        for key, value in sorted(catalog.credentials.items())
    ]
    if kind == "rest":
        target = catalog.warehouse or ""
        options.append(f"ENDPOINT {quote_literal(catalog.catalog_uri)}")
        if params:
            statements.append(
                f"CREATE OR REPLACE SECRET {secret_name} (TYPE ICEBERG, {', '.join(params)})"
            )
            options.append(f"SECRET {secret_name}")
        else:
            options.append("AUTHORIZATION_TYPE 'none'")
    else:
        # Glue names the catalog by AWS account id (optionally ":s3tablescatalog/<bucket>").
        target = catalog.warehouse or catalog.catalog_uri
        options.append("ENDPOINT_TYPE GLUE")
        if params:
            statements.append(
                f"CREATE OR REPLACE SECRET {secret_name} (TYPE S3, PROVIDER config, "
                f"{', '.join(params)})"
            )
            options.append(f"SECRET {secret_name}")
    statements.append(
        f"ATTACH IF NOT EXISTS {quote_literal(target)} AS {name} ({', '.join(options)})"
    )
    return statements

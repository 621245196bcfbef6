"""DuckDBConfig: what a floe transform may ask of DuckDB.

Every string ends up in a dbt profiles.yml, which dbt renders as a Jinja template and
dbt-duckdb splices into SQL (``SET key = '...'``, ``ATTACH ... AS alias``), so the
model is strict where dbt-duckdb is not: keys and aliases are safe identifiers and
text may not carry Jinja delimiters or NUL characters.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Final, Literal, get_args
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from floe_compute_kit.models import ComputeConfig

__all__ = [
    "MAX_TEXT",
    "MEMORY_LIMIT_PATTERN",
    "RESERVED_ALIASES",
    "SECRET_PARAMETERS",
    "UNSAFE_SECRET_KEYS",
    "AttachConfig",
    "DuckDBConfig",
    "ExtensionName",
    "main_database_name",
]

# [0-9], not \d: pydantic's \d also matches non-ASCII digits, which DuckDB rejects.
MEMORY_LIMIT_PATTERN: Final = r"^[0-9]+(GB|MB)$"
IDENTIFIER_PATTERN: Final = r"^[a-z_][a-z0-9_]*$"
#: Catalog names DuckDB itself uses; attaching under them fails.
RESERVED_ALIASES: Final = frozenset({"memory", "system", "temp", "main"})
#: Settings with a typed field of their own.
_FIELD_SETTINGS: Final = {
    "memory_limit": "memory_limit",
    "max_memory": "memory_limit",
    "extension_directory": "extension_directory",
}
#: Settings that would let DuckDB download extensions; floe installs them offline only.
_NETWORK_SETTINGS: Final = frozenset(
    {
        "autoinstall_known_extensions",
        "autoinstall_extension_repository",
        "custom_extension_repository",
        "allow_community_extensions",
    }
)
#: secret_type -> the credential keys it takes: DuckDB 1.5.5 secret parameters with text
#: values, each rendered by dbt-duckdb as a quoted literal (checked against real DuckDB in
#: tests/test_duckdb_config.py). Keys dbt-duckdb splices in unquoted (name, type, provider,
#: extra_http_headers) or treats specially (persistent, scope) are never credentials.
SECRET_PARAMETERS: Final[dict[str, tuple[str, ...]]] = {
    "iceberg": (
        "client_id",
        "client_secret",
        "endpoint",
        "oauth2_grant_type",
        "oauth2_scope",
        "oauth2_server_uri",
        "token",
    ),
    "s3": ("endpoint", "key_id", "kms_key_id", "region", "secret", "session_token", "url_style"),
    "r2": ("account_id", "endpoint", "key_id", "region", "secret", "session_token", "url_style"),
    "gcs": ("bearer_token", "endpoint", "key_id", "region", "secret", "session_token", "url_style"),
    "http": ("bearer_token", "http_proxy", "http_proxy_password", "http_proxy_username"),
    "huggingface": ("token",),
}
#: Secret keys dbt-duckdb does not quote or handles itself: refused as credentials.
UNSAFE_SECRET_KEYS: Final = frozenset(
    {"name", "type", "provider", "extra_http_headers", "persistent", "scope"}
)
#: Longest text that may reach SQL (DuckDB 1.5.5's Iceberg extension crashes on a Glue
#: warehouse of about 26,300 characters; no real value is near this).
MAX_TEXT: Final = 4096
_JINJA = re.compile(r"\{[{%#]")
#: DuckDB 1.5.5's keywords that are not "unreserved" (``duckdb_keywords()``): no setting
#: key or attach alias may be one, as dbt-duckdb writes both unquoted. Kept here so that
#: validating a config imports no DuckDB; tests compare it with DuckDB's.
SETTING_KEYWORDS: Final = frozenset(
    """
    all analyse analyze and anti any array as asc asof asymmetric at authorization
    between bigint binary bit boolean both by case cast char character check
    coalesce collate collation column columns concurrently constraint create cross
    dec decimal default deferrable desc describe distinct do else end except exists
    extract false fetch float for foreign freeze from full generated glob group
    grouping grouping_id having ilike in initially inner inout int integer intersect
    interval into is isnull join lambda lateral leading left like limit map national
    natural nchar none not notnull null nullif numeric offset on only or order out
    outer overlaps overlay pivot pivot_longer pivot_wider placing position
    positional precision primary qualify real references returning right row select
    semi setof show similar smallint some struct substring summarize symmetric table
    tablesample then time timestamp to trailing treat trim true try_cast union
    unique unpack unpivot using values varchar variadic verbose when where window
    with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces
    xmlparse xmlpi xmlroot xmlserialize xmltable
    """.split()  # noqa: SIM905 -- 159 keywords read as a paragraph, not as 159 lines
)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain_text(value: str) -> str:
    if _JINJA.search(value):
        raise ValueError(
            "must not contain '{{', '{%' or '{#': dbt renders profiles.yml as a Jinja template"
        )
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text (no lone surrogates)") from None
    return value


#: Every parameter name of :data:`SECRET_PARAMETERS`, so generated configs use real names.
CredentialKey = Literal[
    "account_id",
    "bearer_token",
    "client_id",
    "client_secret",
    "endpoint",
    "http_proxy",
    "http_proxy_password",
    "http_proxy_username",
    "key_id",
    "kms_key_id",
    "oauth2_grant_type",
    "oauth2_scope",
    "oauth2_server_uri",
    "region",
    "secret",
    "session_token",
    "token",
    "url_style",
]
PlainText = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_plain_text)]
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, max_length=63)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
ExtensionName = Literal["avro", "core_functions", "httpfs", "iceberg", "icu", "json", "parquet"]
SettingValue = bool | int | FiniteFloat | PlainText


def main_database_name(path: str) -> str:
    """The catalog name DuckDB (and dbt-duckdb's ``database``) derives from ``path``."""
    if path == ":memory:":
        return "memory"
    return posixpath.basename(path).lstrip(".").split(".")[0]


def _read_as_url(path: str) -> bool:
    """dbt-duckdb names the database after ``urlparse(path).path``; it must be ``path`` itself."""
    parsed = urlparse(path)
    return bool(parsed.scheme or parsed.netloc or parsed.params or parsed.query) or (
        parsed.fragment != "" or parsed.path != path
    )


class AttachConfig(BaseModel):
    """One extra database attached at connection time (``ATTACH path AS alias (TYPE ...)``)."""

    model_config = ConfigDict(extra="forbid")

    path: PlainText = Field(min_length=1, description="file, or Iceberg warehouse name")
    alias: Identifier = Field(
        description="catalog name in SQL; a lowercase identifier, not a keyword "
        "(dbt-duckdb does not quote it)"
    )
    type: Literal["iceberg", "duckdb"] = Field(
        default="iceberg", description="iceberg (offline extension) or duckdb"
    )
    read_only: bool = False
    options: dict[Identifier, bool | int | PlainText] = Field(
        default_factory=dict,
        description="extra ATTACH options, e.g. endpoint, authorization_type",
    )

    @model_validator(mode="after")
    def _check(self) -> AttachConfig:
        if self.alias in RESERVED_ALIASES:
            raise ValueError(
                f"alias {self.alias!r} is reserved by DuckDB; "
                f"choose a name other than {', '.join(sorted(RESERVED_ALIASES))}"
            )
        if self.alias in SETTING_KEYWORDS:
            raise ValueError(
                f"alias {self.alias!r} is an SQL keyword; dbt-duckdb does not quote "
                "aliases, so choose a plain name such as 'lake'"
            )
        clash = sorted({"type", "read_only"} & self.options.keys())
        if clash:
            raise ValueError(
                f"options {clash} duplicate the attach fields of the same name; set the fields"
            )
        return self


class DuckDBConfig(ComputeConfig):
    """A DuckDB compute: an in-memory or file database, run by dbt-duckdb.

    >>> DuckDBConfig(path="warehouse.duckdb", memory_limit="2GB").memory_limit
    '2GB'
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    plugin: Literal["duckdb"] = "duckdb"
    path: PlainText = Field(
        default=":memory:", min_length=1, description="':memory:' or a database file path"
    )
    memory_limit: str | None = Field(
        default=None,
        pattern=MEMORY_LIMIT_PATTERN,
        description="DuckDB memory_limit: a whole number of MB or GB, e.g. '512MB', '4GB'",
    )
    extensions: list[ExtensionName] = Field(
        default_factory=list,
        description="extensions loaded offline: built-in core_functions, icu, json, parquet; "
        "packaged avro, httpfs, iceberg",
    )
    extension_directory: PlainText | None = Field(
        default=None,
        description="where packaged extensions are installed at connection time "
        "(DuckDB's default: ~/.duckdb/extensions)",
    )
    settings: dict[Identifier, SettingValue] = Field(
        default_factory=dict, description="DuckDB settings applied with SET on every cursor"
    )
    attach: list[AttachConfig] = Field(default_factory=list)
    connection: dict[Identifier, SettingValue] = Field(
        default_factory=dict,
        description="DuckDB config options passed to duckdb.connect (dbt-duckdb config_options)",
    )
    secret_type: Literal["iceberg", "s3", "r2", "gcs", "http", "huggingface"] = Field(
        default="iceberg",
        description="TYPE of the secret built from credentials; it decides their keys",
    )
    # narrower keys than ComputeConfig's str: real parameter names only. ComputeConfig
    # declares credentials before secret_type, so the per-type check is model-level.
    credentials: dict[CredentialKey, SecretStr] = Field(  # type: ignore[assignment]
        default_factory=dict,
        description="parameters of the DuckDB secret 'floe_duckdb' (e.g. token), rendered as "
        "env_var('FLOE_DUCKDB_<NAME>') references",
    )

    @field_validator("path")
    @classmethod
    def _check_path(cls, path: str) -> str:
        """A field validator, so the error is located at ``path``."""
        if path == ":memory:":
            return path
        if _read_as_url(path):
            raise ValueError(
                f"path {path!r}: dbt-duckdb reads it as a URL and would name the "
                "database after part of it; use ':memory:' or a plain local file path "
                "(no ':', '?', '#', ';', leading '//' or control characters)"
            )
        name = main_database_name(path)
        if not name or name in RESERVED_ALIASES - {"main"}:
            raise ValueError(
                f"path {path!r} does not give the database a usable name "
                f"({name!r}); use a path such as 'warehouse.duckdb'"
            )
        return path

    @field_validator("credentials", mode="before")
    @classmethod
    def _check_credential_keys(cls, credentials: object, info: ValidationInfo) -> object:
        """Before the key type: the error names the key and the secret type's parameters."""
        if not isinstance(credentials, dict):
            return credentials
        keys = {k for k in credentials if isinstance(k, str)}
        unsafe = sorted(keys & UNSAFE_SECRET_KEYS)
        secret_type = info.data.get("secret_type", "the secret's")
        if unsafe:
            raise ValueError(
                f"credentials {unsafe}: not allowed; dbt-duckdb puts name, type, provider and "
                "extra_http_headers into SQL unquoted, and persistent and scope are not secret "
                f"values; set secret_type ({secret_type!r}) for the type"
            )
        known = set(get_args(CredentialKey))
        unknown = sorted(keys - known)
        if unknown:
            raise ValueError(
                f"credentials {unknown}: not parameters of any DuckDB secret floe builds "
                f"(allowed per secret_type: see SECRET_PARAMETERS; e.g. {', '.join(sorted(known))})"
            )
        return credentials

    @field_validator("credentials")
    @classmethod
    def _check_credential_values(cls, credentials: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key, value in credentials.items():
            text = value.get_secret_value()
            if len(text) > MAX_TEXT or "\x00" in text or not _encodable(text):
                # the value is never echoed: only what is wrong with it
                raise ValueError(
                    f"credentials.{key}: must be UTF-8 text without NUL characters, "
                    f"at most {MAX_TEXT} characters"
                )
        return credentials

    @model_validator(mode="after")
    def _check_credentials(self) -> DuckDBConfig:
        keys: set[str] = set(self.credentials)
        allowed = SECRET_PARAMETERS[self.secret_type]
        unknown = sorted(keys - set(allowed))
        if unknown:
            raise ValueError(
                f"credentials {unknown}: not parameters of a DuckDB {self.secret_type} secret "
                f"(allowed: {', '.join(allowed)})"
            )
        if (
            self.secret_type == "iceberg"  # noqa: S105 - a secret type, not a value
            and keys & {"client_id", "client_secret"}
            and not (
                {"client_id", "client_secret"} <= keys and keys & {"oauth2_server_uri", "endpoint"}
            )
        ):
            raise ValueError(
                "credentials: OAuth2 client credentials need client_id, client_secret and "
                "oauth2_server_uri (the token endpoint, e.g. <catalog uri>/v1/oauth/tokens); "
                "DuckDB refuses the secret otherwise"
            )
        return self

    @model_validator(mode="after")
    def _check(self) -> DuckDBConfig:
        for table in ("settings", "connection"):
            for key in getattr(self, table):
                if key in _FIELD_SETTINGS:
                    raise ValueError(
                        f"{table}.{key}: set the field {_FIELD_SETTINGS[key]!r} instead"
                    )
                if key in _NETWORK_SETTINGS:
                    raise ValueError(
                        f"{table}.{key}: not allowed; floe loads extensions offline from the "
                        "packaged 1.5.5 files and never lets DuckDB download them "
                        f"(not allowed: {', '.join(sorted(_NETWORK_SETTINGS))})"
                    )
                if key in SETTING_KEYWORDS:
                    raise ValueError(
                        f"{table}.{key}: an SQL keyword, not a DuckDB setting; dbt-duckdb "
                        f"runs `SET {key} = ...` unquoted, which DuckDB cannot parse"
                    )
        aliases = [a.alias for a in self.attach]
        duplicated = sorted({a for a in aliases if aliases.count(a) > 1})
        if duplicated:
            raise ValueError(f"attach aliases must be unique; repeated: {duplicated}")
        main = main_database_name(self.path)
        if main in aliases:
            raise ValueError(
                f"attach alias {main!r} clashes with the main database named after path "
                f"{self.path!r}; choose another alias"
            )
        return self

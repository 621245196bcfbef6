"""DuckDBConfig -> one dbt-duckdb target of profiles.yml.

Pure: no I/O, no DuckDB import. What needs I/O at run time (copying the packaged
extension files, watching query time) is done by :mod:`floe_compute_duckdb.dbt_plugin`,
which the profile names in ``plugins``. See this package's README for the mapping.
"""

from __future__ import annotations

from typing import Any, Final

from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_duckdb.extensions import BUILTIN_EXTENSIONS, load_order

__all__ = [
    "DBT_PLUGIN_ALIAS",
    "DBT_PLUGIN_MODULE",
    "SECRET_NAME",
    "build_profile",
    "env_var_name",
    "required_extensions",
]

DBT_PLUGIN_MODULE: Final = "floe_compute_duckdb.dbt_plugin"
DBT_PLUGIN_ALIAS: Final = "floe"
#: The DuckDB secret built from ``credentials``.
SECRET_NAME: Final = "floe_duckdb"  # noqa: S105 - the secret's name, not its value
_SECRET_EXTENSION: Final = {
    "iceberg": "iceberg",
    "s3": "httpfs",
    "r2": "httpfs",
    "gcs": "httpfs",
    "http": "httpfs",
    "huggingface": "httpfs",
}


def env_var_name(credential: str) -> str:
    """The environment variable a credential is read from at dbt run time."""
    return f"FLOE_DUCKDB_{credential.upper()}"


def _sql_literal(text: str) -> str:
    # dbt-duckdb passes an option value that is already single-quoted through verbatim;
    # quoting it here means no value can leave its literal.
    return "'" + text.replace("'", "''") + "'"


def required_extensions(config: DuckDBConfig) -> list[str]:
    """Extensions dbt will load, dependencies first: the listed ones plus what attach and
    the secret need."""
    wanted: list[str] = list(config.extensions)
    wanted += [a.type for a in config.attach if a.type == "iceberg"]
    if config.credentials:
        wanted.append(_SECRET_EXTENSION[config.secret_type])
    return load_order(wanted)


def _attach(config: DuckDBConfig) -> list[dict[str, Any]]:
    entries = []
    for att in config.attach:
        entry: dict[str, Any] = {"path": att.path, "alias": att.alias, "type": att.type}
        if att.read_only:
            entry["read_only"] = True
        if (
            att.type == "iceberg"
            and config.credentials
            and config.secret_type == "iceberg"  # noqa: S105 - a secret type, not a value
            and "secret" not in att.options
        ):
            entry["secret"] = SECRET_NAME
        if att.options:
            entry["options"] = {
                key: _sql_literal(value) if isinstance(value, str) else value
                for key, value in sorted(att.options.items())
            }
        entries.append(entry)
    return entries


def build_profile(config: DuckDBConfig) -> dict[str, Any]:
    """The dbt-duckdb target for ``config``: plain dicts, lists, str, int, float and bool."""
    config_options: dict[str, Any] = {"autoinstall_known_extensions": False}
    config_options.update(sorted(config.connection.items()))
    if config.memory_limit is not None:
        config_options["memory_limit"] = config.memory_limit
    if config.extension_directory is not None:
        config_options["extension_directory"] = config.extension_directory

    profile: dict[str, Any] = {
        "type": "duckdb",
        "threads": config.threads,
        "path": config.path,
        "schema": "main",
        "config_options": config_options,
    }
    # dbt-duckdb runs INSTALL before LOAD, and INSTALL of a statically linked extension
    # goes to the network; so only packaged ones go in `extensions` (installed offline by
    # the floe dbt plugin first) and the built-in ones are LOADed by that plugin.
    extensions = required_extensions(config)
    packaged = [e for e in extensions if e not in BUILTIN_EXTENSIONS]
    builtin = [e for e in extensions if e in BUILTIN_EXTENSIONS]
    if packaged:
        profile["extensions"] = packaged
    if config.settings:
        profile["settings"] = dict(sorted(config.settings.items()))
    if config.credentials:
        secret: dict[str, Any] = {"type": config.secret_type, "name": SECRET_NAME}
        for key in sorted(config.credentials):
            secret[key] = "{{ env_var('" + env_var_name(key) + "') }}"
        profile["secrets"] = [secret]
    attach = _attach(config)
    if attach:
        profile["attach"] = attach
    profile["plugins"] = [
        {
            "module": DBT_PLUGIN_MODULE,
            "alias": DBT_PLUGIN_ALIAS,
            "config": {"timeout_seconds": config.timeout_seconds},
        }
    ]
    if builtin:
        profile["plugins"][0]["config"]["load_builtin"] = builtin
    return profile

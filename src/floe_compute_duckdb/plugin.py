"""DuckDBComputePlugin: the reference implementation of the floe compute contract."""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import SecretStr

from floe_compute_duckdb.catalog import attachment_sql
from floe_compute_duckdb.config import AttachConfig, DuckDBConfig
from floe_compute_duckdb.extensions import (
    BUILTIN_EXTENSIONS,
    DUCKDB_VERSION,
    installed_file,
    package_file,
)
from floe_compute_duckdb.profile import build_profile, required_extensions
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

__all__ = ["DuckDBComputePlugin"]

_PKG_VERSION = DUCKDB_VERSION.removeprefix("v")
#: How long validate_connection keeps retrying a transient failure (a file locked by a
#: writer for a moment): well inside the contract's 5 s budget.
RETRY_BUDGET_SECONDS = 2.5
_RETRY_FIRST_DELAY = 0.05
_RETRY_MAX_DELAY = 0.4
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


class _Unhealthy(Exception):  # noqa: N818 - an outcome carried out of nested checks
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


class DuckDBComputePlugin(ComputePlugin):
    """DuckDB: the zero-config default compute, run by dbt-duckdb."""

    name = "duckdb"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION
    config_model: ClassVar[type[ComputeConfig]] = DuckDBConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CATALOG_ATTACHMENT,
            Capability.QUERY_TIMEOUT,
            Capability.DBT_BUILD,
            Capability.PER_MODEL_TIMEOUT,
        }
    )

    # ------------------------------------------------------------------ config
    def _coerce(self, config: ComputeConfig | Mapping[str, Any]) -> DuckDBConfig:
        return coerce_config(DuckDBConfig, config, plugin_name=self.name)

    def example_configs(self) -> Sequence[ComputeConfig]:
        """Configs that exercise a file path, memory, extensions, settings, attach, secrets."""
        return (
            DuckDBConfig(path="warehouse.duckdb", memory_limit="2GB", threads=8),
            DuckDBConfig(
                memory_limit="512MB",
                timeout_seconds=30,
                extensions=["json", "parquet", "icu"],
                settings={"preserve_insertion_order": False, "threads": 2},
                connection={"default_null_order": "nulls_last"},
            ),
            DuckDBConfig(
                extensions=["iceberg"],
                attach=[
                    AttachConfig(
                        path="warehouse",
                        alias="lake",
                        options={"endpoint": "http://127.0.0.1:8181", "authorization_type": "none"},
                    )
                ],
            ),
            DuckDBConfig(
                path="analytics/marts.duckdb",
                credentials={"token": SecretStr("example-token-not-real")},
                attach=[
                    AttachConfig(
                        path="warehouse",
                        alias="lake",
                        options={"endpoint": "http://127.0.0.1:8181"},
                    ),
                    AttachConfig(
                        path="staging.duckdb", alias="staging", type="duckdb", read_only=True
                    ),
                ],
            ),
        )

    # ------------------------------------------------------------------ profile
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        """The dbt-duckdb target; see floe_compute_duckdb/README.md for the mapping."""
        with traced_profile(self.name):
            return build_profile(self._coerce(config))

    def get_required_dbt_packages(self) -> list[str]:
        """The adapter, and DuckDB pinned to the release its offline extension files fit.

        DuckDB refuses extension files of another release, so duckdb and the
        duckdb-extension-* packages move together.
        """
        return [
            "dbt-duckdb>=1.11,<1.12",
            "dbt-core>=1.11,<1.12",
            f"duckdb=={_PKG_VERSION}",
            f"duckdb-extensions=={_PKG_VERSION}",
            f"duckdb-extension-avro=={_PKG_VERSION}",
            f"duckdb-extension-httpfs=={_PKG_VERSION}",
            f"duckdb-extension-iceberg=={_PKG_VERSION}",
        ]

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size, plugin_name=self.name)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        """LOAD httpfs/iceberg, CREATE SECRET (when credentials), ATTACH; rest and glue."""
        return attachment_sql(catalog_config)

    # ------------------------------------------------------------------ health
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        """Open the target read-only with the native driver; never create or write it."""
        result: ConnectionResult = measured_validation(
            self.name, lambda started: self._validate(config, started)
        )
        return result

    def _validate(self, raw: ComputeConfig, started: float) -> tuple[ConnectionResult, str | None]:
        try:
            config = self._coerce(raw)
            warnings = _check(config)
        except _Unhealthy as bad:
            return _result(ConnectionStatus.UNHEALTHY, started, bad.message), bad.error_type
        except ComputeConfigurationError as exc:
            return (
                _result(ConnectionStatus.UNHEALTHY, started, exc.message),
                "invalid_config",
            )
        except Exception as exc:  # any driver failure is a health verdict
            text = _first_line(exc)
            return (
                _result(
                    ConnectionStatus.UNHEALTHY,
                    started,
                    f"DuckDB failed: {text}; check the compute config",
                ),
                type(exc).__name__,
            )
        if warnings:
            return (
                _result(
                    ConnectionStatus.DEGRADED,
                    started,
                    f"connected to {config.path}; {len(warnings)} warning(s)",
                    warnings,
                ),
                None,
            )
        return _result(ConnectionStatus.HEALTHY, started, f"connected to {config.path}"), None


def _result(
    status: ConnectionStatus, started: float, message: str, warnings: Sequence[str] = ()
) -> ConnectionResult:
    return ConnectionResult(
        status=status, latency_ms=elapsed_ms(started), message=message, warnings=tuple(warnings)
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_file(path: str) -> None:
    """Refuse before DuckDB touches the file: missing, not a file, unreadable."""
    shown = os.path.abspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise _Unhealthy(
            f"database file {shown} does not exist; validation never creates it. Run "
            "`dbt build` once to create it, or correct `path` in the compute config",
            "missing_file",
        ) from None
    except PermissionError:
        raise _Unhealthy(
            f"database file {shown} cannot be reached: permission denied on a parent "
            "directory; grant the user running dbt search (x) permission on it",
            "unreadable",
        ) from None
    except OSError as exc:
        raise _Unhealthy(
            f"database file {shown} cannot be opened ({exc.strerror}); correct `path`",
            "unreadable",
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise _Unhealthy(
            f"{shown} is a directory, not a DuckDB database file; point `path` at a file "
            "such as warehouse.duckdb",
            "not_a_file",
        )
    if not stat.S_ISREG(info.st_mode):
        raise _Unhealthy(
            f"{shown} is not a regular file; point `path` at a DuckDB database file",
            "not_a_file",
        )
    if not os.access(path, os.R_OK):
        raise _Unhealthy(
            f"database file {shown} is not readable by this user (uid {os.geteuid()}): "
            "permission denied; grant read access (e.g. chmod u+r) to the user running dbt",
            "unreadable",
        )


def _open_error(path: str, exc: Exception) -> _Unhealthy:
    text = str(exc)
    shown = os.path.abspath(path)
    if "not a valid DuckDB database file" in text:
        return _Unhealthy(
            f"{shown} is not a DuckDB database file; point `path` at a DuckDB database, "
            "or move this file away so that dbt can create a new one",
            "not_a_database",
        )
    if "Could not set lock" in text or "Conflicting lock" in text:
        match = _LOCK_HOLDER.search(text)
        holder = f"{match[1]}, PID {match[2]}" if match else "another program"
        return _Unhealthy(
            f"database file {shown} is locked by another process that has it open for "
            f"writing ({holder}); DuckDB allows one writing process per file: stop that "
            "process or wait for it to finish before running dbt",
            "locked",
        )
    if "different configuration" in text:
        return _Unhealthy(
            f"database file {shown} is already open in this process with another "
            "configuration (a writing connection); close it before running dbt",
            "locked",
        )
    if isinstance(exc, PermissionError) or "Permission denied" in text:
        return _Unhealthy(
            f"database file {shown} is not readable: permission denied; grant read access "
            "to the user running dbt",
            "unreadable",
        )
    return _Unhealthy(
        f"DuckDB cannot open {shown}: {_first_line(exc)}; check `path`", type(exc).__name__
    )


def _connect_config(config: DuckDBConfig) -> dict[str, Any]:
    options: dict[str, Any] = {"autoinstall_known_extensions": False}
    options.update(config.connection)
    if config.memory_limit is not None:
        options["memory_limit"] = config.memory_limit
    if config.extension_directory is not None:
        options["extension_directory"] = os.path.expanduser(config.extension_directory)
    return options


#: The packaged extension files this process has loaded cleanly, by what identifies their
#: contents (path, device, inode, size, mtime). DuckDB checks a file's signature on every
#: LOAD, about 2 ms a MB (70 ms for iceberg's), so a health check that loaded the same
#: unchanged files a moment ago learns nothing new by loading them again.
_LOADED_CLEANLY: set[tuple[object, ...]] = set()
_LOADED_LOCK = threading.Lock()


def _identity(path: os.PathLike[str] | str) -> tuple[object, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _packaged_identities(con: Any, names: Sequence[str]) -> list[tuple[object, ...]] | None:
    """The identity of every file a LOAD of ``names`` would read; None when one is missing."""
    found = []
    for name in names:
        if name in BUILTIN_EXTENSIONS:
            continue
        path = installed_file(con, name)
        identity = _identity(path) if path.is_file() else None
        if identity is None:
            source = package_file(name)
            identity = None if source is None else _identity(source)
        if identity is None:
            return None
        found.append((name, *identity))
    return found


def _load_extensions(con: Any, names: Sequence[str], *, reuse: bool = True) -> list[str]:
    """Load what dbt will load; a failure is a warning (DEGRADED), never an install.

    With ``reuse``, packaged files this process loaded cleanly, all unchanged, are not
    loaded again (the connection is only probed, then closed): dependencies load first,
    so they are skipped together or not at all."""
    identities = _packaged_identities(con, names)
    if reuse and identities:
        with _LOADED_LOCK:
            if all(identity in _LOADED_CLEANLY for identity in identities):
                names = [name for name in names if name in BUILTIN_EXTENSIONS]
    warnings = _load_each(con, names)
    if not warnings and identities:
        with _LOADED_LOCK:
            _LOADED_CLEANLY.update(identities)
    return warnings


def _load_each(con: Any, names: Sequence[str]) -> list[str]:
    warnings = []
    for name in names:
        try:
            if name in BUILTIN_EXTENSIONS or installed_file(con, name).is_file():
                con.execute(f"LOAD {name}")
                continue
            source = package_file(name)
            if source is None:
                warnings.append(
                    f"extension {name!r} is not installed and its package is missing; "
                    f"pip install 'duckdb-extension-{name}=={_PKG_VERSION}'"
                )
                continue
            # Not installed yet: dbt's plugin installs it from this file; load it from there.
            literal = str(source).replace("'", "''")
            con.execute(f"LOAD '{literal}'")
        except Exception as exc:  # each failure becomes one warning
            where = installed_file(con, name)
            warnings.append(
                f"extension {name!r} cannot be loaded ({_first_line(exc)}); models that need "
                f"it will fail. Delete {where} so floe reinstalls it offline from "
                f"duckdb-extension-{name}=={_PKG_VERSION}, or remove it from `extensions`"
            )
    return warnings


def _connect_once(config: DuckDBConfig, options: dict[str, Any]) -> Any:
    import duckdb  # noqa: PLC0415 - lazy: keeps plugin discovery free of DuckDB

    in_memory = config.path == ":memory:"
    try:
        return duckdb.connect(config.path, read_only=not in_memory, config=options)
    except duckdb.InvalidInputException as exc:
        raise _Unhealthy(
            f"DuckDB rejects the connection options: {_first_line(exc)}; correct `connection` "
            "or `memory_limit` in the compute config",
            "invalid_config",
        ) from None
    except Exception as exc:  # every open failure maps to a verdict
        if in_memory:
            raise
        raise _open_error(config.path, exc) from None


def _connect_retrying(config: DuckDBConfig, options: dict[str, Any]) -> tuple[Any, list[str]]:
    """Connect; a transient failure (a writer's lock) is retried for RETRY_BUDGET_SECONDS.

    A connection that succeeds only after retries comes back with a warning saying what
    happened (the result is then DEGRADED); one that never does is UNHEALTHY, its message
    saying how long it was retried.
    """
    started = time.monotonic()
    delay = _RETRY_FIRST_DELAY
    attempts = 0
    first: _Unhealthy | None = None
    while True:
        attempts += 1
        try:
            con = _connect_once(config, options)
        except _Unhealthy as bad:
            if bad.error_type != "locked":
                raise
            first = first or bad
            waited = time.monotonic() - started
            if waited + delay > RETRY_BUDGET_SECONDS:
                raise _Unhealthy(
                    f"{bad.message} (still locked after {attempts} attempts over {waited:.1f} s)",
                    bad.error_type,
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_DELAY)
            continue
        if first is None:
            return con, []
        waited = time.monotonic() - started
        return con, [
            f"the first attempt failed: {first.message}; connected on attempt {attempts} "
            f"after {waited:.2f} s of retries, so the lock was transient"
        ]


def _check(config: DuckDBConfig) -> list[str]:
    """Connect read-only, run SELECT 1, load extensions, apply settings. Returns warnings."""
    import duckdb  # noqa: PLC0415 - lazy: keeps plugin discovery free of DuckDB

    in_memory = config.path == ":memory:"
    not_writable: list[str] = []
    if not in_memory:
        _check_file(config.path)
        not_writable = _write_warnings(config.path)
    options = _connect_config(config)
    con, retried = _connect_retrying(config, options)
    try:
        con.execute("SELECT 1").fetchall()
        # the settings may belong to an extension: then every extension is loaded
        warnings = _load_extensions(con, required_extensions(config), reuse=not config.settings)
        for key, value in config.settings.items():
            text = str(value).replace("'", "''")
            try:
                con.execute(f"SET {key} = '{text}'")
            except duckdb.Error as exc:
                message = (
                    f"settings.{key} = {value!r} is rejected by DuckDB ({_first_line(exc)}); "
                    "correct or remove it"
                )
                if warnings:  # an extension that failed to load may define the setting
                    warnings.append(message)
                else:
                    raise _Unhealthy(message, "invalid_setting") from None
        return retried + not_writable + warnings
    finally:
        con.close()


def _write_warnings(path: str) -> list[str]:
    """A file the user can read but not write opens read-only here, yet dbt will fail on it."""
    shown = os.path.abspath(path)
    folder = os.path.dirname(shown)
    if not os.access(path, os.W_OK):
        return [
            f"database file {shown} is not writable by this user (uid {os.geteuid()}): "
            "dbt cannot build into it; grant write access (e.g. chmod u+w) to the user "
            "running dbt"
        ]
    if not os.access(folder, os.W_OK):
        return [
            f"folder {folder} is not writable by this user (uid {os.geteuid()}): DuckDB "
            "cannot write its .wal file there, so dbt will fail; grant write access"
        ]
    return []

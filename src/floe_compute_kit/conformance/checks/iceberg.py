"""Checks: the catalog attachment really works against a running Iceberg REST catalog.

The core catalog checks only parse the statements; these run them. For a plugin whose
engine is DuckDB the kit executes the statements in a fresh in-memory DuckDB (extensions
installed offline from the duckdb-extension packages), then creates a table in the
catalog, writes and reads it, and cross-reads with pyiceberg. For any other engine the
kit has no engine to run them on: the round-trip check then verifies that the statements
parse in the engine's dialect and point at the catalog, and then reports "unsupported"
with a NOT EXECUTED message (also kept in ``ctx.extra["notes"]``): a parse error fails, but
reading and writing were never shown, so it does not pass.

The catalog is ``ctx.iceberg_uri`` when set (``--floe-iceberg-uri``), else one started
here by :func:`~floe_compute_kit.conformance.iceberg.iceberg_rest_catalog`.

Both run beside the other checks from the run's start (``beside_when``): their files
(the catalog's warehouse, DuckDB's extensions) lie under the beside folder, which the
read-only watch leaves out, and what the plugin gives them (its statements, run here)
happens holding the run's quiet.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, NoReturn

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, CheckUnsupported, check
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance._lanes import always_beside, beside_dir, quiet_hold
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks._support import profile_type
from floe_compute_kit.conformance.engines import engine_for

if TYPE_CHECKING:
    import duckdb

    from floe_compute_kit.conformance.iceberg import IcebergCatalogEndpoint

__all__ = ["iceberg_interop", "iceberg_roundtrip"]

_CAPABILITY = "catalog_attachment"
_ROUNDTRIP: Final = "iceberg.roundtrip"
_INTEROP: Final = "iceberg.interop"
#: id(CheckContext) -> the catalog started for it (CheckContext is unhashable).
#: ``ctx.extra`` key of the catalog started for a context and shared by its checks.
SHARED_CATALOG = "iceberg.shared_catalog"
_SHARED_LOCK = threading.Lock()
_ALIAS = "floe_conformance_iceberg"
#: Rows written and read back: a NULL, a quote and non-ASCII text, so a lossy path shows.
_ROWS: tuple[tuple[int, str | None], ...] = ((1, "alpha"), (2, "o'brien"), (3, "zoë ✓"), (4, None))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dialect(ctx: CheckContext) -> str | None:
    """The sqlglot dialect of the plugin's engine; ``duckdb`` means the kit can run it."""
    engine = engine_for(profile_type(ctx))
    if engine.runs_catalog_sql:
        return "duckdb"
    return engine.dialect or engine.profile_type or None


def _catalog(ctx: CheckContext) -> contextlib.AbstractContextManager[IcebergCatalogEndpoint]:
    """``ctx.iceberg_uri``'s catalog, or one started for this context and shared by its checks.

    A started catalog lives in ``ctx.resources``: stopped when the context is closed (the
    runner and the pytest fixtures close it before removing the work directory) or, as a
    backstop, collected; so the two checks of one suite run start one catalog, not two.
    """
    from floe_compute_kit.conformance.iceberg import iceberg_rest_catalog  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    if ctx.iceberg_uri:
        return iceberg_rest_catalog(ctx.iceberg_uri, workdir=beside_dir(ctx))
    with _SHARED_LOCK:
        endpoint = ctx.extra.get(SHARED_CATALOG)
        if endpoint is None:
            endpoint = ctx.resources.enter_context(
                iceberg_rest_catalog(None, workdir=beside_dir(ctx))
            )
            ctx.extra[SHARED_CATALOG] = endpoint
            # A backstop for contexts nobody closes (ExitStack.close is idempotent).
            weakref.finalize(ctx, ctx.resources.close)
        return contextlib.nullcontext(endpoint)


def _statements(ctx: CheckContext, endpoint: IcebergCatalogEndpoint, owner: str) -> list[str]:
    config = endpoint.catalog_config(_ALIAS)
    with quiet_hold(ctx, owner):
        statements = call(ctx.plugin, "get_catalog_attachment_sql", config)
    if statements is None:
        raise CheckFailed(
            "the plugin claims catalog_attachment but get_catalog_attachment_sql returned None "
            "for an Iceberg REST catalog"
        )
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        raise CheckFailed(
            f"get_catalog_attachment_sql must return a list of str, got {type(statements).__name__}"
        )
    if not any(endpoint.uri in s for s in statements):
        raise CheckFailed(
            f"no statement points at the catalog: the endpoint {endpoint.uri} appears nowhere",
            details={"statement_count": len(statements)},
        )
    return statements


def _mask(text: str, endpoint: IcebergCatalogEndpoint) -> str:
    for secret in sorted(endpoint.secret_values(), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _kind(statement: str) -> str:
    words = statement.strip().split(None, 2)
    return " ".join(words[:2]).upper() if words else "<empty>"


@contextlib.contextmanager
def _duckdb_attached(
    ctx: CheckContext, endpoint: IcebergCatalogEndpoint, statements: list[str], owner: str
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh DuckDB with the plugin's statements executed (holding the quiet: they are
    the plugin's and may touch any file), offline extensions installed."""
    import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap
    import duckdb_extensions  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    ext_dir = beside_dir(ctx) / "duckdb_extensions"
    ext_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:",
        config={
            "extension_directory": str(ext_dir),
            "autoinstall_known_extensions": False,
            # DuckDB's other worker threads spin while a statement waits on the catalog
            # (0.7 s of CPU for the first CREATE TABLE); a few rows need no parallelism
            "threads": 1,
        },
    )
    try:
        for name in ("avro", "httpfs", "iceberg"):
            duckdb_extensions.import_extension(name, con=con)
        with quiet_hold(ctx, owner):
            _execute(con, endpoint, statements)
        yield con
    finally:
        con.close()


def _execute(
    con: duckdb.DuckDBPyConnection, endpoint: IcebergCatalogEndpoint, statements: list[str]
) -> None:
    import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    for index, statement in enumerate(statements):
        try:
            con.execute(statement)
        except duckdb.Error as exc:
            # The statement itself may carry a secret: name it by position and kind only.
            raise CheckFailed(
                f"DuckDB rejected attachment statement #{index} ({_kind(statement)}) "
                f"against the catalog at {endpoint.uri}: {_mask(str(exc), endpoint)}",
                details={"statement_index": index, "catalog_source": endpoint.source},
            ) from exc


def _namespace() -> str:
    return f"floe_conformance_{os.getpid()}_{secrets.token_hex(4)}"


def _roundtrip_duckdb(con: duckdb.DuckDBPyConnection, namespace: str) -> str:
    """Create, write and read back a table; returns its qualified name."""
    import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    schema = f"{_quote(_ALIAS)}.{_quote(namespace)}"
    table = f"{schema}.{_quote('roundtrip')}"
    try:
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE TABLE {table} (id INTEGER, label VARCHAR)")
        # Literals, not parameters: binding Python values makes DuckDB import pandas and
        # numpy (0.6 s of CPU) to ask whether they are data frames.
        con.execute(f"INSERT INTO {table} VALUES {_values(_ROWS[:2])}")
        con.execute(f"INSERT INTO {table} VALUES {_values(_ROWS[2:])}")
        got = con.execute(f"SELECT id, label FROM {table} ORDER BY id").fetchall()
    except duckdb.Error as exc:
        raise CheckFailed(
            f"after attaching, DuckDB could not create, write or read an Iceberg table: {exc}"
        ) from exc
    if tuple(tuple(r) for r in got) != _ROWS:
        raise CheckFailed(
            "rows read back from the Iceberg table differ from the rows written",
            details={"written": [list(r) for r in _ROWS], "read": [list(r) for r in got]},
        )
    return table


def _values(rows: tuple[tuple[int, str | None], ...]) -> str:
    """``rows`` as the SQL of a VALUES list."""

    def literal(text: str | None) -> str:
        return "NULL" if text is None else "'" + text.replace("'", "''") + "'"

    return ", ".join(f"({int(key)}, {literal(label)})" for key, label in rows)


def _drop(con: duckdb.DuckDBPyConnection, namespace: str, tables: list[str]) -> None:
    import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    with contextlib.suppress(duckdb.Error):
        for table in tables:
            con.execute(
                f"DROP TABLE IF EXISTS {_quote(_ALIAS)}.{_quote(namespace)}.{_quote(table)}"
            )
        con.execute(f"DROP SCHEMA IF EXISTS {_quote(_ALIAS)}.{_quote(namespace)}")


def _note(ctx: CheckContext, check_id: str, text: str) -> None:
    ctx.extra.setdefault("notes", {})[check_id] = text


def _parse_only(
    ctx: CheckContext,
    check_id: str,
    dialect: str,
    statements: list[str],
    endpoint: IcebergCatalogEndpoint,
) -> NoReturn:
    import sqlglot  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    try:
        sqlglot.Dialect.get_or_raise(dialect)
    except ValueError:
        dialect_used = ""
    else:
        dialect_used = dialect
    # sqlglot logs unsupported statements verbatim, and a statement may carry a secret.
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)
    try:
        for index, statement in enumerate(statements):
            _parse_one(index, statement, dialect_used, endpoint)
    finally:
        sqlglot_log.setLevel(level)
    message = (
        f"NOT EXECUTED: the kit runs attachment SQL only on DuckDB; the engine here is "
        f"{dialect!r}. {len(statements)} statement(s) parsed as {dialect_used or 'generic'} "
        "SQL and point at the catalog; nothing was created, written or read."
    )
    _note(ctx, check_id, message)
    # Not "passed": reading and writing were never shown. Unsupported carries the reason
    # into the certificate without blocking it; a statement that does not parse fails.
    raise CheckUnsupported(message)


def _parse_one(index: int, statement: str, dialect: str, endpoint: IcebergCatalogEndpoint) -> None:
    import sqlglot  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap
    from sqlglot.errors import ParseError  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    try:
        parsed = [p for p in sqlglot.parse(statement, read=dialect or None) if p]
    except ParseError as exc:
        raise CheckFailed(
            f"attachment statement #{index} ({_kind(statement)}) does not parse as "
            f"{dialect or 'generic'} SQL: {_mask(str(exc), endpoint)}"
        ) from exc
    if len(parsed) != 1:
        raise CheckFailed(
            f"attachment statement #{index} ({_kind(statement)}) is {len(parsed)} "
            "statements, not one"
        )


@check(
    _ROUNDTRIP,
    method="get_catalog_attachment_sql",
    requirements=("FR-007", "US2-AS2", "US2"),
    wording=(
        "Statements from get_catalog_attachment_sql for an Iceberg REST catalog MUST, when "
        "executed by the plugin's engine, attach that catalog (with its credentials) so that "
        "a table can be created in it, written, and read back unchanged."
    ),
    level=Level.INTEGRATION,
    capability=_CAPABILITY,
    # A catalog server and DuckDB, waited on beside the other checks from the run's start
    lane="iceberg",
    beside_when=always_beside,
)
def iceberg_roundtrip(ctx: CheckContext) -> None:
    with quiet_hold(ctx, _ROUNDTRIP):
        dialect = _dialect(ctx)
    with _catalog(ctx) as endpoint:
        statements = _statements(ctx, endpoint, _ROUNDTRIP)
        if dialect != "duckdb":
            _parse_only(ctx, _ROUNDTRIP, dialect or "unknown", statements, endpoint)
        namespace = _namespace()
        with _duckdb_attached(ctx, endpoint, statements, _ROUNDTRIP) as con:
            try:
                _roundtrip_duckdb(con, namespace)
            finally:
                _drop(con, namespace, ["roundtrip"])
        _note(ctx, _ROUNDTRIP, f"executed on DuckDB against a {endpoint.source} catalog")


@check(
    _INTEROP,
    method="get_catalog_attachment_sql",
    requirements=("FR-007",),
    wording=(
        "Iceberg tables written through the plugin's attachment MUST be readable by another "
        "Iceberg client (pyiceberg) with the same rows, and tables written by that client "
        "MUST be readable through the attachment."
    ),
    level=Level.INTEGRATION,
    capability=_CAPABILITY,
    # A catalog server and DuckDB, waited on beside the other checks from the run's start
    lane="iceberg",
    beside_when=always_beside,
)
def iceberg_interop(ctx: CheckContext) -> None:
    with quiet_hold(ctx, _INTEROP):
        dialect = _dialect(ctx)
    if dialect != "duckdb":
        raise CheckUnsupported(
            f"not executed: the kit runs attachment SQL only on DuckDB, the engine here is "
            f"{dialect!r}; iceberg.roundtrip checked that the statements parse"
        )
    with _catalog(ctx) as endpoint:
        statements = _statements(ctx, endpoint, _INTEROP)
        namespace = _namespace()
        with _duckdb_attached(ctx, endpoint, statements, _INTEROP) as con:
            try:
                _roundtrip_duckdb(con, namespace)
                _cross_read(con, endpoint, namespace)
            finally:
                _drop(con, namespace, ["roundtrip", "from_pyiceberg"])


def _cross_read(
    con: duckdb.DuckDBPyConnection, endpoint: IcebergCatalogEndpoint, namespace: str
) -> None:
    """pyiceberg reads what the engine wrote; the engine reads what pyiceberg wrote."""
    import duckdb  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap
    import pyarrow as pa  # noqa: PLC0415 - lazy: loading the catalogue must stay cheap

    try:
        client = endpoint.pyiceberg_catalog("floe_conformance")
        rows = client.load_table((namespace, "roundtrip")).scan().to_arrow().to_pylist()
    except Exception as exc:  # any pyiceberg failure here means the table is unreadable
        raise CheckFailed(
            "pyiceberg cannot read the table the engine wrote: "
            f"{type(exc).__name__}: {_mask(str(exc), endpoint)}"
        ) from exc
    got = tuple(sorted(((r["id"], r["label"]) for r in rows), key=lambda r: r[0]))
    if got != _ROWS:
        raise CheckFailed(
            "pyiceberg reads different rows from the table the engine wrote",
            details={"written": [list(r) for r in _ROWS], "read": [list(r) for r in got]},
        )
    data = pa.table({"id": pa.array([10, 20], pa.int64()), "label": pa.array(["x", "y"])})
    client.create_table((namespace, "from_pyiceberg"), schema=data.schema).append(data)
    try:
        back = con.execute(
            f"SELECT id, label FROM {_quote(_ALIAS)}.{_quote(namespace)}."
            f"{_quote('from_pyiceberg')} ORDER BY id"
        ).fetchall()
    except duckdb.Error as exc:
        raise CheckFailed(
            f"the engine cannot read a table pyiceberg wrote: {_mask(str(exc), endpoint)}"
        ) from exc
    if [tuple(r) for r in back] != [(10, "x"), (20, "y")]:
        raise CheckFailed(
            "the engine reads different rows from the table pyiceberg wrote",
            details={"read": [list(r) for r in back]},
        )

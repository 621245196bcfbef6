"""Checks: get_catalog_attachment_sql (FR-007; capabilities KIT-008; no I/O FR-004a)."""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import SecretStr

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, CheckUnsupported, check
from floe_compute_kit.conformance._invoke import PluginRaised, call
from floe_compute_kit.conformance._leaks import canary, find_leaks, spellings
from floe_compute_kit.conformance.checks._support import (
    ahead,
    mask,
    no_io,
    prefetch_calls,
    profile_type,
    sample,
    screen,
)
from floe_compute_kit.conformance.engines import engine_for

METHOD: Final = "get_catalog_attachment_sql"
CAPABILITY: Final = "catalog_attachment"
#: Inputs that break naive quoting: quotes, terminators, comments, newlines, unicode.
HOSTILE: Final = (
    "lake'; DROP TABLE t; --",
    'lake"; DROP TABLE t; --',
    "x' OR '1'='1",
    "a/* comment */b",
    "name -- comment",
    "semi;colon",
    "new\nline",
    "back\\slash'",
    "$$dollar$$",
    "`tick`",
    "湖泊_数据",
    "emoji_🦆",
    "'); ATTACH 'evil.db' AS evil; --",
    "x' , TYPE ducklake , y '",
)
SECRET_STATEMENT_RE: Final = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?((PERSISTENT|TEMPORARY|TEMP)\s+)?SECRET\b", re.IGNORECASE
)


def _secret_token() -> str:
    """The catalog token: a canary (random per process, so no plugin can spare it) of
    letters and digits, which any engine's quoting keeps as it is."""
    return canary(0, salt="catalog.no_secret_leak", alnum=True)


def benign_catalog() -> Any:
    from floe_compute_kit.models import CatalogConfig  # noqa: PLC0415

    return CatalogConfig(
        catalog_type="rest",
        catalog_uri="http://127.0.0.1:8181/catalog",
        catalog_name="lake",
        warehouse="warehouse",
        credentials={"token": SecretStr(_secret_token())},
    )


def hostile_catalogs() -> Any:
    from hypothesis import strategies as st  # noqa: PLC0415

    from floe_compute_kit.models import CatalogConfig  # noqa: PLC0415

    text = st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=24)
    return st.builds(
        lambda name, uri, warehouse, token: CatalogConfig(
            catalog_type="rest",
            catalog_uri=f"http://127.0.0.1:8181/{uri}",
            catalog_name=name,
            warehouse=warehouse,
            credentials={"token": SecretStr(f"{_secret_token()}{token}")},
        ),
        text,
        text,
        text,
        st.sampled_from(("", "'", "';--", "\\", '"')),
    )


def statements(ctx: CheckContext, sql: str) -> list[str]:
    """How the engine's own parser splits ``sql``: one entry per statement (by kind)."""
    try:
        return engine_for(profile_type(ctx)).statement_kinds(sql)
    except ValueError as exc:
        raise CheckFailed(str(exc)) from None


def split(ctx: CheckContext, sql: str) -> list[str]:
    """The text of each statement in ``sql``, as the engine's parser splits it."""
    return engine_for(profile_type(ctx)).split(sql)


def shape(ctx: CheckContext, sql: str) -> list[str]:
    """The token-type sequence of one statement, every quoted or bare name collapsed."""
    import sqlglot  # noqa: PLC0415
    from sqlglot.tokens import TokenType  # type: ignore[attr-defined]  # noqa: PLC0415

    kind = profile_type(ctx)
    values = {TokenType.STRING, TokenType.IDENTIFIER, TokenType.VAR, TokenType.NUMBER}
    try:
        tokens = sqlglot.tokenize(sql, read=engine_for(kind).dialect)
    except sqlglot.errors.SqlglotError as exc:
        return [f"<untokenizable: {exc}>"]
    out: list[str] = []
    for token in tokens:
        name = "VALUE" if token.token_type in values else token.token_type.name
        if not (name == "VALUE" and out and out[-1] == "VALUE"):
            out.append(name)
    return out


def _sql(ctx: CheckContext, catalog: Any) -> list[str] | None:
    value = call(ctx.plugin, METHOD, catalog)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise CheckFailed(f"{METHOD} MUST return None or a list of strings; got {value!r}")
    return value


@check(
    "catalog.answers",
    method=METHOD,
    requirements=("FR-007", "KIT-008"),
    wording="get_catalog_attachment_sql MUST return a non-empty list of strings when the "
    "plugin claims catalog_attachment, and MUST return None when it does not.",
)
def answers_cleanly(ctx: CheckContext) -> None:
    value = _sql(ctx, benign_catalog())
    if CAPABILITY in ctx.capabilities:
        if not value:
            raise CheckFailed(
                f"the plugin claims {CAPABILITY!r} but {METHOD} returned {value!r}; return "
                "the attachment statements, or stop claiming the capability"
            )
    elif value is not None:
        raise CheckFailed(
            f"the plugin does not claim {CAPABILITY!r}, so {METHOD} MUST return None; "
            f"got {value!r} (claim the capability to have the SQL checked)"
        )


def _structure(ctx: CheckContext, catalog: Any) -> list[tuple[str, list[str]]]:
    """(statement kind, token shape) of every statement in every string."""
    out = []
    for sql in _sql(ctx, catalog) or []:
        kinds = statements(ctx, sql)
        out.append((" + ".join(kinds), shape(ctx, sql)))
    return out


def _single(ctx: CheckContext, catalog: Any) -> list[tuple[str, list[str]]]:
    out = []
    for sql in _sql(ctx, catalog) or []:
        found = statements(ctx, sql)
        if len(found) != 1:
            raise CheckFailed(
                f"each string MUST hold exactly one statement; {sql!r} holds {len(found)} "
                f"({', '.join(found) or 'none'})",
                example=mask(catalog),
            )
        out.append((found[0], shape(ctx, sql)))
    return out


def _returns_sql(ctx: CheckContext) -> None:
    """Not applicable only when the plugin neither claims the capability nor returns SQL.

    SQL a plugin returns is run by someone, claimed or not, so it is checked in full.
    """
    if CAPABILITY in ctx.capabilities:
        return
    try:
        returned = _sql(ctx, benign_catalog())
    except (CheckFailed, PluginRaised):
        return  # catalog.answers reports it; the check judges what it can
    if returned is None:
        raise CheckUnsupported(
            f"the plugin does not claim {CAPABILITY!r} and {METHOD} returns None, so there "
            "is no SQL to check"
        )


def _rejected(exc: PluginRaised) -> bool:
    return isinstance(exc.error, ValueError)


@check(
    "catalog.single_statements",
    method=METHOD,
    not_applicable_when="the plugin returns no catalog attachment SQL",
    requirements=("FR-007",),
    wording="Each string MUST be exactly one statement for the engine's own parser.",
)
def single_statements(ctx: CheckContext) -> None:
    _returns_sql(ctx)
    _single(ctx, benign_catalog())


@check(
    "catalog.hostile_names",
    method=METHOD,
    not_applicable_when="the plugin returns no catalog attachment SQL",
    requirements=("FR-007",),
    wording="Hostile catalog names, URIs and warehouses (quotes, semicolons, comments, "
    "unicode) MUST NOT change the statement count or structure; they MAY be rejected with "
    "ValueError.",
)
def hostile_names(ctx: CheckContext) -> None:
    _returns_sql(ctx)
    expected = _structure(ctx, benign_catalog())

    def prop(catalog: Any) -> None:
        try:
            got = _statement_shapes(ctx, catalog)
        except PluginRaised as exc:
            if _rejected(exc):
                return
            raise
        if [k for k, _ in got] != [k for k, _ in expected]:
            raise CheckFailed(
                f"hostile input changed the statements from {[k for k, _ in expected]} to "
                f"{[k for k, _ in got]}",
                example=mask(catalog),
            )
        for (kind, want), (_, have) in zip(expected, got, strict=True):
            if want != have:
                raise CheckFailed(
                    f"hostile input changed the structure of a {kind} statement: tokens "
                    f"{want} became {have}",
                    example=mask(catalog),
                )

    _prefetch_hostile(ctx)
    screen(ctx, "hostile_catalogs", hostile_catalogs, prop)


def _prefetch_hostile(ctx: CheckContext) -> None:
    """The SQL for every hostile catalog of the sample, asked for in one trip (in a host)."""

    def prepare() -> None:
        catalogs = sample(ctx, "hostile_catalogs", hostile_catalogs, ctx.max_examples)
        prefetch_calls(ctx, METHOD, [[c] for c in catalogs])

    ahead(ctx, prepare)


def _statement_shapes(ctx: CheckContext, catalog: Any) -> list[tuple[str, list[str]]]:
    try:
        return _structure(ctx, catalog)
    except CheckFailed as exc:
        exc.example = mask(catalog)
        raise


@check(
    "catalog.no_secret_leak",
    method=METHOD,
    not_applicable_when="the plugin returns no catalog attachment SQL",
    requirements=("FR-007", "KIT-220"),
    wording="A catalog secret MUST NOT appear, in plain text or encoded, outside a "
    "secret-creation statement (CREATE SECRET), whether or not the plugin claims "
    "catalog_attachment.",
)
def no_secret_leak(ctx: CheckContext) -> None:
    _returns_sql(ctx)

    def prop(catalog: Any) -> None:
        secret = catalog.credentials["token"].get_secret_value()
        try:
            sqls = _sql(ctx, catalog) or []
        except PluginRaised as exc:
            if _rejected(exc):
                return
            raise
        for sql in (part for text in sqls for part in split(ctx, text)):
            if SECRET_STATEMENT_RE.match(sql):
                continue
            leaks = find_leaks([("sql", sql)], {"token": secret, "marker": _secret_token()})
            if leaks:
                raise CheckFailed(
                    f"a catalog secret ({leaks[0].spelling}) appears outside a CREATE SECRET "
                    f"statement: {_masked_sql(sql, secret)!r}; pass secrets only in a "
                    "secret-creation statement (claimed capability or not, returned SQL is run)"
                )

    prop(benign_catalog())
    _prefetch_hostile(ctx)
    screen(ctx, "hostile_catalogs", hostile_catalogs, prop)


def _masked_sql(sql: str, secret: str) -> str:
    for spelled in sorted(spellings(secret).values(), key=len, reverse=True):
        sql = sql.replace(spelled, "**********")
    return sql


@check(
    "catalog.no_io",
    method=METHOD,
    requirements=("FR-007", "FR-004a"),
    wording="get_catalog_attachment_sql MUST NOT do I/O.",
)
def catalog_no_io(ctx: CheckContext) -> None:
    no_io(ctx, METHOD, benign_catalog())

"""The engine seam: what the kit must know about one SQL engine, behind one interface.

Checks never branch on a profile ``type``; they ask :func:`engine_for` and call the
:class:`Engine` they get. An engine the kit does not know gets :class:`GenericEngine`
(sqlglot in the matching dialect, no live-target behaviour).
"""

from __future__ import annotations

from floe_compute_kit.conformance.engines._base import Engine, GenericEngine
from floe_compute_kit.conformance.engines._duckdb import DuckDBEngine
from floe_compute_kit.conformance.engines._postgres import PostgresEngine
from floe_compute_kit.conformance.engines._spark import SparkEngine

__all__ = [
    "KNOWN_ENGINES",
    "DuckDBEngine",
    "Engine",
    "GenericEngine",
    "PostgresEngine",
    "SparkEngine",
    "engine_for",
]

#: profile type -> the engine that knows it. One line per engine.
KNOWN_ENGINES: dict[str, type[Engine]] = {
    "duckdb": DuckDBEngine,
    **dict.fromkeys(("postgres", "floe_postgres"), PostgresEngine),
    "spark": SparkEngine,
}


def engine_for(profile_type: str | None) -> Engine:
    """The engine for a dbt profile ``type`` (a generic one when the kit does not know it)."""
    known = KNOWN_ENGINES.get(profile_type or "")
    return known() if known is not None else GenericEngine(profile_type)

"""A second DuckDB-backed compute, installed as its own distribution in tests."""

from floe_compute_duckdb_alt.plugin import AltDuckDBConfig, AltDuckDBPlugin

__all__ = ["AltDuckDBConfig", "AltDuckDBPlugin"]

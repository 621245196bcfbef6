"""floe_compute_duckdb: the reference floe compute plugin, on DuckDB."""

from floe_compute_duckdb.plugin import DuckDBComputePlugin

__all__ = ["DuckDBComputePlugin"]

"""floe_compute_duckdb: the reference floe compute plugin, on DuckDB.

Cheap to import: DuckDB and dbt are imported only when a method needs them.
"""

from floe_compute_duckdb.config import AttachConfig, DuckDBConfig
from floe_compute_duckdb.plugin import DuckDBComputePlugin

__all__ = ["AttachConfig", "DuckDBComputePlugin", "DuckDBConfig"]

"""A plugin module that cannot be imported: its dependency is missing."""

import floe_no_such_engine_driver  # noqa: F401 - the missing dependency is the point

from floe_compute_duckdb import DuckDBComputePlugin


class BrokenImportPlugin(DuckDBComputePlugin):
    """Never reached: the import above fails first."""

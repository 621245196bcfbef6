"""A plugin module whose import never finishes."""

import time

from floe_compute_duckdb import DuckDBComputePlugin

time.sleep(600)


class Plugin(DuckDBComputePlugin):
    pass

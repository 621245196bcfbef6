"""Plugins for certification tests, written as real modules into a temporary directory.

Each is the DuckDB reference plugin with one clause broken (or the same code fixed),
so a certificate of it fails exactly where the test expects.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

_BROKEN = """
    def generate_dbt_profile(self, config):
        profile = super().generate_dbt_profile(config)
        profile["threads"] = 1  # the defect: config.threads is ignored
        return profile
"""

_FIXED = """
    def generate_dbt_profile(self, config):
        return super().generate_dbt_profile(config)
"""


def write_threads_plugin(directory: Path, module: str, *, broken: bool = True) -> str:
    """Write ``module.py`` into ``directory``; returns its ``module:Class`` spec."""
    directory.mkdir(parents=True, exist_ok=True)
    source = textwrap.dedent(
        '''\
        from floe_compute_duckdb import DuckDBComputePlugin


        class ThreadsPlugin(DuckDBComputePlugin):
            """DuckDB whose profile may ignore config.threads."""
        '''
    ) + (_BROKEN if broken else _FIXED)
    (directory / f"{module}.py").write_text(source)
    return f"{module}:ThreadsPlugin"

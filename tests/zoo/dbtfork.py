"""A DuckDB plugin that claims per_model_timeout and ignores every model's override.

Its profile names the dbt plugin of ``zoo.dbtfork_dbt_plugin``, which always applies
the profile's timeout: ``integration.query_timeout`` must refuse it: its longer override
(4 s) is cut at the profile's 2 s, before 4 - 0.5 s.
tests/test_dbt_launcher_zoo.py proves it, through the launcher and without it.
"""

from __future__ import annotations

from typing import Any

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.profile import DBT_PLUGIN_MODULE
from floe_compute_kit import ComputeConfig


class DuckDBIgnoresModelOverride(DuckDBComputePlugin):
    """Claims per_model_timeout; its dbt plugin applies the profile's timeout to every model."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        for plugin in profile.get("plugins", []):
            if plugin.get("module") == DBT_PLUGIN_MODULE:
                plugin["module"] = "zoo.dbtfork_dbt_plugin"
        return profile

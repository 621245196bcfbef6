"""The dbt-duckdb plugin of zoo.dbtfork: the reference one, deaf to per-model overrides."""

from __future__ import annotations

from floe_compute_duckdb.dbt_plugin import Plugin as _Reference


class Plugin(_Reference):
    def timeout_for(self, sql: str) -> tuple[str | None, float | None]:
        node, _ = super().timeout_for(sql)
        return node, self.timeout_seconds

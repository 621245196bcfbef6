"""dbt loads adapters as ``dbt.adapters.<type>``; floe's lives in floe_compute_postgres."""

from floe_compute_postgres.dbt_adapter import Plugin

__all__ = ["Plugin"]

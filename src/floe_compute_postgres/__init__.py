"""floe_compute_postgres: a floe compute plugin for PostgreSQL servers, run by dbt-postgres.

Cheap to import: psycopg2 and dbt are imported only when a method needs them.
"""

from floe_compute_postgres.config import PostgresConfig
from floe_compute_postgres.plugin import PostgresComputePlugin

__all__ = ["PostgresComputePlugin", "PostgresConfig"]

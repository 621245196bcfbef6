"""dbt reads an adapter's version from here; floe_postgres is floe_compute_postgres's."""

version = "1.11.0"

{# The floe_postgres adapter adds no macros: dbt dispatches to dbt-postgres's. #}

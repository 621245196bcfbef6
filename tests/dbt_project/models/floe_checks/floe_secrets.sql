{{ config(enabled=var('floe_extensions')) }}
-- duckdb_secrets() redacts the values; names and types show the profile's secrets were created.
select name, type
from duckdb_secrets()

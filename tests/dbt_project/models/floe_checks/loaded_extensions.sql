{{ config(enabled=var('floe_extensions')) }}
select extension_name
from duckdb_extensions()
where loaded

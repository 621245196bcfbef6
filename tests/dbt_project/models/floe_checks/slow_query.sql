{{ config(enabled=var('floe_slow')) }}
-- 10^12 rows: minutes of work for DuckDB, with almost no memory.
select count(*) as n
from range(1000000) as a
cross join range(1000000) as b

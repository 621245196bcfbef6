{{ config(enabled=var('floe_memory_hog')) }}
-- One list of 10^8 integers (~800 MB) built by an aggregate that cannot spill to disk.
select length(list(range)) as n
from range(100000000)

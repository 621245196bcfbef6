-- Minutes of CPU on any machine: only a timeout that really cancels Spark's jobs ends it.
{{ config(enabled=var('floe_slow')) }}
select count(*) as n from range(0, 1000000000000) a where hash(a.id) = 0

-- Needs no seed: the model that must still succeed beside slow_query under a 2 s timeout.
select 'ada' as customer, 15 as revenue

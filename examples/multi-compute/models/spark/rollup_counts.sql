with events as (
    select 'ada' as customer, 1 as n
    union all select 'ada', 1
    union all select 'grace', 1
)
select customer, sum(n) as events from events group by customer

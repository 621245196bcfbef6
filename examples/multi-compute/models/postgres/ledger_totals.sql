with entries as (
    select 'ada' as customer, 42 as amount
    union all select 'grace', 7
)
select customer, sum(amount) as total from entries group by customer

select 1 as order_id, 'ada' as customer, 30 as amount
union all select 2, 'ada', 12
union all select 3, 'grace', 7

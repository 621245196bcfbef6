select
    customer,
    count(*) as orders,
    sum(amount) as total_amount
from {{ ref('stg_orders') }}
group by customer

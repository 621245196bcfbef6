select
    c.customer_id,
    c.name,
    c.country,
    count(o.order_id) filter (where o.is_revenue) as completed_orders,
    coalesce(sum(o.amount) filter (where o.is_revenue), 0) as revenue
from {{ ref('customers') }} as c
left join {{ ref('stg_orders') }} as o using (customer_id)
group by all

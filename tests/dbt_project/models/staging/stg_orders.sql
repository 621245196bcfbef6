select
    order_id,
    customer_id,
    amount,
    status,
    status = 'completed' as is_revenue
from {{ ref('orders') }}

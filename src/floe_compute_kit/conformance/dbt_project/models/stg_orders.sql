select
    order_id,
    lower(customer) as customer,
    status,
    amount
from {{ ref('conformance_orders') }}
where status <> 'returned'

-- Fails unless the built table holds exactly the seeded completed revenue.
select total
from (select sum(revenue) as total, count(*) as customers from {{ ref('customer_revenue') }})
where total <> 321.50 or customers <> 4

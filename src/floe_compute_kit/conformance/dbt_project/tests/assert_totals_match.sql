-- Fails (returns rows) unless the totals add up to the staged amounts: 460 = 120+80+45+200+15.
select total
from (select sum(total_amount) as total from {{ ref('customer_totals') }}) as t
where total <> 460

{{ config(
    materialized='external',
    format='parquet',
    location=var('floe_export_dir') ~ '/customer_revenue.parquet',
    enabled=(var('floe_export_dir') | length > 0),
) }}
select * from {{ ref('customer_revenue') }}

-- Unpaid invoices per account and age bucket on the as-of day, in USD at the as-of rate (as
-- gold.customer_360.overdue_usd, so the overdue buckets add up to it). Unpaid: not void, not
-- paid (no paid_at and status not 'paid'), issued by the as-of day. The bucket is the days
-- past due on the as-of day: 'current' (not yet due, or no due date), '1-30', '31-60',
-- '61-90' and '90+'.
INSERT INTO gold.billing_ageing (account_id, bucket, invoices, amount_usd)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), unpaid AS (
    SELECT i.account_id, i.amount * fx.usd_per_unit AS usd,
           CASE WHEN i.due_date IS NULL OR i.due_date >= p.as_of THEN 'current'
                WHEN p.as_of - i.due_date <= 30 THEN '1-30'
                WHEN p.as_of - i.due_date <= 60 THEN '31-60'
                WHEN p.as_of - i.due_date <= 90 THEN '61-90'
                ELSE '90+' END AS bucket
    FROM silver.invoices i
    CROSS JOIN params p
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.as_of AND fx.currency = i.currency
    WHERE i.paid_at IS NULL AND i.status IS DISTINCT FROM 'paid' AND i.status IS DISTINCT FROM 'void'
      AND i.issue_date <= p.as_of AND i.account_id IS NOT NULL AND @in_scope(i.account_id)
)
SELECT account_id, bucket, count(*), round(COALESCE(sum(usd), 0), 2)
FROM unpaid
GROUP BY 1, 2

-- One row per unpaid invoice on the as-of day (the invoices behind gold.billing_ageing, same rules):
-- not void, not paid (no paid_at and status not 'paid'), issued by the as-of day. amount_usd at the
-- as-of rate; days_overdue the days past due on the as-of day (0 when not yet due or without a due
-- date) and its bucket ('current', '1-30', '31-60', '61-90', '90+'). The account's segment (account
-- type), account manager (its owner, silver.users) and customer (master account) come along, so the
-- Receivables page's grids never read silver. region and territory are the customer's (gold.customer_360's,
-- 'Unknown' without one), not the invoiced regional account's: each customer sits in one territory with all
-- its invoices, so per-territory counts of customers add up (gold.receivables_summary). disputed: flagged on the invoice or a dispute still open.
-- For the collections forecast: payment_delay_days, the customer's median days paid after the due day over
-- its invoices paid by the as-of day (the company's median when the customer has none, delay_from_history
-- false), and expected_paid_on = due day (the issue day without one) + that delay rounded up.
INSERT INTO gold.receivable_invoice (invoice_id, invoice_number, account_id, account_name, customer_id, region,
                                     territory, segment, account_manager, currency, amount, amount_usd, issue_date,
                                     due_date, days_overdue, bucket, disputed, payment_delay_days,
                                     delay_from_history, expected_paid_on)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), open_disputes AS (
    SELECT DISTINCT invoice_id FROM silver.disputes WHERE status = 'open' AND invoice_id IS NOT NULL
), paid AS (
    SELECT COALESCE(am.master_account_id, i.account_id) AS customer_id,
           CAST(i.paid_at AT TIME ZONE 'UTC' AS date) - i.due_date AS delay
    FROM silver.invoices i
    CROSS JOIN params p
    LEFT JOIN silver.account_master am ON am.account_id = i.account_id
    WHERE i.paid_at IS NOT NULL AND i.due_date IS NOT NULL AND i.status IS DISTINCT FROM 'void'
      AND i.account_id IS NOT NULL AND CAST(i.paid_at AT TIME ZONE 'UTC' AS date) <= p.as_of
), delays AS (
    SELECT customer_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY delay) AS delay FROM paid GROUP BY 1
), company AS (
    SELECT COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY delay), 0) AS delay FROM paid
), unpaid AS (
    SELECT i.*, CASE WHEN i.due_date IS NULL OR i.due_date >= p.as_of THEN 0 ELSE p.as_of - i.due_date END AS late
    FROM silver.invoices i
    CROSS JOIN params p
    WHERE i.paid_at IS NULL AND i.status IS DISTINCT FROM 'paid' AND i.status IS DISTINCT FROM 'void'
      AND i.issue_date <= p.as_of AND i.account_id IS NOT NULL
)
SELECT u.invoice_id, u.invoice_number, u.account_id, COALESCE(a.account_name, u.account_id),
       COALESCE(am.master_account_id, u.account_id), COALESCE(c.region, 'Unknown'), COALESCE(c.territory, 'Unknown'),
       COALESCE(NULLIF(a.account_type, ''), 'Unknown'), COALESCE(us.full_name, a.owner_user_id, 'Unassigned'),
       u.currency, u.amount, round(u.amount * fx.usd_per_unit, 2), u.issue_date, u.due_date, u.late,
       CASE WHEN u.late = 0 THEN 'current' WHEN u.late <= 30 THEN '1-30' WHEN u.late <= 60 THEN '31-60'
            WHEN u.late <= 90 THEN '61-90' ELSE '90+' END,
       COALESCE(u.is_disputed, false) OR od.invoice_id IS NOT NULL,
       COALESCE(dl.delay, co.delay), dl.delay IS NOT NULL,
       COALESCE(u.due_date, u.issue_date) + CAST(ceil(COALESCE(dl.delay, co.delay)) AS integer)
FROM unpaid u
CROSS JOIN company co
CROSS JOIN params p
LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.as_of AND fx.currency = u.currency
LEFT JOIN silver.accounts a ON a.account_id = u.account_id
LEFT JOIN silver.account_master am ON am.account_id = u.account_id
LEFT JOIN gold.customer_360 c ON c.account_id = COALESCE(am.master_account_id, u.account_id)
LEFT JOIN silver.users us ON us.user_id = a.owner_user_id
LEFT JOIN open_disputes od ON od.invoice_id = u.invoice_id
LEFT JOIN delays dl ON dl.customer_id = COALESCE(am.master_account_id, u.account_id)
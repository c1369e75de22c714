-- Days sales outstanding per month and territory, for the last 24 months to the as-of day. A month's
-- end is its last day (the as-of day for the running month):
--   receivables_usd: invoices issued by the month's end, not void and not paid by then (paid on a later
--     UTC day, or unpaid: no paid_at and status not 'paid');
--   invoiced_usd: invoices issued in the month, not void;
--   both in USD at the rate of the month's end; days: the days of the month to its end;
--   DSO = receivables_usd / invoiced_usd x days (the page divides the sums, so territories add up);
--   issued_invoices: invoices issued in the month, not void; adjusted_invoices: those of them with a credit
--     or debit note (silver.adjustments) created by the end of the as-of day, for billing accuracy.
INSERT INTO gold.receivables_monthly (month, territory, month_end, days, receivables_usd, invoiced_usd,
                                      issued_invoices, adjusted_invoices)
WITH months AS (
    SELECT CAST(m AS date) AS month,
           LEAST(CAST(m + interval '1 month' - interval '1 day' AS date), CAST(:as_of AS date)) AS month_end
    FROM generate_series(date_trunc('month', GREATEST(CAST(:first_day AS date), CAST(:as_of AS date) - 730)),
                         date_trunc('month', CAST(:as_of AS date)), interval '1 month') m
), invoices AS (
    SELECT i.issue_date, i.amount, i.currency, COALESCE(a.territory, 'Unknown') AS territory,
           EXISTS (SELECT 1 FROM silver.adjustments j
                   WHERE j.invoice_id = i.invoice_id
                     AND j.created_at < CAST(CAST(:as_of AS date) + 1 AS timestamptz)) AS adjusted,
           CASE WHEN i.paid_at IS NOT NULL THEN CAST(i.paid_at AT TIME ZONE 'UTC' AS date)
                WHEN i.status = 'paid' THEN i.issue_date END AS paid_on
    FROM silver.invoices i
    LEFT JOIN silver.accounts a ON a.account_id = i.account_id
    WHERE i.status IS DISTINCT FROM 'void' AND i.account_id IS NOT NULL
)
SELECT m.month, i.territory, m.month_end, m.month_end - m.month + 1,
       round(COALESCE(sum(i.amount * fx.usd_per_unit) FILTER (WHERE i.paid_on IS NULL OR i.paid_on > m.month_end), 0), 2),
       round(COALESCE(sum(i.amount * fx.usd_per_unit) FILTER (WHERE i.issue_date >= m.month), 0), 2),
       count(*) FILTER (WHERE i.issue_date >= m.month),
       count(*) FILTER (WHERE i.issue_date >= m.month AND i.adjusted)
FROM months m
JOIN invoices i ON i.issue_date <= m.month_end
LEFT JOIN silver.fx_rates_daily fx ON fx.day = m.month_end AND fx.currency = i.currency
GROUP BY m.month, i.territory, m.month_end

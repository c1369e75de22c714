-- Days sales outstanding per month and territory, for the last 24 months to the as-of day. A month's
-- end is its last day (the as-of day for the running month):
--   receivables_usd: invoices issued by the month's end, not void and not paid by then (paid on a later
--     UTC day, or unpaid: no paid_at and status not 'paid');
--   invoiced_usd: invoices issued in the month, not void;
--   both in USD at the rate of the month's end; days: the days of the month to its end;
--   DSO = receivables_usd / invoiced_usd x days (the page divides the sums, so territories add up);
--   issued_invoices: invoices issued in the month, not void; adjusted_invoices: those of them with a credit
--     or debit note (silver.adjustments) created by the end of the as-of day, for billing accuracy.
--
-- Invoices are summed per territory, currency and span of months outstanding before the sums are
-- spread over the months of their span, and the month-end rate is applied to each currency's sum
-- (numeric, so exactly the same sums): joining every month to every invoice issued before it read each
-- invoice 24 times.
INSERT INTO gold.receivables_monthly (month, territory, month_end, days, receivables_usd, invoiced_usd,
                                      issued_invoices, adjusted_invoices)
WITH months AS (
    SELECT CAST(m AS date) AS month,
           LEAST(CAST(m + interval '1 month' - interval '1 day' AS date), CAST(:as_of AS date)) AS month_end
    FROM generate_series(date_trunc('month', GREATEST(CAST(:first_day AS date), CAST(:as_of AS date) - 730)),
                         date_trunc('month', CAST(:as_of AS date)), interval '1 month') m
), bounds AS (
    SELECT min(month) AS first_month, CAST(:as_of AS date) AS as_of FROM months
), invoices AS (
    SELECT i.issue_date, i.amount, i.currency, COALESCE(a.territory, 'Unknown') AS territory,
           EXISTS (SELECT 1 FROM silver.adjustments j
                   WHERE j.invoice_id = i.invoice_id
                     AND j.created_at < CAST(CAST(:as_of AS date) + 1 AS timestamptz)) AS adjusted,
           CASE WHEN i.paid_at IS NOT NULL THEN CAST(i.paid_at AT TIME ZONE 'UTC' AS date)
                WHEN i.status = 'paid' THEN i.issue_date END AS paid_on
    FROM silver.invoices i
    LEFT JOIN silver.accounts a ON a.account_id = i.account_id
    WHERE i.status IS DISTINCT FROM 'void' AND i.account_id IS NOT NULL AND i.issue_date <= CAST(:as_of AS date)
), spans AS (
    -- Outstanding at a month's end: issued by then and not paid by then. A month before the running one
    -- ends on its last day, so an invoice paid on day p was unpaid at the ends of the months before p's.
    -- Invoices are summed per span of months first, so only the sums are spread over the months.
    SELECT i.territory, i.currency, GREATEST(date_trunc('month', i.issue_date), b.first_month) AS from_month,
           CASE WHEN i.paid_on IS NULL OR i.paid_on > b.as_of THEN date_trunc('month', b.as_of)
                ELSE date_trunc('month', i.paid_on) - interval '1 month' END AS to_month,
           sum(i.amount) AS amount
    FROM invoices i
    CROSS JOIN bounds b
    WHERE i.paid_on IS NULL OR i.paid_on > b.first_month
    GROUP BY 1, 2, 3, 4
), by_issue AS (
    SELECT territory, currency, CAST(date_trunc('month', issue_date) AS date) AS month, min(issue_date) AS first_issue,
           sum(amount) AS amount, count(*) AS issued, count(*) FILTER (WHERE adjusted) AS adjusted
    FROM invoices
    GROUP BY 1, 2, 3
), parts AS (
    SELECT CAST(m AS date) AS month, s.territory, s.currency, s.amount AS receivable,
           CAST(NULL AS numeric) AS invoiced, 0 AS issued, 0 AS adjusted
    FROM spans s
    CROSS JOIN LATERAL generate_series(s.from_month, s.to_month, interval '1 month') m
    UNION ALL
    SELECT i.month, i.territory, i.currency, NULL, i.amount, i.issued, i.adjusted
    FROM by_issue i
    CROSS JOIN bounds b
    WHERE i.month >= b.first_month
), per_currency AS (
    SELECT month, territory, currency, sum(receivable) AS receivable, sum(invoiced) AS invoiced,
           sum(issued) AS issued, sum(adjusted) AS adjusted
    FROM parts
    GROUP BY month, territory, currency
), per_territory AS (
    SELECT c.month, c.territory, sum(c.receivable * fx.usd_per_unit) AS receivables_usd,
           sum(c.invoiced * fx.usd_per_unit) AS invoiced_usd, sum(c.issued) AS issued, sum(c.adjusted) AS adjusted
    FROM per_currency c
    JOIN months m ON m.month = c.month
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = m.month_end AND fx.currency = c.currency
    GROUP BY c.month, c.territory
), presence AS (
    -- A territory has a row for every month from its first invoice on, zeros included.
    SELECT territory, min(first_issue) AS first_issue FROM by_issue GROUP BY territory
)
SELECT m.month, p.territory, m.month_end, m.month_end - m.month + 1 AS days,
       round(COALESCE(t.receivables_usd, 0), 2) AS receivables_usd, round(COALESCE(t.invoiced_usd, 0), 2) AS invoiced_usd,
       COALESCE(t.issued, 0) AS issued_invoices, COALESCE(t.adjusted, 0) AS adjusted_invoices
FROM months m
JOIN presence p ON p.first_issue <= m.month_end
LEFT JOIN per_territory t ON t.month = m.month AND t.territory = p.territory

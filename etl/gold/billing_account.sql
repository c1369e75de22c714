-- One row per account with an invoice, dispute, adjustment or credit hold, for the Receivables page:
--   invoices_issued: invoices issued by the as-of day (not void);
--   disputes / open_disputes / disputed_usd: disputes opened by the as-of day (amount disputed, USD at the
--     rate of the day it was opened, silver's amount_usd);
--   credit_notes / debit_notes and their USD: adjustments created by the as-of day;
--   on_hold: a credit hold placed by the end of the as-of day and not released by then (the latest such
--     hold's day and reason); mrr_usd: the account's MRR on the as-of day (gold.subscription_mrr_daily);
--   open_pipeline_usd: its open deals (gold.sales_opportunity, not closed);
--   invoices_12m / adjusted_invoices_12m: invoices issued in the 365 days to the as-of day (not void) and
--     those of them with a credit or debit note created by the as-of day (billing accuracy);
--   csat_sum / csat_responses: CSAT scores of its support cases opened in those 365 days (gold.support_case).
-- region and territory are its customer's (gold.customer_360's, 'Unknown' without one), as in
-- gold.receivable_invoice: each customer sits in one territory with all its accounts.
INSERT INTO gold.billing_account (account_id, account_name, customer_id, region, territory, segment, account_manager,
                                  invoices_issued, disputes, open_disputes, disputed_usd, credit_notes, credit_usd,
                                  debit_notes, debit_usd, last_dispute_on, on_hold, hold_placed_on, hold_reason,
                                  mrr_usd, open_pipeline_usd, invoices_12m, adjusted_invoices_12m, csat_sum,
                                  csat_responses)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end
), issued AS (
    -- One pass over the invoices (the year's and the adjusted ones counted on the way), the day written
    -- into the filter so the planner sees nearly every invoice passes it and scans the table once.
    SELECT i.account_id, count(*) AS n,
           count(*) FILTER (WHERE i.issue_date > CAST(:as_of AS date) - 365) AS recent,
           count(*) FILTER (WHERE i.issue_date > CAST(:as_of AS date) - 365 AND j.invoice_id IS NOT NULL) AS adjusted
    FROM silver.invoices i
    LEFT JOIN (SELECT DISTINCT invoice_id FROM silver.adjustments
               WHERE created_at < CAST(CAST(:as_of AS date) + 1 AS timestamptz)) j ON j.invoice_id = i.invoice_id
    WHERE i.issue_date <= CAST(:as_of AS date) AND i.status IS DISTINCT FROM 'void' AND i.account_id IS NOT NULL
    GROUP BY 1
), csat AS (
    SELECT c.account_id, sum(c.csat) AS total, count(c.csat) AS n
    FROM gold.support_case c, params p
    WHERE c.opened_day <= p.as_of AND c.opened_day > p.as_of - 365 AND c.account_id IS NOT NULL
    GROUP BY 1
), disputed AS (
    SELECT d.account_id, count(*) AS n, count(*) FILTER (WHERE d.status = 'open') AS still_open,
           sum(d.amount_usd) AS usd, max(CAST(d.opened_at AT TIME ZONE 'UTC' AS date)) AS last_on
    FROM silver.disputes d, params p
    WHERE d.opened_at < p.as_of_end AND d.account_id IS NOT NULL
    GROUP BY 1
), adjusted AS (
    SELECT j.account_id, count(*) FILTER (WHERE j.kind = 'credit') AS credits,
           COALESCE(sum(j.amount_usd) FILTER (WHERE j.kind = 'credit'), 0) AS credit_usd,
           count(*) FILTER (WHERE j.kind = 'debit') AS debits,
           COALESCE(sum(j.amount_usd) FILTER (WHERE j.kind = 'debit'), 0) AS debit_usd
    FROM silver.adjustments j, params p
    WHERE j.created_at < p.as_of_end AND j.account_id IS NOT NULL
    GROUP BY 1
), held AS (
    SELECT DISTINCT ON (h.account_id) h.account_id, CAST(h.placed_at AT TIME ZONE 'UTC' AS date) AS placed_on, h.reason
    FROM silver.credit_holds h, params p
    WHERE h.placed_at < p.as_of_end AND (h.released_at IS NULL OR h.released_at >= p.as_of_end)
      AND h.account_id IS NOT NULL
    ORDER BY h.account_id, h.placed_at DESC, h.hold_id
), mrr AS (
    SELECT m.account_id, sum(m.mrr_usd) AS usd
    FROM gold.subscription_mrr_daily m, params p
    WHERE m.day = p.as_of
    GROUP BY 1
), pipeline AS (
    SELECT o.account_id, sum(o.amount_usd) AS usd
    FROM gold.sales_opportunity o
    WHERE NOT o.is_closed AND o.account_id IS NOT NULL
    GROUP BY 1
), accounts AS (
    SELECT account_id FROM issued UNION SELECT account_id FROM disputed
    UNION SELECT account_id FROM adjusted UNION SELECT account_id FROM held
)
SELECT x.account_id, COALESCE(a.account_name, x.account_id), COALESCE(am.master_account_id, x.account_id),
       COALESCE(c.region, 'Unknown'), COALESCE(c.territory, 'Unknown'), COALESCE(NULLIF(a.account_type, ''), 'Unknown'),
       COALESCE(us.full_name, a.owner_user_id, 'Unassigned'),
       COALESCE(i.n, 0), COALESCE(d.n, 0), COALESCE(d.still_open, 0), round(COALESCE(d.usd, 0), 2),
       COALESCE(j.credits, 0), round(COALESCE(j.credit_usd, 0), 2), COALESCE(j.debits, 0), round(COALESCE(j.debit_usd, 0), 2),
       d.last_on, h.account_id IS NOT NULL, h.placed_on, h.reason,
       round(COALESCE(m.usd, 0), 2), round(COALESCE(pl.usd, 0), 2),
       COALESCE(i.recent, 0), COALESCE(i.adjusted, 0), COALESCE(cs.total, 0), COALESCE(cs.n, 0)
FROM accounts x
LEFT JOIN silver.accounts a ON a.account_id = x.account_id
LEFT JOIN silver.account_master am ON am.account_id = x.account_id
LEFT JOIN gold.customer_360 c ON c.account_id = COALESCE(am.master_account_id, x.account_id)
LEFT JOIN silver.users us ON us.user_id = a.owner_user_id
LEFT JOIN issued i ON i.account_id = x.account_id
LEFT JOIN disputed d ON d.account_id = x.account_id
LEFT JOIN adjusted j ON j.account_id = x.account_id
LEFT JOIN held h ON h.account_id = x.account_id
LEFT JOIN mrr m ON m.account_id = x.account_id
LEFT JOIN pipeline pl ON pl.account_id = x.account_id

LEFT JOIN csat cs ON cs.account_id = x.account_id
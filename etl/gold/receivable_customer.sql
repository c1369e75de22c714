-- One row per customer (master account) with billing activity: an unpaid invoice (gold.receivable_invoice)
-- or an account in gold.billing_account, for the Receivables page's rankings, read in order from their
-- indexes. territory: the customer's own (gold.customer_360's, 'Unknown' without one), as on those tables,
-- so a customer counts in exactly one territory; name and account manager: the master account's and its
-- owner's (silver.users), as on the customer's 360 page.
--   overdue_*: its overdue invoices (days overdue > 0): the most days overdue, their USD, how many, the
--     oldest due day;
--   invoices_issued .. last_dispute_on: its accounts' disputes and notes summed; events = disputes +
--     credit notes + debit notes;
--   on_hold: one of its accounts is on credit hold; hold_*: those accounts' MRR and open pipeline summed,
--     the earliest hold's day and a reason (the greatest);
--   invoices_12m .. csat_responses: its accounts' invoices of the 365 days to the as-of day, those with a
--     note, and CSAT of the cases opened then; churned: churned in the 180 days to the as-of day
--     (dashboard.queries.receivables.CHURN_DAYS), by gold.customer_360's churned_at (UTC day).
INSERT INTO gold.receivable_customer (customer_id, territory, account_name, account_manager, overdue_days, overdue_usd,
                                      overdue_invoices, oldest_due, invoices_issued, events, disputes, open_disputes,
                                      disputed_usd, credit_notes, credit_usd, debit_notes, last_dispute_on, on_hold,
                                      hold_mrr_usd, hold_pipeline_usd, hold_placed_on, hold_reason, invoices_12m,
                                      adjusted_invoices_12m, csat_sum, csat_responses, churned)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), overdue AS (
    SELECT customer_id, max(days_overdue) AS days, COALESCE(sum(amount_usd), 0) AS usd, count(*) AS n,
           min(due_date) AS oldest_due
    FROM gold.receivable_invoice
    WHERE days_overdue > 0
    GROUP BY customer_id
), accounts AS (
    SELECT customer_id, sum(invoices_issued) AS invoices_issued, sum(disputes) AS disputes,
           sum(open_disputes) AS open_disputes, sum(disputed_usd) AS disputed_usd, sum(credit_notes) AS credit_notes,
           sum(credit_usd) AS credit_usd, sum(debit_notes) AS debit_notes, max(last_dispute_on) AS last_dispute_on,
           bool_or(on_hold) AS on_hold, sum(mrr_usd) FILTER (WHERE on_hold) AS hold_mrr_usd,
           sum(open_pipeline_usd) FILTER (WHERE on_hold) AS hold_pipeline_usd,
           min(hold_placed_on) FILTER (WHERE on_hold) AS hold_placed_on,
           max(hold_reason) FILTER (WHERE on_hold) AS hold_reason,
           sum(invoices_12m) AS invoices_12m, sum(adjusted_invoices_12m) AS adjusted_invoices_12m,
           sum(csat_sum) AS csat_sum, sum(csat_responses) AS csat_responses
    FROM gold.billing_account
    GROUP BY customer_id
), customers AS (
    SELECT customer_id FROM accounts UNION SELECT customer_id FROM overdue
)
SELECT k.customer_id, COALESCE(c.territory, 'Unknown'), COALESCE(c.account_name, k.customer_id),
       COALESCE(us.full_name, c.owner_user_id, 'Unassigned'),
       COALESCE(o.days, 0), COALESCE(o.usd, 0), COALESCE(o.n, 0), o.oldest_due,
       COALESCE(a.invoices_issued, 0), COALESCE(a.disputes + a.credit_notes + a.debit_notes, 0),
       COALESCE(a.disputes, 0), COALESCE(a.open_disputes, 0), COALESCE(a.disputed_usd, 0),
       COALESCE(a.credit_notes, 0), COALESCE(a.credit_usd, 0), COALESCE(a.debit_notes, 0), a.last_dispute_on,
       COALESCE(a.on_hold, false), COALESCE(a.hold_mrr_usd, 0), COALESCE(a.hold_pipeline_usd, 0), a.hold_placed_on,
       a.hold_reason, COALESCE(a.invoices_12m, 0), COALESCE(a.adjusted_invoices_12m, 0), COALESCE(a.csat_sum, 0),
       COALESCE(a.csat_responses, 0),
       COALESCE(CAST(c.churned_at AT TIME ZONE 'UTC' AS date) > p.as_of - 180
                AND CAST(c.churned_at AT TIME ZONE 'UTC' AS date) <= p.as_of, false)
FROM customers k
CROSS JOIN params p
LEFT JOIN overdue o ON o.customer_id = k.customer_id
LEFT JOIN accounts a ON a.customer_id = k.customer_id
LEFT JOIN gold.customer_360 c ON c.account_id = k.customer_id
LEFT JOIN silver.users us ON us.user_id = c.owner_user_id

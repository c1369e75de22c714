-- Customer journey events (requirements 003, prompt 7) up to the end of the as-of day, plus
-- meetings already booked after it. event_id is the event kind and the source record's id, so
-- it is stable across rebuilds. Amounts are USD at the rate of the event's own day, so the past
-- does not move with today's rates: invoices at their issue day's (silver's amount_usd), a
-- subscription's MRR on its first day, or on its last when it ends (gold.subscription_mrr_daily:
-- at that day's rate; empty when that day is before the first rate day or it never counted).
--   RENEWAL  subscription started (INFO) / cancelled (MEDIUM), RESOLVED;
--   BILLING  invoice overdue on the as-of day (HIGH past 60 days, else MEDIUM), OPEN;
--            invoice paid after its due date (LOW), RESOLVED;
--   SUPPORT  P1 or escalated ticket (HIGH for P1, else MEDIUM), RESOLVED once resolved_at is set;
--   MEETING  QBRs and meetings (not calls) that were held, RESOLVED, or are booked, SCHEDULED (INFO);
--   CHURN    the account churned (HIGH), RESOLVED.
-- @in_scope limits a refresh to the customers whose records changed (etl.steps).
INSERT INTO gold.timeline_events (event_id, customer_id, event_type, event_title, event_description, event_date,
                                  severity, related_amount, status)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end
), events AS (
    SELECT 'subscription-start:' || s.subscription_id AS event_id, s.account_id AS customer_id,
           'RENEWAL' AS event_type, 'New subscription' AS event_title,
           concat_ws(' ', COALESCE(pr.product_name, s.product_id), '-', 'MRR', s.mrr, s.currency) AS event_description,
           CAST(s.start_date AS timestamptz) AS event_date, 'INFO' AS severity,
           usd.mrr_usd AS related_amount, 'RESOLVED' AS status
    FROM silver.subscriptions s
    LEFT JOIN silver.products pr ON pr.product_id = s.product_id
    LEFT JOIN LATERAL (  -- one subscription-day: looked up, never the whole view
        SELECT m.mrr_usd FROM gold.subscription_mrr_daily m
        WHERE m.subscription_id = s.subscription_id AND m.day = s.start_date
    ) usd ON true
    WHERE @in_scope(s.account_id)
    UNION ALL
    SELECT 'subscription-end:' || s.subscription_id, s.account_id, 'RENEWAL', 'Subscription cancelled',
           concat_ws(' ', COALESCE(pr.product_name, s.product_id), '-', 'MRR', s.mrr, s.currency),
           CAST(s.end_date AS timestamptz), 'MEDIUM', usd.mrr_usd, 'RESOLVED'
    FROM silver.subscriptions s
    LEFT JOIN silver.products pr ON pr.product_id = s.product_id
    LEFT JOIN LATERAL (
        SELECT m.mrr_usd FROM gold.subscription_mrr_daily m
        WHERE m.subscription_id = s.subscription_id AND m.day = s.end_date - 1
    ) usd ON true
    WHERE s.end_date IS NOT NULL AND @in_scope(s.account_id)
    UNION ALL
    SELECT 'invoice-overdue:' || i.invoice_id, i.account_id, 'BILLING', 'Invoice overdue',
           concat_ws(' ', 'Invoice', i.invoice_number, 'for', i.amount, i.currency, 'was due on', i.due_date),
           CAST(i.due_date AS timestamptz),
           CASE WHEN p.as_of - i.due_date > 60 THEN 'HIGH' ELSE 'MEDIUM' END, i.amount_usd, 'OPEN'
    FROM silver.invoices i, params p
    WHERE i.due_date < p.as_of AND i.paid_at IS NULL AND i.status IS DISTINCT FROM 'paid'
      AND i.status IS DISTINCT FROM 'void' AND @in_scope(i.account_id)
    UNION ALL
    SELECT 'invoice-paid-late:' || i.invoice_id, i.account_id, 'BILLING', 'Invoice paid late',
           concat_ws(' ', 'Invoice', i.invoice_number, 'for', i.amount, i.currency, 'paid',
                     CAST(i.paid_at AS date) - i.due_date, 'days after its due date'),
           i.paid_at, 'LOW', i.amount_usd, 'RESOLVED'
    FROM silver.invoices i
    WHERE CAST(i.paid_at AS date) > i.due_date AND @in_scope(i.account_id)
    UNION ALL
    SELECT 'ticket:' || t.ticket_id, t.account_id, 'SUPPORT',
           CASE WHEN t.severity = 'P1' THEN 'P1 ticket' ELSE 'Escalated ticket' END
               || CASE WHEN t.severity = 'P1' AND t.is_escalated THEN ', escalated' ELSE '' END,
           concat_ws(' ', t.severity, t.category, '-', t.subject),
           t.created_at, CASE WHEN t.severity = 'P1' THEN 'HIGH' ELSE 'MEDIUM' END, NULL,
           CASE WHEN t.resolved_at < p.as_of_end THEN 'RESOLVED' ELSE 'OPEN' END
    FROM silver.tickets t, params p
    WHERE (t.severity = 'P1' OR t.is_escalated) AND @in_scope(t.account_id)
    UNION ALL
    SELECT 'meeting:' || m.meeting_id, m.account_id, 'MEETING',
           CASE WHEN m.meeting_type = 'qbr' THEN 'Quarterly business review' ELSE 'Meeting' END,
           concat_ws(' ', m.duration_minutes, 'minutes', CASE WHEN m.outcome IS NOT NULL THEN '-' END, m.outcome),
           m.scheduled_at, 'INFO', NULL,
           CASE WHEN m.scheduled_at >= p.as_of_end THEN 'SCHEDULED' ELSE 'RESOLVED' END
    FROM silver.meetings m, params p
    WHERE m.meeting_type IN ('qbr', 'meeting') AND m.scheduled_at IS NOT NULL AND @in_scope(m.account_id)
    UNION ALL
    SELECT 'churn:' || a.account_id, a.account_id, 'CHURN', 'Customer churned', a.account_name,
           a.churned_at, 'HIGH', NULL, 'RESOLVED'
    FROM silver.accounts a
    WHERE a.status = 'churned' AND a.churned_at IS NOT NULL AND @in_scope(a.account_id)
)
SELECT e.event_id, COALESCE(am.master_account_id, e.customer_id), e.event_type, e.event_title,
       e.event_description, e.event_date, e.severity, round(e.related_amount, 2), e.status
FROM events e
CROSS JOIN params p
LEFT JOIN silver.account_master am ON am.account_id = e.customer_id  -- the customer is the master account
WHERE e.customer_id IS NOT NULL AND e.event_date IS NOT NULL
  AND (e.event_date < p.as_of_end OR e.status = 'SCHEDULED')

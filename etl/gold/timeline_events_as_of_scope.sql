-- The accounts whose timeline events can change when the as-of day moves from :previous_as_of to
-- :as_of (etl.gold refreshes just these, with the accounts whose records changed). Events are
-- kept up to the end of the as-of day, so only those dated from :since_day (on or before the
-- previous as-of day) to the new as-of day can change: events entering the window, tickets
-- resolved and meetings held since, amounts at a rate that changed from that day on. And unpaid
-- invoices passing 60 days overdue turn from MEDIUM to HIGH.
WITH bounds AS (
    SELECT CAST(:since_day AS date) AS since_day, CAST(:as_of AS date) + 1 AS window_end,
           LEAST(CAST(:previous_as_of AS date), CAST(:as_of AS date)) - 61 AS overdue_from,
           GREATEST(CAST(:previous_as_of AS date), CAST(:as_of AS date)) - 59 AS overdue_to
)
SELECT s.account_id FROM silver.subscriptions s, bounds b
WHERE (s.start_date >= b.since_day AND s.start_date < b.window_end)
   OR (s.end_date >= b.since_day AND s.end_date < b.window_end)
UNION
SELECT i.account_id FROM silver.invoices i, bounds b
WHERE (i.due_date >= b.since_day AND i.due_date < b.window_end)
   OR (i.paid_at >= b.since_day AND i.paid_at < b.window_end)
   OR (i.paid_at IS NULL AND i.due_date >= b.overdue_from AND i.due_date < b.overdue_to)
UNION
SELECT t.account_id FROM silver.tickets t, bounds b
WHERE (t.created_at >= b.since_day AND t.created_at < b.window_end)
   OR (t.resolved_at >= b.since_day AND t.resolved_at < b.window_end)
UNION
SELECT m.account_id FROM silver.meetings m, bounds b
WHERE m.scheduled_at >= b.since_day AND m.scheduled_at < b.window_end
UNION
SELECT a.account_id FROM silver.accounts a, bounds b
WHERE a.churned_at >= b.since_day AND a.churned_at < b.window_end

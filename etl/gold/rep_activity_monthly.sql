-- Sales activity per rep and month, in the region and territory of the account it was with
-- ('Unknown' when empty): completed meetings and emails logged in the CRM, up to the as-of day.
INSERT INTO gold.rep_activity_monthly (user_id, month, region, territory, meetings, emails)
WITH activity AS (
    SELECT m.user_id, m.account_id, CAST(m.scheduled_at AS date) AS day, 1 AS meetings, 0 AS emails
    FROM silver.meetings m
    WHERE m.outcome = 'completed' AND m.user_id IS NOT NULL AND CAST(m.scheduled_at AS date) <= :as_of
    UNION ALL
    SELECT e.user_id, e.account_id, CAST(e.sent_at AS date), 0, 1
    FROM silver.emails e
    WHERE e.user_id IS NOT NULL AND CAST(e.sent_at AS date) <= :as_of
)
SELECT act.user_id, CAST(date_trunc('month', act.day) AS date), COALESCE(a.region, 'Unknown'),
       COALESCE(a.territory, 'Unknown'), sum(act.meetings), sum(act.emails)
FROM activity act
LEFT JOIN silver.accounts a ON a.account_id = act.account_id
GROUP BY 1, 2, 3, 4

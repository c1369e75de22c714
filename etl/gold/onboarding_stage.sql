-- One row per onboarding milestone: a stage starts when the one before it completed (the first at the
-- contract start, the account's first subscription start), so the days taken add up from contract start
-- to go-live; days late are the completion day less the planned day. Days are UTC days.
INSERT INTO gold.onboarding_stage (milestone_id, account_id, account_name, region, territory, milestone, sequence,
                                   owner_team, started_on, planned_date, completed_on, days_taken, days_late,
                                   is_open, account_churned)
WITH contract AS (
    SELECT account_id, min(start_date) AS contract_start
    FROM silver.subscriptions
    WHERE account_id IS NOT NULL
    GROUP BY account_id
), steps AS (
    SELECT om.milestone_id, om.account_id, om.milestone, om.sequence, om.owner_team, om.planned_date,
           CAST(om.completed_at AT TIME ZONE 'UTC' AS date) AS completed_on,
           lag(CAST(om.completed_at AT TIME ZONE 'UTC' AS date))
               OVER (PARTITION BY om.account_id ORDER BY om.sequence, om.milestone_id) AS previous_completed_on,
           row_number() OVER (PARTITION BY om.account_id ORDER BY om.sequence, om.milestone_id) AS step
    FROM silver.onboarding_milestones om
    WHERE om.account_id IS NOT NULL
), started AS (
    SELECT s.*, CASE WHEN s.step = 1 THEN c.contract_start ELSE s.previous_completed_on END AS started_on
    FROM steps s
    LEFT JOIN contract c ON c.account_id = s.account_id
)
SELECT s.milestone_id, s.account_id, a.account_name, COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
       s.milestone, s.sequence, COALESCE(NULLIF(s.owner_team, ''), 'Unknown'), s.started_on, s.planned_date,
       s.completed_on, s.completed_on - s.started_on, s.completed_on - s.planned_date, s.completed_on IS NULL,
       COALESCE(a.churned_at < CAST(:as_of AS date) + 1, false)
FROM started s
LEFT JOIN silver.accounts a ON a.account_id = s.account_id

-- One row per region, territory, milestone, measure and number of days, counting the milestones
-- completed in the 365 days to the last day of gold.support_case: 'taken' their days taken, 'late' their
-- days late, 'to_live' (go-live only) the days from the account's kickoff start. A median over any
-- scope of territories is exact from these counts.
INSERT INTO gold.onboarding_days (region, territory, milestone, measure, days, stages)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
), done AS MATERIALIZED (
    SELECT st.*
    FROM gold.onboarding_stage st
    CROSS JOIN as_of a
    WHERE st.completed_on > a.day - 365 AND st.completed_on <= a.day
), measured AS (
    SELECT region, territory, milestone, 'taken' AS measure, days_taken AS days FROM done WHERE days_taken IS NOT NULL
    UNION ALL
    SELECT region, territory, milestone, 'late', days_late FROM done WHERE days_late IS NOT NULL
    UNION ALL
    SELECT d.region, d.territory, d.milestone, 'to_live', d.completed_on - k.started_on
    FROM done d
    JOIN gold.onboarding_stage k ON k.account_id = d.account_id AND k.milestone = 'kickoff'
    WHERE d.milestone = 'go_live' AND k.started_on IS NOT NULL
)
SELECT region, territory, milestone, measure, days, count(*)
FROM measured
GROUP BY 1, 2, 3, 4, 5

-- One row per region, territory, milestone and owner team: the milestones completed in the 365 days to
-- the last day of gold.support_case (the Operations page's), the lowest sequence and those completed late.
INSERT INTO gold.onboarding_summary (region, territory, milestone, owner_team, sequence, completed, late)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
)
SELECT st.region, st.territory, st.milestone, st.owner_team, min(st.sequence), count(*),
       count(*) FILTER (WHERE st.days_late > 0)
FROM gold.onboarding_stage st
CROSS JOIN as_of a
WHERE st.completed_on > a.day - 365 AND st.completed_on <= a.day
GROUP BY 1, 2, 3, 4

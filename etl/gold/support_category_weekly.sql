-- One row per region, territory, ticket category and week of the 13 weeks to the last day of
-- gold.support_case (week 0 the last 7 days, week 1 the 7 before, ...): the distinct accounts with a
-- ticket of the category. An account sits in one territory, so a scope of territories sums them.
INSERT INTO gold.support_category_weekly (region, territory, category, week, accounts)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
)
SELECT sc.region, sc.territory, sc.category, (a.day - sc.opened_day) / 7, count(DISTINCT sc.account_id)
FROM gold.support_case sc
CROSS JOIN as_of a
WHERE sc.kind = 'ticket' AND sc.opened_day > a.day - 7 * 13 AND sc.opened_day <= a.day
  AND sc.category IS NOT NULL AND sc.account_id IS NOT NULL
GROUP BY 1, 2, 3, 4

-- One row per ticket of the 120 days to the last day of gold.support_case (the longest period, 90 days,
-- and the 30 before it) of a customer (master account) whose tickets of those days sit in more than one
-- region and territory, with its customer and the customer's name: a scope may see some of them only, so
-- their repeats are worked out per request (dashboard.queries.support_insights.repeats).
INSERT INTO gold.support_repeat_ticket (case_id, customer_account_id, account_name, region, territory, category,
                                        opened_day, opened_at)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
), customers AS (
    SELECT account_id AS customer_id, account_name AS customer_name, unnest(regional_account_ids) AS regional_id
    FROM gold.customer_360
), tickets AS MATERIALIZED (
    SELECT sc.case_id, COALESCE(cu.customer_id, sc.account_id) AS customer_id,
           COALESCE(cu.customer_name, sc.account_name, sc.account_id) AS account_name, sc.region, sc.territory,
           sc.category, sc.opened_day, sc.opened_at
    FROM gold.support_case sc
    CROSS JOIN as_of a
    LEFT JOIN customers cu ON cu.regional_id = sc.account_id
    WHERE sc.kind = 'ticket' AND sc.opened_day > a.day - 120 AND sc.opened_day <= a.day
      AND sc.account_id IS NOT NULL AND sc.category IS NOT NULL
)
SELECT t.case_id, t.customer_id, t.account_name, t.region, t.territory, t.category, t.opened_day, t.opened_at
FROM tickets t
WHERE t.customer_id IN (SELECT customer_id FROM tickets GROUP BY customer_id
                        HAVING count(DISTINCT (region, territory)) > 1)

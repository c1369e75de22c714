-- One row per period (7, 30 and 90 days to the last day of gold.support_case) and customer (master
-- account) with a ticket in it, whose tickets of the last 120 days sit in one region and territory (the
-- others: gold.support_repeat_ticket): its tickets of the period, the repeat ones (its previous ticket of
-- the same category came within 30 days before), their categories and last day; the name and territory
-- from its tickets of the period and the 30 days before. Any scope of territories sees all of such a
-- customer's tickets or none, so these rows are its figures for that scope.
INSERT INTO gold.support_repeat_customer (period_days, customer_account_id, account_name, region, territory, tickets,
                                          repeat_tickets, categories, last_opened)
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
), flagged AS (
    -- A previous ticket more than 30 days back is before every period's window: the flag holds for all.
    SELECT t.*, COALESCE(t.opened_at - lag(t.opened_at) OVER (PARTITION BY t.customer_id, t.category
                                                              ORDER BY t.opened_at, t.case_id)
                         <= interval '30 days', false) AS is_repeat
    FROM tickets t
    WHERE t.customer_id IN (SELECT customer_id FROM tickets GROUP BY customer_id
                            HAVING count(DISTINCT (region, territory)) = 1)
), periods AS (
    SELECT unnest(ARRAY[7, 30, 90]) AS period_days
), windowed AS (
    SELECT p.period_days, f.*, f.opened_day > a.day - p.period_days AS in_period
    FROM periods p
    CROSS JOIN as_of a
    JOIN flagged f ON f.opened_day > a.day - p.period_days - 30
)
SELECT period_days, customer_id, max(account_name), max(region), max(territory),
       count(*) FILTER (WHERE in_period), count(*) FILTER (WHERE in_period AND is_repeat),
       string_agg(DISTINCT CASE WHEN in_period AND is_repeat THEN category END, ', '),
       max(CASE WHEN in_period AND is_repeat THEN opened_day END)
FROM windowed
GROUP BY period_days, customer_id
HAVING count(*) FILTER (WHERE in_period) > 0

-- Customers, MRR and revenue for every day from :first_day to :as_of per region x territory of the
-- customer's MASTER account (the definitions are on dashboard.tables.gold.DailyKpiMasterTerritory):
-- gold.daily_kpi_territory summed over segment, with the regional accounts of the customers that
-- identity resolution linked (several regional accounts, as gold.customer_360 groups them) rolled
-- up to their master account, whose region and territory they then count in:
--   * customers: each linked regional account's activity leaves its own region and territory, and
--     its customer, active while any of them is (their subscriptions merged into islands), joins
--     the master's, so the customer counts once;
--   * MRR and revenue: the subscriptions' and invoices' amounts of a linked account outside its
--     master's region and territory move there (local MRR per currency converted at each day's
--     rate, as daily_kpi_territory.sql does).
-- Only the linked accounts' records are read: a few per cent of them, where working every
-- customer out again took seconds.
--
-- Incremental refresh: only the days from :since_day on are produced (every day when it is before
-- :first_day), from daily_kpi_territory's rows of those days; the linked accounts' events before
-- that day count on it. Master ids change on no particular day: when they change, the whole table
-- is worked out again (etl.gold.refresh_plan).
INSERT INTO gold.daily_kpi_master_territory (day, region, territory, active_customers, mrr_usd, invoiced_usd)
WITH params AS (
    SELECT CAST(:first_day AS date) AS first_day, CAST(:as_of AS date) AS as_of,
           GREATEST(CAST(:since_day AS date), CAST(:first_day AS date)) AS from_day
), days AS (
    SELECT p.from_day + offset_days AS day
    FROM params p, generate_series(0, p.as_of - p.from_day) AS offset_days
), members AS (
    SELECT COALESCE(am.master_account_id, a.account_id) AS master_account_id, a.account_id,
           COALESCE(a.region, 'Unknown') AS region, COALESCE(a.territory, 'Unknown') AS territory
    FROM silver.accounts a LEFT JOIN silver.account_master am ON am.account_id = a.account_id
), linked AS (
    -- The regional accounts of every customer made of several, with their own region and territory
    -- (as daily_kpi_territory has them) and their master's.
    SELECT r.account_id, r.master_account_id AS customer_id, r.region, r.territory,
           COALESCE(m.region, 'Unknown') AS master_region, COALESCE(m.territory, 'Unknown') AS master_territory
    FROM members r
    JOIN silver.accounts m ON m.account_id = r.master_account_id
    WHERE r.master_account_id IN (SELECT master_account_id FROM members GROUP BY master_account_id HAVING count(*) > 1)
), subs AS (
    SELECT l.*, s.active_from AS start_date, COALESCE(s.active_until, 'infinity'::date) AS end_date, s.mrr, s.currency
    FROM linked l JOIN gold.subscription_mrr s ON s.account_id = l.account_id
), spells AS (
    -- Each linked account's subscriptions twice: leaving its own region and territory (-1), merged
    -- per regional account, and joining its master's (+1), merged per customer.
    SELECT 'account ' || account_id AS counted, region, territory, -1 AS sign, start_date, end_date FROM subs
    UNION ALL
    SELECT 'customer ' || customer_id, master_region, master_territory, 1, start_date, end_date FROM subs
), islands AS (
    -- Maximal periods in which the regional account, or the customer, has an active subscription.
    SELECT region, territory, sign, min(start_date) AS start_date, max(end_date) AS end_date
    FROM (SELECT *, count(*) FILTER (WHERE previous_end IS NULL OR start_date > previous_end)
                        OVER (PARTITION BY counted ORDER BY start_date, end_date ROWS UNBOUNDED PRECEDING) AS island
          FROM (SELECT spells.*, max(end_date) OVER (PARTITION BY counted ORDER BY start_date, end_date
                                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
                FROM spells) ordered) numbered
    GROUP BY counted, region, territory, sign, island
), moves AS (
    -- The linked accounts outside their master's region and territory: their amounts leave (-1) one
    -- group and join (+1) the other.
    SELECT l.account_id, moved.region, moved.territory, moved.sign
    FROM linked l
    CROSS JOIN LATERAL (VALUES (l.region, l.territory, -1), (l.master_region, l.master_territory, 1))
        AS moved (region, territory, sign)
    WHERE (l.region, l.territory) <> (l.master_region, l.master_territory)
), facts AS (
    -- What moves, as (day, group, change): customers and the day's revenue.
    SELECT start_date AS day, region, territory, sign AS customers, 0::numeric AS invoiced_usd FROM islands
    UNION ALL
    SELECT end_date, region, territory, -sign, 0 FROM islands
    UNION ALL
    SELECT i.issue_date, mv.region, mv.territory, 0, mv.sign * i.amount_usd
    FROM moves mv JOIN silver.invoices i ON i.account_id = mv.account_id
    WHERE i.status IS DISTINCT FROM 'void' AND i.issue_date >= (SELECT from_day FROM params)
), daily AS (
    -- Customer changes before the first day produced count on it; revenue before it does not.
    SELECT GREATEST(f.day, p.from_day) AS day, f.region, f.territory, sum(f.customers) AS customers,
           sum(f.invoiced_usd) FILTER (WHERE f.day >= p.from_day) AS invoiced_usd
    FROM facts f, params p
    WHERE f.day <= p.as_of
    GROUP BY 1, 2, 3
), grid AS MATERIALIZED (
    -- Materialised so the day's changes are joined on all three keys (see daily_kpi_territory.sql).
    SELECT d.day, g.region, g.territory FROM (SELECT DISTINCT region, territory FROM daily) g CROSS JOIN days d
), customers_running AS (
    SELECT gd.day, gd.region, gd.territory,
           sum(COALESCE(x.customers, 0)) OVER (PARTITION BY gd.region, gd.territory ORDER BY gd.day) AS customers,
           x.invoiced_usd
    FROM grid gd
    LEFT JOIN daily x ON x.day = gd.day AND x.region = gd.region AND x.territory = gd.territory
), mrr_daily AS (
    -- Local MRR moving per day from the first day produced; what ran before it counts on it.
    SELECT GREATEST(e.day, p.from_day) AS day, e.region, e.territory, e.currency, sum(e.mrr) AS mrr
    FROM (SELECT s.start_date AS day, mv.region, mv.territory, s.currency, mv.sign * s.mrr AS mrr
          FROM moves mv JOIN subs s ON s.account_id = mv.account_id
          UNION ALL
          SELECT s.end_date, mv.region, mv.territory, s.currency, -mv.sign * s.mrr
          FROM moves mv JOIN subs s ON s.account_id = mv.account_id) e, params p
    WHERE e.day <= p.as_of
    GROUP BY 1, 2, 3, 4
), mrr_spans AS (
    -- The local MRR moved per group and currency from each day it changes until the next.
    SELECT region, territory, currency, day AS first_day,
           lead(day, 1, (SELECT as_of + 1 FROM params)) OVER w - 1 AS last_day, sum(mrr) OVER w AS mrr
    FROM mrr_daily
    WINDOW w AS (PARTITION BY region, territory, currency ORDER BY day)
), mrr AS (
    -- Converted at each day's rate: a span per day, without sorting every group x currency x day.
    SELECT CAST(d.day AS date) AS day, s.region, s.territory, sum(s.mrr * fx.usd_per_unit) AS mrr_usd
    FROM mrr_spans s
    CROSS JOIN LATERAL generate_series(s.first_day, s.last_day, interval '1 day') AS d (day)
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = CAST(d.day AS date) AND fx.currency = s.currency
    GROUP BY 1, 2, 3
), regional AS (
    -- Every account's region x territory on every day (daily_kpi_territory has them all).
    SELECT k.day, k.region, k.territory, sum(k.active_customers) AS customers, sum(k.mrr_usd) AS mrr_usd,
           sum(k.invoiced_usd) AS invoiced_usd
    FROM gold.daily_kpi_territory k, params p
    WHERE k.day >= p.from_day
    GROUP BY k.day, k.region, k.territory
)
SELECT r.day, r.region, r.territory, r.customers + COALESCE(c.customers, 0),
       round(r.mrr_usd + COALESCE(m.mrr_usd, 0), 2), round(r.invoiced_usd + COALESCE(c.invoiced_usd, 0), 2)
FROM regional r
LEFT JOIN customers_running c ON c.day = r.day AND c.region = r.region AND c.territory = r.territory
LEFT JOIN mrr m ON m.day = r.day AND m.region = r.region AND m.territory = r.territory

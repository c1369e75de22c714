-- Customers, contacts, MRR and revenue for every day from :first_day to :as_of, per region x
-- territory x segment (account_type; 'Unknown' when empty or when the account is not in silver).
-- gold.daily_kpi is this table summed over territory.
--
-- Stock figures (active customers, active contacts, MRR) are running sums of +/- events over
-- the calendar rather than one row per subscription-day, so the cost grows with the number of
-- subscriptions plus days x groups, not with their product:
--   * an account is active on D when one of its subscriptions is (start_date <= D < end_date,
--     no end_date = still running); its overlapping subscriptions are merged into islands,
--     each adding 1 on its first day and removing 1 on its end day;
--   * a contact counts on D when created on or before D and its account is active on D;
--   * MRR is gold.subscription_mrr_daily summed over the group's subscriptions, worked out
--     without a row per subscription-day: the local MRR is summed per currency, then converted
--     at D's rate (silver.fx_rates_daily, as the view does; numeric products are exact, so the
--     converted sum is the sum of the converted MRR), empty without a rate.
-- Events before :first_day are moved to :first_day; events after :as_of are dropped.
--
-- Incremental refresh: only the days from :since_day on are produced (every day when it is
-- before :first_day). The stock figures then start from the stored row of the day before
-- (its customers and contacts; MRR is recomputed from the subscriptions active that day),
-- so only the events from :since_day on are read.
INSERT INTO gold.daily_kpi_territory (day, region, territory, segment, active_customers, new_customers,
                                      churned_customers, active_contacts, mrr_usd, invoiced_usd, collected_usd)
WITH params AS (
    SELECT CAST(:first_day AS date) AS first_day, CAST(:as_of AS date) AS as_of,
           GREATEST(CAST(:since_day AS date), CAST(:first_day AS date)) AS from_day
), days AS (
    SELECT p.from_day + offset_days AS day
    FROM params p, generate_series(0, p.as_of - p.from_day) AS offset_days
), base AS (
    -- The stock figures on the day before the first day produced (none in a full build).
    SELECT k.region, k.territory, k.segment, k.active_customers, k.active_contacts
    FROM gold.daily_kpi_territory k, params p
    WHERE p.from_day > p.first_day AND k.day = p.from_day - 1
), acct AS (
    SELECT account_id, COALESCE(region, 'Unknown') AS region, COALESCE(territory, 'Unknown') AS territory,
           COALESCE(account_type, 'Unknown') AS segment,
           status, churned_at
    FROM silver.accounts
), subs AS (
    -- The subscriptions that count on at least one day (gold.subscription_mrr, where MRR is
    -- defined), with their account's region and segment.
    SELECT m.account_id, m.active_from AS start_date, COALESCE(m.active_until, 'infinity'::date) AS end_date,
           m.mrr, m.currency,
           COALESCE(a.region, 'Unknown') AS region, COALESCE(a.territory, 'Unknown') AS territory,
           COALESCE(a.segment, 'Unknown') AS segment
    FROM gold.subscription_mrr m LEFT JOIN acct a ON a.account_id = m.account_id
), subs_ordered AS (
    SELECT subs.*,
           max(end_date) OVER (PARTITION BY account_id ORDER BY start_date, end_date
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM subs
), subs_islands AS (
    SELECT subs_ordered.*,
           count(*) FILTER (WHERE previous_end IS NULL OR start_date > previous_end)
               OVER (PARTITION BY account_id ORDER BY start_date, end_date ROWS UNBOUNDED PRECEDING) AS island
    FROM subs_ordered
), islands AS (
    -- Maximal periods in which the account has at least one active subscription.
    SELECT account_id, region, territory, segment, min(start_date) AS start_date, max(end_date) AS end_date
    FROM subs_islands
    GROUP BY account_id, region, territory, segment, island
), contact_periods AS (
    -- When each contact counts: from its creation (or its account's activation) to the island's end.
    SELECT i.region, i.territory, i.segment, GREATEST(i.start_date, CAST(c.created_at AS date)) AS start_date, i.end_date
    FROM islands i JOIN silver.contacts c ON c.account_id = i.account_id
    CROSS JOIN params p
    WHERE c.created_at IS NOT NULL
      AND (p.from_day = p.first_day OR i.start_date >= p.from_day OR i.end_date BETWEEN p.from_day AND p.as_of
           OR c.created_at >= CAST(p.from_day AS timestamptz))
), facts AS (
    -- Every figure as (day, group, amounts): the deltas of the stock figures and the day's flows.
    SELECT start_date AS day, region, territory, segment, 1 AS customers, 0 AS contacts, 0 AS new_customers,
           0 AS churned, 0::numeric AS invoiced_usd, 0::numeric AS collected_usd
    FROM islands
    UNION ALL
    SELECT end_date, region, territory, segment, -1, 0, 0, 0, 0, 0 FROM islands
    UNION ALL
    SELECT start_date, region, territory, segment, 0, 1, 0, 0, 0, 0 FROM contact_periods WHERE start_date < end_date
    UNION ALL
    SELECT end_date, region, territory, segment, 0, -1, 0, 0, 0, 0 FROM contact_periods WHERE start_date < end_date
    UNION ALL
    SELECT min(s.start_date), COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
           COALESCE(a.segment, 'Unknown'), 0, 0, 1, 0, 0, 0
    FROM silver.subscriptions s LEFT JOIN acct a ON a.account_id = s.account_id
    GROUP BY s.account_id, a.region, a.territory, a.segment
    UNION ALL
    SELECT CAST(churned_at AS date), region, territory, segment, 0, 0, 0, 1, 0, 0
    FROM acct WHERE status = 'churned'
    UNION ALL
    SELECT i.issue_date, COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'), COALESCE(a.segment, 'Unknown'), 0, 0, 0, 0,
           i.amount_usd, 0
    FROM silver.invoices i LEFT JOIN acct a ON a.account_id = i.account_id
    WHERE i.status IS DISTINCT FROM 'void' AND i.issue_date >= (SELECT from_day FROM params)
    UNION ALL
    SELECT CAST(pay.paid_at AS date), COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
           COALESCE(a.segment, 'Unknown'), 0, 0, 0, 0,
           0, pay.amount_usd
    FROM silver.payments pay
    LEFT JOIN acct a ON a.account_id = COALESCE(
        pay.account_id, (SELECT inv.account_id FROM silver.invoices inv WHERE inv.invoice_id = pay.invoice_id))
    WHERE pay.paid_at >= (SELECT CAST(from_day AS timestamptz) FROM params)
), daily AS (
    -- Stock deltas before the first day count on the first day; flows before it do not.
    SELECT GREATEST(f.day, p.first_day) AS day, f.region, f.territory, f.segment,
           sum(f.customers) AS customers, sum(f.contacts) AS contacts,
           sum(f.new_customers) FILTER (WHERE f.day >= p.first_day) AS new_customers,
           sum(f.churned) FILTER (WHERE f.day >= p.first_day) AS churned,
           sum(f.invoiced_usd) FILTER (WHERE f.day >= p.first_day) AS invoiced_usd,
           sum(f.collected_usd) FILTER (WHERE f.day >= p.first_day) AS collected_usd
    FROM facts f, params p
    WHERE f.day <= p.as_of AND GREATEST(f.day, p.first_day) >= p.from_day
    GROUP BY 1, 2, 3, 4
), mrr_daily AS (
    -- Local MRR changes per day from the first day produced; what ran before it counts on it.
    SELECT GREATEST(e.day, p.from_day) AS day, e.region, e.territory, e.segment, e.currency, sum(e.mrr) AS mrr
    FROM (SELECT start_date AS day, region, territory, segment, currency, mrr FROM subs
          UNION ALL
          SELECT end_date, region, territory, segment, currency, -mrr FROM subs) e, params p
    WHERE e.day <= p.as_of
    GROUP BY 1, 2, 3, 4, 5
), mrr_running AS (
    -- Local-currency MRR on every day per group and currency, converted at that day's rate, as
    -- gold.subscription_mrr_daily converts each subscription's.
    SELECT d.day, g.region, g.territory, g.segment,
           sum(COALESCE(m.mrr, 0)) OVER (PARTITION BY g.region, g.territory, g.segment, g.currency ORDER BY d.day)
               * fx.usd_per_unit AS mrr_usd
    FROM (SELECT DISTINCT region, territory, segment, currency FROM mrr_daily) g
    CROSS JOIN days d
    LEFT JOIN mrr_daily m ON m.day = d.day AND m.region = g.region AND m.territory = g.territory
                         AND m.segment = g.segment
                         AND m.currency = g.currency
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = d.day AND fx.currency = g.currency
), mrr AS (
    SELECT day, region, territory, segment, sum(mrr_usd) AS mrr_usd FROM mrr_running GROUP BY 1, 2, 3, 4
), groups AS (
    -- Every region x segment with an account or with a figure in the window.
    SELECT region, territory, segment FROM acct
    UNION
    SELECT region, territory, segment FROM daily
    UNION
    SELECT region, territory, segment FROM base
), grid AS MATERIALIZED (
    -- Every group on every day. Materialised so the planner joins the day's figures on all four
    -- keys: joined straight off the groups, it merge-joined on the group alone and filtered the
    -- day out of groups x days x figures rows (a minute at medium scale instead of seconds).
    SELECT d.day, g.region, g.territory, g.segment FROM groups g CROSS JOIN days d
), running AS (
    SELECT gd.day, gd.region, gd.territory, gd.segment,
           COALESCE(b.active_customers, 0) + sum(COALESCE(x.customers, 0)) OVER w AS active_customers,
           COALESCE(b.active_contacts, 0) + sum(COALESCE(x.contacts, 0)) OVER w AS active_contacts,
           x.new_customers, x.churned, x.invoiced_usd, x.collected_usd
    FROM grid gd
    LEFT JOIN base b ON b.region = gd.region AND b.territory = gd.territory AND b.segment = gd.segment
    LEFT JOIN daily x ON x.day = gd.day AND x.region = gd.region AND x.territory = gd.territory
                     AND x.segment = gd.segment
    WINDOW w AS (PARTITION BY gd.region, gd.territory, gd.segment ORDER BY gd.day)
)
SELECT r.day, r.region, r.territory, r.segment, r.active_customers, COALESCE(r.new_customers, 0), COALESCE(r.churned, 0),
       r.active_contacts, round(COALESCE(m.mrr_usd, 0), 2), round(COALESCE(r.invoiced_usd, 0), 2),
       round(COALESCE(r.collected_usd, 0), 2)
FROM running r
LEFT JOIN mrr m ON m.day = r.day AND m.region = r.region AND m.territory = r.territory AND m.segment = r.segment

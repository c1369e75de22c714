-- Deals per month x stage x territory x owning rep. The month is that of the close date
-- (expected close while open, so open pipeline reaches into future months; the creation day
-- when there is none); the territory is the account's ('Unknown' when empty or the account is unknown).
--   weighted_amount_usd: amount_usd x probability / 100;
--   won / lost: closed deals, is_won true / false;
--   avg_cycle_days: closed deals, close date minus creation day.
INSERT INTO gold.pipeline_monthly (month, stage, territory, owner_user_id, opportunities, amount_usd,
                                   weighted_amount_usd, won, lost, avg_cycle_days)
WITH deals AS (
    SELECT CAST(date_trunc('month', COALESCE(o.close_date, CAST(o.created_at AS date))) AS date) AS month,
           COALESCE(o.stage, 'Unknown') AS stage,
           COALESCE(a.territory, 'Unknown') AS territory,
           COALESCE(o.owner_user_id, 'Unknown') AS owner_user_id,
           o.amount_usd, o.probability, o.is_closed, o.is_won,
           o.close_date - CAST(o.created_at AS date) AS cycle_days
    FROM silver.opportunities o
    LEFT JOIN silver.accounts a ON a.account_id = o.account_id
)
SELECT month, stage, territory, owner_user_id,
       count(*),
       round(COALESCE(sum(amount_usd), 0), 2),
       round(COALESCE(sum(amount_usd * probability / 100), 0), 2),
       count(*) FILTER (WHERE is_closed AND is_won),
       count(*) FILTER (WHERE is_closed AND NOT is_won),
       avg(cycle_days) FILTER (WHERE is_closed)
FROM deals
WHERE month IS NOT NULL
GROUP BY 1, 2, 3, 4

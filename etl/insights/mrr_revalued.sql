-- Per customer (master account), its MRR on :day revalued at :rate_day's exchange rates: each
-- subscription's MRR in USD that day (gold.subscription_mrr_daily, MRR's one definition) times the
-- ratio of its currency's rates on the two days. Empty for a customer billed in a currency without
-- a rate on :rate_day. The KPI-driver job splits FX from expansion and contraction with it.
WITH later AS (
    SELECT currency, usd_per_unit FROM silver.fx_rates_daily WHERE day = CAST(:rate_day AS date)
)
SELECT COALESCE(am.master_account_id, d.account_id) AS account_id,
       CASE WHEN bool_and(l.usd_per_unit IS NOT NULL AND d.usd_per_unit > 0)
            THEN round(sum(d.mrr_usd * l.usd_per_unit / d.usd_per_unit), 2) END AS mrr_usd_at_end_rates
FROM gold.subscription_mrr_daily d
LEFT JOIN later l ON l.currency = d.currency
LEFT JOIN silver.account_master am ON am.account_id = d.account_id
WHERE d.day = CAST(:day AS date)
GROUP BY 1

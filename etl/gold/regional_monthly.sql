-- Per region and month, from gold.daily_kpi (built earlier in this transaction, so the two
-- always agree): stock figures (active customers, MRR) on the month's last day, or on the
-- as-of day for the current month; flows (new and churned customers, invoiced and collected)
-- summed over the month; mrr_growth_pct against the previous month's figure (empty when that
-- was zero or it is the first month).
INSERT INTO gold.regional_monthly (region, month, active_customers, new_customers, churned_customers, mrr_usd,
                                   invoiced_usd, collected_usd, mrr_growth_pct)
WITH by_day AS (
    SELECT day, region, sum(active_customers) AS active_customers, sum(new_customers) AS new_customers,
           sum(churned_customers) AS churned_customers, sum(mrr_usd) AS mrr_usd,
           sum(invoiced_usd) AS invoiced_usd, sum(collected_usd) AS collected_usd
    FROM gold.daily_kpi
    GROUP BY day, region
), monthly AS (
    SELECT region, CAST(date_trunc('month', day) AS date) AS month,
           (array_agg(active_customers ORDER BY day DESC))[1] AS active_customers,
           sum(new_customers) AS new_customers, sum(churned_customers) AS churned_customers,
           (array_agg(mrr_usd ORDER BY day DESC))[1] AS mrr_usd,
           sum(invoiced_usd) AS invoiced_usd, sum(collected_usd) AS collected_usd
    FROM by_day
    GROUP BY 1, 2
)
SELECT region, month, active_customers, new_customers, churned_customers, mrr_usd, invoiced_usd, collected_usd,
       CASE WHEN lag(mrr_usd) OVER w > 0
            THEN CAST(100 * (mrr_usd - lag(mrr_usd) OVER w) / lag(mrr_usd) OVER w AS double precision) END
FROM monthly
WINDOW w AS (PARTITION BY region ORDER BY month)

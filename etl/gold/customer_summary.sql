-- One row per region x territory x churn level x health band of gold.customer_360, and per product
-- line held for the lifetime value by line (the definitions are on
-- dashboard.tables.gold.CustomerSummary): the pages' totals over many customers, read in a few
-- hundred rows. Keys are never empty: '' stands for a missing territory, churn level or health band.
-- Thresholds as models.health (80, 50) and models.churn.HIGH_RISK_MIN_SCORE (70).
-- A few rows per territory: worked out whole on each refresh (etl.steps DIFF), and again by the
-- scoring job, which rewrites the scores this reads.
INSERT INTO gold.customer_summary (region, territory, product_line, risk_level, health_band, active_customers,
                                   mrr_usd, newly_high_customers, clv_customers, clv_usd, gap_customers)
WITH customers AS (
    SELECT c.account_id, c.region, COALESCE(c.territory, '') AS territory, COALESCE(c.risk_level, '') AS risk_level,
           CASE WHEN c.health_score IS NULL THEN '' WHEN c.health_score >= 80 THEN 'Healthy'
                WHEN c.health_score >= 50 THEN 'At-Risk' ELSE 'Critical' END AS health_band,
           c.status = 'active' AS active, c.mrr_usd, c.clv_usd
    FROM gold.customer_360 c
), figures AS (
    SELECT k.region, k.territory, 'All products' AS product_line, k.risk_level, k.health_band,
           CASE WHEN k.active THEN 1 ELSE 0 END AS active_customers,
           CASE WHEN k.active THEN k.mrr_usd ELSE 0 END AS mrr_usd,
           CASE WHEN k.active AND p.risk_level = 'HIGH' AND p.previous_churn_risk_score < 70 THEN 1 ELSE 0 END
               AS newly_high_customers,
           CASE WHEN k.active AND k.clv_usd IS NOT NULL THEN 1 ELSE 0 END AS clv_customers,
           CASE WHEN k.active THEN COALESCE(k.clv_usd, 0) ELSE 0 END AS clv_usd,
           CASE WHEN b.active AND b.gap_count > 0 THEN 1 ELSE 0 END AS gap_customers
    FROM customers k
    LEFT JOIN gold.churn_prediction p ON p.account_id = k.account_id
    LEFT JOIN gold.account_book b ON b.account_id = k.account_id
    UNION ALL
    -- A customer counts in every line it holds.
    SELECT k.region, k.territory, held.line, k.risk_level, k.health_band, 0, 0, 0, 1, k.clv_usd, 0
    FROM customers k
    JOIN gold.account_book b ON b.account_id = k.account_id
    CROSS JOIN LATERAL unnest(b.product_lines) AS held(line)
    WHERE k.active AND k.clv_usd IS NOT NULL
)
SELECT region, territory, product_line, risk_level, health_band, sum(active_customers), sum(mrr_usd),
       sum(newly_high_customers), sum(clv_customers), sum(clv_usd), sum(gap_customers)
FROM figures
GROUP BY region, territory, product_line, risk_level, health_band

-- One row per territory and churn factor raising today's HIGH-risk customers' risk, and per
-- territory one 'All factors' row counting them all, 0 where none is (the definitions are on
-- dashboard.tables.gold.ChurnFactorTerritory). The territory is the customer's in
-- gold.customer_360, '' without one or without a row there: no data scope names ''.
-- Worked out whole on each refresh (etl.steps DIFF), and again by the scoring job, which writes
-- gold.churn_prediction.
INSERT INTO gold.churn_factor_territory (territory, factor, customers)
WITH high_risk AS (
    SELECT p.account_id, COALESCE(c.territory, '') AS territory, p.contributing_factors
    FROM gold.churn_prediction p
    LEFT JOIN gold.customer_360 c ON c.account_id = p.account_id
    WHERE p.risk_level = 'HIGH'
), territories AS (
    SELECT COALESCE(territory, '') AS territory FROM gold.customer_360
    UNION
    SELECT territory FROM high_risk
)
SELECT t.territory, 'All factors', count(h.account_id)
FROM territories t
LEFT JOIN high_risk h ON h.territory = t.territory
GROUP BY t.territory
UNION ALL
-- A customer counts once per factor, however many of its entries carry that label.
SELECT h.territory, COALESCE(f.value ->> 'label', f.value ->> 'feature', ''), count(DISTINCT h.account_id)
FROM high_risk h
CROSS JOIN LATERAL jsonb_array_elements(h.contributing_factors) AS f(value)
WHERE CAST(f.value ->> 'contribution' AS double precision) > 0
GROUP BY 1, 2

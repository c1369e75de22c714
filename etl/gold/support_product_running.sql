-- Customers running each product in the last 7, 30 and 90 days to the support cases' last day (the
-- Operations page's as-of day), per territory and region: a customer runs a product in a period when it
-- started on or before the as-of day and had not ended by the period's first day.
INSERT INTO gold.support_product_running (period_days, product_id, territory, region, as_of, product_name, customers)
WITH k AS (SELECT max(opened_day) AS as_of FROM gold.support_case)
SELECT p.days, pc.product_id, pc.territory, pc.region, k.as_of, max(pc.product_name), count(*)
FROM unnest(ARRAY[7, 30, 90]) AS p(days)
CROSS JOIN k
JOIN gold.product_customer pc
  ON pc.running_from <= k.as_of AND (pc.running_until IS NULL OR pc.running_until > k.as_of - p.days + 1)
WHERE k.as_of IS NOT NULL
GROUP BY p.days, pc.product_id, pc.territory, pc.region, k.as_of

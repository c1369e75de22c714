-- One row per region and territory of gold.customer_360 ('' without a territory): its customers. The
-- Operations page offers these regions, read for a scope of territories without touching customer_360.
INSERT INTO gold.support_region (region, territory, customers)
SELECT region, COALESCE(territory, ''), count(*)
FROM gold.customer_360
WHERE region <> ''
GROUP BY 1, 2

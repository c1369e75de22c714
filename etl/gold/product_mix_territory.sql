-- Product lines held on :as_of per region x territory of the customer's MASTER account ('Unknown'
-- when empty), customers as in gold.customer_360 (the definitions are on
-- dashboard.tables.gold.ProductMixTerritory). A customer holds the product families of its
-- regional accounts' subscriptions counting on the as-of day, as gold.account_book's product_lines;
-- it counts once per line held and, on the 'All products' row, once when it holds any line.
-- A few rows per territory: worked out whole on each refresh (etl.steps DIFF).
INSERT INTO gold.product_mix_territory (region, territory, product_line, customers, mrr_usd)
WITH counting AS (
    -- The subscriptions counting on the as-of day with their MRR in USD that day, their customer
    -- and where it counts, and their line.
    SELECT COALESCE(am.master_account_id, a.account_id) AS customer_id, COALESCE(m.region, 'Unknown') AS region,
           COALESCE(m.territory, 'Unknown') AS territory, p.product_family AS line, v.mrr_usd
    FROM gold.subscription_mrr_daily v
    JOIN silver.accounts a ON a.account_id = v.account_id
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
    JOIN silver.accounts m ON m.account_id = COALESCE(am.master_account_id, a.account_id)
    JOIN silver.subscriptions s ON s.subscription_id = v.subscription_id
    LEFT JOIN silver.products p ON p.product_id = s.product_id
    WHERE v.day = CAST(:as_of AS date)
), lines AS (
    -- Per customer and line held, then per customer holding any: grouped twice rather than counting
    -- distinct customers, which sorts every subscription.
    SELECT customer_id, region, territory, line, sum(mrr_usd) AS mrr_usd
    FROM counting WHERE line IS NOT NULL GROUP BY customer_id, region, territory, line
), holders AS (
    SELECT customer_id, region, territory, sum(mrr_usd) AS mrr_usd
    FROM counting GROUP BY customer_id, region, territory HAVING count(line) > 0
)
SELECT region, territory, line, count(*), round(COALESCE(sum(mrr_usd), 0), 2)
FROM lines GROUP BY region, territory, line
UNION ALL
SELECT region, territory, 'All products', count(*), round(COALESCE(sum(mrr_usd), 0), 2)
FROM holders GROUP BY region, territory

-- Each customer (regional account) running a product, for tickets per customer by product: from its
-- first subscription's start to its last one's end (empty while one still runs), in the region and
-- territory of the account ('Unknown' when empty).
INSERT INTO gold.product_customer (product_id, account_id, product_name, region, territory, running_from,
                                   running_until)
SELECT s.product_id, s.account_id, max(p.product_name), COALESCE(max(a.region), 'Unknown'),
       COALESCE(max(a.territory), 'Unknown'), min(s.start_date),
       CASE WHEN bool_or(s.end_date IS NULL) THEN NULL ELSE max(s.end_date) END
FROM silver.subscriptions s
LEFT JOIN silver.products p ON p.product_id = s.product_id
LEFT JOIN silver.accounts a ON a.account_id = s.account_id
WHERE s.product_id IS NOT NULL AND s.account_id IS NOT NULL
GROUP BY s.product_id, s.account_id

-- Each rep's quota per calendar quarter with the rep's name, region and territory ('Unknown' when
-- empty or the rep is unknown), for quota attainment on the Sales page.
INSERT INTO gold.sales_quota (user_id, quarter_start, rep_name, region, territory, quota_usd)
SELECT q.user_id, q.quarter_start, u.full_name, COALESCE(u.region, 'Unknown'), COALESCE(u.territory, 'Unknown'),
       round(q.quota_usd, 2)
FROM silver.quotas q
LEFT JOIN silver.users u ON u.user_id = q.user_id

-- Contacts per month of creation, territory of their account ('Unknown' when empty) and segment, for
-- the Growth page. Contacts without a creation time are left out, as in gold.contact_daily. Rows:
--   kind 'all': every contact (the denominator of a segment's share);
--   kind 'segment', the built-in segments (a contact may be in several):
--     VIP: its account's customer (silver.account_master) is in the top 10% of paying customers by
--       MRR, company-wide (gold.customer_360.mrr_usd at or above the 90th percentile of those above 0),
--       the Operations page's VIP;
--     Lead: an open lead has its email (silver.leads: status neither converted, disqualified nor lost),
--       or its lifecycle stage attribute (lifecycle_stage, or HubSpot's lifecyclestage) is 'lead';
--     Churned: its account's status is 'churned' (as gold.daily_kpi counts churned customers);
--   kind 'attribute': each key = value of silver.contacts.attributes (jsonb_each_text: true/false and
--     numbers as text; keys and values trimmed, empty ones and JSON nulls skipped, values cut to 200
--     characters). A free-text attribute cannot flood the page: the 20 keys most contacts have are kept,
--     and of each the 10 values most contacts have (company-wide, ties in byte order); the rest of a key's
--     values count together as '(other values)'.
INSERT INTO gold.contact_segment_monthly (month, territory, kind, segment_key, segment_value, region, contacts)
WITH contact AS (
    SELECT c.contact_id, c.email, c.attributes,
           CAST(date_trunc('month', c.created_at) AS date) AS month,
           COALESCE(a.territory, 'Unknown') AS territory,
           COALESCE(a.region, 'Unknown') AS region,
           a.status = 'churned' AS churned,
           COALESCE(am.master_account_id, c.account_id) AS customer_id
    FROM silver.contacts c
    LEFT JOIN silver.accounts a ON a.account_id = c.account_id
    LEFT JOIN silver.account_master am ON am.account_id = c.account_id
    WHERE c.created_at IS NOT NULL
), vip_customer AS (
    SELECT cu.account_id
    FROM gold.customer_360 cu
    WHERE cu.mrr_usd > 0
      AND cu.mrr_usd >= (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY mrr_usd)
                         FROM gold.customer_360 WHERE mrr_usd > 0)
), open_lead AS (
    SELECT DISTINCT l.email
    FROM silver.leads l
    WHERE l.email IS NOT NULL AND COALESCE(l.status, '') NOT IN ('converted', 'disqualified', 'lost')
), attribute AS (
    SELECT c.month, c.territory, c.region, btrim(e.key) AS segment_key, left(btrim(e.value), 200) AS segment_value
    FROM contact c
    CROSS JOIN LATERAL jsonb_each_text(c.attributes) e
    WHERE btrim(e.key) <> '' AND btrim(e.value) <> ''
), kept_key AS (
    SELECT segment_key FROM attribute GROUP BY segment_key ORDER BY count(*) DESC, segment_key COLLATE "C" LIMIT 20
), ranked_value AS (
    SELECT segment_key, segment_value,
           row_number() OVER (PARTITION BY segment_key ORDER BY count(*) DESC, segment_value COLLATE "C") AS rank
    FROM attribute
    WHERE segment_key IN (SELECT segment_key FROM kept_key)
    GROUP BY segment_key, segment_value
), membership AS (
    -- Each row carries its contact's month, territory and region: grouped as it is, never joined back to
    -- the contacts (a sort of a million rows).
    SELECT c.month, c.territory, c.region, 'all' AS kind, '' AS segment_key, '' AS segment_value FROM contact c
    UNION ALL
    SELECT c.month, c.territory, c.region, 'segment', 'VIP', ''
    FROM contact c JOIN vip_customer v ON v.account_id = c.customer_id
    UNION ALL
    -- A join, not `IN (...) OR ...`: the OR would test every contact against the list of lead emails.
    SELECT c.month, c.territory, c.region, 'segment', 'Lead', '' FROM contact c
    LEFT JOIN open_lead ol ON ol.email = c.email
    WHERE ol.email IS NOT NULL
       OR lower(btrim(COALESCE(c.attributes ->> 'lifecycle_stage', c.attributes ->> 'lifecyclestage'))) = 'lead'
    UNION ALL
    SELECT c.month, c.territory, c.region, 'segment', 'Churned', '' FROM contact c WHERE c.churned
    UNION ALL
    SELECT a.month, a.territory, a.region, 'attribute', a.segment_key,
           CASE WHEN r.rank <= 10 THEN a.segment_value ELSE '(other values)' END
    FROM attribute a
    JOIN ranked_value r ON r.segment_key = a.segment_key AND r.segment_value = a.segment_value
)
SELECT m.month, m.territory, m.kind, m.segment_key, m.segment_value, max(m.region), count(*)
FROM membership m
GROUP BY m.month, m.territory, m.kind, m.segment_key, m.segment_value

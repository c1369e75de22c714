-- One row per VIP customer: gold.customer_360's customers whose MRR reaches the 90th percentile of the
-- paying customers' (threshold_usd, company-wide, to the cent), with their open P1 and P2 tickets, the oldest one's
-- opening day and their tickets breaching the SLA opened in the last 7, 30 and 90 days to the last day
-- of gold.support_case, over all the customer's accounts whatever their territory.
INSERT INTO gold.support_vip (account_id, account_name, region, territory, mrr_usd, threshold_usd, open_p1, open_p2,
                              oldest_open, sla_breaches_7, sla_breaches_30, sla_breaches_90)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
), threshold AS (
    -- To the cent, as the page has always compared MRR with it.
    SELECT round(CAST(percentile_cont(0.9) WITHIN GROUP (ORDER BY mrr_usd) AS numeric), 2) AS usd
    FROM gold.customer_360
    WHERE mrr_usd > 0
), vips AS (
    SELECT c.account_id, c.account_name, c.region, c.territory, c.mrr_usd, c.regional_account_ids, t.usd
    FROM gold.customer_360 c
    JOIN threshold t ON c.mrr_usd >= t.usd
), accounts AS (
    SELECT v.account_id AS customer_id, r.regional_id FROM vips v, unnest(v.regional_account_ids) AS r(regional_id)
    UNION
    SELECT account_id, account_id FROM vips
), cases AS (
    SELECT a.customer_id,
           count(*) FILTER (WHERE sc.is_open AND sc.severity = 'P1') AS open_p1,
           count(*) FILTER (WHERE sc.is_open AND sc.severity = 'P2') AS open_p2,
           min(sc.opened_day) FILTER (WHERE sc.is_open AND sc.severity IN ('P1', 'P2')) AS oldest_open,
           count(*) FILTER (WHERE sc.sla_breached AND sc.opened_day > d.day - 7) AS sla_breaches_7,
           count(*) FILTER (WHERE sc.sla_breached AND sc.opened_day > d.day - 30) AS sla_breaches_30,
           count(*) FILTER (WHERE sc.sla_breached AND sc.opened_day > d.day - 90) AS sla_breaches_90
    FROM gold.support_case sc
    CROSS JOIN as_of d
    JOIN accounts a ON a.regional_id = sc.account_id
    WHERE sc.kind = 'ticket' AND sc.opened_day <= d.day
      AND ((sc.is_open AND sc.severity IN ('P1', 'P2')) OR (sc.sla_breached AND sc.opened_day > d.day - 90))
    GROUP BY a.customer_id
)
SELECT v.account_id, v.account_name, v.region, v.territory, v.mrr_usd, v.usd, COALESCE(c.open_p1, 0),
       COALESCE(c.open_p2, 0), c.oldest_open, COALESCE(c.sla_breaches_7, 0), COALESCE(c.sla_breaches_30, 0),
       COALESCE(c.sla_breaches_90, 0)
FROM vips v
LEFT JOIN cases c ON c.customer_id = v.account_id

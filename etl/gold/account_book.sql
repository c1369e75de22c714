-- Per customer (master account) on :as_of, what the My accounts page needs beyond gold.customer_360:
--   next_renewal_date: over the subscriptions counting on the as-of day (gold.subscription_mrr),
--     the nearest of each one's next start-date anniversary after the as-of day (yearly renewal)
--     and its end date when that is later than the as-of day (as churn's days_to_contract_expiry);
--   product_lines: the product families (silver.products) of those subscriptions, sorted;
--   peers: the other active customers of the same segment and company size band (the sum of its
--     regional accounts' employees: 1-49, 50-499, 500+ or Unknown, as the engagement peers);
--   gap_lines: the product lines held by at least 50 % of a customer's peers, when it has at least
--     5, that it does not hold: its product gaps against peers (glossary "product_gaps").
--   active, account_name, territory, mrr_usd, risk_level, last_interaction_at: copied from
--     gold.customer_360, so a large book's summary, filters and order read this narrow table.
-- Every customer is a peer of the others, so the whole table is worked out on each refresh.
INSERT INTO gold.account_book (account_id, next_renewal_date, product_lines, peer_group, peer_customers,
                               gap_lines, gap_count, active, account_name, territory, mrr_usd, risk_level,
                               last_interaction_at)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, 0.5 AS peer_share, 5 AS min_peers
), acct AS (
    SELECT a.account_id, COALESCE(am.master_account_id, a.account_id) AS master_id, a.employee_count
    FROM silver.accounts a
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
), customers AS (
    SELECT c.account_id, c.segment, c.status = 'active' AS active, c.account_name, c.territory, c.mrr_usd,
           c.risk_level, c.last_interaction_at,
           CASE WHEN e.employees IS NULL THEN 'Unknown' WHEN e.employees >= 500 THEN '500+'
                WHEN e.employees >= 50 THEN '50-499' ELSE '1-49' END AS size_band
    FROM gold.customer_360 c
    LEFT JOIN (SELECT master_id, sum(employee_count) AS employees FROM acct GROUP BY master_id) e
           ON e.master_id = c.account_id
), counting AS (
    SELECT a.master_id AS account_id, s.start_date, s.end_date, p.product_family AS line, params.as_of
    FROM gold.subscription_mrr m
    CROSS JOIN params
    JOIN acct a ON a.account_id = m.account_id
    JOIN silver.subscriptions s ON s.subscription_id = m.subscription_id
    LEFT JOIN silver.products p ON p.product_id = s.product_id
    WHERE m.active_from <= params.as_of AND (m.active_until IS NULL OR m.active_until > params.as_of)
), renewals AS (
    SELECT account_id,
           min(LEAST(CAST(start_date + make_interval(years => CAST(extract(year FROM age(as_of, start_date)) AS int) + 1)
                          AS date),
                     CASE WHEN end_date > as_of THEN end_date END)) AS next_renewal_date
    FROM counting
    GROUP BY account_id
), held AS (
    SELECT DISTINCT account_id, line FROM counting WHERE line IS NOT NULL
), held_lines AS (
    -- Aggregated once and joined: a subquery per customer over all holdings grows with the square.
    SELECT account_id, array_agg(line ORDER BY line) AS lines FROM held GROUP BY account_id
), groups AS (
    SELECT segment, size_band, count(*) AS customers FROM customers WHERE active GROUP BY segment, size_band
), line_holders AS (
    SELECT c.segment, c.size_band, h.line, count(*) AS holders
    FROM customers c JOIN held h ON h.account_id = c.account_id
    WHERE c.active
    GROUP BY c.segment, c.size_band, h.line
), per_customer AS (
    -- A customer is not its own peer: the others of its group, and of them those holding each line.
    SELECT c.account_id, c.segment, c.size_band, c.active, c.account_name, c.territory, c.mrr_usd, c.risk_level,
           c.last_interaction_at,
           COALESCE(g.customers, 0) - CASE WHEN c.active THEN 1 ELSE 0 END AS peer_customers
    FROM customers c
    LEFT JOIN groups g ON g.segment = c.segment AND g.size_band = c.size_band
), gaps AS (
    SELECT pc.account_id, array_agg(lh.line ORDER BY lh.line) AS gap_lines
    FROM per_customer pc
    CROSS JOIN params
    JOIN line_holders lh ON lh.segment = pc.segment AND lh.size_band = pc.size_band
    WHERE pc.peer_customers >= params.min_peers
      AND lh.holders >= params.peer_share * pc.peer_customers
      AND NOT EXISTS (SELECT 1 FROM held h WHERE h.account_id = pc.account_id AND h.line = lh.line)
    GROUP BY pc.account_id
)
SELECT pc.account_id, r.next_renewal_date, COALESCE(hl.lines, CAST('{}' AS text[])),
       pc.segment || ' / ' || pc.size_band, pc.peer_customers,
       COALESCE(gp.gap_lines, CAST('{}' AS text[])), COALESCE(cardinality(gp.gap_lines), 0),
       pc.active, pc.account_name, pc.territory, pc.mrr_usd, pc.risk_level, pc.last_interaction_at
FROM per_customer pc
LEFT JOIN renewals r ON r.account_id = pc.account_id
LEFT JOIN gaps gp ON gp.account_id = pc.account_id
LEFT JOIN held_lines hl ON hl.account_id = pc.account_id

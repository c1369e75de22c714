-- One row per customer, that is per MASTER account (silver.account_master: the regional
-- accounts identity resolution linked across regions, or the account alone), as of :as_of
-- (the last day of data), for its 360 view and the top-account lists.
-- Each regional account's figures are worked out first, then added up per master:
--   mrr_usd / active_services: the subscriptions counting on the as-of day and their MRR in USD
--     that day (gold.subscription_mrr_daily: at that day's rate);
--   arr_usd: 12 x mrr_usd;
--   active_contacts: contacts created by the as-of day, of the regional accounts that are
--     active (as in gold.daily_kpi, so the customers add up to its as-of row);
--   open_tickets: status open or pending;
--   avg_first_response_minutes: responded tickets created in the 90 days ending on as-of,
--     averaged over all of the customer's tickets (not over regional averages);
--   overdue_usd: unpaid, non-void invoices due before the as-of day, at the as-of rate;
--   last_interaction_at: the latest ticket opened, conversation message, meeting held or
--     campaign reply, up to the end of the as-of day;
--   mrr_usd_year_ago: as mrr_usd, 365 days before as-of (none before the first rate day);
--     mrr_yoy_growth_pct: the change in %, empty without MRR then;
--   name, segment, region, territory, owner and currency: the master account's own;
--   status: active when any regional account is; created_at the earliest; churned_at the
--     latest, only when every regional account churned;
--   churn_risk_score, risk_level, health_score, engagement_score, clv_usd: copied from
--     gold.account_scores, which the intelligence jobs write.
-- @in_scope limits a refresh to the customers whose records changed (etl.steps).
INSERT INTO gold.customer_360 (
    account_id, account_name, parent_account_id, segment, industry, region, territory, owner_user_id,
    currency, status, created_at, churned_at, mrr_usd, arr_usd, active_services, active_contacts,
    open_tickets, avg_first_response_minutes, overdue_usd, last_interaction_at, mrr_usd_year_ago,
    mrr_yoy_growth_pct, regional_account_ids, regions, identity_confidence,
    churn_risk_score, risk_level, health_score, engagement_score, clv_usd)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end,
           CAST(:as_of AS date) - 365 AS year_ago
), year_ago_subs AS (
    SELECT m.account_id, round(sum(m.mrr_usd), 2) AS mrr_usd
    FROM gold.subscription_mrr_daily m, params p
    WHERE m.day = p.year_ago AND @in_scope(m.account_id)
    GROUP BY m.account_id
), active_subs AS (
    SELECT m.account_id, count(*) AS services, sum(m.mrr_usd) AS mrr_usd
    FROM gold.subscription_mrr_daily m, params p
    WHERE m.day = p.as_of AND @in_scope(m.account_id)
    GROUP BY m.account_id
), contacts AS (
    SELECT c.account_id, count(*) AS n
    FROM silver.contacts c, params p
    WHERE CAST(c.created_at AS date) <= p.as_of AND @in_scope(c.account_id)
    GROUP BY c.account_id
), tickets AS (
    SELECT t.account_id,
           count(*) FILTER (WHERE t.status IN ('open', 'pending')) AS open_tickets,
           -- Summed as numeric: exact in any order, so a refresh of some customers (another plan,
           -- another order) gives the very value a rebuild gives.
           sum(CAST(t.first_response_minutes AS numeric)) FILTER (
               WHERE t.first_response_at IS NOT NULL AND CAST(t.created_at AS date) > p.as_of - 90
                 AND CAST(t.created_at AS date) <= p.as_of) AS first_response_minutes_sum,
           count(t.first_response_minutes) FILTER (
               WHERE t.first_response_at IS NOT NULL AND CAST(t.created_at AS date) > p.as_of - 90
                 AND CAST(t.created_at AS date) <= p.as_of) AS first_response_count,
           max(t.created_at) FILTER (WHERE t.created_at < p.as_of_end) AS last_ticket_at
    FROM silver.tickets t, params p
    WHERE @in_scope(t.account_id)
    GROUP BY t.account_id
), overdue AS (
    SELECT i.account_id, sum(i.amount * fx.usd_per_unit) AS usd
    FROM silver.invoices i
    CROSS JOIN params p
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.as_of AND fx.currency = i.currency
    WHERE i.due_date < p.as_of AND i.paid_at IS NULL AND i.status IS DISTINCT FROM 'paid'
      AND i.status IS DISTINCT FROM 'void' AND @in_scope(i.account_id)
    GROUP BY i.account_id
), interactions AS (
    -- Each source's latest per account first: far fewer rows to gather than every event.
    SELECT conv.account_id, max(m.sent_at) AS at
    FROM silver.messages m JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id, params p
    WHERE m.sent_at < p.as_of_end AND @in_scope(conv.account_id)
    GROUP BY conv.account_id
    UNION ALL
    SELECT mt.account_id, max(mt.scheduled_at)
    FROM silver.meetings mt, params p
    WHERE mt.scheduled_at < p.as_of_end AND @in_scope(mt.account_id)
    GROUP BY mt.account_id
    UNION ALL
    SELECT c.account_id, max(s.replied_at)
    FROM silver.sends s JOIN silver.contacts c ON c.contact_id = s.contact_id, params p
    WHERE s.replied_at < p.as_of_end AND @in_scope(c.account_id)
    GROUP BY c.account_id
    UNION ALL
    SELECT c.account_id, max(r.received_at)
    FROM silver.replies r JOIN silver.contacts c ON c.contact_id = r.contact_id, params p
    WHERE r.received_at < p.as_of_end AND @in_scope(c.account_id)
    GROUP BY c.account_id
), last_interaction AS (
    SELECT i.account_id, max(i.at) AS at FROM interactions i GROUP BY i.account_id
), regional AS (
    SELECT COALESCE(am.master_account_id, a.account_id) AS master_account_id,
           am.confidence, a.account_id, a.region, a.status, a.created_at, a.churned_at,
           COALESCE(s.mrr_usd, 0) AS mrr_usd,
           COALESCE(s.services, 0) AS services,
           CASE WHEN s.account_id IS NULL THEN 0 ELSE COALESCE(c.n, 0) END AS contacts,
           COALESCE(t.open_tickets, 0) AS open_tickets,
           t.first_response_minutes_sum, t.first_response_count,
           COALESCE(o.usd, 0) AS overdue_usd,
           GREATEST(t.last_ticket_at, li.at) AS last_interaction_at,  -- GREATEST skips NULLs
           COALESCE(y.mrr_usd, 0) AS mrr_usd_year_ago
    FROM silver.accounts a
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
    LEFT JOIN year_ago_subs y ON y.account_id = a.account_id
    LEFT JOIN active_subs s ON s.account_id = a.account_id
    LEFT JOIN contacts c ON c.account_id = a.account_id
    LEFT JOIN tickets t ON t.account_id = a.account_id
    LEFT JOIN overdue o ON o.account_id = a.account_id
    LEFT JOIN last_interaction li ON li.account_id = a.account_id
    WHERE @in_scope(a.account_id)
), customers AS (
    SELECT r.master_account_id,
           round(sum(r.mrr_usd), 2) AS mrr_usd,
           sum(r.services) AS services,
           sum(r.contacts) AS contacts,
           sum(r.open_tickets) AS open_tickets,
           CAST(sum(r.first_response_minutes_sum) / NULLIF(sum(r.first_response_count), 0)
                AS double precision) AS avg_first_response_minutes,
           round(sum(r.overdue_usd), 2) AS overdue_usd,
           max(r.last_interaction_at) AS last_interaction_at,
           sum(r.mrr_usd_year_ago) AS mrr_usd_year_ago,
           array_agg(r.account_id ORDER BY r.account_id) AS regional_account_ids,
           array_agg(DISTINCT COALESCE(r.region, 'Unknown')) AS regions,
           COALESCE(min(r.confidence), 100) AS identity_confidence,
           bool_or(r.status = 'active') AS any_active,
           bool_and(r.churned_at IS NOT NULL) AS all_churned,
           min(r.created_at) AS created_at,
           max(r.churned_at) AS churned_at
    FROM regional r
    GROUP BY r.master_account_id
)
SELECT m.account_id, m.account_name, m.parent_account_id,
       COALESCE(m.account_type, 'Unknown'), m.industry, COALESCE(m.region, 'Unknown'), m.territory,
       m.owner_user_id, m.currency,
       CASE WHEN cu.any_active THEN 'active' ELSE m.status END,
       cu.created_at,
       CASE WHEN cu.all_churned THEN cu.churned_at END,
       cu.mrr_usd, 12 * cu.mrr_usd, cu.services, cu.contacts, cu.open_tickets,
       cu.avg_first_response_minutes, cu.overdue_usd, cu.last_interaction_at, cu.mrr_usd_year_ago,
       CASE WHEN cu.mrr_usd_year_ago > 0
            THEN CAST(100 * (cu.mrr_usd - cu.mrr_usd_year_ago) / cu.mrr_usd_year_ago AS double precision) END,
       cu.regional_account_ids, cu.regions, cu.identity_confidence,
       sc.churn_risk_score, sc.risk_level, sc.health_score, sc.engagement_score, sc.clv_usd
FROM customers cu
JOIN silver.accounts m ON m.account_id = cu.master_account_id
LEFT JOIN gold.account_scores sc ON sc.account_id = cu.master_account_id

-- One row per account as of :as_of (the last day of data), for its 360 view and the
-- top-account lists.
--   mrr_usd / active_services: subscriptions active on the as-of day, at that day's rate;
--   arr_usd: 12 x mrr_usd;
--   active_contacts: contacts created by the as-of day, when the account is active (as in
--     gold.daily_kpi, so the accounts add up to its as-of row);
--   open_tickets: status open or pending;
--   avg_first_response_minutes: responded tickets created in the 90 days ending on as-of;
--   overdue_usd: unpaid, non-void invoices due before the as-of day, at the as-of rate;
--   last_interaction_at: the latest ticket opened, conversation message, meeting held or
--     campaign reply, up to the end of the as-of day;
--   mrr_usd_year_ago: as mrr_usd, 365 days before as-of at that day's rate (the first rate
--     day's when it is earlier); mrr_yoy_growth_pct: the change in %, empty without MRR then;
--   churn_risk_score, risk_level, health_score, engagement_score, clv_usd: left empty for the
--     intelligence jobs.
INSERT INTO gold.customer_360 (
    account_id, account_name, parent_account_id, segment, industry, region, territory, owner_user_id,
    currency, status, created_at, churned_at, mrr_usd, arr_usd, active_services, active_contacts,
    open_tickets, avg_first_response_minutes, overdue_usd, last_interaction_at, mrr_usd_year_ago,
    mrr_yoy_growth_pct)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end,
           CAST(:as_of AS date) - 365 AS year_ago,
           GREATEST(CAST(:as_of AS date) - 365, CAST(:first_day AS date)) AS year_ago_rate_day
), year_ago_subs AS (
    SELECT s.account_id, round(sum(s.mrr * fx.usd_per_unit), 2) AS mrr_usd
    FROM silver.subscriptions s
    CROSS JOIN params p
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.year_ago_rate_day AND fx.currency = s.currency
    WHERE s.start_date <= p.year_ago AND (s.end_date IS NULL OR s.end_date > p.year_ago)
    GROUP BY s.account_id
), active_subs AS (
    SELECT s.account_id, count(*) AS services, sum(s.mrr * fx.usd_per_unit) AS mrr_usd
    FROM silver.subscriptions s
    CROSS JOIN params p
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.as_of AND fx.currency = s.currency
    WHERE s.start_date <= p.as_of AND (s.end_date IS NULL OR s.end_date > p.as_of)
    GROUP BY s.account_id
), contacts AS (
    SELECT c.account_id, count(*) AS n
    FROM silver.contacts c, params p
    WHERE CAST(c.created_at AS date) <= p.as_of
    GROUP BY c.account_id
), tickets AS (
    SELECT t.account_id,
           count(*) FILTER (WHERE t.status IN ('open', 'pending')) AS open_tickets,
           avg(t.first_response_minutes) FILTER (
               WHERE t.first_response_at IS NOT NULL AND CAST(t.created_at AS date) > p.as_of - 90
                 AND CAST(t.created_at AS date) <= p.as_of) AS avg_first_response_minutes,
           max(t.created_at) FILTER (WHERE t.created_at < p.as_of_end) AS last_ticket_at
    FROM silver.tickets t, params p
    GROUP BY t.account_id
), overdue AS (
    SELECT i.account_id, sum(i.amount * fx.usd_per_unit) AS usd
    FROM silver.invoices i
    CROSS JOIN params p
    LEFT JOIN silver.fx_rates_daily fx ON fx.day = p.as_of AND fx.currency = i.currency
    WHERE i.due_date < p.as_of AND i.paid_at IS NULL AND i.status IS DISTINCT FROM 'paid'
      AND i.status IS DISTINCT FROM 'void'
    GROUP BY i.account_id
), interactions AS (
    SELECT conv.account_id, m.sent_at AS at
    FROM silver.messages m JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id
    UNION ALL
    SELECT account_id, scheduled_at FROM silver.meetings
    UNION ALL
    SELECT c.account_id, s.replied_at
    FROM silver.sends s JOIN silver.contacts c ON c.contact_id = s.contact_id
    UNION ALL
    SELECT c.account_id, r.received_at
    FROM silver.replies r JOIN silver.contacts c ON c.contact_id = r.contact_id
), last_interaction AS (
    SELECT i.account_id, max(i.at) AS at
    FROM interactions i, params p
    WHERE i.at < p.as_of_end
    GROUP BY i.account_id
)
SELECT a.account_id, a.account_name, a.parent_account_id,
       COALESCE(a.account_type, 'Unknown'), a.industry, COALESCE(a.region, 'Unknown'), a.territory,
       a.owner_user_id, a.currency, a.status, a.created_at, a.churned_at,
       round(COALESCE(s.mrr_usd, 0), 2),
       12 * round(COALESCE(s.mrr_usd, 0), 2),
       COALESCE(s.services, 0),
       CASE WHEN s.account_id IS NULL THEN 0 ELSE COALESCE(c.n, 0) END,
       COALESCE(t.open_tickets, 0),
       t.avg_first_response_minutes,
       round(COALESCE(o.usd, 0), 2),
       GREATEST(t.last_ticket_at, li.at),  -- GREATEST skips NULLs
       COALESCE(y.mrr_usd, 0),
       CASE WHEN y.mrr_usd > 0
            THEN CAST(100 * (round(COALESCE(s.mrr_usd, 0), 2) - y.mrr_usd) / y.mrr_usd AS double precision) END
FROM silver.accounts a
LEFT JOIN year_ago_subs y ON y.account_id = a.account_id
LEFT JOIN active_subs s ON s.account_id = a.account_id
LEFT JOIN contacts c ON c.account_id = a.account_id
LEFT JOIN tickets t ON t.account_id = a.account_id
LEFT JOIN overdue o ON o.account_id = a.account_id
LEFT JOIN last_interaction li ON li.account_id = a.account_id

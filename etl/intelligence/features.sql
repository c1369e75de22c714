-- Churn, health and engagement features per customer (master account) as of each cut-off day
-- in :cutoffs, using only what was known by the end of that day. Facts of regional accounts
-- roll up to their silver.account_master.master_account_id (their own id without a master row).
--   population: masters created by the cut-off and not churned by it (a master has churned when
--     every one of its accounts has: its churned_at is the last of theirs; a 'churned' account
--     without churned_at counts from its updated_at);
--   churned_within_90d: the label, churn in the 90 days after the cut-off;
--   usage_*: mean daily active users over days with usage rows, last 30 days, the 30 and the
--     90 days before those;
--   tickets: opened in the 90 days to the cut-off; sla_breaches_90d: first response later than
--     the SLA (or still none after it), also over 30 days; open_tickets: not resolved by the cut-off (last year);
--   invoices (issued in the last two years, not void): days_overdue is the oldest unpaid
--     invoice's days past due; late_payment_share is the share of the last year's due invoices
--     paid after the due day or not at all;
--   subscriptions active at the cut-off: services; MRR on the cut-off day, 90 and 365 days
--     earlier: silver.subscription_mrr_daily on those days (gold.subscription_mrr_daily's definition
--     on silver, so nothing here waits for gold; at each day's rate, so a cut-off never sees a later
--     rate; none before the first rate day); days_to_contract_expiry is the
--     nearest of each subscription's next start-date anniversary (yearly renewal) and an end
--     date already known at the cut-off (the row last changed on or before it);
--   interactions (last year): ticket opened, chat message, meeting held (deep), campaign reply,
--     web visit;
--   sentiment_90d / negative_text_share_90d: mean VADER compound and negative share of the
--     customer's texts (tickets, chat, replies) in gold.sentiment_daily; empty before the text job ran.
WITH cutoffs AS (
    SELECT d AS cutoff, CAST(d + 1 AS timestamptz) AS cutoff_end
    FROM unnest(CAST(:cutoffs AS date[])) AS d
), acct AS (
    SELECT a.account_id, COALESCE(am.master_account_id, a.account_id) AS master_id, a.created_at,
           COALESCE(a.churned_at, CASE WHEN a.status = 'churned' THEN a.updated_at END) AS churned_at,
           a.employee_count
    FROM silver.accounts a
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
), masters AS (
    SELECT master_id, min(created_at) AS created_at,
           CASE WHEN bool_and(churned_at IS NOT NULL) THEN max(churned_at) END AS churned_at,
           sum(employee_count) AS employees, count(*) AS member_accounts
    FROM acct
    GROUP BY master_id
), population AS (
    SELECT c.cutoff, c.cutoff_end, m.*
    FROM cutoffs c
    JOIN masters m ON (m.created_at IS NULL OR m.created_at < c.cutoff_end)
                  AND (m.churned_at IS NULL OR m.churned_at >= c.cutoff_end)
), usage_days AS (
    SELECT a.master_id, u.usage_date, CAST(sum(u.active_users) AS double precision) AS users
    FROM silver.usage_daily u
    JOIN acct a ON a.account_id = u.account_id
    WHERE u.usage_date > (SELECT min(cutoff) FROM cutoffs) - 120
      AND u.usage_date <= (SELECT max(cutoff) FROM cutoffs)
    GROUP BY a.master_id, u.usage_date
), usage_bounds AS (
    -- Every window edge of every cut-off, in order: the days between two edges fall wholly inside or
    -- outside each window, so each (customer, stretch) is summed once instead of every day per cut-off.
    SELECT array_agg(DISTINCT edge ORDER BY edge) AS edges
    FROM cutoffs CROSS JOIN LATERAL (VALUES (cutoff), (cutoff - 30), (cutoff - 60), (cutoff - 120)) AS e(edge)
), usage_stretches AS (
    SELECT s.master_id, b.edges[s.stretch] AS after_day, b.edges[s.stretch + 1] AS through_day,
           s.users, s.days
    FROM (
        SELECT ud.master_id, width_bucket(ud.usage_date - 1, b.edges) AS stretch,  -- edges[i] < day <= edges[i+1]
               sum(ud.users) AS users, count(*) AS days
        FROM usage_days ud CROSS JOIN usage_bounds b
        GROUP BY 1, 2
    ) s CROSS JOIN usage_bounds b
), usage AS (
    SELECT p.cutoff, p.master_id,
           sum(us.users) FILTER (WHERE us.after_day >= p.cutoff - 30)
               / sum(us.days) FILTER (WHERE us.after_day >= p.cutoff - 30) AS usage_30d,
           sum(us.users) FILTER (WHERE us.after_day >= p.cutoff - 60 AND us.through_day <= p.cutoff - 30)
               / sum(us.days) FILTER (WHERE us.after_day >= p.cutoff - 60 AND us.through_day <= p.cutoff - 30)
               AS usage_prev_30d,
           sum(us.users) FILTER (WHERE us.through_day <= p.cutoff - 30)
               / sum(us.days) FILTER (WHERE us.through_day <= p.cutoff - 30) AS usage_prev_90d
    FROM population p
    JOIN usage_stretches us ON us.master_id = p.master_id AND us.after_day >= p.cutoff - 120
                           AND us.through_day <= p.cutoff
    GROUP BY p.cutoff, p.master_id
), tickets AS (
    SELECT p.cutoff, p.master_id,
           count(*) FILTER (WHERE t.created_at >= p.cutoff_end - interval '90 days') AS tickets_90d,
           count(*) FILTER (WHERE t.created_at >= p.cutoff_end - interval '90 days' AND t.is_escalated)
               AS escalations_90d,
           count(*) FILTER (WHERE t.created_at >= p.cutoff_end - interval '90 days' AND b.breached)
               AS sla_breaches_90d,
           count(*) FILTER (WHERE t.created_at >= p.cutoff_end - interval '30 days' AND b.breached)
               AS sla_breaches_30d,
           count(*) FILTER (WHERE t.resolved_at IS NULL OR t.resolved_at >= p.cutoff_end) AS open_tickets,
           avg(t.csat) FILTER (WHERE t.created_at >= p.cutoff_end - interval '90 days'
                                 AND t.resolved_at < p.cutoff_end) AS csat_90d
    FROM population p
    JOIN acct a ON a.master_id = p.master_id
    JOIN silver.tickets t ON t.account_id = a.account_id AND t.created_at < p.cutoff_end
                         AND t.created_at >= p.cutoff_end - interval '365 days'
    CROSS JOIN LATERAL (
        SELECT t.sla_first_response_minutes IS NOT NULL
               AND CASE WHEN t.first_response_at < p.cutoff_end
                        THEN t.first_response_minutes > t.sla_first_response_minutes
                        ELSE p.cutoff_end - t.created_at > make_interval(mins => t.sla_first_response_minutes)
                   END AS breached
    ) b
    GROUP BY p.cutoff, p.master_id
), invoices AS (
    SELECT p.cutoff, p.master_id,
           max(p.cutoff - i.due_date) FILTER (WHERE i.due_date < p.cutoff
                                                AND (i.paid_at IS NULL OR i.paid_at >= p.cutoff_end))
               AS days_overdue,
           sum(i.amount_usd) FILTER (WHERE i.due_date < p.cutoff
                                       AND (i.paid_at IS NULL OR i.paid_at >= p.cutoff_end)) AS overdue_usd,
           avg(CASE WHEN i.paid_at < p.cutoff_end AND CAST(i.paid_at AS date) <= i.due_date THEN 0.0 ELSE 1.0 END)
               FILTER (WHERE i.due_date < p.cutoff AND i.due_date >= p.cutoff - 365) AS late_payment_share,
           sum(i.amount_usd) FILTER (WHERE i.issue_date > p.cutoff - 365) AS revenue_12m_usd,
           sum(i.amount_usd) FILTER (WHERE i.issue_date <= p.cutoff - 365) AS revenue_prev_12m_usd
    FROM population p
    JOIN acct a ON a.master_id = p.master_id
    JOIN silver.invoices i ON i.account_id = a.account_id AND i.issue_date <= p.cutoff
                          AND i.issue_date > p.cutoff - 730 AND i.status IS DISTINCT FROM 'void'
    GROUP BY p.cutoff, p.master_id
), mrr_days AS (
    SELECT DISTINCT c.cutoff, c.cutoff - back.days AS day, back.days
    FROM cutoffs c CROSS JOIN (VALUES (0), (90), (365)) AS back(days)
), mrr AS (
    SELECT d.cutoff, a.master_id,
           sum(v.mrr_usd) FILTER (WHERE d.days = 0) AS mrr_usd,
           sum(v.mrr_usd) FILTER (WHERE d.days = 90) AS mrr_90d_ago_usd,
           sum(v.mrr_usd) FILTER (WHERE d.days = 365) AS mrr_year_ago_usd
    FROM mrr_days d
    CROSS JOIN LATERAL (  -- one day of the view at a time, never all of it
        SELECT v.account_id, v.mrr_usd FROM silver.subscription_mrr_daily v WHERE v.day = d.day
    ) v
    JOIN acct a ON a.account_id = v.account_id
    GROUP BY d.cutoff, a.master_id
), subs AS (
    SELECT p.cutoff, p.master_id,
           count(*) FILTER (WHERE s.end_date IS NULL OR s.end_date > p.cutoff) AS active_services,
           min(LEAST(
                   CAST(s.start_date + make_interval(years => CAST(extract(year FROM age(p.cutoff, s.start_date)) AS int) + 1)
                        AS date) - p.cutoff,
                   CASE WHEN s.end_date > p.cutoff AND s.updated_at < p.cutoff_end THEN s.end_date - p.cutoff END))
               FILTER (WHERE s.end_date IS NULL OR s.end_date > p.cutoff) AS days_to_contract_expiry,
           min(s.start_date) AS first_subscription_date
    FROM population p
    JOIN acct a ON a.master_id = p.master_id
    JOIN silver.subscriptions s ON s.account_id = a.account_id AND s.start_date <= p.cutoff
    GROUP BY p.cutoff, p.master_id
), interactions AS (
    SELECT a.master_id, CAST(m.sent_at AS date) AS day, 'chat' AS channel, false AS deep
    FROM silver.messages m
    JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id
    JOIN acct a ON a.account_id = conv.account_id
    WHERE m.direction IS DISTINCT FROM 'outbound'
    UNION ALL
    SELECT a.master_id, CAST(mt.scheduled_at AS date), 'meeting', true
    FROM silver.meetings mt JOIN acct a ON a.account_id = mt.account_id
    WHERE mt.outcome = 'completed'
    UNION ALL
    SELECT a.master_id, CAST(t.created_at AS date), 'support', false
    FROM silver.tickets t JOIN acct a ON a.account_id = t.account_id
    UNION ALL
    SELECT a.master_id, CAST(r.received_at AS date), 'email', false
    FROM silver.replies r
    JOIN silver.contacts c ON c.contact_id = r.contact_id
    JOIN acct a ON a.account_id = c.account_id
    UNION ALL
    SELECT a.master_id, CAST(w.started_at AS date), 'web', false
    FROM silver.web_sessions w JOIN acct a ON a.account_id = w.account_id
), interaction_days AS (
    SELECT master_id, day, channel, bool_or(deep) AS deep, count(*) AS n, count(*) FILTER (WHERE deep) AS deep_n
    FROM interactions
    WHERE day > (SELECT min(cutoff) FROM cutoffs) - 365 AND day <= (SELECT max(cutoff) FROM cutoffs)
    GROUP BY master_id, day, channel
), engagement AS (
    SELECT p.cutoff, p.master_id,
           p.cutoff - max(d.day) AS days_since_last_interaction,
           sum(d.n) FILTER (WHERE d.day > p.cutoff - 90) AS interactions_90d,
           -- one flag per channel rather than count(DISTINCT), which would sort every row
           CAST(bool_or(d.channel = 'chat') FILTER (WHERE d.day > p.cutoff - 90) IS TRUE AS int)
             + CAST(bool_or(d.channel = 'meeting') FILTER (WHERE d.day > p.cutoff - 90) IS TRUE AS int)
             + CAST(bool_or(d.channel = 'support') FILTER (WHERE d.day > p.cutoff - 90) IS TRUE AS int)
             + CAST(bool_or(d.channel = 'email') FILTER (WHERE d.day > p.cutoff - 90) IS TRUE AS int)
             + CAST(bool_or(d.channel = 'web') FILTER (WHERE d.day > p.cutoff - 90) IS TRUE AS int) AS channels_90d,
           sum(d.deep_n) FILTER (WHERE d.day > p.cutoff - 90) AS deep_interactions_90d,
           sum(d.n) FILTER (WHERE d.day > p.cutoff - 30) AS interactions_30d
    FROM population p
    JOIN interaction_days d ON d.master_id = p.master_id AND d.day > p.cutoff - 365 AND d.day <= p.cutoff
    GROUP BY p.cutoff, p.master_id
), sentiment AS (
    SELECT p.cutoff, p.master_id,
           sum(s.compound_sum) / NULLIF(sum(s.texts), 0) AS sentiment_90d,
           CAST(sum(s.negative) AS double precision) / NULLIF(sum(s.texts), 0) AS negative_text_share_90d
    FROM population p
    JOIN gold.sentiment_daily s ON s.account_id = p.master_id AND s.day > p.cutoff - 90 AND s.day <= p.cutoff
    GROUP BY p.cutoff, p.master_id
), holds AS (
    SELECT p.cutoff, p.master_id, count(*) AS credit_holds
    FROM population p
    JOIN acct a ON a.master_id = p.master_id
    JOIN silver.credit_holds h ON h.account_id = a.account_id AND h.placed_at < p.cutoff_end
                              AND (h.released_at IS NULL OR h.released_at >= p.cutoff_end)
    GROUP BY p.cutoff, p.master_id
)
SELECT p.cutoff, p.master_id AS account_id,
       COALESCE(ma.account_type, 'Unknown') AS segment, COALESCE(ma.region, 'Unknown') AS region,
       COALESCE(ma.industry, 'Unknown') AS industry, p.employees, p.member_accounts,
       p.cutoff - CAST(COALESCE(p.created_at, CAST(s.first_subscription_date AS timestamptz)) AS date) AS tenure_days,
       (p.churned_at IS NOT NULL AND p.churned_at < p.cutoff_end + interval '90 days') AS churned_within_90d,
       p.churned_at,
       u.usage_30d, u.usage_prev_30d, u.usage_prev_90d,
       COALESCE(t.tickets_90d, 0) AS tickets_90d, COALESCE(t.escalations_90d, 0) AS escalations_90d,
       COALESCE(t.sla_breaches_90d, 0) AS sla_breaches_90d,
       COALESCE(t.sla_breaches_30d, 0) AS sla_breaches_30d, COALESCE(t.open_tickets, 0) AS open_tickets,
       t.csat_90d,
       COALESCE(i.days_overdue, 0) AS days_overdue, COALESCE(i.overdue_usd, 0) AS overdue_usd,
       i.late_payment_share, COALESCE(i.revenue_12m_usd, 0) AS revenue_12m_usd,
       COALESCE(i.revenue_prev_12m_usd, 0) AS revenue_prev_12m_usd,
       COALESCE(mr.mrr_usd, 0) AS mrr_usd, COALESCE(s.active_services, 0) AS active_services,
       COALESCE(mr.mrr_90d_ago_usd, 0) AS mrr_90d_ago_usd, COALESCE(mr.mrr_year_ago_usd, 0) AS mrr_year_ago_usd,
       s.days_to_contract_expiry,
       e.days_since_last_interaction, COALESCE(e.interactions_90d, 0) AS interactions_90d,
       COALESCE(e.channels_90d, 0) AS channels_90d, COALESCE(e.deep_interactions_90d, 0) AS deep_interactions_90d,
       COALESCE(e.interactions_30d, 0) AS interactions_30d,
       COALESCE(h.credit_holds, 0) AS credit_holds,
       se.sentiment_90d, se.negative_text_share_90d
FROM population p
LEFT JOIN silver.accounts ma ON ma.account_id = p.master_id
LEFT JOIN usage u ON u.cutoff = p.cutoff AND u.master_id = p.master_id
LEFT JOIN tickets t ON t.cutoff = p.cutoff AND t.master_id = p.master_id
LEFT JOIN invoices i ON i.cutoff = p.cutoff AND i.master_id = p.master_id
LEFT JOIN subs s ON s.cutoff = p.cutoff AND s.master_id = p.master_id
LEFT JOIN mrr mr ON mr.cutoff = p.cutoff AND mr.master_id = p.master_id
LEFT JOIN engagement e ON e.cutoff = p.cutoff AND e.master_id = p.master_id
LEFT JOIN holds h ON h.cutoff = p.cutoff AND h.master_id = p.master_id
LEFT JOIN sentiment se ON se.cutoff = p.cutoff AND se.master_id = p.master_id
ORDER BY p.cutoff, p.master_id

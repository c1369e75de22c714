-- One row per ticket and per chat conversation opened from :since_day, for the Support pages, in
-- the region and territory of its account ('Unknown' when empty), with the agent's name and team
-- ('Unassigned' without an agent). SLA met and breached as in gold.support_daily. A conversation's
-- first response is its first agent message; it waits for an agent from the first customer message
-- after the last agent message; its subject is its first customer message. Written in the order
-- they were opened, so a period's cases sit together on disk (the pages read a period at a time).
-- subject_negative: the text job scored the ticket's subject negative (it sets it too as it scores).
INSERT INTO gold.support_case (kind, case_id, account_id, account_name, region, territory, contact_id, channel,
                               severity, category, subject, product_id, product_name, agent_id, agent_name, team,
                               opened_at, opened_day, opened_weekday, opened_hour, first_response_at,
                               first_response_minutes, resolved_at, resolution_minutes, sla_minutes, sla_due_at,
                               sla_met, sla_breached, status, is_open, waiting_since, messages, csat, is_escalated,
                               reopen_count, subject_negative)
WITH params AS (
    SELECT CAST(CAST(:since_day AS date) AS timestamptz) AS since,
           CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end
), conversation_messages AS MATERIALIZED (
    SELECT m.conversation_id, m.sent_at, m.direction, m.body, c.started_at
    FROM silver.conversations c
    CROSS JOIN params p
    JOIN silver.messages m ON m.conversation_id = c.conversation_id
    WHERE c.started_at >= p.since AND m.sent_at IS NOT NULL
), thread AS (
    SELECT conversation_id, count(*) AS messages,
           min(sent_at) FILTER (WHERE direction = 'outbound' AND sent_at >= started_at) AS first_outbound,
           max(sent_at) FILTER (WHERE direction = 'outbound') AS last_outbound
    FROM conversation_messages
    GROUP BY conversation_id
), opener AS (
    SELECT DISTINCT ON (conversation_id) conversation_id, left(body, 200) AS body
    FROM conversation_messages
    WHERE direction = 'inbound'
    ORDER BY conversation_id, sent_at, body
), waiting AS (
    SELECT m.conversation_id, min(m.sent_at) AS since
    FROM conversation_messages m
    JOIN thread t USING (conversation_id)
    WHERE m.direction = 'inbound' AND (t.last_outbound IS NULL OR m.sent_at > t.last_outbound)
    GROUP BY m.conversation_id
), cases AS (
    SELECT 'ticket' AS kind, t.ticket_id AS case_id, t.account_id, t.contact_id, t.channel, t.severity, t.category,
           t.subject, t.product_id, t.agent_id, t.created_at AS opened_at, t.first_response_at,
           t.first_response_minutes, t.resolved_at, t.sla_first_response_minutes AS sla_minutes, t.status,
           t.resolved_at IS NULL AS is_open,
           CASE WHEN t.resolved_at IS NULL AND t.first_response_at IS NULL THEN t.created_at END AS waiting_since,
           0 AS messages, t.csat, t.is_escalated, COALESCE(t.reopen_count, 0) AS reopen_count
    FROM silver.tickets t, params p
    WHERE t.created_at >= p.since
    UNION ALL
    SELECT 'conversation', c.conversation_id, c.account_id, c.contact_id, c.channel, NULL, NULL,
           o.body, NULL, c.assigned_agent_id, c.started_at, th.first_outbound,
           CAST(EXTRACT(EPOCH FROM th.first_outbound - c.started_at) / 60 AS double precision),
           c.closed_at, NULL, c.status,
           c.closed_at IS NULL,
           CASE WHEN c.closed_at IS NULL THEN w.since END,
           COALESCE(th.messages, 0), NULL, NULL, NULL
    FROM silver.conversations c
    CROSS JOIN params p
    LEFT JOIN thread th ON th.conversation_id = c.conversation_id
    LEFT JOIN opener o ON o.conversation_id = c.conversation_id
    LEFT JOIN waiting w ON w.conversation_id = c.conversation_id
    WHERE c.started_at >= p.since
)
SELECT c.kind, c.case_id, c.account_id, a.account_name, COALESCE(a.region, 'Unknown'),
       COALESCE(a.territory, 'Unknown'), c.contact_id, COALESCE(c.channel, 'Unknown'), c.severity, c.category,
       c.subject, c.product_id, pr.product_name, c.agent_id, ag.full_name,
       CASE WHEN c.agent_id IS NULL THEN 'Unassigned' ELSE COALESCE(ag.team, 'No team') END,
       c.opened_at, CAST(c.opened_at AS date), CAST(EXTRACT(ISODOW FROM c.opened_at) AS integer),
       CAST(EXTRACT(HOUR FROM c.opened_at) AS integer),
       c.first_response_at, c.first_response_minutes, c.resolved_at,
       CAST(EXTRACT(EPOCH FROM c.resolved_at - c.opened_at) / 60 AS double precision),
       c.sla_minutes, c.opened_at + make_interval(mins => c.sla_minutes),
       CASE WHEN c.sla_minutes IS NOT NULL THEN
           c.first_response_at IS NOT NULL AND c.first_response_minutes <= c.sla_minutes END,
       CASE WHEN c.sla_minutes IS NOT NULL THEN
           (c.first_response_at IS NOT NULL AND c.first_response_minutes > c.sla_minutes)
           OR (c.first_response_at IS NULL AND c.opened_at + make_interval(mins => c.sla_minutes) < p.as_of_end) END,
       c.status, c.is_open, c.waiting_since, c.messages, c.csat, c.is_escalated,
       CASE WHEN c.kind = 'ticket' THEN c.reopen_count END, COALESCE(ts.label = 'negative', false)
FROM cases c
CROSS JOIN params p
LEFT JOIN gold.text_score ts ON c.kind = 'ticket' AND ts.source = 'ticket' AND ts.item_id = c.case_id
LEFT JOIN silver.accounts a ON a.account_id = c.account_id
LEFT JOIN silver.products pr ON pr.product_id = c.product_id
LEFT JOIN silver.agents ag ON ag.agent_id = c.agent_id
WHERE CAST(c.opened_at AS date) <= CAST(:as_of AS date)
ORDER BY c.opened_at, c.kind, c.case_id

-- Tickets and conversations per UTC day and hour opened, agent ('Unassigned' when empty) and
-- channel ('Unknown' when empty), from :first_day to :as_of; `kind` is ticket or conversation.
--   tickets: responded / first response as in gold.support_daily; resolved = resolved_at set by
--     the end of the as-of day; SLA met and breached as in gold.support_daily; csat when given;
--   conversations: responded = an outbound message after it started, first response = minutes
--     to the first one; resolved = closed_at set by the end of the as-of day; no SLA or csat.
INSERT INTO gold.support_hourly (day, hour, agent_id, channel, kind, opened, responded,
                                 first_response_minutes_sum, first_response_count, resolved,
                                 sla_met, sla_breached, csat_sum, csat_count)
WITH params AS (
    SELECT CAST(:first_day AS date) AS first_day, CAST(:as_of AS date) AS as_of,
           CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end,
           CAST(CAST(:since_day AS date) AS timestamptz) AS since
), first_outbound AS (
    SELECT m.conversation_id, min(m.sent_at) AS at
    FROM silver.conversations c
    CROSS JOIN params p
    JOIN silver.messages m ON m.conversation_id = c.conversation_id
    WHERE m.direction = 'outbound' AND m.sent_at >= c.started_at AND c.started_at >= p.since
    GROUP BY m.conversation_id
), items AS (
    SELECT t.created_at AS opened_at, t.agent_id, t.channel, 'ticket' AS kind,
           t.first_response_at IS NOT NULL AS responded, t.first_response_minutes,
           t.resolved_at < p.as_of_end AS resolved,
           t.first_response_at IS NOT NULL AND t.first_response_minutes <= t.sla_first_response_minutes AS sla_met,
           (t.first_response_at IS NOT NULL AND t.first_response_minutes > t.sla_first_response_minutes)
               OR (t.first_response_at IS NULL
                   AND t.created_at + make_interval(mins => t.sla_first_response_minutes) < p.as_of_end) AS sla_breached,
           t.csat
    FROM silver.tickets t, params p
    WHERE t.created_at >= p.since
    UNION ALL
    SELECT c.started_at, c.assigned_agent_id, c.channel, 'conversation',
           f.at IS NOT NULL, CAST(EXTRACT(EPOCH FROM f.at - c.started_at) / 60 AS double precision),
           c.closed_at < p.as_of_end, false, false, NULL
    FROM silver.conversations c
    CROSS JOIN params p
    LEFT JOIN first_outbound f ON f.conversation_id = c.conversation_id
    WHERE c.started_at >= p.since
)
SELECT CAST(i.opened_at AS date), CAST(EXTRACT(HOUR FROM i.opened_at) AS integer),
       COALESCE(i.agent_id, 'Unassigned'), COALESCE(i.channel, 'Unknown'), i.kind,
       count(*),
       count(*) FILTER (WHERE i.responded),
       COALESCE(sum(CAST(i.first_response_minutes AS numeric)) FILTER (WHERE i.responded), 0),  -- exact in any order
       count(i.first_response_minutes) FILTER (WHERE i.responded),
       count(*) FILTER (WHERE i.resolved),
       count(*) FILTER (WHERE i.sla_met),
       count(*) FILTER (WHERE i.sla_breached),
       COALESCE(sum(i.csat), 0),
       count(i.csat)
FROM items i, params p
WHERE CAST(i.opened_at AS date) BETWEEN p.first_day AND p.as_of
GROUP BY 1, 2, 3, 4, 5

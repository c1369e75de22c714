-- Agents at work per UTC day, hour and team from :since_day to :as_of: an agent is at work in an
-- hour when they sent a chat message, gave a ticket its first response or resolved one in it.
-- Team: the agent's ('No team' when empty or unknown).
INSERT INTO gold.support_staffing_hourly (day, hour, team, agents)
WITH params AS (
    SELECT CAST(CAST(:since_day AS date) AS timestamptz) AS since,
           CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS as_of_end
), activity AS (
    SELECT m.author_id AS agent_id, date_trunc('hour', m.sent_at) AS hour
    FROM silver.messages m, params p
    WHERE m.direction = 'outbound' AND m.sent_at >= p.since AND m.sent_at < p.as_of_end
      AND m.author_id IS NOT NULL
    UNION
    SELECT t.agent_id, date_trunc('hour', t.first_response_at)
    FROM silver.tickets t, params p
    WHERE t.agent_id IS NOT NULL AND t.first_response_at >= p.since AND t.first_response_at < p.as_of_end
    UNION
    SELECT t.agent_id, date_trunc('hour', t.resolved_at)
    FROM silver.tickets t, params p
    WHERE t.agent_id IS NOT NULL AND t.resolved_at >= p.since AND t.resolved_at < p.as_of_end
)
SELECT CAST(a.hour AS date), CAST(EXTRACT(HOUR FROM a.hour) AS integer),
       COALESCE(NULLIF(ag.team, ''), 'No team'), count(DISTINCT a.agent_id)
FROM activity a
JOIN silver.agents ag ON ag.agent_id = a.agent_id
GROUP BY 1, 2, 3

-- First-response SLA met and breached per opening day, severity, channel and team, company-wide, from
-- gold.support_case's tickets with an SLA target opened from :since_day (the days that step wrote again):
-- the Queues page's SLA panel sums a few thousand of these rows instead of 35k tickets at 100k accounts.
INSERT INTO gold.support_sla_daily (day, severity, channel, team, met, breached)
SELECT opened_day, COALESCE(severity, 'None'), channel, team,
       count(*) FILTER (WHERE sla_met), count(*) FILTER (WHERE sla_breached)
FROM gold.support_case
WHERE kind = 'ticket' AND sla_minutes IS NOT NULL AND opened_day >= CAST(:since_day AS date)
GROUP BY 1, 2, 3, 4

-- Tickets per creation day and account region ('Unknown' when the account is unknown).
-- tickets_responded: a first response was recorded; first_response_minutes holds each of
-- their response times, sorted, so that medians stay exact. With an SLA target set, a ticket
-- met it when answered within the target, and breached it when answered late or when still
-- unanswered after the target passed by the end of the as-of day.
INSERT INTO gold.support_daily (day, region, tickets_opened, tickets_responded, sla_met, sla_breached,
                                first_response_minutes)
WITH tickets AS (
    SELECT t.*, CAST(t.created_at AS date) AS day, COALESCE(a.region, 'Unknown') AS region,
           t.first_response_at IS NOT NULL AS responded,
           t.created_at + make_interval(mins => t.sla_first_response_minutes)
               < CAST(CAST(:as_of AS date) + 1 AS timestamptz) AS deadline_passed
    FROM silver.tickets t LEFT JOIN silver.accounts a ON a.account_id = t.account_id
    WHERE t.created_at >= CAST(CAST(:since_day AS date) AS timestamptz)
      AND CAST(t.created_at AS date) BETWEEN CAST(:first_day AS date) AND CAST(:as_of AS date)
)
SELECT day, region,
       count(*),
       count(*) FILTER (WHERE responded),
       count(*) FILTER (WHERE responded AND first_response_minutes <= sla_first_response_minutes),
       count(*) FILTER (WHERE (responded AND first_response_minutes > sla_first_response_minutes)
                           OR (NOT responded AND deadline_passed)),
       COALESCE(array_agg(first_response_minutes ORDER BY first_response_minutes)
                    FILTER (WHERE responded), '{}')
FROM tickets
GROUP BY day, region

-- Interactions per contact (master person) in the year to :as_of, for the contact engagement
-- radar: tickets opened, chat messages sent, campaign messages read, replies (deep: the contact
-- wrote back) and web visits. A person's customer is the master account of the account of
-- the person's master contact row (or of any of their rows when that one has no account); their
-- name, title, email and phone are the master contact row's.
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), people AS (
    SELECT c.contact_id, COALESCE(cm.master_contact_id, c.contact_id) AS person_id, c.account_id
    FROM silver.contacts c
    LEFT JOIN silver.contact_master cm ON cm.contact_id = c.contact_id
), person_account AS (
    SELECT p.person_id,
           COALESCE(max(COALESCE(am.master_account_id, p.account_id)) FILTER (WHERE p.contact_id = p.person_id),
                    max(COALESCE(am.master_account_id, p.account_id))) AS account_id
    FROM people p
    LEFT JOIN silver.account_master am ON am.account_id = p.account_id
    GROUP BY p.person_id
), interactions AS (
    SELECT t.contact_id, CAST(t.created_at AS date) AS day, 'support' AS channel, false AS deep
    FROM silver.tickets t WHERE t.contact_id IS NOT NULL
    UNION ALL
    SELECT conv.contact_id, CAST(m.sent_at AS date), 'chat', false
    FROM silver.messages m JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id
    WHERE conv.contact_id IS NOT NULL AND m.direction IS DISTINCT FROM 'outbound'
    UNION ALL
    SELECT s.contact_id, CAST(s.read_at AS date), 'campaign', false
    FROM silver.sends s WHERE s.contact_id IS NOT NULL AND s.read_at IS NOT NULL
    UNION ALL
    SELECT r.contact_id, CAST(r.received_at AS date), 'email', true
    FROM silver.replies r WHERE r.contact_id IS NOT NULL
    UNION ALL
    SELECT w.contact_id, CAST(w.started_at AS date), 'web', false
    FROM silver.web_sessions w WHERE w.contact_id IS NOT NULL
), per_person AS (
    SELECT p.person_id,
           min(pa.as_of - i.day) AS days_since_last_interaction,
           count(*) FILTER (WHERE i.day > pa.as_of - 90) AS interactions_90d,
           count(DISTINCT i.channel) FILTER (WHERE i.day > pa.as_of - 90) AS channels_90d,
           count(*) FILTER (WHERE i.day > pa.as_of - 90 AND i.deep) AS deep_interactions_90d
    FROM interactions i
    CROSS JOIN params pa
    JOIN people p ON p.contact_id = i.contact_id
    WHERE i.day > pa.as_of - 365 AND i.day <= pa.as_of
    GROUP BY p.person_id
)
SELECT pa.person_id AS contact_id, pa.account_id, pp.days_since_last_interaction,
       COALESCE(pp.interactions_90d, 0) AS interactions_90d, COALESCE(pp.channels_90d, 0) AS channels_90d,
       COALESCE(pp.deep_interactions_90d, 0) AS deep_interactions_90d,
       NULLIF(concat_ws(' ', mc.first_name, mc.last_name), '') AS contact_name, mc.job_title, mc.email, mc.phone
FROM person_account pa
LEFT JOIN per_person pp ON pp.person_id = pa.person_id
LEFT JOIN silver.contacts mc ON mc.contact_id = pa.person_id
WHERE pa.account_id IS NOT NULL

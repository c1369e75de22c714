-- The send funnel per send day, campaign, variant and region of the recipient's account
-- ('Unknown' when the contact or its account cannot be found). A step counts when its
-- timestamp is present.
INSERT INTO gold.campaign_daily (day, campaign_id, variant, region, sent, delivered, read, replied)
SELECT CAST(s.sent_at AS date) AS day,
       s.campaign_id,
       COALESCE(s.variant, 'Unknown') AS variant,
       COALESCE(a.region, 'Unknown') AS region,
       count(*),
       count(s.delivered_at),
       count(s.read_at),
       count(s.replied_at)
FROM silver.sends s
LEFT JOIN silver.contacts c ON c.contact_id = s.contact_id
LEFT JOIN silver.accounts a ON a.account_id = c.account_id
WHERE s.sent_at >= CAST(CAST(:since_day AS date) AS timestamptz)
  AND CAST(s.sent_at AS date) BETWEEN CAST(:first_day AS date) AND CAST(:as_of AS date)
GROUP BY 1, 2, 3, 4

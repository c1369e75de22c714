-- The send funnel per campaign, variant ('Unknown' when empty), UTC hour sent and channel
-- (the send's, else the campaign's), for sends from :first_day to :as_of. A step counts
-- when its timestamp is present, as in gold.campaign_daily.
INSERT INTO gold.campaign_hourly (campaign_id, variant, sent_hour, channel, sent, delivered, read, replied)
SELECT s.campaign_id,
       COALESCE(s.variant, 'Unknown'),
       date_trunc('hour', s.sent_at),
       COALESCE(s.channel, c.channel, 'Unknown'),
       count(*),
       count(s.delivered_at),
       count(s.read_at),
       count(s.replied_at)
FROM silver.sends s
LEFT JOIN silver.campaigns c ON c.campaign_id = s.campaign_id
WHERE s.sent_at >= CAST(CAST(:since_day AS date) AS timestamptz)
  AND CAST(s.sent_at AS date) BETWEEN CAST(:first_day AS date) AND CAST(:as_of AS date)
GROUP BY 1, 2, 3, 4

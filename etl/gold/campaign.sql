-- The campaign dimension with its cost in USD (at the rate of the start date).
INSERT INTO gold.campaign (campaign_id, campaign_name, channel, objective, status, start_date, end_date, cost_usd)
SELECT c.campaign_id, c.campaign_name, c.channel, c.objective, c.status, c.start_date, c.end_date,
       round(c.cost_usd, 2)
FROM silver.campaigns c

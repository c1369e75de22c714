-- Every replied campaign send with its contact and the contact's (regional) account, for the Campaigns
-- page's conversions and high-intent contacts. Region and territory of the account ('Unknown' when empty).
INSERT INTO gold.campaign_reply (send_id, campaign_id, variant, channel, contact_id, contact_name, email, phone,
                                 account_id, account_name, region, territory, replied_at, replied_day)
SELECT s.send_id, s.campaign_id, COALESCE(s.variant, 'Unknown'), COALESCE(s.channel, c.channel, 'Unknown'),
       s.contact_id, NULLIF(btrim(concat_ws(' ', ct.first_name, ct.last_name)), ''), ct.email, ct.phone,
       ct.account_id, a.account_name, COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
       s.replied_at, CAST(s.replied_at AT TIME ZONE 'UTC' AS date)
FROM silver.sends s
LEFT JOIN silver.campaigns c ON c.campaign_id = s.campaign_id
LEFT JOIN silver.contacts ct ON ct.contact_id = s.contact_id
LEFT JOIN silver.accounts a ON a.account_id = ct.account_id
WHERE s.replied_at IS NOT NULL
  AND CAST(s.replied_at AT TIME ZONE 'UTC' AS date) <= CAST(:as_of AS date)

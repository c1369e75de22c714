-- New contacts per creation day (UTC), in the region and territory of their account ('Unknown' when
-- empty); contacts without a creation time are left out.
INSERT INTO gold.contact_daily (day, region, territory, new_contacts)
SELECT CAST(c.created_at AS date) AS day,
       COALESCE(a.region, 'Unknown') AS region,
       COALESCE(a.territory, 'Unknown') AS territory,
       count(*)
FROM silver.contacts c
LEFT JOIN silver.accounts a ON a.account_id = c.account_id
WHERE c.created_at >= CAST(CAST(:since_day AS date) AS timestamptz)
GROUP BY 1, 2, 3

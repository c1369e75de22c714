-- New leads per creation day, region and lead source ('Unknown' when empty); converted_leads
-- are those whose status is now 'converted'.
INSERT INTO gold.leads_daily (day, region, lead_source, new_leads, converted_leads)
SELECT CAST(l.created_at AS date) AS day,
       COALESCE(l.region, 'Unknown') AS region,
       COALESCE(l.lead_source, 'Unknown') AS lead_source,
       count(*),
       count(*) FILTER (WHERE l.status = 'converted')
FROM silver.leads l
WHERE l.created_at >= CAST(CAST(:since_day AS date) AS timestamptz)
  AND CAST(l.created_at AS date) BETWEEN CAST(:first_day AS date) AND CAST(:as_of AS date)
GROUP BY 1, 2, 3

-- One rate per currency for every day from the first to the last rate date. A day without a
-- published rate takes the latest earlier one; days before a currency's first rate take its
-- first. USD is 1 unless the feed says otherwise.
INSERT INTO silver.fx_rates_daily (day, currency, usd_per_unit, rate_date)
WITH bounds AS (
    SELECT min(rate_date) AS first_day, max(rate_date) AS last_day FROM silver.fx_rates
), days AS (
    SELECT b.first_day + offset_days AS day
    FROM bounds b, generate_series(0, b.last_day - b.first_day) AS offset_days
), currencies AS (
    SELECT DISTINCT currency FROM silver.fx_rates
    UNION
    SELECT 'USD'
)
SELECT d.day, c.currency,
       COALESCE(earlier.usd_per_unit, later.usd_per_unit, CASE WHEN c.currency = 'USD' THEN 1 END),
       COALESCE(earlier.rate_date, later.rate_date, d.day)
FROM days d
CROSS JOIN currencies c
LEFT JOIN LATERAL (
    SELECT r.usd_per_unit, r.rate_date FROM silver.fx_rates r
    WHERE r.currency = c.currency AND r.rate_date <= d.day
    ORDER BY r.rate_date DESC LIMIT 1
) earlier ON true
LEFT JOIN LATERAL (
    SELECT r.usd_per_unit, r.rate_date FROM silver.fx_rates r
    WHERE r.currency = c.currency AND r.rate_date > d.day AND earlier.rate_date IS NULL
    ORDER BY r.rate_date LIMIT 1
) later ON true

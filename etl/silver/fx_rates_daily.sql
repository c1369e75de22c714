-- One rate per currency for every day from the first to the last rate date on which it has a
-- usable rate: the day's own, or the currency's latest earlier one published no more than
-- :max_fallback_days days before (C360_FX_MAX_FALLBACK_DAYS). Never a later rate, never another
-- currency's: a day without a usable rate has no row, and amounts on it wait in quarantine.
-- USD is 1 unless the feed says otherwise.
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
       COALESCE(earlier.usd_per_unit, CASE WHEN c.currency = 'USD' THEN 1 END),
       COALESCE(earlier.rate_date, d.day)
FROM days d
CROSS JOIN currencies c
LEFT JOIN LATERAL (
    SELECT r.usd_per_unit, r.rate_date FROM silver.fx_rates r
    WHERE r.currency = c.currency AND r.rate_date <= d.day
      AND r.rate_date >= d.day - CAST(:max_fallback_days AS integer)
    ORDER BY r.rate_date DESC LIMIT 1
) earlier ON true
WHERE earlier.usd_per_unit IS NOT NULL OR c.currency = 'USD'

-- MRR defined once (read through the view gold.subscription_mrr_daily, migration 0016): each
-- subscription that counts on at least one day, with its MRR in its own currency and the days it
-- counts: from its start date up to, not including, its end date (no end date: still running).
-- A subscription ending on or before its start day never counts. The view converts the MRR of
-- each of those days at that day's rate (silver.fx_rates_daily), so a subscription's MRR in USD
-- on a day is the same figure for the daily KPIs, the 360 view, the timeline, the KPI drivers,
-- the account summaries and the churn features.
-- Nothing here depends on the as-of day or the FX rates; @in_scope limits a refresh to the
-- accounts whose subscriptions changed (etl.steps).
INSERT INTO gold.subscription_mrr (subscription_id, account_id, currency, mrr, active_from, active_until)
SELECT s.subscription_id, s.account_id, s.currency, s.mrr, s.start_date, s.end_date
FROM silver.subscriptions s
WHERE (s.end_date IS NULL OR s.end_date > s.start_date) AND @in_scope(s.account_id)

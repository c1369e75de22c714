-- Customers, contacts, MRR and revenue per day x region x segment: gold.daily_kpi_territory
-- rolled up over territory (every account has exactly one territory, so the counts add up).
-- The definitions and the method are in daily_kpi_territory.sql.
INSERT INTO gold.daily_kpi (day, region, segment, active_customers, new_customers, churned_customers,
                            active_contacts, mrr_usd, invoiced_usd, collected_usd)
SELECT day, region, segment, sum(active_customers), sum(new_customers), sum(churned_customers),
       sum(active_contacts), sum(mrr_usd), sum(invoiced_usd), sum(collected_usd)
FROM gold.daily_kpi_territory
WHERE day >= CAST(:since_day AS date)
GROUP BY day, region, segment

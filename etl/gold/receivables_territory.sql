-- Per customer territory (the customer's own, as on gold.receivable_invoice and gold.receivable_customer),
-- the Receivables panels' totals, so a request sums a row per territory:
--   expected_N_*: unpaid invoices expected (expected_paid_on) from the as-of day to N days after it, for
--     N = 30, 60, 90 (dashboard.queries.receivables.FORECAST_WINDOWS); past_usual_*: expected before the
--     as-of day; invoices_without_history: at the company's median delay;
--   disputes .. hold_pipeline_usd: gold.receivable_customer summed; customers_disputing: with a dispute;
--     frequent_customers: with 3 or more disputes and notes in all (receivables.FREQUENT_EVENTS);
--   affected_* / other_*: the customers invoiced in the 365 days to the as-of day with a credit or debit
--     note on one of those invoices, and the others: how many, how many churned, their CSAT sums.
INSERT INTO gold.receivables_territory (territory, expected_30_usd, expected_30_invoices, expected_60_usd,
                                        expected_60_invoices, expected_90_usd, expected_90_invoices, past_usual_usd,
                                        past_usual_invoices, invoices_without_history, disputes, open_disputes,
                                        disputed_usd, credit_notes, credit_usd, debit_notes, customers_disputing,
                                        frequent_customers, customers_on_hold, hold_mrr_usd, hold_pipeline_usd,
                                        affected_customers, affected_churned, affected_csat_sum,
                                        affected_csat_responses, other_customers, other_churned, other_csat_sum,
                                        other_csat_responses)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of
), invoices AS (
    SELECT i.territory,
           COALESCE(sum(i.amount_usd) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 30), 0) AS usd_30,
           count(*) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 30) AS n_30,
           COALESCE(sum(i.amount_usd) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 60), 0) AS usd_60,
           count(*) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 60) AS n_60,
           COALESCE(sum(i.amount_usd) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 90), 0) AS usd_90,
           count(*) FILTER (WHERE i.expected_paid_on BETWEEN p.as_of AND p.as_of + 90) AS n_90,
           COALESCE(sum(i.amount_usd) FILTER (WHERE i.expected_paid_on < p.as_of), 0) AS past_usd,
           count(*) FILTER (WHERE i.expected_paid_on < p.as_of) AS past_n,
           count(*) FILTER (WHERE NOT i.delay_from_history) AS without_history
    FROM gold.receivable_invoice i
    CROSS JOIN params p
    GROUP BY i.territory
), customers AS (
    SELECT territory, sum(disputes) AS disputes, sum(open_disputes) AS open_disputes, sum(disputed_usd) AS disputed_usd,
           sum(credit_notes) AS credit_notes, sum(credit_usd) AS credit_usd, sum(debit_notes) AS debit_notes,
           count(*) FILTER (WHERE disputes > 0) AS disputing, count(*) FILTER (WHERE events >= 3) AS frequent,
           count(*) FILTER (WHERE on_hold) AS on_hold, sum(hold_mrr_usd) AS hold_mrr_usd,
           sum(hold_pipeline_usd) AS hold_pipeline_usd,
           count(*) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m > 0) AS affected,
           count(*) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m > 0 AND churned) AS affected_churned,
           COALESCE(sum(csat_sum) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m > 0), 0) AS affected_csat,
           COALESCE(sum(csat_responses) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m > 0), 0)
               AS affected_responses,
           count(*) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m = 0) AS others,
           count(*) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m = 0 AND churned) AS others_churned,
           COALESCE(sum(csat_sum) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m = 0), 0) AS others_csat,
           COALESCE(sum(csat_responses) FILTER (WHERE invoices_12m > 0 AND adjusted_invoices_12m = 0), 0)
               AS others_responses
    FROM gold.receivable_customer
    GROUP BY territory
)
SELECT COALESCE(i.territory, c.territory),
       COALESCE(i.usd_30, 0), COALESCE(i.n_30, 0), COALESCE(i.usd_60, 0), COALESCE(i.n_60, 0),
       COALESCE(i.usd_90, 0), COALESCE(i.n_90, 0), COALESCE(i.past_usd, 0), COALESCE(i.past_n, 0),
       COALESCE(i.without_history, 0),
       COALESCE(c.disputes, 0), COALESCE(c.open_disputes, 0), COALESCE(c.disputed_usd, 0),
       COALESCE(c.credit_notes, 0), COALESCE(c.credit_usd, 0), COALESCE(c.debit_notes, 0),
       COALESCE(c.disputing, 0), COALESCE(c.frequent, 0), COALESCE(c.on_hold, 0), COALESCE(c.hold_mrr_usd, 0),
       COALESCE(c.hold_pipeline_usd, 0), COALESCE(c.affected, 0), COALESCE(c.affected_churned, 0),
       COALESCE(c.affected_csat, 0), COALESCE(c.affected_responses, 0), COALESCE(c.others, 0),
       COALESCE(c.others_churned, 0), COALESCE(c.others_csat, 0), COALESCE(c.others_responses, 0)
FROM invoices i
FULL JOIN customers c ON c.territory = i.territory

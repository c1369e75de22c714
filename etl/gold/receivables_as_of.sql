-- One row: the as-of day the Receivables tables were built for, read by every panel of the page instead of
-- being worked out from the invoices on each request, and the company's median payment delay that every
-- unpaid invoice without its customer's history carries (gold.receivable_invoice; none without such an
-- invoice).
INSERT INTO gold.receivables_as_of (as_of, company_delay_days)
SELECT CAST(:as_of AS date),
       (SELECT max(payment_delay_days) FROM gold.receivable_invoice WHERE NOT delay_from_history)

-- gold.receivable_invoice summed per customer territory (the customer's own, as on that table: each customer
-- in one territory, so counts of distinct customers add up across territories) and per group of one
-- dimension: 'all' (group ''), 'bucket' (current, 1-30, 31-60, 61-90, 90+), 'segment' (the invoiced account's
-- type) and 'account_manager' (its owner). Overdue: days overdue > 0 (every bucket but 'current').
-- customers / overdue_customers: distinct customers with an unpaid (an overdue) invoice in the group.
INSERT INTO gold.receivables_summary (territory, dimension, group_name, outstanding_usd, overdue_usd, invoices,
                                      overdue_invoices, customers, overdue_customers)
SELECT territory,
       CASE WHEN GROUPING(bucket) = 0 THEN 'bucket' WHEN GROUPING(segment) = 0 THEN 'segment'
            WHEN GROUPING(account_manager) = 0 THEN 'account_manager' ELSE 'all' END,
       COALESCE(bucket, segment, account_manager, ''),
       COALESCE(sum(amount_usd), 0), COALESCE(sum(amount_usd) FILTER (WHERE days_overdue > 0), 0),
       count(*), count(*) FILTER (WHERE days_overdue > 0),
       count(DISTINCT customer_id), count(DISTINCT customer_id) FILTER (WHERE days_overdue > 0)
FROM gold.receivable_invoice
GROUP BY GROUPING SETS ((territory), (territory, bucket), (territory, segment), (territory, account_manager))

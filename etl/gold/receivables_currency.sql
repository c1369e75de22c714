-- gold.receivable_invoice summed per customer territory (as on that table), bucket and currency: the
-- currencies behind each ageing bucket, in their own amount and in USD at the as-of rate.
INSERT INTO gold.receivables_currency (territory, bucket, currency, amount, amount_usd)
SELECT territory, bucket, currency, sum(amount), COALESCE(sum(amount_usd), 0)
FROM gold.receivable_invoice
GROUP BY territory, bucket, currency

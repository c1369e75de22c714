-- Every term a customer (master account) can be found by, for the account search:
--   id: the master account id; regional_id: each other regional account linked into it;
--   name: the names of its regional accounts (the master's own included);
--   email: its contacts' emails; phone: its contacts' phone numbers as digits only (E.164 without
--     the '+' for numbers written in international format, spaced or not).
-- Terms are lower case; grams are their trigrams (gold.search_grams, migration 0018), under a GIN index.
-- Each term carries its customer's name, region and territory as gold.customer_360 has them (the
-- master account's own), so the search scopes and ranks matches without joining customer_360.
-- Rows go in (kind, term) order: a fragment's matches then lie on few pages of the table.
-- Emails and phones are searched only by roles holding view_pii (dashboard.queries.search).
-- @in_scope limits a refresh to the customers whose records changed (etl.steps).
INSERT INTO gold.account_search (account_id, kind, term, grams, account_name, region, territory)
WITH accounts AS (
    SELECT COALESCE(am.master_account_id, a.account_id) AS master_account_id, a.account_id, a.account_name
    FROM silver.accounts a
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
    WHERE @in_scope(COALESCE(am.master_account_id, a.account_id))
), terms AS (
    SELECT master_account_id, CASE WHEN account_id = master_account_id THEN 'id' ELSE 'regional_id' END AS kind,
           lower(account_id) AS term
    FROM accounts
    UNION
    SELECT master_account_id, 'name', lower(account_name) FROM accounts
    UNION
    SELECT a.master_account_id, 'email', lower(c.email)
    FROM silver.contacts c JOIN accounts a ON a.account_id = c.account_id
    UNION
    SELECT a.master_account_id, 'phone', regexp_replace(c.phone, '[^0-9]', '', 'g')
    FROM silver.contacts c JOIN accounts a ON a.account_id = c.account_id
)
SELECT t.master_account_id, t.kind, t.term, gold.search_grams(t.term), m.account_name,
       COALESCE(m.region, 'Unknown'), m.territory
FROM terms t
LEFT JOIN silver.accounts m ON m.account_id = t.master_account_id
WHERE t.term IS NOT NULL AND t.term <> ''
ORDER BY t.kind, t.term

-- One row per open onboarding milestone planned before the last day of gold.support_case, of an account
-- not churned, with the account's customer (master account) and the customer's name: the Operations
-- page picks each customer's earliest within the caller's scope.
INSERT INTO gold.onboarding_stuck (milestone_id, account_id, customer_account_id, account_name, region, territory, milestone,
                                   sequence, owner_team, planned_date)
WITH as_of AS (
    SELECT max(opened_day) AS day FROM gold.support_case
), customers AS (
    SELECT account_id AS customer_id, account_name AS customer_name, unnest(regional_account_ids) AS regional_id
    FROM gold.customer_360
)
SELECT st.milestone_id, st.account_id, COALESCE(cu.customer_id, st.account_id),
       COALESCE(cu.customer_name, st.account_name, st.account_id), st.region, st.territory, st.milestone,
       st.sequence, st.owner_team, st.planned_date
FROM gold.onboarding_stage st
CROSS JOIN as_of a
LEFT JOIN customers cu ON cu.regional_id = st.account_id
WHERE st.is_open AND st.planned_date < a.day AND NOT st.account_churned

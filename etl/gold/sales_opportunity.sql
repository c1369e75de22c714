-- One row per deal for the Sales page: the deal's account, region and territory (the account's,
-- 'Unknown' when empty), owner, stage, product line (the family of its largest line item), USD
-- amounts, cycle length, days in its current stage and the account's last sales activity.
--   weighted_amount_usd: amount_usd x probability / 100;
--   cycle_days: closed deals, close date minus creation day;
--   days_in_stage: open deals, as-of day minus the day they entered their current stage;
--   last_activity_day: the account's latest completed meeting or logged email up to the as-of day.
INSERT INTO gold.sales_opportunity (opportunity_id, account_id, account_name, region, territory, owner_user_id,
                                    owner_name, opportunity_name, stage, product_line, amount_usd, probability,
                                    weighted_amount_usd, is_closed, is_won, created_day, close_date, cycle_days,
                                    stage_entered_day, days_in_stage, last_activity_day, loss_reason, next_step)
WITH main_line AS (
    SELECT DISTINCT ON (li.opportunity_id) li.opportunity_id, p.product_family
    FROM silver.opportunity_line_items li
    JOIN silver.products p ON p.product_id = li.product_id
    ORDER BY li.opportunity_id, li.amount_usd DESC NULLS LAST, li.line_item_id
), activity AS (
    SELECT account_id, max(day) AS last_day
    FROM (SELECT m.account_id, CAST(m.scheduled_at AS date) AS day
          FROM silver.meetings m
          WHERE m.outcome = 'completed' AND CAST(m.scheduled_at AS date) <= :as_of
          UNION ALL
          SELECT e.account_id, CAST(e.sent_at AS date)
          FROM silver.emails e
          WHERE CAST(e.sent_at AS date) <= :as_of) a
    WHERE account_id IS NOT NULL
    GROUP BY account_id
)
SELECT o.opportunity_id, o.account_id, a.account_name,
       COALESCE(a.region, 'Unknown'), COALESCE(a.territory, 'Unknown'),
       COALESCE(o.owner_user_id, 'Unknown'), u.full_name, o.opportunity_name,
       COALESCE(o.stage, 'Unknown'), COALESCE(ml.product_family, 'Unknown'),
       round(o.amount_usd, 2), CAST(o.probability AS double precision),
       round(o.amount_usd * o.probability / 100, 2),
       COALESCE(o.is_closed, false), COALESCE(o.is_closed AND o.is_won, false),
       CAST(o.created_at AS date), o.close_date,
       CASE WHEN o.is_closed THEN o.close_date - CAST(o.created_at AS date) END,
       CAST(o.stage_entered_at AS date),
       CASE WHEN NOT COALESCE(o.is_closed, false) THEN :as_of - CAST(o.stage_entered_at AS date) END,
       act.last_day, o.loss_reason, o.next_step
FROM silver.opportunities o
LEFT JOIN silver.accounts a ON a.account_id = o.account_id
LEFT JOIN silver.users u ON u.user_id = o.owner_user_id
LEFT JOIN main_line ml ON ml.opportunity_id = o.opportunity_id
LEFT JOIN activity act ON act.account_id = o.account_id

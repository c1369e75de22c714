-- Per month and customer group, the trailing 12 months ending on the month's last day (on the
-- as-of day for the current month): who was active at the window's start and end and their MRR,
-- for logo retention, net revenue retention and growth (dashboard.tables.gold.RetentionMonthly).
--   Windows: the last 24 months whose window starts within the data window (:first_day on) and ends
--     on :since_day or later (a refresh redoes the windows holding a changed day, and drops the months
--     older than 24; etl.gold.GOLD_STEPS).
--   Customers: master accounts (silver.account_master) of gold.customer_360, grouped by its
--     region, territory ('Unknown' when empty) and segment; subscriptions of accounts outside the
--     CRM are left out.
--   Active on a day: a subscription counting that day (gold.subscription_mrr); its MRR is the
--     view gold.subscription_mrr_daily's (that day's rate; a day without a rate adds nothing).
--   product_line 'All products' rows count customers; the other rows count (customer, product line)
--     pairs: a line is retained when the customer still holds it at the window's end.
--   invoiced_usd and tickets: non-void invoices issued and tickets opened in the window
--     (window_start < day <= window_end) by the group's customers; 'All products' rows only.
--   churned_* / retained_* ('All products' rows only): of the customers active at the window's start,
--     those not active at its end (churned) and the others (retained), each side's price rises
--     (customers with a silver.price_changes increase effective in the window), tickets opened in the
--     window, their SLA breaches (gold.support_daily's rule: answered after the target, or unanswered
--     once it passed by the end of the as-of day), CSAT sum and count, and competitor mentions:
--     customers with an inbound message in the window matching the competitor phrases below.
--   nps_* / csat_* ('All products' rows only): survey responses (silver.surveys, the day answered) in
--     the window by the group's customers: sums and counts of the NPS (0-10) and CSAT (1-5) scores.
--   nps_cohort_* / csat_cohort_* ('All products' rows only): sums for Pearson's r between a customer's
--     average score over the window and its value, over the customers active at the window's start
--     with MRR then and with that score: n, sum of x, of x squared, of y, of y squared and of x times y,
--     for y = retained (1 or 0) and y = MRR growth (end over start MRR, in cents, less 1).
-- Every group's figures can move with any customer's, so the whole table is worked out each time.
INSERT INTO gold.retention_monthly (month, region, territory, segment, product_line, window_start, window_end,
                                    start_customers, end_customers, retained_customers, start_mrr_usd,
                                    end_mrr_usd, retained_mrr_usd, invoiced_usd, tickets, churned_price_rises,
                                    retained_price_rises, churned_tickets, retained_tickets, churned_sla_breaches,
                                    retained_sla_breaches, churned_csat_sum, churned_csat_responses,
                                    retained_csat_sum, retained_csat_responses, churned_competitor_mentions,
                                    retained_competitor_mentions, nps_sum, nps_responses, csat_sum, csat_responses,
                                    nps_cohort_n, nps_cohort_x, nps_cohort_xx, nps_cohort_retained, nps_cohort_x_retained, nps_cohort_growth, nps_cohort_growth_sq, nps_cohort_x_growth,
                                    csat_cohort_n, csat_cohort_x, csat_cohort_xx, csat_cohort_retained, csat_cohort_x_retained, csat_cohort_growth, csat_cohort_growth_sq, csat_cohort_x_growth)
WITH params AS (
    SELECT CAST(:as_of AS date) AS as_of, CAST(:first_day AS date) AS first_day
), windows AS (
    SELECT CAST(m AS date) AS month,
           CAST(LEAST(m + interval '1 month' - interval '1 day', p.as_of) AS date) AS window_end
    FROM params p,
         -- From the month of :since_day: its window and every later one end on that day or after.
         generate_series(GREATEST(date_trunc('month', p.as_of) - interval '23 months',
                                  date_trunc('month', CAST(:since_day AS date))),
                         date_trunc('month', p.as_of), interval '1 month') AS m
), bounds AS (
    SELECT w.month, CAST(w.window_end - interval '12 months' AS date) AS window_start, w.window_end
    FROM windows w, params p
    WHERE w.window_end - interval '12 months' >= p.first_day
), days AS (
    SELECT window_start AS day FROM bounds UNION SELECT window_end FROM bounds
), customers AS (
    SELECT c.account_id, c.region, COALESCE(c.territory, 'Unknown') AS territory, c.segment
    FROM gold.customer_360 c
), master AS (
    SELECT a.account_id, COALESCE(am.master_account_id, a.account_id) AS master_id
    FROM silver.accounts a
    LEFT JOIN silver.account_master am ON am.account_id = a.account_id
), held AS (
    SELECT md.day, ma.master_id AS account_id, COALESCE(p.product_family, 'Unknown') AS line,
           COALESCE(sum(md.mrr_usd), 0) AS mrr_usd
    FROM gold.subscription_mrr_daily md
    JOIN master ma ON ma.account_id = md.account_id
    JOIN silver.subscriptions s ON s.subscription_id = md.subscription_id
    LEFT JOIN silver.products p ON p.product_id = s.product_id
    -- An array, not a join: the view then reads just these days rather than every day of the window.
    WHERE md.day = ANY (ARRAY(SELECT day FROM days))
    GROUP BY 1, 2, 3
), grain AS (
    SELECT day, account_id, line, mrr_usd FROM held
    UNION ALL
    SELECT day, account_id, 'All products', sum(mrr_usd) FROM held GROUP BY day, account_id
), ends AS (
    -- Each (customer, line) on a window's first and last day; equality joins, so they hash.
    SELECT b.month, g.account_id, g.line, true AS at_start, false AS at_end, g.mrr_usd AS start_mrr, 0 AS end_mrr
    FROM bounds b JOIN grain g ON g.day = b.window_start
    UNION ALL
    SELECT b.month, g.account_id, g.line, false, true, 0, g.mrr_usd
    FROM bounds b JOIN grain g ON g.day = b.window_end
), pairs AS (
    SELECT month, account_id, line, bool_or(at_start) AS at_start, bool_or(at_end) AS at_end,
           sum(start_mrr) AS start_mrr, sum(end_mrr) AS end_mrr
    FROM ends
    GROUP BY month, account_id, line
), first_day_counted AS (
    -- Events are counted from the day after the earliest window's start.
    SELECT min(window_start) AS after FROM bounds
), tickets_by_day AS (
    SELECT ma.master_id AS account_id, CAST(t.created_at AT TIME ZONE 'UTC' AS date) AS day, count(*) AS tickets,
           count(*) FILTER (WHERE (t.first_response_at IS NOT NULL
                                   AND t.first_response_minutes > t.sla_first_response_minutes)
                               OR (t.first_response_at IS NULL
                                   AND t.created_at + make_interval(mins => t.sla_first_response_minutes)
                                       < CAST(p.as_of + 1 AS timestamptz))) AS sla_breaches,
           COALESCE(sum(t.csat), 0) AS csat_sum, count(t.csat) AS csat_responses
    FROM silver.tickets t
    JOIN master ma ON ma.account_id = t.account_id
    CROSS JOIN params p
    CROSS JOIN first_day_counted f
    WHERE CAST(t.created_at AT TIME ZONE 'UTC' AS date) > f.after
      AND CAST(t.created_at AT TIME ZONE 'UTC' AS date) <= p.as_of
    GROUP BY 1, 2
), invoices_in_windows AS (
    -- Each invoice, not summed per customer and day first: nearly every one is its customer's only invoice
    -- of the day, and group_days sums them per group and day anyway.
    SELECT ma.master_id AS account_id, i.issue_date AS day, i.amount_usd AS invoiced_usd
    FROM silver.invoices i
    JOIN master ma ON ma.account_id = i.account_id
    CROSS JOIN params p
    CROSS JOIN first_day_counted f
    WHERE i.status IS DISTINCT FROM 'void' AND i.issue_date > f.after AND i.issue_date <= p.as_of
), mentions_by_day AS (
    SELECT DISTINCT ma.master_id AS account_id, CAST(m.sent_at AT TIME ZONE 'UTC' AS date) AS day
    FROM silver.messages m
    JOIN silver.conversations cv ON cv.conversation_id = m.conversation_id
    JOIN master ma ON ma.account_id = cv.account_id
    -- Competitor activity in a customer's words: a competitor named as such, or an offer, a quote or a
    -- move elsewhere. Written exactly as the predicate of ix_silver_messages_competitor_mention, so the
    -- few matching messages are read from that index instead of matching every message of the windows.
    WHERE m.direction = 'inbound'
      AND m.body ~* '(competitor|quoted us|offer from|switch(ed)? to|went with|switch provider|another provider)'
      AND CAST(m.sent_at AT TIME ZONE 'UTC' AS date) > (SELECT after FROM first_day_counted)
      AND CAST(m.sent_at AT TIME ZONE 'UTC' AS date) <= CAST(:as_of AS date)
), surveys_by_day AS (
    SELECT ma.master_id AS account_id, CAST(s.responded_at AT TIME ZONE 'UTC' AS date) AS day,
           COALESCE(sum(s.nps_score) FILTER (WHERE s.survey_type = 'nps'), 0) AS nps_sum,
           count(s.nps_score) FILTER (WHERE s.survey_type = 'nps') AS nps_responses,
           COALESCE(sum(s.csat_score) FILTER (WHERE s.survey_type = 'csat'), 0) AS csat_sum,
           count(s.csat_score) FILTER (WHERE s.survey_type = 'csat') AS csat_responses
    FROM silver.surveys s
    JOIN master ma ON ma.account_id = s.account_id
    CROSS JOIN params p
    CROSS JOIN first_day_counted f
    WHERE CAST(s.responded_at AT TIME ZONE 'UTC' AS date) > f.after
      AND CAST(s.responded_at AT TIME ZONE 'UTC' AS date) <= p.as_of
    GROUP BY 1, 2
), price_rises_by_day AS (
    SELECT DISTINCT ma.master_id AS account_id, pc.effective_date AS day
    FROM silver.price_changes pc
    JOIN master ma ON ma.account_id = pc.account_id
    CROSS JOIN params p
    CROSS JOIN first_day_counted f
    WHERE pc.new_mrr > pc.old_mrr AND pc.effective_date > f.after AND pc.effective_date <= p.as_of
), cohort AS (
    -- The customers active at each window's start: churned when not active at its end.
    SELECT p.month, b.window_start, b.window_end, p.account_id, NOT p.at_end AS churned,
           round(p.start_mrr, 2) AS start_mrr, round(p.end_mrr, 2) AS end_mrr
    FROM pairs p JOIN bounds b ON b.month = p.month
    WHERE p.line = 'All products' AND p.at_start
), service AS (
    SELECT co.month, co.account_id, sum(t.tickets) AS tickets, sum(t.sla_breaches) AS sla_breaches,
           sum(t.csat_sum) AS csat_sum, sum(t.csat_responses) AS csat_responses
    FROM cohort co JOIN tickets_by_day t ON t.account_id = co.account_id
    WHERE t.day > co.window_start AND t.day <= co.window_end
    GROUP BY 1, 2
), price_rises AS (
    SELECT DISTINCT co.month, co.account_id
    FROM cohort co JOIN price_rises_by_day pr ON pr.account_id = co.account_id
    WHERE pr.day > co.window_start AND pr.day <= co.window_end
), mentions AS (
    SELECT DISTINCT co.month, co.account_id
    FROM cohort co JOIN mentions_by_day mn ON mn.account_id = co.account_id
    WHERE mn.day > co.window_start AND mn.day <= co.window_end
), scored AS (
    -- Each cohort customer's average scores over its window, with its retention and MRR growth. In
    -- numeric (12 decimals), so the sums below come out the same whatever order a plan adds them in.
    SELECT co.month, co.account_id, CASE WHEN co.churned THEN 0.0 ELSE 1.0 END AS retained,
           round(co.end_mrr / co.start_mrr - 1, 12) AS growth,
           round(CAST(sum(sv.nps_sum) AS numeric) / NULLIF(sum(sv.nps_responses), 0), 12) AS nps,
           round(CAST(sum(sv.csat_sum) AS numeric) / NULLIF(sum(sv.csat_responses), 0), 12) AS csat
    FROM cohort co JOIN surveys_by_day sv ON sv.account_id = co.account_id
    WHERE sv.day > co.window_start AND sv.day <= co.window_end AND co.start_mrr > 0
    GROUP BY 1, 2, 3, 4
), satisfaction AS (
    SELECT s.month, c.region, c.territory, c.segment,
           count(s.nps) AS nps_n, sum(s.nps) AS nps_x, sum(s.nps * s.nps) AS nps_xx,
           sum(s.retained) FILTER (WHERE s.nps IS NOT NULL) AS nps_retained,
           sum(s.nps * s.retained) AS nps_x_retained,
           sum(s.growth) FILTER (WHERE s.nps IS NOT NULL) AS nps_growth,
           sum(s.growth * s.growth) FILTER (WHERE s.nps IS NOT NULL) AS nps_growth_sq,
           sum(s.nps * s.growth) AS nps_x_growth,
           count(s.csat) AS csat_n, sum(s.csat) AS csat_x, sum(s.csat * s.csat) AS csat_xx,
           sum(s.retained) FILTER (WHERE s.csat IS NOT NULL) AS csat_retained,
           sum(s.csat * s.retained) AS csat_x_retained,
           sum(s.growth) FILTER (WHERE s.csat IS NOT NULL) AS csat_growth,
           sum(s.growth * s.growth) FILTER (WHERE s.csat IS NOT NULL) AS csat_growth_sq,
           sum(s.csat * s.growth) AS csat_x_growth
    FROM scored s
    JOIN customers c ON c.account_id = s.account_id
    GROUP BY 1, 2, 3, 4
), drivers AS (
    SELECT co.month, c.region, c.territory, c.segment,
           count(pr.account_id) FILTER (WHERE co.churned) AS churned_price_rises,
           count(pr.account_id) FILTER (WHERE NOT co.churned) AS retained_price_rises,
           COALESCE(sum(sv.tickets) FILTER (WHERE co.churned), 0) AS churned_tickets,
           COALESCE(sum(sv.tickets) FILTER (WHERE NOT co.churned), 0) AS retained_tickets,
           COALESCE(sum(sv.sla_breaches) FILTER (WHERE co.churned), 0) AS churned_sla_breaches,
           COALESCE(sum(sv.sla_breaches) FILTER (WHERE NOT co.churned), 0) AS retained_sla_breaches,
           COALESCE(sum(sv.csat_sum) FILTER (WHERE co.churned), 0) AS churned_csat_sum,
           COALESCE(sum(sv.csat_responses) FILTER (WHERE co.churned), 0) AS churned_csat_responses,
           COALESCE(sum(sv.csat_sum) FILTER (WHERE NOT co.churned), 0) AS retained_csat_sum,
           COALESCE(sum(sv.csat_responses) FILTER (WHERE NOT co.churned), 0) AS retained_csat_responses,
           count(mn.account_id) FILTER (WHERE co.churned) AS churned_competitor_mentions,
           count(mn.account_id) FILTER (WHERE NOT co.churned) AS retained_competitor_mentions
    FROM cohort co
    JOIN customers c ON c.account_id = co.account_id
    LEFT JOIN price_rises pr ON pr.month = co.month AND pr.account_id = co.account_id
    LEFT JOIN service sv ON sv.month = co.month AND sv.account_id = co.account_id
    LEFT JOIN mentions mn ON mn.month = co.month AND mn.account_id = co.account_id
    GROUP BY 1, 2, 3, 4
), retention AS (
    SELECT p.month, c.region, c.territory, c.segment, p.line,
           count(*) FILTER (WHERE p.at_start) AS start_customers,
           count(*) FILTER (WHERE p.at_end) AS end_customers,
           count(*) FILTER (WHERE p.at_start AND p.at_end) AS retained_customers,
           sum(p.start_mrr) AS start_mrr_usd, sum(p.end_mrr) AS end_mrr_usd,
           sum(p.end_mrr) FILTER (WHERE p.at_start) AS retained_mrr_usd
    FROM pairs p
    JOIN customers c ON c.account_id = p.account_id
    GROUP BY 1, 2, 3, 4, 5
), group_days AS (
    -- Per group and day first: then each day joins the windows holding it, not each record. customer_360
    -- itself rather than the customers above: its statistics let the million records hash-join it.
    SELECT c.region, COALESCE(c.territory, 'Unknown') AS territory, c.segment, e.day, sum(e.invoiced_usd) AS invoiced_usd, sum(e.tickets) AS tickets,
           sum(e.nps_sum) AS nps_sum, sum(e.nps_responses) AS nps_responses, sum(e.csat_sum) AS csat_sum,
           sum(e.csat_responses) AS csat_responses
    FROM (SELECT account_id, day, invoiced_usd, 0 AS tickets, 0 AS nps_sum, 0 AS nps_responses, 0 AS csat_sum,
                 0 AS csat_responses
          FROM invoices_in_windows
          UNION ALL
          SELECT account_id, day, 0, tickets, 0, 0, 0, 0 FROM tickets_by_day
          UNION ALL
          SELECT account_id, day, 0, 0, nps_sum, nps_responses, csat_sum, csat_responses FROM surveys_by_day) e
    JOIN gold.customer_360 c ON c.account_id = e.account_id
    GROUP BY 1, 2, 3, 4
), activity AS (
    SELECT b.month, gd.region, gd.territory, gd.segment, sum(gd.invoiced_usd) AS invoiced_usd,
           sum(gd.tickets) AS tickets, sum(gd.nps_sum) AS nps_sum, sum(gd.nps_responses) AS nps_responses,
           sum(gd.csat_sum) AS csat_sum, sum(gd.csat_responses) AS csat_responses
    FROM group_days gd
    JOIN bounds b ON gd.day > b.window_start AND gd.day <= b.window_end
    GROUP BY 1, 2, 3, 4
), groups AS (
    SELECT month, region, territory, segment, line FROM retention
    UNION SELECT month, region, territory, segment, 'All products' FROM activity
)
SELECT g.month, g.region, g.territory, g.segment, g.line, b.window_start, b.window_end,
       COALESCE(r.start_customers, 0), COALESCE(r.end_customers, 0), COALESCE(r.retained_customers, 0),
       round(COALESCE(r.start_mrr_usd, 0), 2), round(COALESCE(r.end_mrr_usd, 0), 2),
       round(COALESCE(r.retained_mrr_usd, 0), 2),
       CASE WHEN g.line = 'All products' THEN round(COALESCE(a.invoiced_usd, 0), 2) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(a.tickets, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_price_rises, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_price_rises, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_tickets, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_tickets, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_sla_breaches, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_sla_breaches, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_csat_sum, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_csat_responses, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_csat_sum, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_csat_responses, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.churned_competitor_mentions, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(d.retained_competitor_mentions, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(a.nps_sum, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(a.nps_responses, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(a.csat_sum, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(a.csat_responses, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_n, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_x, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_xx, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_retained, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_x_retained, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_growth, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_growth_sq, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.nps_x_growth, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_n, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_x, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_xx, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_retained, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_x_retained, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_growth, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_growth_sq, 0) ELSE 0 END,
       CASE WHEN g.line = 'All products' THEN COALESCE(st.csat_x_growth, 0) ELSE 0 END
FROM groups g
JOIN bounds b ON b.month = g.month
LEFT JOIN retention r ON r.month = g.month AND r.region = g.region AND r.territory = g.territory
                     AND r.segment = g.segment AND r.line = g.line
LEFT JOIN activity a ON a.month = g.month AND a.region = g.region AND a.territory = g.territory
                    AND a.segment = g.segment AND g.line = 'All products'
LEFT JOIN drivers d ON d.month = g.month AND d.region = g.region AND d.territory = g.territory
                   AND d.segment = g.segment AND g.line = 'All products'
LEFT JOIN satisfaction st ON st.month = g.month AND st.region = g.region AND st.territory = g.territory
                         AND st.segment = g.segment AND g.line = 'All products'

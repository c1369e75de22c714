"""MRR in USD per day on silver's subscriptions, for the jobs that read silver alone

Revision ID: 0056
Revises: 0055

gold.subscription_mrr_daily (0016) is MRR's one definition, applied to gold's snapshot of the
subscriptions. The churn features are worked out from silver, and reading their MRR from gold made
training wait for the whole gold build. silver.subscription_mrr_daily is the same definition, from
the same text, applied to silver.subscriptions: a subscription counts on the days from its start up
to, not including, its end, which already leaves out one ending on or before its start (the rule
gold.subscription_mrr applies). Once gold is built from silver, the two views agree row for row
(tests/etl/test_mrr_daily.py).
"""
from __future__ import annotations

from alembic import op

revision = '0056'
down_revision = '0055'
branch_labels = None
depends_on = None

# The text of 0016's view, with silver's subscriptions and their column names in place of gold's.
SILVER_SUBSCRIPTION_MRR_DAILY = """
CREATE VIEW silver.subscription_mrr_daily AS
SELECT d.day, m.subscription_id, m.account_id, m.currency, fx.usd_per_unit, m.mrr * fx.usd_per_unit AS mrr_usd
FROM silver.fx_rates_daily d
JOIN silver.subscriptions m ON m.start_date <= d.day AND (m.end_date IS NULL OR m.end_date > d.day)
LEFT JOIN silver.fx_rates_daily fx ON fx.day = d.day AND fx.currency = m.currency
WHERE d.currency = 'USD'
"""


def upgrade() -> None:
    op.execute(SILVER_SUBSCRIPTION_MRR_DAILY)
    op.execute("COMMENT ON VIEW silver.subscription_mrr_daily IS 'gold.subscription_mrr_daily''s MRR in USD per "
               "subscription and day, on silver.subscriptions: for jobs that read silver alone'")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS silver.subscription_mrr_daily")

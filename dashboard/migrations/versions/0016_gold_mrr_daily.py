"""MRR in USD defined once

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The days are silver.fx_rates_daily's USD rows: USD has one on every day of the data window,
# whatever the feed. mrr_usd is empty on a day its currency has no usable rate.
SUBSCRIPTION_MRR_DAILY = """
CREATE VIEW gold.subscription_mrr_daily AS
SELECT d.day, m.subscription_id, m.account_id, m.currency, fx.usd_per_unit, m.mrr * fx.usd_per_unit AS mrr_usd
FROM silver.fx_rates_daily d
JOIN gold.subscription_mrr m ON m.active_from <= d.day AND (m.active_until IS NULL OR m.active_until > d.day)
LEFT JOIN silver.fx_rates_daily fx ON fx.day = d.day AND fx.currency = m.currency
WHERE d.currency = 'USD'
"""


def upgrade() -> None:
    op.create_table('subscription_mrr',
    sa.Column('subscription_id', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('currency', sa.Text(), nullable=False),
    sa.Column('mrr', sa.Numeric(), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_until', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('subscription_id', name=op.f('pk_subscription_mrr')),
    schema='gold'
    )
    op.create_index('ix_subscription_mrr_account', 'subscription_mrr', ['account_id'], unique=False, schema='gold')
    op.execute(SUBSCRIPTION_MRR_DAILY)
    op.execute("COMMENT ON VIEW gold.subscription_mrr_daily IS 'MRR in USD defined once: a subscription''s MRR "
               "on each day of the data window on which it counts (gold.subscription_mrr), at that day''s rate "
               "(silver.fx_rates_daily); mrr_usd is empty on a day without a usable rate'")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS gold.subscription_mrr_daily")
    op.drop_index('ix_subscription_mrr_account', table_name='subscription_mrr', schema='gold')
    op.drop_table('subscription_mrr', schema='gold')

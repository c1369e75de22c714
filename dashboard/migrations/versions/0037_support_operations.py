"""the Operations page: the customers running each product and each onboarding milestone in gold

Revision ID: 0037
Revises: 0036

Issue 18. The Operations page (/support/insights) divides each product's tickets by the customers
running it (gold.product_customer, from silver.subscriptions) and shows onboarding delays by stage and
the accounts stuck in onboarding (gold.onboarding_stage, from silver.onboarding_milestones).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'product_customer',
        sa.Column('product_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('product_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('running_from', sa.Date(), nullable=False),
        sa.Column('running_until', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('product_id', 'account_id', name=op.f('pk_product_customer')),
        schema='gold',
    )
    op.create_table(
        'onboarding_stage',
        sa.Column('milestone_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('account_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('milestone', sa.Text(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=True),
        sa.Column('owner_team', sa.Text(), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=True),
        sa.Column('planned_date', sa.Date(), nullable=True),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('days_taken', sa.Integer(), nullable=True),
        sa.Column('days_late', sa.Integer(), nullable=True),
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('account_churned', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('milestone_id', name=op.f('pk_onboarding_stage')),
        schema='gold',
    )
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('onboarding_stage', schema='gold')
    op.drop_table('product_customer', schema='gold')

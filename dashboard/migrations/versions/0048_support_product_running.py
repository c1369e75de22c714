"""customers running each product per territory and period, for the Operations page's tickets per customer

Revision ID: 0048
Revises: 0047

Tickets per customer by product counted the customers running each product from gold.product_customer's
rows on every request (a scan of every customer's products). The gold stage now keeps the counts per
period, territory and region (gold.support_product_running); a scope of territories sums them, a scope
naming accounts still counts rows.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0048'
down_revision = '0047'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_product_running',
        sa.Column('period_days', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('product_name', sa.Text(), nullable=True),
        sa.Column('customers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('period_days', 'product_id', 'territory', 'region',
                                name=op.f('pk_support_product_running')),
        schema='gold',
    )


def downgrade() -> None:
    op.drop_table('support_product_running', schema='gold')

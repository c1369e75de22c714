"""retention, growth and revenue per segment by month, for the Strategy page

Revision ID: 0027
Revises: 0026

The Strategy page shows logo retention and net revenue retention over the trailing 12 months by
region, segment and product line, with the monthly trend, growth and gross revenue by segment, and
what set the customers who churned apart from those who stayed (price rises, service, competitors).
Worked out per request from the daily MRR of every subscription this took seconds at 100k
customers; the gold stage now keeps the figures per month and group (gold.retention_monthly). The
largest paying customers are read in MRR order from an index rather than sorted.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retention_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('region', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('segment', sa.Text(), nullable=False),
    sa.Column('product_line', sa.Text(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('start_customers', sa.Integer(), nullable=False),
    sa.Column('end_customers', sa.Integer(), nullable=False),
    sa.Column('retained_customers', sa.Integer(), nullable=False),
    sa.Column('start_mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('end_mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('retained_mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('invoiced_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('churned_price_rises', sa.Integer(), nullable=False),
    sa.Column('retained_price_rises', sa.Integer(), nullable=False),
    sa.Column('churned_tickets', sa.Integer(), nullable=False),
    sa.Column('retained_tickets', sa.Integer(), nullable=False),
    sa.Column('churned_sla_breaches', sa.Integer(), nullable=False),
    sa.Column('retained_sla_breaches', sa.Integer(), nullable=False),
    sa.Column('churned_csat_sum', sa.Double(), nullable=False),
    sa.Column('churned_csat_responses', sa.Integer(), nullable=False),
    sa.Column('retained_csat_sum', sa.Double(), nullable=False),
    sa.Column('retained_csat_responses', sa.Integer(), nullable=False),
    sa.Column('churned_competitor_mentions', sa.Integer(), nullable=False),
    sa.Column('retained_competitor_mentions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'region', 'territory', 'segment', 'product_line',
                            name=op.f('pk_retention_monthly')),
    schema='gold'
    )
    op.create_index('ix_customer_360_paying_mrr', 'customer_360', [sa.text('mrr_usd DESC'), 'account_id'],
                    unique=False, schema='gold', postgresql_where=sa.text('mrr_usd > 0'))


def downgrade() -> None:
    op.drop_index('ix_customer_360_paying_mrr', table_name='customer_360', schema='gold',
                  postgresql_where=sa.text('mrr_usd > 0'))
    op.drop_table('retention_monthly', schema='gold')

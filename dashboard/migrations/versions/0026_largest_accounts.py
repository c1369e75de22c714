"""the largest customers on past days, for Morning Coffee

Revision ID: 0026
Revises: 0025

Morning Coffee's largest accounts showed today's MRR whatever the period. Each customer's MRR on a
past day, worked out per request from every subscription, took about 400 ms at 100k customers. The
KPI-driver job reads every customer's MRR on the days it breaks down anyway; it now keeps the ten
largest of each region and territory on the last two days and on each month end of the last year.
The ten largest of any set of regions and territories are among them.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('largest_account',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('region', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', 'region', 'territory', 'rank', name=op.f('pk_largest_account')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_table('largest_account', schema='gold')

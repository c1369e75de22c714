"""the Queues page's speed percentiles, company-wide per period, in gold

Revision ID: 0044
Revises: 0043

At 100k accounts the speed panel of the Queues page (/support) sorted the 62k cases of its default 60 days
four times per request (median and p90 of first response and resolution, overall and per channel): 80 ms of
SQL of a 110 ms callback. Percentiles cannot be summed from smaller rows, so the gold stage keeps the
unfiltered views whole (gold.support_speed: per period of 7 or 30 days and the one before it, overall and per
channel, team and agent); a filtered, scoped or 90-day view is still worked out from the cases.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_speed',
        sa.Column('period_days', sa.Integer(), nullable=False),
        sa.Column('is_current', sa.Boolean(), nullable=False),
        sa.Column('dimension', sa.Text(), nullable=False),
        sa.Column('member', sa.Text(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.Column('frt_median', sa.Double(), nullable=True),
        sa.Column('frt_p90', sa.Double(), nullable=True),
        sa.Column('resolution_median', sa.Double(), nullable=True),
        sa.Column('resolution_p90', sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint('period_days', 'is_current', 'dimension', 'member', name=op.f('pk_support_speed')),
        schema='gold',
    )


def downgrade() -> None:
    op.drop_table('support_speed', schema='gold')

"""company-wide SLA met and breached per day, severity, channel and team, for the Queues page

Revision ID: 0049
Revises: 0048

The SLA panel counted the 35k tickets of its default 60 days on every request at 100k accounts (about
40 ms of SQL of a 100 ms callback). The gold stage now keeps the counts per opening day, severity, channel
and team (gold.support_sla_daily); a caller who sees every territory sums those, any other scope still
counts its tickets. Filled here from the cases already in gold.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'support_sla_daily',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('severity', sa.Text(), nullable=False),
        sa.Column('channel', sa.Text(), nullable=False),
        sa.Column('team', sa.Text(), nullable=False),
        sa.Column('met', sa.Integer(), nullable=False),
        sa.Column('breached', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'severity', 'channel', 'team', name=op.f('pk_support_sla_daily')),
        schema='gold',
    )
    op.execute("""
        INSERT INTO gold.support_sla_daily (day, severity, channel, team, met, breached)
        SELECT opened_day, COALESCE(severity, 'None'), channel, team,
               count(*) FILTER (WHERE sla_met), count(*) FILTER (WHERE sla_breached)
        FROM gold.support_case WHERE kind = 'ticket' AND sla_minutes IS NOT NULL
        GROUP BY 1, 2, 3, 4
    """)


def downgrade() -> None:
    op.drop_table('support_sla_daily', schema='gold')

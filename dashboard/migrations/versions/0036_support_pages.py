"""the Support pages: reopened tickets, and one row per case, the agents and hourly staffing in gold

Revision ID: 0036
Revises: 0035

Issue 18. The support desk's ticket export gains `reopen_count` (bronze as text, silver typed). The
Queues and Operations pages read three new gold tables: one row per ticket and chat conversation
(gold.support_case, with a partial index on the open ones for the live queue), the agents with their
team (gold.support_agent) and agents at work per day, hour and team (gold.support_staffing_hourly).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('support_tickets', sa.Column('reopen_count', sa.Text(), nullable=True), schema='bronze')
    op.add_column('tickets', sa.Column('reopen_count', sa.Integer(), nullable=True), schema='silver')
    tz = sa.DateTime(timezone=True)
    op.create_table(
        'support_case',
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('case_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('account_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('contact_id', sa.Text(), nullable=True),
        sa.Column('channel', sa.Text(), nullable=False),
        sa.Column('severity', sa.Text(), nullable=True),
        sa.Column('category', sa.Text(), nullable=True),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('product_id', sa.Text(), nullable=True),
        sa.Column('product_name', sa.Text(), nullable=True),
        sa.Column('agent_id', sa.Text(), nullable=True),
        sa.Column('agent_name', sa.Text(), nullable=True),
        sa.Column('team', sa.Text(), nullable=False),
        sa.Column('opened_at', tz, nullable=False),
        sa.Column('opened_day', sa.Date(), nullable=False),
        sa.Column('opened_weekday', sa.Integer(), nullable=False),
        sa.Column('opened_hour', sa.Integer(), nullable=False),
        sa.Column('first_response_at', tz, nullable=True),
        sa.Column('first_response_minutes', sa.Double(), nullable=True),
        sa.Column('resolved_at', tz, nullable=True),
        sa.Column('resolution_minutes', sa.Double(), nullable=True),
        sa.Column('sla_minutes', sa.Integer(), nullable=True),
        sa.Column('sla_due_at', tz, nullable=True),
        sa.Column('sla_met', sa.Boolean(), nullable=True),
        sa.Column('sla_breached', sa.Boolean(), nullable=True),
        sa.Column('status', sa.Text(), nullable=True),
        sa.Column('is_open', sa.Boolean(), nullable=False),
        sa.Column('waiting_since', tz, nullable=True),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.Column('csat', sa.Integer(), nullable=True),
        sa.Column('is_escalated', sa.Boolean(), nullable=True),
        sa.Column('reopen_count', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('kind', 'case_id', name=op.f('pk_support_case')),
        schema='gold',
    )
    op.create_index('ix_gold_support_case_opened_day', 'support_case', ['opened_day'], unique=False, schema='gold')
    op.create_index('ix_gold_support_case_account', 'support_case', ['account_id', 'opened_day'], unique=False,
                    schema='gold')
    op.create_index('ix_gold_support_case_open', 'support_case', ['territory', 'opened_at'], unique=False,
                    schema='gold', postgresql_where=sa.text('is_open'))
    op.create_table(
        'support_agent',
        sa.Column('agent_id', sa.Text(), nullable=False),
        sa.Column('full_name', sa.Text(), nullable=True),
        sa.Column('team', sa.Text(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_support_agent')),
        schema='gold',
    )
    op.create_table(
        'support_staffing_hourly',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('team', sa.Text(), nullable=False),
        sa.Column('agents', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'hour', 'team', name=op.f('pk_support_staffing_hourly')),
        schema='gold',
    )
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('support_staffing_hourly', schema='gold')
    op.drop_table('support_agent', schema='gold')
    op.drop_index('ix_gold_support_case_open', table_name='support_case', schema='gold')
    op.drop_index('ix_gold_support_case_account', table_name='support_case', schema='gold')
    op.drop_index('ix_gold_support_case_opened_day', table_name='support_case', schema='gold')
    op.drop_table('support_case', schema='gold')
    op.drop_column('tickets', 'reopen_count', schema='silver')
    op.drop_column('support_tickets', 'reopen_count', schema='bronze')

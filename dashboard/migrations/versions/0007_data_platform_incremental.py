"""incremental refresh state and gold.account_scores

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_silver_invoices_issue_date', 'invoices', ['issue_date'], unique=False, schema='silver')
    op.create_index('ix_silver_payments_paid_at', 'payments', ['paid_at'], unique=False, schema='silver')
    op.create_index('ix_silver_leads_created_at', 'leads', ['created_at'], unique=False, schema='silver')
    op.create_index('ix_silver_sends_sent_at', 'sends', ['sent_at'], unique=False, schema='silver')
    op.create_index('ix_silver_tickets_created_at', 'tickets', ['created_at'], unique=False, schema='silver')
    op.create_index('ix_silver_conversations_started_at', 'conversations', ['started_at'], unique=False, schema='silver')
    op.create_index('ix_silver_messages_conversation_id', 'messages', ['conversation_id'], unique=False, schema='silver')
    op.add_column('users', sa.Column('account_ids', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
                  schema='app')
    op.add_column('customer_360', sa.Column('regional_account_ids', sa.ARRAY(sa.Text()), nullable=False),
                  schema='gold')
    op.add_column('customer_360', sa.Column('regions', sa.ARRAY(sa.Text()), nullable=False), schema='gold')
    op.add_column('customer_360', sa.Column('identity_confidence', sa.Integer(), nullable=False), schema='gold')
    op.create_table('account_scores',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('churn_risk_score', sa.Double(), nullable=True),
    sa.Column('risk_level', sa.Text(), nullable=True),
    sa.Column('health_score', sa.Double(), nullable=True),
    sa.Column('engagement_score', sa.Double(), nullable=True),
    sa.Column('clv_usd', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_scores')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_index('ix_silver_invoices_issue_date', table_name='invoices', schema='silver')
    op.drop_index('ix_silver_payments_paid_at', table_name='payments', schema='silver')
    op.drop_index('ix_silver_leads_created_at', table_name='leads', schema='silver')
    op.drop_index('ix_silver_sends_sent_at', table_name='sends', schema='silver')
    op.drop_index('ix_silver_tickets_created_at', table_name='tickets', schema='silver')
    op.drop_index('ix_silver_conversations_started_at', table_name='conversations', schema='silver')
    op.drop_index('ix_silver_messages_conversation_id', table_name='messages', schema='silver')
    op.drop_table('account_scores', schema='gold')
    op.drop_column('users', 'account_ids', schema='app')
    for column in ('identity_confidence', 'regions', 'regional_account_ids'):
        op.drop_column('customer_360', column, schema='gold')

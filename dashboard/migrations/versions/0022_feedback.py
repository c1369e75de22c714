"""each customer's feedback, kept for the book; the alert centre's index

Revision ID: 0022
Revises: 0021

My accounts reads what a book of thousands of customers said: survey scores and comments, text
sentiment and the newest negative texts. Read from silver at request time this took seconds at
100k customers; the text job now keeps each customer's sums and newest items in gold.

The alert centre lists unresolved alerts by status, severity and age; the index reads them in that
order instead of sorting every unresolved alert.

gold.account_book gains the customer_360 columns the book filters, adds up and orders by, so a large
book reads one narrow table.

Every request of an account or sales manager works out their CRM book from gold.customer_360 (the
accounts they own, their region's territories); these indexes spare each one a scan of the table.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_item',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.CheckConstraint("kind IN ('comment', 'negative')", name=op.f('ck_feedback_item_kind')),
    sa.PrimaryKeyConstraint('account_id', 'kind', 'source', 'item_id', name=op.f('pk_feedback_item')),
    schema='gold'
    )
    op.create_index('ix_feedback_item_kind_at', 'feedback_item', ['kind', 'at', 'item_id'], unique=False,
                    schema='gold')
    op.create_index('ix_alert_status_severity', 'alert', ['status', 'severity', sa.text('opened_at DESC'), 'alert_id'],
                    unique=False, schema='gold')
    for column in (sa.Column('active', sa.Boolean(), server_default=sa.text('false'), nullable=False),
                   sa.Column('account_name', sa.Text(), server_default='', nullable=False),
                   sa.Column('territory', sa.Text(), nullable=True),
                   sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), server_default='0', nullable=False),
                   sa.Column('risk_level', sa.Text(), nullable=True),
                   sa.Column('last_interaction_at', sa.DateTime(timezone=True), nullable=True)):
        op.add_column('account_book', column, schema='gold')
    op.create_index('ix_account_book_active_mrr', 'account_book', [sa.text('mrr_usd DESC'), 'account_name', 'account_id'],
                    unique=False, schema='gold', postgresql_where=sa.text('active'))
    op.create_index('ix_customer_360_owner', 'customer_360', ['owner_user_id', 'account_id'], unique=False,
                    schema='gold')
    op.create_index('ix_customer_360_region_territory', 'customer_360', ['region', 'territory'], unique=False,
                    schema='gold')
    op.create_table('feedback_summary',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('nps_sum', sa.Double(), nullable=False),
    sa.Column('nps_responses', sa.Integer(), nullable=False),
    sa.Column('csat_sum', sa.Double(), nullable=False),
    sa.Column('csat_responses', sa.Integer(), nullable=False),
    sa.Column('texts', sa.Integer(), nullable=False),
    sa.Column('compound_sum', sa.Double(), nullable=False),
    sa.Column('negative_texts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_feedback_summary')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_index('ix_alert_status_severity', table_name='alert', schema='gold')
    op.drop_index('ix_customer_360_region_territory', table_name='customer_360', schema='gold')
    op.drop_index('ix_customer_360_owner', table_name='customer_360', schema='gold')
    op.drop_index('ix_account_book_active_mrr', table_name='account_book', schema='gold',
                  postgresql_where=sa.text('active'))
    for column in ('last_interaction_at', 'risk_level', 'mrr_usd', 'territory', 'account_name', 'active'):
        op.drop_column('account_book', column, schema='gold')
    op.drop_table('feedback_summary', schema='gold')
    op.drop_index('ix_feedback_item_kind_at', table_name='feedback_item', schema='gold')
    op.drop_table('feedback_item', schema='gold')

"""the Sales page: loss reasons, next steps and stage dates on deals, quotas, logged emails, and its gold tables

Revision ID: 0033
Revises: 0032

Issue 17 (part 1). The CRM export of deals gains `loss_reason`, `next_step` and `stage_entered_at`;
two new landing datasets hold each rep's quota per quarter (crm/quotas) and the emails reps log
with accounts (crm/emails). Bronze keeps them as text, silver typed. The Sales page reads three
new gold tables: one row per deal (gold.sales_opportunity), quotas with the rep's region and
territory (gold.sales_quota) and meetings and emails per rep and month (gold.rep_activity_monthly).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

# The landing columns as of this revision (bronze keeps every one as text).
BRONZE_COLUMNS = {
    "crm_quotas": ("user_id", "quarter_start", "quota_usd", "updated_at"),
    "crm_emails": ("email_id", "account_id", "user_id", "sent_at", "direction"),
}
NEW_DEAL_COLUMNS = ("loss_reason", "next_step", "stage_entered_at")


def upgrade() -> None:
    for table, columns in BRONZE_COLUMNS.items():
        op.create_table(
            table,
            *(sa.Column(name, sa.Text(), nullable=True) for name in columns),
            sa.Column('_load_id', sa.BigInteger(), nullable=False),
            sa.Column('_source_file', sa.Text(), nullable=False),
            sa.Column('_row_number', sa.Integer(), nullable=False),
            sa.Column('_loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
            schema='bronze',
        )
        op.create_index(op.f(f'ix_bronze_{table}__load_id'), table, ['_load_id'], unique=False, schema='bronze')
    for name in NEW_DEAL_COLUMNS:
        op.add_column('crm_opportunities', sa.Column(name, sa.Text(), nullable=True), schema='bronze')
    op.add_column('opportunities', sa.Column('loss_reason', sa.Text(), nullable=True), schema='silver')
    op.add_column('opportunities', sa.Column('next_step', sa.Text(), nullable=True), schema='silver')
    op.add_column('opportunities', sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True),
                  schema='silver')

    op.create_table(
        'quotas',
        sa.Column('user_id', sa.Text(), nullable=False),
        sa.Column('quarter_start', sa.Date(), nullable=False),
        sa.Column('quota_usd', sa.Numeric(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('user_id', 'quarter_start', name=op.f('pk_quotas')),
        schema='silver',
    )
    op.create_table(
        'emails',
        sa.Column('email_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('user_id', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('direction', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('email_id', name=op.f('pk_emails')),
        schema='silver',
    )
    op.create_index('ix_silver_emails_account_id', 'emails', ['account_id'], unique=False, schema='silver')

    op.create_table(
        'sales_opportunity',
        sa.Column('opportunity_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('account_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('owner_user_id', sa.Text(), nullable=False),
        sa.Column('owner_name', sa.Text(), nullable=True),
        sa.Column('opportunity_name', sa.Text(), nullable=True),
        sa.Column('stage', sa.Text(), nullable=False),
        sa.Column('product_line', sa.Text(), nullable=False),
        sa.Column('amount_usd', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('probability', sa.Double(), nullable=True),
        sa.Column('weighted_amount_usd', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('is_closed', sa.Boolean(), nullable=False),
        sa.Column('is_won', sa.Boolean(), nullable=False),
        sa.Column('created_day', sa.Date(), nullable=True),
        sa.Column('close_date', sa.Date(), nullable=True),
        sa.Column('cycle_days', sa.Integer(), nullable=True),
        sa.Column('stage_entered_day', sa.Date(), nullable=True),
        sa.Column('days_in_stage', sa.Integer(), nullable=True),
        sa.Column('last_activity_day', sa.Date(), nullable=True),
        sa.Column('loss_reason', sa.Text(), nullable=True),
        sa.Column('next_step', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('opportunity_id', name=op.f('pk_sales_opportunity')),
        schema='gold',
    )
    op.create_index('ix_gold_sales_opportunity_territory_close', 'sales_opportunity', ['territory', 'close_date'],
                    unique=False, schema='gold')
    op.create_index('ix_gold_sales_opportunity_account', 'sales_opportunity', ['account_id'], unique=False,
                    schema='gold')
    op.create_table(
        'sales_quota',
        sa.Column('user_id', sa.Text(), nullable=False),
        sa.Column('quarter_start', sa.Date(), nullable=False),
        sa.Column('rep_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('quota_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'quarter_start', name=op.f('pk_sales_quota')),
        schema='gold',
    )
    op.create_table(
        'rep_activity_monthly',
        sa.Column('user_id', sa.Text(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('meetings', sa.Integer(), nullable=False),
        sa.Column('emails', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'month', 'region', 'territory', name=op.f('pk_rep_activity_monthly')),
        schema='gold',
    )
    # The tables are new: the next gold build works everything out again (a pending day before the
    # data window means a whole build), so they are filled before the page reads them.
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('rep_activity_monthly', schema='gold')
    op.drop_table('sales_quota', schema='gold')
    op.drop_index('ix_gold_sales_opportunity_account', table_name='sales_opportunity', schema='gold')
    op.drop_index('ix_gold_sales_opportunity_territory_close', table_name='sales_opportunity', schema='gold')
    op.drop_table('sales_opportunity', schema='gold')
    op.drop_index('ix_silver_emails_account_id', table_name='emails', schema='silver')
    op.drop_table('emails', schema='silver')
    op.drop_table('quotas', schema='silver')
    for name in ('stage_entered_at', 'next_step', 'loss_reason'):
        op.drop_column('opportunities', name, schema='silver')
    for name in reversed(NEW_DEAL_COLUMNS):
        op.drop_column('crm_opportunities', name, schema='bronze')
    for table in reversed(list(BRONZE_COLUMNS)):
        op.drop_index(op.f(f'ix_bronze_{table}__load_id'), table_name=table, schema='bronze')
        op.drop_table(table, schema='bronze')

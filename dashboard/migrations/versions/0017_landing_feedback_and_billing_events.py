"""survey responses, onboarding milestones, disputes, adjustments, price changes

Revision ID: 0017
Revises: 0016

New landing datasets for the persona questions on satisfaction, onboarding, billing accuracy and
pricing: support/surveys, crm/onboarding_milestones, crm/price_changes, billing/disputes and
billing/adjustments (bronze as received, silver typed and in USD), and the product a support
ticket is about.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The landing columns as of this revision (bronze keeps every one as text).
BRONZE_COLUMNS = {
    "support_surveys": ("survey_id", "account_id", "contact_id", "survey_type", "touchpoint", "sent_at",
                        "responded_at", "nps_score", "csat_score", "comment"),
    "crm_onboarding_milestones": ("milestone_id", "account_id", "milestone", "sequence", "owner_team",
                                  "planned_date", "completed_at"),
    "crm_price_changes": ("price_change_id", "subscription_id", "account_id", "product_id", "effective_date",
                          "old_mrr", "new_mrr", "currency", "reason"),
    "billing_disputes": ("dispute_id", "invoice_id", "account_id", "opened_at", "resolved_at", "reason", "amount",
                         "currency", "status"),
    "billing_adjustments": ("adjustment_id", "invoice_id", "account_id", "dispute_id", "kind", "amount", "currency",
                            "reason", "created_at"),
}


def _fx_columns() -> list[sa.Column]:
    return [sa.Column('fx_rate', sa.Numeric(), nullable=True),
            sa.Column('fx_rate_date', sa.Date(), nullable=True),
            sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True)]


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
    op.add_column('support_tickets', sa.Column('product_id', sa.Text(), nullable=True), schema='bronze')
    op.add_column('tickets', sa.Column('product_id', sa.Text(), nullable=True), schema='silver')

    op.create_table(
        'surveys',
        sa.Column('survey_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('contact_id', sa.Text(), nullable=True),
        sa.Column('survey_type', sa.Text(), nullable=False),
        sa.Column('touchpoint', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('nps_score', sa.Integer(), nullable=True),
        sa.Column('csat_score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('survey_id', name=op.f('pk_surveys')),
        schema='silver',
    )
    op.create_table(
        'onboarding_milestones',
        sa.Column('milestone_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('milestone', sa.Text(), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=True),
        sa.Column('owner_team', sa.Text(), nullable=True),
        sa.Column('planned_date', sa.Date(), nullable=True),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('milestone_id', name=op.f('pk_onboarding_milestones')),
        schema='silver',
    )
    op.create_table(
        'price_changes',
        sa.Column('price_change_id', sa.Text(), nullable=False),
        sa.Column('subscription_id', sa.Text(), nullable=True),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('product_id', sa.Text(), nullable=True),
        sa.Column('effective_date', sa.Date(), nullable=False),
        sa.Column('old_mrr', sa.Numeric(), nullable=False),
        sa.Column('new_mrr', sa.Numeric(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('old_mrr_usd', sa.Numeric(), nullable=True),
        sa.Column('new_mrr_usd', sa.Numeric(), nullable=True),
        *_fx_columns(),
        sa.PrimaryKeyConstraint('price_change_id', name=op.f('pk_price_changes')),
        schema='silver',
    )
    op.create_table(
        'disputes',
        sa.Column('dispute_id', sa.Text(), nullable=False),
        sa.Column('invoice_id', sa.Text(), nullable=True),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('amount', sa.Numeric(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), nullable=True),
        sa.Column('amount_usd', sa.Numeric(), nullable=True),
        *_fx_columns(),
        sa.PrimaryKeyConstraint('dispute_id', name=op.f('pk_disputes')),
        schema='silver',
    )
    op.create_table(
        'adjustments',
        sa.Column('adjustment_id', sa.Text(), nullable=False),
        sa.Column('invoice_id', sa.Text(), nullable=True),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('dispute_id', sa.Text(), nullable=True),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('amount', sa.Numeric(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('amount_usd', sa.Numeric(), nullable=True),
        *_fx_columns(),
        sa.PrimaryKeyConstraint('adjustment_id', name=op.f('pk_adjustments')),
        schema='silver',
    )


def downgrade() -> None:
    for table in ('adjustments', 'disputes', 'price_changes', 'onboarding_milestones', 'surveys'):
        op.drop_table(table, schema='silver')
    op.drop_column('tickets', 'product_id', schema='silver')
    op.drop_column('support_tickets', 'product_id', schema='bronze')
    for table in reversed(BRONZE_COLUMNS):
        op.drop_index(op.f(f'ix_bronze_{table}__load_id'), table_name=table, schema='bronze')
        op.drop_table(table, schema='bronze')

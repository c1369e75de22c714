"""the Receivables page: each unpaid invoice and each account's disputes, notes and credit hold in gold

Revision ID: 0041
Revises: 0040

Issue 19. The Receivables page (/billing) lists the invoices behind each ageing bucket with their
segment and account manager (gold.receivable_invoice), and ranks the accounts disputing invoices or
getting credit notes, and those on credit hold with the MRR and pipeline at stake (gold.billing_account),
and draws days sales outstanding and billing accuracy (invoices without a later credit or debit
note) per month (gold.receivables_monthly), and forecasts collections from each customer's median
payment delay (gold.receivable_invoice).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0041'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'receivable_invoice',
        sa.Column('invoice_id', sa.Text(), nullable=False),
        sa.Column('invoice_number', sa.Text(), nullable=True),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('account_name', sa.Text(), nullable=False),
        sa.Column('customer_id', sa.Text(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('segment', sa.Text(), nullable=False),
        sa.Column('account_manager', sa.Text(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('amount_usd', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('issue_date', sa.Date(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=True),
        sa.Column('days_overdue', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.Text(), nullable=False),
        sa.Column('disputed', sa.Boolean(), nullable=False),
        sa.Column('payment_delay_days', sa.Double(), nullable=False),
        sa.Column('delay_from_history', sa.Boolean(), nullable=False),
        sa.Column('expected_paid_on', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('invoice_id', name=op.f('pk_receivable_invoice')),
        schema='gold',
    )
    op.create_table(
        'billing_account',
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('account_name', sa.Text(), nullable=False),
        sa.Column('customer_id', sa.Text(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('segment', sa.Text(), nullable=False),
        sa.Column('account_manager', sa.Text(), nullable=False),
        sa.Column('invoices_issued', sa.Integer(), nullable=False),
        sa.Column('disputes', sa.Integer(), nullable=False),
        sa.Column('open_disputes', sa.Integer(), nullable=False),
        sa.Column('disputed_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('credit_notes', sa.Integer(), nullable=False),
        sa.Column('credit_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('debit_notes', sa.Integer(), nullable=False),
        sa.Column('debit_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('last_dispute_on', sa.Date(), nullable=True),
        sa.Column('on_hold', sa.Boolean(), nullable=False),
        sa.Column('hold_placed_on', sa.Date(), nullable=True),
        sa.Column('hold_reason', sa.Text(), nullable=True),
        sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('open_pipeline_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('invoices_12m', sa.Integer(), nullable=False),
        sa.Column('adjusted_invoices_12m', sa.Integer(), nullable=False),
        sa.Column('csat_sum', sa.Integer(), nullable=False),
        sa.Column('csat_responses', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_billing_account')),
        schema='gold',
    )
    op.create_table(
        'receivables_monthly',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('month_end', sa.Date(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('receivables_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('invoiced_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('issued_invoices', sa.Integer(), nullable=False),
        sa.Column('adjusted_invoices', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'territory', name=op.f('pk_receivables_monthly')),
        schema='gold',
    )
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('receivables_monthly', schema='gold')
    op.drop_table('billing_account', schema='gold')
    op.drop_table('receivable_invoice', schema='gold')

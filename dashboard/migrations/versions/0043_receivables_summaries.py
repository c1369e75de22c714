"""the Receivables page's sums per customer territory and rankings per customer in gold, and indexes for
the overdue invoices grid

Revision ID: 0043
Revises: 0042

At 100k accounts every panel of the Receivables page (/billing) summed the 112k unpaid invoices or 99k
billing accounts on each request (counting distinct customers in sorts that spilled to disk, once per
grouping) and worked the as-of day out from every invoice: 110-800 ms a panel. The gold stage now keeps
the as-of day (gold.receivables_as_of), the invoices summed per customer territory and group
(gold.receivables_summary, gold.receivables_currency), each customer's overdue invoices, disputes, credit
hold and accuracy cohort (gold.receivable_customer, its rankings read in order from partial indexes) and
each territory's forecast, dispute, hold and cohort totals (gold.receivables_territory). So that counts of
customers add up across territories, each customer sits in its own territory (gold.customer_360's) with all
its invoices and accounts: gold.receivable_invoice and gold.billing_account take the customer's region and
territory instead of the regional account's. The overdue invoices grid reads its first 500 rows from an
index.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0043'
down_revision = '0042'
branch_labels = None
depends_on = None

OVERDUE = sa.text("bucket IN ('1-30', '31-60', '61-90', '90+')")


def upgrade() -> None:
    op.create_table(
        'receivables_as_of',
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('company_delay_days', sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint('as_of', name=op.f('pk_receivables_as_of')),
        schema='gold',
    )
    op.create_table(
        'receivables_summary',
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('dimension', sa.Text(), nullable=False),
        sa.Column('group_name', sa.Text(), nullable=False),
        sa.Column('outstanding_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('overdue_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('invoices', sa.Integer(), nullable=False),
        sa.Column('overdue_invoices', sa.Integer(), nullable=False),
        sa.Column('customers', sa.Integer(), nullable=False),
        sa.Column('overdue_customers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('territory', 'dimension', 'group_name', name=op.f('pk_receivables_summary')),
        schema='gold',
    )
    op.create_table(
        'receivables_currency',
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('bucket', sa.Text(), nullable=False),
        sa.Column('currency', sa.Text(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('amount_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint('territory', 'bucket', 'currency', name=op.f('pk_receivables_currency')),
        schema='gold',
    )
    op.create_table(
        'receivable_customer',
        sa.Column('customer_id', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('account_name', sa.Text(), nullable=False),
        sa.Column('account_manager', sa.Text(), nullable=False),
        sa.Column('overdue_days', sa.Integer(), nullable=False),
        sa.Column('overdue_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('overdue_invoices', sa.Integer(), nullable=False),
        sa.Column('oldest_due', sa.Date(), nullable=True),
        sa.Column('invoices_issued', sa.Integer(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('disputes', sa.Integer(), nullable=False),
        sa.Column('open_disputes', sa.Integer(), nullable=False),
        sa.Column('disputed_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('credit_notes', sa.Integer(), nullable=False),
        sa.Column('credit_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('debit_notes', sa.Integer(), nullable=False),
        sa.Column('last_dispute_on', sa.Date(), nullable=True),
        sa.Column('on_hold', sa.Boolean(), nullable=False),
        sa.Column('hold_mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('hold_pipeline_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('hold_placed_on', sa.Date(), nullable=True),
        sa.Column('hold_reason', sa.Text(), nullable=True),
        sa.Column('invoices_12m', sa.Integer(), nullable=False),
        sa.Column('adjusted_invoices_12m', sa.Integer(), nullable=False),
        sa.Column('csat_sum', sa.Integer(), nullable=False),
        sa.Column('csat_responses', sa.Integer(), nullable=False),
        sa.Column('churned', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_receivable_customer')),
        schema='gold',
    )
    op.create_table(
        'receivables_territory',
        sa.Column('territory', sa.Text(), nullable=False),
        *(sa.Column(name, sa.Numeric(precision=18, scale=2) if name.endswith('_usd') else sa.Integer(),
                    nullable=False)
          for name in ('expected_30_usd', 'expected_30_invoices', 'expected_60_usd', 'expected_60_invoices',
                       'expected_90_usd', 'expected_90_invoices', 'past_usual_usd', 'past_usual_invoices',
                       'invoices_without_history', 'disputes', 'open_disputes', 'disputed_usd', 'credit_notes',
                       'credit_usd', 'debit_notes', 'customers_disputing', 'frequent_customers',
                       'customers_on_hold', 'hold_mrr_usd', 'hold_pipeline_usd', 'affected_customers',
                       'affected_churned', 'affected_csat_sum', 'affected_csat_responses', 'other_customers',
                       'other_churned', 'other_csat_sum', 'other_csat_responses')),
        sa.PrimaryKeyConstraint('territory', name=op.f('pk_receivables_territory')),
        schema='gold',
    )
    rankings = {
        'overdue': ([sa.text('overdue_days DESC'), sa.text('overdue_usd DESC'), 'customer_id'], 'overdue_invoices > 0'),
        'events': ([sa.text('events DESC'), sa.text('disputed_usd DESC'), 'customer_id'], 'events > 0'),
        'hold': ([sa.text('hold_mrr_usd DESC'), 'customer_id'], 'on_hold'),
    }
    for name, (columns, where) in rankings.items():
        op.create_index(f'ix_receivable_customer_{name}', 'receivable_customer', columns, unique=False,
                        schema='gold', postgresql_where=sa.text(where))
        op.create_index(f'ix_receivable_customer_territory_{name}', 'receivable_customer', ['territory', *columns],
                        unique=False, schema='gold', postgresql_where=sa.text(where))
    op.create_index('ix_receivable_invoice_overdue', 'receivable_invoice',
                    [sa.text('days_overdue DESC'), sa.text('amount_usd DESC'), 'invoice_id'], unique=False,
                    schema='gold', postgresql_where=OVERDUE)
    op.create_index('ix_receivable_invoice_bucket_overdue', 'receivable_invoice',
                    ['bucket', sa.text('days_overdue DESC'), sa.text('amount_usd DESC'), 'invoice_id'], unique=False,
                    schema='gold', postgresql_where=OVERDUE)
    op.create_index('ix_receivable_invoice_customer', 'receivable_invoice', ['customer_id'], unique=False,
                    schema='gold')
    # The new tables are empty and the invoices' territories change: the next gold build works everything
    # out again (a pending day before the data window means a whole build).
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_index('ix_receivable_invoice_customer', table_name='receivable_invoice', schema='gold')
    op.drop_index('ix_receivable_invoice_bucket_overdue', table_name='receivable_invoice', schema='gold')
    op.drop_index('ix_receivable_invoice_overdue', table_name='receivable_invoice', schema='gold')
    op.drop_table('receivables_territory', schema='gold')
    op.drop_table('receivable_customer', schema='gold')
    op.drop_table('receivables_currency', schema='gold')
    op.drop_table('receivables_summary', schema='gold')
    op.drop_table('receivables_as_of', schema='gold')

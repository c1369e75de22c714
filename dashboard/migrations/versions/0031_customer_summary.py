"""customers summed per group (gold.customer_summary), churn factors per territory
(gold.churn_factor_territory), and indexes for the newest scoring day and the regions on offer

Revision ID: 0031
Revises: 0030

At 100k customers, Morning Coffee's risk distribution and headline and Strategy's lifetime value
grouped every active customer of gold.customer_360 on each request (55-180 ms), and "why customers
churn" expanded the factors of every HIGH-risk prediction (110 ms). The gold stage and the scoring
job now keep those sums per region x territory x churn level x health band (x product line for
CLV) and the factor counts per territory, a few hundred rows. The newest scoring time and the
regions of the daily tables were read by scanning them, and cross-sell potential sorted every
candidate: indexes let PostgreSQL read a few entries, in order.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_summary',
    sa.Column('region', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('product_line', sa.Text(), nullable=False),
    sa.Column('risk_level', sa.Text(), nullable=False),
    sa.Column('health_band', sa.Text(), nullable=False),
    sa.Column('active_customers', sa.Integer(), nullable=False),
    sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('newly_high_customers', sa.Integer(), nullable=False),
    sa.Column('clv_customers', sa.Integer(), nullable=False),
    sa.Column('clv_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('gap_customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('region', 'territory', 'product_line', 'risk_level', 'health_band',
                            name=op.f('pk_customer_summary')),
    schema='gold'
    )
    op.create_table('churn_factor_territory',
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('factor', sa.Text(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('territory', 'factor', name=op.f('pk_churn_factor_territory')),
    schema='gold'
    )
    op.create_index('ix_churn_prediction_scored_at', 'churn_prediction', ['scored_at'], unique=False, schema='gold')
    op.create_index('ix_daily_kpi_region', 'daily_kpi', ['region'], unique=False, schema='gold')
    op.create_index('ix_leads_daily_region', 'leads_daily', ['region'], unique=False, schema='gold')
    op.create_index('ix_account_book_active_gaps', 'account_book',
                    [sa.text('gap_count DESC'), sa.text('mrr_usd DESC'), 'account_id'], unique=False, schema='gold',
                    postgresql_where=sa.text('active AND gap_count > 0'))
    op.create_index('ix_account_book_active_ranking', 'account_book', ['account_id'], unique=False, schema='gold',
                    postgresql_include=['territory', 'gap_count', 'mrr_usd'], postgresql_where=sa.text('active'))
    op.create_index('ix_next_best_action_open_growth', 'next_best_action',
                    ['customer_id', 'estimated_impact_revenue_usd'], unique=False, schema='gold',
                    postgresql_where=sa.text("status = 'open' AND action_type = 'Growth'"))
    # The summaries are new: the next gold build works everything out again (a pending day before the
    # data window means a whole build), so they are filled before the pages read them.
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_index('ix_next_best_action_open_growth', table_name='next_best_action', schema='gold')
    op.drop_index('ix_account_book_active_ranking', table_name='account_book', schema='gold')
    op.drop_index('ix_account_book_active_gaps', table_name='account_book', schema='gold')
    op.drop_index('ix_leads_daily_region', table_name='leads_daily', schema='gold')
    op.drop_index('ix_daily_kpi_region', table_name='daily_kpi', schema='gold')
    op.drop_index('ix_churn_prediction_scored_at', table_name='churn_prediction', schema='gold')
    op.drop_table('churn_factor_territory', schema='gold')
    op.drop_table('customer_summary', schema='gold')

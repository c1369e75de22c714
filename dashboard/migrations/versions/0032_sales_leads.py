"""lead scores, repeat-purchase propensity and buying decline for the Leads and buyers page

Revision ID: 0032
Revises: 0031

The lead and repeat-purchase job (etl.intelligence.leads) writes gold.lead_score (open leads ranked
by a propensity-to-convert model), gold.repeat_purchase (BG/NBD P(alive) and expected purchases per
customer), gold.buying_decline (customers whose MRR fell or whose purchases stopped, and why) and
gold.sales_model_run (the lead model's validation AUC and the BG/NBD parameters of each run).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lead_score',
    sa.Column('lead_id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lead_name', sa.Text(), nullable=True),
    sa.Column('company', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('owner_user_id', sa.Text(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=True),
    sa.Column('lead_source', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('engagement_tier', sa.Text(), nullable=False),
    sa.Column('matched_account_id', sa.Text(), nullable=True),
    sa.Column('conversion_probability', sa.Double(), nullable=False),
    sa.Column('lead_score', sa.Double(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_lead_score')),
    schema='gold'
    )
    op.create_index('ix_lead_score_rank', 'lead_score', ['territory', 'lead_score'], unique=False, schema='gold')
    op.create_table('repeat_purchase',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('account_name', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('purchases', sa.Integer(), nullable=False),
    sa.Column('first_purchase', sa.Date(), nullable=True),
    sa.Column('last_purchase', sa.Date(), nullable=True),
    sa.Column('frequency', sa.Double(), nullable=False),
    sa.Column('recency_weeks', sa.Double(), nullable=False),
    sa.Column('age_weeks', sa.Double(), nullable=False),
    sa.Column('p_alive', sa.Double(), nullable=False),
    sa.Column('expected_purchases', sa.Double(), nullable=False),
    sa.Column('purchase_rank', sa.Integer(), nullable=False),
    sa.Column('last_expansion', sa.Date(), nullable=True),
    sa.Column('last_expansion_kind', sa.Text(), nullable=True),
    sa.Column('days_since_expansion', sa.Integer(), nullable=True),
    sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_repeat_purchase')),
    schema='gold'
    )
    op.create_table('buying_decline',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('account_name', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('decline_kind', sa.Text(), nullable=False),
    sa.Column('mrr_before_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('mrr_now_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('mrr_change_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('last_purchase', sa.Date(), nullable=True),
    sa.Column('price_rises', sa.Integer(), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('churn_risk_score', sa.Double(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_buying_decline')),
    schema='gold'
    )
    op.create_table('sales_model_run',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lead_validation_auc', sa.Double(), nullable=True),
    sa.Column('lead_train_rows', sa.Integer(), nullable=False),
    sa.Column('lead_validation_rows', sa.Integer(), nullable=False),
    sa.Column('lead_split_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lead_metrics', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('bgnbd', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('decline_window_days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_sales_model_run')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_table('sales_model_run', schema='gold')
    op.drop_table('buying_decline', schema='gold')
    op.drop_table('repeat_purchase', schema='gold')
    op.drop_index('ix_lead_score_rank', table_name='lead_score', schema='gold')
    op.drop_table('lead_score', schema='gold')

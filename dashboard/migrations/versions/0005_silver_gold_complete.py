"""silver and gold complete: the remaining silver tables, FX rate columns, the new gold tables

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_ageing',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('bucket', sa.Text(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('amount_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'bucket', name=op.f('pk_billing_ageing')),
    schema='gold'
    )
    op.create_table('campaign_hourly',
    sa.Column('campaign_id', sa.Text(), nullable=False),
    sa.Column('variant', sa.Text(), nullable=False),
    sa.Column('sent_hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'variant', 'sent_hour', 'channel', name=op.f('pk_campaign_hourly')),
    schema='gold'
    )
    op.create_table('daily_kpi_territory',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('region', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('segment', sa.Text(), nullable=False),
    sa.Column('active_customers', sa.Integer(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.Column('churned_customers', sa.Integer(), nullable=False),
    sa.Column('active_contacts', sa.Integer(), nullable=False),
    sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('invoiced_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('collected_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('day', 'region', 'territory', 'segment', name=op.f('pk_daily_kpi_territory')),
    schema='gold'
    )
    op.create_table('pipeline_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('stage', sa.Text(), nullable=False),
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('owner_user_id', sa.Text(), nullable=False),
    sa.Column('opportunities', sa.Integer(), nullable=False),
    sa.Column('amount_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('weighted_amount_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('won', sa.Integer(), nullable=False),
    sa.Column('lost', sa.Integer(), nullable=False),
    sa.Column('avg_cycle_days', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('month', 'stage', 'territory', 'owner_user_id', name=op.f('pk_pipeline_monthly')),
    schema='gold'
    )
    op.create_table('regional_monthly',
    sa.Column('region', sa.Text(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('active_customers', sa.Integer(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.Column('churned_customers', sa.Integer(), nullable=False),
    sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('invoiced_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('collected_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('mrr_growth_pct', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('region', 'month', name=op.f('pk_regional_monthly')),
    schema='gold'
    )
    op.create_table('support_hourly',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.Column('first_response_minutes_sum', sa.Double(), nullable=False),
    sa.Column('first_response_count', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('sla_met', sa.Integer(), nullable=False),
    sa.Column('sla_breached', sa.Integer(), nullable=False),
    sa.Column('csat_sum', sa.Integer(), nullable=False),
    sa.Column('csat_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hour', 'agent_id', 'channel', 'kind', name=op.f('pk_support_hourly')),
    schema='gold'
    )
    op.create_table('timeline_events',
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Text(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('event_title', sa.Text(), nullable=False),
    sa.Column('event_description', sa.Text(), nullable=True),
    sa.Column('event_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('related_amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_timeline_events')),
    schema='gold'
    )
    op.create_index('ix_timeline_events_customer_date', 'timeline_events', ['customer_id', sa.literal_column('event_date DESC')], unique=False, schema='gold')
    op.create_table('agents',
    sa.Column('agent_id', sa.Text(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('team', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agents')),
    schema='silver'
    )
    op.create_table('campaign_variants',
    sa.Column('campaign_id', sa.Text(), nullable=False),
    sa.Column('variant', sa.Text(), nullable=False),
    sa.Column('template_name', sa.Text(), nullable=True),
    sa.Column('message_text', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('campaign_id', 'variant', name=op.f('pk_campaign_variants')),
    schema='silver'
    )
    op.create_table('credit_holds',
    sa.Column('hold_id', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('hold_id', name=op.f('pk_credit_holds')),
    schema='silver'
    )
    op.create_table('opportunities',
    sa.Column('opportunity_id', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=True),
    sa.Column('owner_user_id', sa.Text(), nullable=True),
    sa.Column('opportunity_name', sa.Text(), nullable=True),
    sa.Column('stage', sa.Text(), nullable=True),
    sa.Column('amount', sa.Numeric(), nullable=True),
    sa.Column('currency', sa.Text(), nullable=True),
    sa.Column('probability', sa.Numeric(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('is_closed', sa.Boolean(), nullable=True),
    sa.Column('is_won', sa.Boolean(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amount_usd', sa.Numeric(), nullable=True),
    sa.Column('fx_rate', sa.Numeric(), nullable=True),
    sa.Column('fx_rate_date', sa.Date(), nullable=True),
    sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('opportunity_id', name=op.f('pk_opportunities')),
    schema='silver'
    )
    op.create_table('opportunity_line_items',
    sa.Column('line_item_id', sa.Text(), nullable=False),
    sa.Column('opportunity_id', sa.Text(), nullable=True),
    sa.Column('product_id', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Numeric(), nullable=True),
    sa.Column('unit_price', sa.Numeric(), nullable=True),
    sa.Column('currency', sa.Text(), nullable=True),
    sa.Column('unit_price_usd', sa.Numeric(), nullable=True),
    sa.Column('amount_usd', sa.Numeric(), nullable=True),
    sa.Column('fx_rate', sa.Numeric(), nullable=True),
    sa.Column('fx_rate_date', sa.Date(), nullable=True),
    sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('line_item_id', name=op.f('pk_opportunity_line_items')),
    schema='silver'
    )
    op.create_table('products',
    sa.Column('product_id', sa.Text(), nullable=False),
    sa.Column('product_name', sa.Text(), nullable=True),
    sa.Column('product_family', sa.Text(), nullable=True),
    sa.Column('list_price_usd', sa.Numeric(), nullable=True),
    sa.Column('is_recurring', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_products')),
    schema='silver'
    )
    op.create_table('touchpoints',
    sa.Column('touchpoint_id', sa.Text(), nullable=False),
    sa.Column('journey_id', sa.Text(), nullable=True),
    sa.Column('contact_id', sa.Text(), nullable=True),
    sa.Column('account_id', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Text(), nullable=True),
    sa.Column('campaign_id', sa.Text(), nullable=True),
    sa.Column('converted', sa.Boolean(), nullable=True),
    sa.Column('conversion_value_usd', sa.Numeric(), nullable=True),
    sa.PrimaryKeyConstraint('touchpoint_id', name=op.f('pk_touchpoints')),
    schema='silver'
    )
    op.create_table('usage_daily',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('usage_date', sa.Date(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=True),
    sa.Column('api_calls', sa.BigInteger(), nullable=True),
    sa.Column('data_gb', sa.Numeric(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'usage_date', name=op.f('pk_usage_daily')),
    schema='silver'
    )
    op.create_table('users',
    sa.Column('user_id', sa.Text(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=True),
    sa.Column('region', sa.Text(), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('manager_id', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_users')),
    schema='silver'
    )
    op.create_table('web_sessions',
    sa.Column('session_id', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contact_id', sa.Text(), nullable=True),
    sa.Column('account_id', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('medium', sa.Text(), nullable=True),
    sa.Column('campaign_id', sa.Text(), nullable=True),
    sa.Column('pageviews', sa.Integer(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('converted', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_web_sessions')),
    schema='silver'
    )
    # NOT NULL on a table that may hold rows: add with a default, then drop it (gold is rebuilt).
    op.add_column('customer_360', sa.Column('mrr_usd_year_ago', sa.Numeric(precision=18, scale=2),
                                            server_default=sa.text('0'), nullable=False), schema='gold')
    op.alter_column('customer_360', 'mrr_usd_year_ago', server_default=None, schema='gold')
    op.add_column('customer_360', sa.Column('mrr_yoy_growth_pct', sa.Double(), nullable=True), schema='gold')
    op.add_column('customer_360', sa.Column('churn_risk_score', sa.Double(), nullable=True), schema='gold')
    op.add_column('customer_360', sa.Column('risk_level', sa.Text(), nullable=True), schema='gold')
    op.add_column('customer_360', sa.Column('health_score', sa.Double(), nullable=True), schema='gold')
    op.add_column('customer_360', sa.Column('engagement_score', sa.Double(), nullable=True), schema='gold')
    op.add_column('customer_360', sa.Column('clv_usd', sa.Numeric(precision=18, scale=2), nullable=True), schema='gold')
    op.add_column('campaigns', sa.Column('fx_rate', sa.Numeric(), nullable=True), schema='silver')
    op.add_column('campaigns', sa.Column('fx_rate_date', sa.Date(), nullable=True), schema='silver')
    op.add_column('campaigns', sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True), schema='silver')
    op.add_column('invoices', sa.Column('fx_rate', sa.Numeric(), nullable=True), schema='silver')
    op.add_column('invoices', sa.Column('fx_rate_date', sa.Date(), nullable=True), schema='silver')
    op.add_column('invoices', sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True), schema='silver')
    op.add_column('payments', sa.Column('fx_rate', sa.Numeric(), nullable=True), schema='silver')
    op.add_column('payments', sa.Column('fx_rate_date', sa.Date(), nullable=True), schema='silver')
    op.add_column('payments', sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True), schema='silver')
    op.add_column('subscriptions', sa.Column('fx_rate', sa.Numeric(), nullable=True), schema='silver')
    op.add_column('subscriptions', sa.Column('fx_rate_date', sa.Date(), nullable=True), schema='silver')
    op.add_column('subscriptions', sa.Column('fx_rate_is_fallback', sa.Boolean(), nullable=True), schema='silver')


def downgrade() -> None:
    op.drop_column('subscriptions', 'fx_rate_is_fallback', schema='silver')
    op.drop_column('subscriptions', 'fx_rate_date', schema='silver')
    op.drop_column('subscriptions', 'fx_rate', schema='silver')
    op.drop_column('payments', 'fx_rate_is_fallback', schema='silver')
    op.drop_column('payments', 'fx_rate_date', schema='silver')
    op.drop_column('payments', 'fx_rate', schema='silver')
    op.drop_column('invoices', 'fx_rate_is_fallback', schema='silver')
    op.drop_column('invoices', 'fx_rate_date', schema='silver')
    op.drop_column('invoices', 'fx_rate', schema='silver')
    op.drop_column('campaigns', 'fx_rate_is_fallback', schema='silver')
    op.drop_column('campaigns', 'fx_rate_date', schema='silver')
    op.drop_column('campaigns', 'fx_rate', schema='silver')
    op.drop_column('customer_360', 'clv_usd', schema='gold')
    op.drop_column('customer_360', 'engagement_score', schema='gold')
    op.drop_column('customer_360', 'health_score', schema='gold')
    op.drop_column('customer_360', 'risk_level', schema='gold')
    op.drop_column('customer_360', 'churn_risk_score', schema='gold')
    op.drop_column('customer_360', 'mrr_yoy_growth_pct', schema='gold')
    op.drop_column('customer_360', 'mrr_usd_year_ago', schema='gold')
    op.drop_table('web_sessions', schema='silver')
    op.drop_table('users', schema='silver')
    op.drop_table('usage_daily', schema='silver')
    op.drop_table('touchpoints', schema='silver')
    op.drop_table('products', schema='silver')
    op.drop_table('opportunity_line_items', schema='silver')
    op.drop_table('opportunities', schema='silver')
    op.drop_table('credit_holds', schema='silver')
    op.drop_table('campaign_variants', schema='silver')
    op.drop_table('agents', schema='silver')
    op.drop_index('ix_timeline_events_customer_date', table_name='timeline_events', schema='gold')
    op.drop_table('timeline_events', schema='gold')
    op.drop_table('support_hourly', schema='gold')
    op.drop_table('regional_monthly', schema='gold')
    op.drop_table('pipeline_monthly', schema='gold')
    op.drop_table('daily_kpi_territory', schema='gold')
    op.drop_table('campaign_hourly', schema='gold')
    op.drop_table('billing_ageing', schema='gold')

"""the Operations page's figures per region and territory, customer and milestone in gold

Revision ID: 0045
Revises: 0044

At 100k accounts and a million support cases the Operations page (/support/insights) worked its
panels out from every ticket of the period on each request: the repeat issues' lag over 60 days of
tickets, the systemic issues' distinct accounts per category and week, each VIP's cases looked up
through its regional accounts in Python, and the onboarding medians and stuck accounts through every
customer's regional ids: 110-340 ms a panel. The gold stage now keeps them per region and territory
(an account sits in one, so a scope of territories sums rows): the regions (gold.support_region), the
distinct accounts per category and week (gold.support_category_weekly), each customer's repeat tickets
per period (gold.support_repeat_customer) and the tickets of the few customers over several
territories (gold.support_repeat_ticket), each VIP's open P1/P2 and breaches (gold.support_vip), the
onboarding milestones completed per team and their days counted per value so medians stay exact
(gold.onboarding_summary, gold.onboarding_days), and the stuck milestones with their customer
(gold.onboarding_stuck). The text job keeps each customer's sentiment per period
(gold.sentiment_period). A scope naming accounts still reads per-ticket rows.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'support_region', _text('region'), _text('territory'), _int('customers'),
        sa.PrimaryKeyConstraint('region', 'territory', name=op.f('pk_support_region')), schema='gold')
    op.create_table(
        'support_category_weekly', _text('region'), _text('territory'), _text('category'), _int('week'),
        _int('accounts'),
        sa.PrimaryKeyConstraint('region', 'territory', 'category', 'week', name=op.f('pk_support_category_weekly')),
        schema='gold')
    op.create_table(
        'support_repeat_customer', _int('period_days'), _text('customer_account_id'), _text('account_name'), _text('region'),
        _text('territory'), _int('tickets'), _int('repeat_tickets'), _text('categories', True),
        sa.Column('last_opened', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('period_days', 'customer_account_id', name=op.f('pk_support_repeat_customer')),
        schema='gold')
    op.create_index('ix_support_repeat_customer_rank', 'support_repeat_customer',
                    ['period_days', sa.text('repeat_tickets DESC'), sa.text('last_opened DESC'), 'customer_account_id'],
                    unique=False, schema='gold')
    op.create_table(
        'support_repeat_ticket', _text('case_id'), _text('customer_account_id'), _text('account_name'), _text('region'),
        _text('territory'), _text('category'), sa.Column('opened_day', sa.Date(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('customer_account_id', 'case_id', name=op.f('pk_support_repeat_ticket')), schema='gold')
    op.create_table(
        'support_vip', _text('account_id'), _text('account_name'), _text('region'), _text('territory', True),
        sa.Column('mrr_usd', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('threshold_usd', sa.Numeric(precision=18, scale=2), nullable=False), _int('open_p1'), _int('open_p2'),
        sa.Column('oldest_open', sa.Date(), nullable=True), _int('sla_breaches_7'), _int('sla_breaches_30'),
        _int('sla_breaches_90'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_support_vip')), schema='gold')
    op.create_index('ix_support_vip_territory', 'support_vip', ['territory'], unique=False, schema='gold')
    op.create_table(
        'onboarding_summary', _text('region'), _text('territory'), _text('milestone'), _text('owner_team'),
        _int('sequence', True), _int('completed'), _int('late'),
        sa.PrimaryKeyConstraint('region', 'territory', 'milestone', 'owner_team', name=op.f('pk_onboarding_summary')),
        schema='gold')
    op.create_table(
        'onboarding_days', _text('region'), _text('territory'), _text('milestone'), _text('measure'), _int('days'),
        _int('stages'),
        sa.PrimaryKeyConstraint('region', 'territory', 'milestone', 'measure', 'days',
                                name=op.f('pk_onboarding_days')),
        schema='gold')
    op.create_table(
        'onboarding_stuck', _text('milestone_id'), _text('account_id'), _text('customer_account_id'), _text('account_name'),
        _text('region'), _text('territory'), _text('milestone'), _int('sequence', True), _text('owner_team'),
        sa.Column('planned_date', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('customer_account_id', 'milestone_id', name=op.f('pk_onboarding_stuck')), schema='gold')
    op.create_table(
        'sentiment_period', _int('period_days'), _text('account_id'),
        sa.Column('period_end', sa.Date(), nullable=False), _int('texts', True),
        sa.Column('compound_sum', sa.Double(), nullable=True), _int('previous_texts', True),
        sa.Column('previous_compound_sum', sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint('period_days', 'account_id', name=op.f('pk_sentiment_period')), schema='gold')
    # The new tables are empty: the next gold build works everything out again (a pending day before the
    # data window means a whole build). Until the text job runs, the VIP panel reads gold.sentiment_daily.
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    for table in ('sentiment_period', 'onboarding_stuck', 'onboarding_days', 'onboarding_summary', 'support_vip',
                  'support_repeat_ticket', 'support_repeat_customer', 'support_category_weekly', 'support_region'):
        op.drop_table(table, schema='gold')

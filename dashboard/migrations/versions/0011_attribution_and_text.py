"""channel attribution, message sentiment, topics and client summaries

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_MODELS = "model IN ('first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov')"


def upgrade() -> None:
    op.create_table('attribution_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('journeys', sa.Integer(), nullable=False),
    sa.Column('conversions', sa.Double(), nullable=False),
    sa.Column('conversion_value_usd', sa.Double(), nullable=False),
    sa.Column('removal_effect', sa.Double(), nullable=True),
    sa.CheckConstraint(_MODELS, name=op.f('ck_attribution_monthly_model')),
    sa.PrimaryKeyConstraint('month', 'model', 'channel', name=op.f('pk_attribution_monthly')),
    schema='gold'
    )
    op.create_table('attribution_campaign',
    sa.Column('campaign_id', sa.Text(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.Column('journeys', sa.Integer(), nullable=False),
    sa.Column('conversions', sa.Double(), nullable=False),
    sa.Column('conversion_value_usd', sa.Double(), nullable=False),
    sa.Column('removal_effect', sa.Double(), nullable=True),
    sa.CheckConstraint(_MODELS, name=op.f('ck_attribution_campaign_model')),
    sa.PrimaryKeyConstraint('campaign_id', 'model', name=op.f('pk_attribution_campaign')),
    schema='gold'
    )
    op.create_table('text_score',
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('item_id', sa.Text(), nullable=False),
    sa.Column('text_md5', sa.Text(), nullable=False),
    sa.Column('compound', sa.Double(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('topics', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('keywords', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('message', 'ticket', 'reply')", name=op.f('ck_text_score_source')),
    sa.CheckConstraint("label IN ('positive', 'neutral', 'negative')", name=op.f('ck_text_score_label')),
    sa.PrimaryKeyConstraint('source', 'item_id', name=op.f('pk_text_score')),
    schema='gold'
    )
    op.create_table('sentiment_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('agent_id', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('texts', sa.Integer(), nullable=False),
    sa.Column('positive', sa.Integer(), nullable=False),
    sa.Column('neutral', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.Column('compound_sum', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'account_id', 'agent_id', 'source', name=op.f('pk_sentiment_daily')),
    schema='gold'
    )
    op.create_index('ix_sentiment_daily_account_day', 'sentiment_daily', ['account_id', 'day'],
                    unique=False, schema='gold')
    op.create_table('topic_trend',
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.Column('previous_mentions', sa.Integer(), nullable=False),
    sa.Column('change_pct', sa.Double(), nullable=True),
    sa.Column('avg_sentiment', sa.Double(), nullable=True),
    sa.Column('negative_share', sa.Double(), nullable=True),
    sa.CheckConstraint("kind IN ('topic', 'keyword')", name=op.f('ck_topic_trend_kind')),
    sa.PrimaryKeyConstraint('kind', 'term', 'period_days', name=op.f('pk_topic_trend')),
    schema='gold'
    )
    op.create_table('account_summary',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('facts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_summary')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_table('account_summary', schema='gold')
    op.drop_table('topic_trend', schema='gold')
    op.drop_index('ix_sentiment_daily_account_day', table_name='sentiment_daily', schema='gold')
    op.drop_table('sentiment_daily', schema='gold')
    op.drop_table('text_score', schema='gold')
    op.drop_table('attribution_campaign', schema='gold')
    op.drop_table('attribution_monthly', schema='gold')

"""intelligence I tables (churn model registry, scores, actions, alerts)

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_PRIORITIES = "('HIGH', 'MEDIUM', 'LOW')"


def _engagement_parts() -> list[sa.Column]:
    """The columns of dashboard.tables.intelligence.EngagementParts."""
    return [sa.Column('engagement_score', sa.Double(), nullable=False),
            sa.Column('tier', sa.Text(), nullable=False),
            sa.Column('recency', sa.Double(), nullable=False),
            sa.Column('frequency', sa.Double(), nullable=False),
            sa.Column('depth', sa.Double(), nullable=False)]


def upgrade() -> None:
    op.create_table('churn_model',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('trained_by', sa.Text(), nullable=False),
    sa.Column('data_first_day', sa.Date(), nullable=False),
    sa.Column('data_last_day', sa.Date(), nullable=False),
    sa.Column('train_cutoffs', postgresql.ARRAY(sa.Date()), nullable=False),
    sa.Column('validation_cutoff', sa.Date(), nullable=True),
    sa.Column('features', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('roc_auc', sa.Double(), nullable=True),
    sa.Column('metrics', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('artefact', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_churn_model')),
    schema='app'
    )
    op.create_table('churn_prediction',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('churn_probability', sa.Double(), nullable=False),
    sa.Column('churn_risk_score', sa.Double(), nullable=False),
    sa.Column('previous_churn_risk_score', sa.Double(), nullable=True),
    sa.Column('risk_level', sa.Text(), nullable=False),
    sa.Column('contributing_factors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('recommended_action', sa.Text(), nullable=True),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"risk_level IN {_PRIORITIES}", name=op.f('ck_churn_prediction_risk_level')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_churn_prediction')),
    schema='gold'
    )
    op.create_index('ix_churn_prediction_score', 'churn_prediction', [sa.text('churn_risk_score DESC')],
                    unique=False, schema='gold')
    op.create_table('account_health',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('health_score', sa.Double(), nullable=False),
    sa.Column('health_band', sa.Text(), nullable=False),
    sa.Column('payment_score', sa.Double(), nullable=False),
    sa.Column('support_score', sa.Double(), nullable=False),
    sa.Column('usage_score', sa.Double(), nullable=False),
    sa.Column('engagement_component', sa.Double(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_health')),
    schema='gold'
    )
    op.create_table('account_engagement',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('previous_engagement_score', sa.Double(), nullable=True),
    sa.Column('sharp_drop', sa.Boolean(), nullable=False),
    sa.Column('peer_group', sa.Text(), nullable=False),
    sa.Column('peer_percentile', sa.Double(), nullable=False),
    sa.Column('peer_median', sa.Double(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    *_engagement_parts(),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_engagement')),
    schema='gold'
    )
    op.create_table('contact_engagement',
    sa.Column('contact_id', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('peer_percentile', sa.Double(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    *_engagement_parts(),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_engagement')),
    schema='gold'
    )
    op.create_index('ix_contact_engagement_account', 'contact_engagement',
                    ['account_id', sa.text('engagement_score DESC')], unique=False, schema='gold')
    op.create_table('clv',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('historical_revenue_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('projected_12m_usd', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('projected_36m_usd', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('clv_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('p_alive', sa.Double(), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_clv')),
    schema='gold'
    )
    op.create_table('next_best_action',
    sa.Column('recommendation_id', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Text(), nullable=False),
    sa.Column('rule_id', sa.Text(), nullable=False),
    sa.Column('priority', sa.Text(), nullable=False),
    sa.Column('action_type', sa.Text(), nullable=False),
    sa.Column('action_title', sa.Text(), nullable=False),
    sa.Column('action_description', sa.Text(), nullable=False),
    sa.Column('expected_outcome', sa.Text(), nullable=False),
    sa.Column('estimated_impact_revenue_usd', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('condition_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('acted_by', sa.Text(), nullable=True),
    sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_status', sa.Text(), nullable=True),
    sa.CheckConstraint(f"priority IN {_PRIORITIES}", name=op.f('ck_next_best_action_priority')),
    sa.CheckConstraint("status IN ('open', 'scheduled', 'executed', 'dismissed', 'expired')",
                       name=op.f('ck_next_best_action_status')),
    sa.CheckConstraint("action_type IN ('Retention', 'Growth', 'Support', 'Billing')",
                       name=op.f('ck_next_best_action_action_type')),
    sa.PrimaryKeyConstraint('recommendation_id', name=op.f('pk_next_best_action')),
    schema='gold'
    )
    op.create_index('uq_next_best_action_open_condition', 'next_best_action', ['customer_id', 'rule_id'],
                    unique=True, schema='gold', postgresql_where=sa.text('condition_open'))
    op.create_index('ix_next_best_action_customer', 'next_best_action', ['customer_id', 'status'],
                    unique=False, schema='gold')
    op.create_table('action_execution',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('recommendation_id', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('acted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('outcome_status', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("action IN ('scheduled', 'executed', 'dismissed')", name=op.f('ck_action_execution_action')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_execution')),
    schema='app'
    )
    op.create_index('ix_action_execution_recommendation', 'action_execution', ['recommendation_id'],
                    unique=False, schema='app')
    op.create_table('alert',
    sa.Column('alert_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('sla_breach', 'payment_overdue', 'renewal_due', 'engagement_drop', "
                       "'churn_risk_jump')", name=op.f('ck_alert_kind')),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f('ck_alert_status')),
    sa.CheckConstraint(f"severity IN {_PRIORITIES}", name=op.f('ck_alert_severity')),
    sa.PrimaryKeyConstraint('alert_id', name=op.f('pk_alert')),
    schema='gold'
    )
    op.create_index('uq_alert_unresolved_kind', 'alert', ['account_id', 'kind'], unique=True, schema='gold',
                    postgresql_where=sa.text("status <> 'resolved'"))
    op.create_index('ix_alert_status_opened', 'alert', ['status', sa.text('opened_at DESC')],
                    unique=False, schema='gold')


def downgrade() -> None:
    op.drop_index('ix_alert_status_opened', table_name='alert', schema='gold')
    op.drop_index('uq_alert_unresolved_kind', table_name='alert', schema='gold')
    op.drop_table('alert', schema='gold')
    op.drop_index('ix_action_execution_recommendation', table_name='action_execution', schema='app')
    op.drop_table('action_execution', schema='app')
    op.drop_index('ix_next_best_action_customer', table_name='next_best_action', schema='gold')
    op.drop_index('uq_next_best_action_open_condition', table_name='next_best_action', schema='gold')
    op.drop_table('next_best_action', schema='gold')
    op.drop_table('clv', schema='gold')
    op.drop_index('ix_contact_engagement_account', table_name='contact_engagement', schema='gold')
    op.drop_table('contact_engagement', schema='gold')
    op.drop_table('account_engagement', schema='gold')
    op.drop_table('account_health', schema='gold')
    op.drop_index('ix_churn_prediction_score', table_name='churn_prediction', schema='gold')
    op.drop_table('churn_prediction', schema='gold')
    op.drop_table('churn_model', schema='app')

"""incremental refresh state and gold.account_scores

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('account_ids', sa.ARRAY(sa.Text()), server_default='{}', nullable=False),
                  schema='app')
    op.add_column('customer_360', sa.Column('regional_account_ids', sa.ARRAY(sa.Text()), nullable=False),
                  schema='gold')
    op.add_column('customer_360', sa.Column('regions', sa.ARRAY(sa.Text()), nullable=False), schema='gold')
    op.add_column('customer_360', sa.Column('identity_confidence', sa.Integer(), nullable=False), schema='gold')
    op.create_table('account_scores',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('churn_risk_score', sa.Double(), nullable=True),
    sa.Column('risk_level', sa.Text(), nullable=True),
    sa.Column('health_score', sa.Double(), nullable=True),
    sa.Column('engagement_score', sa.Double(), nullable=True),
    sa.Column('clv_usd', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_scores')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_table('account_scores', schema='gold')
    op.drop_column('users', 'account_ids', schema='app')
    for column in ('identity_confidence', 'regions', 'regional_account_ids'):
        op.drop_column('customer_360', column, schema='gold')

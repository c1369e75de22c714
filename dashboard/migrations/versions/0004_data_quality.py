"""data quality: check results and profile completeness

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dq_result',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=True),
    sa.Column('stage', sa.Text(), nullable=False),
    sa.Column('check_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('table_name', sa.Text(), nullable=False),
    sa.Column('column_name', sa.Text(), nullable=True),
    sa.Column('severity', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('observed', sa.Double(), nullable=True),
    sa.Column('threshold', sa.Double(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dq_result')),
    schema='app'
    )
    op.create_index('ix_dq_result_run_id', 'dq_result', ['run_id'], unique=False, schema='app')
    op.create_index('ix_dq_result_checked_at', 'dq_result', ['checked_at'], unique=False, schema='app')
    op.create_table('profile_completeness',
    sa.Column('entity_type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=False),
    sa.Column('completeness_pct', sa.Double(), nullable=False),
    sa.Column('missing_fields', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('entity_type', 'entity_id', name=op.f('pk_profile_completeness')),
    schema='app'
    )


def downgrade() -> None:
    op.drop_table('profile_completeness', schema='app')
    op.drop_index('ix_dq_result_checked_at', table_name='dq_result', schema='app')
    op.drop_index('ix_dq_result_run_id', table_name='dq_result', schema='app')
    op.drop_table('dq_result', schema='app')

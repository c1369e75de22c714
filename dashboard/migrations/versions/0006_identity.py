"""identity: silver.contact_master, silver.account_master, app.account_link_override

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_master',
    sa.Column('contact_id', sa.Text(), nullable=False),
    sa.Column('master_contact_id', sa.Text(), nullable=False),
    sa.Column('match_probability', sa.Double(), nullable=True),
    sa.Column('method', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_master')),
    schema='silver'
    )
    op.create_index(op.f('ix_silver_contact_master_master_contact_id'), 'contact_master', ['master_contact_id'],
                    unique=False, schema='silver')
    op.create_table('account_master',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('master_account_id', sa.Text(), nullable=False),
    sa.Column('confidence', sa.SmallInteger(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.CheckConstraint('confidence BETWEEN 0 AND 100', name=op.f('ck_account_master_confidence_range')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_master')),
    schema='silver'
    )
    op.create_index(op.f('ix_silver_account_master_master_account_id'), 'account_master', ['master_account_id'],
                    unique=False, schema='silver')
    op.create_table('account_link_override',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id_a', sa.Text(), nullable=False),
    sa.Column('account_id_b', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("action IN ('link', 'unlink')", name=op.f('ck_account_link_override_action')),
    sa.CheckConstraint('account_id_a <> account_id_b', name=op.f('ck_account_link_override_distinct_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_link_override')),
    schema='app'
    )
    op.create_index('ix_account_link_override_pair', 'account_link_override', ['account_id_a', 'account_id_b'],
                    unique=False, schema='app')


def downgrade() -> None:
    op.drop_index('ix_account_link_override_pair', table_name='account_link_override', schema='app')
    op.drop_table('account_link_override', schema='app')
    op.drop_index(op.f('ix_silver_account_master_master_account_id'), table_name='account_master', schema='silver')
    op.drop_table('account_master', schema='silver')
    op.drop_index(op.f('ix_silver_contact_master_master_contact_id'), table_name='contact_master', schema='silver')
    op.drop_table('contact_master', schema='silver')

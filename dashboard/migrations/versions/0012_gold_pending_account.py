"""accounts whose records changed since the last gold build

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gold_pending_account',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_gold_pending_account')),
    schema='app'
    )


def downgrade() -> None:
    op.drop_table('gold_pending_account', schema='app')

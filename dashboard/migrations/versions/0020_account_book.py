"""account book

Revision ID: 0020
Revises: 0019

gold.account_book: per customer, the next renewal date, the product lines held and the product
lines most of its peers (same segment and size band) hold that it lacks, for the My accounts page.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_book',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('next_renewal_date', sa.Date(), nullable=True),
    sa.Column('product_lines', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('peer_group', sa.Text(), nullable=False),
    sa.Column('peer_customers', sa.Integer(), nullable=False),
    sa.Column('gap_lines', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('gap_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_book')),
    schema='gold'
    )


def downgrade() -> None:
    op.drop_table('account_book', schema='gold')

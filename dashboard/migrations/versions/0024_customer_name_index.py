"""customers in name order

Revision ID: 0024
Revises: 0023

The data API's account and customer lists and the accounts export go by name; at 100k customers
sorting all of them for each page took longer than reading the page.
"""
from __future__ import annotations

from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_customer_360_name', 'customer_360', ['account_name', 'account_id'], unique=False,
                    schema='gold')


def downgrade() -> None:
    op.drop_index('ix_customer_360_name', table_name='customer_360', schema='gold')

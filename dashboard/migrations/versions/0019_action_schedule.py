"""a scheduled next-best action's day and owner

Revision ID: 0019
Revises: 0018

Scheduling a recommended action from the Customer 360 page picks the day it is due and the person
who owns it; the recommendation keeps both so everyone sees them, and each scheduling step in
app.action_execution keeps what was picked then.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

TABLES = (("gold", "next_best_action"), ("app", "action_execution"))


def upgrade() -> None:
    for schema, table in TABLES:
        op.add_column(table, sa.Column('scheduled_for', sa.Date(), nullable=True), schema=schema)
        op.add_column(table, sa.Column('owner', sa.Text(), nullable=True), schema=schema)


def downgrade() -> None:
    for schema, table in TABLES:
        op.drop_column(table, 'owner', schema=schema)
        op.drop_column(table, 'scheduled_for', schema=schema)

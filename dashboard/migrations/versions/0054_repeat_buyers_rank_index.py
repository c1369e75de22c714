"""the repeat buyers' ranking read from an index

Revision ID: 0054
Revises: 0053

The Leads and buyers page lists a scope's 500 customers most likely to buy again, with the scope's counts.
At 100k accounts that sorted all 99k rows of gold.repeat_purchase on each visit (about 100 ms for a caller
seeing every territory); this index hands them over in ranking order, with the territory and the
probability the counts need.
"""
from __future__ import annotations

from alembic import op

revision = '0054'
down_revision = '0053'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_repeat_purchase_rank ON gold.repeat_purchase "
               "(expected_purchases DESC, account_id) INCLUDE (territory, p_alive)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_repeat_purchase_rank")

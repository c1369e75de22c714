"""indexes for the Sales funnel's cohort and a few territories' renewals

Revision ID: 0050
Revises: 0049

At 100k accounts a sales manager's funnel read the 40k deals of their territories from the heap to keep
the 13k created in the last year (20 ms); an index on territory and creation day carrying the columns the
funnel groups by answers it from the index (3 ms). The renewals due of a few territories were found among
every territory's renewals of the window and filtered (44k rows for 7.6k); an index on territory and
renewal day of active customers finds them directly.
"""
from __future__ import annotations

from alembic import op

revision = '0050'
down_revision = '0049'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_sales_opportunity_cohort ON gold.sales_opportunity "
               "(territory, created_day) INCLUDE (region, is_won, is_closed, stage, owner_user_id, account_id)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_account_book_territory_renewal ON gold.account_book "
               "(territory, next_renewal_date) WHERE active")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_account_book_territory_renewal")
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_cohort")

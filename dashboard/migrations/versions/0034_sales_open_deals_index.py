"""the Sales page's open deals, and a territory's region, read from indexes of their own

Revision ID: 0034
Revises: 0033

Issue 17. Open deals are a small part of gold.sales_opportunity (a slice holds years of closed
ones), yet the pipeline, stale deals, forecast and open opportunities panels each read only them:
a partial index keeps those reads from scanning the slice's whole history. Every panel first finds
the regions of the caller's territories: (territory, region) answers that with index probes. The
reps leaderboard reads one quarter of gold.rep_activity_monthly: (month, territory) finds it.
"""
from __future__ import annotations

from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_sales_opportunity_open ON gold.sales_opportunity "
               "(territory, close_date) WHERE NOT is_closed")
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_sales_opportunity_territory_region ON gold.sales_opportunity "
               "(territory, region)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_rep_activity_monthly_month ON gold.rep_activity_monthly "
               "(month, territory)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_rep_activity_monthly_month")
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_territory_region")
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_open")

"""the Sales page reads a whole company's periods and open deals from indexes alone

Revision ID: 0053
Revises: 0052

At 100k accounts gold.sales_opportunity holds 235k deals, 34k of them open. A caller who sees every
territory (an executive) had each KPI, the quota attainment and the previous quarter's pipeline scan
the table or visit most of its 7,400 pages (the reps' leaderboard too); the open deals' panels (funnel, stale deals, forecast)
found the deals by a partial index and then read each from the table. The close-day index carries what
the period figures sum, and the open deals' index what their panels sum and filter on, so each reads
a hundred to a few hundred index pages (the KPIs: 6,600 pages to 110, the pipeline: 7,400 to 250).
"""
from __future__ import annotations

from alembic import op

revision = '0053'
down_revision = '0052'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_open")
    op.execute("CREATE INDEX ix_gold_sales_opportunity_open ON gold.sales_opportunity (territory, close_date) "
               "INCLUDE (amount_usd, weighted_amount_usd, created_day, stage, days_in_stage, last_activity_day, "
               "opportunity_id) WHERE NOT is_closed")
    op.execute("CREATE INDEX IF NOT EXISTS ix_gold_sales_opportunity_close ON gold.sales_opportunity (close_date) "
               "INCLUDE (is_won, is_closed, amount_usd, cycle_days, owner_user_id, owner_name, territory, created_day)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_close")
    op.execute("DROP INDEX IF EXISTS gold.ix_gold_sales_opportunity_open")
    op.execute("CREATE INDEX ix_gold_sales_opportunity_open ON gold.sales_opportunity (territory, close_date) "
               "WHERE NOT is_closed")

"""a scope's renewals, and the Critical accounts among them, read from indexes

Revision ID: 0055
Revises: 0054

The renewals views (Leads and buyers, My accounts) total a scope's renewals of the next months and count
the Critical health accounts among them. At 100k accounts that read 44k renewals from the table and joined
each to its health score (3,000 pages and a 44k-by-75k hash join for a caller seeing every territory). The
renewal index now carries what the totals and the scope need, and the health scores have an index by band,
so the totals read 330 index pages and the Critical count joins the 2,000 Critical accounts to them.
"""
from __future__ import annotations

from alembic import op

revision = '0055'
down_revision = '0054'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_account_book_active_renewal")
    op.execute("CREATE INDEX ix_account_book_active_renewal ON gold.account_book (next_renewal_date) "
               "INCLUDE (account_id, mrr_usd, risk_level, territory) WHERE active")
    op.execute("CREATE INDEX IF NOT EXISTS ix_account_health_band ON gold.account_health (health_band, account_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_account_health_band")
    op.execute("DROP INDEX IF EXISTS gold.ix_account_book_active_renewal")
    op.execute("CREATE INDEX ix_account_book_active_renewal ON gold.account_book (next_renewal_date) WHERE active")

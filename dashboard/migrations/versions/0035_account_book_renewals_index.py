"""renewals due found by index

Revision ID: 0035
Revises: 0034

Issue 17. My accounts' renewals view and the Leads and buyers page's renewals read the active
customers of a scope whose next renewal falls within 3 or 6 months: an index on the renewal day of
active customers finds them without reading the scope's whole book.
"""
from __future__ import annotations

from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_account_book_active_renewal ON gold.account_book "
               "(next_renewal_date) WHERE active")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS gold.ix_account_book_active_renewal")

"""room on the pages of the silver tables re-converted at each new as-of day's FX rate

Revision ID: 0013
Revises: 0012

A new as-of day rewrites the USD columns of every subscription and of the open and
future-dated deals. With free space on each page PostgreSQL writes the new row version
on the same page (a HOT update: no index entry, no page elsewhere), which makes the daily
UPDATE about three times faster and keeps the tables from growing. Rows already stored
get the room at the next full build, which truncates and refills the tables.
"""
from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FILLFACTOR = {"subscriptions": 50, "opportunities": 80, "opportunity_line_items": 80}


def upgrade() -> None:
    for table, percent in FILLFACTOR.items():
        op.execute(f"ALTER TABLE silver.{table} SET (fillfactor = {percent})")


def downgrade() -> None:
    for table in FILLFACTOR:
        op.execute(f"ALTER TABLE silver.{table} RESET (fillfactor)")

"""quarantined rows know their key and what they wait for

Revision ID: 0014
Revises: 0013

A row quarantined because its parent was quarantined, or because no exchange rate near its
day exists yet, is not bad in itself: it comes back when the parent or the rate arrives.
`record_key` is the row's own key (so its children can find it), `waiting_on` the dataset
whose arrival releases it and `waiting_key` what must arrive there (a parent key, or
"<currency> <day>" for a rate).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("record_key", sa.Text()), schema="bronze")
    op.add_column("quarantine", sa.Column("waiting_on", sa.Text()), schema="bronze")
    op.add_column("quarantine", sa.Column("waiting_key", sa.Text()), schema="bronze")
    op.create_index("ix_bronze_quarantine_dataset_record_key", "quarantine", ["dataset", "record_key"],
                    schema="bronze", postgresql_where=sa.text("record_key IS NOT NULL"))
    op.create_index("ix_bronze_quarantine_waiting", "quarantine", ["dataset", "waiting_on"],
                    schema="bronze", postgresql_where=sa.text("waiting_on IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_bronze_quarantine_waiting", table_name="quarantine", schema="bronze")
    op.drop_index("ix_bronze_quarantine_dataset_record_key", table_name="quarantine", schema="bronze")
    for column in ("waiting_key", "waiting_on", "record_key"):
        op.drop_column("quarantine", column, schema="bronze")

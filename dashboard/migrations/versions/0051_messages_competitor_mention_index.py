"""a partial index of the inbound messages naming a competitor

Revision ID: 0051
Revises: 0050

gold.retention_monthly counts, per window, the customers whose inbound messages name a competitor. Every
refresh of the current month's window matched the phrases against each inbound message of its 13 months
(at 100k accounts, millions of regular-expression matches for a few thousand hits); this index holds just
the matching messages, matched once as they arrive, and the statement repeats its predicate to read them.
"""
from __future__ import annotations

from alembic import op

revision = '0051'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_silver_messages_competitor_mention ON silver.messages (sent_at) "
               "WHERE direction = 'inbound' AND body ~* "
               "'(competitor|quoted us|offer from|switch(ed)? to|went with|switch provider|another provider)'")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS silver.ix_silver_messages_competitor_mention")

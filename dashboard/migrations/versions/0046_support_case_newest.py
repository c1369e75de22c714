"""an index walking the support cases newest first, for the Operations page's sample subjects per topic

Revision ID: 0046
Revises: 0045

The recurring-issues panel shows each top topic's newest ticket subjects. It ranked every subject of the
period per topic (95 ms at 100k accounts); each topic now walks the period's cases newest first, in this
index's order, and stops at its few (5 ms).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0046'
down_revision = '0045'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_gold_support_case_newest', 'support_case',
                    [sa.text('opened_day DESC'), sa.text('opened_at DESC'), 'case_id'], schema='gold')


def downgrade() -> None:
    op.drop_index('ix_gold_support_case_newest', table_name='support_case', schema='gold')

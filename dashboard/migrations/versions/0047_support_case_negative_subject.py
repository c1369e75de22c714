"""each ticket's negative subject kept on gold.support_case, for the Operations page's complaints

Revision ID: 0047
Revises: 0046

A complaint is an escalated ticket or one whose subject the text job scored negative. The complaints panel
looked the label up in gold.text_score for each of the period's tickets: 17k index probes and 80 ms at
100k accounts. The gold build now copies the label onto the case, and the text job sets it as it scores,
so the panel reads the cases alone. Existing rows are filled here from the scores already kept.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('support_case', sa.Column('subject_negative', sa.Boolean(), server_default=sa.text('false'),
                                            nullable=False), schema='gold')
    op.execute("""
        UPDATE gold.support_case sc SET subject_negative = true
        FROM gold.text_score s
        WHERE sc.kind = 'ticket' AND s.source = 'ticket' AND s.item_id = sc.case_id AND s.label = 'negative'
    """)


def downgrade() -> None:
    op.drop_column('support_case', 'subject_negative', schema='gold')

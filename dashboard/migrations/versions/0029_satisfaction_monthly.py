"""satisfaction and its correlation sums per month and customer group in gold.retention_monthly

Revision ID: 0029
Revises: 0028

Strategy's satisfaction panel read every customer's survey sums and MRR on each request (290 ms at
100k customers) and showed the latest 12 months only. gold.retention_monthly now carries, per month
and customer group, the survey responses of the window and the sums that give Pearson's r between
a customer's score and its retention or MRR growth exactly for any scope, so the panel reads a few
hundred rows and can show the trend. The table is refreshed from the first changed day on from now
on, so the rows already there are worked out again whole at the next gold build.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

COLUMNS = (('nps_sum', sa.Double()), ('nps_responses', sa.Integer()), ('csat_sum', sa.Double()),
           ('csat_responses', sa.Integer()),
           *[(f'{score}_cohort_{part}', sa.Integer() if part == 'n' else sa.Double())
             for score in ('nps', 'csat')
             for part in ('n', 'x', 'xx', 'retained', 'x_retained', 'growth', 'growth_sq', 'x_growth')])


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column('retention_monthly', sa.Column(name, kind, nullable=False, server_default='0'), schema='gold')
        op.alter_column('retention_monthly', name, server_default=None, schema='gold')
    # The rows kept so far lack these figures: the next gold build works everything out again
    # (a pending day before the data window means a whole build).
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.retention_monthly)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column('retention_monthly', name, schema='gold')

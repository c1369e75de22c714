"""identity counted once per build

Revision ID: 0023
Revises: 0022

The data-quality page counted every contact and account link on each view, half a second at 100k
customers; the identity build now counts them once into silver.identity_summary. The upgrade counts
the links already stored, so the page shows them before the next build.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# As etl/identity/store.py's IDENTITY_SUMMARY_SQL when this revision was written.
COUNT_STORED_LINKS = """
INSERT INTO silver.identity_summary (entity, kind, label, records)
WITH links AS (
    SELECT 'people' AS entity, master_contact_id AS master,
           COALESCE(CAST(floor(least(match_probability, 1.0) * 100) AS integer), -1) AS percent, method
    FROM silver.contact_master
    UNION ALL
    SELECT 'accounts', master_account_id, COALESCE(CAST(confidence AS integer), -1), method FROM silver.account_master
), sized AS (
    SELECT links.*, count(*) OVER (PARTITION BY entity, master) AS group_size FROM links
)
SELECT entity, 'figure', 'records', count(*) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'figure', 'masters', count(DISTINCT master) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'figure', 'matched', count(*) FILTER (WHERE group_size > 1) FROM sized GROUP BY entity
UNION ALL SELECT entity, 'confidence', CAST(percent AS text), count(*) FROM sized WHERE method <> 'single'
          GROUP BY entity, percent
UNION ALL SELECT entity, 'method', method, count(*) FROM sized GROUP BY entity, method
"""


def upgrade() -> None:
    op.create_table('identity_summary',
    sa.Column('entity', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('records', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('entity', 'kind', 'label', name=op.f('pk_identity_summary')),
    schema='silver'
    )
    op.execute(COUNT_STORED_LINKS)


def downgrade() -> None:
    op.drop_table('identity_summary', schema='silver')

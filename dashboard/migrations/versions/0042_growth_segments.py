"""the Growth page's segments: contacts' custom attributes from the CRM, and contacts per segment in gold

Revision ID: 0042
Revises: 0041

The CRM contacts export gains an optional `attributes` column, the CRM's custom fields as a JSON
object ({"tier": "gold", "newsletter": true}): kept as text in bronze.crm_contacts and as jsonb in
silver.contacts (a value that is not an object of scalar values is quarantined with the reason). The
Growth page (/marketing/growth) counts contacts per built-in segment (VIP, Lead, Churned) and per
attribute key = value, by month of creation and territory (gold.contact_segment_monthly), so a new
attribute key shows with no code change.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('crm_contacts', sa.Column('attributes', sa.Text(), nullable=True), schema='bronze')
    op.add_column('contacts', sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='silver')
    op.create_table(
        'contact_segment_monthly',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('segment_key', sa.Text(), nullable=False),
        sa.Column('segment_value', sa.Text(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('contacts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'territory', 'kind', 'segment_key', 'segment_value',
                                name=op.f('pk_contact_segment_monthly')),
        schema='gold',
    )
    # Gold fills the new table on its next run.
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('contact_segment_monthly', schema='gold')
    op.drop_column('contacts', 'attributes', schema='silver')
    op.drop_column('crm_contacts', 'attributes', schema='bronze')

"""the Growth page: new contacts per day, each contact's country (from its phone) and contacts per country

Revision ID: 0039
Revises: 0038

Issue 19. The Growth page (/marketing/growth) shows new contacts per day, week and month
(gold.contact_daily, from silver.contacts) beside new leads (gold.leads_daily), and contacts by
country (gold.contact_country, worked out from each phone number's country calling code by the gold
stage, and gold.contact_country_territory, its counts per territory).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contact_daily',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('new_contacts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'region', 'territory', name=op.f('pk_contact_daily')),
        schema='gold',
    )
    op.create_table(
        'contact_country',
        sa.Column('contact_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('country_iso2', sa.Text(), nullable=True),
        sa.Column('country_iso3', sa.Text(), nullable=False),
        sa.Column('country_name', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_country')),
        schema='gold',
    )
    op.create_table(
        'contact_country_territory',
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('country_iso3', sa.Text(), nullable=False),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('country_name', sa.Text(), nullable=False),
        sa.Column('contacts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('territory', 'country_iso3', name=op.f('pk_contact_country_territory')),
        schema='gold',
    )
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_table('contact_country_territory', schema='gold')
    op.drop_table('contact_country', schema='gold')
    op.drop_table('contact_daily', schema='gold')

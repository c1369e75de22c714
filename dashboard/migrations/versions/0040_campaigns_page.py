"""the Campaigns page: every replied campaign send with its contact in gold

Revision ID: 0040
Revises: 0039

Issue 19. The Campaigns page (/marketing) counts conversions (an opportunity of the replying contact's
account won within N days of the reply) and lists the contacts who replied most (gold.campaign_reply,
from silver.sends, silver.contacts and silver.accounts).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0040'
down_revision = '0039'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign_reply',
        sa.Column('send_id', sa.Text(), nullable=False),
        sa.Column('campaign_id', sa.Text(), nullable=False),
        sa.Column('variant', sa.Text(), nullable=False),
        sa.Column('channel', sa.Text(), nullable=False),
        sa.Column('contact_id', sa.Text(), nullable=True),
        sa.Column('contact_name', sa.Text(), nullable=True),
        sa.Column('email', sa.Text(), nullable=True),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.Column('account_id', sa.Text(), nullable=True),
        sa.Column('account_name', sa.Text(), nullable=True),
        sa.Column('region', sa.Text(), nullable=False),
        sa.Column('territory', sa.Text(), nullable=False),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replied_day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('send_id', name=op.f('pk_campaign_reply')),
        schema='gold',
    )
    op.create_index('ix_gold_campaign_reply_contact', 'campaign_reply', ['contact_id'], unique=False, schema='gold')
    op.execute("""
        INSERT INTO app.source_watermark (source, dataset, value)
        SELECT 'gold', 'pending_since', '0001-01-01' WHERE EXISTS (SELECT 1 FROM gold.customer_360)
        ON CONFLICT (source, dataset) DO UPDATE SET value = EXCLUDED.value
    """)


def downgrade() -> None:
    op.drop_index('ix_gold_campaign_reply_contact', table_name='campaign_reply', schema='gold')
    op.drop_table('campaign_reply', schema='gold')

"""engagement radar: contact details and previous score on gold.contact_engagement, and score history

Revision ID: 0030
Revises: 0029

The Engagement radar page (/sales/engagement) shows each contact's trend and the sharp drops of
customers with what fell and since when. The scoring job now keeps, per contact, the score 30 days
earlier and the master contact's name, title, email and phone (so the page reads gold only), and
keeps each customer's daily engagement score and its three parts in gold.engagement_history.
Indexes read a tier's most engaged customers and contacts in order, and the history's newest day;
gold.engagement_band counts customers and contacts per territory, tier and 0.01 score band, so the
tiers and the distribution read a few hundred rows, not every contact.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, kind in (('contact_name', sa.Text()), ('job_title', sa.Text()), ('email', sa.Text()),
                       ('phone', sa.Text()), ('previous_engagement_score', sa.Double())):
        op.add_column('contact_engagement', sa.Column(name, kind, nullable=True), schema='gold')
    op.create_table('engagement_history',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('engagement_score', sa.Double(), nullable=False),
    sa.Column('tier', sa.Text(), nullable=False),
    sa.Column('recency', sa.Double(), nullable=False),
    sa.Column('frequency', sa.Double(), nullable=False),
    sa.Column('depth', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'as_of', name=op.f('pk_engagement_history')),
    schema='gold'
    )
    op.create_table('engagement_band',
    sa.Column('territory', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('band', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Text(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('territory', 'kind', 'band', 'tier', name=op.f('pk_engagement_band')),
    schema='gold'
    )
    op.create_index('ix_engagement_history_as_of', 'engagement_history', ['as_of'], unique=False, schema='gold')
    op.create_index('ix_account_engagement_tier_score', 'account_engagement',
                    ['tier', sa.text('engagement_score DESC'), 'account_id'], unique=False, schema='gold')
    op.create_index('ix_contact_engagement_tier_score', 'contact_engagement',
                    ['tier', sa.text('engagement_score DESC'), 'contact_id'], unique=False, schema='gold')


def downgrade() -> None:
    op.drop_index('ix_contact_engagement_tier_score', table_name='contact_engagement', schema='gold')
    op.drop_index('ix_account_engagement_tier_score', table_name='account_engagement', schema='gold')
    op.drop_index('ix_engagement_history_as_of', table_name='engagement_history', schema='gold')
    op.drop_table('engagement_history', schema='gold')
    op.drop_table('engagement_band', schema='gold')
    for name in ('previous_engagement_score', 'phone', 'email', 'job_title', 'contact_name'):
        op.drop_column('contact_engagement', name, schema='gold')

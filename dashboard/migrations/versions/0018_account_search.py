"""account search

Revision ID: 0018
Revises: 0017

gold.account_search: every term a customer can be found by (name, master id, regional ids, and
contact emails and phone digits for roles holding view_pii), with its trigrams under a GIN index.
The embedded PostgreSQL (pgserver) ships no pg_trgm, so the trigrams are a text[] cut by
gold.search_grams and searched with the built-in array GIN operator class: `grams @> the
fragment's grams` finds every term containing the fragment, as a pg_trgm index does.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# Every distinct 3-character piece of a text; no padding, so a fragment's pieces are a subset of the
# pieces of every text containing it. Immutable: a constant argument is cut once, when planning.
SEARCH_GRAMS = """
CREATE FUNCTION gold.search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(value, i, 3)), '{}')
    FROM generate_series(1, length(value) - 2) AS i
$$
"""


def upgrade() -> None:
    op.execute(SEARCH_GRAMS)
    op.create_table('account_search',
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('grams', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'kind', 'term', name=op.f('pk_account_search')),
    schema='gold'
    )
    op.create_index('ix_account_search_grams', 'account_search', ['grams'], unique=False, schema='gold',
                    postgresql_using='gin')
    op.create_index('ix_account_search_term', 'account_search', ['term'], unique=False, schema='gold',
                    postgresql_ops={'term': 'text_pattern_ops'})


def downgrade() -> None:
    op.drop_index('ix_account_search_term', table_name='account_search', schema='gold')
    op.drop_index('ix_account_search_grams', table_name='account_search', schema='gold')
    op.drop_table('account_search', schema='gold')
    op.execute("DROP FUNCTION gold.search_grams(text)")

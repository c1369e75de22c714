"""a user linked to a CRM user (books of business)

Revision ID: 0015
Revises: 0014

`crm_user_id` is the user's own record in the CRM (silver.users.user_id). An account manager's
scope then holds the customers they own in the CRM, a sales manager's the territories of their
CRM region, on top of what an admin assigns by name. Not a foreign key: silver is rebuilt from
the sources, and a link must survive a CRM user briefly missing from an export.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("crm_user_id", sa.Text()), schema="app")


def downgrade() -> None:
    op.drop_column("users", "crm_user_id", schema="app")

"""indexes for one customer's rows: tickets, payments, contacts and conversations

Revision ID: 0022
Revises: 0019

The Customer 360 view (page and GET /api/v1/customers/{id}) reads one customer's tickets and
payments (KPI series, SLA, lifetime-value inputs) and its contacts with their conversations. Without
these indexes each read scanned the whole table (about 45 ms each at medium scale, 100k accounts
would be worse); with them it is a few index probes.
"""
from __future__ import annotations

from alembic import op

revision = '0022'
down_revision = '0019'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_silver_tickets_account_id", "tickets", "account_id"),
    ("ix_silver_payments_account_id", "payments", "account_id"),
    ("ix_silver_contacts_account_id", "contacts", "account_id"),
    ("ix_silver_conversations_contact_id", "conversations", "contact_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False, schema='silver')


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table, schema='silver')

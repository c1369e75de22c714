"""indexes for one customer's rows

Revision ID: 0021
Revises: 0020

The Customer 360 pages (overview, journey, people) read one customer's rows from silver tables
by account, contact or invoice; without these indexes each read scans the whole table.
"""
from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# (schema, table, index name, columns)
INDEXES = (
    ("silver", "tickets", "ix_silver_tickets_account_id_created_at", ["account_id", "created_at"]),
    ("silver", "conversations", "ix_silver_conversations_account_id", ["account_id"]),
    ("silver", "conversations", "ix_silver_conversations_contact_id", ["contact_id"]),
    ("silver", "contacts", "ix_silver_contacts_account_id", ["account_id"]),
    ("silver", "replies", "ix_silver_replies_contact_id", ["contact_id"]),
    ("silver", "opportunities", "ix_silver_opportunities_account_id", ["account_id"]),
    ("silver", "disputes", "ix_silver_disputes_account_id", ["account_id"]),
    ("silver", "disputes", "ix_silver_disputes_invoice_id", ["invoice_id"]),
    ("silver", "onboarding_milestones", "ix_silver_onboarding_milestones_account_id", ["account_id"]),
    ("silver", "surveys", "ix_silver_surveys_account_id", ["account_id"]),
    ("silver", "payments", "ix_silver_payments_account_id", ["account_id"]),
    ("silver", "payments", "ix_silver_payments_invoice_id", ["invoice_id"]),
    ("silver", "adjustments", "ix_silver_adjustments_invoice_id", ["invoice_id"]),
    ("app", "action_execution", "ix_action_execution_customer", ["customer_id"]),
)


def upgrade() -> None:
    for schema, table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False, schema=schema)


def downgrade() -> None:
    for schema, table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, schema=schema)

"""A hand-made landing folder small enough to check figures by hand.

The as-of day is 2025-03-10 (the last FX rate day); EUR has no rate on 2025-03-05, so that
day uses the 2025-03-04 rate.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from dashboard.tables.landing import dataset

AS_OF = date(2025, 3, 10)
FIRST_DAY = date(2025, 3, 1)
EUR = {f"2025-03-{d:02d}": rate for d, rate in
       [(1, "1.05"), (2, "1.06"), (3, "1.07"), (4, "1.08"), (6, "1.10"), (7, "1.11"), (8, "1.12"),
        (9, "1.13"), (10, "1.20")]}
ZAR = {f"2025-03-{d:02d}": f"0.05{d:02d}" for d in range(1, 11)}


def fx_rows() -> list[list[str]]:
    rows = [[day, "EUR", rate] for day, rate in EUR.items()]
    rows += [[day, "ZAR", rate] for day, rate in ZAR.items()]
    rows += [[f"2025-03-{d:02d}", "USD", "1.0"] for d in range(1, 11)]
    return rows


# account_id parent_account_id account_name account_type industry region country territory
# owner_user_id currency employee_count created_at status churned_at updated_at
ACCOUNTS = [
    ["ACC-1", "", "Acme GmbH", "Enterprise", "Retail", "North America", "DE", "EU-DACH", "USR-1", "EUR", "900",
     "2025-01-15T09:00:00Z", "active", "", "2025-02-01T00:00:00Z"],  # stale version: region changed later
    ["ACC-1", "", "Acme GmbH", "Enterprise", "Retail", "Europe", "DE", "EU-DACH", "USR-1", "EUR", "900",
     "2025-01-15T09:00:00Z", "active", "", "2025-03-01T00:00:00Z"],
    ["ACC-2", "", "Zulu Traders", "SMB", "Retail", "South Africa", "ZA", "ZA-Gauteng", "USR-2", "ZAR", "12",
     "2025-02-20T10:00:00Z", "churned", "2025-03-06T15:30:00Z", "2025-03-06T15:30:00Z"],
    ["ACC-3", "", "Nowhere Inc", "", "", "", "US", "", "", "USD", "",
     "2025-03-01T00:00:00Z", "active", "", "2025-03-01T00:00:00Z"],
    ["ACC-4", "", "Broken Dates Ltd", "SMB", "Media", "Europe", "FR", "EU-France", "USR-1", "EUR", "5",
     "31/02/2025", "active", "", "2025-03-01T00:00:00Z"],
]
ACCOUNT_EXTRA_FIELD = ["ACC-5", "", "Split", "Name Ltd", "SMB", "Media", "Europe", "FR", "EU-France", "USR-1",
                       "EUR", "5", "2025-03-01T00:00:00Z", "active", "", "2025-03-01T00:00:00Z"]

CONTACTS = [  # contact_id account_id first last email phone country job_title is_primary created_at updated_at
              # attributes
    ["CON-1", "ACC-1", "Alice", "A", "old@example.com", "", "DE", "CTO", "true",
     "2025-01-20T08:00:00Z", "2025-01-20T08:00:00Z", '{"tier": "silver"}'],  # stale version
    ["CON-1", "ACC-1", "Alice", "A", "Alice.A@Example.COM", "", "DE", "CTO", "true",
     "2025-01-20T08:00:00Z", "2025-02-20T08:00:00Z",
     '{"tier": "gold", "newsletter": true, "lifecycle_stage": "customer"}'],
    ["CON-2", "ACC-1", "Bob", "B", "bob@example.com", "", "DE", "CFO", "false",
     "2025-03-05T23:59:00Z", "2025-03-05T23:59:00Z", '{"tier": " silver ", "persona": "CFO", "lifecycle_stage": "Lead"}'],
    ["CON-3", "ACC-2", "Carol", "C", "carol@example.co.za", "", "ZA", "Owner", "true",
     "2025-03-01T00:00:00Z", "2025-03-01T00:00:00Z", ""],
]

SUBSCRIPTIONS = [  # subscription_id account_id product_id start_date end_date mrr currency status updated_at
    ["SUB-1", "ACC-1", "PRD-1", "2025-02-01", "", "100.00", "EUR", "active", "2025-02-01T00:00:00Z"],
    ["SUB-2", "ACC-1", "PRD-2", "2025-03-03", "2025-03-08", "50.00", "EUR", "cancelled", "2025-03-08T00:00:00Z"],
    ["SUB-3", "ACC-2", "PRD-1", "2025-03-02", "2025-03-06", "1000.00", "ZAR", "cancelled", "2025-03-06T00:00:00Z"],
    ["SUB-4", "ACC-3", "PRD-3", "2025-03-09", "", "10.00", "USD", "active", "2025-03-09T00:00:00Z"],
    ["SUB-5", "ACC-3", "PRD-3", "2025-03-04", "2025-03-05", "N/A", "USD", "active", "2025-03-09T00:00:00Z"],
]

INVOICES = [  # invoice_id account_id invoice_number issue_date due_date amount currency status paid_at
              # is_disputed updated_at
    ["INV-1", "ACC-1", "N1", "2025-03-05", "2025-03-07", "200.00", "EUR", "overdue", "", "false",
     "2025-03-08T00:00:00Z"],
    ["INV-2", "ACC-2", "N2", "2025-03-02", "2025-03-20", "1000.00", "ZAR", "paid", "2025-03-04T10:00:00Z", "false",
     "2025-03-04T10:00:00Z"],
    ["INV-3", "ACC-1", "N3", "2025-03-02", "2025-03-04", "999.00", "EUR", "void", "", "false",
     "2025-03-03T00:00:00Z"],
    # Issued before the first rate day: converted at the first rate (EUR 1.05).
    ["INV-4", "ACC-1", "N4", "2025-02-15", "2025-03-01", "10.00", "EUR", "paid", "2025-02-20T00:00:00Z", "false",
     "2025-02-20T00:00:00Z"],
]

PAYMENTS = [  # payment_id invoice_id account_id paid_at amount currency method
    ["PAY-1", "INV-2", "ACC-2", "2025-03-04T10:00:00Z", "1000.00", "ZAR", "card"],
]

TICKETS = [  # ticket_id account_id contact_id created_at channel severity category subject
             # sla_first_response_minutes first_response_at resolved_at status csat agent_id is_escalated updated_at
             # product_id reopen_count
    ["TCK-1", "ACC-1", "CON-1", "2025-03-03T10:00:00Z", "email", "P2", "Billing", "Invoice, wrong", "60",
     "2025-03-03T10:30:00Z", "", "open", "", "AGT-1", "false", "2025-03-03T10:30:00Z", "", "0"],
    ["TCK-2", "ACC-1", "CON-1", "2025-03-03T12:00:00Z", "chat", "P3", "Technical", "Slow", "60",
     "2025-03-03T14:00:00Z", "2025-03-04T00:00:00Z", "solved", "5", "AGT-1", "false", "2025-03-04T00:00:00Z",
     "", "1"],
    ["TCK-3", "ACC-9", "", "2025-03-03T12:00:00Z", "chat", "P3", "Technical", "Orphan", "30",
     "", "", "pending", "", "", "false", "2025-03-04T00:00:00Z", "", ""],
]

CAMPAIGNS = [  # campaign_id campaign_name channel objective start_date end_date cost currency status
    ["CMP-1", "Spring promo", "email", "upsell", "2025-03-05", "", "500.00", "EUR", "active"],
]

SENDS = [  # send_id campaign_id variant contact_id channel sent_at delivered_at read_at replied_at status
    ["SND-1", "CMP-1", "A", "CON-1", "email", "2025-03-05T09:00:00Z", "2025-03-05T09:01:00Z",
     "2025-03-05T10:00:00Z", "2025-03-06T08:00:00Z", "replied"],
    ["SND-2", "CMP-1", "B", "CON-3", "email", "2025-03-05T09:00:00Z", "2025-03-05T09:01:00Z", "", "", "delivered"],
    ["SND-3", "CMP-1", "B", "CON-404", "email", "2025-03-05T09:00:00Z", "", "", "", "failed"],
]

LEADS = [  # lead_id created_at first last company email phone country region lead_source status owner
           # converted_account_id updated_at
    ["LEAD-1", "2025-03-02T08:00:00Z", "Dan", "D", "D Co", "DAN@D.CO", "", "DE", "Europe", "web", "converted",
     "USR-1", "ACC-1", "2025-03-03T00:00:00Z"],
    ["LEAD-2", "2025-03-02T09:00:00Z", "Eve", "E", "E Co", "", "", "DE", "Europe", "", "open",
     "USR-1", "", "2025-03-02T09:00:00Z"],
]


def write_csv(path: Path, columns: tuple[str, ...] | list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_tiny_landing(root: Path) -> Path:
    """Write the tiny landing folder under `root` and return it."""
    files = {
        ("billing", "fx_rates"): fx_rows(),
        ("crm", "accounts"): ACCOUNTS + [ACCOUNT_EXTRA_FIELD],
        ("crm", "contacts"): CONTACTS,
        ("crm", "subscriptions"): SUBSCRIPTIONS,
        ("crm", "leads"): LEADS,
        ("billing", "invoices"): INVOICES,
        ("billing", "payments"): PAYMENTS,
        ("support", "tickets"): TICKETS,
        ("marketing", "campaigns"): CAMPAIGNS,
        ("marketing", "sends"): SENDS,
    }
    for (system, name), rows in files.items():
        write_csv(root / system / f"{name}.csv", dataset(system, name).columns, rows)
    return root

"""Streaming CSV writers: one per landing file, fed column-wise in chunks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dashboard.tables.landing import dataset

QUOTED = "q"  # free text: quoted when it contains a comma, quote or newline

# Per-column printf formats; IDs are ints rendered with their prefix, everything else arrives as text.
LAYOUTS: dict[str, dict[str, str]] = {
    "crm/users": {"user_id": "USR-%04d", "full_name": QUOTED, "email": "%s", "role": "%s", "region": "%s",
                  "territory": "%s", "manager_id": "%s", "is_active": "%s", "updated_at": "%s"},
    "crm/accounts": {"account_id": "ACC-%06d", "parent_account_id": "%s", "account_name": QUOTED,
                     "account_type": "%s", "industry": "%s", "region": "%s", "country": "%s", "territory": "%s",
                     "owner_user_id": "USR-%04d", "currency": "%s", "employee_count": "%s", "created_at": "%s",
                     "status": "%s", "churned_at": "%s", "updated_at": "%s"},
    "crm/contacts": {"contact_id": "CON-%07d", "account_id": "ACC-%06d", "first_name": QUOTED,
                     "last_name": QUOTED, "email": "%s", "phone": "%s", "country": "%s", "job_title": QUOTED,
                     "is_primary": "%s", "created_at": "%s", "updated_at": "%s", "attributes": QUOTED},
    "crm/leads": {"lead_id": "LEAD-%07d", "created_at": "%s", "first_name": QUOTED, "last_name": QUOTED,
                  "company": QUOTED, "email": "%s", "phone": "%s", "country": "%s", "region": "%s",
                  "lead_source": "%s", "status": "%s", "owner_user_id": "USR-%04d", "converted_account_id": "%s",
                  "updated_at": "%s"},
    "crm/products": {"product_id": "PRD-%03d", "product_name": QUOTED, "product_family": "%s",
                     "list_price_usd": "%s", "is_recurring": "%s"},
    "crm/opportunities": {"opportunity_id": "OPP-%07d", "account_id": "ACC-%06d", "owner_user_id": "USR-%04d",
                          "opportunity_name": QUOTED, "stage": "%s", "amount": "%s", "currency": "%s",
                          "probability": "%d", "created_at": "%s", "close_date": "%s", "is_closed": "%s",
                          "is_won": "%s", "updated_at": "%s", "loss_reason": "%s",
                          "next_step": QUOTED, "stage_entered_at": "%s"},
    "crm/quotas": {"user_id": "USR-%04d", "quarter_start": "%s", "quota_usd": "%s", "updated_at": "%s"},
    "crm/emails": {"email_id": "EML-%08d", "account_id": "ACC-%06d", "user_id": "USR-%04d", "sent_at": "%s",
                   "direction": "%s"},
    "crm/opportunity_line_items": {"line_item_id": "OLI-%08d", "opportunity_id": "OPP-%07d",
                                   "product_id": "PRD-%03d", "quantity": "%d", "unit_price": "%s",
                                   "currency": "%s"},
    "crm/subscriptions": {"subscription_id": "SUB-%07d", "account_id": "ACC-%06d", "product_id": "PRD-%03d",
                          "start_date": "%s", "end_date": "%s", "mrr": "%s", "currency": "%s", "status": "%s",
                          "updated_at": "%s"},
    "crm/price_changes": {"price_change_id": "PCH-%07d", "subscription_id": "SUB-%07d",
                          "account_id": "ACC-%06d", "product_id": "PRD-%03d", "effective_date": "%s",
                          "old_mrr": "%s", "new_mrr": "%s", "currency": "%s", "reason": "%s"},
    "crm/onboarding_milestones": {"milestone_id": "ONB-%07d", "account_id": "ACC-%06d", "milestone": "%s",
                                  "sequence": "%d", "owner_team": "%s", "planned_date": "%s",
                                  "completed_at": "%s"},
    "crm/meetings": {"meeting_id": "MTG-%07d", "account_id": "ACC-%06d", "user_id": "USR-%04d",
                     "meeting_type": "%s", "scheduled_at": "%s", "duration_minutes": "%d", "outcome": "%s"},
    "support/agents": {"agent_id": "AGT-%04d", "full_name": QUOTED, "email": "%s", "team": QUOTED,
                       "is_active": "%s"},
    "support/tickets": {"ticket_id": "TCK-%08d", "account_id": "ACC-%06d", "contact_id": "%s",
                        "created_at": "%s", "channel": "%s", "severity": "%s", "category": "%s",
                        "subject": QUOTED, "sla_first_response_minutes": "%d", "first_response_at": "%s",
                        "resolved_at": "%s", "status": "%s", "csat": "%s", "agent_id": "%s",
                        "is_escalated": "%s", "updated_at": "%s", "product_id": "%s",
                        "reopen_count": "%d"},
    "support/conversations": {"conversation_id": "CNV-%08d", "account_id": "ACC-%06d",
                              "contact_id": "CON-%07d", "channel": "%s", "started_at": "%s",
                              "assigned_agent_id": "%s", "status": "%s", "closed_at": "%s"},
    "support/messages": {"message_id": "MSG-%09d", "conversation_id": "CNV-%08d", "sent_at": "%s",
                         "direction": "%s", "author_id": "%s", "body": QUOTED},
    "support/surveys": {"survey_id": "SRV-%08d", "account_id": "ACC-%06d", "contact_id": "CON-%07d",
                        "survey_type": "%s", "touchpoint": "%s", "sent_at": "%s", "responded_at": "%s",
                        "nps_score": "%s", "csat_score": "%s", "comment": QUOTED},
    "billing/invoices": {"invoice_id": "INV-%08d", "account_id": "ACC-%06d", "invoice_number": "%s",
                         "issue_date": "%s", "due_date": "%s", "amount": "%s", "currency": "%s", "status": "%s",
                         "paid_at": "%s", "is_disputed": "%s", "updated_at": "%s"},
    "billing/payments": {"payment_id": "PAY-%08d", "invoice_id": "INV-%08d", "account_id": "ACC-%06d",
                         "paid_at": "%s", "amount": "%s", "currency": "%s", "method": "%s"},
    "billing/credit_holds": {"hold_id": "HOLD-%06d", "account_id": "ACC-%06d", "placed_at": "%s",
                             "released_at": "%s", "reason": "%s"},
    "billing/disputes": {"dispute_id": "DSP-%07d", "invoice_id": "INV-%08d", "account_id": "ACC-%06d",
                         "opened_at": "%s", "resolved_at": "%s", "reason": "%s", "amount": "%s",
                         "currency": "%s", "status": "%s"},
    "billing/adjustments": {"adjustment_id": "ADJ-%07d", "invoice_id": "INV-%08d", "account_id": "ACC-%06d",
                            "dispute_id": "%s", "kind": "%s", "amount": "%s", "currency": "%s", "reason": "%s",
                            "created_at": "%s"},
    "billing/fx_rates": {"rate_date": "%s", "currency": "%s", "usd_per_unit": "%s"},
    "marketing/campaigns": {"campaign_id": "CMP-%04d", "campaign_name": QUOTED, "channel": "%s",
                            "objective": "%s", "start_date": "%s", "end_date": "%s", "cost": "%s",
                            "currency": "%s", "status": "%s"},
    "marketing/campaign_variants": {"campaign_id": "CMP-%04d", "variant": "%s", "template_name": "%s",
                                    "message_text": QUOTED},
    "marketing/sends": {"send_id": "SND-%09d", "campaign_id": "CMP-%04d", "variant": "%s",
                        "contact_id": "CON-%07d", "channel": "%s", "sent_at": "%s", "delivered_at": "%s",
                        "read_at": "%s", "replied_at": "%s", "status": "%s"},
    "marketing/replies": {"reply_id": "RPL-%08d", "send_id": "SND-%09d", "contact_id": "CON-%07d",
                          "received_at": "%s", "body": QUOTED},
    "marketing/touchpoints": {"touchpoint_id": "TP-%09d", "journey_id": "JRN-%08d", "contact_id": "%s",
                              "account_id": "%s", "occurred_at": "%s", "channel": "%s", "campaign_id": "%s",
                              "converted": "%s", "conversion_value_usd": "%s"},
    "product/usage_daily": {"account_id": "ACC-%06d", "usage_date": "%s", "active_users": "%d",
                            "sessions": "%d", "api_calls": "%d", "data_gb": "%s"},
    "web/sessions": {"session_id": "WS-%09d", "started_at": "%s", "contact_id": "%s", "account_id": "%s",
                     "source": "%s", "medium": "%s", "campaign_id": "%s", "pageviews": "%d",
                     "duration_seconds": "%d", "converted": "%s"},
}

ID_FORMATS = {"account": "ACC-%06d", "contact": "CON-%07d", "user": "USR-%04d", "agent": "AGT-%04d",
              "campaign": "CMP-%04d", "invoice": "INV-%08d", "ticket": "TCK-%08d", "opportunity": "OPP-%07d",
              "product": "PRD-%03d", "dispute": "DSP-%07d", "survey": "SRV-%08d"}


def csv_field(text: str) -> str:
    """Quote a field the way the csv module's QUOTE_MINIMAL would."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def ids(kind: str, values: np.ndarray | Sequence[int], null: np.ndarray | None = None) -> list[str]:
    """Prefixed ID strings for a nullable foreign key ('' where `null`)."""
    fmt = ID_FORMATS[kind]
    vals = np.asarray(values).tolist()
    if null is None:
        return [fmt % v for v in vals]
    return ["" if n else fmt % v for v, n in zip(vals, np.asarray(null).tolist(), strict=True)]


def bools(values: np.ndarray) -> list[str]:
    """'true'/'false' strings."""
    return np.where(np.asarray(values, dtype=bool), "true", "false").tolist()


def money(values: np.ndarray) -> list[float]:
    """Amounts rounded to cents, as floats whose repr has at most two decimals."""
    return np.round(np.asarray(values, dtype=np.float64), 2).tolist()


def nullable(values: np.ndarray, null: np.ndarray) -> list[str]:
    """Numbers as text with '' where `null`."""
    return ["" if n else str(v) for v, n in zip(np.asarray(values).tolist(), np.asarray(null).tolist(), strict=True)]


class Sink:
    """Appends rows of one landing file; the header comes from dashboard.tables.landing."""

    def __init__(self, out_dir: Path, key: str) -> None:
        system, name = key.split("/")
        self.key = key
        self.columns = dataset(system, name).columns
        layout = LAYOUTS[key]
        if tuple(layout) != self.columns:
            raise ValueError(f"layout for {key} does not match the contract columns")
        self._formats = [layout[c] for c in self.columns]
        self._quoted = [i for i, f in enumerate(self._formats) if f == QUOTED]
        self._row_format = ",".join("%s" if f == QUOTED else f for f in self._formats) + "\n"
        path = out_dir / system / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by close()
        self._file.write(",".join(self.columns) + "\n")
        self.rows = 0

    def write(self, cols: dict[str, Sequence]) -> None:
        """Append rows given as one sequence per column (all columns, same length)."""
        if set(cols) != set(self.columns):
            raise ValueError(f"{self.key}: columns {sorted(set(cols) ^ set(self.columns))} mismatch")
        data = [list(cols[c]) if not isinstance(cols[c], list) else cols[c] for c in self.columns]
        n = len(data[0])
        if any(len(d) != n for d in data):
            raise ValueError(f"{self.key}: ragged columns")
        if n == 0:
            return
        for i in self._quoted:
            data[i] = [csv_field(s) for s in data[i]]
        fmt = self._row_format
        self._file.write("".join([fmt % row for row in zip(*data, strict=True)]))
        self.rows += n

    def render(self, cols: dict[str, Sequence], i: int) -> list[str]:
        """Row i of a column batch as unquoted field strings (used to build malformed rows)."""
        out = []
        for c, f in zip(self.columns, self._formats, strict=True):
            out.append(str(cols[c][i]) if f == QUOTED else f % cols[c][i])
        return out

    def write_fields(self, rows: list[list[str]]) -> None:
        """Append raw rows of field strings (possibly the wrong number of them)."""
        self._file.write("".join(",".join(csv_field(f) for f in row) + "\n" for row in rows))
        self.rows += len(rows)

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


class Sinks:
    """All landing files of one generation run."""

    def __init__(self, out_dir: Path) -> None:
        self._sinks = {key: Sink(out_dir, key) for key in LAYOUTS}

    def __getitem__(self, key: str) -> Sink:
        return self._sinks[key]

    def row_counts(self) -> dict[str, int]:
        """Rows written per file, keyed 'system/name'."""
        return {k: s.rows for k, s in self._sinks.items()}

    def close(self) -> None:
        """Close every file."""
        for s in self._sinks.values():
            s.close()

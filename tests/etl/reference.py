"""An independent pandas reading of the landing CSVs, to check the SQL pipeline against.

Written from the definitions, not from the SQL: rows with the wrong field count are dropped,
values that do not parse as their type drop the row, the newest `updated_at` wins per key,
and amounts are converted with the latest rate on or before the day. MRR follows the one rule
gold.subscription_mrr_daily states (see `mrr_usd_on`): a subscription's MRR on a day at that
day's rate under the silver FX rules.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

# The semantic type of the columns the checks use, per dataset.
TYPES: dict[str, dict[str, str]] = {
    "billing/fx_rates": {"rate_date": "date", "usd_per_unit": "number"},
    "crm/accounts": {"employee_count": "number", "created_at": "timestamp", "churned_at": "timestamp",
                     "updated_at": "timestamp"},
    "crm/contacts": {"is_primary": "bool", "created_at": "timestamp", "updated_at": "timestamp",
                     "attributes": "json"},
    "crm/subscriptions": {"start_date": "date", "end_date": "date", "mrr": "number", "updated_at": "timestamp"},
    "billing/invoices": {"issue_date": "date", "due_date": "date", "amount": "number", "paid_at": "timestamp",
                         "is_disputed": "bool", "updated_at": "timestamp"},
    "support/tickets": {"created_at": "timestamp", "sla_first_response_minutes": "number",
                        "first_response_at": "timestamp", "resolved_at": "timestamp", "csat": "number",
                        "is_escalated": "bool", "updated_at": "timestamp", "reopen_count": "number"},
    "crm/opportunities": {"amount": "number", "probability": "number", "created_at": "timestamp",
                          "close_date": "date", "is_closed": "bool", "is_won": "bool", "updated_at": "timestamp",
                          "stage_entered_at": "timestamp"},
    "crm/quotas": {"quarter_start": "date", "quota_usd": "number", "updated_at": "timestamp"},
    "crm/meetings": {"scheduled_at": "timestamp", "duration_minutes": "number"},
    "crm/emails": {"sent_at": "timestamp"},
    "crm/users": {"is_active": "bool", "updated_at": "timestamp"},
    "crm/products": {"list_price_usd": "number", "is_recurring": "bool"},
    "crm/opportunity_line_items": {"quantity": "number", "unit_price": "number"},
    "marketing/sends": {"sent_at": "timestamp", "delivered_at": "timestamp", "read_at": "timestamp",
                        "replied_at": "timestamp"},
    "support/surveys": {"sent_at": "timestamp", "responded_at": "timestamp", "nps_score": "number",
                        "csat_score": "number"},
    "crm/onboarding_milestones": {"sequence": "number", "planned_date": "date", "completed_at": "timestamp"},
    "crm/price_changes": {"effective_date": "date", "old_mrr": "number", "new_mrr": "number"},
    "billing/disputes": {"opened_at": "timestamp", "resolved_at": "timestamp", "amount": "number"},
    "billing/adjustments": {"amount": "number", "created_at": "timestamp"},
    "billing/credit_holds": {"placed_at": "timestamp", "released_at": "timestamp"},
    "crm/leads": {"created_at": "timestamp", "updated_at": "timestamp"},
    "support/conversations": {"started_at": "timestamp", "closed_at": "timestamp"},
    "support/messages": {"sent_at": "timestamp"},
    "support/agents": {"is_active": "bool"},
}
KEYS = {"billing/fx_rates": ["rate_date", "currency"], "crm/accounts": ["account_id"],
        "crm/contacts": ["contact_id"], "crm/subscriptions": ["subscription_id"],
        "billing/invoices": ["invoice_id"], "support/tickets": ["ticket_id"],
        "crm/opportunities": ["opportunity_id"], "marketing/sends": ["send_id"],
        "support/surveys": ["survey_id"], "crm/onboarding_milestones": ["milestone_id"],
        "crm/price_changes": ["price_change_id"], "billing/disputes": ["dispute_id"],
        "billing/adjustments": ["adjustment_id"], "billing/credit_holds": ["hold_id"], "crm/leads": ["lead_id"],
        "crm/quotas": ["user_id", "quarter_start"],
        "crm/meetings": ["meeting_id"], "crm/emails": ["email_id"], "crm/users": ["user_id"],
        "crm/products": ["product_id"], "crm/opportunity_line_items": ["line_item_id"],
        "support/conversations": ["conversation_id"], "support/messages": ["message_id"],
        "support/agents": ["agent_id"]}


def raw_rows(landing: Path, key: str) -> pd.DataFrame:
    """Well-formed rows of `<system>/<name>.csv` as strings (NA for empty fields)."""
    system, name = key.split("/")
    frames = []
    for path in sorted((landing / system).glob(f"{name}*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [r for r in reader if len(r) == len(header)]
        frames.append(pd.DataFrame(rows, columns=header, dtype=object))
    frame = pd.concat(frames, ignore_index=True)
    # A column a file left out (an optional one) is empty in its rows.
    return frame.map(lambda v: pd.NA if not isinstance(v, str) or v.strip() == "" else v.strip())


def json_object(value: object) -> dict | None:
    """A JSON object of scalar values (custom attributes), or None for anything else."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(parsed, dict) or any(isinstance(v, dict | list) for v in parsed.values()):
        return None
    return parsed


def _parse(values: pd.Series, kind: str) -> pd.Series:
    if kind == "json":
        return values.map(lambda v: pd.NA if pd.isna(v) else json_object(v)).astype(object).where(
            lambda s: s.map(lambda v: v is not None), pd.NA)
    if kind == "date":
        return pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    if kind == "timestamp":
        return pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    if kind == "bool":
        return values.map({"true": True, "false": False})
    return pd.to_numeric(values, errors="coerce")


def typed(landing: Path, key: str) -> pd.DataFrame:
    """Parsed, validated and de-duplicated rows of a dataset."""
    frame = raw_rows(landing, key)
    valid = pd.Series(True, index=frame.index)
    for column, kind in TYPES[key].items():
        parsed = _parse(frame[column], kind)
        valid &= frame[column].isna() | parsed.notna()
        frame[column] = parsed
    frame = frame[valid]
    if "updated_at" in frame.columns:
        frame = frame.sort_values("updated_at", na_position="first", kind="stable")
    return frame.drop_duplicates(KEYS[key], keep="last").reset_index(drop=True)


@dataclass
class Landing:
    """The typed datasets the checks need."""

    fx: pd.DataFrame
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    subscriptions: pd.DataFrame
    invoices: pd.DataFrame
    tickets: pd.DataFrame
    opportunities: pd.DataFrame
    sends: pd.DataFrame

    @classmethod
    def read(cls, landing: Path) -> Landing:
        return cls(*(typed(landing, k) for k in ("billing/fx_rates", "crm/accounts", "crm/contacts",
                                                  "crm/subscriptions", "billing/invoices", "support/tickets",
                                                  "crm/opportunities", "marketing/sends")))

    def sales_deals(self) -> pd.DataFrame:
        """Every deal as the Sales page counts it: its account's region and territory ('Unknown' when
        empty), amount_usd at the rate of its close date (its creation day without one; the as-of
        rate after the last rate day, the first rate before the first one), weighted by probability,
        created_day, won (closed and won) and cycle_days (closed deals)."""
        deals = self.opportunities.copy()
        accounts = self.accounts.set_index("account_id")
        deals["region"] = deals["account_id"].map(accounts["region"]).fillna("Unknown")
        deals["territory"] = deals["account_id"].map(accounts["territory"]).fillna("Unknown")
        deals["created_day"] = deals["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
        deals["day"] = deals["close_date"].fillna(deals["created_day"])
        deals["rate_day"] = deals["day"].clip(upper=self.fx["rate_date"].max())
        rates = self.fx.sort_values("rate_date")
        order = deals.sort_values("rate_day")
        matched = pd.merge_asof(order, rates[["rate_date", "currency", "usd_per_unit"]], left_on="rate_day",
                                right_on="rate_date", by="currency", direction="backward")
        before_first = pd.merge_asof(order, rates[["rate_date", "currency", "usd_per_unit"]], left_on="rate_day",
                                     right_on="rate_date", by="currency", direction="forward")
        rate = matched["usd_per_unit"].fillna(before_first["usd_per_unit"])
        rate = pd.Series(rate.to_numpy(), index=order.index).where(order["currency"] != "USD", 1.0)
        deals["amount_usd"] = deals["amount"].astype(float) * rate.reindex(deals.index).astype(float)
        deals["weighted_usd"] = deals["amount_usd"] * deals["probability"].astype(float) / 100
        deals["is_closed"] = deals["is_closed"].fillna(False).astype(bool)
        deals["won"] = deals["is_closed"] & deals["is_won"].fillna(False).astype(bool)
        deals["cycle_days"] = (deals["close_date"] - deals["created_day"]).dt.days.where(deals["is_closed"])
        return deals

    @property
    def as_of(self) -> date:
        return self.fx["rate_date"].max().date()

    def rate(self, currency: str, day: date) -> float:
        """USD per unit of `currency` on `day`: the latest rate on or before it."""
        rates = self.fx[(self.fx["currency"] == currency) & (self.fx["rate_date"] <= pd.Timestamp(day))]
        return float(rates.sort_values("rate_date")["usd_per_unit"].iloc[-1])

    def rates_on(self, currencies: pd.Series, day: date) -> dict[str, float]:
        """`rate(currency, day)` for each distinct currency of `currencies`: one look-up per currency
        instead of one per row."""
        return {currency: self.rate(currency, day) for currency in currencies.unique()}

    def rate_used(self, currency: str, day: date, max_fallback_days: int = 7) -> tuple[float, date, bool] | None:
        """(rate, its publication day, fallback?) under the silver rules: the rate of `day` (of the
        as-of day for a later day), else the latest earlier one up to `max_fallback_days` older;
        None when there is none (the record waits in quarantine)."""
        rates = self.fx[self.fx["currency"] == currency].sort_values("rate_date")
        wanted = min(pd.Timestamp(day), self.fx["rate_date"].max())
        earlier = rates[(rates["rate_date"] <= wanted)
                        & (rates["rate_date"] >= wanted - pd.Timedelta(days=max_fallback_days))]
        if not len(earlier):
            return None
        chosen = earlier.iloc[-1]
        published = chosen["rate_date"].date()
        return float(chosen["usd_per_unit"]), published, published != day

    def accounts_with_group(self) -> pd.DataFrame:
        accounts = self.accounts[["account_id", "region", "account_type", "status"]].copy()
        accounts["region"] = accounts["region"].fillna("Unknown")
        accounts["segment"] = accounts["account_type"].fillna("Unknown")
        return accounts

    def active_subscriptions(self, day: date) -> pd.DataFrame:
        """Subscriptions active on `day`, with the account's region and segment."""
        d = pd.Timestamp(day)
        subs = self.subscriptions
        active = subs[(subs["start_date"] <= d) & (subs["end_date"].isna() | (subs["end_date"] > d))]
        merged = active.merge(self.accounts_with_group()[["account_id", "region", "segment"]],
                              on="account_id", how="left")
        merged[["region", "segment"]] = merged[["region", "segment"]].fillna("Unknown")
        return merged

    def mrr_usd_on(self, day: date, max_fallback_days: int = 7) -> pd.DataFrame:
        """Each subscription's MRR in USD on `day` (subscription_id, account_id, currency, mrr_usd):
        the subscriptions counting that day (start_date <= day < end_date; no end date: still
        running) at that day's rate under the silver rules (its own, else the latest earlier one
        up to `max_fallback_days` older; mrr_usd empty without one). None on a day outside the FX
        feed's first to last day: there is no rate day to convert at."""
        columns = ["subscription_id", "account_id", "currency", "mrr_usd"]
        if not self.fx["rate_date"].min().date() <= day <= self.as_of:
            return pd.DataFrame({c: [] for c in columns})
        d = pd.Timestamp(day)
        subs = self.subscriptions
        active = subs[(subs["start_date"] <= d) & (subs["end_date"].isna() | (subs["end_date"] > d))]
        rates = {}
        for currency in active["currency"].unique():
            used = self.rate_used(currency, day, max_fallback_days)
            rates[currency] = used[0] if used else float("nan")
        usd = active["mrr"].astype(float) * active["currency"].map(rates).astype(float)
        return active.assign(mrr_usd=usd)[columns].reset_index(drop=True)

    def kpis_on(self, day: date) -> pd.DataFrame:
        """active_customers and mrr_usd (`mrr_usd_on`, summed) on `day` per region and segment."""
        active = self.active_subscriptions(day)
        if active.empty:  # before the first customer: no group has figures
            return pd.DataFrame({"region": [], "segment": [], "active_customers": [], "mrr_usd": []})
        mrr = self.mrr_usd_on(day).set_index("subscription_id")["mrr_usd"]
        active = active.assign(mrr_usd=active["subscription_id"].map(mrr))
        return (active.groupby(["region", "segment"])
                .agg(active_customers=("account_id", "nunique"), mrr_usd=("mrr_usd", "sum"))
                .reset_index())


# --- Contact segments (the Growth page), as its definitions state them -------------------------------

SEGMENT_TOP_KEYS, SEGMENT_TOP_VALUES = 20, 10
OTHER_VALUES = "(other values)"
CLOSED_LEAD_STATUSES = frozenset({"converted", "disqualified", "lost"})


def _json_text(value: object) -> str | None:
    """A JSON scalar as PostgreSQL's jsonb_each_text gives it: strings as they are, null as None."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def contact_segments(landing: Path, vip_accounts: set[str], contact_ids: set[str] | None = None) -> pd.DataFrame:
    """One row per contact and segment it is in (kind, segment_key, segment_value), with the first day of
    the month it was created and its account's territory: every contact ('all'), VIP (its account is in
    `vip_accounts`), Lead (an open lead has its email, or its lifecycle stage attribute is 'lead'), Churned
    (its account's status is churned), and each attribute key = value, the 20 commonest keys' 10 commonest
    values kept and the rest as '(other values)'. Contacts without a creation time are left out."""
    contacts = typed(landing, "crm/contacts")
    if contact_ids is not None:
        contacts = contacts[contacts["contact_id"].isin(contact_ids)]
    contacts = contacts[contacts["created_at"].notna()].reset_index(drop=True)
    accounts = typed(landing, "crm/accounts").set_index("account_id")
    leads = typed(landing, "crm/leads")
    is_open = ~leads["status"].fillna("").isin(CLOSED_LEAD_STATUSES) & leads["email"].notna()
    open_emails = set(leads.loc[is_open, "email"].str.lower())
    months = contacts["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.start_time
    base = pd.DataFrame({"contact_id": contacts["contact_id"], "month": months.dt.date,
                         "territory": contacts["account_id"].map(accounts["territory"]).fillna("Unknown")})
    attributes = contacts["attributes"].map(lambda v: v if isinstance(v, dict) else {})

    def lifecycle(attrs: dict) -> str:
        stage = _json_text(attrs.get("lifecycle_stage"))
        stage = stage if stage is not None else _json_text(attrs.get("lifecyclestage"))
        return (stage or "").strip(" ").lower()

    members = {
        ("all", ""): pd.Series(True, index=contacts.index),
        ("segment", "VIP"): contacts["account_id"].isin(vip_accounts),
        ("segment", "Lead"): contacts["email"].str.lower().isin(open_emails) | (attributes.map(lifecycle) == "lead"),
        ("segment", "Churned"): contacts["account_id"].map(accounts["status"]).eq("churned").fillna(False),
    }
    frames = [base[mask.astype(bool)].assign(kind=kind, segment_key=key, segment_value="")
              for (kind, key), mask in members.items()]
    pairs = [(i, str(k).strip(" "), text.strip(" ")[:200]) for i, attrs in attributes.items()
             for k, v in attrs.items() if (text := _json_text(v)) is not None]
    pairs = [(i, k, v) for i, k, v in pairs if k and v]
    if pairs:
        values = pd.DataFrame(pairs, columns=["row", "segment_key", "segment_value"])
        key_counts = values["segment_key"].value_counts()
        kept = sorted(key_counts.index, key=lambda k: (-key_counts[k], k))[:SEGMENT_TOP_KEYS]
        values = values[values["segment_key"].isin(kept)]
        counts = values.groupby(["segment_key", "segment_value"]).size()
        top = {(key, value) for key in kept
               for value in sorted(counts[key].index, key=lambda v, key=key: (-counts[key][v], v))[:SEGMENT_TOP_VALUES]}
        values["segment_value"] = [v if (k, v) in top else OTHER_VALUES
                                   for k, v in zip(values["segment_key"], values["segment_value"], strict=True)]
        frames.append(base.loc[values["row"]].reset_index(drop=True).assign(
            kind="attribute", segment_key=values["segment_key"].to_numpy(),
            segment_value=values["segment_value"].to_numpy()))
    return pd.concat(frames, ignore_index=True)


def segment_counts(memberships: pd.DataFrame, latest: date, previous: date,
                   territories: set[str] | None = None) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """(kind, key, value) -> (contacts, created in the month `latest`, created in the month `previous`),
    from `contact_segments`, in the given territories (every one when None)."""
    rows = memberships if territories is None else memberships[memberships["territory"].isin(territories)]
    counts: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for key, group in rows.groupby(["kind", "segment_key", "segment_value"]):
        counts[key] = (len(group), int((group["month"] == latest).sum()), int((group["month"] == previous).sum()))
    return counts

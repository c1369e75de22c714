"""The Receivables page's rows worked out with pandas from the landing files, independently of the SQL:
the unpaid invoices on the as-of day and, per customer, its overdue invoices, disputes and notes, credit
hold and billing-accuracy cohort. A customer is a master account (identity resolution's
silver.account_master, the account alone without one) and sits in its own territory (its master account's,
'Unknown' without one) with all its invoices and accounts, whichever regional account an invoice or a
dispute belongs to."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from dashboard.db import Database
from dashboard.queries.receivables import CHURN_DAYS
from dashboard.scope import DataScope
from tests.etl.reference import Landing, typed


@dataclass
class Reference:
    """The page's rows worked out from the landing files."""

    as_of: pd.Timestamp
    invoices: pd.DataFrame  # unpaid on the as-of day: customer, territory, late, bucket, usd, expected_on, ...
    customers: pd.DataFrame  # per customer with billing activity, indexed by customer
    mrr: pd.Series  # every customer's MRR on the as-of day, indexed by customer
    territory: pd.Series  # every customer's territory

    def in_scope(self, customers: pd.Series, scope: DataScope) -> pd.Series:
        if scope.unrestricted:
            return pd.Series(True, index=customers.index)
        return customers.map(self.territory).isin(scope.territories) | customers.isin(scope.account_ids)


def _silver_ids(database: Database, table: str, column: str) -> set[str]:
    with database.engine.connect() as conn:
        return set(conn.execute(text(f"SELECT {column} FROM silver.{table}")).scalars())


def receivables_reference(loaded_database: Database, pristine_landing_dir: Path) -> Reference:
    """The Receivables page's invoices and customers worked out from the landing files."""
    landing = Landing.read(pristine_landing_dir)
    as_of = pd.Timestamp(landing.as_of)
    as_of_end = pd.Timestamp(landing.as_of, tz="UTC") + pd.Timedelta(days=1)
    with loaded_database.engine.connect() as conn:
        master = dict(conn.execute(text("SELECT account_id, master_account_id FROM silver.account_master")).all())
    accounts = landing.accounts.set_index("account_id")
    users = typed(pristine_landing_dir, "crm/users").set_index("user_id")["full_name"]

    def customer_of(account_ids: pd.Series) -> pd.Series:
        return account_ids.map(lambda a: master.get(a, a))

    def manager_of(owner: pd.Series) -> pd.Series:
        return owner.map(users).fillna(owner).fillna("Unassigned")

    # Every customer: the master accounts (and accounts without one), in their master account's territory.
    every = pd.DataFrame({"account_id": accounts.index})
    every["customer"] = customer_of(every["account_id"])
    territory = pd.Series(accounts["territory"].reindex(every["customer"].unique()).fillna("Unknown").to_numpy(),
                          index=every["customer"].unique())
    mrr = landing.mrr_usd_on(landing.as_of).groupby("account_id")["mrr_usd"].sum()
    customer_mrr = every.assign(mrr=every["account_id"].map(mrr).fillna(0.0)).groupby("customer")["mrr"].sum()

    inv = landing.invoices[landing.invoices["account_id"].notna()].copy()
    inv["customer"] = customer_of(inv["account_id"])
    unpaid = inv[~inv["status"].isin(["paid", "void"]) & inv["paid_at"].isna() & (inv["issue_date"] <= as_of)].copy()
    unpaid["late"] = (as_of - unpaid["due_date"]).dt.days.fillna(0).clip(lower=0).astype(int)
    unpaid["bucket"] = pd.cut(unpaid["late"], [-1, 0, 30, 60, 90, 10**6],
                              labels=["current", "1-30", "31-60", "61-90", "90+"]).astype(str)
    unpaid["usd"] = (unpaid["amount"] * unpaid["currency"].map(landing.rates_on(unpaid["currency"], landing.as_of))).round(2)
    unpaid["segment"] = unpaid["account_id"].map(accounts["account_type"]).fillna("Unknown")
    unpaid["manager"] = manager_of(unpaid["account_id"].map(accounts["owner_user_id"]))
    unpaid["territory"] = unpaid["customer"].map(territory)
    # Collections: due day (issue day without one) + the customer's median days paid after due, rounded up.
    paid = inv[inv["paid_at"].notna() & inv["due_date"].notna() & (inv["status"] != "void")].copy()
    paid["paid_on"] = paid["paid_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    paid = paid[paid["paid_on"] <= as_of]
    paid["delay"] = (paid["paid_on"] - paid["due_date"]).dt.days
    delays = paid.groupby("customer")["delay"].median()
    unpaid["from_history"] = unpaid["customer"].isin(delays.index)
    delay = unpaid["customer"].map(delays).fillna(paid["delay"].median())
    unpaid["expected_on"] = unpaid["due_date"].fillna(unpaid["issue_date"]) + pd.to_timedelta(
        delay.apply(math.ceil), unit="D")

    # Per regional account: invoices issued, disputes, notes, a standing hold, open pipeline, invoices of the
    # last 365 days (adjusted or not) and CSAT of the tickets opened then.
    issued = inv[(inv["status"] != "void") & (inv["issue_date"] <= as_of)]
    disputes = typed(pristine_landing_dir, "billing/disputes")
    disputes = disputes[disputes["dispute_id"].isin(_silver_ids(loaded_database, "disputes", "dispute_id"))
                        & (disputes["opened_at"] < as_of_end) & disputes["account_id"].notna()].copy()
    disputes["usd"] = [amount * landing.rate_used(currency, opened.date())[0] for amount, currency, opened in
                       zip(disputes["amount"], disputes["currency"],
                           disputes["opened_at"].dt.tz_convert("UTC").dt.tz_localize(None), strict=True)]
    notes = typed(pristine_landing_dir, "billing/adjustments")
    notes = notes[notes["adjustment_id"].isin(_silver_ids(loaded_database, "adjustments", "adjustment_id"))
                  & (notes["created_at"] < as_of_end) & notes["account_id"].notna()].copy()
    notes["usd"] = [amount * landing.rate_used(currency, created.date())[0] for amount, currency, created in
                    zip(notes["amount"], notes["currency"],
                        notes["created_at"].dt.tz_convert("UTC").dt.tz_localize(None), strict=True)]
    holds = typed(pristine_landing_dir, "billing/credit_holds")
    holds = holds[(holds["placed_at"] < as_of_end) & (holds["released_at"].isna() | (holds["released_at"] >= as_of_end))
                  & holds["account_id"].isin(accounts.index)].sort_values(["placed_at", "hold_id"],
                                                                         ascending=[False, True])
    holds = holds.drop_duplicates("account_id").set_index("account_id")
    deals = landing.sales_deals()
    pipeline = deals[~deals["is_closed"]].groupby("account_id")["amount_usd"].sum()
    recent = issued[issued["issue_date"] > as_of - pd.Timedelta(days=365)].copy()
    recent["adjusted"] = recent["invoice_id"].isin(set(notes["invoice_id"].dropna()))
    tickets = landing.tickets[landing.tickets["ticket_id"].isin(_silver_ids(loaded_database, "tickets", "ticket_id"))]
    opened = tickets["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    tickets = tickets[(opened <= as_of) & (opened > as_of - pd.Timedelta(days=365)) & tickets["csat"].notna()]
    per_account = pd.DataFrame({
        "invoices_issued": issued.groupby("account_id").size(),
        "disputes": disputes.groupby("account_id").size(),
        "open_disputes": disputes[disputes["status"] == "open"].groupby("account_id").size(),
        "disputed_usd": disputes.groupby("account_id")["usd"].sum(),
        "credit_notes": notes[notes["kind"] == "credit"].groupby("account_id").size(),
        "credit_usd": notes[notes["kind"] == "credit"].groupby("account_id")["usd"].sum(),
        "debit_notes": notes[notes["kind"] == "debit"].groupby("account_id").size(),
        "on_hold": pd.Series(True, index=holds.index),
        "invoices_12m": recent.groupby("account_id").size(),
        "adjusted_12m": recent.groupby("account_id")["adjusted"].sum(),
        "csat_sum": tickets.groupby("account_id")["csat"].sum(),
        "csat_n": tickets.groupby("account_id")["csat"].count(),
    })
    per_account["on_hold"] = per_account["on_hold"].astype("boolean").fillna(False).astype(bool)
    per_account = per_account.fillna(0)
    per_account["hold_mrr"] = per_account.index.map(mrr).fillna(0.0).where(per_account["on_hold"], 0.0)
    per_account["hold_pipeline"] = per_account.index.map(pipeline).fillna(0.0).where(per_account["on_hold"], 0.0)
    per_account["placed_on"] = holds["placed_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    per_account["customer"] = customer_of(per_account.index.to_series())
    customers = per_account.groupby("customer").agg(
        invoices_issued=("invoices_issued", "sum"), disputes=("disputes", "sum"), open_disputes=("open_disputes", "sum"),
        disputed_usd=("disputed_usd", "sum"), credit_notes=("credit_notes", "sum"), credit_usd=("credit_usd", "sum"),
        debit_notes=("debit_notes", "sum"), on_hold=("on_hold", "any"), hold_mrr=("hold_mrr", "sum"),
        hold_pipeline=("hold_pipeline", "sum"), placed_on=("placed_on", "min"), invoices_12m=("invoices_12m", "sum"),
        adjusted_12m=("adjusted_12m", "sum"), csat_sum=("csat_sum", "sum"), csat_n=("csat_n", "sum"))
    overdue = unpaid[unpaid["late"] > 0].groupby("customer").agg(
        overdue_days=("late", "max"), overdue_usd=("usd", "sum"), overdue_invoices=("invoice_id", "size"),
        oldest_due=("due_date", "min"))
    customers = customers.join(overdue, how="outer")
    customers[customers.columns.difference(["placed_on", "oldest_due"])] = \
        customers[customers.columns.difference(["placed_on", "oldest_due"])].fillna(0)
    customers["events"] = customers["disputes"] + customers["credit_notes"] + customers["debit_notes"]
    customers["territory"] = customers.index.map(territory).fillna("Unknown")
    customers["name"] = customers.index.map(accounts["account_name"])
    customers["manager"] = manager_of(customers.index.to_series().map(accounts["owner_user_id"]))
    # Churned: every regional account churned, the latest in the CHURN_DAYS to the as-of day (UTC days).
    churned_at = every.assign(at=every["account_id"].map(accounts["churned_at"])).groupby("customer")["at"]
    last_churn = churned_at.max().where(churned_at.count() == churned_at.size())
    last_day = last_churn.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    churned = (last_day > as_of - pd.Timedelta(days=CHURN_DAYS)) & (last_day <= as_of)
    customers["churned"] = customers.index.map(churned).fillna(False).astype(bool)
    return Reference(as_of, unpaid, customers, customer_mrr, territory)

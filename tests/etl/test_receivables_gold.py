"""The Receivables page's gold tables against an independent pandas computation from the landing files:
each unpaid invoice's bucket and USD amount (gold.receivable_invoice, adding up to gold.billing_ageing),
the receivables per segment and account manager, dispute and credit-note counts, and the accounts on
credit hold with their MRR (gold.billing_account); each customer in its own territory, and the sums per
territory and rows per customer the page reads (gold.receivables_summary, receivables_currency,
receivable_customer, receivables_territory, receivables_as_of)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from tests.etl.receivables_reference import Reference, receivables_reference
from tests.etl.reference import Landing, typed


@pytest.fixture(scope="module")
def reference(pristine_landing_dir) -> Landing:
    return Landing.read(pristine_landing_dir)


def rows(database: Database, sql: str) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def expected_unpaid(reference: Landing) -> pd.DataFrame:
    """The unpaid invoices on the as-of day with their days overdue, bucket and USD at the as-of rate."""
    as_of = pd.Timestamp(reference.as_of)
    inv = reference.invoices
    unpaid = inv[~inv["status"].isin(["paid", "void"]) & inv["paid_at"].isna() & (inv["issue_date"] <= as_of)
                 & inv["account_id"].notna()].copy()
    unpaid["late"] = (as_of - unpaid["due_date"]).dt.days.fillna(0).clip(lower=0).astype(int)
    unpaid["bucket"] = pd.cut(unpaid["late"], [-1, 0, 30, 60, 90, 10**6],
                              labels=["current", "1-30", "31-60", "61-90", "90+"]).astype(str)
    unpaid["usd"] = unpaid["amount"] * unpaid["currency"].map(reference.rates_on(unpaid["currency"], reference.as_of))
    accounts = reference.accounts.set_index("account_id")
    users = typed_users(reference)
    unpaid["segment"] = unpaid["account_id"].map(accounts["account_type"]).fillna("Unknown")
    owner = unpaid["account_id"].map(accounts["owner_user_id"])
    unpaid["manager"] = owner.map(users).fillna(owner).fillna("Unassigned")
    return unpaid


_USERS: dict[int, pd.Series] = {}


def typed_users(reference: Landing) -> pd.Series:
    return _USERS[id(reference)]


@pytest.fixture(scope="module", autouse=True)
def _users(reference, pristine_landing_dir):
    users = typed(pristine_landing_dir, "crm/users")
    _USERS[id(reference)] = users.set_index("user_id")["full_name"]


def test_each_unpaid_invoice_has_its_bucket_and_usd_amount(loaded_database, reference):
    expected = expected_unpaid(reference).set_index("invoice_id")
    stored = rows(loaded_database, "SELECT * FROM gold.receivable_invoice").set_index("invoice_id")
    assert sorted(stored.index) == sorted(expected.index)
    assert (stored["bucket"] == expected.loc[stored.index, "bucket"]).all()
    assert (stored["days_overdue"] == expected.loc[stored.index, "late"]).all()
    assert (stored["currency"] == expected.loc[stored.index, "currency"]).all()
    overdue = expected[expected["bucket"] != "current"]
    by_bucket = stored[stored["bucket"] != "current"].groupby("bucket")["amount_usd"].sum().astype(float)
    for bucket, usd in overdue.groupby("bucket")["usd"].sum().items():
        assert by_bucket[bucket] == pytest.approx(usd, abs=0.01 * len(overdue)), bucket
    # The invoices add up to the per-account ageing table.
    ageing = rows(loaded_database, "SELECT bucket, sum(invoices) AS n, sum(amount_usd) AS usd FROM gold.billing_ageing "
                                   "GROUP BY bucket").set_index("bucket")
    counts = stored.groupby("bucket").size()
    for bucket in ageing.index:
        assert counts[bucket] == ageing.loc[bucket, "n"]
        assert float(stored[stored["bucket"] == bucket]["amount_usd"].sum()) == pytest.approx(
            float(ageing.loc[bucket, "usd"]), abs=0.01 * counts[bucket])


def test_receivables_by_segment_and_account_manager(loaded_database, reference):
    expected = expected_unpaid(reference)
    stored = rows(loaded_database, "SELECT * FROM gold.receivable_invoice")
    for column, key in (("segment", "segment"), ("account_manager", "manager")):
        got = stored.groupby(column)["amount_usd"].sum().astype(float)
        want = expected.groupby(key)["usd"].sum()
        assert sorted(got.index) == sorted(want.index)
        for name, usd in want.items():
            assert got[name] == pytest.approx(usd, abs=0.01 * len(expected)), name


def test_dispute_and_credit_note_counts_per_account(loaded_database, reference, pristine_landing_dir):
    as_of_end = pd.Timestamp(reference.as_of, tz="UTC") + pd.Timedelta(days=1)
    disputes = typed(pristine_landing_dir, "billing/disputes")
    disputes = disputes[(disputes["opened_at"] < as_of_end) & disputes["account_id"].notna()]
    notes = typed(pristine_landing_dir, "billing/adjustments")
    notes = notes[(notes["created_at"] < as_of_end) & notes["account_id"].notna()]
    stored = rows(loaded_database, "SELECT * FROM gold.billing_account").set_index("account_id")
    # Silver keeps only disputes and notes of invoices and accounts it accepted: compare those.
    silver_disputes = set(rows(loaded_database, "SELECT dispute_id FROM silver.disputes")["dispute_id"])
    disputes = disputes[disputes["dispute_id"].isin(silver_disputes)]
    silver_notes = set(rows(loaded_database, "SELECT adjustment_id FROM silver.adjustments")["adjustment_id"])
    notes = notes[notes["adjustment_id"].isin(silver_notes)]
    assert len(disputes) > 0
    per_account = disputes.groupby("account_id").size()
    assert stored["disputes"].sum() == len(disputes)
    for account, n in per_account.items():
        assert stored.loc[account, "disputes"] == n, account
    opened = disputes[disputes["status"] == "open"].groupby("account_id").size()
    assert stored["open_disputes"].sum() == opened.sum()
    credits = notes[notes["kind"] == "credit"].groupby("account_id").size()
    for account, n in credits.items():
        assert stored.loc[account, "credit_notes"] == n, account
    assert stored["credit_notes"].sum() == credits.sum()


def test_accounts_on_credit_hold_and_the_mrr_affected(loaded_database, reference, pristine_landing_dir):
    as_of_end = pd.Timestamp(reference.as_of, tz="UTC") + pd.Timedelta(days=1)
    holds = typed(pristine_landing_dir, "billing/credit_holds")
    standing = holds[(holds["placed_at"] < as_of_end) & (holds["released_at"].isna() | (holds["released_at"] >= as_of_end))
                     & holds["account_id"].notna()]
    silver_accounts = set(rows(loaded_database, "SELECT account_id FROM silver.accounts")["account_id"])
    on_hold = set(standing["account_id"]) & silver_accounts
    assert on_hold, "the demo data plants standing credit holds"
    stored = rows(loaded_database, "SELECT * FROM gold.billing_account WHERE on_hold").set_index("account_id")
    assert set(stored.index) == on_hold
    mrr = reference.mrr_usd_on(reference.as_of).groupby("account_id")["mrr_usd"].sum()
    expected_mrr = sum(float(mrr.get(a, 0.0)) for a in on_hold)
    assert float(stored["mrr_usd"].sum()) == pytest.approx(expected_mrr, abs=0.01 * len(on_hold) + 0.01)


@pytest.mark.parametrize("months_back", [0, 1, 6])
def test_dso_of_a_month_by_hand(loaded_database, reference, months_back):
    """A month's DSO from the landing files: receivables at its end (its last day, or the as-of day for the
    running month) over its invoicing, both at that day's rate, times its days; per territory too."""
    as_of = pd.Timestamp(reference.as_of)
    month = (as_of.replace(day=1) - pd.DateOffset(months=months_back)).normalize()
    month_end = min(month + pd.offsets.MonthEnd(0), as_of.normalize())
    inv = reference.invoices
    inv = inv[(inv["status"] != "void") & inv["account_id"].notna() & (inv["issue_date"] <= month_end)].copy()
    paid_on = inv["paid_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    paid_on = paid_on.where(inv["paid_at"].notna(), inv["issue_date"].where(inv["status"] == "paid"))
    rate = inv["currency"].map(reference.rates_on(inv["currency"], month_end.date()))
    inv["usd"] = inv["amount"].astype(float) * rate
    inv["territory"] = inv["account_id"].map(reference.accounts.set_index("account_id")["territory"]).fillna("Unknown")
    outstanding = inv[paid_on.isna() | (paid_on > month_end)]
    issued = inv[inv["issue_date"] >= month]
    stored = rows(loaded_database, f"SELECT territory, receivables_usd AS r, invoiced_usd AS i, days AS d "
                                   f"FROM gold.receivables_monthly WHERE month = '{month.date()}'").set_index("territory")
    assert set(stored["d"].astype(int)) == {month_end.day}
    assert set(stored.index) == set(inv["territory"])
    by_territory = outstanding.groupby("territory")["usd"].sum()
    for territory, row in stored.iterrows():
        assert float(row["r"]) == pytest.approx(float(by_territory.get(territory, 0.0)), abs=0.02), territory
    receivables, invoiced = outstanding["usd"].sum(), issued["usd"].sum()
    assert float(stored["r"].astype(float).sum()) == pytest.approx(receivables, abs=1.0)
    assert float(stored["i"].astype(float).sum()) == pytest.approx(invoiced, abs=1.0)
    if invoiced:
        dso = float(stored["r"].astype(float).sum()) / float(stored["i"].astype(float).sum()) * month_end.day
        assert dso == pytest.approx(receivables / invoiced * month_end.day, rel=1e-4)


def _adjusted_invoice_ids(loaded_database, reference, pristine_landing_dir) -> set:
    """Invoices with a credit or debit note created by the end of the as-of day (notes silver accepted)."""
    as_of_end = pd.Timestamp(reference.as_of, tz="UTC") + pd.Timedelta(days=1)
    notes = typed(pristine_landing_dir, "billing/adjustments")
    silver_notes = set(rows(loaded_database, "SELECT adjustment_id FROM silver.adjustments")["adjustment_id"])
    notes = notes[notes["adjustment_id"].isin(silver_notes) & (notes["created_at"] < as_of_end)]
    return set(notes["invoice_id"].dropna())


def test_billing_accuracy_per_issue_month(loaded_database, reference, pristine_landing_dir):
    """The share of each of the last 12 months' invoices without a later credit or debit note."""
    adjusted = _adjusted_invoice_ids(loaded_database, reference, pristine_landing_dir)
    as_of = pd.Timestamp(reference.as_of)
    inv = reference.invoices
    inv = inv[(inv["status"] != "void") & inv["account_id"].notna() & (inv["issue_date"] <= as_of)].copy()
    inv["month"] = inv["issue_date"].dt.to_period("M").dt.to_timestamp()
    inv["adjusted"] = inv["invoice_id"].isin(adjusted)
    first = (as_of.to_period("M") - 11).to_timestamp()
    expected = inv[inv["month"] >= first].groupby("month").agg(issued=("invoice_id", "size"),
                                                                adjusted=("adjusted", "sum"))
    assert expected["adjusted"].sum() > 0, "the demo data plants adjusted invoices"
    stored = rows(loaded_database, f"SELECT month, sum(issued_invoices) AS issued, sum(adjusted_invoices) AS adjusted "
                                   f"FROM gold.receivables_monthly WHERE month >= '{first.date()}' GROUP BY month")
    stored = stored.set_index(pd.to_datetime(stored["month"]))
    assert sorted(stored.index) == sorted(expected.index)
    for month, want in expected.iterrows():
        got = stored.loc[month]
        assert int(got["issued"]) == want["issued"], month
        assert int(got["adjusted"]) == want["adjusted"], month
        share = (want["issued"] - want["adjusted"]) / want["issued"]
        assert (int(got["issued"]) - int(got["adjusted"])) / int(got["issued"]) == pytest.approx(share), month


def test_adjusted_invoices_of_the_last_year_per_account(loaded_database, reference, pristine_landing_dir):
    adjusted = _adjusted_invoice_ids(loaded_database, reference, pristine_landing_dir)
    as_of = pd.Timestamp(reference.as_of)
    inv = reference.invoices
    inv = inv[(inv["status"] != "void") & inv["account_id"].notna() & (inv["issue_date"] <= as_of)
              & (inv["issue_date"] > as_of - pd.Timedelta(days=365))]
    issued = inv.groupby("account_id").size()
    hit = inv[inv["invoice_id"].isin(adjusted)].groupby("account_id").size()
    stored = rows(loaded_database, "SELECT account_id, invoices_12m, adjusted_invoices_12m FROM gold.billing_account")
    stored = stored.set_index("account_id")
    assert int(stored["invoices_12m"].sum()) == len(inv)
    assert int(stored["adjusted_invoices_12m"].sum()) == int(hit.sum()) > 0
    for account, n in hit.items():
        assert stored.loc[account, "adjusted_invoices_12m"] == n, account
        assert stored.loc[account, "invoices_12m"] == issued[account], account


def test_collections_expected_within_30_days(loaded_database, reference):
    """Each customer's median days paid after due (the company's without history) moves each unpaid
    invoice's due day; the USD of those landing within 30 days of the as-of day is the 30-day forecast."""
    as_of = pd.Timestamp(reference.as_of)
    master = rows(loaded_database, "SELECT account_id, master_account_id FROM silver.account_master")
    master = master.set_index("account_id")["master_account_id"]
    inv = reference.invoices
    paid = inv[inv["paid_at"].notna() & inv["due_date"].notna() & (inv["status"] != "void")
               & inv["account_id"].notna()].copy()
    paid["paid_on"] = paid["paid_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    paid = paid[paid["paid_on"] <= as_of]
    paid["delay"] = (paid["paid_on"] - paid["due_date"]).dt.days
    paid["customer"] = paid["account_id"].map(master).fillna(paid["account_id"])
    per_customer = paid.groupby("customer")["delay"].median()
    company = paid["delay"].median()
    unpaid = expected_unpaid(reference)
    customer = unpaid["account_id"].map(master).fillna(unpaid["account_id"])
    delay = customer.map(per_customer).fillna(company)
    unpaid["expected_on"] = unpaid["due_date"].fillna(unpaid["issue_date"]) + pd.to_timedelta(
        delay.apply(math.ceil), unit="D")
    within = unpaid[(unpaid["expected_on"] >= as_of) & (unpaid["expected_on"] <= as_of + pd.Timedelta(days=30))]
    assert 0 < len(within) < len(unpaid)
    stored = rows(loaded_database, "SELECT invoice_id, expected_paid_on, payment_delay_days, delay_from_history "
                                   "FROM gold.receivable_invoice").set_index("invoice_id")
    assert (pd.to_datetime(stored["expected_paid_on"]) == unpaid.set_index("invoice_id").loc[
        stored.index, "expected_on"]).all()
    assert (~stored["delay_from_history"]).sum() == customer.map(per_customer).isna().sum()
    got = rows(loaded_database, f"SELECT sum(amount_usd) AS usd FROM gold.receivable_invoice WHERE expected_paid_on "
                                f"BETWEEN '{as_of.date()}' AND '{(as_of + pd.Timedelta(days=30)).date()}'").iloc[0]
    assert float(got["usd"]) == pytest.approx(within["usd"].sum(), abs=0.01 * len(within))


# --- The sums per customer territory and the rows per customer the page reads ------------------------------


@pytest.fixture(scope="module")
def receivables(loaded_database, pristine_landing_dir) -> Reference:
    return receivables_reference(loaded_database, pristine_landing_dir)


def test_each_customer_sits_in_its_own_territory_with_all_its_invoices(loaded_database, receivables):
    stored = rows(loaded_database, "SELECT invoice_id, customer_id, territory FROM gold.receivable_invoice")
    stored = stored.set_index("invoice_id")
    expected = receivables.invoices.set_index("invoice_id")
    assert (stored["customer_id"] == expected.loc[stored.index, "customer"]).all()
    assert (stored["territory"] == expected.loc[stored.index, "territory"]).all()
    assert (stored.groupby("customer_id")["territory"].nunique() == 1).all()
    accounts = rows(loaded_database, "SELECT customer_id, territory FROM gold.billing_account")
    assert (accounts["territory"] == accounts["customer_id"].map(receivables.territory)).all()
    assert rows(loaded_database, "SELECT as_of FROM gold.receivables_as_of")["as_of"].tolist() == \
        [receivables.as_of.date()]


def test_the_sums_per_territory_add_up_to_the_invoices(loaded_database, receivables):
    invoices = receivables.invoices
    stored = rows(loaded_database, "SELECT * FROM gold.receivables_summary")
    assert set(stored["dimension"]) == {"all", "bucket", "segment", "account_manager"}
    for dimension, key in (("all", None), ("bucket", "bucket"), ("segment", "segment"), ("account_manager", "manager")):
        keys = ["territory", key] if key else ["territory"]
        frame = invoices.assign(late_usd=invoices["usd"].where(invoices["late"] > 0, 0.0),
                                late_customer=invoices["customer"].where(invoices["late"] > 0))
        want = frame.groupby(keys).agg(outstanding=("usd", "sum"), overdue=("late_usd", "sum"),
                                       invoices=("invoice_id", "size"), overdue_invoices=("late", lambda d: (d > 0).sum()),
                                       customers=("customer", "nunique"), overdue_customers=("late_customer", "nunique"))
        got = stored[stored["dimension"] == dimension].set_index(
            ["territory", "group_name"] if key else ["territory"])
        assert len(got) == len(want), dimension
        for group, expected in want.iterrows():
            row = got.loc[group]
            assert (row["invoices"], row["overdue_invoices"], row["customers"], row["overdue_customers"]) == (
                expected["invoices"], expected["overdue_invoices"], expected["customers"],
                expected["overdue_customers"]), (dimension, group)
            assert float(row["outstanding_usd"]) == pytest.approx(expected["outstanding"], abs=0.01), (dimension, group)
            assert float(row["overdue_usd"]) == pytest.approx(expected["overdue"], abs=0.01), (dimension, group)
    # One territory per customer: the territories' customers add up to the company's.
    everyone = stored[stored["dimension"] == "all"]
    assert everyone["customers"].sum() == invoices["customer"].nunique()
    assert everyone["overdue_customers"].sum() == invoices[invoices["late"] > 0]["customer"].nunique()
    currencies = rows(loaded_database, "SELECT * FROM gold.receivables_currency").set_index(
        ["territory", "bucket", "currency"])
    want = invoices.groupby(["territory", "bucket", "currency"]).agg(amount=("amount", "sum"), usd=("usd", "sum"))
    assert sorted(currencies.index) == sorted(want.index)
    for key, expected in want.iterrows():
        assert float(currencies.loc[key, "amount"]) == pytest.approx(expected["amount"], abs=0.01), key
        assert float(currencies.loc[key, "amount_usd"]) == pytest.approx(expected["usd"], abs=0.01), key


def test_each_customers_overdue_invoices_disputes_hold_and_cohort(loaded_database, receivables):
    stored = rows(loaded_database, "SELECT * FROM gold.receivable_customer").set_index("customer_id")
    expected = receivables.customers
    assert sorted(stored.index) == sorted(expected.index)
    expected = expected.loc[stored.index]
    for column, want in (("territory", "territory"), ("account_name", "name"), ("account_manager", "manager"),
                         ("overdue_days", "overdue_days"), ("overdue_invoices", "overdue_invoices"),
                         ("invoices_issued", "invoices_issued"), ("events", "events"), ("disputes", "disputes"),
                         ("open_disputes", "open_disputes"), ("credit_notes", "credit_notes"),
                         ("debit_notes", "debit_notes"), ("on_hold", "on_hold"), ("invoices_12m", "invoices_12m"),
                         ("adjusted_invoices_12m", "adjusted_12m"), ("csat_sum", "csat_sum"),
                         ("csat_responses", "csat_n"), ("churned", "churned")):
        mismatched = stored.index[stored[column] != expected[want]]
        assert mismatched.empty, (column, list(mismatched[:5]))
    for column, want in (("overdue_usd", "overdue_usd"), ("disputed_usd", "disputed_usd"),
                         ("credit_usd", "credit_usd"), ("hold_mrr_usd", "hold_mrr")):
        assert stored[column].astype(float).to_numpy() == pytest.approx(
            expected[want].astype(float).to_numpy(), abs=0.05), column
    assert stored["on_hold"].any() and (stored["events"] > 0).any() and (stored["overdue_invoices"] > 0).any()
    oldest = pd.to_datetime(stored["oldest_due"])
    assert (oldest.dropna() == expected["oldest_due"].dropna()).all()


def test_the_totals_per_territory(loaded_database, receivables):
    stored = rows(loaded_database, "SELECT * FROM gold.receivables_territory").set_index("territory")
    customers, invoices, as_of = receivables.customers, receivables.invoices, receivables.as_of
    assert set(stored.index) == set(customers["territory"]) | set(invoices["territory"])
    for territory, row in stored.iterrows():
        mine, theirs = customers[customers["territory"] == territory], invoices[invoices["territory"] == territory]
        for days in (30, 60, 90):
            within = theirs[(theirs["expected_on"] >= as_of) & (theirs["expected_on"] <= as_of + pd.Timedelta(days=days))]
            assert row[f"expected_{days}_invoices"] == len(within), (territory, days)
            assert float(row[f"expected_{days}_usd"]) == pytest.approx(within["usd"].sum(), abs=0.01), (territory, days)
        assert row["past_usual_invoices"] == (theirs["expected_on"] < as_of).sum(), territory
        assert row["invoices_without_history"] == (~theirs["from_history"]).sum(), territory
        assert (row["disputes"], row["credit_notes"], row["customers_disputing"], row["frequent_customers"],
                row["customers_on_hold"]) == (mine["disputes"].sum(), mine["credit_notes"].sum(),
                                              (mine["disputes"] > 0).sum(), (mine["events"] >= 3).sum(),
                                              mine["on_hold"].sum()), territory
        invoiced = mine[mine["invoices_12m"] > 0]
        affected, others = invoiced[invoiced["adjusted_12m"] > 0], invoiced[invoiced["adjusted_12m"] == 0]
        assert (row["affected_customers"], row["affected_churned"], row["affected_csat_sum"],
                row["other_customers"], row["other_churned"], row["other_csat_responses"]) == (
            len(affected), affected["churned"].sum(), affected["csat_sum"].sum(), len(others),
            others["churned"].sum(), others["csat_n"].sum()), territory

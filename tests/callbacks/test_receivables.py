"""Receivables wiring: each panel's figures recomputed with pandas from the landing files for the whole
company, a territory scope, a book of customers and both (each customer in its own territory), the same
figures from the sums per territory as from the rows, money hidden without view_financials, bad URL state
falling back with a note, and the page's callbacks refused server-side to a role without view_billing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from callbacks.receivables import PANELS, build_accuracy, build_collections, build_dso
from dashboard.formatting import format_usd
from dashboard.masking import MaskPolicy
from dashboard.queries import receivables as q
from dashboard.queries.receivables import OVERDUE_BUCKETS, ReceivablesQuery
from dashboard.scope import DataScope
from layouts.receivables import ReceivablesIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs
from tests.etl.receivables_reference import Reference, receivables_reference

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=True, view_financials=False)


@pytest.fixture()
def session(rolled_back: Session) -> Session:  # noqa: F811
    return rolled_back


def _all(session: Session, state: Any, scope: DataScope = EVERYTHING, policy: MaskPolicy = FULL) -> dict[str, Any]:
    return {output: build(session, state, scope=scope, policy=policy) for output, build in PANELS.items()}


def _scalar(session: Session, sql: str) -> Any:
    return session.execute(text(sql)).scalar()


def test_the_ageing_buckets_add_up_to_the_ageing_table(session):
    result = q.ageing(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    for figure in result.buckets:
        invoices, usd = session.execute(text("SELECT coalesce(sum(invoices), 0), coalesce(sum(amount_usd), 0) "
                                             "FROM gold.billing_ageing WHERE bucket = :b"), {"b": figure.bucket}).one()
        assert figure.invoices == invoices, figure.bucket
        assert figure.amount_usd == pytest.approx(float(usd), abs=0.01 * max(invoices, 1))
    assert result.overdue_invoices > 0
    assert result.invoices_in_view == result.overdue_invoices
    assert all(row["bucket"] in OVERDUE_BUCKETS for row in result.invoices.rows)
    customers = _scalar(session, "SELECT count(DISTINCT customer_id) FROM gold.receivable_invoice "
                                 "WHERE bucket <> 'current'")
    assert result.overdue_customers == customers
    # The accounts grid: the oldest invoice's days overdue per customer, longest first.
    days = [row["days_overdue"] for row in result.accounts.rows]
    assert days == sorted(days, reverse=True)
    top = result.accounts.rows[0]
    assert top["days_overdue"] == _scalar(session, "SELECT max(days_overdue) FROM gold.receivable_invoice")


@pytest.mark.parametrize("bucket", OVERDUE_BUCKETS)
def test_a_bucket_lists_only_its_invoices(session, bucket):
    result = q.ageing(session, ReceivablesQuery(bucket), EVERYTHING, policy=FULL)
    chosen = next(b for b in result.buckets if b.bucket == bucket)
    assert result.invoices_in_view == chosen.invoices
    assert {row["bucket"] for row in result.invoices.rows} <= {bucket}
    assert all(row["original"].split(" ")[0] == row["currency"] for row in result.invoices.rows)


def test_every_panel_shows_its_figures(session):
    outputs = _all(session, {})
    receivables = q.receivables(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert receivables.outstanding_usd == pytest.approx(float(_scalar(
        session, "SELECT sum(amount_usd) FROM gold.receivable_invoice")), abs=0.01)
    assert f"{receivables.invoices:,}" in text_of(outputs[ID.RECEIVABLES])
    by_segment = sum(r["outstanding_usd"] for r in receivables.grids["segment"].rows)
    by_manager = sum(r["outstanding_usd"] for r in receivables.grids["account_manager"].rows)
    assert by_segment == pytest.approx(receivables.outstanding_usd, abs=0.01)
    assert by_manager == pytest.approx(receivables.outstanding_usd, abs=0.01)
    disputes = q.disputes(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert disputes.disputes == _scalar(session, "SELECT count(*) FROM silver.disputes WHERE account_id IS NOT NULL "
                                                 "AND opened_at::date <= (SELECT max(rate_date) FROM silver.fx_rates)")
    ranked = [row["events"] for row in disputes.grid.rows]
    assert ranked == sorted(ranked, reverse=True)
    assert f"{disputes.disputes:,}" in text_of(outputs[ID.DISPUTES])
    holds = q.holds(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert holds.customers_on_hold == _scalar(session, "SELECT count(DISTINCT customer_id) FROM gold.billing_account "
                                                       "WHERE on_hold")
    assert holds.customers_on_hold > 0
    assert holds.mrr_usd == pytest.approx(float(_scalar(
        session, "SELECT coalesce(sum(mrr_usd), 0) FROM gold.billing_account WHERE on_hold")), abs=0.01)
    assert "Customers on hold" in text_of(outputs[ID.HOLDS])


def test_money_is_hidden_without_view_financials(session):
    outputs = _all(session, {}, policy=NO_MONEY)
    ageing = q.ageing(session, ReceivablesQuery(), EVERYTHING, policy=NO_MONEY)
    assert all(row["original"] == row["currency"] for row in ageing.invoices.rows)
    assert all(not isinstance(row["amount_usd"], float) for row in ageing.invoices.rows)
    full = q.ageing(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert format_usd(full.overdue_usd) not in text_of(outputs[ID.AGEING])
    assert format_usd(full.overdue_usd) in text_of(_all(session, {})[ID.AGEING])
    for panel in (ID.AGEING, ID.RECEIVABLES, ID.HOLDS):
        assert "hidden" in text_of(outputs[panel]), panel


@pytest.mark.parametrize("state", [None, "junk", {"bucket": "nonsense"}, {"bucket": ["1-30", "90+"]}, {"bucket": 7}])
def test_garbage_state_never_raises(session, state):
    outputs = _all(session, state)
    assert all(outputs.values())


def test_an_unknown_bucket_falls_back_with_a_note(session):
    resolved = q.resolve(session, ReceivablesQuery("nonsense"), EVERYTHING)
    assert resolved.bucket is None and "nonsense" in resolved.notes[0]


@pytest.mark.parametrize("output", list(PANELS))
def test_billing_gets_the_panels_and_a_marketing_manager_is_refused(login_as, output):
    client = login_as("billing")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("marketing_manager"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "invoice" not in refused.get_data(as_text=True).lower()


def test_before_gold_is_built_every_panel_says_so(session):
    from dashboard.queries.freshness import gold_status
    from layouts import receivables as page

    status = gold_status(session)
    for output in (page.ageing_output, page.receivables_output, page.disputes_output, page.holds_output,
                   page.dso_output, page.accuracy_output, page.collections_output):
        assert "No data yet" in text_of(output(status, FULL)), output.__name__
    session.execute(text("DELETE FROM gold.customer_360"))
    assert q.resolve(session, ReceivablesQuery(), EVERYTHING) is None


def test_dso_is_receivables_over_invoicing_times_days(session):
    result = q.dso(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    latest = result.latest
    r, i, d = session.execute(text("SELECT sum(receivables_usd), sum(invoiced_usd), max(days) "
                                   "FROM gold.receivables_monthly WHERE month = :m"), {"m": latest.month}).one()
    assert latest.dso == pytest.approx(float(r) / float(i) * d)
    assert (latest.month_end + timedelta(days=1)).day == 1
    assert f"{latest.dso:.0f} days" in text_of(build_dso(session, {}, scope=EVERYTHING, policy=FULL))



# --- Every figure recomputed with pandas from the landing files (tests.etl.receivables_reference), for the
# whole company, territories, a book of customers and both ------------------------------------------------


@pytest.fixture(scope="module")
def reference(loaded_database, pristine_landing_dir) -> Reference:
    return receivables_reference(loaded_database, pristine_landing_dir)


def _scopes(reference: Reference) -> dict[str, DataScope]:
    """Everything, the two territories owing most, and a book: a few customers overdue, disputing, on hold,
    affected by notes and not, none of them in those territories."""
    owing = reference.invoices.groupby("territory")["usd"].sum().sort_values(ascending=False)
    territories = [t for t in owing.index if t != "Unknown"][:2]
    c = reference.customers[~reference.customers["territory"].isin(territories)]
    book = set()
    for picked in (c[c["overdue_invoices"] > 0], c[c["events"] > 0], c[c["on_hold"]],
                   c[(c["invoices_12m"] > 0) & (c["adjusted_12m"] > 0)], c[(c["invoices_12m"] > 0) & (c["adjusted_12m"] == 0)]):
        book |= set(picked.index[:4])
    return {"everything": EVERYTHING, "territories": DataScope.restricted_to(territories=territories),
            "book": DataScope.restricted_to(account_ids=book),
            "territory and book": DataScope.restricted_to(territories=territories[:1], account_ids=book)}


SCOPE_NAMES = ("everything", "territories", "book", "territory and book")


@pytest.mark.parametrize("scope_name", SCOPE_NAMES)
def test_ageing_figures_from_the_landing_files(session, reference, scope_name):
    scope = _scopes(reference)[scope_name]
    invoices = reference.invoices[reference.in_scope(reference.invoices["customer"], scope)]
    overdue = invoices[invoices["late"] > 0]
    assert len(overdue) > 0
    result = q.ageing(session, ReceivablesQuery(), scope, policy=FULL)
    for figure in result.buckets:
        mine = overdue[overdue["bucket"] == figure.bucket]
        assert (figure.invoices, figure.customers) == (len(mine), mine["customer"].nunique()), figure.bucket
        assert figure.amount_usd == pytest.approx(mine["usd"].sum(), abs=0.01), figure.bucket
        mix = mine.groupby("currency")["amount"].sum()
        assert dict(figure.currencies) == pytest.approx(mix.to_dict(), abs=0.01), figure.bucket
    assert result.overdue_customers == overdue["customer"].nunique()
    assert result.invoices_in_view == len(overdue)
    expected_days = overdue["late"].sort_values(ascending=False).head(q.GRID_LIMIT).tolist()
    assert [row["days_overdue"] for row in result.invoices.rows] == expected_days
    shown = overdue.set_index("invoice_id").loc[[row["invoice_id"] for row in result.invoices.rows]]
    assert [row["amount_usd"] for row in result.invoices.rows] == pytest.approx(shown["usd"].tolist(), abs=0.01)
    # The customers overdue, longest first, each with its overdue figures, name and account manager.
    customers = reference.customers.loc[overdue["customer"].unique()]
    ranked = customers.sort_values(["overdue_days", "overdue_usd"], ascending=False).head(q.RANK_LIMIT)
    assert [row["days_overdue"] for row in result.accounts.rows] == ranked["overdue_days"].astype(int).tolist()
    for row in result.accounts.rows:
        want = customers.loc[row["account_id"]]
        assert (row["invoices"], row["account_name"], row["account_manager"]) == \
            (want["overdue_invoices"], want["name"], want["manager"]), row["account_id"]
        assert row["overdue_usd"] == pytest.approx(want["overdue_usd"], abs=0.01)
        assert row["oldest_due"] == want["oldest_due"].date().isoformat()
    one = q.ageing(session, ReceivablesQuery("1-30"), scope, policy=FULL)
    assert one.invoices_in_view == (overdue["bucket"] == "1-30").sum()
    assert [row["days_overdue"] for row in one.invoices.rows] == \
        overdue[overdue["bucket"] == "1-30"]["late"].sort_values(ascending=False).head(q.GRID_LIMIT).tolist()


@pytest.mark.parametrize("scope_name", SCOPE_NAMES)
def test_receivables_by_segment_and_manager_from_the_landing_files(session, reference, scope_name):
    scope = _scopes(reference)[scope_name]
    invoices = reference.invoices[reference.in_scope(reference.invoices["customer"], scope)]
    result = q.receivables(session, ReceivablesQuery(), scope, policy=FULL)
    assert result.invoices == len(invoices) > 0
    assert result.outstanding_usd == pytest.approx(invoices["usd"].sum(), abs=0.01)
    assert result.overdue_usd == pytest.approx(invoices[invoices["late"] > 0]["usd"].sum(), abs=0.01)
    for dimension, key in (("segment", "segment"), ("account_manager", "manager")):
        groups = invoices.assign(late_usd=invoices["usd"].where(invoices["late"] > 0, 0.0)).groupby(key).agg(
            outstanding=("usd", "sum"), overdue=("late_usd", "sum"), invoices=("invoice_id", "size"),
            customers=("customer", "nunique"))
        rows = {row["group"]: row for row in result.grids[dimension].rows}
        assert set(rows) == set(groups.index), dimension
        for group, want in groups.iterrows():
            row = rows[group]
            assert (row["invoices"], row["customers"]) == (want["invoices"], want["customers"]), group
            assert row["outstanding_usd"] == pytest.approx(want["outstanding"], abs=0.01), group
            assert row["overdue_usd"] == pytest.approx(want["overdue"], abs=0.01), group


@pytest.mark.parametrize("scope_name", SCOPE_NAMES)
def test_disputes_and_holds_from_the_landing_files(session, reference, scope_name):
    scope = _scopes(reference)[scope_name]
    customers = reference.customers[reference.in_scope(reference.customers.index.to_series(), scope)]
    result = q.disputes(session, ReceivablesQuery(), scope, policy=FULL)
    assert (result.disputes, result.open_disputes, result.credit_notes, result.debit_notes) == (
        customers["disputes"].sum(), customers["open_disputes"].sum(), customers["credit_notes"].sum(),
        customers["debit_notes"].sum())
    assert result.disputes > 0
    assert result.disputed_usd == pytest.approx(customers["disputed_usd"].sum(), abs=0.01 * len(customers) + 0.01)
    assert result.credit_usd == pytest.approx(customers["credit_usd"].sum(), abs=0.01 * len(customers) + 0.01)
    assert result.customers_disputing == (customers["disputes"] > 0).sum()
    assert result.frequent_customers == (customers["events"] >= q.FREQUENT_EVENTS).sum()
    disputing = customers[customers["events"] > 0]
    ranked = disputing.sort_values(["events", "disputed_usd"], ascending=False).head(q.RANK_LIMIT)
    assert [row["events"] for row in result.grid.rows] == ranked["events"].astype(int).tolist()
    for row in result.grid.rows:
        want = disputing.loc[row["account_id"]]
        assert (row["disputes"], row["credit_notes"], row["account_name"]) == \
            (want["disputes"], want["credit_notes"], want["name"]), row["account_id"]
        assert row["dispute_rate"] == pytest.approx(want["disputes"] / want["invoices_issued"])
    held = customers[customers["on_hold"]]
    result = q.holds(session, ReceivablesQuery(), scope, policy=FULL)
    assert result.customers_on_hold == len(held) > 0
    assert result.mrr_usd == pytest.approx(held["hold_mrr"].sum(), abs=0.01 * len(held) + 0.01)
    assert result.pipeline_usd == pytest.approx(held["hold_pipeline"].sum(), abs=0.01 * len(held) + 0.01)
    everyone = reference.mrr[reference.in_scope(reference.mrr.index.to_series(), scope)]
    assert result.total_mrr_usd == pytest.approx(everyone.sum(), abs=0.01 * len(everyone) + 0.01)
    for row in result.grid.rows:
        want = held.loc[row["account_id"]]
        assert row["mrr_usd"] == pytest.approx(want["hold_mrr"], abs=0.01 * 5)
        assert row["placed_on"] == want["placed_on"].date().isoformat()
    assert [row["mrr_usd"] for row in result.grid.rows] == sorted((row["mrr_usd"] for row in result.grid.rows),
                                                                  reverse=True)


@pytest.mark.parametrize("scope_name", SCOPE_NAMES)
def test_accuracy_cohorts_and_collections_from_the_landing_files(session, reference, scope_name):
    scope = _scopes(reference)[scope_name]
    customers = reference.customers[reference.in_scope(reference.customers.index.to_series(), scope)]
    result = q.accuracy(session, ReceivablesQuery(), scope, policy=FULL)
    invoiced = customers[customers["invoices_12m"] > 0]
    for cohort, members in ((result.affected, invoiced[invoiced["adjusted_12m"] > 0]),
                            (result.others, invoiced[invoiced["adjusted_12m"] == 0])):
        assert (cohort.customers, cohort.churned) == (len(members), members["churned"].sum())
        assert (cohort.csat_sum, cohort.csat_responses) == (members["csat_sum"].sum(), members["csat_n"].sum())
    assert result.affected.customers > 0 and result.others.customers > 0
    invoices = reference.invoices[reference.in_scope(reference.invoices["customer"], scope)]
    result = q.collections(session, ReceivablesQuery(), scope, policy=FULL)
    as_of = reference.as_of
    for days in q.FORECAST_WINDOWS:
        within = invoices[(invoices["expected_on"] >= as_of) & (invoices["expected_on"] <= as_of + pd.Timedelta(days=days))]
        assert result.expected_invoices[days] == len(within), days
        assert result.expected_usd[days] == pytest.approx(within["usd"].sum(), abs=0.01), days
    past = invoices[invoices["expected_on"] < as_of]
    assert (result.past_usual_invoices, result.invoices_without_history) == (len(past), (~invoices["from_history"]).sum())
    assert result.past_usual_usd == pytest.approx(past["usd"].sum(), abs=0.01)
    assert result.outstanding_usd == pytest.approx(invoices["usd"].sum(), abs=0.01)


def _figures(result: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(result).items() if name != "resolved"}


@pytest.mark.parametrize("panel", [q.ageing, q.receivables, q.disputes, q.holds, q.accuracy, q.collections])
def test_a_territory_gets_the_same_figures_from_the_sums_as_from_the_rows(session, reference, panel):
    """The sums kept per territory (read for a scope of territories) and the invoices and customers' rows (read
    for a scope naming customers) give the same figures for the same customers."""
    territories = _scopes(reference)["territories"].territories
    summed = panel(session, ReceivablesQuery(), DataScope.restricted_to(territories=territories), policy=FULL)
    # Naming a customer no one has makes the scope read the rows, for the same customers.
    rows = panel(session, ReceivablesQuery(), DataScope.restricted_to(territories=territories, account_ids={"none"}),
                 policy=FULL)
    assert _figures(summed) == _figures(rows)


def test_billing_accuracy_by_month_and_the_forecast_as_shown(session):
    result = q.accuracy(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert 1 <= len(result.months) <= q.ACCURACY_MONTHS
    assert result.months[-1].month == result.resolved.as_of.replace(day=1)
    for month in result.months:
        issued, adjusted = session.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM silver.adjustments j "
            "WHERE j.invoice_id = i.invoice_id)) FROM silver.invoices i WHERE i.status IS DISTINCT FROM 'void' "
            "AND i.account_id IS NOT NULL AND date_trunc('month', i.issue_date) = :m AND i.issue_date <= :d"),
            {"m": month.month, "d": result.resolved.as_of}).one()
        assert (month.issued, month.adjusted) == (issued, adjusted), month.month
    assert result.adjusted > 0 and 0 < result.accuracy < 1
    shown = text_of(build_accuracy(session, {}, scope=EVERYTHING, policy=FULL))
    assert f"{result.adjusted:,} of {result.issued:,} invoices adjusted" in shown
    accounts_only = DataScope(unrestricted=False, account_ids=frozenset({"nobody"}))
    assert "per territory" in text_of(build_accuracy(session, {}, scope=accounts_only, policy=FULL))
    forecast = q.collections(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert 0 < forecast.expected_usd[30] <= forecast.expected_usd[60] <= forecast.expected_usd[90]
    assert format_usd(forecast.expected_usd[30]) in text_of(build_collections(session, {}, scope=EVERYTHING,
                                                                                policy=FULL))
    hidden = text_of(build_collections(session, {}, scope=EVERYTHING, policy=NO_MONEY))
    assert format_usd(forecast.expected_usd[30]) not in hidden and "hidden" in hidden

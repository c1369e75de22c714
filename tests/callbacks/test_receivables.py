"""Receivables wiring: each panel shows its figures from gold, money hidden without view_financials,
bad URL state falls back with a note, a territory scope sees only its accounts, and the page's callbacks
are refused server-side to a role without view_billing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

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


def test_a_territory_scope_shows_only_its_accounts(session):
    territory = _scalar(session, "SELECT territory FROM gold.receivable_invoice WHERE bucket <> 'current' "
                                 "GROUP BY territory ORDER BY count(*) DESC LIMIT 1")
    scope = DataScope(unrestricted=False, territories=frozenset({territory}))
    result = q.ageing(session, ReceivablesQuery(), scope, policy=FULL)
    expected = _scalar(session, "SELECT count(*) FROM gold.receivable_invoice WHERE bucket <> 'current' "
                                f"AND territory = '{territory}'")
    assert result.overdue_invoices == expected
    everything = q.ageing(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    assert result.overdue_invoices < everything.overdue_invoices


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


ACCURACY_COHORTS = """
WITH p AS (SELECT CAST(:as_of AS date) AS as_of),
recent AS (
    SELECT COALESCE(am.master_account_id, i.account_id) AS customer_id, i.account_id,
           EXISTS (SELECT 1 FROM silver.adjustments j WHERE j.invoice_id = i.invoice_id
                   AND j.created_at < CAST(p.as_of + 1 AS timestamptz)) AS adjusted
    FROM silver.invoices i CROSS JOIN p
    LEFT JOIN silver.account_master am ON am.account_id = i.account_id
    WHERE i.status IS DISTINCT FROM 'void' AND i.account_id IS NOT NULL
      AND i.issue_date <= p.as_of AND i.issue_date > p.as_of - 365
), customers AS (
    SELECT customer_id, bool_or(adjusted) AS affected, array_agg(DISTINCT account_id) AS accounts
    FROM recent GROUP BY customer_id
)
SELECT c.affected, count(*) AS customers,
       count(*) FILTER (WHERE CAST(x.churned_at AS date) > p.as_of - :churn_days
                        AND CAST(x.churned_at AS date) <= p.as_of) AS churned,
       (SELECT avg(s.csat) FROM gold.support_case s, customers c2, p p2
        WHERE c2.affected = c.affected AND s.account_id = ANY(c2.accounts)
          AND s.opened_day <= p2.as_of AND s.opened_day > p2.as_of - 365) AS csat
FROM customers c CROSS JOIN p
LEFT JOIN gold.customer_360 x ON x.account_id = c.customer_id
GROUP BY c.affected
"""


def test_billing_accuracy_by_month_with_csat_and_churn_of_the_affected_customers(session):
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
    expected = {affected: (n, churned, csat) for affected, n, churned, csat in session.execute(
        text(ACCURACY_COHORTS), {"as_of": result.resolved.as_of, "churn_days": q.CHURN_DAYS})}
    for cohort, affected in ((result.affected, True), (result.others, False)):
        n, churned, csat = expected[affected]
        assert (cohort.customers, cohort.churned) == (n, churned), affected
        assert cohort.csat == pytest.approx(float(csat) if csat is not None else None), affected
    shown = text_of(build_accuracy(session, {}, scope=EVERYTHING, policy=FULL))
    assert f"{result.adjusted:,} of {result.issued:,} invoices adjusted" in shown


def test_billing_accuracy_of_a_territory_and_of_an_account_scope(session):
    territory = _scalar(session, "SELECT territory FROM gold.receivables_monthly GROUP BY territory "
                                 "ORDER BY sum(issued_invoices) DESC LIMIT 1")
    scope = DataScope(unrestricted=False, territories=frozenset({territory}))
    everything = q.accuracy(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    result = q.accuracy(session, ReceivablesQuery(), scope, policy=FULL)
    assert 0 < result.issued < everything.issued
    assert result.affected.customers + result.others.customers < \
        everything.affected.customers + everything.others.customers
    accounts_only = DataScope(unrestricted=False, account_ids=frozenset({"nobody"}))
    shown = text_of(build_accuracy(session, {}, scope=accounts_only, policy=FULL))
    assert "per territory" in shown


def test_the_collections_forecast_sums_the_invoices_expected_in_each_window(session):
    result = q.collections(session, ReceivablesQuery(), EVERYTHING, policy=FULL)
    as_of = result.resolved.as_of
    for days in q.FORECAST_WINDOWS:
        usd, n = session.execute(text(
            "SELECT coalesce(sum(amount_usd), 0), count(*) FROM gold.receivable_invoice "
            "WHERE expected_paid_on >= :a AND expected_paid_on <= :b"), {"a": as_of, "b": as_of + timedelta(days=days)}).one()
        assert result.expected_usd[days] == pytest.approx(float(usd), abs=0.01), days
        assert result.expected_invoices[days] == n
    assert 0 < result.expected_usd[30] <= result.expected_usd[60] <= result.expected_usd[90]
    assert result.expected_usd[90] + result.past_usual_usd <= result.outstanding_usd + 0.01
    assert format_usd(result.expected_usd[30]) in text_of(build_collections(session, {}, scope=EVERYTHING, policy=FULL))
    hidden = text_of(build_collections(session, {}, scope=EVERYTHING, policy=NO_MONEY))
    assert format_usd(result.expected_usd[30]) not in hidden and "hidden" in hidden
    territory = _scalar(session, "SELECT territory FROM gold.receivable_invoice GROUP BY territory "
                                 "ORDER BY count(*) DESC LIMIT 1")
    scoped = q.collections(session, ReceivablesQuery(), DataScope(unrestricted=False, territories=frozenset({territory})),
                           policy=FULL)
    assert scoped.outstanding_usd < result.outstanding_usd

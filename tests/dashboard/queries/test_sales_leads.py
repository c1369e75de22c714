"""Leads and buyers queries: every figure the page shows, against an independent reading.

Open leads, their owners' territories and the purchases (won deals, new subscriptions) are read from
the pristine landing CSVs (tests/etl/reference.py). The lead scores, P(alive) and expected purchases
are the models' output (gold.lead_score, gold.repeat_purchase): the queries must rank, scope and mask
them as they stand; the models' own correctness is in tests/models/test_leads.py and the job's in
tests/etl/intelligence/test_leads_job.py.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries import sales_leads as q
from dashboard.queries.freshness import GoldStatus
from dashboard.queries.sales_leads import LeadsQuery
from dashboard.scope import DataScope
from models.leads import OPEN_STATUSES
from tests.etl.reference import raw_rows, typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)


def frame(session: Session, sql: str, **params) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@pytest.fixture()
def session(rolled_back: Session, leads_scored) -> Session:  # noqa: F811
    return rolled_back


@pytest.fixture(scope="module")
def open_leads(pristine_landing_dir) -> pd.DataFrame:
    """The open leads of the landing files with their owner's territory, independently of the pipeline."""
    leads = typed(pristine_landing_dir, "crm/leads")
    users = raw_rows(pristine_landing_dir, "crm/users").drop_duplicates("user_id", keep="last")
    leads = leads[leads["status"].isin(OPEN_STATUSES) & leads["converted_account_id"].isna()].copy()
    leads["territory"] = leads["owner_user_id"].map(users.set_index("user_id")["territory"])
    return leads


def _busiest_territory(open_leads: pd.DataFrame) -> str:
    return open_leads["territory"].value_counts().index[0]


def test_the_open_leads_are_counted_and_ranked_by_score(session, open_leads):
    result = q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert result.open_leads == len(open_leads)
    scores = [row["lead_score"] for row in result.grid.rows]
    assert scores == sorted(scores, reverse=True)
    assert [row["rank"] for row in result.grid.rows] == list(range(1, len(result.grid.rows) + 1))
    best = frame(session, "SELECT lead_id FROM gold.lead_score ORDER BY lead_score DESC, created_at DESC, lead_id "
                          "LIMIT 5")["lead_id"].tolist()
    assert [row["lead_id"] for row in result.grid.rows[:5]] == best


def test_the_auc_shown_is_the_latest_runs_validation_auc(session):
    result = q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL)
    run = frame(session, "SELECT * FROM gold.sales_model_run ORDER BY run_id DESC LIMIT 1").iloc[0]
    assert result.validation_auc == pytest.approx(run["lead_validation_auc"])
    assert (result.train_rows, result.validation_rows) == (run["lead_train_rows"], run["lead_validation_rows"])
    assert 0.6 < result.validation_auc <= 1.0


def test_a_source_filter_and_a_territory_scope(session, open_leads):
    territory = _busiest_territory(open_leads)
    scope = DataScope.restricted_to([territory])
    result = q.leads(session, LeadsQuery(source="referral"), scope, policy=FULL)
    expected = open_leads[(open_leads["territory"] == territory) & (open_leads["lead_source"] == "referral")]
    assert result.open_leads == len(expected)
    assert {row["lead_id"] for row in result.grid.rows} == set(expected["lead_id"])
    assert q.leads(session, LeadsQuery(), DataScope.nothing(), policy=FULL).open_leads == 0
    # An account manager's scope (accounts by name) holds no leads.
    assert q.leads(session, LeadsQuery(), DataScope.restricted_to([], ["ACC-000001"]), policy=FULL).open_leads == 0


def test_emails_and_phones_are_masked_without_pii(session):
    shown = q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL).grid.rows
    masked = q.leads(session, LeadsQuery(), EVERYTHING, policy=MASKED).grid.rows
    with_email = [(a, b) for a, b in zip(shown, masked, strict=True) if a["email"]]
    assert with_email
    for full, hidden in with_email:
        assert "***@" in hidden["email"] and hidden["email"] != full["email"]
    assert all(hidden["phone"] != full["phone"] for full, hidden in zip(shown, masked, strict=True) if full["phone"])


def test_purchases_per_customer_match_the_landing_files(session, pristine_landing_dir):
    """Purchase weeks per customer: won deals by close day and new subscriptions by start day."""
    opportunities = typed(pristine_landing_dir, "crm/opportunities")
    subscriptions = typed(pristine_landing_dir, "crm/subscriptions")
    links = frame(session, "SELECT account_id, master_account_id FROM silver.account_master")
    master = links.set_index("account_id")["master_account_id"]
    won = opportunities[(opportunities["is_won"] == True) & (opportunities["is_closed"] == True)  # noqa: E712
                        & opportunities["close_date"].notna()]
    events = pd.concat([won[["account_id", "close_date"]].rename(columns={"close_date": "day"}),
                        subscriptions[["account_id", "start_date"]].rename(columns={"start_date": "day"})])
    events["customer"] = events["account_id"].map(master).fillna(events["account_id"])
    events["week"] = events["day"].dt.to_period("W")
    weeks = events.groupby("customer")["week"].nunique()
    result = q.repeat_buyers(session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert result.customers == frame(session, "SELECT count(*) AS n FROM gold.repeat_purchase")["n"][0]
    for row in result.grid.rows[:50]:
        assert row["purchases"] == weeks[row["account_id"]], row["account_id"]


def test_repeat_buyers_are_ranked_by_expected_purchases_in_the_scope(session):
    result = q.repeat_buyers(session, LeadsQuery(), EVERYTHING, policy=FULL)
    expected = [row["expected_purchases"] for row in result.grid.rows]
    assert expected == sorted(expected, reverse=True) and expected[0] > 0
    alive = frame(session, "SELECT count(*) AS n FROM gold.repeat_purchase WHERE p_alive >= 0.5")["n"][0]
    assert result.likely_customers == alive
    assert set(result.parameters) >= {"r", "alpha", "a", "b"}
    territory = frame(session, "SELECT territory FROM gold.repeat_purchase GROUP BY 1 ORDER BY count(*) DESC, 1 "
                               "LIMIT 1")["territory"][0]
    scoped = q.repeat_buyers(session, LeadsQuery(), DataScope.restricted_to([territory]), policy=FULL)
    assert scoped.customers == frame(session, "SELECT count(*) AS n FROM gold.repeat_purchase WHERE territory = :t",
                                     t=territory)["n"][0]
    assert {row["territory"] for row in scoped.grid.rows} == {territory}


def test_repeat_buyers_mrr_is_a_band_without_financials(session):
    full = q.repeat_buyers(session, LeadsQuery(), EVERYTHING, policy=FULL).grid.rows
    masked = q.repeat_buyers(session, LeadsQuery(), EVERYTHING, policy=MASKED).grid.rows
    for a, b in zip(full, masked, strict=True):
        assert b["mrr_usd"] == (amount_band(a["mrr_usd"]) if a["mrr_usd"] is not None else None)


def test_declines_are_counted_by_kind_and_lose_their_amounts_without_financials(session):
    result = q.declines(session, LeadsQuery(), EVERYTHING, policy=FULL)
    gold = frame(session, "SELECT decline_kind, count(*) AS n, sum(mrr_change_usd) AS change FROM gold.buying_decline "
                          "GROUP BY 1")
    assert result.counts == {kind: int(gold.set_index("decline_kind")["n"].get(kind, 0)) for kind in q.DECLINE_KINDS}
    assert result.lost_mrr_usd == pytest.approx(-float(gold["change"].sum()))
    changes = [row["mrr_change_usd"] for row in result.grid.rows]
    assert changes == sorted(changes)
    churned = q.declines(session, LeadsQuery(kind="churned"), EVERYTHING, policy=FULL)
    assert {row["decline_kind"] for row in churned.grid.rows} == {"churned"}
    masked = q.declines(session, LeadsQuery(), EVERYTHING, policy=MASKED)
    assert masked.lost_mrr_usd is None
    assert all(row["mrr_change_usd"] is None for row in masked.grid.rows)
    assert all(isinstance(row["mrr_before_usd"], str) for row in masked.grid.rows)


def test_unknown_url_values_fall_back_with_a_note(session):
    resolved = q.resolve(session, LeadsQuery(source="spam", kind="x" * 500), EVERYTHING)
    assert (resolved.source, resolved.kind) == (None, None) and len(resolved.notes) == 2
    assert q.LeadsQuery.from_args({"source": ["referral"], "kind": ["churned"]}).search == \
        "?source=referral&kind=churned"


def test_before_the_job_ran_the_gold_status_is_returned(session):
    session.execute(text("DELETE FROM gold.sales_model_run"))
    assert isinstance(q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL), GoldStatus)
    assert isinstance(q.declines(session, LeadsQuery(), EVERYTHING, policy=FULL), GoldStatus)


def test_exports_are_the_grids(session):
    args = {"source": ["web"]}
    exported = q.export_leads(session, args, EVERYTHING, FULL)
    assert exported.rows == q.leads(session, LeadsQuery(source="web"), EVERYTHING, policy=FULL).grid.rows
    assert q.export_name(args) == "web" and q.export_name({}) == "all"
    assert q.export_repeat(session, {}, DataScope.nothing(), FULL).rows == []


# --- Renewals due and cross-sell and upsell: My accounts' and Strategy's definitions, recomputed ---------------


@pytest.fixture()
def book_session(rolled_back: Session, leads_scored, insights_ran) -> Session:  # noqa: F811
    """The session once every job ran: renewals read the churn levels, potential the next-best actions."""
    return rolled_back


@pytest.fixture()
def renewal_facts(book_session) -> dict:
    """Per active customer: next renewal (from the subscriptions, as tests/dashboard/queries/test_book.py
    derives it), MRR on the as-of day (the daily view, summed in pandas), churn level and health band."""
    from dashboard.queries import book
    from tests.dashboard.queries.test_book import next_renewal

    session = book_session
    as_of = book.data_as_of(session)
    masters = frame(session, "SELECT a.account_id, COALESCE(m.master_account_id, a.account_id) AS master_id "
                             "FROM silver.accounts a LEFT JOIN silver.account_master m USING (account_id)")
    subs = frame(session, """
        SELECT s.subscription_id, s.account_id, s.start_date, s.end_date, m.active_from, m.active_until
        FROM gold.subscription_mrr m JOIN silver.subscriptions s USING (subscription_id)""")
    subs = subs[(subs["active_from"] <= as_of) & (subs["active_until"].isna() | (subs["active_until"] > as_of))]
    subs = subs.merge(masters, on="account_id", how="left")
    daily = frame(session, "SELECT account_id, mrr_usd FROM gold.subscription_mrr_daily WHERE day = :day", day=as_of)
    daily = daily.merge(masters, on="account_id", how="left")
    mrr = daily.groupby("master_id")["mrr_usd"].sum().astype(float).round(2)
    customers = frame(session, "SELECT c.account_id, c.territory, c.status, c.risk_level, h.health_band "
                               "FROM gold.customer_360 c LEFT JOIN gold.account_health h USING (account_id)")
    active = customers[customers["status"] == "active"].set_index("account_id")
    active["renewal"] = next_renewal(subs, as_of).reindex(active.index)
    active["mrr"] = mrr.reindex(active.index).fillna(0.0)
    return {"as_of": as_of, "active": active, "add_months": book.add_months}


def _due(facts: dict, months: int, territory: str | None = None) -> pd.DataFrame:
    active = facts["active"]
    if territory is not None:
        active = active[active["territory"] == territory]
    renewal = active["renewal"]
    return active[renewal.notna() & (renewal > facts["as_of"]) & (renewal <= facts["add_months"](facts["as_of"], months))]


@pytest.mark.parametrize("months", [3, 6])
def test_renewals_due_match_the_subscriptions(book_session, renewal_facts, months):
    result = q.renewals(book_session, LeadsQuery(months=str(months)), EVERYTHING, policy=FULL)
    due = _due(renewal_facts, months)
    assert result.resolved.months == months
    assert result.renewals == len(due) > 0
    assert result.mrr_usd == pytest.approx(due["mrr"].sum(), abs=0.05)
    high = due[due["risk_level"] == "HIGH"]
    assert result.high_risk == len(high)
    assert result.high_risk_mrr_usd == pytest.approx(high["mrr"].sum(), abs=0.05)
    assert result.unhealthy == int((due["health_band"] == "Critical").sum())
    shown = {row["account_id"] for row in result.grid.rows}
    assert shown <= set(due.index) and len(shown) == min(len(due), q.RENEWAL_LIMIT)
    mrr = [row["mrr_usd"] for row in result.grid.rows]
    assert mrr == sorted(mrr, reverse=True)


def test_three_months_of_renewals_are_part_of_six(book_session):
    three = q.renewals(book_session, LeadsQuery(months="3"), EVERYTHING, policy=FULL)
    six = q.renewals(book_session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert six.resolved.months == 6 and three.renewals < six.renewals


def test_renewals_of_a_territory_are_its_own(book_session, renewal_facts):
    territory = _due(renewal_facts, 6)["territory"].value_counts().index[0]
    scope = DataScope(unrestricted=False, territories=frozenset({territory}))
    result = q.renewals(book_session, LeadsQuery(), scope, policy=FULL)
    due = _due(renewal_facts, 6, territory)
    assert result.renewals == len(due) > 0
    assert {row["account_id"] for row in result.grid.rows} == set(due.index)


def test_renewal_amounts_are_bands_without_financials(book_session):
    result = q.renewals(book_session, LeadsQuery(), EVERYTHING, policy=MASKED)
    full = q.renewals(book_session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert result.mrr_usd is None and result.mrr_band == amount_band(full.mrr_usd)
    assert result.high_risk_mrr_usd is None and result.high_risk_mrr_band == amount_band(full.high_risk_mrr_usd)
    bands = {row["mrr_usd"] for row in result.grid.rows}
    assert bands and all(isinstance(band, str) for band in bands if band is not None)


def test_an_unknown_renewal_window_falls_back_to_six_months_with_a_note(book_session):
    result = q.renewals(book_session, LeadsQuery(months="12"), EVERYTHING, policy=FULL)
    assert result.resolved.months == 6 and any("3 or 6 months" in note for note in result.resolved.notes)
    assert result.resolved.canonical.search == ""


def test_cross_sell_is_the_strategy_page_s_ranking_for_the_same_scope(book_session):
    from dashboard.queries import strategy

    for scope in (EVERYTHING, DataScope(unrestricted=False, territories=frozenset(
            frame(book_session, "SELECT territory FROM gold.account_book WHERE active AND gap_count > 0 "
                                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")["territory"]))):
        ours = q.potential(book_session, LeadsQuery(), scope, policy=FULL)
        theirs = strategy.potential(book_session, strategy.StrategyQuery(), scope, policy=FULL)
        assert ours.candidates == theirs.candidates > 0
        assert ours.grid.rows == theirs.grid.rows

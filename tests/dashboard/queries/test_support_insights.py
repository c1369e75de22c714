"""Operations page queries: every figure the page shows, against an independent reading.

Tickets, subscriptions, accounts and onboarding milestones are read from the pristine landing CSVs
(tests/etl/reference.py: the newest version per id, restricted to the ids that reached silver when the
generator planted malformed rows). The text job's output (gold.text_score labels, gold.topic_trend,
gold.sentiment_daily) and the customers' MRR (gold.customer_360) are taken as inputs: the queries must
count, scope and mask them as they stand.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from statsmodels.stats.proportion import proportion_confint

from dashboard.masking import MaskPolicy
from dashboard.queries import support_insights as q
from dashboard.queries.support_insights import OperationsQuery
from dashboard.scope import DataScope
from tests.etl.reference import raw_rows, typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)


def frame(session: Session, sql: str, **params) -> pd.DataFrame:
    result = session.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@pytest.fixture(scope="module")
def text_scored(loaded_database):
    """The text job (gold.text_score, sentiment_daily, topic_trend) run once for these tests."""
    from etl.insights.text import run_text_insights

    run_text_insights(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture()
def session(rolled_back: Session, text_scored) -> Session:
    return rolled_back


@pytest.fixture(scope="module")
def as_of(loaded_database):
    with loaded_database.session() as s:
        return s.scalar(text("SELECT max(opened_day) FROM gold.support_case"))


@pytest.fixture(scope="module")
def accounts(pristine_landing_dir) -> pd.DataFrame:
    return typed(pristine_landing_dir, "crm/accounts").set_index("account_id")


@pytest.fixture(scope="module")
def tickets(pristine_landing_dir, loaded_database, accounts, as_of) -> pd.DataFrame:
    """The landing tickets that reached silver, with their account's region and territory."""
    frame_ = typed(pristine_landing_dir, "support/tickets")
    with loaded_database.session() as s:
        in_silver = set(s.scalars(text("SELECT ticket_id FROM silver.tickets")))
    frame_ = frame_[frame_["ticket_id"].isin(in_silver)].copy()
    frame_["opened_day"] = frame_["created_at"].dt.tz_convert("UTC").dt.date
    frame_ = frame_[frame_["opened_day"] <= as_of]
    frame_["region"] = frame_["account_id"].map(accounts["region"]).fillna("Unknown")
    frame_["territory"] = frame_["account_id"].map(accounts["territory"]).fillna("Unknown")
    frame_["first_response_minutes"] = (frame_["first_response_at"] - frame_["created_at"]).dt.total_seconds() / 60
    frame_["resolution_minutes"] = (frame_["resolved_at"] - frame_["created_at"]).dt.total_seconds() / 60
    return frame_


@pytest.fixture(scope="module")
def customer_of(loaded_database) -> dict[str, str]:
    """Each regional account's customer (identity resolution's output, taken as input here)."""
    with loaded_database.session() as s:
        rows = s.execute(text("SELECT account_id, regional_account_ids FROM gold.customer_360")).all()
    return {regional: master for master, regionals in rows for regional in regionals or []}


def _period(tickets: pd.DataFrame, as_of, days: int) -> pd.DataFrame:
    start = as_of - timedelta(days=days - 1)
    return tickets[(tickets["opened_day"] >= start) & (tickets["opened_day"] <= as_of)]


def _busiest_territory(tickets: pd.DataFrame) -> str:
    return tickets.loc[tickets["territory"] != "Unknown", "territory"].value_counts().index[0]


# --- Satisfaction -----------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [30, 90])
def test_csat_by_product_region_and_agent_with_wilson_intervals(session, tickets, as_of, pristine_landing_dir, days):
    result = q.satisfaction(session, OperationsQuery(days=str(days)), EVERYTHING, policy=FULL)
    rated = _period(tickets, as_of, days).dropna(subset=["csat"]).copy()
    assert result.rated == len(rated)
    assert result.satisfied == int((rated["csat"] >= 4).sum())
    assert result.avg_csat == pytest.approx(rated["csat"].mean())
    products = raw_rows(pristine_landing_dir, "crm/products").drop_duplicates("product_id", keep="last")
    agents = raw_rows(pristine_landing_dir, "support/agents").drop_duplicates("agent_id", keep="last")
    rated["product"] = rated["product_id"].map(products.set_index("product_id")["product_name"]).fillna("No product")
    rated["agent"] = (rated["agent_id"].map(agents.set_index("agent_id")["full_name"])
                      .fillna(rated["agent_id"]).fillna("Unassigned"))
    for dimension, column in (("product", "product"), ("region", "region"), ("agent", "agent")):
        shown = {r["group"]: r for r in result.grids[dimension].rows}
        expected = rated.groupby(column)["csat"].agg(rated="count", satisfied=lambda s: int((s >= 4).sum()),
                                                     mean="mean")
        assert set(shown) == set(expected.index), dimension
        for group, row in expected.iterrows():
            got = shown[group]
            assert (got["rated"], got["satisfied"]) == (row["rated"], row["satisfied"]), (dimension, group)
            low, high = proportion_confint(row["satisfied"], row["rated"], alpha=0.05, method="wilson")
            assert got["low"] == pytest.approx(low, abs=1e-6) and got["high"] == pytest.approx(high, abs=1e-6)
            assert got["avg_csat"] == pytest.approx(row["mean"], abs=0.006)
    # Worst first: the smallest share satisfied leads.
    shares = [r["satisfied_share"] for r in result.grids["region"].rows]
    assert shares == sorted(shares)


# --- Tickets per customer by product -------------------------------------------------------------------


def _running(pristine_landing_dir, loaded_database, as_of, days: int) -> pd.DataFrame:
    subs = typed(pristine_landing_dir, "crm/subscriptions")
    with loaded_database.session() as s:
        in_silver = set(s.scalars(text("SELECT subscription_id FROM silver.subscriptions")))
    subs = subs[subs["subscription_id"].isin(in_silver) & subs["product_id"].notna() & subs["account_id"].notna()]
    spans = subs.groupby(["product_id", "account_id"]).agg(
        running_from=("start_date", "min"), running_until=("end_date", "max"),
        still=("end_date", lambda s: s.isna().any())).reset_index()
    spans.loc[spans["still"], "running_until"] = pd.NaT
    start = pd.Timestamp(as_of - timedelta(days=days - 1))
    return spans[(spans["running_from"] <= pd.Timestamp(as_of))
                 & (spans["running_until"].isna() | (spans["running_until"] > start))]


@pytest.mark.parametrize("territory_scope", [False, True])
def test_tickets_per_customer_by_product(session, tickets, accounts, as_of, pristine_landing_dir, loaded_database,
                                         territory_scope):
    scope, period = EVERYTHING, _period(tickets, as_of, 30)
    running = _running(pristine_landing_dir, loaded_database, as_of, 30)
    if territory_scope:
        territory = _busiest_territory(tickets)
        scope = DataScope.restricted_to([territory])
        period = period[period["territory"] == territory]
        running = running[running["account_id"].map(accounts["territory"]).fillna("Unknown") == territory]
    result = q.products(session, OperationsQuery(), scope, policy=FULL)
    shown = {r["product_id"]: r for r in result.grid.rows}
    per_product = period.dropna(subset=["product_id"]).groupby("product_id").agg(
        tickets=("ticket_id", "count"), accounts=("account_id", "nunique"))
    customers = running.groupby("product_id")["account_id"].nunique()
    assert set(shown) == set(per_product.index) | set(customers.index)
    for product_id, row in shown.items():
        count = int(per_product["tickets"].get(product_id, 0))
        running_customers = int(customers.get(product_id, 0))
        assert (row["tickets"], row["customers"]) == (count, running_customers), product_id
        assert row["customers_with_tickets"] == int(per_product["accounts"].get(product_id, 0))
        if running_customers:
            assert row["tickets_per_customer"] == pytest.approx(count / running_customers, abs=1e-3)
    assert result.tickets == int(per_product["tickets"].sum())


@pytest.mark.parametrize("days", [7, 30, 90])
def test_the_kept_running_customers_are_the_product_rows_own(session, tickets, accounts, days):
    assert session.scalar(text("SELECT count(*) FROM gold.support_product_running WHERE period_days = :d"),
                          {"d": days}) > 0
    territory = _busiest_territory(tickets)
    outsider = accounts.index[accounts["territory"] != territory][0]
    region = accounts.loc[accounts["territory"] == territory, "region"].iloc[0]
    for scope, query in ((EVERYTHING, OperationsQuery(days=str(days))),
                         (DataScope.restricted_to([territory]), OperationsQuery(days=str(days))),
                         (EVERYTHING, OperationsQuery(days=str(days), region=region)),
                         (DataScope.restricted_to([territory], [outsider]), OperationsQuery(days=str(days)))):
        resolved = q.resolve(session, query, scope)
        kept = {k: (r.product_name, int(r.customers)) for k, r in q._running_customers(session, resolved).items()}
        counted = {k: (r.product_name, int(r.customers))
                   for k, r in q._running_customers(session, resolved, from_rows=True).items()}
        assert kept == counted and kept, (scope, query)


# --- Repeat issues and systemic issues --------------------------------------------------------------------


def _repeat_flags(tickets: pd.DataFrame, as_of, days: int, customer_of: dict[str, str]) -> pd.DataFrame:
    """Tickets of the period, flagged when the same customer opened one of the same category in the 30 days
    before; `account_id` becomes the customer (master account)."""
    start = as_of - timedelta(days=days - 1)
    frame_ = tickets[(tickets["opened_day"] >= start - timedelta(days=30)) & (tickets["opened_day"] <= as_of)
                     & tickets["account_id"].notna() & tickets["category"].notna()].copy()
    frame_["account_id"] = frame_["account_id"].map(lambda a: customer_of.get(a, a))
    frame_ = frame_.sort_values(["account_id", "category", "created_at", "ticket_id"])
    previous = frame_.groupby(["account_id", "category"])["created_at"].shift()
    frame_ = frame_.assign(in_period=frame_["opened_day"] >= start,
                           repeat=(frame_["opened_day"] >= start) & (frame_["created_at"] - previous
                                                                     <= pd.Timedelta(days=30)))
    return frame_[frame_["in_period"]]


@pytest.mark.parametrize("days", [7, 30])
def test_repeat_issue_share_and_customers(session, tickets, as_of, days, customer_of):
    result = q.repeats(session, OperationsQuery(days=str(days)), EVERYTHING, policy=FULL)
    flags = _repeat_flags(tickets, as_of, days, customer_of)
    assert result.customers == flags["account_id"].nunique()
    assert result.repeat_customers == flags.loc[flags["repeat"], "account_id"].nunique()
    assert result.tickets == len(flags) and result.repeat_tickets == int(flags["repeat"].sum())
    assert 0 < result.repeat_share < 1
    per_account = flags[flags["repeat"]].groupby("account_id").size()
    shown = {r["account_id"]: r["repeat_tickets"] for r in result.grid.rows}
    assert shown == {a: int(per_account[a]) for a in shown}
    assert max(shown.values()) == per_account.max()


def test_repeat_issues_in_a_territory_scope(session, tickets, as_of, customer_of):
    territory = _busiest_territory(tickets)
    result = q.repeats(session, OperationsQuery(), DataScope.restricted_to([territory]), policy=FULL)
    flags = _repeat_flags(tickets[tickets["territory"] == territory], as_of, 30, customer_of)
    assert (result.customers, result.repeat_customers) == (
        flags["account_id"].nunique(), flags.loc[flags["repeat"], "account_id"].nunique())
    assert {r["territory"] for r in result.grid.rows} <= {territory}
    assert q.repeats(session, OperationsQuery(), DataScope.nothing(), policy=FULL).customers == 0


def test_systemic_issues_against_the_usual_weekly_level(session, tickets, as_of):
    result = q.systemic(session, OperationsQuery(), EVERYTHING, policy=FULL)
    recent = tickets[(tickets["opened_day"] > as_of - timedelta(days=7 * 13)) & tickets["category"].notna()
                     & tickets["account_id"].notna()].copy()
    recent["week"] = recent["opened_day"].map(lambda d: (as_of - d).days // 7)
    weekly = recent.groupby(["category", "week"])["account_id"].nunique().unstack(fill_value=0)
    for week in range(13):
        if week not in weekly.columns:
            weekly[week] = 0
    shown = {r.category: r for r in result.rows}
    assert set(shown) == set(weekly.index)
    for category, counts in weekly.iterrows():
        usual = counts[list(range(1, 13))].sum() / 12
        assert shown[category].accounts_last_week == counts[0]
        assert shown[category].usual_weekly == pytest.approx(usual, abs=0.01)
        assert shown[category].flagged == (counts[0] >= 3 and counts[0] >= 2 * usual)
    assert q.is_systemic(10, 4.0) and not q.is_systemic(7, 4.0) and not q.is_systemic(2, 0.2)


# --- Complaints -----------------------------------------------------------------------------------------------


def test_complaints_resolved_within_sla(session, tickets, as_of):
    result = q.complaints(session, OperationsQuery(days="90"), EVERYTHING, policy=FULL)
    labels = frame(session, "SELECT item_id AS ticket_id, label FROM gold.text_score WHERE source = 'ticket'")
    period = _period(tickets, as_of, 90).merge(labels, on="ticket_id", how="left")
    period = period[((period["label"] == "negative") | (period["is_escalated"] == True))  # noqa: E712
                    & period["severity"].isin(list(q.RESOLUTION_TARGET_HOURS))].copy()
    period["target"] = period["severity"].map(q.RESOLUTION_TARGET_HOURS) * 60
    as_of_end = pd.Timestamp(as_of + timedelta(days=1), tz="UTC")
    period["decided"] = period["resolved_at"].notna() | (
        period["created_at"] + pd.to_timedelta(period["target"], unit="min") < as_of_end)
    first_ok = period["sla_first_response_minutes"].isna() | (
        period["first_response_minutes"] <= period["sla_first_response_minutes"])
    period["within"] = period["resolved_at"].notna() & first_ok & (period["resolution_minutes"] <= period["target"])
    expected = period.groupby("severity").agg(n=("ticket_id", "count"), decided=("decided", "sum"),
                                              within=("within", "sum"))
    shown = {r.severity: r for r in result.rows}
    assert set(shown) == set(expected.index)
    for severity, row in expected.iterrows():
        assert (shown[severity].complaints, shown[severity].decided, shown[severity].within_sla) == (
            row["n"], row["decided"], row["within"]), severity
    assert 0 < result.total.share < 1


MISLABELLED = """
    SELECT count(*) FILTER (WHERE sc.subject_negative IS DISTINCT FROM COALESCE(s.label = 'negative', false)) AS wrong,
           count(*) FILTER (WHERE sc.subject_negative) AS negative
    FROM gold.support_case sc LEFT JOIN gold.text_score s ON s.source = 'ticket' AND s.item_id = sc.case_id
    WHERE sc.kind = 'ticket'"""


def test_each_ticket_carries_its_subject_s_label_from_the_text_job_and_the_gold_build(session, as_of):
    from etl.gold import GOLD_STEPS
    from etl.insights.text import MARK_NEGATIVE_SQL

    wrong, negative = session.execute(text(MISLABELLED)).one()
    assert wrong == 0 and negative > 0  # set by the text job, which ran after the gold build
    # The gold build copies the label itself.
    step = next(s for s in GOLD_STEPS if getattr(s, "table", None) is not None and s.table.name == "support_case")
    session.execute(text("DELETE FROM gold.support_case"))
    step.run(session.connection(), {"since_day": date.min, "as_of": as_of, "first_day": date.min})
    assert session.execute(text(MISLABELLED)).one() == (0, negative)
    # The text job marks the tickets it scores again and unmarks those whose text is gone.
    rescored, gone = session.execute(text("SELECT case_id FROM gold.support_case WHERE subject_negative "
                                          "ORDER BY case_id LIMIT 2")).scalars().all()
    session.execute(text("UPDATE gold.text_score SET label = 'positive' WHERE source = 'ticket' AND item_id = :i"),
                    {"i": rescored})
    session.execute(text("DELETE FROM gold.text_score WHERE source = 'ticket' AND item_id = :i"), {"i": gone})
    session.execute(text("CREATE TEMP TABLE text_unscored ON COMMIT DROP AS SELECT 'ticket'::text AS source, "
                         "CAST(:i AS text) AS item_id"), {"i": rescored})
    assert session.execute(text(MARK_NEGATIVE_SQL), {"dropped": [gone]}).rowcount == 2
    assert session.execute(text(MISLABELLED)).one() == (0, negative - 2)


# --- Onboarding ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def milestones(pristine_landing_dir, loaded_database, accounts) -> pd.DataFrame:
    frame_ = typed(pristine_landing_dir, "crm/onboarding_milestones")
    subs = typed(pristine_landing_dir, "crm/subscriptions")
    with loaded_database.session() as s:
        in_silver = set(s.scalars(text("SELECT milestone_id FROM silver.onboarding_milestones")))
        subs_in_silver = set(s.scalars(text("SELECT subscription_id FROM silver.subscriptions")))
    frame_ = frame_[frame_["milestone_id"].isin(in_silver) & frame_["account_id"].notna()].copy()
    contract = subs[subs["subscription_id"].isin(subs_in_silver)].groupby("account_id")["start_date"].min()
    frame_["completed_on"] = pd.to_datetime(frame_["completed_at"].dt.tz_convert("UTC").dt.date)
    frame_ = frame_.sort_values(["account_id", "sequence", "milestone_id"])
    frame_["started_on"] = frame_.groupby("account_id")["completed_on"].shift()
    first = frame_.groupby("account_id").cumcount() == 0
    frame_.loc[first, "started_on"] = frame_.loc[first, "account_id"].map(contract)
    frame_["days_taken"] = (frame_["completed_on"] - frame_["started_on"]).dt.days
    frame_["days_late"] = (frame_["completed_on"] - frame_["planned_date"]).dt.days
    frame_["territory"] = frame_["account_id"].map(accounts["territory"]).fillna("Unknown")
    frame_["churned"] = frame_["account_id"].map(accounts["churned_at"]).notna()
    return frame_


def test_onboarding_stage_durations_delays_and_stuck_accounts(session, milestones, as_of, customer_of):
    result = q.onboarding(session, OperationsQuery(), EVERYTHING, policy=FULL)
    since = pd.Timestamp(as_of - timedelta(days=q.ONBOARDING_DAYS - 1))
    done = milestones[(milestones["completed_on"] >= since) & (milestones["completed_on"] <= pd.Timestamp(as_of))]
    expected = done.groupby("milestone").agg(n=("milestone_id", "count"), taken=("days_taken", "median"),
                                             late=("days_late", "median"),
                                             late_share=("days_late", lambda s: (s > 0).mean()))
    shown = {s.milestone: s for s in result.stages}
    assert set(shown) == set(expected.index) and len(shown) == 6
    assert [s.milestone for s in result.stages] == list(q.MILESTONE_ORDER)
    for milestone, row in expected.iterrows():
        stage = shown[milestone]
        assert stage.completed == row["n"]
        assert stage.median_days_taken == pytest.approx(row["taken"])
        assert stage.median_days_late == pytest.approx(row["late"])
        assert stage.late_share == pytest.approx(row["late_share"])
    assert result.slowest_stage.milestone == expected["late"].idxmax()
    live = done[done["milestone"] == "go_live"].merge(
        milestones[milestones["milestone"] == "kickoff"][["account_id", "started_on"]], on="account_id",
        suffixes=("", "_kickoff")).dropna(subset=["started_on_kickoff"])
    assert result.went_live == len(live)
    assert result.median_days_to_live == pytest.approx(
        np.median((live["completed_on"] - live["started_on_kickoff"]).dt.days))
    stuck = milestones[milestones["completed_on"].isna() & (milestones["planned_date"] < pd.Timestamp(as_of))
                       & ~milestones["churned"]].copy()
    stuck["account_id"] = stuck["account_id"].map(lambda a: customer_of.get(a, a))  # rows open Customer 360
    stuck = stuck.sort_values(["account_id", "planned_date", "sequence", "milestone_id"]).drop_duplicates("account_id")
    rows = {r["account_id"]: r for r in result.stuck.rows}
    assert set(rows) == set(stuck["account_id"])
    for _, m in stuck.iterrows():
        assert rows[m["account_id"]]["milestone"] == m["milestone"]
        assert rows[m["account_id"]]["days_overdue"] == (pd.Timestamp(as_of) - m["planned_date"]).days


# --- VIP attention ---------------------------------------------------------------------------------------------


def test_vip_accounts_ranked_by_urgency(session, tickets, as_of):
    result = q.vip(session, OperationsQuery(), EVERYTHING, policy=FULL)
    customers = frame(session, "SELECT account_id, mrr_usd, regional_account_ids FROM gold.customer_360")
    paying = customers[customers["mrr_usd"] > 0]["mrr_usd"].astype(float)
    threshold = float(np.percentile(paying, 90))
    assert result.threshold_usd == pytest.approx(threshold)
    vips = customers[customers["mrr_usd"].astype(float) >= threshold]
    assert result.vip_customers == len(vips)
    master = {r: row.account_id for row in vips.itertuples() for r in (row.regional_account_ids or [])}
    own = tickets[tickets["account_id"].isin(master)].copy()
    own["master"] = own["account_id"].map(master)
    start = as_of - timedelta(days=29)
    as_of_end = pd.Timestamp(as_of + timedelta(days=1), tz="UTC")
    own["open_high"] = own["resolved_at"].isna() & own["severity"].isin(["P1", "P2"])
    own["breach"] = (own["opened_day"] >= start) & own["sla_first_response_minutes"].notna() & (
        (own["first_response_minutes"] > own["sla_first_response_minutes"])
        | (own["first_response_at"].isna() & (own["created_at"] + pd.to_timedelta(
            own["sla_first_response_minutes"], unit="min") < as_of_end)))
    p1 = own[own["open_high"] & (own["severity"] == "P1")].groupby("master").size()
    p2 = own[own["open_high"] & (own["severity"] == "P2")].groupby("master").size()
    breaches = own[own["breach"]].groupby("master").size()
    rows = {r["account_id"]: r for r in result.grid.rows}
    assert rows, "some VIP needs attention in the demo data"
    for account_id, row in rows.items():
        assert (row["open_p1"], row["open_p2"], row["sla_breaches"]) == (
            int(p1.get(account_id, 0)), int(p2.get(account_id, 0)), int(breaches.get(account_id, 0))), account_id
        assert row["urgency"] == q.urgency(row["open_p1"], row["open_p2"], row["sla_breaches"],
                                           row["sentiment_falling"])
        assert row["reason"]
    # Every VIP with an open P1/P2 or a breach is listed, most urgent first.
    needing = set(p1.index) | set(p2.index) | set(breaches.index)
    assert needing <= set(rows)
    urgencies = [r["urgency"] for r in result.grid.rows]
    assert urgencies == sorted(urgencies, reverse=True)


def test_vip_mrr_is_a_band_without_financials(session):
    full = q.vip(session, OperationsQuery(), EVERYTHING, policy=FULL)
    masked = q.vip(session, OperationsQuery(), EVERYTHING, policy=MASKED)
    assert masked.threshold_usd is None and full.threshold_usd is not None
    assert all(isinstance(r["mrr_usd"], float) for r in full.grid.rows)
    assert all(isinstance(r["mrr_usd"], str) for r in masked.grid.rows)


# --- Topics and sentiment ----------------------------------------------------------------------------------------


def test_topics_are_the_text_jobs_trend_with_masked_samples(session, as_of):
    result = q.topics(session, OperationsQuery(), EVERYTHING, policy=FULL)
    trend = frame(session, "SELECT term, mentions, previous_mentions FROM gold.topic_trend "
                           "WHERE kind = 'topic' AND period_days = 30 AND mentions > 0 ORDER BY mentions DESC, term")
    assert result.company_wide
    assert [(r.topic, r.mentions, r.previous_mentions) for r in result.rows] == \
        list(trend.head(q.TOPIC_LIMIT).itertuples(index=False, name=None))
    assert any(r.samples for r in result.rows)
    # A ticket subject holding an email and a phone number is masked for a role without PII access.
    topic = next(r.topic for r in result.rows if r.samples)
    session.execute(text("""
        INSERT INTO gold.support_case (kind, case_id, account_id, region, territory, channel, severity, category,
                                       subject, team, opened_at, opened_day, opened_weekday, opened_hour, is_open,
                                       messages)
        VALUES ('ticket', 'T-PRIVATE', NULL, 'Unknown', 'Unknown', 'email', 'P3', 'billing',
                'Write to jane.doe@example.com or call +44 20 7946 0958', 'Unassigned',
                CAST(:day AS date) + time '23:59', :day, 1, 23, true, 0)"""), {"day": as_of})
    session.execute(text("""
        INSERT INTO gold.text_score (source, item_id, text_md5, compound, label, topics, keywords, scored_at)
        VALUES ('ticket', 'T-PRIVATE', 'x', -0.5, 'negative', ARRAY[:topic], ARRAY['write'], now())"""),
                    {"topic": topic})
    clear = q.topics(session, OperationsQuery(), EVERYTHING, policy=FULL)
    masked = q.topics(session, OperationsQuery(), EVERYTHING, policy=MASKED)
    newest = {r.topic: r.samples[0] for r in clear.rows if r.samples}[topic]
    assert "jane.doe@example.com" in newest and "7946 0958" in newest
    hidden = {r.topic: r.samples[0] for r in masked.rows if r.samples}[topic]
    assert "jane.doe@example.com" not in hidden and "7946 0958" not in hidden


def test_topics_in_a_territory_scope_count_its_tickets(session, tickets, as_of):
    territory = _busiest_territory(tickets)
    result = q.topics(session, OperationsQuery(days="90"), DataScope.restricted_to([territory]), policy=FULL)
    assert not result.company_wide and result.rows
    scores = frame(session, "SELECT item_id AS ticket_id, topics FROM gold.text_score WHERE source = 'ticket'")
    period = _period(tickets[tickets["territory"] == territory], as_of, 90).merge(scores, on="ticket_id")
    counts = period.explode("topics").dropna(subset=["topics"]).groupby("topics").size()
    for row in result.rows:
        assert row.mentions == counts[row.topic]


def test_inbound_sentiment_trend(session, as_of):
    result = q.sentiment(session, OperationsQuery(), EVERYTHING, policy=FULL)
    daily = frame(session, "SELECT day, sum(texts) AS texts, sum(compound_sum) AS s FROM gold.sentiment_daily "
                           "WHERE source = 'message' AND day > CAST(:a AS date) - 30 AND day <= :a GROUP BY day",
                  a=as_of)
    assert result.period_texts == int(daily["texts"].sum()) > 0
    assert result.period_mean == pytest.approx(daily["s"].sum() / daily["texts"].sum())
    assert len(result.days) == len(daily)
    nothing = q.sentiment(session, OperationsQuery(), DataScope.nothing(), policy=FULL)
    assert nothing.period_texts == 0 and nothing.period_mean is None


def test_the_url_state_is_validated(session):
    resolved = q.resolve(session, OperationsQuery(days="14", region="Atlantis"), EVERYTHING)
    assert resolved.days == 30 and resolved.region is None and len(resolved.notes) == 2
    region = resolved.regions[0]
    chosen = q.resolve(session, OperationsQuery(days="7", region=region), EVERYTHING)
    assert (chosen.days, chosen.region, chosen.notes) == (7, region, ())
    assert chosen.canonical.search == f"?days=7&region={region.replace(' ', '+')}"


def test_vip_and_onboarding_keep_to_a_territory_scope(session, milestones, as_of, customer_of):
    customers = frame(session, "SELECT account_id, territory, mrr_usd FROM gold.customer_360")
    everyone = q.vip(session, OperationsQuery(days="90"), EVERYTHING, policy=FULL)
    territory = pd.Series([r["territory"] for r in everyone.grid.rows]).value_counts().index[0]
    scoped = q.vip(session, OperationsQuery(days="90"), DataScope.restricted_to([territory]), policy=FULL)
    assert scoped.grid.rows and {r["territory"] for r in scoped.grid.rows} == {territory}
    assert [r["account_id"] for r in scoped.grid.rows] == [r["account_id"] for r in everyone.grid.rows
                                                           if r["territory"] == territory]
    threshold = everyone.threshold_usd
    assert scoped.vip_customers == int(((customers["territory"] == territory)
                                        & (customers["mrr_usd"].astype(float) >= threshold)).sum())
    stuck_territory = milestones[milestones["completed_on"].isna() & ~milestones["churned"]
                                 & (milestones["planned_date"] < pd.Timestamp(as_of))].assign(
        customer=lambda f: f["account_id"].map(lambda a: customer_of.get(a, a))).drop_duplicates("customer")[
        "territory"].value_counts()
    busiest = stuck_territory.index[0]
    onboarding = q.onboarding(session, OperationsQuery(), DataScope.restricted_to([busiest]), policy=FULL)
    assert len(onboarding.stuck.rows) == stuck_territory[busiest]
    assert {r["territory"] for r in onboarding.stuck.rows} == {busiest}


def test_every_account_row_opens_an_existing_customer_360_page(session):
    customers = set(frame(session, "SELECT account_id FROM gold.customer_360")["account_id"])
    for grid in (q.repeats(session, OperationsQuery(days="90"), EVERYTHING, policy=FULL).grid,
                 q.vip(session, OperationsQuery(days="90"), EVERYTHING, policy=FULL).grid,
                 q.onboarding(session, OperationsQuery(), EVERYTHING, policy=FULL).stuck):
        ids = [r["account_id"] for r in grid.rows]
        assert ids and set(ids) <= customers
        assert len(ids) == len(set(ids))  # one row per customer: the grid's row id


def _other_territory_accounts(tickets: pd.DataFrame, territory: str, count: int = 3) -> list[str]:
    others = tickets[(tickets["territory"] != territory) & tickets["account_id"].notna()]
    return sorted(others["account_id"].value_counts().index[:count])


def test_a_scope_naming_accounts_counts_their_tickets(session, tickets, as_of, customer_of):
    """A scope of a territory and some accounts of others: read ticket by ticket, not from territory sums."""
    territory = _busiest_territory(tickets)
    named = _other_territory_accounts(tickets, territory)
    scope = DataScope.restricted_to([territory], named)
    seen = tickets[(tickets["territory"] == territory) | tickets["account_id"].isin(named)]
    result = q.repeats(session, OperationsQuery(), scope, policy=FULL)
    flags = _repeat_flags(seen, as_of, 30, customer_of)
    assert (result.customers, result.repeat_customers, result.tickets, result.repeat_tickets) == (
        flags["account_id"].nunique(), flags.loc[flags["repeat"], "account_id"].nunique(), len(flags),
        int(flags["repeat"].sum()))
    systemic = q.systemic(session, OperationsQuery(), scope, policy=FULL)
    recent = seen[(seen["opened_day"] > as_of - timedelta(days=7 * 13)) & seen["category"].notna()]
    last_week = recent[recent["opened_day"] > as_of - timedelta(days=7)].groupby("category")["account_id"].nunique()
    assert {r.category: r.accounts_last_week for r in systemic.rows if r.accounts_last_week} == last_week.to_dict()
    territory_only = q.systemic(session, OperationsQuery(), DataScope.restricted_to([territory]), policy=FULL)
    alone = recent[(recent["territory"] == territory) & (recent["opened_day"] > as_of - timedelta(days=7))]
    assert ({r.category: r.accounts_last_week for r in territory_only.rows if r.accounts_last_week}
            == alone.groupby("category")["account_id"].nunique().to_dict())


def test_onboarding_medians_of_a_territory_scope(session, milestones, as_of):
    """The territory sums' medians are the medians of the territory's milestones."""
    territory = milestones["territory"].value_counts().index[0]
    result = q.onboarding(session, OperationsQuery(), DataScope.restricted_to([territory]), policy=FULL)
    since = pd.Timestamp(as_of - timedelta(days=q.ONBOARDING_DAYS - 1))
    done = milestones[(milestones["completed_on"] >= since) & (milestones["completed_on"] <= pd.Timestamp(as_of))
                      & (milestones["territory"] == territory)]
    expected = done.groupby("milestone").agg(n=("milestone_id", "count"), taken=("days_taken", "median"),
                                             late=("days_late", "median"))
    shown = {s.milestone: s for s in result.stages}
    assert set(shown) == set(expected.index)
    for milestone, row in expected.iterrows():
        assert shown[milestone].completed == row["n"]
        assert shown[milestone].median_days_taken == pytest.approx(row["taken"])
        assert shown[milestone].median_days_late == pytest.approx(row["late"])
    assert q.median_of_counts([(1, 1), (3, 2), (10, 1)]) == 3.0
    assert q.median_of_counts([(1, 1), (4, 1)]) == 2.5 and q.median_of_counts([]) is None

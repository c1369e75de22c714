"""Morning Coffee's outlook against independent computations: the risk distribution and the accounts
most at risk from the scores and the landing files' MRR, the forecast from the stored forecast, and
each headline finding from the landing files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import executive as q
from dashboard.queries import executive_outlook as outlook
from dashboard.queries.executive import MorningCoffeeFilters, PageQuery
from dashboard.scope import DataScope
from dashboard.tables.gold import AccountBook, Customer360
from dashboard.tables.insights import Forecast, ForecastSeries
from dashboard.tables.intelligence import AccountHealth, ChurnPrediction
from tests.callbacks.test_morning_coffee import AS_OF, Expected, Landing, _day

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=True, view_financials=False)


@pytest.fixture(scope="module")
def landing(pristine_landing_dir) -> Landing:
    return Landing(pristine_landing_dir)


@pytest.fixture(scope="module")
def expected(landing) -> Expected:
    return Expected(landing)


@pytest.fixture()
def session(insights_ran) -> Iterator[Session]:
    with insights_ran.session() as session:
        yield session


@pytest.fixture(scope="module")
def customers(insights_ran, expected) -> pd.DataFrame:
    """Per customer (master account): region and territory of its master record, active when any of
    its regional accounts is, its MRR on the as-of day from the landing subscriptions at that day's
    rate, and its scores as the scoring job stored them."""
    with insights_ran.session() as session:
        links = pd.DataFrame(session.execute(select(Customer360.account_id, Customer360.regional_account_ids)).all(),
                             columns=["master_id", "account_id"]).explode("account_id")
        scores = pd.DataFrame(session.execute(
            select(ChurnPrediction.account_id, ChurnPrediction.risk_level, ChurnPrediction.churn_risk_score,
                   ChurnPrediction.previous_churn_risk_score, ChurnPrediction.contributing_factors)).all(),
            columns=["master_id", "risk_level", "score", "previous_score", "factors"])
        health = pd.DataFrame(session.execute(select(AccountHealth.account_id, AccountHealth.health_score)).all(),
                              columns=["master_id", "health_score"])
    assert len(links) and len(scores) and len(health)
    accounts = expected.accounts.merge(links, on="account_id")
    masters = accounts[accounts["account_id"] == accounts["master_id"]].set_index("master_id")
    frame = pd.DataFrame({"region": masters["region"].fillna("Unknown"), "territory": masters["territory"]})
    frame["active"] = accounts.groupby("master_id")["status"].apply(lambda s: (s == "active").any())
    subs = expected._active_subs(AS_OF, ()).merge(links, on="account_id")
    subs["usd"] = expected._usd(subs["mrr"], pd.Series([AS_OF] * len(subs)), subs["currency"])
    frame["mrr_usd"] = subs.groupby("master_id")["usd"].sum().round(2).reindex(frame.index).fillna(0.0)
    frame = frame.join(scores.set_index("master_id")).join(health.set_index("master_id"))
    return frame


def _filters(regions: tuple[str, ...] = (), scope: DataScope = EVERYTHING, start=date(2026, 10, 1),
             end=AS_OF) -> MorningCoffeeFilters:
    return MorningCoffeeFilters(start, end, regions, scope=scope)


def _band(score: float) -> str:
    if pd.isna(score):
        return outlook.NOT_SCORED
    return "Healthy" if score >= 80 else ("At-Risk" if score >= 50 else "Critical")


@pytest.fixture(scope="module")
def two_regions(customers) -> tuple[str, ...]:
    return tuple(customers.loc[customers["active"], "region"].value_counts().index[:2])


@pytest.mark.parametrize("selection", ["all", "two"])
def test_risk_distribution_matches_the_scores_and_the_landing_mrr(session, customers, two_regions, selection):
    regions = two_regions if selection == "two" else ()
    result = outlook.risk_distribution(session, _filters(regions), FULL)
    active = customers[customers["active"]]
    if regions:
        active = active[active["region"].isin(regions)]
    assert result.accounts == len(active) > 0
    levels = active["risk_level"].fillna(outlook.NOT_SCORED)
    bands = active["health_score"].map(_band)
    for view, keys in ((result.by_churn, levels), (result.by_health, bands)):
        truth = active.groupby(keys)["mrr_usd"].agg(["size", "sum"])
        shown = view.set_index("level")
        assert set(shown.index[shown["accounts"] > 0]) == set(truth.index)
        for level, row in truth.iterrows():
            assert shown.loc[level, "accounts"] == row["size"], level
            assert shown.loc[level, "mrr_usd"] == pytest.approx(row["sum"], abs=1.0), level
    hidden = outlook.risk_distribution(session, _filters(regions), NO_MONEY)
    assert hidden.by_churn["mrr_usd"].isna().all() and list(hidden.by_churn["accounts"]) == list(
        result.by_churn["accounts"])


def test_the_accounts_behind_a_bar(session, customers):
    active = customers[customers["active"]]
    level = active["risk_level"].value_counts().index[0]
    rows, total = outlook.segment_accounts(session, _filters(), ("churn", level), FULL)
    behind = active[active["risk_level"] == level]
    assert total == len(behind) > 0
    largest = behind.sort_values("mrr_usd", ascending=False).head(outlook.SEGMENT_ACCOUNTS_LIMIT)
    assert len(rows.rows) == len(largest)
    assert [r["mrr_usd"] for r in rows.rows] == pytest.approx(list(largest["mrr_usd"]), abs=1.0)
    band_rows, band_total = outlook.segment_accounts(session, _filters(), ("health", "Healthy"), FULL)
    assert band_total == int((active["health_score"].map(_band) == "Healthy").sum())
    assert all(r["health_band"] == "Healthy" for r in band_rows.rows)


def test_top_accounts_at_risk(session, customers):
    grid = outlook.at_risk_accounts(session, _filters(), FULL, as_of=AS_OF)
    active = customers[customers["active"] & customers["score"].notna()].reset_index(names="master_id")
    truth = active.sort_values(["score", "mrr_usd", "master_id"], ascending=[False, False, True]).head(10)
    assert len(grid.rows) == len(truth) == 10
    assert [r["account_id"] for r in grid.rows] == list(truth["master_id"])
    renewals = dict(session.execute(select(AccountBook.account_id, AccountBook.next_renewal_date)).all())
    for row, (_, want) in zip(grid.rows, truth.iterrows(), strict=True):
        assert row["churn_score"] == round(want["score"]) and row["churn_risk"] == want["risk_level"]
        assert row["mrr_usd"] == pytest.approx(want["mrr_usd"], abs=1.0)
        raising = [f for f in want["factors"] or [] if float(f.get("contribution") or 0) > 0]
        assert row["top_reason"] == ((raising[0].get("sentence") or raising[0].get("label")) if raising else None)
        renewal = renewals.get(want["master_id"])
        assert row["days_to_renewal"] == ((renewal - AS_OF).days if renewal else None)
    masked = outlook.at_risk_accounts(session, _filters(), NO_MONEY, as_of=AS_OF)
    assert all(isinstance(r["mrr_usd"], str) for r in masked.rows)


def test_next_renewals_match_the_landing_subscriptions(session, customers, expected):
    """Days to renewal: the nearest next start-date anniversary or end date of the customer's
    subscriptions counting on the as-of day."""
    grid = outlook.at_risk_accounts(session, _filters(), FULL, as_of=AS_OF)
    links = pd.DataFrame(session.execute(select(Customer360.account_id, Customer360.regional_account_ids)).all(),
                         columns=["master_id", "account_id"]).explode("account_id")
    subs = expected._active_subs(AS_OF, ()).merge(links, on="account_id")

    def next_anniversary(start: date) -> date:
        for years in range(0, 200):
            try:
                candidate = start.replace(year=AS_OF.year + years)
            except ValueError:  # 29 February
                candidate = date(AS_OF.year + years, 3, 1)
            if candidate > AS_OF:
                return candidate
        raise AssertionError(start)

    compared = 0
    for row in grid.rows:
        mine = subs[subs["master_id"] == row["account_id"]]
        if mine.empty:
            continue
        dates = [next_anniversary(d) for d in mine["start_day"]] + [d for d in mine["end_day"].dropna() if d > AS_OF]
        assert row["days_to_renewal"] == (min(dates) - AS_OF).days, row["account_id"]
        compared += 1
    assert compared > 0


def test_the_forecast_continues_the_trend_at_month_ends(session):
    bounds = q.data_date_bounds(session)
    series = session.get(ForecastSeries, outlook.TOTAL_MRR_SERIES)
    assert series is not None and series.last_actual_period == bounds.last
    result = outlook.mrr_forecast(session, _filters(end=bounds.last), last_day=bounds.last)
    assert result.shown and result.model_name == series.model_name and result.backtest_mase == series.backtest_mase
    stored = {r.period_start: r for r in session.scalars(
        select(Forecast).where(Forecast.series_key == outlook.TOTAL_MRR_SERIES))}
    month_ends = [(pd.Timestamp(bounds.last) + pd.offsets.MonthEnd(n)).date() for n in (1, 2, 3)]
    want = [d for d in month_ends if d in stored]
    assert list(result.points["day"]) == want and len(want) >= 2
    for point in result.points.itertuples():
        row = stored[point.day]
        assert (point.mean, point.lower80, point.upper95) == (row.mean, row.lower80, row.upper95)
        assert point.lower95 <= point.lower80 <= point.mean <= point.upper80 <= point.upper95


def test_one_region_reads_its_monthly_forecast_and_otherwise_says_why(session, two_regions):
    bounds = q.data_date_bounds(session)
    one = outlook.mrr_forecast(session, _filters(two_regions[:1], end=bounds.last), last_day=bounds.last)
    stored = session.scalars(select(Forecast).where(
        Forecast.series_key == f"mrr_usd:region:{two_regions[0]}").order_by(Forecast.period_start)).all()
    assert one.shown and [round(m, 6) for m in one.points["mean"]] == [round(r.mean, 6) for r in stored[:3]]
    assert "pick one region" in outlook.mrr_forecast(session, _filters(two_regions, end=bounds.last),
                                                     last_day=bounds.last).note
    yesterday = outlook.mrr_forecast(session, _filters(end=bounds.last - timedelta(days=1)), last_day=bounds.last)
    assert yesterday.shown or bounds.last.day == 1
    earlier = outlook.mrr_forecast(session, _filters(end=bounds.last - timedelta(days=40)), last_day=bounds.last)
    assert not earlier.shown and "latest data" in earlier.note
    limited = DataScope.restricted_to(territories=["T-nowhere"])
    assert "limited" in outlook.mrr_forecast(session, _filters(scope=limited, end=bounds.last),
                                             last_day=bounds.last).note


def test_headline_findings_match_the_landing_files(session, landing, expected, customers):
    bounds = q.data_date_bounds(session)
    filters = _filters(start=date(2026, 10, 25), end=bounds.last)
    findings = outlook.headline(session, filters, FULL, first_day=bounds.first).findings
    assert len(findings) >= 2
    month_ago = (pd.Timestamp(filters.end) - pd.DateOffset(months=1)).date()
    now, before = expected.mrr_usd(filters.end, ()), expected.mrr_usd(month_ago, ())
    assert findings[0].startswith(f"MRR {100 * (now - before) / before:+.1f} %")
    active = customers[customers["active"]]
    moved = active[(active["risk_level"] == "HIGH") & (active["previous_score"] < 70)]
    risk = [f for f in findings if "HIGH churn risk" in f]
    if len(moved):
        assert risk and risk[0].startswith(f"{len(moved):,} account")
        assert f"({int((active['risk_level'] == 'HIGH').sum()):,} HIGH in all)" in risk[0]
    else:
        assert not risk
    raw = landing.table("support", "tickets", dates=("created_at", "first_response_at", "updated_at"),
                        numbers=("sla_first_response_minutes",), required=("created_at",))
    raw["created_day"] = _day(raw["created_at"])

    def compliance(start: date, end: date) -> float:
        window = raw[(raw["created_day"] >= start) & (raw["created_day"] <= end)
                     & raw["sla_first_response_minutes"].notna()]
        minutes = (window["first_response_at"] - window["created_at"]).dt.total_seconds() / 60
        answered = window["first_response_at"].notna()
        deadline = window["created_at"] + pd.to_timedelta(window["sla_first_response_minutes"], unit="m")
        passed = deadline < pd.Timestamp(bounds.last + timedelta(days=1), tz="UTC")
        met = (answered & (minutes <= window["sla_first_response_minutes"])).sum()
        breached = ((answered & (minutes > window["sla_first_response_minutes"])) | (~answered & passed)).sum()
        return 100 * met / (met + breached)

    now_sla = compliance(filters.start, filters.end)
    before_sla = compliance(filters.previous.start, filters.previous.end)
    assert f"({now_sla:.0f} % vs {before_sla:.0f} %)" in findings[-1]
    assert not np.isnan(now_sla)
    without_money = outlook.headline(session, filters, NO_MONEY, first_day=bounds.first).findings
    assert not any(f.startswith("MRR") for f in without_money)


def test_page_outlook_reads_the_segment_from_the_url(session):
    state = PageQuery(start="2026-10-01", end="2026-10-31", segment="health:Critical")
    result = outlook.page_risk(session, state, EVERYTHING, policy=FULL)
    assert result is not None and result.segment == ("health", "Critical")
    assert result.segment_rows is not None and result.segment_total >= len(result.segment_rows.rows)
    for hostile in ("health:Nope", "churn", "x" * 500, "churn:HIGH:extra", None):
        bad = outlook.page_risk(session, PageQuery(segment=hostile), EVERYTHING, policy=FULL)
        assert bad is not None and bad.segment is None and bad.segment_rows is None
    headline = outlook.page_headline(session, state, EVERYTHING, policy=FULL)
    assert headline is not None and headline.findings
    at_risk = outlook.page_at_risk(session, state, EVERYTHING, policy=FULL)
    assert at_risk is not None and len(at_risk.rows) == outlook.AT_RISK_LIMIT
    assert outlook.select_segment(PageQuery(), "churn", "HIGH").segment == "churn:HIGH"
    assert outlook.select_segment(PageQuery(), "churn", "Critical") is None
    assert outlook.select_segment(PageQuery(), "health", None) is None


@pytest.fixture(scope="module")
def master_of(insights_ran) -> dict[str, str]:
    """Each regional account's customer (master account)."""
    with insights_ran.session() as session:
        links = session.execute(select(Customer360.account_id, Customer360.regional_account_ids)).all()
    return {regional: master for master, ids in links for regional in ids}


def _bridge_from_landing(expected: Expected, customers: pd.DataFrame, master_of: dict[str, str], d0: date, d1: date,
                         regions: tuple[str, ...] = ()) -> dict[str, float]:
    """MRR from d0 to d1 split per customer, from the landing subscriptions and rates: new, churn,
    FX (start MRR revalued at d1's rates, for customers with MRR on both days) and the rest as
    expansion or contraction."""
    def per_customer(day: date, rate_day: date) -> pd.Series:
        subs = expected._active_subs(day, ())
        usd = expected._usd(subs["mrr"], pd.Series([rate_day] * len(subs)), subs["currency"])
        master = subs["account_id"].map(master_of)
        return pd.Series(usd, index=master.to_numpy()).groupby(level=0).sum().round(2)

    a, b, revalued = per_customer(d0, d0), per_customer(d1, d1), per_customer(d0, d1)
    frame = pd.DataFrame({"a": a, "b": b, "revalued": revalued}).fillna(0.0)
    frame = frame.join(customers["region"])
    if regions:
        frame = frame[frame["region"].isin(regions)]
    both = (frame["a"] > 0) & (frame["b"] > 0)
    fx = (frame["revalued"] - frame["a"]).where(both, 0.0)
    rest = frame["b"] - frame["a"] - fx
    return {"start": frame["a"].sum(), "new": frame.loc[(frame["a"] <= 0) & (frame["b"] > 0), "b"].sum(),
            "expansion": rest[both & (rest > 0)].sum(), "contraction": rest[both & (rest < 0)].sum(),
            "churn": -frame.loc[(frame["a"] > 0) & (frame["b"] <= 0), "a"].sum(), "fx": fx.sum(),
            "end": frame["b"].sum()}


@pytest.mark.parametrize("selection", ["all", "two"])
def test_why_mrr_moved_matches_the_landing_files(session, expected, customers, master_of, two_regions, selection):
    regions = two_regions if selection == "two" else ()
    october = _filters(regions, start=date(2026, 10, 1), end=date(2026, 10, 31))
    movement = outlook.mrr_movement(session, october)
    assert movement.shown and movement.exact and (movement.start, movement.end) == (date(2026, 9, 30), october.end)
    truth = _bridge_from_landing(expected, customers, master_of, movement.start, movement.end, regions)
    assert truth["start"] > 0 and abs(truth["fx"]) > 0
    shown = {"start": movement.start_mrr, **movement.parts, "end": movement.end_mrr}
    assert shown == pytest.approx(truth, abs=2.0)
    assert movement.start_mrr + sum(movement.parts.values()) == pytest.approx(movement.end_mrr, abs=0.05)


def test_a_period_without_its_own_breakdown_shows_the_nearest_and_says_so(session):
    bounds = q.data_date_bounds(session)
    odd = _filters(start=bounds.last - timedelta(days=40), end=bounds.last - timedelta(days=3))
    movement = outlook.mrr_movement(session, odd)
    assert movement.shown and not movement.exact
    default = q.default_filters(bounds, EVERYTHING)
    assert outlook.mrr_movement(session, default).exact
    limited = outlook.mrr_movement(session, _filters(scope=DataScope.restricted_to(territories=["T-x"])))
    assert not limited.shown and "limited" in limited.note


@pytest.mark.parametrize("selection", ["all", "two"])
def test_the_largest_accounts_are_those_of_the_end_date(session, expected, customers, master_of, two_regions,
                                                        selection):
    regions = two_regions if selection == "two" else ()
    october = _filters(regions, start=date(2026, 10, 1), end=date(2026, 10, 31))
    frame, day = q.largest_accounts_on(session, october)
    assert day == october.end
    subs = expected._active_subs(day, ())
    usd = pd.Series(expected._usd(subs["mrr"], pd.Series([day] * len(subs)), subs["currency"]),
                    index=subs["account_id"].map(master_of).to_numpy())
    mrr = usd.groupby(level=0).sum().round(2)
    mrr = mrr[mrr > 0]
    if regions:
        mrr = mrr[mrr.index.isin(customers.index[customers["region"].isin(regions)])]
    truth = mrr.reset_index().set_axis(["account_id", "mrr"], axis=1).sort_values(
        ["mrr", "account_id"], ascending=[False, True]).head(10)
    assert list(frame["account_id"]) == list(truth["account_id"]) and len(frame) == 10
    assert list(frame["mrr_usd"]) == pytest.approx(list(truth["mrr"]), abs=0.01)
    current, _ = q.largest_accounts_on(session, _filters(regions))  # the last day: gold.customer_360
    assert list(current["account_id"]) == list(q.top_accounts(session, _filters(regions))["account_id"])


def test_an_end_date_between_kept_days_uses_the_month_end_before_it(session):
    frame, day = q.largest_accounts_on(session, _filters(start=date(2026, 10, 1), end=date(2026, 10, 15)))
    assert day == date(2026, 9, 30) and len(frame) == 10
    tables = q.page_tables(session, PageQuery("2026-10-01", "2026-10-15"), EVERYTHING, policy=FULL)
    assert tables.accounts_day == date(2026, 9, 30)
    assert [r["account_id"] for r in tables.accounts.rows] == list(frame["account_id"])
    limited = DataScope.restricted_to(territories=[customers_territory(session)])
    scoped, _ = q.largest_accounts_on(session, _filters(scope=limited, start=date(2026, 10, 1),
                                                        end=date(2026, 10, 31)))
    territories = dict(session.execute(select(Customer360.account_id, Customer360.territory)).all())
    assert len(scoped) and {territories[a] for a in scoped["account_id"]} == set(limited.territories)


def customers_territory(session) -> str:
    return session.scalar(select(Customer360.territory).where(Customer360.territory.is_not(None))
                          .group_by(Customer360.territory).order_by(func.count().desc()).limit(1))


def test_revenue_drills_from_regions_to_territories_to_accounts(session, customers):
    query = PageQuery("2026-10-01", "2026-10-31")
    region = q.page_charts(session, query, EVERYTHING, policy=FULL).revenue.rows["member"].iloc[0]
    down = q.drill_into(query, region)
    territories = q.page_charts(session, down, EVERYTHING, policy=FULL).revenue
    assert territories.level == "territory" and len(territories.rows)
    territory = territories.rows["member"].iloc[0]
    accounts = q.drill_into(down, territory)
    assert accounts.drill_territory == territory and q.drill_into(accounts, "anything") is None
    charts = q.page_charts(session, accounts, EVERYTHING, policy=FULL)
    breakdown = charts.revenue
    assert breakdown.level == "account" and breakdown.accounts_day == date(2026, 10, 31)
    rows = breakdown.accounts.rows
    assert rows and all(customers.loc[r["account_id"], "territory"] == territory for r in rows)
    assert [r["mrr_usd"] for r in rows] == sorted((r["mrr_usd"] for r in rows), reverse=True)
    # A territory of another region, or one outside the scope, is dropped from the URL state.
    elsewhere = PageQuery("2026-10-01", "2026-10-31", (), region, None, "no-such-territory")
    assert q.resolve_page(session, elsewhere, EVERYTHING).drill_territory is None
    outside = DataScope.restricted_to(territories=["T-other"])
    assert q.resolve_page(session, accounts, outside).drill_territory is None
    assert accounts.search.count("territory=") == 1 and PageQuery.from_args(
        {"territory": [territory], "drill": [region]}).drill_territory == territory

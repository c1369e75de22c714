"""Sales page queries on the real pipeline's output: every figure the page shows is recomputed
independently with pandas from the pristine landing files (`tests.etl.reference`: the newest version
of each deal, amounts in USD at the landing FX rates) and compared, for the whole company and for a
sales manager limited to one region, at every level of the drill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import sales as q
from dashboard.queries.glossary import definition
from dashboard.queries.sales import PageQuery, SalesFilters
from dashboard.scope import DataScope
from dashboard.tables.insights import Forecast, ForecastActual, ForecastSeries
from models.kpi import Period
from tests.etl.reference import Landing, typed

AS_OF = date(2026, 11, 23)
EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=False, view_financials=False)
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))
Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))


class Truth:
    """The Sales figures computed with pandas from the landing files (see the module's doc)."""

    def __init__(self, landing_dir) -> None:
        reference = Landing.read(landing_dir)
        self.deals = reference.sales_deals()
        self.quotas = typed(landing_dir, "crm/quotas")
        users = typed(landing_dir, "crm/users").set_index("user_id")
        self.quotas["territory"] = self.quotas["user_id"].map(users["territory"]).fillna("Unknown")
        self.quotas["region"] = self.quotas["user_id"].map(users["region"]).fillna("Unknown")
        self.meetings = typed(landing_dir, "crm/meetings")
        self.emails = typed(landing_dir, "crm/emails")
        accounts = reference.accounts.set_index("account_id")
        for frame in (self.meetings, self.emails):
            frame["territory"] = frame["account_id"].map(accounts["territory"]).fillna("Unknown")
            frame["region"] = frame["account_id"].map(accounts["region"]).fillna("Unknown")

    def slice(self, territories: set[str] | None = None, **levels: str) -> pd.DataFrame:
        deals = self.deals
        if territories is not None:
            deals = deals[deals["territory"].isin(territories)]
        columns = {"region": "region", "territory": "territory", "rep": "owner_user_id", "account": "account_id"}
        for level, value in levels.items():
            deals = deals[deals[columns[level]] == value]
        return deals

    @staticmethod
    def won_in(deals: pd.DataFrame, period: Period) -> pd.DataFrame:
        close = deals["close_date"]
        return deals[deals["won"] & (close >= pd.Timestamp(period.start)) & (close <= pd.Timestamp(period.end))]

    @staticmethod
    def closed_in(deals: pd.DataFrame, period: Period) -> pd.DataFrame:
        close = deals["close_date"]
        return deals[deals["is_closed"] & (close >= pd.Timestamp(period.start)) & (close <= pd.Timestamp(period.end))]

    def revenue(self, deals: pd.DataFrame, period: Period) -> float:
        return float(self.won_in(deals, period)["amount_usd"].sum())

    def win_rate(self, deals: pd.DataFrame, period: Period) -> float | None:
        closed = self.closed_in(deals, period)
        return float(closed["won"].mean()) if len(closed) else None

    def cycle(self, deals: pd.DataFrame, period: Period) -> float | None:
        won = self.won_in(deals, period)
        return float(won["cycle_days"].median()) if len(won) else None

    @staticmethod
    def open_now(deals: pd.DataFrame) -> pd.DataFrame:
        return deals[~deals["is_closed"]]

    @staticmethod
    def open_on(deals: pd.DataFrame, day: date) -> pd.DataFrame:
        d = pd.Timestamp(day)
        return deals[(deals["created_day"] <= d) & (~deals["is_closed"] | (deals["close_date"] > d))]


@pytest.fixture(scope="module")
def truth(pristine_landing_dir) -> Truth:
    return Truth(pristine_landing_dir)


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


def _filters(session: Session, scope: DataScope = EVERYTHING, quarter: Period = Q4, **levels) -> SalesFilters:
    bounds = q.data_date_bounds(session)
    return SalesFilters(quarter, bounds.last, scope=scope, **levels)


def _region_scope(truth: Truth) -> tuple[str, set[str], DataScope]:
    """A sales manager's scope: every territory of the region with the most deals."""
    region = truth.deals["region"].value_counts().index[0]
    territories = set(truth.deals.loc[truth.deals["region"] == region, "territory"])
    return region, territories, DataScope.restricted_to(territories)


def _assert_kpis(kpis: q.SalesKpis, truth: Truth, deals: pd.DataFrame, quarter: Period) -> None:
    month = q.month_of(quarter, AS_OF)
    before = q.previous_quarter(quarter)
    assert kpis["revenue_quarter"].current == pytest.approx(truth.revenue(deals, quarter), abs=1.0)
    assert kpis["revenue_quarter"].previous == pytest.approx(truth.revenue(deals, before), abs=1.0)
    assert kpis["revenue_month"].current == pytest.approx(truth.revenue(deals, month), abs=1.0)
    assert kpis["revenue_month"].previous == pytest.approx(truth.revenue(deals, q.previous_month(month)), abs=1.0)
    assert kpis["win_rate"].current == pytest.approx(truth.win_rate(deals, quarter))
    assert kpis["win_rate"].previous == pytest.approx(truth.win_rate(deals, before))
    assert kpis["sales_cycle"].current == pytest.approx(truth.cycle(deals, quarter))
    assert kpis["sales_cycle"].previous == pytest.approx(truth.cycle(deals, before))
    won = truth.won_in(deals, quarter)
    assert kpis["deal_size"].current == (pytest.approx(won["amount_usd"].mean(), abs=0.01) if len(won) else None)
    open_deals = truth.open_now(deals)
    assert kpis["open_pipeline"].current == pytest.approx(open_deals["amount_usd"].sum(), abs=1.0)
    assert kpis["weighted_pipeline"].current == pytest.approx(open_deals["weighted_usd"].sum(), abs=5.0)
    assert kpis["open_pipeline"].previous == pytest.approx(truth.open_on(deals, before.end)["amount_usd"].sum(),
                                                           abs=1.0)


def test_quarters_and_months():
    assert q.quarter_of(date(2026, 11, 23)) == Q4
    assert q.parse_quarter("2026Q3") == Q3 and q.parse_quarter("2026Q5") is None and q.parse_quarter(3) is None
    assert q.quarter_name(Q3) == "2026Q3" and q.quarter_label(Q3) == "Q3 2026"
    assert q.previous_quarter(date(2026, 1, 1) and Period(date(2026, 1, 1), date(2026, 3, 31))) == Period(
        date(2025, 10, 1), date(2025, 12, 31))
    assert q.month_of(Q4, AS_OF) == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert q.month_of(Q3, AS_OF) == Period(date(2026, 9, 1), date(2026, 9, 30))
    assert q.previous_month(Period(date(2026, 3, 1), date(2026, 3, 31))) == Period(date(2026, 2, 1),
                                                                                  date(2026, 2, 28))


@pytest.mark.parametrize("quarter", [Q4, Q3])
def test_company_kpis_match_the_landing_files(session, truth, quarter):
    kpis = q.sales_kpis(session, _filters(session, quarter=quarter))
    _assert_kpis(kpis, truth, truth.deals, quarter)
    assert kpis["revenue_quarter"].current > 0 and kpis["open_pipeline"].current > 0


def test_a_scoped_sales_manager_kpis_match_the_landing_files(session, truth):
    region, territories, scope = _region_scope(truth)
    deals = truth.slice(territories)
    for quarter in (Q4, Q3):
        _assert_kpis(q.sales_kpis(session, _filters(session, scope, quarter)), truth, deals, quarter)
    # The same figures as the whole company's slice of that region.
    scoped = q.sales_kpis(session, _filters(session, scope, Q3))
    company_region = q.sales_kpis(session, _filters(session, EVERYTHING, Q3, region=region))
    assert scoped["revenue_quarter"].current == pytest.approx(company_region["revenue_quarter"].current)


def test_every_level_of_the_drill_matches(session, truth):
    region, territories, scope = _region_scope(truth)
    deals = truth.slice(territories)
    territory = deals["territory"].value_counts().index[0]
    rep = truth.slice(territories, territory=territory)["owner_user_id"].value_counts().index[0]
    account = truth.slice(territories, territory=territory, rep=rep)["account_id"].value_counts().index[0]
    levels: dict[str, str] = {}
    for level, value in (("region", region), ("territory", territory), ("rep", rep), ("account", account)):
        levels[level] = value
        filters = _filters(session, scope, Q3, **levels)
        _assert_kpis(q.sales_kpis(session, filters), truth, truth.slice(territories, **levels), Q3)
        found = q.members(session, filters)
        assert found.level == q.MEMBER_LEVELS[level]
        below = truth.slice(territories, **levels)
        member_column = {"territory": "territory", "rep": "owner_user_id", "account": "account_id",
                         "deal": "opportunity_id"}[found.level]
        revenue = truth.won_in(below, Q3).groupby(member_column)["amount_usd"].sum()
        rows = found.rows.set_index("member")
        for member, value in revenue.items():
            assert rows.loc[member, "revenue"] == pytest.approx(value, abs=1.0), (level, member)
        pipeline = truth.open_now(below).groupby(member_column)["amount_usd"].sum()
        for member, value in pipeline.items():
            assert rows.loc[member, "pipeline"] == pytest.approx(value, abs=1.0), (level, member)


def test_quota_attainment_matches(session, truth):
    region, territories, scope = _region_scope(truth)
    for quarter in (Q3, Q4):
        quotas = truth.quotas[(truth.quotas["quarter_start"] == pd.Timestamp(quarter.start))
                              & truth.quotas["territory"].isin(territories)]
        deals = truth.won_in(truth.slice(territories), quarter)
        won = deals[deals["owner_user_id"].isin(quotas["user_id"])]["amount_usd"].sum()
        kpis = q.sales_kpis(session, _filters(session, scope, quarter))
        assert kpis["quota_attainment"].current == pytest.approx(won / quotas["quota_usd"].sum(), rel=1e-6)
    # At the account level there is no quota.
    account = truth.slice(territories)["account_id"].iloc[0]
    assert q.sales_kpis(session, _filters(session, scope, Q3, account=account))["quota_attainment"].current is None


def test_pipeline_funnel_months_and_stale_deals(session, truth):
    region, territories, scope = _region_scope(truth)
    result = q.pipeline(session, _filters(session, scope), FULL)
    deals = truth.slice(territories)
    open_deals = truth.open_now(deals)
    funnel = result.funnel.set_index("stage")
    for stage, group in open_deals.groupby("stage"):
        assert funnel.loc[stage, "deals"] == len(group)
        assert funnel.loc[stage, "amount"] == pytest.approx(group["amount_usd"].sum(), abs=1.0)
        assert funnel.loc[stage, "weighted"] == pytest.approx(group["weighted_usd"].sum(), abs=5.0)
        days = (pd.Timestamp(AS_OF) - group["stage_entered_at"].dt.tz_convert("UTC").dt.tz_localize(None)
                .dt.normalize()).dt.days
        assert funnel.loc[stage, "median_days_in_stage"] == pytest.approx(days.median())
    assert funnel.loc[q.WON_STAGE, "deals"] == len(truth.won_in(deals, Q4))
    # Conversion over the last year's deals, each at its furthest known stage.
    cohort = deals[deals["created_day"] > pd.Timestamp(AS_OF - timedelta(days=q.FUNNEL_COHORT_DAYS))]
    stages = [*q.OPEN_STAGES, q.WON_STAGE]
    furthest = cohort["stage"].where(~cohort["is_closed"], q.OPEN_STAGES[0]).where(~cohort["won"], q.WON_STAGE)
    rank = furthest.map({s: i for i, s in enumerate(stages)})
    reached = [int((rank >= i).sum()) for i in range(len(stages))]
    assert funnel["reached"].tolist() == reached
    assert funnel["conversion"].iloc[1] == pytest.approx(reached[1] / reached[0])
    months = open_deals.dropna(subset=["close_date"]).groupby(open_deals["close_date"].dt.to_period("M"))
    by_month = result.by_month.set_index(result.by_month["month"].map(lambda d: pd.Period(d, "M")))
    for month, group in months:
        assert by_month.loc[month, "amount"] == pytest.approx(group["amount_usd"].sum(), abs=1.0)
        assert by_month.loc[month, "weighted"] == pytest.approx(group["weighted_usd"].sum(), abs=5.0)
    # Stale: past the close date, or no meeting or email on the account in STALE_DAYS days.
    completed = truth.meetings[(truth.meetings["outcome"] == "completed")]
    activity = pd.concat([completed[["account_id", "scheduled_at"]].rename(columns={"scheduled_at": "at"}),
                          truth.emails[["account_id", "sent_at"]].rename(columns={"sent_at": "at"})])
    activity["day"] = activity["at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    last = activity[activity["day"] <= pd.Timestamp(AS_OF)].groupby("account_id")["day"].max()
    last_day = open_deals["account_id"].map(last)
    quiet = last_day.isna() | (last_day < pd.Timestamp(AS_OF - timedelta(days=q.STALE_DAYS)))
    stale = open_deals[(open_deals["close_date"] < pd.Timestamp(AS_OF)) | quiet]
    assert result.stale_count == len(stale) > 0
    assert result.stale_amount == pytest.approx(stale["amount_usd"].sum(), abs=1.0)
    assert len(result.stale_rows.rows) == min(len(stale), q.STALE_ROWS)


def test_the_opportunities_grid_lists_every_open_deal_in_scope(session, truth):
    region, territories, scope = _region_scope(truth)
    grid = q.open_opportunities(session, _filters(session, scope), FULL)
    expected = truth.open_now(truth.slice(territories)).set_index("opportunity_id")
    rows = {row["opportunity_id"]: row for row in grid.rows}
    assert set(rows) == set(expected.index) and len(rows) < q.OPPORTUNITY_ROWS
    page = q.page_opportunities(session, PageQuery("2026Q3", region=region), scope, policy=FULL)
    assert page.open_deals == len(expected) == len(page.grid.rows)
    # Cut short, the page still counts every open deal and keeps the largest.
    cut = q.page_opportunities(session, PageQuery("2026Q3", region=region), scope, policy=FULL, limit=5)
    assert cut.open_deals == len(expected) and [r["opportunity_id"] for r in cut.grid.rows] == \
        [r["opportunity_id"] for r in grid.rows[:5]]
    for opportunity_id, deal in expected.head(20).iterrows():
        row = rows[opportunity_id]
        assert row["amount_usd"] == pytest.approx(deal["amount_usd"], abs=0.01)
        assert row["probability_share"] == pytest.approx(deal["probability"] / 100)
        assert row["account_id"] == deal["account_id"] and row["stage"] == deal["stage"]
        assert row["next_step"] == (None if pd.isna(deal["next_step"]) else deal["next_step"])
    masked = q.open_opportunities(session, _filters(session, scope), NO_MONEY)
    assert all(isinstance(r["amount_usd"], str) for r in masked.rows if r["amount_usd"] is not None)
    assert q.account_of_opportunity(session, grid.rows[0]["opportunity_id"], scope) == grid.rows[0]["account_id"]
    outside = truth.deals[~truth.deals["territory"].isin(territories)]["opportunity_id"].iloc[0]
    assert q.account_of_opportunity(session, outside, scope) is None
    assert q.account_of_opportunity(session, outside, EVERYTHING) is not None


def test_win_loss_matches(session, truth):
    region, territories, scope = _region_scope(truth)
    result = q.win_loss(session, _filters(session, scope, Q3))
    closed = truth.closed_in(truth.slice(territories), Q3)
    by_territory = result.by["territory"].set_index("key")
    for territory, group in closed.groupby("territory"):
        assert by_territory.loc[territory, "won"] == group["won"].sum()
        assert by_territory.loc[territory, "win_rate"] == pytest.approx(group["won"].mean())
    by_rep = result.by["rep"].set_index("key")
    for rep, group in closed.groupby("owner_user_id"):
        assert by_rep.loc[rep, "win_rate"] == pytest.approx(group["won"].mean())
    bands = pd.cut(closed["amount_usd"], [0, 10_000, 50_000, 100_000, float("inf")], right=False,
                   labels=[label for _, _, label in q.SIZE_BANDS])
    by_band = result.by["size_band"].set_index("key")
    for band, group in closed.groupby(bands, observed=True):
        assert by_band.loc[band, "won"] + by_band.loc[band, "lost"] == len(group)
        assert by_band.loc[band, "win_rate"] == pytest.approx(group["won"].mean())
    lost = closed[~closed["won"]]
    reasons = lost["loss_reason"].fillna(q.NOT_GIVEN).value_counts()
    assert result.loss_reasons.set_index("reason")["deals"].to_dict() == reasons.to_dict()
    assert result.by["product_line"]["won"].sum() == closed["won"].sum()


def test_the_reps_leaderboard_matches(session, truth):
    region, territories, scope = _region_scope(truth)
    grid = q.reps_leaderboard(session, _filters(session, scope, Q3), FULL)
    deals = truth.slice(territories)
    won = truth.won_in(deals, Q3).groupby("owner_user_id")["amount_usd"].sum()
    rows = {row["user_id"]: row for row in grid.rows}
    assert rows
    for rep, value in won.items():
        assert rows[rep]["revenue_usd"] == pytest.approx(value, abs=1.0)
    closed = truth.closed_in(deals, Q3)
    for rep, group in closed.groupby("owner_user_id"):
        assert rows[rep]["win_rate"] == pytest.approx(group["won"].mean())
    in_q = lambda frame, column: frame[(frame[column] >= pd.Timestamp(Q3.start, tz="UTC"))  # noqa: E731
                                       & (frame[column] < pd.Timestamp(Q3.end + timedelta(days=1), tz="UTC"))
                                       & frame["territory"].isin(territories)]
    meetings = in_q(truth.meetings[truth.meetings["outcome"] == "completed"], "scheduled_at").groupby("user_id").size()
    emails = in_q(truth.emails, "sent_at").groupby("user_id").size()
    for rep, row in rows.items():
        assert row["meetings"] == meetings.get(rep, 0), rep
        assert row["emails"] == emails.get(rep, 0), rep
    revenues = [row["revenue_usd"] for row in grid.rows]
    assert revenues == sorted(revenues, reverse=True)


def test_a_sales_manager_starts_at_their_region_and_bad_input_gives_notes(session, truth):
    region, territories, scope = _region_scope(truth)
    resolved = q.resolve_page(session, PageQuery(), scope)
    assert resolved.filters.region == region and resolved.filters.quarter == Q4 and resolved.notes == ()
    assert [label for label, _ in resolved.path()] == [region]
    other = next(r for r in truth.deals["region"].unique() if r != region)
    refused = q.resolve_page(session, PageQuery("1999Q1", other, "x"), scope)
    assert refused.filters.region is None and len(refused.notes) == 2
    everything = q.resolve_page(session, PageQuery("2026Q3", region), EVERYTHING)
    assert [label for label, _ in everything.path()] == ["All regions", region]
    assert everything.path()[0][1].href == "/sales?quarter=2026Q3"
    for query in (PageQuery(["a"], 3, None, "<script>"), PageQuery("2026Q4", "'; DROP TABLE x; --")):
        assert q.page_kpis(session, query, EVERYTHING, policy=FULL).resolved.filters.region is None


def test_the_controls_and_clicks_write_a_canonical_url():
    current = PageQuery("2026Q3", "Europe")
    assert q.query_from_controls("2026Q4", current).search == "?quarter=2026Q4&region=Europe"
    assert q.query_from_controls("soon", current) is None
    assert q.drill_into(PageQuery("2026Q3"), "Europe").href == "/sales?quarter=2026Q3&region=Europe"
    assert q.drill_into(current, "EU-DACH").territory == "EU-DACH"
    assert q.drill_into(current, "USR-0001", territory="EU-DACH").search == \
        "?quarter=2026Q3&region=Europe&territory=EU-DACH&rep=USR-0001"
    assert q.drill_into(PageQuery("2026Q3", "E", "T", "R", "A"), "x") is None
    assert q.drill_into(current, None) is None


def test_the_exports_are_the_grids(session):
    args = {"quarter": ["2026Q3"]}
    shown = q.page_opportunities(session, PageQuery("2026Q3"), EVERYTHING, policy=FULL)
    assert q.export_opportunities(session, args, EVERYTHING, FULL).rows == shown.grid.rows and shown.grid.rows
    assert q.export_reps(session, args, EVERYTHING, FULL).rows == q.page_reps(
        session, PageQuery("2026Q3"), EVERYTHING, policy=FULL).grid.rows
    assert q.export_name({"quarter": ["2026Q3"], "region": ["Europe"]}) == "sales_2026Q3_Europe"
    assert q.export_opportunities(session, args, DataScope.nothing(), FULL).rows == []


def test_every_figure_and_column_has_a_definition():
    keys = ["revenue_quarter", "revenue_month", "open_pipeline", "weighted_pipeline", "win_rate", "deal_size",
            "sales_cycle", "quota_attainment", "sales_funnel", "pipeline_by_close_month", "stale_deals",
            "sales_win_loss", "loss_reasons", "reps_leaderboard", "open_opportunities"]
    keys += [c.field for c in (*q.opportunity_columns(FULL), *q.rep_columns(FULL), *q.stale_columns(FULL))]
    assert [key for key in keys if not definition(key)] == []


# --- Forecast ------------------------------------------------------------------------------------


def _outlook_truth(deals: pd.DataFrame, quarter: Period) -> dict[str, float]:
    """Expected revenue, commit, best case and pipeline from the deals, as the glossary defines them."""
    won = Truth.won_in(deals, quarter)["amount_usd"].sum()
    closing = deals[~deals["is_closed"] & (deals["close_date"] <= pd.Timestamp(quarter.end))]
    if quarter.end < AS_OF:
        closing = closing.iloc[0:0]
    stage = closing.groupby("stage")["amount_usd"].sum()
    commit = won + stage.get("Negotiation", 0.0)
    return {"closed_won": won, "weighted_open": closing["weighted_usd"].sum(),
            "expected": won + closing["weighted_usd"].sum(), "commit": commit,
            "best_case": commit + stage.get("Proposal", 0.0), "pipeline": won + closing["amount_usd"].sum(),
            "open_deals": len(closing), "overdue_deals": int((closing["close_date"] < pd.Timestamp(AS_OF)).sum())}


def test_the_quarter_outlook_matches_the_landing_files(session, truth):
    region = truth.deals["region"].value_counts().index[0]
    territory = truth.slice(region=region)["territory"].value_counts().index[0]
    for levels in ({}, {"region": region}, {"region": region, "territory": territory}):
        outlook = q.quarter_outlook(session, _filters(session, **levels))
        expected = _outlook_truth(truth.slice(**levels), Q4)
        for name, value in expected.items():
            assert getattr(outlook, name) == pytest.approx(value, abs=5.0), (levels, name)
        assert outlook.open_deals > 0
        assert outlook.closed_won <= outlook.commit <= outlook.best_case <= outlook.pipeline
        assert outlook.quota is not None and outlook.expected_vs_quota == pytest.approx(outlook.expected / outlook.quota)
    # A quarter that is over: what closed.
    past = q.quarter_outlook(session, _filters(session, quarter=Q3))
    assert past.quarter_over and past.weighted_open == 0 and past.expected == pytest.approx(
        truth.revenue(truth.deals, Q3), abs=5.0)
    # The quota is the slice's reps' quotas for the quarter.
    quotas = truth.quotas[(truth.quotas["quarter_start"] == pd.Timestamp(Q4.start)) & (truth.quotas["region"] == region)]
    assert q.quarter_outlook(session, _filters(session, region=region)).quota == pytest.approx(
        quotas["quota_usd"].sum(), rel=1e-6)


def _monthly_bookings(deals: pd.DataFrame, end: date) -> pd.Series:
    """Won bookings by close month from four years before `end` (a month's first day) up to it."""
    from etl.insights.forecasts import BOOKINGS_HISTORY_MONTHS

    start = pd.Timestamp(end) - pd.DateOffset(months=BOOKINGS_HISTORY_MONTHS)
    won = deals[deals["won"] & (deals["close_date"] >= start) & (deals["close_date"] < pd.Timestamp(end))]
    booked = won.groupby(won["close_date"].dt.to_period("M"))["amount_usd"].sum()
    calendar = pd.period_range(booked.index.min(), pd.Period(end, "M") - 1, freq="M")
    return booked.reindex(calendar, fill_value=0.0)


def _stored(session: Session, table, key: str) -> pd.DataFrame:
    rows = session.scalars(select(table).where(table.series_key == key).order_by(table.period_start)).all()
    return pd.DataFrame([{column: getattr(row, column) for column in table.__table__.columns.keys()} for row in rows])


def test_the_bookings_history_and_forecasts_written_by_the_job(session, truth, bookings_forecasts_ran):
    region = truth.deals["region"].value_counts().index[0]
    territory = truth.slice(region=region)["territory"].value_counts().index[0]
    for member, deals in (("total:All", truth.deals), (f"region:{region}", truth.slice(region=region)),
                          (f"territory:{region}/{territory}", truth.slice(region=region, territory=territory))):
        key = f"{q.BOOKINGS_METRIC}:{member}"
        expected = _monthly_bookings(deals, date(2026, 11, 1))  # October is the last complete month
        actual = _stored(session, ForecastActual, key)
        assert [pd.Period(d, "M") for d in actual["period_start"]] == list(expected.index), key
        assert actual["actual"].to_numpy() == pytest.approx(expected.to_numpy(), abs=5.0), key
        forecast = _stored(session, Forecast, key)
        assert list(forecast["period_start"]) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
        # Last quarter's series: fitted on the bookings before Q3 and forecasting exactly Q3's months.
        before = f"{q.LAST_QUARTER_METRIC}:{member}"
        history = _stored(session, ForecastActual, before)
        assert history["period_start"].max() == date(2026, 6, 1)
        assert history["actual"].to_numpy() == pytest.approx(
            _monthly_bookings(deals, Q3.start).to_numpy(), abs=5.0), before
        then = _stored(session, Forecast, before)
        assert list(then["period_start"]) == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
        for frame in (forecast, then):
            for row in frame.itertuples():
                assert 0 <= row.lower95 <= row.lower80 <= row.mean <= row.upper80 <= row.upper95, key
        assert session.get(ForecastSeries, key).model_name in bookings_forecasts_ran.models.values()


def test_the_page_forecast_picks_the_slice_s_series_within_the_scope(session, truth, bookings_forecasts_ran):
    region, territories, scope = _region_scope(truth)
    territory = truth.slice(territories)["territory"].value_counts().index[0]
    rep = truth.slice(territories, territory=territory)["owner_user_id"].value_counts().index[0]
    company = q.page_forecast(session, PageQuery("2026Q4"), EVERYTHING, policy=FULL)
    assert company.bookings.dimension == "total" and len(company.bookings.forecast) == 3
    assert len(company.bookings.actuals) == q.BOOKINGS_MONTHS_SHOWN
    assert company.bookings.last_quarter == Q3 and len(company.bookings.last_quarter_rows) == 3
    rows = company.bookings.last_quarter_rows
    stored = _monthly_bookings(truth.deals, date(2026, 11, 1))
    for row in rows.itertuples():
        assert row.actual == pytest.approx(stored[pd.Period(row.month, "M")], abs=5.0)
        assert row.in95 == bool(row.lower95 <= row.actual <= row.upper95)
    assert company.bookings.last_quarter_totals[1] == pytest.approx(truth.revenue(truth.deals, Q3), abs=5.0)
    # A sales manager starts at their region, whose forecast they see; the rep level shows the territory's.
    scoped = q.page_forecast(session, PageQuery("2026Q4"), scope, policy=FULL)
    assert (scoped.bookings.dimension, scoped.bookings.member) == ("region", region)
    at_rep = q.page_forecast(session, PageQuery("2026Q4", region, territory, rep), scope, policy=FULL)
    assert (at_rep.bookings.dimension, at_rep.bookings.member, at_rep.bookings.for_territory) == (
        "territory", territory, True)
    assert at_rep.outlook.expected == pytest.approx(
        _outlook_truth(truth.slice(territories, territory=territory, rep=rep), Q4)["expected"], abs=5.0)
    # Another region is not theirs: refused, and a scope of one territory gets no region's series.
    other = next(r for r in truth.deals["region"].unique() if r != region)
    refused = q.page_forecast(session, PageQuery("2026Q4", other), scope, policy=FULL)
    assert refused.resolved.filters.region is None and refused.bookings == q.OUT_OF_SCOPE
    assert refused.outlook.expected == pytest.approx(_outlook_truth(truth.slice(territories), Q4)["expected"], abs=5.0)
    one = DataScope.restricted_to({territory})
    assert q.bookings_series(session, _filters(session, one, region=region)) is None
    assert q.bookings_series(session, _filters(session, one, region=region, territory=territory))[1] == \
        f"{region}/{territory}"
    nothing = q.page_forecast(session, PageQuery("2026Q4"), DataScope.nothing(), policy=FULL)
    assert nothing.empty and nothing.bookings == q.OUT_OF_SCOPE


def test_every_forecast_figure_has_a_definition():
    keys = ["sales_forecast", "expected_revenue", "closed_won_quarter", "weighted_open_quarter", "forecast_commit",
            "forecast_best_case", "forecast_pipeline", "forecast_quota", "bookings_forecast", "forecast_last_quarter"]
    assert [key for key in keys if not definition(key)] == []


def test_the_regions_of_a_scope_are_found_by_probes_and_by_reading_when_a_territory_spans_two(session, truth):
    region, territories, scope = _region_scope(truth)
    assert q._scope_regions(session, scope) == [region]
    territory = sorted(territories)[0]
    other = sorted(set(truth.deals["region"]) - {region})[0]
    # A territory whose deals lie in two regions (the CRM does not forbid it): both regions count.
    session.execute(text("INSERT INTO gold.sales_opportunity (opportunity_id, region, territory, owner_user_id, stage, "
                         "product_line, is_closed, is_won) VALUES ('TEST-SPLIT', :region, :territory, 'U', "
                         "'Prospecting', 'Unknown', false, false)"), {"region": other, "territory": territory})
    try:
        assert q._scope_regions(session, scope) == sorted([region, other])
        assert q._scope_regions(session, DataScope.restricted_to({"No such territory"})) == []
    finally:
        session.rollback()

"""Morning Coffee: query functions, input validation, callbacks and access control.

Part 1 runs on synthetic gold rows inserted inside a transaction that is rolled back.
Part 2 runs on the real pipeline's output and checks the page's figures against the same
figures recomputed independently with pandas from the pristine landing CSVs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from callbacks.morning_coffee import build_charts, build_tables
from dashboard.masking import MaskPolicy
from dashboard.queries import executive as q
from dashboard.queries.executive import DateBounds, MorningCoffeeFilters, campaign_grid
from dashboard.scope import DataScope
from dashboard.tables.gold import Campaign, CampaignDaily, Customer360, DailyKpi, LeadsDaily, SupportDaily
from dashboard.tables.insights import LargestAccount
from layouts import components as c
from layouts.kit.light import NAMESPACE, LightContent, LightTable, table_text
from layouts.morning_coffee import MorningCoffeeIds as ID

# The largest customers of past days too: the synthetic customers have none kept yet.
GOLD_TABLES = (DailyKpi, LeadsDaily, SupportDaily, CampaignDaily, Campaign, Customer360, LargestAccount)


def text_of(component: Any) -> str:
    """Every string in a Dash component tree, space-joined, for assertions on rendered text."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node is None:
            return
        if isinstance(node, (str, int, float)):
            parts.append(str(node))
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
        elif isinstance(node, dict):  # a serialised component, or a light table's cell element
            walk(node.get("props", {}).get("children"))
            walk(node.get("children"))
            if node.get("namespace") == NAMESPACE:
                walk([node["props"].get(prop) for prop in ("header", "rows", "footer", "content")])
        elif isinstance(node, (LightTable, LightContent)):
            parts.extend(table_text(node))
        elif hasattr(node, "to_plotly_json"):
            walk(getattr(node, "children", None))

    walk(component)
    return " ".join(parts)


def find_by_class(component: Any, class_name: str) -> list[Any]:
    """Components in a tree whose className contains `class_name`."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
        elif hasattr(node, "to_plotly_json"):
            if class_name in (getattr(node, "className", None) or "").split():
                found.append(node)
            walk(getattr(node, "children", None))

    walk(component)
    return found


# =====================================================================================
# Part 1: synthetic gold rows
# =====================================================================================

FIRST = date(2026, 1, 1)
LAST = date(2026, 4, 30)  # 'today' for the page
REGIONS = ("Europe", "North America")
SEGMENTS = ("SMB", "Enterprise")


def _days(first: date = FIRST, last: date = LAST) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class Synthetic:
    """The synthetic gold rows as DataFrames, for computing expectations with pandas."""

    daily_kpi: pd.DataFrame
    leads: pd.DataFrame
    support: pd.DataFrame
    campaigns: pd.DataFrame
    campaign_daily: pd.DataFrame
    accounts: pd.DataFrame


def _synthetic() -> Synthetic:
    rng = np.random.default_rng(42)
    kpi_rows = []
    for i, day in enumerate(_days()):
        for r, region in enumerate(REGIONS):
            for s, segment in enumerate(SEGMENTS):
                kpi_rows.append(dict(
                    day=day, region=region, segment=segment,
                    active_customers=100 + 10 * r + 5 * s + i // 3,
                    active_contacts=400 + 3 * i + r * 50 + s,
                    mrr_usd=Decimal(f"{10000 + 250 * i + 1000 * r + 333.33 * s:.2f}"),
                    invoiced_usd=Decimal(f"{int(rng.integers(0, 5000))}.{int(rng.integers(0, 100)):02d}"),
                ))
    daily_kpi = pd.DataFrame(kpi_rows)

    lead_rows = []
    for i, day in enumerate(_days()):
        if i % 4 == 3:
            continue  # days without any lead have no row at all
        for region in REGIONS:
            lead_rows.append(dict(day=day, region=region, lead_source="web", new_leads=int(rng.integers(1, 9))))
            lead_rows.append(dict(day=day, region=region, lead_source="event", new_leads=int(rng.integers(0, 3))))
    leads = pd.DataFrame(lead_rows)

    support_rows = []
    for day in _days():
        for region in REGIONS:
            n = int(rng.integers(0, 6))
            minutes = [float(m) for m in np.round(rng.gamma(2.0, 40.0 if region == "Europe" else 90.0, n), 2)]
            support_rows.append(dict(day=day, region=region, tickets_opened=n + 1, tickets_responded=n,
                                     first_response_minutes=minutes))
    support = pd.DataFrame(support_rows)

    campaigns = pd.DataFrame([
        dict(campaign_id="CMP-1", campaign_name="Spring promo", channel="email", status="completed",
             start_date=date(2026, 3, 1), end_date=date(2026, 5, 31)),
        dict(campaign_id="CMP-2", campaign_name="Always on", channel="whatsapp", status="active",
             start_date=date(2026, 1, 10), end_date=None),
        dict(campaign_id="CMP-3", campaign_name="Winter", channel="sms", status="completed",
             start_date=date(2026, 1, 5), end_date=date(2026, 2, 28)),
        dict(campaign_id="CMP-4", campaign_name="Overrun", channel="email", status="active",
             start_date=date(2026, 2, 1), end_date=date(2026, 3, 15)),
        dict(campaign_id="CMP-5", campaign_name="Future", channel="email", status="scheduled",
             start_date=date(2026, 6, 1), end_date=None),
    ])
    send_rows = []
    for day in _days():
        for campaign in ("CMP-1", "CMP-2", "CMP-3", "CMP-4"):
            for region in REGIONS:
                if campaign == "CMP-4" and region == REGIONS[-1]:
                    continue  # a campaign that never reached one region
                sent = int(rng.integers(0, 40))
                delivered = int(sent * 0.9)
                read = int(delivered * 0.6)
                send_rows.append(dict(day=day, campaign_id=campaign, variant="A", region=region, sent=sent,
                                      delivered=delivered, read=read, replied=read // 5))
    campaign_daily = pd.DataFrame(send_rows)

    accounts = pd.DataFrame([
        dict(account_id=f"ACC-{i:03d}", account_name=f"Account {i}", segment=SEGMENTS[i % 2],
             region=REGIONS[i % 2], status="active" if i % 7 else "churned",
             mrr_usd=Decimal(0) if i % 7 == 0 else Decimal(1000 * ((i * 37) % 23) + i),
             arr_usd=Decimal(12) * (Decimal(0) if i % 7 == 0 else Decimal(1000 * ((i * 37) % 23) + i)))
        for i in range(1, 30)
    ])
    return Synthetic(daily_kpi, leads, support, campaigns, campaign_daily, accounts)


@pytest.fixture()
def empty_gold(database) -> Iterator[Session]:
    """A session on the test database in which every gold table is empty; rolled back after."""
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    for table in GOLD_TABLES:
        session.execute(delete(table))
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture()
def synthetic() -> Synthetic:
    return _synthetic()


@pytest.fixture()
def gold(empty_gold: Session, synthetic: Synthetic) -> Session:
    """`empty_gold` filled with the synthetic rows."""
    session = empty_gold
    session.execute(insert(DailyKpi), synthetic.daily_kpi.to_dict("records"))
    session.execute(insert(LeadsDaily), synthetic.leads.to_dict("records"))
    session.execute(insert(SupportDaily), synthetic.support.to_dict("records"))
    session.execute(insert(Campaign), synthetic.campaigns.astype(object).where(
        synthetic.campaigns.notna(), None).to_dict("records"))
    session.execute(insert(CampaignDaily), synthetic.campaign_daily.to_dict("records"))
    session.execute(insert(Customer360), synthetic.accounts.to_dict("records"))
    session.flush()
    return session


EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
PERIOD = MorningCoffeeFilters(date(2026, 3, 2), date(2026, 3, 31), scope=EVERYTHING)
EUROPE = MorningCoffeeFilters(PERIOD.start, PERIOD.end, ("Europe",), scope=EVERYTHING)


def _kpi_sum(frame: pd.DataFrame, column: str, day: date, regions: tuple[str, ...] = ()) -> float:
    rows = frame[(frame["day"] == day) & (frame["region"].isin(regions) if regions else True)]
    return float(rows[column].astype(float).sum())


# --- Domain of the filters -----------------------------------------------------------


def test_bounds_and_regions_on_empty_gold(empty_gold):
    assert q.data_date_bounds(empty_gold) is None
    assert q.regions(empty_gold, EVERYTHING) == []


def test_bounds_regions_and_default_period(gold):
    bounds = q.data_date_bounds(gold)
    assert bounds == DateBounds(FIRST, LAST)
    assert q.regions(gold, EVERYTHING) == sorted(REGIONS)
    defaults = q.default_filters(bounds, EVERYTHING)
    assert defaults.end == LAST - timedelta(days=1)  # yesterday
    assert defaults.start == defaults.end - timedelta(days=29)
    assert defaults.period.days == 30 and defaults.regions == ()


def test_default_period_is_clamped_to_short_histories():
    bounds = DateBounds(date(2026, 4, 20), date(2026, 4, 30))
    defaults = q.default_filters(bounds, EVERYTHING)
    assert (defaults.start, defaults.end) == (date(2026, 4, 20), date(2026, 4, 29))
    single = q.default_filters(DateBounds(LAST, LAST), EVERYTHING)
    assert (single.start, single.end) == (LAST, LAST)


def test_previous_period_has_the_same_length():
    assert PERIOD.previous.end == PERIOD.start - timedelta(days=1)
    assert PERIOD.previous.days == PERIOD.period.days == 30


# --- KPIs ----------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [PERIOD, EUROPE], ids=["all", "europe"])
def test_stock_kpis(gold, synthetic, filters):
    kpis = q.stock_kpis(gold, filters)
    frame = synthetic.daily_kpi
    before = filters.start - timedelta(days=1)
    for name, column in (("active_customers", "active_customers"), ("active_contacts", "active_contacts"),
                         ("mrr_usd", "mrr_usd")):
        metric = getattr(kpis, name)
        assert metric.current == pytest.approx(_kpi_sum(frame, column, filters.end, filters.regions))
        assert metric.previous == pytest.approx(_kpi_sum(frame, column, before, filters.regions))
        assert metric.delta == pytest.approx(metric.current - metric.previous)


def test_stock_kpis_without_a_comparison_day(gold):
    kpis = q.stock_kpis(gold, MorningCoffeeFilters(FIRST, date(2026, 1, 15), scope=EVERYTHING))
    assert kpis.has_data
    assert kpis.active_customers.previous is None and kpis.active_customers.delta is None
    assert kpis.mrr_usd.percent_change is None


def test_stock_kpis_for_an_unknown_region(gold):
    kpis = q.stock_kpis(gold, MorningCoffeeFilters(PERIOD.start, PERIOD.end, ("Atlantis",), scope=EVERYTHING))
    assert not kpis.has_data


@pytest.mark.parametrize("filters", [PERIOD, EUROPE], ids=["all", "europe"])
def test_new_leads(gold, synthetic, filters):
    leads = synthetic.leads
    if filters.regions:
        leads = leads[leads["region"].isin(filters.regions)]
    per_day = leads.groupby("day")["new_leads"].sum()
    summary = q.new_leads(gold, filters)
    assert summary.has_data
    assert summary.on_end_date.current == per_day.get(filters.end, 0)
    assert summary.on_end_date.previous == per_day.get(filters.end - timedelta(days=1), 0)
    in_period = per_day[(per_day.index >= filters.start) & (per_day.index <= filters.end)]
    assert summary.period_total == in_period.sum()


def test_new_leads_count_zero_on_days_without_rows(gold, synthetic):
    no_lead_day = FIRST + timedelta(days=3)  # every fourth day has no row
    assert not (synthetic.leads["day"] == no_lead_day).any()
    summary = q.new_leads(gold, MorningCoffeeFilters(FIRST, no_lead_day, scope=EVERYTHING))
    assert summary.on_end_date.current == 0
    assert summary.on_end_date.previous > 0


@pytest.mark.parametrize("filters", [PERIOD, EUROPE], ids=["all", "europe"])
def test_team_efficiency_is_the_exact_median(gold, synthetic, filters):
    support = synthetic.support
    if filters.regions:
        support = support[support["region"].isin(filters.regions)]

    def median(start: date, end: date) -> float:
        rows = support[(support["day"] >= start) & (support["day"] <= end)]
        return float(np.median(np.concatenate([np.asarray(m, dtype=float) for m in rows["first_response_minutes"]])))

    result = q.team_efficiency(gold, filters)
    previous = filters.previous
    assert result.median_first_response_minutes.current == pytest.approx(median(filters.start, filters.end))
    assert result.median_first_response_minutes.previous == pytest.approx(median(previous.start, previous.end))
    in_period = support[(support["day"] >= filters.start) & (support["day"] <= filters.end)]
    assert result.responses == sum(len(m) for m in in_period["first_response_minutes"])
    assert result.tickets_opened == in_period["tickets_opened"].sum()


def test_team_efficiency_median_of_an_even_count(empty_gold):
    empty_gold.execute(insert(DailyKpi), [dict(day=FIRST, region="Europe", segment="SMB")])
    empty_gold.execute(insert(SupportDaily), [
        dict(day=FIRST, region="Europe", tickets_opened=2, first_response_minutes=[10.0, 40.0]),
        dict(day=FIRST, region="North America", tickets_opened=3, first_response_minutes=[1.0, 100.0]),
        dict(day=FIRST + timedelta(days=1), region="Europe", tickets_opened=1, first_response_minutes=[]),
    ])
    result = q.team_efficiency(empty_gold, MorningCoffeeFilters(FIRST, FIRST + timedelta(days=1), scope=EVERYTHING))
    assert result.median_first_response_minutes.current == pytest.approx(25.0)
    assert result.median_first_response_minutes.previous is None
    assert result.responses == 4 and result.tickets_opened == 6


def test_mrr_trend_reads_month_ends_and_the_end_date(gold, synthetic):
    filters = MorningCoffeeFilters(date(2026, 4, 1), date(2026, 4, 20), ("Europe",), scope=EVERYTHING)
    trend = q.mrr_trend(gold, filters)
    # History starts on 1 Jan, so only Jan, Feb and Mar month-ends and the end date exist.
    assert list(trend["day"]) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 20)]
    for day, value in zip(trend["day"], trend["mrr_usd"], strict=True):
        assert value == pytest.approx(_kpi_sum(synthetic.daily_kpi, "mrr_usd", day, ("Europe",)))
    assert len(q.mrr_trend(gold, filters, months=2)) == 2


def test_revenue_by_region(gold, synthetic):
    frame = synthetic.daily_kpi.assign(invoiced_usd=synthetic.daily_kpi["invoiced_usd"].astype(float))
    previous = PERIOD.previous
    current = frame[frame["day"].between(PERIOD.start, PERIOD.end)].groupby("region")["invoiced_usd"].sum()
    before = frame[frame["day"].between(previous.start, previous.end)].groupby("region")["invoiced_usd"].sum()
    revenue = q.revenue_by_region(gold, PERIOD)
    assert list(revenue["region"]) == list(current.sort_values(ascending=False).index)
    assert not revenue.empty
    for row in revenue.itertuples():
        assert row.invoiced_usd == pytest.approx(current[row.region])
        assert row.previous_invoiced_usd == pytest.approx(before[row.region])
    assert list(q.revenue_by_region(gold, EUROPE)["region"]) == ["Europe"]


def test_active_campaigns_and_their_funnel(gold, synthetic):
    result = q.active_campaigns(gold, EUROPE)
    # Running on 31 Mar: CMP-1 (1 Mar - 31 May), CMP-2 (no end date) and CMP-4 (ended 15 Mar but
    # still 'active'); not CMP-3 (ended in February) nor CMP-5 (starts in June).
    assert set(result.funnel["campaign_id"]) == {"CMP-1", "CMP-2", "CMP-4"}
    # On 1 Mar, the day before the start: CMP-1 (starts that day), CMP-2, CMP-3 (ends 28 Feb: no), CMP-4.
    assert result.count == q.Comparison(3.0, 3.0)
    sends = synthetic.campaign_daily
    sends = sends[sends["day"].between(EUROPE.start, EUROPE.end) & (sends["region"] == "Europe")]
    expected = sends.groupby("campaign_id")[["sent", "delivered", "read", "replied"]].sum()
    for row in result.funnel.itertuples():
        for step in ("sent", "delivered", "read", "replied"):
            assert getattr(row, step) == expected.loc[row.campaign_id, step]
        assert row.replied_rate == pytest.approx(row.replied / row.sent)
    assert list(result.funnel["sent"]) == sorted(result.funnel["sent"], reverse=True)


def test_a_region_filter_hides_campaigns_without_sends_there(gold):
    elsewhere = MorningCoffeeFilters(PERIOD.start, PERIOD.end, (REGIONS[-1],), scope=EVERYTHING)
    result = q.active_campaigns(gold, elsewhere)
    assert set(result.funnel["campaign_id"]) == {"CMP-1", "CMP-2"} and result.hidden == 1
    everywhere = q.active_campaigns(gold, MorningCoffeeFilters(PERIOD.start, PERIOD.end, scope=EVERYTHING))
    assert "CMP-4" in set(everywhere.funnel["campaign_id"]) and everywhere.hidden == 0


def test_active_campaigns_count_has_no_comparison_before_the_data(gold):
    result = q.active_campaigns(gold, MorningCoffeeFilters(FIRST, date(2026, 1, 20), scope=EVERYTHING))
    assert result.count.current == 2 and result.count.previous is None  # CMP-2 and CMP-3


def test_top_accounts(gold, synthetic):
    accounts = synthetic.accounts.assign(mrr_usd=synthetic.accounts["mrr_usd"].astype(float))
    expected = accounts[accounts["mrr_usd"] > 0].sort_values(["mrr_usd", "account_id"], ascending=[False, True])
    top = q.top_accounts(gold, PERIOD)
    assert list(top["account_id"]) == list(expected["account_id"][:10])
    europe = q.top_accounts(gold, EUROPE, limit=5)
    assert list(europe["account_id"]) == list(expected[expected["region"] == "Europe"]["account_id"][:5])
    assert set(europe["region"]) == {"Europe"}


# --- Input validation ----------------------------------------------------------------

BOUNDS = DateBounds(FIRST, LAST)
KNOWN = list(REGIONS)


def test_resolve_filters_accepts_valid_input():
    from dashboard.queries.executive import resolve_filters

    resolved = resolve_filters("2026-03-02", "2026-03-31T00:00:00", ["Europe"], BOUNDS, KNOWN, EVERYTHING)
    assert resolved.filters == EUROPE and resolved.notes == () and not resolved.selects_nothing


@pytest.mark.parametrize(("start", "end", "expected", "note"), [
    ("2026-03-31", "2026-03-02", (date(2026, 3, 2), date(2026, 3, 31)), "swapped"),
    ("2025-06-01", "2026-02-01", (FIRST, date(2026, 2, 1)), "limited"),
    ("2026-04-01", "2027-01-01", (date(2026, 4, 1), LAST), "limited"),
    ("not a date", "2026-13-45", (date(2026, 3, 31), date(2026, 4, 29)), "default"),
    (None, None, (date(2026, 3, 31), date(2026, 4, 29)), None),
    (20260301, {"$gt": ""}, (date(2026, 3, 31), date(2026, 4, 29)), "default"),
])
def test_resolve_filters_clamps_bad_dates(start, end, expected, note):
    from dashboard.queries.executive import resolve_filters

    resolved = resolve_filters(start, end, None, BOUNDS, KNOWN, EVERYTHING)
    assert (resolved.filters.start, resolved.filters.end) == expected
    if note:
        assert note in " ".join(resolved.notes)
    else:
        assert resolved.notes == ()


@pytest.mark.parametrize(("raw", "regions", "nothing"), [
    ([], (), False),
    (None, (), False),
    (["Europe", "Europe", "North America"], ("Europe", "North America"), False),
    (["Europe", "Atlantis", 3, None], ("Europe",), False),
    (["Atlantis"], (), True),
    ("Europe", ("Europe",), False),
    ({"id": "x"}, (), True),
    (["'; DROP TABLE gold.daily_kpi; --"], (), True),
])
def test_resolve_filters_drops_unknown_regions(raw, regions, nothing):
    from dashboard.queries.executive import resolve_filters

    resolved = resolve_filters("2026-03-02", "2026-03-31", raw, BOUNDS, KNOWN, EVERYTHING)
    assert resolved.filters.regions == regions
    assert resolved.selects_nothing is nothing


# --- Callback builders on synthetic data ---------------------------------------------


def _kpis(session: Session, *args: Any) -> dict[str, Any]:
    from callbacks.morning_coffee import build_kpis

    return build_kpis(session, *args, green_minutes=60, amber_minutes=240, scope=EVERYTHING, policy=FULL)


def test_build_kpis(gold, synthetic):
    outputs = _kpis(gold, "2026-03-02", "2026-03-31", ["Europe"])
    assert set(outputs) == {"period_label", "filter_note", "customers", "contacts", "leads", "efficiency", "mrr"}
    assert "2 Mar 2026" in outputs["period_label"] and "Europe" in outputs["period_label"]
    assert outputs["filter_note"] is None
    customers = _kpi_sum(synthetic.daily_kpi, "active_customers", EUROPE.end, ("Europe",))
    assert c.format_count(customers) in text_of(outputs["customers"])
    mrr = _kpi_sum(synthetic.daily_kpi, "mrr_usd", EUROPE.end, ("Europe",))
    assert c.format_usd(mrr) in text_of(outputs["mrr"])
    assert "New leads on 31 Mar 2026" in text_of(outputs["leads"])
    assert "in the period" in text_of(outputs["leads"])
    efficiency = text_of(outputs["efficiency"])
    assert "Median first response" in efficiency
    assert find_by_class(outputs["efficiency"], "c360-rag")


def test_build_kpis_says_yesterday_for_the_default_period(gold):
    outputs = _kpis(gold, "2026-03-31", "2026-04-29", [])
    assert "New leads yesterday" in text_of(outputs["leads"])


def test_build_outputs_for_a_selection_without_data(gold):
    from callbacks.morning_coffee import build_charts, build_tables

    outputs = {**_kpis(gold, "2026-03-02", "2026-03-31", ["Atlantis"]),
               **build_charts(gold, "2026-03-02", "2026-03-31", ["Atlantis"], scope=EVERYTHING, policy=FULL),
               **build_tables(gold, "2026-03-02", "2026-03-31", ["Atlantis"], scope=EVERYTHING, policy=FULL)}
    for name in ("customers", "contacts", "leads", "efficiency", "mrr", "mrr_trend", "revenue",
                 "campaigns", "top_accounts"):
        assert c.NO_SELECTION_MESSAGE in text_of(outputs[name]), name
    assert "unknown region" in text_of(outputs["filter_note"])


def test_build_outputs_with_hostile_input_never_raise(gold):
    from callbacks.morning_coffee import build_charts, build_tables

    for args in [("2026-04-30", "2025-01-01", "Europe"), ([1], {"a": 1}, [[["x"]]]),
                 ("2026-02-30", "", ["Europe"] * 1000), ("9999-12-31", "0001-01-01", None)]:
        outputs = {**_kpis(gold, *args), **build_charts(gold, *args, scope=EVERYTHING, policy=FULL),
                   **build_tables(gold, *args, scope=EVERYTHING, policy=FULL)}
        json.dumps(outputs, cls=PlotlyJSONEncoder)  # every output serialises


def test_build_charts_and_tables(gold, synthetic):
    from callbacks.morning_coffee import build_charts, build_tables

    charts = build_charts(gold, "2026-03-02", "2026-03-31", [], scope=EVERYTHING, policy=FULL)
    graphs = [n for n in _walk(charts["mrr_trend"]) if type(n).__name__ == "Graph"]
    assert len(graphs) == 1
    figure = graphs[0].figure
    assert len(figure.data[0].x) == 3  # Jan, Feb month-ends and the end date
    assert figure.layout.template.layout.font.family.startswith("Inter")
    revenue_graph = [n for n in _walk(charts["revenue"]) if type(n).__name__ == "Graph"][0]
    assert set(revenue_graph.figure.data[1].y) == set(REGIONS)

    tables = build_tables(gold, "2026-03-02", "2026-03-31", [], scope=EVERYTHING, policy=FULL)
    campaign_grid = _grid(tables["campaigns"])
    names = [row["campaign_name"] for row in campaign_grid.rowData]
    assert names, "the campaigns grid has rows"
    for name in ("Spring promo", "Always on", "Overrun"):
        assert name in names
    assert "Winter" not in names and "Future" not in names
    assert campaign_grid.dashGridOptions["pinnedBottomRowData"][0]["campaign_name"] == "Total"
    assert campaign_grid.columnDefs[0]["pinned"] == "left"
    accounts = _grid(tables["top_accounts"])
    assert accounts.rowData and all(row["account_name"].startswith("Account ") for row in accounts.rowData)
    assert all(isinstance(row["mrr_usd"], float) for row in accounts.rowData)
    assert [row["rank"] for row in accounts.rowData] == list(range(1, len(accounts.rowData) + 1))


def _grid(component: Any) -> Any:
    grids = [n for n in _walk(component) if type(n).__name__ == "AgGrid"]
    assert len(grids) == 1
    return grids[0]


def test_accounts_grid_shows_bands_without_financials(gold):
    tables = build_tables(gold, "2026-03-02", "2026-03-31", [], scope=EVERYTHING,
                          policy=MaskPolicy(view_pii=False, view_financials=False))
    accounts = _grid(tables["top_accounts"])
    assert accounts.rowData
    assert all(isinstance(row["mrr_usd"], str) and "$" in row["mrr_usd"] for row in accounts.rowData)


def test_drill_down_shows_the_territories_of_a_region(gold):
    charts = build_charts(gold, "2026-03-02", "2026-03-31", [], drill_region="Europe", scope=EVERYTHING,
                          policy=FULL)
    revenue = charts["revenue"]
    assert "Revenue in Europe by territory" in text_of(revenue)
    crumbs = [n for n in _walk(revenue) if type(n).__name__ == "Breadcrumb"]
    assert crumbs and crumbs[0].items[0]["label"] == "All regions" and crumbs[0].items[0]["href"].startswith(
        "/executive?start=2026-03-02")
    assert "drill" not in crumbs[0].items[0]["href"]
    assert crumbs[0].items[-1] == {"label": "Europe", "active": True}


def test_builders_on_empty_gold(empty_gold):
    from callbacks.morning_coffee import build_charts, build_tables

    outputs = {**_kpis(empty_gold, None, None, []),
               **build_charts(empty_gold, None, None, [], scope=EVERYTHING, policy=FULL),
               **build_tables(empty_gold, None, None, [], scope=EVERYTHING, policy=FULL)}
    assert "c360 etl run" in text_of(outputs["filter_note"])
    assert "No data yet" in text_of(outputs["mrr_trend"])


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from _walk(getattr(node, "children", None))


# --- Components ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (0, "$0"), (950.4, "$950"), (9876, "$9,876"), (12_345, "$12.3K"), (999_960, "$1.0M"),
    (1_234_567, "$1.2M"), (-2_500_000, "-$2.5M"), (3.4e9, "$3.4B"), (None, "\u2014"), (float("nan"), "\u2014"),
])
def test_format_usd(value, text):
    assert c.format_usd(value) == text


def test_other_formats():
    assert c.format_count(12345.4) == "12,345"
    assert c.format_minutes(42.4) == "42 min"
    assert c.format_minutes(185) == "3 h 05 min"
    assert c.format_minutes(60 * 26) == "1 d 2 h"
    assert c.format_percent(0.1234) == "12.3%"
    assert c.format_day(date(2026, 3, 2)) == "2 Mar 2026"


@pytest.mark.parametrize(("delta", "up_is_good", "arrow", "tone"), [
    (5, True, "\u25b2", "good"), (-5, True, "\u25bc", "bad"),
    (5, False, "\u25b2", "bad"), (-5, False, "\u25bc", "good"), (0, True, "\u25cf", "neutral"),
])
def test_kpi_card_delta_direction_and_colour(delta, up_is_good, arrow, tone):
    card = c.kpi_card("Tickets", 100, delta, percent=5.0, up_is_good=up_is_good)
    spans = find_by_class(card, f"c360-delta-{tone}")
    assert len(spans) == 1 and spans[0].children.startswith(arrow)


def test_kpi_card_without_comparison():
    card = c.kpi_card("MRR", 1_500_000, None, value_format="usd", subtitle="on 1 Mar")
    assert "$1.5M" in text_of(card) and "No comparison" in text_of(card) and "on 1 Mar" in text_of(card)


def test_rag_indicator():
    for status in ("green", "amber", "red", None):
        indicator = c.rag_indicator(status)
        assert find_by_class(indicator, f"c360-rag-{status or 'unknown'}")


def test_component_ids_are_unique():
    ids = [v for k, v in vars(ID).items() if k.isupper()]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("mc-") for i in ids)


# =====================================================================================
# Part 2: the real pipeline's output against an independent pandas computation
# =====================================================================================

AS_OF = date(2026, 11, 23)
FIXED = MorningCoffeeFilters(date(2026, 10, 1), date(2026, 10, 31), scope=EVERYTHING)


class Landing:
    """The pristine landing CSVs, read independently of the ETL: latest version per key,
    malformed rows (wrong field count, unparseable dates or amounts) dropped."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, pd.DataFrame] = {}

    def raw(self, system: str, name: str) -> pd.DataFrame:
        from dashboard.tables.landing import dataset

        key = f"{system}/{name}"
        if key not in self._cache:
            spec = dataset(system, name)
            rows: list[list[str]] = []
            for path in sorted((self.root / system).glob(spec.file_glob)):
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    reader = csv.reader(handle)
                    header = next(reader, None)
                    if header is None:
                        continue
                    index = [header.index(col) for col in spec.columns]
                    rows.extend([r[i] for i in index] for r in reader if len(r) == len(header))
            self._cache[key] = pd.DataFrame(rows, columns=list(spec.columns), dtype=object)
        return self._cache[key].copy()

    def table(self, system: str, name: str, dates: tuple[str, ...] = (), numbers: tuple[str, ...] = (),
              required: tuple[str, ...] = ()) -> pd.DataFrame:
        """Parsed rows: date columns as UTC timestamps, number columns as floats; rows whose
        non-empty values do not parse, or whose `required` columns are empty, are dropped."""
        from dashboard.tables.landing import dataset

        frame = self.raw(system, name)
        ok = pd.Series(True, index=frame.index)
        for col in dates:
            text = frame[col].astype(str).str.strip()
            parsed = pd.to_datetime(text.where(text != ""), errors="coerce", utc=True, format="ISO8601")
            ok &= parsed.notna() | (text == "")
            frame[col] = parsed
        for col in numbers:
            text = frame[col].astype(str).str.strip()
            parsed = pd.to_numeric(text.where(text != ""), errors="coerce")
            ok &= parsed.notna() | (text == "")
            frame[col] = parsed
        for col in required:
            ok &= frame[col].notna() & (frame[col].astype(str) != "")
        frame = frame[ok]
        spec = dataset(system, name)
        if "updated_at" in frame.columns:
            updated = pd.to_datetime(frame["updated_at"], errors="coerce", utc=True, format="ISO8601")
            frame = frame.assign(_updated=updated).sort_values("_updated", kind="stable", na_position="first")
            frame = frame.drop(columns="_updated")
        return frame.drop_duplicates(list(spec.key), keep="last").reset_index(drop=True)


def _day(series: pd.Series) -> pd.Series:
    return series.dt.tz_convert("UTC").dt.date


class Expected:
    """The Morning Coffee figures computed with pandas from the landing files."""

    def __init__(self, landing: Landing) -> None:
        self.accounts = landing.table("crm", "accounts", dates=("created_at", "churned_at", "updated_at"),
                                      required=("account_id", "region"))
        self.region_of = self.accounts.set_index("account_id")["region"]
        self.subs = landing.table("crm", "subscriptions", dates=("start_date", "end_date", "updated_at"),
                                  numbers=("mrr",), required=("start_date", "mrr", "currency"))
        self.subs["start_day"] = _day(self.subs["start_date"])
        self.subs["end_day"] = _day(self.subs["end_date"])
        self.subs["region"] = self.subs["account_id"].map(self.region_of)
        fx = landing.table("billing", "fx_rates", dates=("rate_date",), numbers=("usd_per_unit",),
                           required=("rate_date", "usd_per_unit"))
        fx["rate_day"] = _day(fx["rate_date"])
        self.fx = fx.set_index(["rate_day", "currency"])["usd_per_unit"]
        self.contacts = landing.table("crm", "contacts", dates=("created_at", "updated_at"),
                                      required=("created_at",))
        self.contacts["created_day"] = _day(self.contacts["created_at"])
        self.leads = landing.table("crm", "leads", dates=("created_at", "updated_at"), required=("created_at",))
        self.leads["created_day"] = _day(self.leads["created_at"])
        self.tickets = landing.table("support", "tickets", dates=("created_at", "first_response_at", "updated_at"),
                                     required=("created_at",))
        self.tickets["created_day"] = _day(self.tickets["created_at"])
        self.tickets["region"] = self.tickets["account_id"].map(self.region_of)
        self.invoices = landing.table("billing", "invoices", dates=("issue_date", "updated_at"),
                                      numbers=("amount",), required=("issue_date", "amount"))
        self.invoices["issue_day"] = _day(self.invoices["issue_date"])
        self.invoices["region"] = self.invoices["account_id"].map(self.region_of)
        self.campaigns = landing.table("marketing", "campaigns", dates=("start_date", "end_date"))
        self.sends = landing.table("marketing", "sends",
                                   dates=("sent_at", "delivered_at", "read_at", "replied_at"),
                                   required=("sent_at",))
        self.sends["sent_day"] = _day(self.sends["sent_at"])
        contact_account = self.contacts.set_index("contact_id")["account_id"]
        self.sends["region"] = self.sends["contact_id"].map(contact_account).map(self.region_of)

    @staticmethod
    def _regions(frame: pd.DataFrame, regions: tuple[str, ...]) -> pd.DataFrame:
        return frame[frame["region"].isin(regions)] if regions else frame

    def _active_subs(self, day: date, regions: tuple[str, ...]) -> pd.DataFrame:
        subs = self._regions(self.subs, regions)
        return subs[(subs["start_day"] <= day) & (subs["end_day"].isna() | (subs["end_day"] > day))]

    def active_customers(self, day: date, regions: tuple[str, ...]) -> int:
        return self._active_subs(day, regions)["account_id"].nunique()

    def active_contacts(self, day: date, regions: tuple[str, ...]) -> int:
        active = set(self._active_subs(day, regions)["account_id"])
        contacts = self.contacts[(self.contacts["created_day"] <= day)]
        return int(contacts["account_id"].isin(active).sum())

    def _usd(self, amounts: pd.Series, days: pd.Series, currencies: pd.Series) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([days, currencies])
        rates = self.fx.reindex(keys).to_numpy()
        return amounts.to_numpy() * rates

    def mrr_usd(self, day: date, regions: tuple[str, ...]) -> float:
        subs = self._active_subs(day, regions)
        return float(np.nansum(self._usd(subs["mrr"], pd.Series([day] * len(subs)), subs["currency"])))

    def new_leads(self, day: date, regions: tuple[str, ...]) -> int:
        return int((self._regions(self.leads, regions)["created_day"] == day).sum())

    def leads_between(self, start: date, end: date, regions: tuple[str, ...]) -> int:
        days = self._regions(self.leads, regions)["created_day"]
        return int(((days >= start) & (days <= end)).sum())

    def median_first_response(self, start: date, end: date, regions: tuple[str, ...]) -> float:
        tickets = self._regions(self.tickets, regions)
        tickets = tickets[(tickets["created_day"] >= start) & (tickets["created_day"] <= end)]
        minutes = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 60
        return float(minutes.dropna().median())

    def revenue_by_region(self, start: date, end: date, regions: tuple[str, ...]) -> pd.Series:
        invoices = self._regions(self.invoices, regions)
        invoices = invoices[(invoices["status"] != "void") & (invoices["issue_day"] >= start)
                            & (invoices["issue_day"] <= end)]
        usd = self._usd(invoices["amount"], invoices["issue_day"], invoices["currency"])
        return pd.Series(usd, index=invoices["region"].to_numpy()).groupby(level=0).sum()

    def campaign_funnel(self, start: date, end: date, regions: tuple[str, ...]) -> pd.DataFrame:
        sends = self._regions(self.sends, regions)
        sends = sends[(sends["sent_day"] >= start) & (sends["sent_day"] <= end)]
        return pd.DataFrame({
            "sent": sends.groupby("campaign_id").size(),
            "delivered": sends["delivered_at"].notna().groupby(sends["campaign_id"]).sum(),
            "read": sends["read_at"].notna().groupby(sends["campaign_id"]).sum(),
            "replied": sends["replied_at"].notna().groupby(sends["campaign_id"]).sum(),
        })


@pytest.fixture(scope="module")
def expected(pristine_landing_dir) -> Expected:
    return Expected(Landing(pristine_landing_dir))


@pytest.fixture()
def loaded_session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


@pytest.fixture(scope="module")
def two_regions(loaded_database) -> tuple[str, ...]:
    with loaded_database.session() as session:
        names = q.regions(session, EVERYTHING)
    assert len(names) >= 3
    return tuple(names[:2])


def test_loaded_bounds_end_on_the_as_of_date(loaded_session):
    bounds = q.data_date_bounds(loaded_session)
    assert bounds is not None and bounds.last == AS_OF
    defaults = q.default_filters(bounds, EVERYTHING)
    assert defaults.end == AS_OF - timedelta(days=1) and defaults.period.days == 30


@pytest.mark.parametrize("scope", ["all", "two"])
def test_stock_kpis_match_the_landing_files(loaded_session, expected, two_regions, scope):
    regions = two_regions if scope == "two" else ()
    filters = MorningCoffeeFilters(FIXED.start, FIXED.end, regions, scope=EVERYTHING)
    kpis = q.stock_kpis(loaded_session, filters)
    for day, attr in ((filters.end, "current"), (filters.day_before_start, "previous")):
        assert getattr(kpis.active_customers, attr) == expected.active_customers(day, regions), day
        assert getattr(kpis.active_contacts, attr) == expected.active_contacts(day, regions), day
        assert getattr(kpis.mrr_usd, attr) == pytest.approx(expected.mrr_usd(day, regions), abs=1.0), day


@pytest.mark.parametrize("scope", ["all", "two"])
def test_leads_and_team_efficiency_match_the_landing_files(loaded_session, expected, two_regions, scope):
    regions = two_regions if scope == "two" else ()
    filters = MorningCoffeeFilters(FIXED.start, FIXED.end, regions, scope=EVERYTHING)
    leads = q.new_leads(loaded_session, filters)
    assert leads.on_end_date.current == expected.new_leads(filters.end, regions)
    assert leads.on_end_date.previous == expected.new_leads(filters.end - timedelta(days=1), regions)
    assert leads.period_total == expected.leads_between(filters.start, filters.end, regions)
    efficiency = q.team_efficiency(loaded_session, filters)
    median = efficiency.median_first_response_minutes
    assert median.current == pytest.approx(expected.median_first_response(filters.start, filters.end, regions),
                                           abs=1e-6)
    previous = filters.previous
    assert median.previous == pytest.approx(
        expected.median_first_response(previous.start, previous.end, regions), abs=1e-6)


@pytest.mark.parametrize("scope", ["all", "two"])
def test_mrr_trend_and_revenue_match_the_landing_files(loaded_session, expected, two_regions, scope):
    regions = two_regions if scope == "two" else ()
    filters = MorningCoffeeFilters(FIXED.start, FIXED.end, regions, scope=EVERYTHING)
    trend = q.mrr_trend(loaded_session, filters)
    assert len(trend) == 12
    assert trend["day"].iloc[-1] == filters.end and trend["day"].iloc[0] == date(2025, 11, 30)
    for day, value in zip(trend["day"], trend["mrr_usd"], strict=True):
        assert value == pytest.approx(expected.mrr_usd(day, regions), abs=1.0), day
    revenue = q.revenue_by_region(loaded_session, filters).set_index("region")["invoiced_usd"]
    truth = expected.revenue_by_region(filters.start, filters.end, regions)
    truth = truth[truth != 0]
    assert sorted(revenue[revenue != 0].index) == sorted(truth.index)
    assert not truth.empty
    for region, value in truth.items():
        assert revenue[region] == pytest.approx(value, abs=1.0), region


def test_campaign_funnel_matches_the_landing_files(loaded_session, expected, two_regions):
    compared = 0
    for regions in ((), two_regions):
        filters = MorningCoffeeFilters(FIXED.start, FIXED.end, regions, scope=EVERYTHING)
        result = q.active_campaigns(loaded_session, filters)
        truth = expected.campaign_funnel(filters.start, filters.end, regions)
        campaigns = expected.campaigns
        running = campaigns[(_day(campaigns["start_date"]) <= filters.end)
                            & (campaigns["end_date"].isna() | (_day(campaigns["end_date"]) >= filters.end)
                               | (campaigns["status"] == "active"))]
        with_sends = set(running["campaign_id"]) & set(truth.index[truth["sent"] > 0])
        shown = with_sends if regions else set(running["campaign_id"])
        assert set(result.funnel["campaign_id"]) == shown
        assert result.hidden == len(set(running["campaign_id"]) - shown)
        assert result.count.current == len(running)
        compared += len(result.funnel)
        for row in result.funnel.itertuples():
            for step in ("sent", "delivered", "read", "replied"):
                want = int(truth[step].get(row.campaign_id, 0)) if row.campaign_id in truth.index else 0
                assert getattr(row, step) == want, (row.campaign_id, step)
    assert compared > 0


def test_top_accounts_are_the_largest_by_mrr(loaded_session, two_regions):
    top = q.top_accounts(loaded_session, MorningCoffeeFilters(FIXED.start, FIXED.end, two_regions, scope=EVERYTHING))
    assert len(top) == 10
    assert set(top["region"]) <= set(two_regions)
    assert list(top["mrr_usd"]) == sorted(top["mrr_usd"], reverse=True)


# --- Callbacks through the app -------------------------------------------------------


def _dash_app(app):
    return app.extensions["dash_app"]


def _callback_payload(app, output_id: str, regions: list[str] | None = None,
                      start: Any = "2026-10-01", end: Any = "2026-10-31") -> dict[str, Any]:
    """The request body Dash's renderer posts for the callback that has `output_id`: the
    page's state store, as the layout built it from the URL."""
    dash_app = _dash_app(app)
    key = next(k for k in dash_app.callback_map if f"{output_id}.children" in k)
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    return {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": ID.STATE, "property": "data",
                    "value": {"start": start, "end": end, "region": regions or []}}],
        "changedPropIds": [f"{ID.STATE}.data"],
        "state": [],
    }


def _response_outputs(response) -> dict[str, Any]:
    body = response.get_json()
    return {f"{cid}.{prop}": value for cid, props in body["response"].items() for prop, value in props.items()}


def test_executive_gets_kpis_through_the_callback_route(login_as, expected, two_regions):
    client = login_as("executive")
    response = client.post("/_dash-update-component", json=_callback_payload(app=client.application,
                                                                            output_id=ID.KPI_CUSTOMERS))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    outputs = _response_outputs(response)
    customers = json.dumps(outputs[f"{ID.KPI_CUSTOMERS}.children"])
    assert c.format_count(expected.active_customers(FIXED.end, ())) in customers
    leads = json.dumps(outputs[f"{ID.KPI_LEADS}.children"])
    assert c.format_count(expected.leads_between(FIXED.start, FIXED.end, ())) + " in the period" in leads

    filtered = client.post("/_dash-update-component", json=_callback_payload(
        client.application, ID.KPI_CUSTOMERS, regions=list(two_regions)))
    filtered_customers = json.dumps(_response_outputs(filtered)[f"{ID.KPI_CUSTOMERS}.children"])
    assert c.format_count(expected.active_customers(FIXED.end, two_regions)) in filtered_customers


@pytest.mark.parametrize("output_id", [ID.KPI_CUSTOMERS, ID.MRR_TREND, ID.TOP_ACCOUNTS])
def test_every_morning_coffee_callback_answers_an_executive(login_as, output_id):
    client = login_as("executive")
    response = client.post("/_dash-update-component", json=_callback_payload(client.application, output_id))
    assert response.status_code == 200


@pytest.mark.parametrize("output_id", [ID.KPI_CUSTOMERS, ID.MRR_TREND, ID.TOP_ACCOUNTS])
def test_support_lead_is_refused_morning_coffee_callbacks(login_as, output_id):
    client = login_as("support_lead")
    response = client.post("/_dash-update-component", json=_callback_payload(client.application, output_id))
    assert response.status_code == 403
    assert "Active customers" not in response.get_data(as_text=True)


def test_anonymous_is_refused_morning_coffee_callbacks(app, client):
    response = client.post("/_dash-update-component", json=_callback_payload(app, ID.KPI_CUSTOMERS))
    assert response.status_code == 401


def test_hand_crafted_inputs_are_handled_cleanly(login_as):
    client = login_as("executive")
    for start, end, regions in [("2031-01-01", "1999-01-01", ["Nowhere"]), ("yesterday", "<script>", None),
                                ("2026-11-30", "2026-11-01", ["'; DROP TABLE gold.daily_kpi; --"])]:
        for output_id in (ID.KPI_CUSTOMERS, ID.MRR_TREND, ID.TOP_ACCOUNTS):
            payload = _callback_payload(client.application, output_id, start=start, end=end)
            payload["inputs"][0]["value"]["region"] = regions
            response = client.post("/_dash-update-component", json=payload)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            assert "Traceback" not in response.get_data(as_text=True)


def test_callback_function_called_directly_as_an_executive(app, expected):
    from flask_login import login_user

    from callbacks.morning_coffee import update_charts, update_kpis, update_tables
    from dashboard.auth import _session_user
    from dashboard.extensions import db
    from dashboard.tables.app import User

    with db.session() as session:
        user = session.query(User).filter_by(email="executive@test.client360.dev").one()
        session_user = _session_user(user)
    with app.test_request_context("/_dash-update-component", method="POST"):
        login_user(session_user)
        state = {"start": "2026-10-01", "end": "2026-10-31", "region": []}
        kpis = update_kpis(state)
        charts = update_charts(state)
        tables = update_tables(state)
    assert c.format_usd(expected.mrr_usd(FIXED.end, ())) in text_of(kpis["mrr"])
    assert "Revenue by region" in text_of(charts["revenue"])
    assert "Largest accounts by MRR" in text_of(tables["top_accounts"])


def _page_layout(client, pathname: str) -> str:
    """Ask Dash's page router for a page's layout, as the browser does on navigation."""
    key = next(k for k in _dash_app(client.application).callback_map if "_pages_content.children" in k)
    payload = {
        "output": key,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_executive_page_layout(login_as):
    client = login_as("executive")
    client.get("/executive")  # the first page request registers Dash's router
    body = _page_layout(client, "/executive")
    for component_id in (ID.DATE_RANGE, ID.REGIONS, ID.KPI_CUSTOMERS, ID.MRR_TREND, ID.CAMPAIGNS):
        assert f'"{component_id}"' in body
    assert "forbidden-page" not in body


def test_executive_page_is_forbidden_for_a_support_lead(login_as):
    client = login_as("support_lead")
    client.get("/")
    body = _page_layout(client, "/executive")
    assert "forbidden-page" in body
    assert ID.KPI_CUSTOMERS not in body and ID.DATE_RANGE not in body


@pytest.mark.parametrize(("role", "has_link"), [("executive", True), ("support_lead", False)])
def test_navbar_links_to_morning_coffee_only_for_executives(login_as, role, has_link):
    client = login_as(role)
    response = client.get("/_dash-layout")
    assert response.status_code == 200
    assert ('"nav-executive"' in response.get_data(as_text=True)) is has_link


class _SessionProvider:
    """Stands in for `dashboard.extensions.db` so a layout reads the test's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def session(self):
        from contextlib import nullcontext

        return nullcontext(self._session)


def test_layout_on_an_empty_gold_is_the_no_data_panel(empty_gold, monkeypatch):
    import layouts.morning_coffee as page

    monkeypatch.setattr(page, "db", _SessionProvider(empty_gold))
    built = page.layout()
    assert "No data yet" in text_of(built) and "c360 etl run" in text_of(built)
    assert not [n for n in _walk(built) if getattr(n, "id", None) == ID.DATE_RANGE]


def test_layout_defaults_to_the_30_days_ending_yesterday(gold, monkeypatch):
    import layouts.morning_coffee as page

    monkeypatch.setattr(page, "db", _SessionProvider(gold))
    monkeypatch.setattr(page, "current_scope", DataScope.everything)
    built = page.layout()
    by_id = {n.id: n for n in _walk(built) if getattr(n, "id", None)}
    picker = by_id[ID.DATE_RANGE]
    assert (picker.start_date, picker.end_date) == ("2026-03-31", "2026-04-29")
    assert (picker.min_date_allowed, picker.max_date_allowed) == (FIRST.isoformat(), LAST.isoformat())
    assert [o["value"] for o in by_id[ID.REGIONS].options] == sorted(REGIONS)
    assert by_id[ID.REGIONS].value == []
    for component_id in (ID.KPI_CUSTOMERS, ID.KPI_CONTACTS, ID.KPI_LEADS, ID.KPI_EFFICIENCY, ID.KPI_MRR,
                         ID.MRR_TREND, ID.REVENUE_BY_REGION, ID.CAMPAIGNS, ID.TOP_ACCOUNTS):
        assert component_id in by_id


def test_sms_read_step_shows_not_applicable_instead_of_zero():
    import pandas as pd

    funnel = pd.DataFrame([
        {"campaign_name": "Fibre launch", "channel": "sms", "sent": 100, "delivered": 95, "read": 0,
         "replied": 6, "delivered_rate": 0.95, "read_rate": 0.0, "replied_rate": 0.06},
        {"campaign_name": "Survey", "channel": "email", "sent": 100, "delivered": 90, "read": 20,
         "replied": 2, "delivered_rate": 0.9, "read_rate": 0.2, "replied_rate": 0.02},
    ])
    rows = campaign_grid(funnel).rows
    assert [r["channel"] for r in rows] == ["SMS", "Email"]
    assert rows[0]["read"] is None and rows[0]["read_rate"] is None  # the grid shows n/a
    assert rows[1]["read"] == 20 and rows[1]["read_rate"] == 0.2

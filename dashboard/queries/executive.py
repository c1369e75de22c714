"""Morning Coffee queries: company-wide KPIs read from the gold tables only.

Every function takes an open session and a `MorningCoffeeFilters` and returns a small
dataclass or a DataFrame. A region tuple that is empty means every region.

The filters carry the user's `DataScope`. A restricted user's figures come from
gold.daily_kpi_territory limited to their territories; leads, support and campaign figures
exist per region only, so a restricted user gets none of them rather than company-wide ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_, select, union
from sqlalchemy.orm import Session

from dashboard.formatting import format_day
from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, PERCENT, TEXT, USD, GridColumn, GridRows
from dashboard.queries.insights import KpiDriverBreakdown, kpi_drivers
from dashboard.queries.lineage import Lineage, lineages
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    Campaign,
    CampaignDaily,
    Customer360,
    DailyKpi,
    DailyKpiTerritory,
    LeadsDaily,
    SupportDaily,
)
from dashboard.tables.insights import LargestAccount
from dashboard.tables.intelligence import ChurnPrediction
from dashboard.url_state import first, to_search, values
from models.kpi import Period, percent_change

DEFAULT_PERIOD_DAYS = 30
TREND_MONTHS = 12
TOP_ACCOUNTS_LIMIT = 10


@dataclass(frozen=True)
class MorningCoffeeFilters:
    """The page's filters: an inclusive date range, the selected regions (empty = all) and the
    caller's data scope (required: no default may quietly mean "everything")."""

    start: date
    end: date
    regions: tuple[str, ...] = ()
    scope: DataScope = field(kw_only=True)

    @property
    def company_wide(self) -> bool:
        """Whether region-level figures (leads, support, campaigns) may be shown."""
        return self.scope.unrestricted

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return self.period.previous()

    @property
    def day_before_start(self) -> date:
        return self.start - timedelta(days=1)


@dataclass(frozen=True)
class DateBounds:
    """First and last day in gold.daily_kpi; the last day is 'today' for the page."""

    first: date
    last: date

    def clamp(self, day: date) -> date:
        return min(max(day, self.first), self.last)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class Comparison:
    """A figure now and in the comparison period; None where there is no data."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def percent_change(self) -> float | None:
        return percent_change(self.current, self.previous)


@dataclass(frozen=True)
class StockKpis:
    """Stock metrics on the end date, compared with the day before the start date."""

    active_customers: Comparison
    active_contacts: Comparison
    mrr_usd: Comparison

    @property
    def has_data(self) -> bool:
        return self.active_customers.current is not None


@dataclass(frozen=True)
class LeadsSummary:
    """New leads on the end date vs the day before, and the period's total."""

    on_end_date: Comparison
    period_total: int
    has_data: bool


@dataclass(frozen=True)
class TeamEfficiency:
    """Exact median first-response minutes of tickets opened in the period vs the previous one."""

    median_first_response_minutes: Comparison
    responses: int
    tickets_opened: int


@dataclass(frozen=True)
class ActiveCampaigns:
    """Campaigns running on the end date, each with its send funnel over the period."""

    count: Comparison
    funnel: pd.DataFrame  # campaign_id, campaign_name, channel, status, start_date, end_date,
    # sent, delivered, read, replied, delivered_rate, read_rate, replied_rate (shares of sent)
    hidden: int = 0  # running campaigns left out: no send in the selected regions during the period


# --- Helpers -------------------------------------------------------------------------


def _in_regions(column: ColumnElement, regions: tuple[str, ...]) -> ColumnElement[bool]:
    """`column IN regions`, or TRUE when no region is selected (bound parameters only)."""
    return column.in_(regions) if regions else literal(True)


def _kpi_source(filters: MorningCoffeeFilters) -> tuple[type[DailyKpi] | type[DailyKpiTerritory],
                                                      ColumnElement[bool]]:
    """The daily KPI table to read and the scope condition on it."""
    if filters.scope.unrestricted:
        return DailyKpi, literal(True)
    return DailyKpiTerritory, filters.scope.territory_filter(DailyKpiTerritory.territory)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _month_end(day: date) -> date:
    return (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date()


# --- Filters' domain -----------------------------------------------------------------


def data_date_bounds(session: Session) -> DateBounds | None:
    """First and last day in gold.daily_kpi, or None when no data has been loaded."""
    first, last = session.execute(select(func.min(DailyKpi.day), func.max(DailyKpi.day))).one()
    if first is None or last is None:
        return None
    return DateBounds(first, last)


def regions(session: Session, scope: DataScope) -> list[str]:
    """Every region in the daily KPIs and leads, sorted. Tickets, sends and accounts take their
    account's region, so the two small daily tables already hold every region. A restricted
    scope gets only the regions of its territories and assigned accounts."""
    if not scope.unrestricted:
        stmt = union(
            select(DailyKpiTerritory.region).where(scope.territory_filter(DailyKpiTerritory.territory)),
            select(Customer360.region).where(scope.customer_filter()),
        )
        return sorted(r for r in session.scalars(stmt) if r)
    stmt = union(_distinct_values(DailyKpi.region, "kpi_regions"), _distinct_values(LeadsDaily.region, "lead_regions"))
    return sorted(r for r in session.scalars(stmt) if r)


def _distinct_values(column: Any, name: str) -> Select:
    """The column's distinct non-null values, skipping from one to the next through its index: a
    handful of index reads instead of a scan of the whole table."""
    found = select(func.min(column).label("value")).cte(name, recursive=True)
    following = select(func.min(column)).where(column > found.c.value).scalar_subquery()
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return select(found.c.value).where(found.c.value.is_not(None))


def default_filters(bounds: DateBounds, scope: DataScope, days: int = DEFAULT_PERIOD_DAYS) -> MorningCoffeeFilters:
    """The 30 days ending yesterday, where today is the last day in the data."""
    end = max(bounds.last - timedelta(days=1), bounds.first)
    start = max(end - timedelta(days=days - 1), bounds.first)
    return MorningCoffeeFilters(start=start, end=end, scope=scope)


# --- KPIs ----------------------------------------------------------------------------


def stock_kpis(session: Session, filters: MorningCoffeeFilters) -> StockKpis:
    """Active customers, active contacts and MRR on the end date vs the day before the start."""
    table, in_scope = _kpi_source(filters)
    stmt = (
        select(table.day,
               func.sum(table.active_customers),
               func.sum(table.active_contacts),
               func.sum(table.mrr_usd))
        .where(table.day.in_((filters.end, filters.day_before_start)),
               _in_regions(table.region, filters.regions), in_scope)
        .group_by(table.day)
    )
    by_day = {row[0]: tuple(_float(v) for v in row[1:]) for row in session.execute(stmt)}
    now = by_day.get(filters.end, (None, None, None))
    before = by_day.get(filters.day_before_start, (None, None, None))
    return StockKpis(
        active_customers=Comparison(now[0], before[0]),
        active_contacts=Comparison(now[1], before[1]),
        mrr_usd=Comparison(now[2], before[2]),
    )


def new_leads(session: Session, filters: MorningCoffeeFilters) -> LeadsSummary:
    """Leads created on the end date vs the day before it, and the period's total."""
    if not filters.company_wide:
        return LeadsSummary(on_end_date=Comparison(None, None), period_total=0, has_data=False)
    day_before_end = filters.end - timedelta(days=1)
    first_day = min(filters.start, day_before_end)
    stmt = (
        select(LeadsDaily.day, func.sum(LeadsDaily.new_leads))
        .where(LeadsDaily.day.between(first_day, filters.end),
               _in_regions(LeadsDaily.region, filters.regions))
        .group_by(LeadsDaily.day)
    )
    per_day = {day: int(n or 0) for day, n in session.execute(stmt)}
    period_total = sum(n for day, n in per_day.items() if filters.start <= day <= filters.end)
    # gold.leads_daily has rows only for days with leads: a day without a row counts zero,
    # unless the day is before the first day of data.
    bounds = data_date_bounds(session)
    previous = (None if bounds is not None and day_before_end < bounds.first
                else float(per_day.get(day_before_end, 0)))
    has_data = bool(per_day) or _has_rows(session, LeadsDaily, filters)
    return LeadsSummary(on_end_date=Comparison(float(per_day.get(filters.end, 0)), previous),
                        period_total=period_total, has_data=has_data)


def _has_rows(session: Session, table: type, filters: MorningCoffeeFilters) -> bool:
    """Whether the selected regions have any row at all in `table`."""
    stmt = select(literal(1)).select_from(table).where(
        _in_regions(table.region, filters.regions)).limit(1)  # type: ignore[attr-defined]
    return session.scalar(stmt) is not None


def _median_first_response(session: Session, period: Period,
                           regions_: tuple[str, ...]) -> tuple[float | None, int, int]:
    """(exact median minutes, responses, tickets opened) for tickets opened in `period`."""
    where = (SupportDaily.day.between(period.start, period.end),
             _in_regions(SupportDaily.region, regions_))
    unnested = func.unnest(SupportDaily.first_response_minutes).table_valued("minutes").render_derived("responses").lateral()
    minutes = unnested.c.minutes
    median, responses = session.execute(
        select(func.percentile_cont(0.5).within_group(minutes), func.count(minutes))
        .select_from(SupportDaily).join(unnested, literal(True)).where(*where)
    ).one()
    opened = session.scalar(select(func.coalesce(func.sum(SupportDaily.tickets_opened), 0)).where(*where))
    return _float(median), int(responses or 0), int(opened or 0)


def team_efficiency(session: Session, filters: MorningCoffeeFilters) -> TeamEfficiency:
    """Median first-response time of tickets opened in the period vs the previous period."""
    if not filters.company_wide:
        return TeamEfficiency(Comparison(None, None), responses=0, tickets_opened=0)
    current, responses, opened = _median_first_response(session, filters.period, filters.regions)
    previous, _, _ = _median_first_response(session, filters.previous, filters.regions)
    return TeamEfficiency(Comparison(current, previous), responses=responses, tickets_opened=opened)


def mrr_trend(session: Session, filters: MorningCoffeeFilters, months: int = TREND_MONTHS) -> pd.DataFrame:
    """Month-end MRR in USD for the `months` months ending at the end date (the last point is
    the end date itself); columns day, mrr_usd. Months before the data starts are left out."""
    end_month = pd.Timestamp(filters.end).to_period("M")
    days = [_month_end((end_month - offset).to_timestamp().date()) for offset in range(months - 1, 0, -1)]
    days.append(filters.end)
    table, in_scope = _kpi_source(filters)
    stmt = (
        select(table.day, func.sum(table.mrr_usd).label("mrr_usd"))
        .where(table.day.in_(days), _in_regions(table.region, filters.regions), in_scope)
        .group_by(table.day).order_by(table.day)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=["day", "mrr_usd"])
    return frame.astype({"mrr_usd": "float64"})


def _revenue_by(session: Session, filters: MorningCoffeeFilters, member: ColumnElement, table: Any,
                where: ColumnElement[bool]) -> pd.DataFrame:
    """Invoiced USD per `member` in the period and the previous period, largest first; members
    without rows in the period are left out."""
    previous = filters.previous
    in_period = table.day.between(filters.start, filters.end)
    in_previous = table.day.between(previous.start, previous.end)
    stmt = (
        select(member,
               func.coalesce(func.sum(table.invoiced_usd).filter(in_period), 0),
               func.coalesce(func.sum(table.invoiced_usd).filter(in_previous), 0),
               func.count().filter(in_period))
        .where(or_(in_period, in_previous), where)
        .group_by(member)
    )
    name = member.key
    frame = pd.DataFrame(session.execute(stmt).all(),
                         columns=[name, "invoiced_usd", "previous_invoiced_usd", "rows_in_period"])
    frame = frame[frame["rows_in_period"] > 0].drop(columns="rows_in_period")
    frame = frame.astype({"invoiced_usd": "float64", "previous_invoiced_usd": "float64"})
    return frame.sort_values(["invoiced_usd", name], ascending=[False, True]).reset_index(drop=True)


def revenue_by_region(session: Session, filters: MorningCoffeeFilters) -> pd.DataFrame:
    """Invoiced USD per region in the period and the previous period; columns region,
    invoiced_usd, previous_invoiced_usd, largest first. Regions without rows are left out."""
    table, in_scope = _kpi_source(filters)
    return _revenue_by(session, filters, table.region, table,
                       and_(_in_regions(table.region, filters.regions), in_scope))


def _running_on(day: date) -> ColumnElement[bool]:
    """Campaigns that had started by `day` and had not ended before it (or are still active)."""
    return and_(Campaign.start_date <= day,
                or_(Campaign.end_date.is_(None), Campaign.end_date >= day, Campaign.status == "active"))


def active_campaigns(session: Session, filters: MorningCoffeeFilters) -> ActiveCampaigns:
    """Campaigns running on the end date with sent, delivered, read and replied in the period
    (recipients in the selected regions), and the count vs the day before the start date. With
    regions selected, campaigns without a send there in the period are left out (and counted in
    `hidden`). A restricted scope gets no campaigns: sends exist per region only."""
    region_level = literal(True) if filters.company_wide else false()
    count_now = session.scalar(select(func.count()).select_from(Campaign)
                               .where(_running_on(filters.end), region_level))
    count_before = session.scalar(
        select(func.count()).select_from(Campaign).where(_running_on(filters.day_before_start), region_level))
    bounds = data_date_bounds(session)
    if (bounds is not None and filters.day_before_start < bounds.first) or not filters.company_wide:
        count_before = None
    if not filters.company_wide:
        count_now = None
    sends = (
        select(CampaignDaily.campaign_id,
               func.sum(CampaignDaily.sent).label("sent"),
               func.sum(CampaignDaily.delivered).label("delivered"),
               func.sum(CampaignDaily.read).label("read"),
               func.sum(CampaignDaily.replied).label("replied"))
        .where(CampaignDaily.day.between(filters.start, filters.end),
               _in_regions(CampaignDaily.region, filters.regions))
        .group_by(CampaignDaily.campaign_id)
        .subquery()
    )
    counts = [func.coalesce(sends.c[name], 0).label(name) for name in ("sent", "delivered", "read", "replied")]
    stmt = (
        select(Campaign.campaign_id, Campaign.campaign_name, Campaign.channel, Campaign.status,
               Campaign.start_date, Campaign.end_date, *counts)
        .outerjoin(sends, sends.c.campaign_id == Campaign.campaign_id)
        .where(_running_on(filters.end), region_level)
        .order_by(counts[0].desc(), Campaign.campaign_name, Campaign.campaign_id)
    )
    columns = ["campaign_id", "campaign_name", "channel", "status", "start_date", "end_date",
               "sent", "delivered", "read", "replied"]
    funnel = pd.DataFrame(session.execute(stmt).all(), columns=columns)
    funnel = funnel.astype({name: "int64" for name in ("sent", "delivered", "read", "replied")})
    hidden = 0
    if filters.regions:  # a campaign that reached no one in these regions is not theirs
        hidden = int((funnel["sent"] == 0).sum())
        funnel = funnel[funnel["sent"] > 0].reset_index(drop=True)
    sent = funnel["sent"].where(funnel["sent"] > 0)
    for step in ("delivered", "read", "replied"):
        funnel[f"{step}_rate"] = (funnel[step] / sent).astype("float64")
    return ActiveCampaigns(count=Comparison(_float(count_now), _float(count_before)), funnel=funnel, hidden=hidden)


def top_accounts(session: Session, filters: MorningCoffeeFilters,
                 limit: int = TOP_ACCOUNTS_LIMIT, *, territory: str | None = None) -> pd.DataFrame:
    """The largest accounts by current MRR in the selected regions (and `territory`); columns
    account_id, account_name, region, segment, status, mrr_usd, arr_usd; only accounts inside the scope."""
    stmt = (
        select(Customer360.account_id, Customer360.account_name, Customer360.region,
               Customer360.segment, Customer360.status, Customer360.mrr_usd, Customer360.arr_usd)
        .where(_in_regions(Customer360.region, filters.regions), Customer360.mrr_usd > 0,
               filters.scope.customer_filter(),
               Customer360.territory == territory if territory is not None else literal(True))
        .order_by(Customer360.mrr_usd.desc(), Customer360.account_id)
        .limit(limit)
    )
    frame = pd.DataFrame(session.execute(stmt).all(),
                         columns=["account_id", "account_name", "region", "segment", "status",
                                  "mrr_usd", "arr_usd"])
    return frame.astype({"mrr_usd": "float64", "arr_usd": "float64"})


# Hand-crafted requests may send anything; a real dropdown never sends more than this.
MAX_REGION_VALUES = 100


# --- Input validation ----------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters after validation, notes on what was adjusted, and whether nothing can match."""

    filters: MorningCoffeeFilters
    bounds: DateBounds
    notes: tuple[str, ...] = ()
    selects_nothing: bool = False
    drill_region: str | None = None  # revenue shown by territory inside this region
    drill_territory: str | None = None  # ... and the largest accounts of this territory of it


def _parse_day(raw: Any) -> date | None:
    """A date from the date picker's ISO string ('2026-11-01' or '2026-11-01T00:00:00')."""
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def resolve_filters(start_raw: Any, end_raw: Any, regions_raw: Any, bounds: DateBounds,
                    known_regions: Sequence[str], scope: DataScope) -> ResolvedFilters:
    """Validate raw callback inputs: unreadable dates fall back to the default period, dates are
    clamped to the data, a reversed range is swapped, and unknown regions are dropped."""
    defaults = default_filters(bounds, scope)
    notes: list[str] = []
    start, end = _parse_day(start_raw), _parse_day(end_raw)
    if start is None or end is None:
        if start_raw is not None or end_raw is not None:
            notes.append("Unreadable dates were replaced by the default period.")
        start = start or defaults.start
        end = end or defaults.end
    if end < start:
        start, end = end, start
        notes.append("The start and end dates were swapped.")
    clamped = bounds.clamp(start), bounds.clamp(end)
    if clamped != (start, end):
        start, end = clamped
        notes.append(f"Dates were limited to the available data, {format_day(bounds.first)} to "
                     f"{format_day(bounds.last)}.")

    if regions_raw is None:
        requested: list[Any] = []
    elif isinstance(regions_raw, (list, tuple)):
        requested = list(regions_raw)[:MAX_REGION_VALUES]
    else:
        requested = [regions_raw]
    known = set(known_regions)
    selected = tuple(dict.fromkeys(r for r in requested if isinstance(r, str) and r in known))
    unknown = len(requested) - len(selected)
    if unknown:
        notes.append(f"Ignored {unknown} unknown region value{'s' if unknown != 1 else ''}.")
    filters = MorningCoffeeFilters(start, end, selected, scope=scope)
    return ResolvedFilters(filters, bounds, tuple(notes),
                           selects_nothing=bool(requested) and not selected)


# --- The page's state in the URL -----------------------------------------------------

PAGE_PATH = "/executive"


@dataclass(frozen=True)
class PageQuery:
    """The page as the URL holds it: raw values, validated only by `resolve_page`.

    `?start=2026-10-01&end=2026-10-31&region=Europe&region=Asia&drill=Europe&segment=churn:HIGH`:
    `drill` is the region whose territories the revenue chart shows, `segment` the bar of the risk
    distribution whose accounts are listed."""

    start: Any = None
    end: Any = None
    regions: Any = ()
    drill_region: Any = None
    segment: Any = None
    drill_territory: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> PageQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(first(args, "start"), first(args, "end"), tuple(values(args, "region")), first(args, "drill"),
                   first(args, "segment"), first(args, "territory"))

    @classmethod
    def from_state(cls, data: Any) -> PageQuery:
        """From the page's state store; anything malformed reads as the default view."""
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({k: data.get(k) for k in ("start", "end", "region", "drill", "segment", "territory")})

    def as_state(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "region": list(self.regions or ()), "drill": self.drill_region,
                "segment": self.segment, "territory": self.drill_territory}

    @property
    def search(self) -> str:
        return to_search([("start", self.start), ("end", self.end), ("region", self.regions or ()),
                          ("drill", self.drill_region), ("territory", self.drill_territory),
                          ("segment", self.segment)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search

    def without_drill(self) -> PageQuery:
        return replace(self, drill_region=None, drill_territory=None)

    def without_territory(self) -> PageQuery:
        return replace(self, drill_territory=None)


def query_from_controls(start_raw: Any, end_raw: Any, regions_raw: Any, current: PageQuery) -> PageQuery | None:
    """The URL state for the filter controls' values, or None while the period is incomplete:
    picking a start date clears the end date, and the page waits for the end rather than
    recompute (and warn) with half a period. A drill-down survives while its region stays
    selectable."""
    start, end = _parse_day(start_raw), _parse_day(end_raw)
    if start is None or end is None:
        return None
    requested = regions_raw if isinstance(regions_raw, (list, tuple)) else ([regions_raw] if regions_raw else [])
    selected = tuple(dict.fromkeys(r for r in requested[:MAX_REGION_VALUES] if isinstance(r, str)))
    drill = current.drill_region if not selected or current.drill_region in selected else None
    return PageQuery(start.isoformat(), end.isoformat(), selected, drill, current.segment,
                     current.drill_territory if drill else None)


def drill_into(current: PageQuery, clicked_label: Any) -> PageQuery | None:
    """One level down: from regions to the clicked region's territories, from territories to the
    clicked territory's accounts; None at the lowest level or for a click on nothing."""
    if current.drill_territory or not isinstance(clicked_label, str) or not clicked_label:
        return None
    if current.drill_region:
        return replace(current, drill_territory=clicked_label[:200])
    return replace(current, drill_region=clicked_label[:200])


def resolve_page(session: Session, query: PageQuery, scope: DataScope) -> ResolvedFilters | None:
    """Validate the URL state against the data (see `resolve_filters`); a drill-down into a
    region outside the scope or the selection is dropped. None when gold is empty."""
    bounds = data_date_bounds(session)
    if bounds is None:
        return None
    known = regions(session, scope)
    resolved = resolve_filters(query.start, query.end, list(query.regions or ()), bounds, known, scope)
    drill = query.drill_region
    selectable = resolved.filters.regions or known
    region = drill if isinstance(drill, str) and drill in selectable else None
    territory = query.drill_territory
    if region is None or not isinstance(territory, str) or territory not in territories_of(
            session, region, scope):
        territory = None
    return replace(resolved, drill_region=region, drill_territory=territory)


def territories_of(session: Session, region: str, scope: DataScope) -> list[str]:
    """The territories of `region` with daily figures, inside the caller's scope."""
    return list(session.scalars(select(DailyKpiTerritory.territory).distinct()
                                .where(DailyKpiTerritory.region == region,
                                       scope.territory_filter(DailyKpiTerritory.territory))))


# --- Drill-down and daily series -----------------------------------------------------


def revenue_by_territory(session: Session, filters: MorningCoffeeFilters, region: str) -> pd.DataFrame:
    """`revenue_by_region` one level down: invoiced USD per territory of `region`; columns
    territory, invoiced_usd, previous_invoiced_usd, largest first."""
    return _revenue_by(session, filters, DailyKpiTerritory.territory, DailyKpiTerritory,
                       and_(DailyKpiTerritory.region == region,
                            filters.scope.territory_filter(DailyKpiTerritory.territory)))


def daily_series(session: Session, filters: MorningCoffeeFilters) -> pd.DataFrame:
    """One row per day of the period for the KPI sparklines: day, active_customers,
    active_contacts, mrr_usd, new_leads, median_first_response_minutes (region-level figures
    only for a company-wide scope)."""
    table, in_scope = _kpi_source(filters)
    stock = pd.DataFrame(session.execute(
        select(table.day, func.sum(table.active_customers), func.sum(table.active_contacts), func.sum(table.mrr_usd))
        .where(table.day.between(filters.start, filters.end), _in_regions(table.region, filters.regions), in_scope)
        .group_by(table.day).order_by(table.day)).all(),
        columns=["day", "active_customers", "active_contacts", "mrr_usd"])
    days = pd.DataFrame({"day": [filters.start + timedelta(days=i) for i in range(filters.period.days)]})
    frame = days.merge(stock, on="day", how="left")
    frame["new_leads"] = float("nan")
    frame["median_first_response_minutes"] = float("nan")
    if filters.company_wide:
        leads = dict(session.execute(
            select(LeadsDaily.day, func.sum(LeadsDaily.new_leads))
            .where(LeadsDaily.day.between(filters.start, filters.end), _in_regions(LeadsDaily.region, filters.regions))
            .group_by(LeadsDaily.day)).all())
        frame["new_leads"] = [float(leads.get(day, 0)) for day in frame["day"]]
        unnested = (func.unnest(SupportDaily.first_response_minutes).table_valued("minutes")
                    .render_derived("responses").lateral())
        medians = dict(session.execute(
            select(SupportDaily.day, func.percentile_cont(0.5).within_group(unnested.c.minutes))
            .select_from(SupportDaily).join(unnested, literal(True))
            .where(SupportDaily.day.between(filters.start, filters.end),
                   _in_regions(SupportDaily.region, filters.regions))
            .group_by(SupportDaily.day)).all())
        frame["median_first_response_minutes"] = [_float(medians.get(day)) for day in frame["day"]]
    return frame.astype({c: "float64" for c in frame.columns if c != "day"})


# --- Grids ---------------------------------------------------------------------------

# SMS has no read receipts: a zero there would read as "nobody read it".
CHANNELS_WITHOUT_READ_RECEIPTS = frozenset({"sms"})
CHANNEL_LABELS = {"email": "Email", "whatsapp": "WhatsApp", "sms": "SMS"}
CAMPAIGN_COLUMNS = (
    GridColumn("campaign_name", "Campaign", TEXT, pinned=True),
    GridColumn("channel", "Channel"),
    GridColumn("sent", "Sent", COUNT),
    GridColumn("delivered", "Delivered", COUNT),
    GridColumn("delivered_rate", "Delivered %", PERCENT),
    GridColumn("read", "Read", COUNT),
    GridColumn("read_rate", "Read %", PERCENT),
    GridColumn("replied", "Replied", COUNT),
    GridColumn("replied_rate", "Replied %", PERCENT),
)


def _number(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def campaign_grid(funnel: pd.DataFrame) -> GridRows:
    """The campaigns funnel as grid rows; SMS's read step is empty (n/a), not zero."""
    rows = []
    for record in funnel.to_dict("records"):
        row = {c.field: _number(record.get(c.field)) for c in CAMPAIGN_COLUMNS}
        row["channel"] = CHANNEL_LABELS.get(record["channel"], record["channel"])
        if record["channel"] in CHANNELS_WITHOUT_READ_RECEIPTS:
            row["read"] = row["read_rate"] = None
        rows.append(row)
    return GridRows(CAMPAIGN_COLUMNS, rows, key_field="campaign_name")


def campaign_totals(funnel: pd.DataFrame) -> dict[str, Any]:
    """The funnel's total row: sums, and rates as shares of the total sent."""
    sent = int(funnel["sent"].sum()) if not funnel.empty else 0
    totals: dict[str, Any] = {"campaign_name": "Total", "channel": "", "sent": sent}
    for step in ("delivered", "read", "replied"):
        count = int(funnel[step].sum()) if not funnel.empty else 0
        totals[step] = count
        totals[f"{step}_rate"] = count / sent if sent else None
    return totals


def account_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    """The largest-accounts columns; MRR is a band without the financials permission."""
    return (
        GridColumn("rank", "#", COUNT),
        GridColumn("account_name", "Account", ACCOUNT, pinned=True),
        GridColumn("account_id", "Account id"),
        GridColumn("region", "Region"),
        GridColumn("segment", "Segment"),
        GridColumn("mrr_usd", "MRR", USD if policy.view_financials else BAND),
        GridColumn("churn_risk", "Churn risk", CHIP, score="churn"),
    )


def largest_accounts_on(session: Session, filters: MorningCoffeeFilters, limit: int = TOP_ACCOUNTS_LIMIT, *,
                        territory: str | None = None) -> tuple[pd.DataFrame, date | None]:
    """The largest accounts by MRR on the period's end date, and the day their MRR is of.

    On the last day of data, `top_accounts` (gold.customer_360). Before it, the KPI-driver job's
    gold.largest_account: the ten largest of each region and territory on the days it keeps (the
    day before the last and each month end of the last year), so the ten largest of the selection
    are among them; the day is the end date when kept, else the nearest kept day before it. None
    when no day is kept that early; the last day's, when none is kept at all yet."""
    bounds = data_date_bounds(session)
    if bounds is None or filters.end >= bounds.last:
        return top_accounts(session, filters, limit, territory=territory), filters.end
    day = session.scalar(select(func.max(LargestAccount.day)).where(LargestAccount.day <= filters.end))
    columns = ["account_id", "account_name", "region", "segment", "status", "mrr_usd", "arr_usd"]
    if day is None:
        if session.scalar(select(LargestAccount.day).limit(1)) is None:
            # No day kept yet (the KPI-driver job has not run): today's, said so, rather than nothing.
            return top_accounts(session, filters, limit, territory=territory), bounds.last
        return pd.DataFrame(columns=columns), None
    largest = LargestAccount
    stmt = (
        select(largest.account_id, Customer360.account_name, Customer360.region, Customer360.segment,
               Customer360.status, largest.mrr_usd, (largest.mrr_usd * 12).label("arr_usd"))
        .join(Customer360, Customer360.account_id == largest.account_id)
        .where(largest.day == day, _in_regions(largest.region, filters.regions),
               filters.scope.account_filter(largest.territory, largest.account_id),
               largest.territory == territory if territory is not None else literal(True))
        .order_by(largest.mrr_usd.desc(), largest.account_id)
        .limit(limit)
    )
    frame = pd.DataFrame(session.execute(stmt).all(), columns=columns)
    return frame.astype({"mrr_usd": "float64", "arr_usd": "float64"}), day


def top_accounts_grid(session: Session, filters: MorningCoffeeFilters, policy: MaskPolicy,
                      limit: int = TOP_ACCOUNTS_LIMIT) -> GridRows:
    """`largest_accounts_on` the end date with each account's churn risk level, masked by `policy`."""
    return _accounts_grid(session, largest_accounts_on(session, filters, limit)[0], policy)


def _accounts_grid(session: Session, accounts: pd.DataFrame, policy: MaskPolicy) -> GridRows:
    risk = dict(session.execute(select(ChurnPrediction.account_id, ChurnPrediction.risk_level)
                                .where(ChurnPrediction.account_id.in_(list(accounts["account_id"])))).all())
    rows = [{"rank": rank, "account_name": row.account_name, "account_id": row.account_id, "region": row.region,
             "segment": row.segment, "mrr_usd": mask_value("mrr_usd", float(row.mrr_usd), policy),
             "churn_risk": risk.get(row.account_id)}
            for rank, row in enumerate(accounts.itertuples(index=False), start=1)]
    return GridRows(account_columns(policy), rows, key_field="account_name")


# --- One result per panel group ------------------------------------------------------

# Where each KPI's figures are read from (the "Where from?" popover).
KPI_GOLD_TABLES = {
    "active_customers": "gold.daily_kpi", "active_contacts": "gold.daily_kpi", "mrr_usd": "gold.daily_kpi",
    "new_leads": "gold.leads_daily", "team_efficiency": "gold.support_daily",
}
# KPIs with a stored breakdown in gold.kpi_driver (the "Why did it move?" popover).
DRIVER_KPIS = ("mrr_usd", "active_customers")


@dataclass(frozen=True)
class PageKpis:
    """Everything the KPI cards show: figures, daily series, freshness, drivers and lineage."""

    resolved: ResolvedFilters
    stock: StockKpis
    leads: LeadsSummary
    efficiency: TeamEfficiency
    daily: pd.DataFrame
    status: GoldStatus
    drivers: dict[str, KpiDriverBreakdown]
    lineage: dict[str, Lineage]

    @property
    def is_yesterday(self) -> bool:
        """Whether the period ends the day before the last day of data ('today')."""
        return self.resolved.filters.end == self.resolved.bounds.last - timedelta(days=1)


def page_kpis(session: Session, query: PageQuery, scope: DataScope, *,
              policy: MaskPolicy) -> PageKpis | GoldStatus:
    """The KPI cards' data for the URL state, or gold's status when gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return gold_status(session)
    filters = resolved.filters
    drivers = {}
    for kpi in DRIVER_KPIS:
        if kpi == "mrr_usd" and not policy.view_financials:
            continue
        breakdown = kpi_drivers(session, kpi, scope=filters.scope)
        if breakdown is not None:
            drivers[kpi] = breakdown
    return PageKpis(resolved, stock_kpis(session, filters), new_leads(session, filters),
                    team_efficiency(session, filters), daily_series(session, filters), gold_status(session),
                    drivers, lineages(session, tuple(KPI_GOLD_TABLES.values())))


@dataclass(frozen=True)
class RevenueBreakdown:
    """Invoiced USD by region, or by territory inside `region` after a drill-down; one level further,
    the largest accounts of `territory` (by MRR on `accounts_day`)."""

    rows: pd.DataFrame  # member, invoiced_usd, previous_invoiced_usd
    region: str | None
    territory: str | None = None
    accounts: GridRows | None = None
    accounts_day: date | None = None

    @property
    def level(self) -> str:
        return "account" if self.territory else ("territory" if self.region else "region")

    @property
    def total(self) -> Comparison:
        if self.rows.empty:
            return Comparison(None, None)
        return Comparison(float(self.rows["invoiced_usd"].sum()), float(self.rows["previous_invoiced_usd"].sum()))


@dataclass(frozen=True)
class PageCharts:
    """The MRR trend and the revenue breakdown (empty frames when the selection matches nothing)."""

    resolved: ResolvedFilters
    trend: pd.DataFrame
    revenue: RevenueBreakdown
    lineage: dict[str, Lineage]


def page_charts(session: Session, query: PageQuery, scope: DataScope, *,
                policy: MaskPolicy) -> PageCharts | GoldStatus | None:
    """The charts' data for the URL state; None without the financials permission (nothing is
    read, so nothing can leak), gold's status when gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if not policy.view_financials:
        return None
    filters = resolved.filters
    if resolved.selects_nothing:
        return PageCharts(resolved, pd.DataFrame(), RevenueBreakdown(pd.DataFrame(), None), {})
    if resolved.drill_territory:
        frame, day = largest_accounts_on(session, filters, territory=resolved.drill_territory)
        breakdown = RevenueBreakdown(pd.DataFrame(), resolved.drill_region, resolved.drill_territory,
                                     _accounts_grid(session, frame, policy), day)
    elif resolved.drill_region:
        revenue = revenue_by_territory(session, filters, resolved.drill_region).rename(columns={"territory": "member"})
        breakdown = RevenueBreakdown(revenue, resolved.drill_region)
    else:
        breakdown = RevenueBreakdown(revenue_by_region(session, filters).rename(columns={"region": "member"}), None)
    return PageCharts(resolved, mrr_trend(session, filters), breakdown, lineages(session, ("gold.daily_kpi",)))


@dataclass(frozen=True)
class PageTables:
    """The campaigns funnel and the largest accounts, as grid rows."""

    resolved: ResolvedFilters
    campaigns: ActiveCampaigns
    campaign_rows: GridRows
    campaign_totals: dict[str, Any]
    accounts: GridRows
    accounts_day: date | None = None  # the day the largest accounts' MRR is of


def page_tables(session: Session, query: PageQuery, scope: DataScope, *,
                policy: MaskPolicy) -> PageTables | GoldStatus:
    """The grids' data for the URL state, or gold's status when gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return gold_status(session)
    filters = resolved.filters
    campaigns = active_campaigns(session, filters)
    funnel = campaigns.funnel if not resolved.selects_nothing else campaigns.funnel.iloc[0:0]
    if resolved.selects_nothing:
        accounts, day = GridRows(account_columns(policy), [], "account_name"), None
    else:
        frame, day = largest_accounts_on(session, filters)
        accounts = _accounts_grid(session, frame, policy)
    return PageTables(resolved, campaigns, campaign_grid(funnel), campaign_totals(funnel), accounts, day)


# --- Exports (dashboard.export): the grids recomputed from a page's query string ----------


def export_campaigns(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The campaigns grid for the page's query string, as the page shows it."""
    tables = page_tables(session, PageQuery.from_args(args), scope, policy=policy)
    if not isinstance(tables, PageTables) or not tables.resolved.filters.company_wide:
        return GridRows(CAMPAIGN_COLUMNS, [], "campaign_name")
    return tables.campaign_rows


def export_top_accounts(session: Session, args: Mapping[str, Any], scope: DataScope,
                        policy: MaskPolicy) -> GridRows:
    """The largest-accounts grid for the page's query string, as the page shows it."""
    tables = page_tables(session, PageQuery.from_args(args), scope, policy=policy)
    if not isinstance(tables, PageTables):
        return GridRows(account_columns(policy), [], "account_name")
    return tables.accounts


def export_name(args: Mapping[str, Any]) -> str:
    """The period part of an export's file name, e.g. '2026-10-01_2026-10-31'."""
    start, end = _parse_day(first(args, "start")), _parse_day(first(args, "end"))
    return "_".join(d.isoformat() for d in (start, end) if d is not None) or datetime.now().date().isoformat()

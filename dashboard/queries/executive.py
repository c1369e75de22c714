"""Morning Coffee queries: company-wide KPIs read from the gold tables only.

Every function takes an open session and a `MorningCoffeeFilters` and returns a small
dataclass or a DataFrame. A region tuple that is empty means every region.

The filters carry the user's `DataScope`. A restricted user's figures come from
gold.daily_kpi_territory limited to their territories; leads, support and campaign figures
exist per region only, so a restricted user gets none of them rather than company-wide ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, union
from sqlalchemy.orm import Session

from dashboard.formatting import format_day
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
from models.kpi import Period, percent_change

DEFAULT_PERIOD_DAYS = 30
TREND_MONTHS = 12
TOP_ACCOUNTS_LIMIT = 10


@dataclass(frozen=True)
class MorningCoffeeFilters:
    """The page's filters: an inclusive date range, the selected regions (empty = all) and the
    user's data scope (default: everything)."""

    start: date
    end: date
    regions: tuple[str, ...] = ()
    scope: DataScope = field(default_factory=DataScope.everything)

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


def regions(session: Session, scope: DataScope | None = None) -> list[str]:
    """Every region in the daily KPIs and leads, sorted. Tickets, sends and accounts take their
    account's region, so the two small daily tables already hold every region. A restricted
    scope gets only the regions of its territories and assigned accounts."""
    if scope is not None and not scope.unrestricted:
        stmt = union(
            select(DailyKpiTerritory.region).where(scope.territory_filter(DailyKpiTerritory.territory)),
            select(Customer360.region).where(scope.customer_filter()),
        )
        return sorted(r for r in session.scalars(stmt) if r)
    stmt = union(select(DailyKpi.region), select(LeadsDaily.region))
    return sorted(r for r in session.scalars(stmt) if r)


def default_filters(bounds: DateBounds, days: int = DEFAULT_PERIOD_DAYS) -> MorningCoffeeFilters:
    """The 30 days ending yesterday, where today is the last day in the data."""
    end = max(bounds.last - timedelta(days=1), bounds.first)
    start = max(end - timedelta(days=days - 1), bounds.first)
    return MorningCoffeeFilters(start=start, end=end)


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


def revenue_by_region(session: Session, filters: MorningCoffeeFilters) -> pd.DataFrame:
    """Invoiced USD per region in the period and the previous period; columns region,
    invoiced_usd, previous_invoiced_usd, largest first. Regions without rows are left out."""
    previous = filters.previous
    table, in_scope = _kpi_source(filters)
    in_period = table.day.between(filters.start, filters.end)
    in_previous = table.day.between(previous.start, previous.end)
    stmt = (
        select(table.region,
               func.coalesce(func.sum(table.invoiced_usd).filter(in_period), 0).label("invoiced_usd"),
               func.coalesce(func.sum(table.invoiced_usd).filter(in_previous), 0)
               .label("previous_invoiced_usd"),
               func.count().filter(in_period).label("rows_in_period"))
        .where(or_(in_period, in_previous), _in_regions(table.region, filters.regions), in_scope)
        .group_by(table.region)
    )
    frame = pd.DataFrame(session.execute(stmt).all(),
                         columns=["region", "invoiced_usd", "previous_invoiced_usd", "rows_in_period"])
    frame = frame[frame["rows_in_period"] > 0].drop(columns="rows_in_period")
    frame = frame.astype({"invoiced_usd": "float64", "previous_invoiced_usd": "float64"})
    return frame.sort_values(["invoiced_usd", "region"], ascending=[False, True]).reset_index(drop=True)


def _running_on(day: date) -> ColumnElement[bool]:
    """Campaigns that had started by `day` and had not ended before it (or are still active)."""
    return and_(Campaign.start_date <= day,
                or_(Campaign.end_date.is_(None), Campaign.end_date >= day, Campaign.status == "active"))


def active_campaigns(session: Session, filters: MorningCoffeeFilters) -> ActiveCampaigns:
    """Campaigns running on the end date with sent, delivered, read and replied in the period
    (recipients in the selected regions), and the count vs the day before the start date.
    A restricted scope gets no campaigns: sends exist per region only."""
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
    sent = funnel["sent"].where(funnel["sent"] > 0)
    for step in ("delivered", "read", "replied"):
        funnel[f"{step}_rate"] = (funnel[step] / sent).astype("float64")
    return ActiveCampaigns(count=Comparison(_float(count_now), _float(count_before)), funnel=funnel)


def top_accounts(session: Session, filters: MorningCoffeeFilters,
                 limit: int = TOP_ACCOUNTS_LIMIT) -> pd.DataFrame:
    """The largest accounts by current MRR in the selected regions; columns account_id,
    account_name, region, segment, status, mrr_usd, arr_usd; only accounts inside the scope."""
    stmt = (
        select(Customer360.account_id, Customer360.account_name, Customer360.region,
               Customer360.segment, Customer360.status, Customer360.mrr_usd, Customer360.arr_usd)
        .where(_in_regions(Customer360.region, filters.regions), Customer360.mrr_usd > 0,
               filters.scope.customer_filter())
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


def _parse_day(raw: Any) -> date | None:
    """A date from the date picker's ISO string ('2026-11-01' or '2026-11-01T00:00:00')."""
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def resolve_filters(start_raw: Any, end_raw: Any, regions_raw: Any, bounds: DateBounds,
                    known_regions: Sequence[str], scope: DataScope | None = None) -> ResolvedFilters:
    """Validate raw callback inputs: unreadable dates fall back to the default period, dates are
    clamped to the data, a reversed range is swapped, and unknown regions are dropped."""
    defaults = default_filters(bounds)
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
    filters = MorningCoffeeFilters(start, end, selected, scope or DataScope.everything())
    return ResolvedFilters(filters, bounds, tuple(notes),
                           selects_nothing=bool(requested) and not selected)

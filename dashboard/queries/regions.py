"""Regional analysis queries: revenue, customers, MRR and win rate per region (or per territory
of one region), each compared with the previous period and the previous year, and the product mix.

The figures are read from small gold tables: gold.daily_kpi_territory (revenue, customers, MRR
per regional account's region and territory), gold.daily_kpi_master_territory (the same per
master account's region and territory), gold.pipeline_monthly (won and lost deals per territory)
and gold.product_mix_territory (product lines held on the data's last day). Every query takes the
caller's `DataScope` (in `RegionFilters` or as an argument), and each panel's `page_*` function its
`MaskPolicy` too; territory-level figures are limited with `DataScope.territory_filter`, so
accounts assigned by name add nothing here.

Two ways to count (the `view`):
- "master" (the default): accounts linked across regions are rolled up to their master
  account. A customer counts once, in its master account's region and territory, and its
  regional accounts' MRR and revenue are counted there too.
- "regional": each regional account counts as a customer in its own region and territory, with
  its own MRR and revenue.
Deals stay in the region of the regional account that won them in both views: gold keeps them per
regional account's territory only.

The periods compared (see `comparison_periods`):
- the selected period, an inclusive date range;
- the previous period: as many whole months just before, when the period is whole months
  (a quarter is compared with the quarter before), else as many days just before;
- the previous year: the same months a year earlier, or the same number of days starting on
  the same calendar day a year earlier.
Flow figures (revenue, win rate) cover each period; stock figures (customers, MRR) are those
on each period's last day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.executive import DateBounds, _parse_day, data_date_bounds
from dashboard.queries.executive import resolve_filters as resolve_dates
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import BAND, COUNT, PERCENT, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    ALL_PRODUCTS,
    DailyKpiMasterTerritory,
    DailyKpiTerritory,
    PipelineMonthly,
    ProductMixTerritory,
)
from dashboard.url_state import first, to_search
from models.kpi import Period, percent_change

PAGE_PATH = "/executive/regions"
MASTER, REGIONAL = "master", "regional"
VIEWS = {MASTER: "Master accounts", REGIONAL: "Regional accounts"}
UNKNOWN = "Unknown"
PERIODS = ("current", "previous", "year")
PERIOD_LABELS = {"current": "This period", "previous": "Previous period", "year": "Previous year"}


# --- Periods -------------------------------------------------------------------------


def _month_end(day: date) -> date:
    return (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date()


def _months_back(day: date, months: int) -> date:
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


def is_whole_months(period: Period) -> bool:
    """Whether the period starts on a month's first day and ends on a month's last day."""
    return period.start.day == 1 and period.end == _month_end(period.end)


def _month_count(period: Period) -> int:
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1


def comparison_periods(period: Period) -> dict[str, Period]:
    """The selected period, the previous one and the one a year earlier (see the module's doc)."""
    if is_whole_months(period):
        months = _month_count(period)
        previous = Period(_months_back(period.start, months), period.start - timedelta(days=1))
        year_start = _months_back(period.start, 12)
        year = Period(year_start, _month_end(_months_back(period.end, 12)))
    else:
        previous = period.previous()
        year_start = _months_back(period.start, 12)  # 29 Feb becomes 28 Feb
        year = Period(year_start, year_start + timedelta(days=period.days - 1))
    return {"current": period, "previous": previous, "year": year}


def last_full_quarter(bounds: DateBounds) -> Period:
    """The last calendar quarter that ends before the data's last day, limited to the data."""
    last = bounds.last
    quarter_start = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    if last == _month_end(date(quarter_start.year, quarter_start.month + 2, 1)):
        end = last  # the data ends on a quarter's last day: that quarter is full
    else:
        end = quarter_start - timedelta(days=1)
    start = date(end.year, 3 * ((end.month - 1) // 3) + 1, 1)
    return Period(bounds.clamp(start), bounds.clamp(end))


# --- Filters and the URL ----------------------------------------------------------------


@dataclass(frozen=True)
class RegionFilters:
    """The page's filters: an inclusive date range, how customers are counted, the region
    drilled into (None: every region) and the caller's scope (required, never a default)."""

    start: date
    end: date
    view: str = MASTER
    region: str | None = None
    scope: DataScope = field(kw_only=True)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def periods(self) -> dict[str, Period]:
        return comparison_periods(self.period)

    @property
    def level(self) -> str:
        return "territory" if self.region else "region"


@dataclass(frozen=True)
class PageQuery:
    """The page as the URL holds it, validated only by `resolve_page`:
    `?start=2026-07-01&end=2026-09-30&view=regional&region=Europe`."""

    start: Any = None
    end: Any = None
    view: Any = None
    region: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> PageQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(first(args, "start"), first(args, "end"), first(args, "view"), first(args, "region"))

    @classmethod
    def from_state(cls, data: Any) -> PageQuery:
        """From the page's state store; anything malformed reads as the default view."""
        return cls.from_args(data if isinstance(data, dict) else None)

    def as_state(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "view": self.view, "region": self.region}

    @property
    def search(self) -> str:
        return to_search([("start", self.start), ("end", self.end), ("view", self.view), ("region", self.region)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search

    def without_region(self) -> PageQuery:
        return replace(self, region=None)


def query_from_controls(start_raw: Any, end_raw: Any, view_raw: Any, current: PageQuery) -> PageQuery | None:
    """The URL state for the controls' values, or None while the period is incomplete (picking a
    start date clears the end date). The drill-down survives a change of period or view."""
    start, end = _parse_day(start_raw), _parse_day(end_raw)
    if start is None or end is None:
        return None
    view = view_raw if view_raw in VIEWS and view_raw != MASTER else None
    return PageQuery(start.isoformat(), end.isoformat(), view, current.region)


def drill_into(current: PageQuery, clicked: Any) -> PageQuery | None:
    """One level down, from regions to the clicked region's territories; None at the lowest level
    or for a click on nothing."""
    if current.region or not isinstance(clicked, str) or not clicked:
        return None
    return replace(current, region=clicked[:200])


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters after validation, and notes on what was adjusted."""

    filters: RegionFilters
    bounds: DateBounds
    notes: tuple[str, ...] = ()

    def canonical(self) -> PageQuery:
        """The state the page shows, as a URL."""
        filters = self.filters
        return PageQuery(filters.start.isoformat(), filters.end.isoformat(),
                         None if filters.view == MASTER else filters.view, filters.region)


def regions(session: Session, scope: DataScope, day: date) -> list[str]:
    """The regions with a territory inside the scope on `day`, sorted."""
    stmt = (select(DailyKpiTerritory.region).distinct()
            .where(DailyKpiTerritory.day == day, scope.territory_filter(DailyKpiTerritory.territory)))
    return sorted(session.scalars(stmt))


def resolve_filters(query: PageQuery, bounds: DateBounds, known_regions: list[str],
                    scope: DataScope) -> ResolvedFilters:
    """Validate the URL state: unreadable dates fall back to the last full quarter, dates are
    limited to the data, a reversed range is swapped, an unknown view reads as master accounts
    and an unknown region (or one outside the scope) is dropped. Each adjustment gets a note."""
    notes: list[str] = []
    start, end = _parse_day(query.start), _parse_day(query.end)
    if start is None or end is None:
        if query.start is not None or query.end is not None:
            notes.append("Unreadable dates were replaced by the default period, the last full quarter.")
        default = last_full_quarter(bounds)
        start, end = default.start, default.end
    # Morning Coffee's validation swaps a reversed range and limits it to the data, with its notes.
    dates = resolve_dates(start.isoformat(), end.isoformat(), None, bounds, (), scope)
    start, end = dates.filters.start, dates.filters.end
    notes += dates.notes
    view = query.view if query.view in VIEWS else MASTER
    if query.view is not None and query.view not in VIEWS:
        notes.append("Unknown view: customers are rolled up to their master accounts.")
    region = query.region if isinstance(query.region, str) and query.region in known_regions else None
    if query.region is not None and region is None:
        notes.append(f"Region \u201c{str(query.region)[:60]}\u201d is not available: showing every region.")
    return ResolvedFilters(RegionFilters(start, end, view, region, scope=scope), bounds, tuple(notes))


def resolve_page(session: Session, query: PageQuery, scope: DataScope) -> ResolvedFilters | None:
    """The URL state validated against the data; None when gold is empty."""
    bounds = data_date_bounds(session)
    if bounds is None:
        return None
    return resolve_filters(query, bounds, regions(session, scope, bounds.last), scope)


# --- Figures per region or territory -----------------------------------------------------


# The daily figures per region and territory for each way of counting customers.
KPI_TABLES: dict[str, type[DailyKpiTerritory] | type[DailyKpiMasterTerritory]] = {
    MASTER: DailyKpiMasterTerritory, REGIONAL: DailyKpiTerritory}


def _kpi_figures(session: Session, filters: RegionFilters) -> pd.DataFrame:
    """Per member (region or territory), counted as `filters.view` says: invoiced USD over each
    period, and active customers and MRR on each period's last day. Columns member,
    invoiced_<period>, customers_<period>, mrr_<period>."""
    table = KPI_TABLES[filters.view]
    member = table.territory if filters.region else table.region
    in_region = table.region == filters.region if filters.region else literal(True)
    columns: list[Any] = [member.label("member")]
    days = []
    for name, period in filters.periods.items():
        in_period = table.day.between(period.start, period.end)
        columns += [func.coalesce(func.sum(table.invoiced_usd).filter(in_period), 0).label(f"invoiced_{name}"),
                    func.sum(table.active_customers).filter(table.day == period.end).label(f"customers_{name}"),
                    func.sum(table.mrr_usd).filter(table.day == period.end).label(f"mrr_{name}")]
        days.append(in_period)
    stmt = (select(*columns)
            .where(or_(*days), in_region, filters.scope.territory_filter(table.territory))
            .group_by(member))
    names = ["member", *(f"{kind}_{name}" for name in PERIODS for kind in ("invoiced", "customers", "mrr"))]
    frame = pd.DataFrame(session.execute(stmt).all(), columns=names)
    return frame.astype({name: "float64" for name in names[1:]})


def _territory_regions(session: Session, day: date) -> dict[str, str]:
    """Each territory's region on `day` (gold.daily_kpi_territory); a territory found in several
    regions (such as 'Unknown') cannot be placed and is left out."""
    pairs = session.execute(select(DailyKpiTerritory.territory, DailyKpiTerritory.region).distinct()
                            .where(DailyKpiTerritory.day == day)).all()
    regions_of: dict[str, set[str]] = {}
    for territory, region in pairs:
        regions_of.setdefault(territory, set()).add(region)
    return {territory: next(iter(found)) for territory, found in regions_of.items() if len(found) == 1}


def _months(period: Period) -> tuple[date, date]:
    """The first days of the period's first and last months."""
    return period.start.replace(day=1), period.end.replace(day=1)


def _win_rates(session: Session, filters: RegionFilters, bounds: DateBounds) -> pd.DataFrame:
    """Won and lost deals per member and period, by the month they closed (gold.pipeline_monthly
    keeps months): every month the period touches. Columns member, won_<period>, lost_<period>."""
    placed = _territory_regions(session, bounds.last)
    columns: list[Any] = [PipelineMonthly.territory]
    touched = []
    for period in filters.periods.values():
        first_month, last_month = _months(period)
        in_months = PipelineMonthly.month.between(first_month, last_month)
        columns += [func.coalesce(func.sum(PipelineMonthly.won).filter(in_months), 0),
                    func.coalesce(func.sum(PipelineMonthly.lost).filter(in_months), 0)]
        touched.append(in_months)
    stmt = (select(*columns).where(or_(*touched), filters.scope.territory_filter(PipelineMonthly.territory))
            .group_by(PipelineMonthly.territory))
    names = [f"{kind}_{name}" for name in PERIODS for kind in ("won", "lost")]
    frame = pd.DataFrame(session.execute(stmt).all(), columns=["territory", *names])
    frame["region"] = frame["territory"].map(placed)
    frame = frame[frame["region"].notna()]
    if filters.region:
        frame = frame[frame["region"] == filters.region].rename(columns={"territory": "member"})
    else:
        frame = frame.rename(columns={"region": "member"})
    return frame.groupby("member", as_index=False)[names].sum().astype({n: "int64" for n in names})


def win_rate(won: float, lost: float) -> float | None:
    """Won deals as a share of closed deals (won + lost); None without a closed deal."""
    closed = won + lost
    return won / closed if closed else None


@dataclass(frozen=True)
class RegionComparison:
    """Per region (or per territory of `filters.region`): revenue, customers, MRR and win rate
    in the period, the previous period and the previous year.

    `rows` columns: member, then for each period p in PERIODS: invoiced_p (USD invoiced in the
    period), customers_p and mrr_p (on the period's last day), won_p, lost_p and win_rate_p
    (won / (won + lost) over the months the period touches; empty without a closed deal).
    Largest revenue first."""

    filters: RegionFilters
    periods: dict[str, Period]
    rows: pd.DataFrame
    before_data: tuple[str, ...] = ()  # comparison periods starting before the data: no figures

    @property
    def empty(self) -> bool:
        return self.rows.empty

    def total(self, kind: str, name: str) -> float | None:
        """The figure summed over the members; a win rate over all their closed deals."""
        if self.rows.empty:
            return None
        if kind == "win_rate":
            return win_rate(float(self.rows[f"won_{name}"].sum()), float(self.rows[f"lost_{name}"].sum()))
        column = self.rows[f"{kind}_{name}"]
        return None if column.isna().all() else float(column.sum())

    def change(self, kind: str, name: str) -> float | None:
        """The total's percent change from period `name` to the current one."""
        return percent_change(self.total(kind, "current"), self.total(kind, name))


def region_comparison(session: Session, filters: RegionFilters, *, bounds: DateBounds) -> RegionComparison:
    """Revenue, customers, MRR and win rate per region (or per territory of the drilled region)
    in the three periods, counted as `filters.view` says (see the module's doc)."""
    figures = _kpi_figures(session, filters)
    deals = _win_rates(session, filters, bounds)
    rows = figures.merge(deals, on="member", how="outer")
    for name in PERIODS:
        for kind in ("won", "lost"):
            rows[f"{kind}_{name}"] = rows[f"{kind}_{name}"].fillna(0).astype("int64")
        for kind in ("invoiced", "customers", "mrr"):
            rows[f"{kind}_{name}"] = rows[f"{kind}_{name}"].astype("float64")
        rows[f"invoiced_{name}"] = rows[f"invoiced_{name}"].fillna(0.0)
        rows[f"win_rate_{name}"] = [win_rate(w, lost) for w, lost in zip(rows[f"won_{name}"], rows[f"lost_{name}"],
                                                                            strict=True)]
        rows[f"win_rate_{name}"] = rows[f"win_rate_{name}"].astype("float64")
    # A comparison period starting before the data would compare with a part-empty period.
    before_data = tuple(name for name, period in filters.periods.items() if period.start < bounds.first)
    for name in before_data:
        for kind in ("invoiced", "customers", "mrr", "win_rate"):
            rows[f"{kind}_{name}"] = float("nan")
    rows = rows.sort_values(["invoiced_current", "member"], ascending=[False, True]).reset_index(drop=True)
    return RegionComparison(filters, filters.periods, rows, before_data)


# --- Product mix ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProductMix:
    """Per region (or territory): the customers with a subscription on `day`, and how many of them
    hold each product line (a customer may hold several, so the shares need not add up to 1).

    `rows` columns: member, product_line, customers (holding the line), share (of `base`);
    `base` columns: member, customers (with at least one product line)."""

    day: date
    rows: pd.DataFrame
    base: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.base.empty


def product_mix(session: Session, filters: RegionFilters, *, bounds: DateBounds) -> ProductMix:
    """The product lines held on the data's last day (gold.product_mix_territory: per customer, the
    product families of the subscriptions counting that day) per master account's region or
    territory. Product lines are held by customers, so both views count master accounts."""
    mix = ProductMixTerritory
    member = mix.territory if filters.region else mix.region
    in_region = mix.region == filters.region if filters.region else literal(True)
    stmt = (select(member, mix.product_line, func.sum(mix.customers))
            .where(in_region, filters.scope.territory_filter(mix.territory))
            .group_by(member, mix.product_line))
    counts = pd.DataFrame(session.execute(stmt).all(), columns=["member", "product_line", "customers"])
    counts = counts.astype({"customers": "int64"})
    holding_any = counts["product_line"] == ALL_PRODUCTS
    base = counts.loc[holding_any, ["member", "customers"]]
    held = counts[~holding_any].merge(base.rename(columns={"customers": "base"}), on="member")
    held["share"] = (held["customers"] / held["base"]).astype("float64")
    held = held.drop(columns="base").sort_values(["member", "product_line"]).reset_index(drop=True)
    return ProductMix(bounds.last, held, base.sort_values("member").reset_index(drop=True))


# --- The grid ---------------------------------------------------------------------------


def comparison_columns(policy: MaskPolicy, level: str) -> tuple[GridColumn, ...]:
    """The comparison grid's columns; money is a band without the financials permission."""
    money = USD if policy.view_financials else BAND
    return (
        GridColumn("member", "Territory" if level == "territory" else "Region", TEXT, pinned=True),
        GridColumn("invoiced_current", "Revenue", money),
        GridColumn("invoiced_vs_previous", "Revenue \u0394 previous", PERCENT),
        GridColumn("invoiced_vs_year", "Revenue \u0394 year", PERCENT),
        GridColumn("customers_current", "Customers", COUNT),
        GridColumn("customers_vs_previous", "Customers \u0394 previous", PERCENT),
        GridColumn("customers_vs_year", "Customers \u0394 year", PERCENT),
        GridColumn("mrr_current", "MRR", money),
        GridColumn("win_rate_current", "Win rate", PERCENT),
        GridColumn("win_rate_previous", "Win rate previous", PERCENT),
        GridColumn("win_rate_year", "Win rate year earlier", PERCENT),
    )


def _ratio_change(current: Any, before: Any) -> float | None:
    """A percent change as a share (0.1 = +10 %), for a percent column."""
    change = percent_change(_number(current), _number(before))
    return None if change is None else change / 100


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def comparison_grid(result: RegionComparison, policy: MaskPolicy) -> GridRows:
    """The comparison as grid rows, masked by `policy` (money as bands, its changes hidden)."""
    columns = comparison_columns(policy, result.filters.level)
    rows = []
    for record in result.rows.to_dict("records"):
        row: dict[str, Any] = {"member": record["member"]}
        for kind in ("invoiced", "customers"):
            row[f"{kind}_current"] = _number(record[f"{kind}_current"])
            row[f"{kind}_vs_previous"] = _ratio_change(record[f"{kind}_current"], record[f"{kind}_previous"])
            row[f"{kind}_vs_year"] = _ratio_change(record[f"{kind}_current"], record[f"{kind}_year"])
        row["mrr_current"] = _number(record["mrr_current"])
        for name in PERIODS:
            row[f"win_rate_{name}"] = _number(record[f"win_rate_{name}"])
        if not policy.view_financials:
            for money in ("invoiced_current", "mrr_current"):
                row[money] = mask_value("mrr_usd", row[money], policy)
            row["invoiced_vs_previous"] = row["invoiced_vs_year"] = None
        rows.append(row)
    return GridRows(columns, rows, key_field="member")


# --- One result per panel ---------------------------------------------------------------


@dataclass(frozen=True)
class PageComparison:
    """The comparison charts and grid for the URL state."""

    resolved: ResolvedFilters
    comparison: RegionComparison
    grid: GridRows


def page_comparison(session: Session, query: PageQuery, scope: DataScope, *,
                    policy: MaskPolicy) -> PageComparison | GoldStatus:
    """Revenue, customers, MRR and win rate by region for the URL state, or gold's status when
    gold is empty. Money is masked by `policy` in the grid; the charts leave it out."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return gold_status(session)
    comparison = region_comparison(session, resolved.filters, bounds=resolved.bounds)
    return PageComparison(resolved, comparison, comparison_grid(comparison, policy))


@dataclass(frozen=True)
class PageProductMix:
    """The product mix panel for the URL state."""

    resolved: ResolvedFilters
    mix: ProductMix


def page_product_mix(session: Session, query: PageQuery, scope: DataScope, *,
                     policy: MaskPolicy) -> PageProductMix | GoldStatus:
    """Product lines held by region for the URL state, or gold's status when gold is empty.
    Counts of customers only, so nothing is masked."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return gold_status(session)
    return PageProductMix(resolved, product_mix(session, resolved.filters, bounds=resolved.bounds))


# --- Export (dashboard.export): the grid recomputed from the page's query string ----------


def export_comparison(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The comparison grid for the page's query string, as the page shows it."""
    result = page_comparison(session, PageQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, PageComparison):
        return GridRows(comparison_columns(policy, "region"), [], "member")
    return result.grid


def export_name(args: Mapping[str, Any]) -> str:
    """The file name's tail: 'regions_2026-07-01_2026-09-30' (and the drilled region)."""
    parts = ["regions", first(args, "start"), first(args, "end"), first(args, "region")]
    return "_".join(str(p)[:40] for p in parts if p)

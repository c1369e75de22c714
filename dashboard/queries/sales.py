"""Sales page queries: the drill region -> territory -> rep -> account, headline KPIs against the
previous period, the pipeline (funnel, expected close months, stale deals), the quarter's forecast,
the open opportunities grid, win and loss, and the reps leaderboard.

Everything is read from the gold tables built for the page: gold.sales_opportunity (one row per
deal, in the region and territory of its account), gold.sales_quota (quotas per rep and quarter)
and gold.rep_activity_monthly (meetings and emails per rep and month, in the territory of the
account they were with). Every query takes the caller's `DataScope` (deals through
`account_filter`, so accounts assigned by name count; quotas and activity, kept per territory,
through `territory_filter`) and every page function its `MaskPolicy`.

The period is a calendar quarter (`?quarter=2026Q3`, the data's last quarter by default); its
month is the month of the data's last day in the current quarter, else the quarter's last month.
Each figure is compared with the previous quarter (or month). Definitions:
- closed revenue: the USD amount of deals won (closed and won) with a close date in the period;
- open pipeline: the USD amount of the deals open on the data's last day; weighted, each times its
  probability / 100. Compared with the deals open at the end of the previous quarter (created by
  then and not closed by then; their probability then is not kept, so the weighted figure has no
  comparison);
- win rate: won / (won + lost) deals with a close date in the period;
- average deal size: the mean USD amount of the deals won in the period;
- sales cycle: the median days from creation to close of the deals won in the period;
- quota attainment: the closed revenue of the reps with a quota for the quarter (inside the slice)
  over the sum of their quotas;
- forecast: expected revenue = closed revenue in the quarter + the weighted open deals closing by its
  end (overdue ones included); commit, best case and pipeline add the Negotiation, then the Proposal,
  then every open deal closing by its end at full amount (the CRM has no rep-set forecast category).
  The statistical forecast of monthly won bookings is the nightly forecasts job's
  (etl/insights/forecasts.py, gold.forecast*), kept for the company, each region and each territory;
  nothing is fitted here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Date,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value, masks_field
from dashboard.queries.executive import DateBounds, data_date_bounds
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, COUNT, DAY, PERCENT, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import RepActivityMonthly, SalesOpportunity, SalesQuota
from dashboard.tables.insights import Forecast, ForecastActual, ForecastSeries
from dashboard.url_state import first, to_search
from models.kpi import Period, percent_change

PAGE_PATH = "/sales"
# The drill, top to bottom; the level below the deepest chosen one is what the panels break down by.
LEVELS = ("region", "territory", "rep", "account")
MEMBER_LEVELS = {"region": "territory", "territory": "rep", "rep": "account", "account": "deal"}
LEVEL_WORDS = {"region": "Region", "territory": "Territory", "rep": "Rep", "account": "Account", "deal": "Deal"}
OPEN_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")
WON_STAGE = "Closed Won"
STALE_DAYS = 30  # an open deal whose account has had no meeting or email for longer is stale
FUNNEL_COHORT_DAYS = 365  # conversion is worked out over the deals created in the last year
STALE_ROWS = 50
# A region holds thousands of open deals at scale: the page's grid shows the largest, the export more.
OPPORTUNITY_ROWS = 500
EXPORT_ROWS = 10_000
# Deal size bands for the win rate, in USD.
SIZE_BANDS = ((0, 10_000, "Under $10k"), (10_000, 50_000, "$10k\u2013$50k"), (50_000, 100_000, "$50k\u2013$100k"),
              (100_000, None, "$100k and more"))
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
UNKNOWN = "Unknown"


# --- Quarters ---------------------------------------------------------------------------


def quarter_of(day: date) -> Period:
    """The calendar quarter holding `day`."""
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
    return Period(start, end)


def quarter_name(quarter: Period) -> str:
    """'2026Q3'."""
    return f"{quarter.start.year}Q{(quarter.start.month - 1) // 3 + 1}"


def quarter_label(quarter: Period) -> str:
    """'Q3 2026'."""
    return f"Q{(quarter.start.month - 1) // 3 + 1} {quarter.start.year}"


def parse_quarter(raw: Any) -> Period | None:
    """'2026Q3' as a Period; None for anything else."""
    match = QUARTER.match(raw) if isinstance(raw, str) else None
    return quarter_of(date(int(match.group(1)), 3 * int(match.group(2)), 1)) if match else None


def previous_quarter(quarter: Period) -> Period:
    return quarter_of(quarter.start - timedelta(days=1))


def quarters_between(first_day: date, last_day: date) -> list[Period]:
    """Every quarter from the one of `first_day` to the one of `last_day`, newest first."""
    found, quarter = [], quarter_of(last_day)
    while quarter.end >= first_day:
        found.append(quarter)
        quarter = previous_quarter(quarter)
    return found


def month_of(quarter: Period, as_of: date) -> Period:
    """The quarter's month shown as 'this month': the data's last day's month in the current quarter,
    else the quarter's last month."""
    day = as_of if quarter.start <= as_of <= quarter.end else quarter.end
    start = day.replace(day=1)
    return Period(start, (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date())


def previous_month(month: Period) -> Period:
    end = month.start - timedelta(days=1)
    return Period(end.replace(day=1), end)


# --- The URL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQuery:
    """The page as the URL holds it, validated only by `resolve_page`:
    `?quarter=2026Q3&region=Europe&territory=EU-DACH&rep=USR-0012&account=ACC-000042`."""

    quarter: Any = None
    region: Any = None
    territory: Any = None
    rep: Any = None
    account: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> PageQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(*(first(args, name) for name in ("quarter", *LEVELS)))

    @classmethod
    def from_state(cls, data: Any) -> PageQuery:
        """From the page's state store; anything malformed reads as the default view."""
        return cls.from_args(data if isinstance(data, dict) else None)

    def as_state(self) -> dict[str, Any]:
        return {"quarter": self.quarter, **{level: getattr(self, level) for level in LEVELS}}

    @property
    def search(self) -> str:
        return to_search([("quarter", self.quarter), *((level, getattr(self, level)) for level in LEVELS)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search

    def up_to(self, level: str | None) -> PageQuery:
        """The same page with the levels below `level` cleared (None clears them all)."""
        keep = LEVELS[:LEVELS.index(level) + 1] if level else ()
        return replace(self, **{name: None for name in LEVELS if name not in keep})


def query_from_controls(quarter_raw: Any, current: PageQuery) -> PageQuery | None:
    """The URL state for a chosen quarter; the drill survives a change of period."""
    quarter = parse_quarter(quarter_raw)
    return None if quarter is None else replace(current, quarter=quarter_name(quarter))


def drill_into(current: PageQuery, clicked: Any, *, territory: Any = None) -> PageQuery | None:
    """One level down from the deepest chosen one to the clicked member (a region, territory, rep id
    or account id); None at the lowest level or for a click on nothing. A rep clicked above the
    territory level comes with their `territory`."""
    if not isinstance(clicked, str) or not clicked:
        return None
    clicked = clicked[:200]
    if current.account:
        return None
    if current.rep:
        return replace(current, account=clicked)
    if current.territory:
        return replace(current, rep=clicked)
    if current.region:
        if isinstance(territory, str) and territory:  # a rep, from the leaderboard
            return replace(current, territory=territory[:200], rep=clicked)
        return replace(current, territory=clicked)
    return replace(current, region=clicked)


# --- Filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesFilters:
    """The validated page: the quarter, the drill path (each level None above the deepest chosen
    one) and the caller's scope (required, never a default)."""

    quarter: Period
    as_of: date
    region: str | None = None
    territory: str | None = None
    rep: str | None = None
    account: str | None = None
    scope: DataScope = field(kw_only=True)

    @property
    def month(self) -> Period:
        return month_of(self.quarter, self.as_of)

    @property
    def level(self) -> str | None:
        """The deepest level chosen (None: every region)."""
        return next((level for level in reversed(LEVELS) if getattr(self, level)), None)

    @property
    def member_level(self) -> str:
        """What the panels break down by: regions, or the level below the deepest chosen one."""
        return MEMBER_LEVELS[self.level] if self.level else "region"

    @property
    def pipeline_day(self) -> date:
        """The day the open pipeline is counted on: the data's last day."""
        return self.as_of


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters after validation, with the names shown for the rep and account, the quarters the
    data covers and notes on what was adjusted."""

    filters: SalesFilters
    bounds: DateBounds
    quarters: tuple[Period, ...]
    names: dict[str, str] = field(default_factory=dict)  # rep and account ids -> names
    regions: tuple[str, ...] = ()  # the regions in scope: the top of the drill
    notes: tuple[str, ...] = ()

    def canonical(self) -> PageQuery:
        """The state the page shows, as a URL."""
        f = self.filters
        return PageQuery(quarter_name(f.quarter), f.region, f.territory, f.rep, f.account)

    def path(self) -> list[tuple[str, PageQuery | None]]:
        """The breadcrumb: (label, the page one level up there) for every level chosen, the top
        ('All regions', or the one region of a scope holding one) first, the current level last."""
        state, f = self.canonical(), self.filters
        top = "All regions" if len(self.regions) != 1 else self.regions[0]
        items: list[tuple[str, PageQuery | None]] = []
        if len(self.regions) != 1:
            items.append((top, state.up_to(None)))
        for level in LEVELS:
            value = getattr(f, level)
            if value is None:
                break
            items.append((self.names.get(value, value), state.up_to(level)))
        if not items:
            items.append((top, state.up_to(None)))
        label, _ = items[-1]
        items[-1] = (label, None)
        return items


def deal_filter(filters: SalesFilters) -> ColumnElement[bool]:
    """The deals of the slice: scope, then each chosen level."""
    conditions = [filters.scope.account_filter(SalesOpportunity.territory, SalesOpportunity.account_id)]
    columns = {"region": SalesOpportunity.region, "territory": SalesOpportunity.territory,
               "rep": SalesOpportunity.owner_user_id, "account": SalesOpportunity.account_id}
    conditions += [columns[level] == getattr(filters, level) for level in LEVELS if getattr(filters, level)]
    return and_(*conditions)


# Each distinct territory of the deals, one index probe apiece (a "loose index scan").
DEAL_TERRITORIES = text("""
    WITH RECURSIVE found(territory) AS (
        (SELECT territory FROM gold.sales_opportunity ORDER BY territory LIMIT 1)
        UNION ALL
        SELECT (SELECT o.territory FROM gold.sales_opportunity o WHERE o.territory > found.territory
                ORDER BY o.territory LIMIT 1)
        FROM found WHERE found.territory IS NOT NULL)
    SELECT territory FROM found WHERE territory IS NOT NULL
""")


def _deal_territories(session: Session) -> list[str]:
    return list(session.scalars(DEAL_TERRITORIES))


def _scope_regions(session: Session, scope: DataScope) -> list[str]:
    """The regions holding deals of the scope. For a scope of territories: the first and last region
    of each territory, two index probes each (a territory lies in one region, so they agree), with
    every region read only for a territory where they differ; not every deal of the scope."""
    d = SalesOpportunity
    if not scope.unrestricted and (scope.account_ids or not scope.territories):
        stmt = select(d.region).distinct().where(scope.account_filter(d.territory, d.account_id))
        return sorted(session.scalars(stmt))
    # Everyone's deals: their territories by skipping along the territory index, not a pass over every deal.
    territories = _deal_territories(session) if scope.unrestricted else sorted(scope.territories)
    territory = func.unnest(cast(territories, ARRAY(Text))).table_valued("territory_name").render_derived(name="t")
    first = select(d.region).where(d.territory == territory.c.territory_name).order_by(d.region).limit(1)
    last = select(d.region).where(d.territory == territory.c.territory_name).order_by(d.region.desc()).limit(1)
    rows = session.execute(select(territory.c.territory_name, first.scalar_subquery().label("first"),
                                  last.scalar_subquery().label("last")).select_from(territory)).all()
    regions = {row.first for row in rows if row.first is not None and row.first == row.last}
    split = [row.territory_name for row in rows if row.first is not None and row.first != row.last]
    if split:
        regions |= set(session.scalars(select(d.region).distinct().where(d.territory.in_(split))))
    return sorted(regions)


def resolve_filters(session: Session, query: PageQuery, bounds: DateBounds, scope: DataScope) -> ResolvedFilters:
    """Validate the URL state: an unreadable quarter or one outside the data becomes the data's last
    quarter, and each level of the drill must exist, inside the scope, under the level above it (else
    it and the levels below are dropped). A scope holding one region starts the drill there. Each
    adjustment gets a note."""
    notes: list[str] = []
    quarters = tuple(quarters_between(bounds.first, bounds.last))
    quarter = parse_quarter(query.quarter)
    if quarter is None or quarter not in quarters:
        if query.quarter is not None:
            notes.append(f"Quarter \u201c{str(query.quarter)[:20]}\u201d is not available: showing "
                         f"{quarter_label(quarters[0])}.")
        quarter = quarters[0]
    regions = _scope_regions(session, scope)
    chosen: dict[str, str | None] = dict.fromkeys(LEVELS)
    if query.region is None and len(regions) == 1 and not scope.unrestricted:
        chosen["region"] = regions[0]  # a sales manager's drill starts at their region
    names: dict[str, str] = {}
    probe = SalesFilters(quarter, bounds.last, scope=scope)
    for level in LEVELS:
        raw = getattr(query, level) if level != "region" or query.region is not None else chosen["region"]
        if raw is None:
            break
        value = raw[:200] if isinstance(raw, str) else None
        candidate = replace(probe, **{level: value}) if value else None
        found = candidate is not None and session.execute(
            select(SalesOpportunity.owner_name, SalesOpportunity.account_name)
            .where(deal_filter(candidate)).limit(1)).first()
        if not found:
            notes.append(f"{LEVEL_WORDS[level]} \u201c{str(raw)[:60]}\u201d is not available here: "
                         f"showing the level above.")
            break
        chosen[level] = value
        probe = candidate
        if level == "rep":
            names[value] = found.owner_name or value
        elif level == "account":
            names[value] = found.account_name or value
    filters = SalesFilters(quarter, bounds.last, chosen["region"], chosen["territory"], chosen["rep"],
                           chosen["account"], scope=scope)
    return ResolvedFilters(filters, bounds, quarters, names, tuple(regions), tuple(notes))


def resolve_page(session: Session, query: PageQuery, scope: DataScope) -> ResolvedFilters | None:
    """The URL state validated against the data; None when gold is empty."""
    bounds = data_date_bounds(session)
    if bounds is None:
        return None
    return resolve_filters(session, query, bounds, scope)


# --- KPIs -------------------------------------------------------------------------------------


def _between(column: Any, period: Period) -> ColumnElement[bool]:
    return column.between(period.start, period.end)


def _won_in(period: Period) -> ColumnElement[bool]:
    return and_(SalesOpportunity.is_won, _between(SalesOpportunity.close_date, period))


def _closed_in(period: Period) -> ColumnElement[bool]:
    return and_(SalesOpportunity.is_closed, _between(SalesOpportunity.close_date, period))


def win_rate(won: float, lost: float) -> float | None:
    """Won deals as a share of closed deals (won + lost); None without a closed deal."""
    closed = won + lost
    return won / closed if closed else None


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@dataclass(frozen=True)
class Kpi:
    """One headline figure now and in the previous period (None where there is none)."""

    key: str
    current: float | None
    previous: float | None
    value_format: str  # usd, percent or count (the cycle counts days)

    @property
    def change(self) -> float | None:
        """Percent change (points for a percent figure are `delta`)."""
        return percent_change(self.current, self.previous)

    @property
    def delta(self) -> float | None:
        return None if self.current is None or self.previous is None else self.current - self.previous


@dataclass(frozen=True)
class SalesKpis:
    """The headline figures of the slice (see the module's doc for each definition)."""

    filters: SalesFilters
    kpis: dict[str, Kpi]

    def __getitem__(self, key: str) -> Kpi:
        return self.kpis[key]


def _period_figures(session: Session, condition: ColumnElement[bool], quarter: Period, month: Period,
                    open_day: date | None) -> dict[str, float | None]:
    """Closed revenue (quarter and month), won and lost deals, average deal size, median cycle and,
    for `open_day`, the open pipeline on that day."""
    d = SalesOpportunity
    won_q = _won_in(quarter)
    columns: list[Any] = [
        func.sum(d.amount_usd).filter(won_q).label("revenue_quarter"),
        func.sum(d.amount_usd).filter(_won_in(month)).label("revenue_month"),
        func.count().filter(won_q).label("won"),
        func.count().filter(_closed_in(quarter), ~d.is_won).label("lost"),
        func.avg(d.amount_usd).filter(won_q).label("deal_size"),
        func.percentile_cont(0.5).within_group(d.cycle_days).filter(won_q).label("cycle"),
    ]
    # Only the deals closing in the periods count: read just them, not the slice's whole history.
    first, last = min(quarter.start, month.start), max(quarter.end, month.end)
    row = session.execute(select(*columns).where(condition, d.close_date.between(first, last))).one()._mapping
    figures = {key: _float(value) for key, value in row.items()}
    if open_day is not None:
        figures["pipeline"] = _pipeline_on(session, condition, open_day)
    figures["revenue_quarter"] = figures["revenue_quarter"] or 0.0
    figures["revenue_month"] = figures["revenue_month"] or 0.0
    figures["win_rate"] = win_rate(figures["won"] or 0, figures["lost"] or 0)
    return figures


def _pipeline_on(session: Session, condition: ColumnElement[bool], day: date) -> float | None:
    """USD of the deals open at the end of `day` (created by then, not closed by then), None without one:
    those still open and those closed since, two index reads where one statement with both would scan."""
    d = SalesOpportunity
    created = and_(condition, d.created_day <= day)
    still_open = select(func.sum(d.amount_usd)).where(created, ~d.is_closed).scalar_subquery()
    closed_since = select(func.sum(d.amount_usd)).where(created, d.is_closed, d.close_date > day).scalar_subquery()
    known = [part for part in session.execute(select(still_open, closed_since)).one() if part is not None]
    return float(sum(known)) if known else None  # numeric parts: added exactly, then made a float


def _open_pipeline(session: Session, condition: ColumnElement[bool]) -> tuple[float, float]:
    """(total, weighted) USD of the deals open now."""
    d = SalesOpportunity
    total, weighted = session.execute(select(func.sum(d.amount_usd), func.sum(d.weighted_amount_usd))
                                      .where(condition, ~d.is_closed)).one()
    return _float(total) or 0.0, _float(weighted) or 0.0


def quota_filter(filters: SalesFilters) -> ColumnElement[bool] | None:
    """The quotas of the slice's reps (by the rep's territory); None at the account level."""
    if filters.account:
        return None
    q = SalesQuota
    conditions = [filters.scope.territory_filter(q.territory)]
    columns = {"region": q.region, "territory": q.territory, "rep": q.user_id}
    conditions += [columns[level] == getattr(filters, level) for level in ("region", "territory", "rep")
                   if getattr(filters, level)]
    return and_(*conditions)


def quarter_quota(session: Session, filters: SalesFilters, quarter: Period) -> float | None:
    """The sum of the quotas of the slice's reps for `quarter`; None without one (or at the account level)."""
    quotas = quota_filter(filters)
    if quotas is None:
        return None
    return _float(session.scalar(select(func.sum(SalesQuota.quota_usd)).where(
        quotas, SalesQuota.quarter_start == quarter.start))) or None


def _attainment(session: Session, filters: SalesFilters, quarter: Period) -> float | None:
    """Closed revenue of the slice's reps with a quota for `quarter` over the sum of their quotas."""
    quota = quarter_quota(session, filters, quarter)
    if quota is None:
        return None
    quotas = quota_filter(filters)
    with_quota = select(SalesQuota.user_id).where(quotas, SalesQuota.quarter_start == quarter.start)
    won = _float(session.scalar(select(func.sum(SalesOpportunity.amount_usd)).where(
        deal_filter(filters), _won_in(quarter), SalesOpportunity.owner_user_id.in_(with_quota)))) or 0.0
    return won / quota


def sales_kpis(session: Session, filters: SalesFilters) -> SalesKpis:
    """The headline figures of the slice, each against the previous quarter (or month)."""
    condition = deal_filter(filters)
    quarter, month = filters.quarter, filters.month
    before_quarter, before_month = previous_quarter(quarter), previous_month(month)
    now = _period_figures(session, condition, quarter, month, None)
    before = _period_figures(session, condition, before_quarter, before_month, before_quarter.end)
    pipeline, weighted = _open_pipeline(session, condition)
    kpis = {
        "revenue_quarter": Kpi("revenue_quarter", now["revenue_quarter"], before["revenue_quarter"], "usd"),
        "revenue_month": Kpi("revenue_month", now["revenue_month"], before["revenue_month"], "usd"),
        "open_pipeline": Kpi("open_pipeline", pipeline, before["pipeline"] or 0.0, "usd"),
        "weighted_pipeline": Kpi("weighted_pipeline", weighted, None, "usd"),
        "win_rate": Kpi("win_rate", now["win_rate"], before["win_rate"], "percent"),
        "deal_size": Kpi("deal_size", now["deal_size"], before["deal_size"], "usd"),
        "sales_cycle": Kpi("sales_cycle", now["cycle"], before["cycle"], "count"),
        "quota_attainment": Kpi("quota_attainment", _attainment(session, filters, quarter),
                                _attainment(session, filters, before_quarter), "percent"),
    }
    return SalesKpis(filters, kpis)


# --- The members of the level below ------------------------------------------------------------


def _member_columns(level: str) -> tuple[Any, Any]:
    d = SalesOpportunity
    return {"region": (d.region, d.region), "territory": (d.territory, d.territory),
            "rep": (d.owner_user_id, func.max(d.owner_name)), "account": (d.account_id, func.max(d.account_name)),
            "deal": (d.opportunity_id, func.max(d.opportunity_name))}[level]


@dataclass(frozen=True)
class Members:
    """Per member of the level below the drill (`level`): closed revenue, won and lost deals and win
    rate in the quarter, and the open pipeline now (total and weighted).

    `rows` columns: member (id), label (name), revenue, won, lost, win_rate, pipeline, weighted.
    Largest closed revenue, then largest pipeline, first."""

    level: str
    rows: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.rows.empty


def members(session: Session, filters: SalesFilters) -> Members:
    """The slice broken down by the level below the drill."""
    d = SalesOpportunity
    level = filters.member_level
    member, label = _member_columns(level)
    won_q = _won_in(filters.quarter)
    stmt = (select(member.label("member"), label.label("label"),
                   func.coalesce(func.sum(d.amount_usd).filter(won_q), 0).label("revenue"),
                   func.count().filter(won_q).label("won"),
                   func.count().filter(_closed_in(filters.quarter), ~d.is_won).label("lost"),
                   func.coalesce(func.sum(d.amount_usd).filter(~d.is_closed), 0).label("pipeline"),
                   func.coalesce(func.sum(d.weighted_amount_usd).filter(~d.is_closed), 0).label("weighted"))
            # Only open deals and those closed in the quarter count: read just those (two index ranges)
            # rather than aggregate every deal ever made.
            .where(deal_filter(filters), or_(~d.is_closed, _closed_in(filters.quarter))).group_by(member))
    rows = pd.DataFrame(session.execute(stmt).all(),
                        columns=["member", "label", "revenue", "won", "lost", "pipeline", "weighted"])
    rows = rows.astype({"revenue": "float64", "pipeline": "float64", "weighted": "float64", "won": "int64",
                        "lost": "int64"})
    rows["label"] = rows["label"].fillna(rows["member"])
    closed = rows["won"] + rows["lost"]
    rows["win_rate"] = (rows["won"] / closed.where(closed > 0)).astype("float64")
    # Keep the panels to the members with something in the quarter or open now.
    rows = rows[(rows["revenue"] > 0) | (rows["pipeline"] > 0) | (closed > 0)]
    rows = rows.sort_values(["revenue", "pipeline", "member"], ascending=[False, False, True]).reset_index(drop=True)
    return Members(level, rows)


# --- Pipeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """The open pipeline of the slice now.

    `funnel` per stage, in OPEN_STAGES order and then Closed Won: deals, amount and weighted
    (open deals now; for Closed Won, the deals won in the quarter), median_days_in_stage (open deals:
    days since they entered their stage), reached (deals created in the last year that reached the
    stage: open ones at it or past it, and every won one; a lost deal's last stage is not kept, so it
    counts as reaching the first stage only) and conversion (reached / reached at the stage before).
    `by_month` per expected close month: amount and weighted.
    `stale`: open deals with no meeting or email on their account for more than STALE_DAYS days, or
    past their close date; `stale_count` and `stale_amount` over all of them, `stale_rows` the
    largest STALE_ROWS."""

    funnel: pd.DataFrame
    by_month: pd.DataFrame
    stale_count: int
    stale_amount: float
    stale_rows: GridRows

    @property
    def empty(self) -> bool:
        return int(self.funnel["deals"].sum()) == 0 and self.by_month.empty


def stale_condition(as_of: date) -> ColumnElement[bool]:
    """Open deals past their close date or without sales activity for more than STALE_DAYS days."""
    d = SalesOpportunity
    quiet = (d.last_activity_day.is_(None)) | (d.last_activity_day < as_of - timedelta(days=STALE_DAYS))
    return and_(~d.is_closed, (d.close_date < as_of) | quiet)


def stale_reason(as_of: date) -> Any:
    d = SalesOpportunity
    return case((d.close_date < as_of, "Past its close date"),
                (d.last_activity_day.is_(None), "No meeting or email on record"),
                else_=literal(f"No activity for more than {STALE_DAYS} days"))


def stale_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("stage", "Stage"),
            GridColumn("amount_usd", "Amount (USD)", USD if policy.view_financials else BAND),
            GridColumn("close_date", "Close date", DAY),
            GridColumn("last_activity_day", "Last activity", DAY),
            GridColumn("owner_name", "Owner"),
            GridColumn("stale_reason", "Why stale"),
            GridColumn("opportunity_id", "Deal id"))


def pipeline(session: Session, filters: SalesFilters, policy: MaskPolicy) -> Pipeline:
    """The funnel, the pipeline by expected close month and the stale deals of the slice."""
    d = SalesOpportunity
    condition = deal_filter(filters)
    as_of = filters.as_of
    stages = [*OPEN_STAGES, WON_STAGE]
    open_rows = pd.DataFrame(session.execute(
        select(d.stage, func.count(), func.sum(d.amount_usd), func.sum(d.weighted_amount_usd),
               func.percentile_cont(0.5).within_group(d.days_in_stage))
        .where(condition, ~d.is_closed).group_by(d.stage)).all(),
        columns=["stage", "deals", "amount", "weighted", "median_days_in_stage"]).set_index("stage")
    won = session.execute(select(func.count(), func.sum(d.amount_usd))
                          .where(condition, _won_in(filters.quarter))).one()
    funnel = open_rows.reindex(stages)
    funnel.loc[WON_STAGE, ["deals", "amount", "weighted"]] = [won[0], _float(won[1]) or 0.0, _float(won[1]) or 0.0]
    funnel = funnel.fillna({"deals": 0, "amount": 0.0, "weighted": 0.0}).astype(
        {"deals": "int64", "amount": "float64", "weighted": "float64", "median_days_in_stage": "float64"})
    # Reached: each deal of the cohort at its furthest known stage.
    cohort = and_(condition, d.created_day > as_of - timedelta(days=FUNNEL_COHORT_DAYS))
    furthest_stage = case((d.is_won, WON_STAGE), (d.is_closed, OPEN_STAGES[0]), else_=d.stage).label("furthest")
    furthest = pd.DataFrame(session.execute(
        select(furthest_stage, func.count()).where(cohort).group_by(furthest_stage)).all(),
        columns=["stage", "deals"]).set_index("stage")["deals"]
    at_stage = furthest.reindex(stages).fillna(0).astype("int64")
    reached = at_stage[::-1].cumsum()[::-1]
    funnel["reached"] = reached.to_numpy()
    funnel["conversion"] = (reached / reached.shift(1).where(reached.shift(1) > 0)).astype("float64").to_numpy()
    funnel = funnel.reset_index().rename(columns={"index": "stage"})

    month = cast(func.date_trunc("month", d.close_date), Date)
    by_month = pd.DataFrame(session.execute(
        select(month, func.sum(d.amount_usd), func.sum(d.weighted_amount_usd))
        .where(condition, ~d.is_closed, d.close_date.is_not(None)).group_by(month).order_by(month)).all(),
        columns=["month", "amount", "weighted"]).astype({"amount": "float64", "weighted": "float64"})

    stale = and_(condition, stale_condition(as_of))
    count, amount = session.execute(select(func.count(), func.sum(d.amount_usd)).where(stale)).one()
    largest = d.amount_usd.desc().nulls_last(), d.opportunity_id
    # The largest stale deals are found in the open deals' index; only they are read from the table.
    shown = select(d.opportunity_id).where(stale).order_by(*largest).limit(STALE_ROWS).scalar_subquery()
    records = session.execute(
        select(d.account_id, d.account_name, d.stage, d.amount_usd, d.close_date, d.last_activity_day,
               d.owner_name, stale_reason(as_of).label("stale_reason"), d.opportunity_id)
        .where(d.opportunity_id.in_(shown)).order_by(*largest)).mappings().all()
    columns = stale_columns(policy)
    rows = _grid_rows(records, columns, policy)
    return Pipeline(funnel, by_month, int(count), _float(amount) or 0.0,
                    GridRows(columns, rows, key_field="opportunity_id"))


def _grid_rows(records: Iterable[Mapping[str, Any]], columns: tuple[GridColumn, ...],
               policy: MaskPolicy) -> list[dict[str, Any]]:
    """Records as grid cells: numbers as floats, days as ISO text, money masked by `policy`; the
    account id kept for the account link. What each column needs is settled once, not per cell: a
    whole company's reps are twenty thousand cells."""
    plan = [(column.field, column.kind in (USD, BAND, PERCENT, COUNT), masks_field(column.field, policy))
            for column in columns]
    rows = []
    for record in records:
        row: dict[str, Any] = {"account_id": record.get("account_id")}
        for name, numeric, masked in plan:
            value = record.get(name)
            if isinstance(value, date):
                value = value.isoformat()
            elif numeric and value is not None:
                value = float(value)
            row[name] = mask_value(name, value, policy) if masked else value
        rows.append(row)
    return rows


# --- Open opportunities grid ---------------------------------------------------------------


def opportunity_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    """The open opportunities grid's columns; money is a band without the financials permission."""
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("opportunity_name", "Opportunity"),
            GridColumn("stage", "Stage"),
            GridColumn("amount_usd", "Amount (USD)", USD if policy.view_financials else BAND),
            GridColumn("probability_share", "Probability", PERCENT),
            GridColumn("close_date", "Close date", DAY),
            GridColumn("owner_name", "Owner"),
            GridColumn("days_in_stage", "Days in stage", COUNT),
            GridColumn("next_step", "Next step"),
            GridColumn("opportunity_id", "Deal id"))


def open_opportunities(session: Session, filters: SalesFilters, policy: MaskPolicy, *,
                       limit: int = OPPORTUNITY_ROWS) -> GridRows:
    """The open deals of the slice, largest first, up to `limit` (the page shows the first ones; the
    export holds up to EXPORT_ROWS)."""
    d = SalesOpportunity
    records = session.execute(
        select(d.account_id, d.account_name, d.opportunity_name, d.stage, d.amount_usd,
               (d.probability / 100).label("probability_share"), d.close_date, d.owner_name, d.days_in_stage,
               d.next_step, d.opportunity_id)
        .where(deal_filter(filters), ~d.is_closed)
        .order_by(d.amount_usd.desc().nulls_last(), d.opportunity_id).limit(limit)).mappings().all()
    columns = opportunity_columns(policy)
    return GridRows(columns, _grid_rows(records, columns, policy), key_field="opportunity_id")


def account_of_opportunity(session: Session, opportunity_id: Any, scope: DataScope) -> str | None:
    """The account of a deal inside the scope, or None (a deal outside it is not found either)."""
    if not isinstance(opportunity_id, str):
        return None
    return session.scalar(select(SalesOpportunity.account_id).where(
        SalesOpportunity.opportunity_id == opportunity_id[:200],
        scope.account_filter(SalesOpportunity.territory, SalesOpportunity.account_id)))


def member_drill(session: Session, query: PageQuery, scope: DataScope, clicked: Any) -> PageQuery | None:
    """The page one level down to a member clicked on the drill chart, from the page as shown (a sales
    manager's page starts at their region without the URL saying so)."""
    resolved = resolve_page(session, query, scope)
    return None if resolved is None else drill_into(resolved.canonical(), clicked)


def rep_drill(session: Session, query: PageQuery, scope: DataScope, rep: Any) -> PageQuery | None:
    """The page one level down to a rep clicked in the leaderboard: with the territory most of their
    deals in the slice are in when the drill is above the territory level; None for a rep without
    deals in the slice (or outside the scope)."""
    resolved = resolve_page(session, query, scope)
    if resolved is None or not isinstance(rep, str) or resolved.filters.rep:
        return None
    d = SalesOpportunity
    territory = session.scalar(select(func.mode().within_group(d.territory))
                               .where(deal_filter(resolved.filters), d.owner_user_id == rep[:200]))
    if territory is None:
        return None
    state = resolved.canonical()
    if not state.region:
        region = session.scalar(select(d.region).where(deal_filter(resolved.filters), d.territory == territory)
                                .limit(1))
        state = replace(state, region=region)
    return drill_into(state, rep, territory=None if state.territory else territory)


# --- Win and loss -------------------------------------------------------------------------------


def size_band() -> Any:
    """The deal size band of a deal's USD amount."""
    d = SalesOpportunity
    whens = [((d.amount_usd < upper), label) for _, upper, label in SIZE_BANDS if upper is not None]
    return case(*whens, else_=literal(SIZE_BANDS[-1][2]))


@dataclass(frozen=True)
class WinLoss:
    """Deals closed in the quarter: won, lost and the win rate by territory, rep, product line and deal
    size band (`by[dimension]`, columns label, won, lost, win_rate; most closed deals first), and the
    lost deals by reason (`loss_reasons`: reason, deals; 'Not given' when the rep gave none)."""

    by: dict[str, pd.DataFrame]
    loss_reasons: pd.DataFrame

    @property
    def empty(self) -> bool:
        return all(frame.empty for frame in self.by.values())


WIN_LOSS_DIMENSIONS = ("territory", "rep", "product_line", "size_band")
NOT_GIVEN = "Not given"


def win_loss(session: Session, filters: SalesFilters) -> WinLoss:
    """Win rates and loss reasons of the deals closed in the quarter in the slice: one pass over those
    deals, grouped by each dimension and by loss reason at once (GROUPING SETS), not one pass apiece."""
    d = SalesOpportunity
    deals = select(d.territory, d.owner_user_id.label("rep"), d.owner_name, d.product_line,
                   size_band().label("size_band"), func.coalesce(d.loss_reason, NOT_GIVEN).label("reason"),
                   d.is_won).where(deal_filter(filters), _closed_in(filters.quarter)).subquery()
    dimensions = [deals.c[name] for name in (*WIN_LOSS_DIMENSIONS, "reason")]
    rows = pd.DataFrame(_tuples(session.execute(
        select(*dimensions, func.max(deals.c.owner_name), func.count().filter(deals.c.is_won),
               func.count().filter(~deals.c.is_won), func.grouping(*dimensions))
        .group_by(func.grouping_sets(*[tuple_(column) for column in dimensions])))),
        columns=[*WIN_LOSS_DIMENSIONS, "reason", "rep_name", "won", "lost", "grouping"])
    rows = rows.astype({"won": "int64", "lost": "int64"})
    count = len(dimensions)

    def grouped_by(position: int) -> pd.DataFrame:
        # grouping() sets a bit for each column not grouped in the row, the first column's bit highest.
        return rows[rows["grouping"] == (2 ** count - 1) ^ (1 << (count - 1 - position))]

    by: dict[str, pd.DataFrame] = {}
    for position, name in enumerate(WIN_LOSS_DIMENSIONS):
        found = grouped_by(position)
        # Only a rep has a name besides their id; the others are their own label.
        frame = pd.DataFrame({"key": found[name].to_numpy(dtype=object),
                              "label": (found["rep_name"] if name == "rep" else found[name]).to_numpy(dtype=object),
                              "won": found["won"].to_numpy(), "lost": found["lost"].to_numpy()})
        frame["label"] = frame["label"].fillna(frame["key"])
        frame["win_rate"] = (frame["won"] / (frame["won"] + frame["lost"])).astype("float64")
        if name == "size_band":
            order = {label: i for i, (_, _, label) in enumerate(SIZE_BANDS)}
            frame = frame.sort_values("key", key=lambda keys: keys.map(order))
        else:
            frame = frame.assign(closed=frame["won"] + frame["lost"]).sort_values(
                ["closed", "key"], ascending=[False, True]).drop(columns="closed")
        by[name] = frame.reset_index(drop=True)
    lost = grouped_by(len(WIN_LOSS_DIMENSIONS))
    lost = lost[lost["lost"] > 0]
    reasons = (pd.DataFrame({"reason": lost["reason"].to_numpy(dtype=object), "deals": lost["lost"].to_numpy()})
               .sort_values(["deals", "reason"], ascending=[False, True]).reset_index(drop=True))
    return WinLoss(by, reasons)


# --- Reps leaderboard ---------------------------------------------------------------------------


def rep_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("rep_name", "Rep", TEXT, pinned=True),
            GridColumn("territory", "Territory"),
            GridColumn("revenue_usd", "Closed revenue", USD if policy.view_financials else BAND),
            GridColumn("attainment", "Quota attainment", PERCENT),
            GridColumn("win_rate", "Win rate", PERCENT),
            GridColumn("won", "Won", COUNT),
            GridColumn("median_cycle_days", "Median cycle (days)", COUNT),
            GridColumn("meetings", "Meetings", COUNT),
            GridColumn("emails", "Emails", COUNT),
            GridColumn("user_id", "Rep id"))


def _tuples(rows: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in rows]


def reps_leaderboard(session: Session, filters: SalesFilters, policy: MaskPolicy) -> GridRows:
    """Per rep with deals closed in the quarter in the slice, or activity with its accounts in the
    quarter: closed revenue, quota attainment, won deals, win rate and median cycle, and their
    meetings and emails; the most closed revenue first. A rep's territory is the one most of their
    deals closed in the quarter lie in (for activity alone, most of that activity's)."""
    d, a = SalesOpportunity, RepActivityMonthly
    quarter = filters.quarter
    won_q = _won_in(quarter)
    # Only the quarter's closed deals (an index range), not the slice's whole history. Rows become plain
    # tuples first: pandas inspects each SQLAlchemy row as a possible named tuple, ten times slower for
    # a whole company's 2,000 reps.
    deals = pd.DataFrame(_tuples(session.execute(
        select(d.owner_user_id, func.max(d.owner_name),
               func.mode().within_group(d.territory),
               func.coalesce(func.sum(d.amount_usd).filter(won_q), 0), func.count().filter(won_q),
               func.count().filter(~d.is_won),
               func.percentile_cont(0.5).within_group(d.cycle_days).filter(won_q))
        .where(deal_filter(filters), _closed_in(quarter)).group_by(d.owner_user_id))),
        columns=["user_id", "rep_name", "territory", "revenue_usd", "won", "lost", "median_cycle_days"])
    # Activity with the slice's accounts: per territory (and region), like the deals.
    activity_slice = [filters.scope.territory_filter(a.territory)]
    activity_slice += [column == getattr(filters, level) for level, column in
                       (("region", a.region), ("territory", a.territory), ("rep", a.user_id))
                       if getattr(filters, level)]
    activity = pd.DataFrame(_tuples(session.execute(
        select(a.user_id, func.sum(a.meetings), func.sum(a.emails), func.mode().within_group(a.territory))
        .where(*activity_slice, a.month.between(quarter.start, quarter.end)).group_by(a.user_id))),
        columns=["user_id", "meetings", "emails", "activity_territory"])
    if deals.empty and activity.empty:
        return GridRows(rep_columns(policy), [], key_field="user_id")
    quotas = quota_filter(filters)
    quota = pd.DataFrame(_tuples(session.execute(
        select(SalesQuota.user_id, SalesQuota.quota_usd, SalesQuota.rep_name)
        .where(quotas if quotas is not None else true(), SalesQuota.quarter_start == quarter.start))),
        columns=["user_id", "quota", "quota_rep_name"])
    # At the account level a rep counts for their deals with it; above, for deals or activity.
    board = (deals.merge(activity, on="user_id", how="left" if filters.account else "outer")
             .merge(quota, on="user_id", how="left")
             .astype({"revenue_usd": "float64", "quota": "float64"}))
    board[["meetings", "emails", "won", "lost"]] = board[["meetings", "emails", "won", "lost"]].fillna(0).astype("int64")
    board["revenue_usd"] = board["revenue_usd"].fillna(0.0)
    board["territory"] = board["territory"].fillna(board["activity_territory"])
    board = board.drop(columns="activity_territory")
    board["win_rate"] = (board["won"] / (board["won"] + board["lost"]).where(lambda s: s > 0)).astype("float64")
    board["attainment"] = (board["revenue_usd"] / board["quota"].where(board["quota"] > 0)).astype("float64")
    # A rep with activity alone: the name their quota carries, else their id.
    board["rep_name"] = board["rep_name"].fillna(board["quota_rep_name"]).fillna(board["user_id"])
    board = board.drop(columns="quota_rep_name")
    board = board[(board["revenue_usd"] > 0) | (board["won"] + board["lost"] > 0) | (board["meetings"] > 0)
                  | (board["emails"] > 0)]
    board = board.sort_values(["revenue_usd", "rep_name"], ascending=[False, True])
    columns = rep_columns(policy)
    records = board.astype(object).where(board.notna(), None).to_dict("records")
    return GridRows(columns, _grid_rows(records, columns, policy), key_field="user_id")


# --- Forecast ----------------------------------------------------------------------------------

# Our CRM keeps no forecast category set by the rep: a deal's category follows its stage.
COMMIT_STAGES = ("Negotiation",)
BEST_CASE_STAGES = ("Negotiation", "Proposal")
# The series the nightly forecasts job writes (etl/insights/forecasts.py): "<metric>:<dimension>:<member>",
# the member 'All', a region, or "<region>/<territory>".
BOOKINGS_METRIC = "bookings_usd"
LAST_QUARTER_METRIC = "bookings_usd_last_quarter"
BOOKINGS_MONTHS_SHOWN = 12  # months of actual bookings drawn before the forecast
# Why a slice has no statistical forecast: the job has not run, the slice has no won deal in the
# history the job reads, or the caller's scope does not hold the whole series.
NOT_RUN, NO_HISTORY, OUT_OF_SCOPE = "not_run", "no_history", "out_of_scope"
BAND_COLUMNS = ["mean", "lower80", "upper80", "lower95", "upper95"]


@dataclass(frozen=True)
class QuarterOutlook:
    """The quarter's revenue outlook for the slice, worked out per request from gold.sales_opportunity:
    closed won in the quarter, and the open deals expected to close by its end (overdue ones included):
    weighted by probability, and by stage: commit = closed won + Negotiation, best case = commit +
    Proposal, pipeline = closed won + every open deal closing by the quarter's end (unweighted amounts).
    Once the quarter is over, open deals no longer count: its revenue is what closed."""

    has_deals: bool  # the slice has a deal, whenever it closes
    closed_won: float
    weighted_open: float
    commit: float
    best_case: float
    pipeline: float
    open_deals: int  # open deals closing by the quarter's end
    overdue_deals: int  # of them, past their close date
    quota: float | None
    quarter_over: bool

    @property
    def expected(self) -> float:
        """Expected revenue: closed won plus the weighted open pipeline closing by the quarter's end."""
        return self.closed_won + self.weighted_open

    @property
    def expected_vs_quota(self) -> float | None:
        return self.expected / self.quota if self.quota else None


def quarter_outlook(session: Session, filters: SalesFilters) -> QuarterOutlook:
    """Expected revenue, commit, best case and pipeline of the slice for the quarter, and its quota."""
    d = SalesOpportunity
    quarter = filters.quarter
    quarter_over = quarter.end < filters.as_of
    closing = false() if quarter_over else and_(~d.is_closed, d.close_date <= quarter.end)
    row = session.execute(select(
        func.coalesce(func.sum(d.amount_usd).filter(_won_in(quarter)), 0),
        func.coalesce(func.sum(d.weighted_amount_usd).filter(closing), 0),
        func.coalesce(func.sum(d.amount_usd).filter(closing, d.stage.in_(COMMIT_STAGES)), 0),
        func.coalesce(func.sum(d.amount_usd).filter(closing, d.stage.in_(BEST_CASE_STAGES)), 0),
        func.coalesce(func.sum(d.amount_usd).filter(closing), 0),
        func.count().filter(closing),
        func.count().filter(closing, d.close_date < filters.as_of),
        # Only the deals won in the quarter and the open ones count: read just those (two index ranges).
    ).where(deal_filter(filters), or_(_won_in(quarter), closing))).one()
    won, weighted, commit, best, pipeline_usd, open_deals, overdue = row
    won = float(won)
    has_deals = bool(session.scalar(select(exists(select(d.opportunity_id).where(deal_filter(filters))))))
    return QuarterOutlook(has_deals, won, float(weighted), won + float(commit), won + float(best),
                          won + float(pipeline_usd), int(open_deals), int(overdue),
                          quarter_quota(session, filters, quarter), quarter_over)


@dataclass(frozen=True)
class BookingsForecast:
    """The nightly statistical forecast of monthly won bookings (USD) for the series covering the slice.

    `actuals`: month, actual (the last BOOKINGS_MONTHS_SHOWN complete months); `forecast`: month and
    BAND_COLUMNS for the next months; `last_quarter_rows`: for each month of `last_quarter` (the quarter
    before the data's), what was forecast from the history before it (BAND_COLUMNS), the actual (None
    while not complete) and whether it fell inside the 80 % and 95 % bands."""

    dimension: str  # total, region or territory
    member: str  # 'All regions', the region or the territory
    for_territory: bool  # the slice is a rep or an account: the forecast is their territory's
    model_name: str
    backtest_mase: float | None
    generated_at: datetime
    actuals: pd.DataFrame
    forecast: pd.DataFrame
    last_quarter: Period | None
    last_quarter_rows: pd.DataFrame
    last_quarter_model: str | None = None

    @property
    def last_quarter_totals(self) -> tuple[float, float | None]:
        """(forecast, actual) over last quarter's months; the actual None until every month is in."""
        rows = self.last_quarter_rows
        actual = None if rows.empty or rows["actual"].isna().any() else float(rows["actual"].sum())
        return float(rows["mean"].sum()), actual


def bookings_series(session: Session, filters: SalesFilters) -> tuple[str, str, str] | None:
    """(dimension, member key, member name) of the stored bookings series covering the slice: the
    company's, the region's or the territory's (for a territory, rep or account); None when the caller's
    scope does not hold all of it, since the series' sums would show deals outside it."""
    scope = filters.scope
    if filters.territory:
        if scope.unrestricted or filters.territory in scope.territories:
            return "territory", f"{filters.region}/{filters.territory}", filters.territory
        return None
    if filters.region:
        if not scope.unrestricted:
            territories = set(session.scalars(select(SalesOpportunity.territory).distinct()
                                              .where(SalesOpportunity.region == filters.region)))
            if not territories <= scope.territories:
                return None
        return "region", filters.region, filters.region
    return ("total", "All", "All regions") if scope.unrestricted else None


def _bands(session: Session, key: str) -> pd.DataFrame:
    return pd.DataFrame(session.execute(
        select(Forecast.period_start, *(getattr(Forecast, c) for c in BAND_COLUMNS))
        .where(Forecast.series_key == key).order_by(Forecast.period_start)).all(), columns=["month", *BAND_COLUMNS])


def bookings_forecast(session: Session, filters: SalesFilters) -> BookingsForecast | str:
    """The stored bookings forecast for the slice, or why there is none (OUT_OF_SCOPE, NOT_RUN, NO_HISTORY)."""
    found = bookings_series(session, filters)
    if found is None:
        return OUT_OF_SCOPE
    dimension, member, name = found
    key = f"{BOOKINGS_METRIC}:{dimension}:{member}"
    series = session.get(ForecastSeries, key)
    if series is None:
        ran = session.get(ForecastSeries, f"{BOOKINGS_METRIC}:total:All") is not None
        return NO_HISTORY if ran else NOT_RUN
    actual = pd.DataFrame(session.execute(
        select(ForecastActual.period_start, ForecastActual.actual).where(ForecastActual.series_key == key)
        .order_by(ForecastActual.period_start)).all(), columns=["month", "actual"])
    previous = session.get(ForecastSeries, f"{LAST_QUARTER_METRIC}:{dimension}:{member}")
    last_quarter, rows = None, pd.DataFrame(columns=["month", *BAND_COLUMNS, "actual", "in80", "in95"])
    if previous is not None:
        then = _bands(session, previous.series_key)
        if not then.empty:
            last_quarter = quarter_of(then["month"].iloc[0])
            rows = then.merge(actual, on="month", how="left")
            rows["actual"] = rows["actual"].astype("float64")
            inside = {level: (rows["actual"] >= rows[f"lower{level}"]) & (rows["actual"] <= rows[f"upper{level}"])
                      for level in ("80", "95")}
            for level, hit in inside.items():
                rows[f"in{level}"] = hit.astype(object).where(rows["actual"].notna(), None)
    return BookingsForecast(dimension, name, filters.level in ("rep", "account"), series.model_name,
                            series.backtest_mase, series.generated_at, actual.tail(BOOKINGS_MONTHS_SHOWN)
                            .reset_index(drop=True), _bands(session, key), last_quarter, rows,
                            None if previous is None else previous.model_name)


# --- One result per panel --------------------------------------------------------------------


@dataclass(frozen=True)
class PageKpis:
    resolved: ResolvedFilters
    kpis: SalesKpis


@dataclass(frozen=True)
class PageMembers:
    resolved: ResolvedFilters
    members: Members


@dataclass(frozen=True)
class PagePipeline:
    resolved: ResolvedFilters
    pipeline: Pipeline


@dataclass(frozen=True)
class PageOpportunities:
    resolved: ResolvedFilters
    grid: GridRows
    open_deals: int  # in the slice, however many the grid shows


@dataclass(frozen=True)
class PageWinLoss:
    resolved: ResolvedFilters
    win_loss: WinLoss


@dataclass(frozen=True)
class PageReps:
    resolved: ResolvedFilters
    grid: GridRows


@dataclass(frozen=True)
class PageForecast:
    """The quarter's outlook for the slice and the bookings forecast (or why there is none)."""

    resolved: ResolvedFilters
    outlook: QuarterOutlook
    bookings: BookingsForecast | str

    @property
    def empty(self) -> bool:
        return not self.outlook.has_deals


def _on_page(session: Session, query: PageQuery, scope: DataScope, panel: Callable[[ResolvedFilters], Any]) -> Any:
    """`panel` of the validated URL state, or gold's status when gold is empty."""
    resolved = resolve_page(session, query, scope)
    return gold_status(session) if resolved is None else panel(resolved)


def page_kpis(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageKpis | GoldStatus:
    """The headline KPIs for the URL state (money is masked by the layout from `policy`: the figures
    never leave the server without it)."""
    return _on_page(session, query, scope, lambda r: PageKpis(r, sales_kpis(session, r.filters)))


def page_members(session: Session, query: PageQuery, scope: DataScope, *,
                 policy: MaskPolicy) -> PageMembers | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageMembers(r, members(session, r.filters)))


def page_pipeline(session: Session, query: PageQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> PagePipeline | GoldStatus:
    return _on_page(session, query, scope, lambda r: PagePipeline(r, pipeline(session, r.filters, policy)))


def page_opportunities(session: Session, query: PageQuery, scope: DataScope, *,
                       policy: MaskPolicy, limit: int = OPPORTUNITY_ROWS) -> PageOpportunities | GoldStatus:
    def panel(resolved: ResolvedFilters) -> PageOpportunities:
        grid = open_opportunities(session, resolved.filters, policy, limit=limit)
        total = len(grid.rows)
        if total >= limit:  # counted only when the grid is cut short
            total = int(session.scalar(select(func.count()).where(deal_filter(resolved.filters),
                                                                  ~SalesOpportunity.is_closed)) or 0)
        return PageOpportunities(resolved, grid, total)

    return _on_page(session, query, scope, panel)


def page_win_loss(session: Session, query: PageQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> PageWinLoss | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageWinLoss(r, win_loss(session, r.filters)))


def page_reps(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageReps | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageReps(r, reps_leaderboard(session, r.filters, policy)))


def page_forecast(session: Session, query: PageQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> PageForecast | GoldStatus:
    """The quarter's outlook and the bookings forecast for the URL state (money masked by the layout)."""
    return _on_page(session, query, scope, lambda r: PageForecast(r, quarter_outlook(session, r.filters),
                                                                  bookings_forecast(session, r.filters)))


# --- Export (dashboard.export): the grid recomputed from the page's query string ----------------


def export_opportunities(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The open opportunities grid for the page's query string, as the page shows it."""
    result = page_opportunities(session, PageQuery.from_args(args), scope, policy=policy, limit=EXPORT_ROWS)
    if not isinstance(result, PageOpportunities):
        return GridRows(opportunity_columns(policy), [], "opportunity_id")
    return result.grid


def export_reps(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The reps leaderboard for the page's query string."""
    result = page_reps(session, PageQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, PageReps):
        return GridRows(rep_columns(policy), [], "user_id")
    return result.grid


def export_name(args: Mapping[str, Any]) -> str:
    """The file name's tail: 'sales_2026Q3_Europe' (and the deeper levels chosen)."""
    parts = ["sales", first(args, "quarter"), *(first(args, level) for level in LEVELS)]
    return "_".join(str(p)[:40] for p in parts if p)

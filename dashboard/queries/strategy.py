"""Strategy queries: retention, concentration, segments and lifetime value for executives.

One function per panel, each taking the page's URL state, the caller's `DataScope` and
`MaskPolicy` (both required) and returning a typed result, or gold's status when the gold
tables are empty. Everything is read from gold:

- gold.retention_monthly (etl/gold/retention_monthly.sql) for retention, growth and the
  segments' revenue and tickets, per month, region, territory, segment and product line. It is
  kept per territory, so a restricted scope reads its territories' rows (as the daily KPIs do:
  accounts assigned by name are not counted in group totals, which would reveal neighbours);
- gold.customer_360 for the current MRR, churn risk and CLV of each customer in the scope;
- gold.subscription_mrr_daily for the top customers' MRR on the same day of earlier years;
- gold.account_book for the product lines each customer holds.

Revenue figures (MRR, NRR, shares of revenue, CLV, profit) need the financials permission: a
caller without it gets counts and rates of customers only, and amounts as bands where a row
names an account.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Double,
    MetaData,
    Numeric,
    Select,
    Table,
    Text,
    column,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.book import GROWTH_ACTION
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    ALL_FACTORS,
    ALL_PRODUCTS,
    AccountBook,
    ChurnFactorTerritory,
    Customer360,
    CustomerSummary,
    DailyKpi,
    RetentionMonthly,
)
from dashboard.tables.intelligence import ChurnPrediction, NextBestAction
from dashboard.url_state import first, to_search

PAGE_PATH = "/executive/strategy"
# The retention panel's breakdowns: URL value -> words.
BREAKDOWNS: dict[str, str] = {"region": "Region", "segment": "Segment", "product_line": "Product line"}
DEFAULT_BREAKDOWN = "region"
TREND_MONTHS = 12
TOP_SHARES: tuple[int, ...] = (5, 10, 20)
TOP_TREND_ACCOUNTS = 10
TREND_YEARS = 3
# The view of migration 0016 (no ORM class): a subscription's MRR in USD on each day, at that day's rate.
SUBSCRIPTION_MRR_DAILY = Table("subscription_mrr_daily", MetaData(), Column("day", Date),
                               Column("account_id", Text), Column("mrr_usd", Numeric), schema="gold")


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class StrategyQuery:
    """The page as the URL holds it, raw: `?by=segment&month=2026-10`. Validated by `resolve`."""

    by: Any = None
    month: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> StrategyQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(first(args, "by"), first(args, "month"))

    @classmethod
    def from_state(cls, data: Any) -> StrategyQuery:
        """From the page's state store; anything malformed reads as the default view."""
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({k: data.get(k) for k in ("by", "month")})

    def as_state(self) -> dict[str, Any]:
        return {"by": self.by, "month": self.month}

    @property
    def search(self) -> str:
        return to_search([("by", self.by), ("month", self.month)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the breakdown, the month whose trailing 12 months are shown (first
    day), the months on offer (newest first), notes on what was adjusted, and the scope."""

    by: str
    month: date
    months: tuple[date, ...]
    scope: DataScope
    notes: tuple[str, ...] = ()

    @property
    def canonical(self) -> StrategyQuery:
        return StrategyQuery(self.by, f"{self.month:%Y-%m}")


def _parse_month(raw: Any) -> date | None:
    """The first day of a 'YYYY-MM' (or 'YYYY-MM-DD') month, or None."""
    if not isinstance(raw, str) or len(raw) < 7:
        return None
    try:
        return date.fromisoformat(raw[:7] + "-01")
    except ValueError:
        return None


def available_months(session: Session) -> tuple[date, ...]:
    """The months gold.retention_monthly holds, newest first."""
    return tuple(session.scalars(select(RetentionMonthly.month).distinct().order_by(RetentionMonthly.month.desc())))


def resolve(session: Session, query: StrategyQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state: an unknown breakdown falls back to region, a month that is not
    on offer to the newest one, each with a note saying so. None when gold is empty."""
    months = available_months(session)
    if not months:
        return None
    notes: list[str] = []
    by = query.by if query.by in BREAKDOWNS else DEFAULT_BREAKDOWN
    if query.by is not None and query.by not in BREAKDOWNS:
        notes.append(f"Unknown breakdown \u201c{str(query.by)[:40]}\u201d: showing retention by region.")
    month = _parse_month(query.month)
    if query.month is not None and month not in months:
        notes.append(f"No figures for the month \u201c{str(query.month)[:40]}\u201d: showing the latest, "
                     f"{months[0]:%B %Y}.")
        month = None
    return ResolvedQuery(by, month or months[0], months, scope, tuple(notes))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


# --- 1. Retention ----------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """Logo retention and net revenue retention over one trailing 12-month window.

    Logo retention = customers active at the window's start still active at its end / customers
    active at its start. Net revenue retention (NRR) = MRR at the window's end of the customers
    active at its start (expansion and contraction included, customers new in the window
    excluded) / their MRR at its start. By product line, a customer counts once per line it
    held at the start, retained while it still holds that line, with that line's MRR.
    """

    start_customers: int
    retained_customers: int
    start_mrr_usd: float | None  # None without the financials permission
    retained_mrr_usd: float | None

    @property
    def logo_retention(self) -> float | None:
        return _ratio(float(self.retained_customers), float(self.start_customers))

    @property
    def nrr(self) -> float | None:
        return _ratio(self.retained_mrr_usd, self.start_mrr_usd)


@dataclass(frozen=True)
class RetentionResult:
    """The selected window's retention overall, by the chosen breakdown, and the monthly trend."""

    resolved: ResolvedQuery
    window_start: date | None
    window_end: date | None
    overall: Retention
    # member, start_customers, retained_customers, logo_retention, start_mrr_usd, retained_mrr_usd, nrr
    # (largest start first; the revenue columns empty without the financials permission)
    breakdown: pd.DataFrame
    trend: pd.DataFrame  # month, window_end, start_customers, logo_retention, nrr (oldest first)
    financials: bool


def _retention_select(scope: DataScope, *columns: Any) -> Select:
    r = RetentionMonthly
    return select(*columns, func.sum(r.start_customers), func.sum(r.retained_customers),
                  func.sum(r.start_mrr_usd), func.sum(r.retained_mrr_usd)).where(scope.territory_filter(r.territory))


def _lines(by: str) -> ColumnElement[bool]:
    """Customer rows, or the per-product-line rows for the product-line breakdown."""
    return (RetentionMonthly.product_line != ALL_PRODUCTS if by == "product_line"
            else RetentionMonthly.product_line == ALL_PRODUCTS)


def _retention_frame(rows: list[Any], key: str, financials: bool) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(row) for row in rows],
                         columns=[key, "start_customers", "retained_customers", "start_mrr_usd", "retained_mrr_usd"])
    frame = frame.astype({"start_customers": "int64", "retained_customers": "int64",
                          "start_mrr_usd": "float64", "retained_mrr_usd": "float64"})
    starts = frame["start_customers"].where(frame["start_customers"] > 0)
    frame["logo_retention"] = (frame["retained_customers"] / starts).astype("float64")
    mrr = frame["start_mrr_usd"].where(frame["start_mrr_usd"] > 0)
    frame["nrr"] = (frame["retained_mrr_usd"] / mrr).astype("float64")
    if not financials:
        frame[["start_mrr_usd", "retained_mrr_usd", "nrr"]] = float("nan")
    return frame


def retention(session: Session, query: StrategyQuery, scope: DataScope, *,
              policy: MaskPolicy) -> RetentionResult | GoldStatus:
    """Logo retention and NRR (see `Retention`) over the 12 months to the selected month's end,
    overall and by region, segment or product line, and their monthly trend over the 12 windows
    ending in the selected month and the 11 before it."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    r = RetentionMonthly
    financials = policy.view_financials
    window = session.execute(select(r.window_start, r.window_end).where(r.month == resolved.month).limit(1)).first()
    member = {"region": r.region, "segment": r.segment, "product_line": r.product_line}[resolved.by]
    breakdown = _retention_frame(session.execute(
        _retention_select(scope, member).where(r.month == resolved.month, _lines(resolved.by))
        .group_by(member)).all(), "member", financials)
    breakdown = breakdown[breakdown["start_customers"] > 0]
    breakdown = breakdown.sort_values(["start_customers", "member"], ascending=[False, True]).reset_index(drop=True)
    breakdown = breakdown[["member", "start_customers", "retained_customers", "logo_retention", "start_mrr_usd",
                           "retained_mrr_usd", "nrr"]]
    months = [m for m in resolved.months if m <= resolved.month][:TREND_MONTHS]
    trend = _retention_frame(session.execute(
        _retention_select(scope, r.month).where(r.month.in_(months), r.product_line == ALL_PRODUCTS)
        .group_by(r.month).order_by(r.month)).all(), "month", financials)
    ends = dict(session.execute(select(r.month, func.max(r.window_end)).where(r.month.in_(months))
                                .group_by(r.month)).all())
    trend["window_end"] = trend["month"].map(ends)
    trend = trend[trend["start_customers"] > 0][["month", "window_end", "start_customers", "logo_retention", "nrr"]]
    totals = breakdown if resolved.by != "product_line" else _retention_frame(session.execute(
        _retention_select(scope, literal("all")).where(r.month == resolved.month, r.product_line == ALL_PRODUCTS))
        .all(), "all", financials)
    overall = Retention(
        int(totals["start_customers"].sum()), int(totals["retained_customers"].sum()),
        float(totals["start_mrr_usd"].sum()) if financials else None,
        float(totals["retained_mrr_usd"].sum()) if financials else None)
    return RetentionResult(resolved, window[0] if window else None, window[1] if window else None, overall,
                           breakdown, trend.reset_index(drop=True), financials)


# --- 2. Concentration -----------------------------------------------------------------


@dataclass(frozen=True)
class ConcentrationResult:
    """How much of the current MRR the largest customers hold, and the largest ones' history.

    shares: N -> the top N customers' share of the scope's MRR on the as-of day (current MRR,
    gold.customer_360.mrr_usd, in USD at the as-of rate), None without the financials permission.
    top: the TOP_TREND_ACCOUNTS largest customers with their MRR on the same day of each of the
    TREND_YEARS years before (gold.subscription_mrr_daily at that day's rate, over all their
    regional accounts) and their current churn risk level.
    """

    resolved: ResolvedQuery
    as_of: date | None
    customers: int
    total_mrr_usd: float | None
    shares: dict[int, float | None]
    years: tuple[date, ...]  # oldest first, the as-of day last
    top: GridRows


def _year_field(index: int, count: int) -> str:
    return "mrr_usd_now" if index == count - 1 else f"mrr_usd_{count - 1 - index}y"


def concentration_columns(years: tuple[date, ...], policy: MaskPolicy) -> tuple[GridColumn, ...]:
    """The top customers' grid: rank, name, the MRR of each year (bands without financials), risk."""
    kind = USD if policy.view_financials else BAND
    yearly = tuple(GridColumn(_year_field(i, len(years)), f"MRR {day:%d %b %Y}", kind) for i, day in enumerate(years))
    return (GridColumn("rank", "#", COUNT), GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("region", "Region"), GridColumn("segment", "Segment"), *yearly,
            GridColumn("churn_risk", "Churn risk", CHIP, score="churn"))


def _as_of(session: Session) -> date | None:
    return session.scalar(select(func.max(DailyKpi.day)))


def _same_day_years_before(day: date, years: int) -> date:
    """The same calendar day `years` years earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def concentration(session: Session, query: StrategyQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> ConcentrationResult | GoldStatus:
    """The top 5, 10 and 20 customers' share of the scope's current MRR, and the top 10 customers'
    MRR on the same day of the last three years with their churn risk (see `ConcentrationResult`)."""
    resolved = resolve(session, query, scope)
    as_of = _as_of(session)
    if resolved is None or as_of is None:
        return gold_status(session)
    c = Customer360
    paying = (c.mrr_usd > 0, scope.customer_filter())
    customers, total = session.execute(select(func.count(), func.sum(c.mrr_usd)).where(*paying)).one()
    largest = session.execute(
        select(c.account_id, c.account_name, c.region, c.segment, c.mrr_usd, c.risk_level, c.regional_account_ids)
        .where(*paying).order_by(c.mrr_usd.desc(), c.account_id).limit(max(TOP_SHARES))).all()
    total_usd = _float(total)
    shares: dict[int, float | None] = {}
    for n in TOP_SHARES:
        held = sum(float(row.mrr_usd) for row in largest[:n])
        shares[n] = _ratio(held, total_usd) if policy.view_financials else None
    years = tuple(_same_day_years_before(as_of, k) for k in range(TREND_YEARS, 0, -1)) + (as_of,)
    top = largest[:TOP_TREND_ACCOUNTS]
    history = _mrr_on_days(session, {row.account_id: row.regional_account_ids for row in top}, years[:-1])
    rows = []
    for rank, row in enumerate(top, start=1):
        record: dict[str, Any] = {"rank": rank, "account_name": row.account_name, "account_id": row.account_id,
                                  "region": row.region, "segment": row.segment, "churn_risk": row.risk_level}
        for index, day in enumerate(years):
            value = float(row.mrr_usd) if day == as_of else history.get((row.account_id, day), 0.0)
            record[_year_field(index, len(years))] = mask_value("mrr_usd", value, policy)
        rows.append(record)
    columns = concentration_columns(years, policy)
    return ConcentrationResult(resolved, as_of, int(customers or 0), total_usd if policy.view_financials else None,
                               shares, years, GridRows(columns, rows, key_field="account_name"))


def _mrr_on_days(session: Session, regional_ids: dict[str, list[str]],
                 days: tuple[date, ...]) -> dict[tuple[str, date], float]:
    """(customer, day) -> MRR in USD over its regional accounts (gold.subscription_mrr_daily)."""
    master_of = {regional: master for master, ids in regional_ids.items() for regional in (ids or [master])}
    if not master_of or not days:
        return {}
    view = SUBSCRIPTION_MRR_DAILY
    stmt = (select(view.c.day, view.c.account_id, func.sum(view.c.mrr_usd))
            .where(view.c.day.in_(days), view.c.account_id.in_(list(master_of)))
            .group_by(view.c.day, view.c.account_id))
    found: dict[tuple[str, date], float] = {}
    for day, regional, mrr in session.execute(stmt):
        key = (master_of[regional], day)
        found[key] = found.get(key, 0.0) + float(mrr or 0)
    return found


# --- 3. Segments ------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentsResult:
    """Per segment over the selected trailing 12 months (customer rows of gold.retention_monthly):

    customers / customers_year_ago: active at the window's end / start; customer_growth their
    relative change. mrr_usd / mrr_usd_year_ago: MRR of all customers active then; mrr_growth
    its relative change. invoiced_usd: gross revenue, non-void invoices issued in the window.
    tickets: tickets opened in the window; support_cost_usd = tickets x cost per ticket
    (setting C360_SUPPORT_COST_PER_TICKET_USD); profit_usd = invoiced_usd - support_cost_usd,
    profit_margin = profit_usd / invoiced_usd. Churn risk is today's, over the segment's active
    customers in the scope's territories: avg_churn_score (0-100) and high_risk_share (HIGH level).
    Revenue columns are empty without the financials permission.
    """

    resolved: ResolvedQuery
    cost_per_ticket_usd: float
    rows: pd.DataFrame
    financials: bool


def segments(session: Session, query: StrategyQuery, scope: DataScope, *, policy: MaskPolicy,
             cost_per_ticket_usd: float) -> SegmentsResult | GoldStatus:
    """Growth, profitability and churn risk per segment (see `SegmentsResult`)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    r, c = RetentionMonthly, Customer360
    stmt = (select(r.segment, func.sum(r.end_customers), func.sum(r.start_customers), func.sum(r.end_mrr_usd),
                   func.sum(r.start_mrr_usd), func.sum(r.invoiced_usd), func.sum(r.tickets))
            .where(r.month == resolved.month, r.product_line == ALL_PRODUCTS, scope.territory_filter(r.territory))
            .group_by(r.segment))
    frame = pd.DataFrame([tuple(row) for row in session.execute(stmt)],
                         columns=["segment", "customers", "customers_year_ago", "mrr_usd", "mrr_usd_year_ago",
                                  "invoiced_usd", "tickets"])
    frame = frame.astype({"customers": "int64", "customers_year_ago": "int64", "mrr_usd": "float64",
                          "mrr_usd_year_ago": "float64", "invoiced_usd": "float64", "tickets": "int64"})
    risk = pd.DataFrame([tuple(row) for row in session.execute(
        select(c.segment, func.avg(c.churn_risk_score), func.count().filter(c.risk_level == "HIGH"),
               func.count(c.risk_level))
        .where(c.status == "active", scope.territory_filter(func.coalesce(c.territory, "Unknown")))
        .group_by(c.segment))], columns=["segment", "avg_churn_score", "high_risk", "scored"])
    frame = frame.merge(risk, on="segment", how="left")
    frame["avg_churn_score"] = frame["avg_churn_score"].astype("float64")
    scored = frame["scored"].astype("float64")
    frame["high_risk_share"] = (frame["high_risk"].astype("float64") / scored.where(scored > 0)).astype("float64")
    frame = frame.drop(columns=["high_risk", "scored"])
    before = frame["customers_year_ago"].astype("float64")
    frame["customer_growth"] = ((frame["customers"] - before) / before.where(before > 0)).astype("float64")
    mrr_before = frame["mrr_usd_year_ago"]
    frame["mrr_growth"] = ((frame["mrr_usd"] - mrr_before) / mrr_before.where(mrr_before > 0)).astype("float64")
    frame["support_cost_usd"] = frame["tickets"] * float(cost_per_ticket_usd)
    frame["profit_usd"] = frame["invoiced_usd"] - frame["support_cost_usd"]
    invoiced = frame["invoiced_usd"]
    frame["profit_margin"] = (frame["profit_usd"] / invoiced.where(invoiced > 0)).astype("float64")
    if not policy.view_financials:
        frame[["mrr_usd", "mrr_usd_year_ago", "mrr_growth", "invoiced_usd", "support_cost_usd", "profit_usd",
               "profit_margin"]] = float("nan")
    frame = frame[(frame["customers"] > 0) | (frame["customers_year_ago"] > 0)]
    frame = frame.sort_values(["customers", "segment"], ascending=[False, True]).reset_index(drop=True)
    return SegmentsResult(resolved, float(cost_per_ticket_usd), frame, policy.view_financials)


# --- 4. Lifetime value ------------------------------------------------------------------


@dataclass(frozen=True)
class LifetimeValueResult:
    """Average customer lifetime value (gold.clv's clv_usd as gold.customer_360 holds it: revenue
    to date plus the projected next 36 months) over the active customers of the scope that have
    one; by region (the customer's) and by product line (each line the customer holds on the
    as-of day, gold.account_book, so a customer counts in every line it holds)."""

    resolved: ResolvedQuery
    customers: int
    average_usd: float | None
    by_region: pd.DataFrame  # member, customers, average_clv_usd (largest average first)
    by_product_line: pd.DataFrame


def _clv_frame(rows: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(row) for row in rows], columns=["member", "customers", "average_clv_usd"])
    frame = frame.astype({"customers": "int64", "average_clv_usd": "float64"})
    return frame.sort_values(["average_clv_usd", "member"], ascending=[False, True]).reset_index(drop=True)


def lifetime_value(session: Session, query: StrategyQuery, scope: DataScope, *,
                   policy: MaskPolicy) -> LifetimeValueResult | GoldStatus | None:
    """Average CLV overall, by region and by product line (see `LifetimeValueResult`); None
    without the financials permission (nothing is read), gold's status when gold is empty."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if not policy.view_financials:
        return None
    if scope.served_by_territory:
        return _lifetime_value_of_territories(session, resolved)
    c, b = Customer360, AccountBook
    valued = (c.status == "active", c.clv_usd.is_not(None), scope.customer_filter())
    # Overall and by region in one pass over the customers.
    grouped = session.execute(
        select(func.grouping(c.region), c.region, func.count(), func.avg(c.clv_usd)).where(*valued)
        .group_by(func.grouping_sets(tuple_(c.region), tuple_()))).all()
    customers, average = next(((n, avg) for overall, _, n, avg in grouped if overall), (0, None))
    by_region = _clv_frame([(region, n, avg) for overall, region, n, avg in grouped if not overall])
    held = (select(func.unnest(b.product_lines).label("line"), c.clv_usd)
            .join(b, b.account_id == c.account_id).where(*valued).subquery())
    by_line = _clv_frame(session.execute(
        select(held.c.line, func.count(), func.avg(held.c.clv_usd)).group_by(held.c.line)).all())
    return LifetimeValueResult(resolved, int(customers or 0), _float(average), by_region, by_line)


def _lifetime_value_of_territories(session: Session, resolved: ResolvedQuery) -> LifetimeValueResult:
    """`lifetime_value` from gold.customer_summary's CLV sums of the scope's territories."""
    s = CustomerSummary
    in_scope = (s.clv_customers > 0, resolved.scope.territory_filter(s.territory))
    customers, clv_usd = func.sum(s.clv_customers), func.sum(s.clv_usd)
    average = clv_usd / func.nullif(customers, 0)
    grouped = session.execute(
        select(func.grouping(s.region), s.region, customers, average).where(s.product_line == ALL_PRODUCTS, *in_scope)
        .group_by(func.grouping_sets(tuple_(s.region), tuple_()))).all()
    total, overall = next(((n, avg) for whole, _, n, avg in grouped if whole), (0, None))
    by_region = _clv_frame([(region, n, avg) for whole, region, n, avg in grouped if not whole])
    by_line = _clv_frame(session.execute(
        select(s.product_line, customers, average).where(s.product_line != ALL_PRODUCTS, *in_scope)
        .group_by(s.product_line)).all())
    return LifetimeValueResult(resolved, int(total or 0), _float(overall), by_region, by_line)



# --- Exports (dashboard.export): the grids recomputed from a page's query string ----------


def export_top_customers(session: Session, args: Mapping[str, Any], scope: DataScope,
                         policy: MaskPolicy) -> GridRows:
    """The largest customers' grid for the page's query string, as the page shows it."""
    result = concentration(session, StrategyQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, ConcentrationResult):
        return GridRows(concentration_columns((), policy), [], "account_name")
    return result.top


def export_name(args: Mapping[str, Any]) -> str:
    """The month part of an export's file name, e.g. '2026-10' (empty for the latest)."""
    month = _parse_month(first(args, "month"))
    return f"{month:%Y-%m}" if month else "latest"


# --- 5. Satisfaction and value ------------------------------------------------------------

# Two-sided 95 % normal quantile, for the Fisher z interval.
Z_95 = 1.959963984540054
MIN_CORRELATION_SAMPLE = 10


@dataclass(frozen=True)
class Correlation:
    """Pearson's r between a satisfaction score and a value figure over `n` customers, with its
    95 % confidence interval from Fisher's z: z = atanh(r), standard error 1 / sqrt(n - 3),
    interval tanh(z -/+ 1.96 SE). Empty (r None) below MIN_CORRELATION_SAMPLE customers or when
    either figure does not vary."""

    score: str  # "NPS" or "CSAT"
    against: str  # "Retention" or "MRR growth"
    n: int
    r: float | None

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.r is None or self.n <= 3:
            return None
        z, half = math.atanh(max(min(self.r, 0.999999), -0.999999)), Z_95 / math.sqrt(self.n - 3)
        return math.tanh(z - half), math.tanh(z + half)

    @classmethod
    def from_sums(cls, score: str, against: str, n: int, x: float, xx: float, y: float, yy: float,
                  xy: float) -> Correlation:
        """r from the sums over the customers (n, sum of x, x², y, y², x·y), as PostgreSQL's corr()."""
        covariance = n * xy - x * y
        spread = (n * xx - x * x) * (n * yy - y * y)
        if n < MIN_CORRELATION_SAMPLE or spread <= 0:
            return cls(score, against, n, None)
        return cls(score, against, n, max(-1.0, min(1.0, covariance / math.sqrt(spread))))


ALL_SEGMENTS = "All segments"


@dataclass(frozen=True)
class SatisfactionResult:
    """Satisfaction against value over the selected trailing 12 months (gold.retention_monthly):
    NPS (average score 0-10) and CSAT (average 1-5) of the survey responses answered in the window
    by the group's customers; retention = logo retention and MRR growth = NRR - 1 of the customers
    active at the window's start (see `Retention`). Per segment, and as correlations over customers:
    each customer's average score over the window against whether it was retained and against its
    MRR growth (end over start MRR - 1), over the customers active with MRR at the window's start
    that answered. The trend holds the same figures for each of the 12 windows to the selected one."""

    resolved: ResolvedQuery
    # segment, nps, nps_responses, csat, csat_responses, cohort, retained, retention, mrr_growth
    by_segment: pd.DataFrame
    correlations: tuple[Correlation, ...]
    # month, window_end, segment (ALL_SEGMENTS for the scope), nps, csat, retention, mrr_growth (oldest first)
    trend: pd.DataFrame
    financials: bool


_SATISFACTION_SUMS = ("nps_sum", "nps_responses", "csat_sum", "csat_responses", "start_customers",
                      "retained_customers", "start_mrr_usd", "retained_mrr_usd")
_COHORT_SUMS = ("n", "x", "xx", "retained", "x_retained", "growth", "growth_sq", "x_growth")


def _satisfaction_figures(frame: pd.DataFrame, financials: bool) -> pd.DataFrame:
    """Averages and rates from the summed columns of `_SATISFACTION_SUMS`."""
    frame = frame.astype({name: "float64" for name in _SATISFACTION_SUMS})
    frame["nps"] = frame["nps_sum"] / frame["nps_responses"].where(frame["nps_responses"] > 0)
    frame["csat"] = frame["csat_sum"] / frame["csat_responses"].where(frame["csat_responses"] > 0)
    frame["retention"] = frame["retained_customers"] / frame["start_customers"].where(frame["start_customers"] > 0)
    frame["mrr_growth"] = (frame["retained_mrr_usd"] / frame["start_mrr_usd"].where(frame["start_mrr_usd"] > 0)
                           - 1) if financials else float("nan")
    return frame


def satisfaction(session: Session, query: StrategyQuery, scope: DataScope, *,
                 policy: MaskPolicy) -> SatisfactionResult | GoldStatus:
    """NPS and CSAT against retention and MRR growth by segment, their correlations with confidence
    intervals and sample sizes, and their monthly trend (see `SatisfactionResult`, `Correlation`)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    r, financials = RetentionMonthly, policy.view_financials
    months = [m for m in resolved.months if m <= resolved.month][:TREND_MONTHS]
    cohort = [f"{score}_cohort_{part}" for score in ("nps", "csat") for part in _COHORT_SUMS]
    # A few hundred rows: per month and segment of the scope's territories, the sums of both panels.
    rows = session.execute(
        select(r.month, r.segment, func.max(r.window_end),
               *[func.sum(getattr(r, name)) for name in (*_SATISFACTION_SUMS, *cohort)])
        .where(r.month.in_(months), r.product_line == ALL_PRODUCTS, scope.territory_filter(r.territory))
        .group_by(r.month, r.segment)).all()
    sums = pd.DataFrame([tuple(row) for row in rows],
                        columns=["month", "segment", "window_end", *_SATISFACTION_SUMS, *cohort])
    sums = sums.astype({name: "float64" for name in cohort})
    selected = _satisfaction_figures(sums[sums["month"] == resolved.month].copy(), financials)
    selected = selected.rename(columns={"start_customers": "cohort", "retained_customers": "retained"})
    selected = selected[(selected["nps_responses"] > 0) | (selected["csat_responses"] > 0) | (selected["cohort"] > 0)]
    by_segment = selected.sort_values(["cohort", "segment"], ascending=[False, True])[
        ["segment", "nps", "nps_responses", "csat", "csat_responses", "cohort", "retained", "retention",
         "mrr_growth"]].reset_index(drop=True)
    totals = sums.loc[sums["month"] == resolved.month, cohort].sum()
    correlations = []
    for score in ("NPS", "CSAT"):
        pick = {part: float(totals[f"{score.lower()}_cohort_{part}"]) for part in _COHORT_SUMS}
        n, x, xx = int(pick["n"]), pick["x"], pick["xx"]
        correlations.append(Correlation.from_sums(score, "Retention", n, x, xx, pick["retained"], pick["retained"],
                                                  pick["x_retained"]))
        if financials:
            correlations.append(Correlation.from_sums(score, "MRR growth", n, x, xx, pick["growth"],
                                                      pick["growth_sq"], pick["x_growth"]))
    correlations.sort(key=lambda c: c.against != "Retention")  # retention pairs first, as the page lists them
    overall = sums.groupby("month", as_index=False).agg(
        {"window_end": "max", **{name: "sum" for name in _SATISFACTION_SUMS}}).assign(segment=ALL_SEGMENTS)
    trend = _satisfaction_figures(pd.concat([overall, sums[overall.columns]], ignore_index=True), financials)
    trend = trend[(trend["nps_responses"] > 0) | (trend["csat_responses"] > 0) | (trend["start_customers"] > 0)]
    trend = trend.sort_values(["month", "segment"])[
        ["month", "window_end", "segment", "nps", "csat", "retention", "mrr_growth"]].reset_index(drop=True)
    return SatisfactionResult(resolved, by_segment, tuple(correlations), trend, financials)


# --- 7. Cross-sell and upsell potential ---------------------------------------------------

POTENTIAL_LIMIT = 50


@dataclass(frozen=True)
class PotentialResult:
    """Active customers of the scope with upsell or cross-sell potential, ranked by expected value.

    Potential: the customer's open next-best actions of the Growth category (gold.next_best_action)
    and its product gaps against peers of the same segment and size band (gold.account_book).
    expected_value_usd: the summed estimated revenue impact of those open Growth actions (the
    actions' own estimate; a product gap alone carries none). Ranked by expected value, then by the
    number of gaps, then by MRR. candidates and total_expected_usd count every such customer, the
    grid the first POTENTIAL_LIMIT.
    """

    resolved: ResolvedQuery
    candidates: int
    total_expected_usd: float | None  # None without the financials permission
    grid: GridRows


def potential_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    kind = USD if policy.view_financials else BAND
    return (GridColumn("rank", "#", COUNT), GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("region", "Region"), GridColumn("segment", "Segment"),
            GridColumn("expected_value_usd", "Expected value", kind), GridColumn("growth_actions", "Growth actions",
                                                                                 COUNT),
            GridColumn("gap_lines", "Product gaps"), GridColumn("mrr_usd", "MRR", kind),
            GridColumn("churn_risk", "Churn risk", CHIP, score="churn"))


def potential(session: Session, query: StrategyQuery, scope: DataScope, *,
              policy: MaskPolicy) -> PotentialResult | GoldStatus:
    """The accounts with the highest cross-sell and upsell potential (see `PotentialResult`)."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    nba, b, c = NextBestAction, AccountBook, Customer360
    growth = (select(nba.customer_id, func.count().label("growth_actions"),
                     func.sum(nba.estimated_impact_revenue_usd).label("expected_usd"))
              .where(nba.status == "open", nba.action_type == GROWTH_ACTION)
              .group_by(nba.customer_id).subquery("growth"))
    if scope.served_by_territory:
        rows, candidates, total = _ranked_potential(session, scope, growth)
    else:
        expected = func.coalesce(growth.c.expected_usd, 0)
        candidate = (b.active, scope.account_filter(b.territory, b.account_id),
                     or_(b.gap_count > 0, growth.c.customer_id.is_not(None)))
        # Ranked on the narrow book, counted and summed in the same pass.
        rows = session.execute(
            select(b.account_id, b.account_name, b.mrr_usd, b.gap_lines, b.risk_level,
                   func.coalesce(growth.c.growth_actions, 0), expected, func.count().over(), func.sum(expected).over())
            .select_from(b).outerjoin(growth, growth.c.customer_id == b.account_id).where(*candidate)
            .order_by(expected.desc(), b.gap_count.desc(), b.mrr_usd.desc(), b.account_id)
            .limit(POTENTIAL_LIMIT)).all()
        candidates, total = (rows[0][7], rows[0][8]) if rows else (0, 0)
    # The region and segment of the rows shown only are read from customer_360.
    groups = {account_id: (region, segment) for account_id, region, segment in session.execute(
        select(c.account_id, c.region, c.segment).where(c.account_id.in_([r[0] for r in rows])))}
    records = [{"rank": rank, "account_id": r[0], "account_name": r[1], "region": groups[r[0]][0],
                "segment": groups[r[0]][1],
                "expected_value_usd": mask_value("expected_value_usd", float(r[6]), policy),
                "growth_actions": int(r[5]), "gap_lines": ", ".join(r[3] or []),
                "mrr_usd": mask_value("mrr_usd", float(r[2]), policy), "churn_risk": r[4]}
               for rank, r in enumerate(rows, start=1)]
    return PotentialResult(resolved, int(candidates or 0),
                           float(total or 0) if policy.view_financials else None,
                           GridRows(potential_columns(policy), records, key_field="account_name"))


def _ranked_potential(session: Session, scope: DataScope, growth: Any) -> tuple[list[Any], int, float]:
    """`potential`'s first rows (as its fallback query returns them), candidates and their expected
    value for a scope served by territory, without sorting every candidate: the customers with
    open Growth actions (a few thousand) are ranked and summed; those with product gaps only all
    have an expected value of 0, so their first rows come in order from an index and their number
    from gold.customer_summary. The first rows overall are among the first of either group."""
    b, s, nba = AccountBook, CustomerSummary, NextBestAction
    in_scope = (b.active, scope.territory_filter(b.territory))
    expected = func.coalesce(growth.c.expected_usd, 0)
    # Ranked on the book's narrow key columns (an index holds them); the names of the first rows are read last.
    with_growth = (select(b.account_id, b.gap_count, b.mrr_usd, growth.c.growth_actions,
                          expected.label("expected_usd"))
                   .join(growth, growth.c.customer_id == b.account_id).where(*in_scope).cte("with_growth"))
    g = with_growth.c
    growth_totals = select(func.count().label("customers"), func.sum(g.expected_usd).label("expected_usd"),
                           func.count().filter(g.gap_count > 0).label("with_gaps")).subquery("growth_totals")
    first_with_growth = (select(with_growth).order_by(g.expected_usd.desc(), g.gap_count.desc(), g.mrr_usd.desc(),
                                                      g.account_id).limit(POTENTIAL_LIMIT))
    open_growth = (select(nba.customer_id).where(nba.customer_id == b.account_id, nba.status == "open",
                                                 nba.action_type == GROWTH_ACTION).exists())
    first_gaps_only = (select(b.account_id, b.gap_count, b.mrr_usd, literal(0).label("growth_actions"),
                              literal(0, Numeric).label("expected_usd"))
                       .where(*in_scope, b.gap_count > 0, ~open_growth)
                       .order_by(b.gap_count.desc(), b.mrr_usd.desc(), b.account_id).limit(POTENTIAL_LIMIT))
    first = union_all(first_with_growth, first_gaps_only).subquery("first")
    f, t = first.c, growth_totals.c
    order = (f.expected_usd.desc(), f.gap_count.desc(), f.mrr_usd.desc(), f.account_id)
    ranked = select(first).order_by(*order).limit(POTENTIAL_LIMIT).subquery("ranked")
    r = ranked.c
    rows = session.execute(
        select(r.account_id, b.account_name, r.mrr_usd, b.gap_lines, b.risk_level, r.growth_actions, r.expected_usd,
               t.customers, t.expected_usd, t.with_gaps)
        .select_from(ranked).join(b, b.account_id == r.account_id).join(growth_totals, true())
        .order_by(r.expected_usd.desc(), r.gap_count.desc(), r.mrr_usd.desc(), r.account_id)).all()
    if not rows:  # no customer with an open Growth action, nor one with a product gap
        return [], 0, 0.0
    growth_customers, growth_usd, growth_with_gaps = rows[0][7:10]
    with_gaps = session.scalar(select(func.sum(s.gap_customers)).where(s.product_line == ALL_PRODUCTS,
                                                                          scope.territory_filter(s.territory)))
    candidates = int(growth_customers or 0) + int(with_gaps or 0) - int(growth_with_gaps or 0)
    return [row[:7] for row in rows], candidates, float(growth_usd or 0)


def export_potential(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The cross-sell and upsell grid for the page's query string, as the page shows it."""
    result = potential(session, StrategyQuery.from_args(args), scope, policy=policy)
    if not isinstance(result, PotentialResult):
        return GridRows(potential_columns(policy), [], "account_name")
    return result.grid


# --- 6. Why customers churn ----------------------------------------------------------------

TOP_FACTORS = 5


@dataclass(frozen=True)
class CohortSide:
    """One side of the window's start cohort (churned or retained) and what it went through in the
    window (gold.retention_monthly's churned_* / retained_* columns)."""

    customers: int
    price_rises: int  # customers with a price increase
    tickets: int
    sla_breaches: int
    csat_sum: float
    csat_responses: int
    competitor_mentions: int  # customers who mentioned competitor activity

    @property
    def price_rise_share(self) -> float | None:
        return _ratio(float(self.price_rises), float(self.customers))

    @property
    def tickets_per_customer(self) -> float | None:
        return _ratio(float(self.tickets), float(self.customers))

    @property
    def sla_breach_rate(self) -> float | None:
        return _ratio(float(self.sla_breaches), float(self.tickets))

    @property
    def csat(self) -> float | None:
        return _ratio(self.csat_sum, float(self.csat_responses))

    @property
    def competitor_share(self) -> float | None:
        return _ratio(float(self.competitor_mentions), float(self.customers))


@dataclass(frozen=True)
class ChurnDriversResult:
    """Customers active at the start of the selected 12 months who churned by its end, side by side
    with those retained: price rises, tickets, SLA breaches, CSAT and competitor mentions in the
    window. factors: the churn model's explanation factors that raise risk (contribution above
    zero), counted over today's HIGH-risk customers of the scope, most frequent first: label,
    customers, share (of HIGH-risk customers). Churned customers are no longer scored, so the
    model's view is of the customers most likely to follow them."""

    resolved: ResolvedQuery
    window_start: date | None
    window_end: date | None
    churned: CohortSide
    retained: CohortSide
    high_risk_customers: int
    factors: pd.DataFrame


def churn_drivers(session: Session, query: StrategyQuery, scope: DataScope, *,
                  policy: MaskPolicy) -> ChurnDriversResult | GoldStatus:
    """Churned against retained customers over the selected 12 months, and the churn model's most
    common risk factors today (see `ChurnDriversResult`). No revenue figure: `policy` changes nothing."""
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    r = RetentionMonthly
    sides = ("price_rises", "tickets", "sla_breaches", "csat_sum", "csat_responses", "competitor_mentions")
    row = session.execute(select(
        func.min(r.window_start), func.max(r.window_end), func.sum(r.start_customers), func.sum(r.retained_customers),
        *[func.sum(getattr(r, f"churned_{name}")) for name in sides],
        *[func.sum(getattr(r, f"retained_{name}")) for name in sides])
        .where(r.month == resolved.month, r.product_line == ALL_PRODUCTS, scope.territory_filter(r.territory))).one()
    start_customers, retained_customers = int(row[2] or 0), int(row[3] or 0)
    figures = [float(v or 0) for v in row[4:]]

    def side(customers: int, values: list[float]) -> CohortSide:
        return CohortSide(customers, int(values[0]), int(values[1]), int(values[2]), values[3], int(values[4]),
                          int(values[5]))

    high_risk, factors = _churn_factors(session, scope)
    factors["share"] = (factors["customers"] / high_risk).astype("float64") if high_risk else float("nan")
    return ChurnDriversResult(resolved, row[0], row[1],
                              side(start_customers - retained_customers, figures[:len(sides)]),
                              side(retained_customers, figures[len(sides):]), high_risk, factors)


def _churn_factors(session: Session, scope: DataScope) -> tuple[int, pd.DataFrame]:
    """Today's HIGH-risk customers of the scope, and the TOP_FACTORS factors raising their risk most
    often (label, customers): from the per-territory counts, or, for a scope naming accounts by
    themselves, from the predictions."""
    if scope.served_by_territory:
        f = ChurnFactorTerritory
        in_scope = scope.territory_filter(f.territory)
        high_risk = int(session.scalar(select(func.sum(f.customers)).where(f.factor == ALL_FACTORS, in_scope)) or 0)
        label, customers = func.nullif(f.factor, ""), func.sum(f.customers)
        factors = pd.DataFrame(session.execute(
            select(label, customers).where(f.factor != ALL_FACTORS, in_scope).group_by(f.factor)
            .order_by(customers.desc(), label).limit(TOP_FACTORS)).all(), columns=["label", "customers"])
        return high_risk, factors.astype({"customers": "int64"})
    p, c = ChurnPrediction, Customer360
    # Every scored customer for an unrestricted scope: no join to customer_360 to read them.
    in_scope = (literal(True) if scope.unrestricted
                else p.account_id.in_(select(c.account_id).where(scope.customer_filter())))
    high = (p.risk_level == "HIGH", in_scope)
    high_risk = int(session.scalar(select(func.count()).select_from(p).where(*high)) or 0)
    factor = (func.jsonb_array_elements(p.contributing_factors).table_valued(column("value", JSONB))
              .render_derived("factor"))
    label = func.coalesce(factor.c.value["label"].astext, factor.c.value["feature"].astext)
    raises = func.cast(factor.c.value["contribution"].astext, Double) > 0
    factors = pd.DataFrame(session.execute(
        select(label, func.count(func.distinct(p.account_id))).select_from(p).join(factor, literal(True))
        .where(*high, raises).group_by(label)
        .order_by(func.count(func.distinct(p.account_id)).desc(), label).limit(TOP_FACTORS)).all(),
        columns=["label", "customers"])
    return high_risk, factors.astype({"customers": "int64"})

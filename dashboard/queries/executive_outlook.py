"""Morning Coffee's look ahead: churn risk and health across the customers, the accounts most at
risk, the MRR forecast, and the day's headline. Read from gold only; every function takes the
page's filters (which carry the caller's data scope) and, where money shows, the masking policy.

Definitions:
  * risk distribution: active customers (gold.customer_360.status = 'active') in the selected
    regions and the caller's scope, counted, and their current MRR added up, by churn risk level
    (HIGH, MEDIUM, LOW; models.churn) and by health band (Healthy at 80+, At-Risk 50-79, Critical
    below 50; models.health). Customers the jobs have not scored yet are counted as "Not scored";
  * accounts most at risk: active customers with a churn score, highest score first (then the
    larger MRR), with the factor raising the score most, their MRR at stake (the MRR lost if they
    churn) and the days from the last day of data to their next renewal;
  * MRR forecast: the forecast job's month-end MRR for the next three months with 80 % and 95 %
    intervals: company-wide from the daily series, or one region's monthly series;
  * headline: rules over the same figures the page shows (see `headline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from dashboard.formatting import format_count, format_day, format_usd
from dashboard.masking import MaskPolicy, mask_value
from dashboard.queries.book import top_reason
from dashboard.queries.executive import (
    MorningCoffeeFilters,
    PageQuery,
    _in_regions,
    _kpi_source,
    _month_end,
    resolve_page,
)
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import ALL_PRODUCTS, AccountBook, Customer360, CustomerSummary, SupportDaily
from dashboard.tables.insights import Forecast, ForecastSeries, KpiDriver
from dashboard.tables.intelligence import ChurnPrediction
from models.health import AT_RISK_MIN_SCORE, HEALTHY_MIN_SCORE
from models.kpi import percent_change
from models.risk_levels import HIGH_RISK_MIN_SCORE

CHURN, HEALTH = "churn", "health"
RISK_LEVELS = ("HIGH", "MEDIUM", "LOW")
HEALTH_BANDS = ("Critical", "At-Risk", "Healthy")
NOT_SCORED = "Not scored"
SEGMENT_LEVELS = {CHURN: (*RISK_LEVELS, NOT_SCORED), HEALTH: (*HEALTH_BANDS, NOT_SCORED)}
AT_RISK_LIMIT = 10
SEGMENT_ACCOUNTS_LIMIT = 100
FORECAST_MONTHS = 3
TOTAL_MRR_SERIES = "mrr_usd:total:All"


def _region_series(region: str) -> str:
    return f"mrr_usd:region:{region}"


def _health_band(score: Any) -> Any:
    return case((score.is_(None), literal(NOT_SCORED)), (score >= HEALTHY_MIN_SCORE, literal("Healthy")),
                (score >= AT_RISK_MIN_SCORE, literal("At-Risk")), else_=literal("Critical"))


def _active_customers(filters: MorningCoffeeFilters) -> list[Any]:
    """Active customers in the selected regions and the caller's scope."""
    return [Customer360.status == "active", _in_regions(Customer360.region, filters.regions),
            filters.scope.customer_filter()]


# --- Risk distribution ---------------------------------------------------------------------


@dataclass(frozen=True)
class RiskDistribution:
    """Active customers and their MRR per churn level and per health band (in that order, with
    "Not scored" last); `mrr_usd` is None without the financials permission."""

    by_churn: pd.DataFrame  # level, accounts, mrr_usd
    by_health: pd.DataFrame  # level, accounts, mrr_usd
    scored_on: date | None

    @property
    def accounts(self) -> int:
        return int(self.by_churn["accounts"].sum()) if not self.by_churn.empty else 0

    @property
    def empty(self) -> bool:
        return self.accounts == 0


def _summary_groups(filters: MorningCoffeeFilters) -> list[Any]:
    """gold.customer_summary's customer rows in the selected regions and the caller's territories."""
    s = CustomerSummary
    return [s.product_line == ALL_PRODUCTS, _in_regions(s.region, filters.regions),
            filters.scope.territory_filter(s.territory)]


def _cells(session: Session, filters: MorningCoffeeFilters) -> list[Any]:
    """Active customers and their MRR per churn level and health band: from the per-territory sums,
    or, for a scope naming accounts by themselves, from the customers."""
    if filters.scope.served_by_territory:
        s = CustomerSummary
        level = func.coalesce(func.nullif(s.risk_level, ""), NOT_SCORED).label("level")
        band = func.coalesce(func.nullif(s.health_band, ""), NOT_SCORED).label("band")
        return list(session.execute(
            select(level, band, func.sum(s.active_customers), func.coalesce(func.sum(s.mrr_usd), 0))
            .where(*_summary_groups(filters), s.active_customers > 0).group_by(level, band)).all())
    level = func.coalesce(Customer360.risk_level, NOT_SCORED).label("level")
    band = _health_band(Customer360.health_score).label("band")
    return list(session.execute(select(level, band, func.count(), func.coalesce(func.sum(Customer360.mrr_usd), 0))
                                .where(*_active_customers(filters)).group_by(level, band)).all())


def risk_distribution(session: Session, filters: MorningCoffeeFilters, policy: MaskPolicy) -> RiskDistribution:
    """Active customers grouped by churn level and health band, split into the two views."""
    rows = _cells(session, filters)
    cells = pd.DataFrame(rows, columns=["churn", "health", "accounts", "mrr_usd"]).astype({"mrr_usd": "float64"})

    def view(dimension: str) -> pd.DataFrame:
        levels = SEGMENT_LEVELS[dimension]
        totals = cells.groupby(dimension)[["accounts", "mrr_usd"]].sum().reindex(levels, fill_value=0)
        frame = totals.reset_index().rename(columns={dimension: "level"}).astype({"accounts": "int64"})
        frame = frame[(frame["level"] != NOT_SCORED) | (frame["accounts"] > 0)].reset_index(drop=True)
        if not policy.view_financials:
            frame["mrr_usd"] = None
        return frame

    scored = session.scalar(select(func.max(ChurnPrediction.scored_at)))
    return RiskDistribution(view(CHURN), view(HEALTH), scored.date() if scored is not None else None)


def parse_segment(raw: Any) -> tuple[str, str] | None:
    """'churn:HIGH' or 'health:Critical' from the URL; None for anything else."""
    if not isinstance(raw, str) or ":" not in raw:
        return None
    dimension, level = raw.split(":", 1)
    return (dimension, level) if level in SEGMENT_LEVELS.get(dimension, ()) else None


def select_segment(current: PageQuery, dimension: str, clicked_label: Any) -> PageQuery | None:
    """The URL state listing the accounts behind a clicked bar; None for a click on nothing."""
    if not isinstance(clicked_label, str) or parse_segment(f"{dimension}:{clicked_label}") is None:
        return None
    return replace(current, segment=f"{dimension}:{clicked_label}")


def segment_label(segment: tuple[str, str]) -> str:
    dimension, level = segment
    if level == NOT_SCORED:
        return f"Not yet scored for {'churn risk' if dimension == CHURN else 'health'}"
    return f"{level.title()} churn risk" if dimension == CHURN else f"Health {level}"


def _segment_condition(segment: tuple[str, str]) -> Any:
    dimension, level = segment
    if dimension == CHURN:
        return Customer360.risk_level.is_(None) if level == NOT_SCORED else Customer360.risk_level == level
    return _health_band(Customer360.health_score) == level


def _mrr_column(policy: MaskPolicy, header: str = "MRR") -> GridColumn:
    return GridColumn("mrr_usd", header, USD if policy.view_financials else BAND)


def segment_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (
        GridColumn("account_name", "Account", ACCOUNT, pinned=True),
        GridColumn("account_id", "Account id"),
        GridColumn("region", "Region"),
        GridColumn("segment", "Segment"),
        _mrr_column(policy),
        GridColumn("churn_risk", "Churn risk", CHIP, score=CHURN),
        GridColumn("health_band", "Health"),
    )


def segment_accounts(session: Session, filters: MorningCoffeeFilters, segment: tuple[str, str], policy: MaskPolicy,
                     limit: int = SEGMENT_ACCOUNTS_LIMIT) -> tuple[GridRows, int]:
    """The accounts behind one bar of the distribution, largest MRR first (at most `limit`), and
    how many there are in all."""
    condition = [*_active_customers(filters), _segment_condition(segment)]
    total = int(session.scalar(select(func.count()).select_from(Customer360).where(*condition)) or 0)
    rows = session.execute(
        select(Customer360.account_id, Customer360.account_name, Customer360.region, Customer360.segment,
               Customer360.mrr_usd, Customer360.risk_level, _health_band(Customer360.health_score))
        .where(*condition).order_by(Customer360.mrr_usd.desc(), Customer360.account_id).limit(limit)).all()
    records = [{"account_name": r.account_name, "account_id": r.account_id, "region": r.region, "segment": r.segment,
                "mrr_usd": mask_value("mrr_usd", float(r.mrr_usd), policy), "churn_risk": r.risk_level,
                "health_band": r[6]} for r in rows]
    return GridRows(segment_columns(policy), records, key_field="account_name"), total


# --- The accounts most at risk ---------------------------------------------------------------


def at_risk_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (
        GridColumn("rank", "#", COUNT),
        GridColumn("account_name", "Account", ACCOUNT, pinned=True),
        GridColumn("churn_risk", "Churn risk", CHIP, score=CHURN),
        GridColumn("churn_score", "Score", COUNT),
        GridColumn("top_reason", "Top reason", TEXT),
        _mrr_column(policy, "MRR at stake"),
        GridColumn("days_to_renewal", "Days to renewal", COUNT),
        GridColumn("account_id", "Account id"),
    )


def at_risk_accounts(session: Session, filters: MorningCoffeeFilters, policy: MaskPolicy, *, as_of: date,
                     limit: int = AT_RISK_LIMIT) -> GridRows:
    """The `limit` active customers with the highest churn scores, highest first (ties: the larger
    MRR, then the id); days to renewal count from `as_of`, the last day of data."""
    ranked = (select(Customer360.account_id, Customer360.account_name, Customer360.mrr_usd,
                     Customer360.risk_level, Customer360.churn_risk_score)
              .where(*_active_customers(filters), Customer360.churn_risk_score.is_not(None))
              .order_by(Customer360.churn_risk_score.desc(), Customer360.mrr_usd.desc(), Customer360.account_id)
              .limit(limit).subquery("ranked"))
    rows = session.execute(
        select(ranked, ChurnPrediction.contributing_factors, AccountBook.next_renewal_date)
        .outerjoin(ChurnPrediction, ChurnPrediction.account_id == ranked.c.account_id)
        .outerjoin(AccountBook, AccountBook.account_id == ranked.c.account_id)
        .order_by(ranked.c.churn_risk_score.desc(), ranked.c.mrr_usd.desc(), ranked.c.account_id)).all()
    records = [{"rank": rank, "account_name": r.account_name, "churn_risk": r.risk_level,
                "churn_score": round(float(r.churn_risk_score)), "top_reason": top_reason(r.contributing_factors),
                "mrr_usd": mask_value("mrr_usd", float(r.mrr_usd), policy),
                "days_to_renewal": (r.next_renewal_date - as_of).days if r.next_renewal_date else None,
                "account_id": r.account_id}
               for rank, r in enumerate(rows, start=1)]
    return GridRows(at_risk_columns(policy), records, key_field="account_name")


# --- MRR forecast ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MrrForecast:
    """Month-end MRR ahead of the trend's last point, or why none is shown (`note`)."""

    points: pd.DataFrame  # day (month end), mean, lower80, upper80, lower95, upper95
    model_name: str | None = None
    backtest_mase: float | None = None
    note: str | None = None

    @property
    def shown(self) -> bool:
        return not self.points.empty


FORECAST_COLUMNS = ["day", "mean", "lower80", "upper80", "lower95", "upper95"]


def _no_forecast(note: str) -> MrrForecast:
    return MrrForecast(pd.DataFrame(columns=FORECAST_COLUMNS), note=note)


def mrr_forecast(session: Session, filters: MorningCoffeeFilters, *, last_day: date,
                 months: int = FORECAST_MONTHS) -> MrrForecast:
    """The next `months` month-ends of the stored MRR forecast: the daily company series at its
    month-end days, or the selected region's monthly series. Shown only when the trend ends in the
    month of the forecast's last actual day (`last_day`), which the forecast continues."""
    if not filters.scope.unrestricted:
        return _no_forecast("The forecast is kept company-wide and per region; your view is limited to "
                            "your territories.")
    if len(filters.regions) > 1:
        return _no_forecast("A forecast is kept for all regions and for each region: pick one region, or none.")
    key = _region_series(filters.regions[0]) if filters.regions else TOTAL_MRR_SERIES
    series = session.get(ForecastSeries, key)
    if series is None:
        return _no_forecast("No forecast yet: the forecast job has not run on this data.")
    if (filters.end.year, filters.end.month) != (last_day.year, last_day.month):
        return _no_forecast(f"The forecast starts from the latest data, {format_day(last_day)}: "
                            "it is drawn when the period ends in that month.")
    stored = pd.DataFrame(session.execute(
        select(Forecast.period_start, Forecast.mean, Forecast.lower80, Forecast.upper80, Forecast.lower95,
               Forecast.upper95).where(Forecast.series_key == key).order_by(Forecast.period_start)).all(),
        columns=FORECAST_COLUMNS)
    if series.grain == "day":
        month_ends = {_month_end(last_day + pd.DateOffset(months=step)) for step in range(months + 1)} - {last_day}
        points = stored[stored["day"].isin(month_ends) & (stored["day"] > last_day)]
    else:  # a month's row holds its month-end figure
        points = stored.assign(day=[_month_end(d) for d in stored["day"]])
        points = points[points["day"] > _month_end(last_day)]
    points = points.head(months).reset_index(drop=True)
    if points.empty:
        return _no_forecast("The stored forecast does not reach the next month end.")
    return MrrForecast(points, series.model_name, series.backtest_mase)


# --- Why MRR moved ----------------------------------------------------------------------------

MOVEMENT_PARTS = ("new", "expansion", "contraction", "churn", "fx")


@dataclass(frozen=True)
class MrrMovement:
    """MRR from `start` to `end` in parts (new, expansion, contraction, churn, FX; they add up), read
    from the KPI-driver job's breakdown of that window, or why none is shown (`note`). `exact` is
    False when the stored window nearest the chosen period is shown instead of the period itself."""

    start: date | None = None
    end: date | None = None
    start_mrr: float = 0.0
    parts: dict[str, float] | None = None
    end_mrr: float = 0.0
    exact: bool = True
    note: str | None = None

    @property
    def shown(self) -> bool:
        return self.parts is not None


def _overlap(window: tuple[date, date], wanted: tuple[date, date]) -> float:
    """Shared days over the days of either: 1 for the same window, 0 for disjoint ones."""
    shared = (min(window[1], wanted[1]) - max(window[0], wanted[0])).days
    union = (max(window[1], wanted[1]) - min(window[0], wanted[0])).days
    return max(shared, 0) / union if union > 0 else 1.0


def mrr_movement(session: Session, filters: MorningCoffeeFilters) -> MrrMovement:
    """The stored MRR breakdown of the chosen period (from the day before its start to its end), in
    the selected regions: the job's exact window when it keeps one, else the stored window that
    overlaps the period most, said so. Region figures only for a company-wide scope."""
    if not filters.company_wide:
        return MrrMovement(note="Kept by region only: your view is limited to your territories.")
    windows = session.execute(select(KpiDriver.period_start, KpiDriver.period_end).distinct()
                              .where(KpiDriver.kpi == "mrr_usd")).all()
    if not windows:
        return MrrMovement(note="No breakdown yet: the KPI-driver job has not run on this data.")
    wanted = (filters.day_before_start, filters.end)
    start, end = max(((w.period_start, w.period_end) for w in windows), key=lambda w: (_overlap(w, wanted), w[1]))
    dimension = (KpiDriver.dimension == "region") & KpiDriver.member.in_(filters.regions) if filters.regions \
        else (KpiDriver.dimension == "total")
    rows = session.execute(select(KpiDriver.component, func.sum(KpiDriver.figure))
                           .where(KpiDriver.kpi == "mrr_usd", KpiDriver.period_start == start,
                                  KpiDriver.period_end == end, dimension)
                           .group_by(KpiDriver.component)).all()
    figures = {component: float(value or 0) for component, value in rows}
    if "start" not in figures:
        return MrrMovement(start, end, note="No MRR in the selected regions in this period.")
    return MrrMovement(start, end, figures["start"], {part: figures.get(part, 0.0) for part in MOVEMENT_PARTS},
                       figures.get("end", 0.0), exact=(start, end) == wanted)


def movement_for_page(session: Session, query: PageQuery, scope: DataScope) -> MrrMovement | None:
    """The MRR breakdown for the URL state (None when gold is empty or the selection matches nothing)."""
    resolved = resolve_page(session, query, scope)
    if resolved is None or resolved.selects_nothing:
        return None
    return mrr_movement(session, resolved.filters)


# --- Headline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """Three or four findings in plain words, most important first; empty when nothing can be said."""

    findings: tuple[str, ...]


def _signed_percent(value: float) -> str:
    return f"{value:+.1f} %".replace("+0.0 %", "0.0 %")


def _mrr_finding(session: Session, filters: MorningCoffeeFilters, first_day: date) -> str | None:
    """MRR on the end date against a month earlier, and the region whose change was largest in the
    same direction."""
    month_ago = max((pd.Timestamp(filters.end) - pd.DateOffset(months=1)).date(), first_day)
    if month_ago >= filters.end:
        return None
    table, in_scope = _kpi_source(filters)
    rows = session.execute(select(table.region, func.sum(table.mrr_usd).filter(table.day == filters.end),
                                  func.sum(table.mrr_usd).filter(table.day == month_ago))
                           .where(table.day.in_([filters.end, month_ago]), _in_regions(table.region, filters.regions),
                                  in_scope).group_by(table.region)).all()
    frame = pd.DataFrame(rows, columns=["region", "now", "before"]).fillna(0).astype({"now": "float64",
                                                                                        "before": "float64"})
    now, before = float(frame["now"].sum()), float(frame["before"].sum())
    change = percent_change(now, before)
    if change is None:
        return None
    text = f"MRR {_signed_percent(change)} vs {format_day(month_ago)} ({format_usd(now)})"
    frame["delta"] = frame["now"] - frame["before"]
    moved = frame[frame["delta"] * (now - before) > 0]
    if len(frame) > 1 and not moved.empty:
        lead = moved.loc[moved["delta"].abs().idxmax()]
        sign = "+" if lead["delta"] > 0 else ""
        text += f", most of the {'rise' if now > before else 'fall'} in {lead['region']} ({sign}{format_usd(lead['delta'])})"
    return text


def _newly_high(session: Session, filters: MorningCoffeeFilters) -> tuple[int, int]:
    """(active customers moved up into HIGH churn risk at the last scoring, HIGH ones in all): from
    the per-territory sums, or, for a scope naming accounts by themselves, from the customers."""
    if filters.scope.served_by_territory:
        s = CustomerSummary
        moved, high = session.execute(
            select(func.sum(s.newly_high_customers), func.sum(s.active_customers).filter(s.risk_level == "HIGH"))
            .where(*_summary_groups(filters))).one()
        return int(moved or 0), int(high or 0)
    newly_high = select(ChurnPrediction.account_id).where(
        ChurnPrediction.risk_level == "HIGH", ChurnPrediction.previous_churn_risk_score < HIGH_RISK_MIN_SCORE)
    moved = session.scalar(select(func.count()).select_from(Customer360)
                           .where(*_active_customers(filters), Customer360.account_id.in_(newly_high)))
    if not moved:  # the second count is not needed
        return 0, 0
    high = session.scalar(select(func.count()).select_from(Customer360)
                          .where(*_active_customers(filters), Customer360.risk_level == "HIGH"))
    return int(moved), int(high or 0)


def _risk_finding(session: Session, filters: MorningCoffeeFilters) -> str | None:
    """Active customers whose last scoring moved them up into HIGH churn risk."""
    moved, high = _newly_high(session, filters)
    if not moved:  # nothing new to say (or nothing scored yet)
        return None
    return (f"{format_count(moved)} account{'s' if moved != 1 else ''} moved to HIGH churn risk at the last scoring "
            f"({format_count(high)} HIGH in all)")


def _sla_compliance(session: Session, filters: MorningCoffeeFilters, start: date, end: date) -> float | None:
    met, breached = session.execute(
        select(func.sum(SupportDaily.sla_met), func.sum(SupportDaily.sla_breached))
        .where(SupportDaily.day.between(start, end), _in_regions(SupportDaily.region, filters.regions))).one()
    judged = (met or 0) + (breached or 0)
    return 100.0 * (met or 0) / judged if judged else None


def _sla_finding(session: Session, filters: MorningCoffeeFilters) -> str | None:
    """SLA compliance (tickets meeting their SLA / tickets judged) in the period against the previous
    one; company-wide figures only."""
    if not filters.company_wide:
        return None
    now = _sla_compliance(session, filters, filters.start, filters.end)
    before = _sla_compliance(session, filters, filters.previous.start, filters.previous.end)
    if now is None:
        return None
    if before is None:
        return f"SLA compliance {now:.0f} %"
    points = now - before
    direction = "steady" if round(points) == 0 else ("up" if points > 0 else "down")
    moved = "" if direction == "steady" else f" {abs(points):.0f} point{'s' if round(abs(points)) != 1 else ''}"
    return f"SLA compliance {direction}{moved} ({now:.0f} % vs {before:.0f} %)"


def headline(session: Session, filters: MorningCoffeeFilters, policy: MaskPolicy, *, first_day: date) -> Headline:
    """The findings, by rule: MRR against a month earlier and the region moving it most (with the
    financials permission), accounts newly at HIGH churn risk, and SLA compliance against the
    previous period (company-wide)."""
    findings = [
        _mrr_finding(session, filters, first_day) if policy.view_financials else None,
        _risk_finding(session, filters),
        _sla_finding(session, filters),
    ]
    return Headline(tuple(f for f in findings if f))


# --- One result per panel: each is its own callback, so the three load side by side --------


@dataclass(frozen=True)
class PageRisk:
    """The risk distribution, and the accounts behind the bar the URL chose (`segment`)."""

    distribution: RiskDistribution
    segment: tuple[str, str] | None = None
    segment_rows: GridRows | None = None
    segment_total: int = 0


def page_headline(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> Headline | None:
    """Today's headline for the URL state; None when gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return None
    if resolved.selects_nothing:
        return Headline(())
    return headline(session, resolved.filters, policy, first_day=resolved.bounds.first)


def page_risk(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageRisk | None:
    """The risk distribution and the accounts behind the chosen bar for the URL state; None when
    gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return None
    segment = parse_segment(query.segment)
    if resolved.selects_nothing:
        nothing = pd.DataFrame(columns=["level", "accounts", "mrr_usd"])
        return PageRisk(RiskDistribution(nothing, nothing, None), segment)
    rows, total = segment_accounts(session, resolved.filters, segment, policy) if segment else (None, 0)
    return PageRisk(risk_distribution(session, resolved.filters, policy), segment, rows, total)


def page_at_risk(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> GridRows | None:
    """The accounts most at risk for the URL state; None when gold is empty."""
    resolved = resolve_page(session, query, scope)
    if resolved is None:
        return None
    if resolved.selects_nothing:
        return GridRows(at_risk_columns(policy), [], "account_name")
    return at_risk_accounts(session, resolved.filters, policy, as_of=resolved.bounds.last)


def export_at_risk(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The accounts-most-at-risk grid for the page's query string, as the page shows it."""
    rows = page_at_risk(session, PageQuery.from_args(args), scope, policy=policy)
    return rows if rows is not None else GridRows(at_risk_columns(policy), [], "account_name")


def export_segment_accounts(session: Session, args: Mapping[str, Any], scope: DataScope,
                            policy: MaskPolicy) -> GridRows:
    """The accounts behind the chosen distribution bar (`segment` in the query string)."""
    risk = page_risk(session, PageQuery.from_args(args), scope, policy=policy)
    if risk is None or risk.segment_rows is None:
        return GridRows(segment_columns(policy), [], "account_name")
    return risk.segment_rows


def forecast_for_page(session: Session, query: PageQuery, scope: DataScope) -> MrrForecast | None:
    """The MRR forecast for the URL state (None when gold is empty)."""
    resolved = resolve_page(session, query, scope)
    if resolved is None or resolved.selects_nothing:
        return None
    return mrr_forecast(session, resolved.filters, last_day=resolved.bounds.last)


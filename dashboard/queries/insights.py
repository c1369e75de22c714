"""Queries for forecasts, account anomalies and KPI drivers, read from gold only.

Forecasts and KPI drivers are company- or region-wide figures: a user restricted to some
territories or accounts gets none of them (None / empty), as on the Morning Coffee page.
Anomalies are per customer and filtered by the user's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360
from dashboard.tables.insights import AccountAnomaly, Forecast, ForecastActual, ForecastSeries, KpiDriver

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class ForecastChart:
    """One series: its description, history (period_start, value) and forecast
    (period_start, horizon_step, mean, lower80, upper80, lower95, upper95)."""

    series: ForecastSeries
    actuals: pd.DataFrame
    forecast: pd.DataFrame


def forecast_series_list(session: Session, scope: DataScope) -> list[ForecastSeries]:
    """Every stored forecast series, by metric, then total before regions."""
    if not scope.unrestricted:
        return []
    stmt = select(ForecastSeries).order_by(ForecastSeries.metric, ForecastSeries.dimension != "total",
                                           ForecastSeries.member)
    return list(session.scalars(stmt))


def forecast_chart(session: Session, series_key: str, scope: DataScope, *,
                   history_periods: int | None = None) -> ForecastChart | None:
    """A series' actuals (the last `history_periods`, default all) and forecast; None if unknown."""
    if not scope.unrestricted:
        return None
    series = session.get(ForecastSeries, series_key)
    if series is None:
        return None
    actual_stmt = (select(ForecastActual.period_start, ForecastActual.actual)
                   .where(ForecastActual.series_key == series_key)
                   .order_by(ForecastActual.period_start.desc()))
    if history_periods:
        actual_stmt = actual_stmt.limit(history_periods)
    actuals = pd.DataFrame(session.execute(actual_stmt).all(), columns=["period_start", "value"])
    actuals = actuals.sort_values("period_start", ignore_index=True)
    columns = ["period_start", "horizon_step", "mean", "lower80", "upper80", "lower95", "upper95"]
    forecast = pd.DataFrame(session.execute(
        select(*(getattr(Forecast, c) for c in columns)).where(Forecast.series_key == series_key)
        .order_by(Forecast.period_start)).all(), columns=columns)
    return ForecastChart(series, actuals, forecast)


def account_anomalies(session: Session, scope: DataScope, *, account_id: str | None = None,
                      since: date | None = None, severities: tuple[str, ...] = (), limit: int = 200) -> pd.DataFrame:
    """Anomalies in the user's scope, most severe and most recent first, with the customer's name.

    Columns: anomaly_id, account_id, account_name, metric, kind, detected_on, observed, baseline,
    change_pct, severity, description.
    """
    stmt = (select(AccountAnomaly.anomaly_id, AccountAnomaly.account_id, Customer360.account_name,
                   AccountAnomaly.metric, AccountAnomaly.kind, AccountAnomaly.detected_on, AccountAnomaly.observed,
                   AccountAnomaly.baseline, AccountAnomaly.change_pct, AccountAnomaly.severity,
                   AccountAnomaly.description)
            .join(Customer360, Customer360.account_id == AccountAnomaly.account_id)
            .where(scope.customer_filter()))
    if account_id is not None:
        stmt = stmt.where(AccountAnomaly.account_id == account_id)
    if since is not None:
        stmt = stmt.where(AccountAnomaly.detected_on >= since)
    if severities:
        stmt = stmt.where(AccountAnomaly.severity.in_(severities))
    severity_rank = case(SEVERITY_ORDER, value=AccountAnomaly.severity, else_=len(SEVERITY_ORDER))
    stmt = stmt.order_by(severity_rank, AccountAnomaly.detected_on.desc(), AccountAnomaly.account_id).limit(limit)
    rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=["anomaly_id", "account_id", "account_name", "metric", "kind", "detected_on",
                                       "observed", "baseline", "change_pct", "severity", "description"])


@dataclass(frozen=True)
class KpiDriverBreakdown:
    """One KPI's change over a window: total components, the split by dimension and top accounts.

    components: component -> value for the whole company ('start', ..., 'end');
    by_dimension: dimension, member, component, value (region, segment, channel splits);
    top_accounts: rank, account_id, account_name, component, change (MRR only; else empty).
    """

    kpi: str
    period_start: date
    period_end: date
    components: dict[str, float]
    by_dimension: pd.DataFrame
    top_accounts: pd.DataFrame


def kpi_drivers(session: Session, kpi: str, *, period_days: int = 30,
                scope: DataScope) -> KpiDriverBreakdown | None:
    """The stored breakdown of `kpi` (mrr_usd, active_customers, reply_rate) over the last `period_days`."""
    if not scope.unrestricted:
        return None
    period_end = session.scalar(select(func.max(KpiDriver.period_end)).where(KpiDriver.kpi == kpi))
    if period_end is None:
        return None
    period_start = period_end - timedelta(days=period_days)
    rows = session.scalars(select(KpiDriver).where(KpiDriver.kpi == kpi, KpiDriver.period_start == period_start,
                                                    KpiDriver.period_end == period_end)).all()
    if not rows:
        return None
    components = {r.component: r.figure for r in rows if r.dimension == "total"}
    by_dimension = pd.DataFrame([(r.dimension, r.member, r.component, r.figure) for r in rows
                                 if r.dimension not in ("total", "account")],
                                columns=["dimension", "member", "component", "value"])
    top = sorted((r for r in rows if r.dimension == "account"), key=lambda r: r.rank or 0)
    top_accounts = pd.DataFrame([(r.rank, r.member, r.label, r.component, r.figure) for r in top],
                                columns=["rank", "account_id", "account_name", "component", "change"])
    return KpiDriverBreakdown(kpi, period_start, period_end, components,
                              by_dimension.sort_values(["dimension", "member", "component"], ignore_index=True),
                              top_accounts)

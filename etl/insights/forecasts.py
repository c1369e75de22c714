"""Nightly forecasts (job "forecasts"): MRR, revenue, weighted pipeline, won bookings, ticket volume and
campaign replies.

Each series is read from gold with one set-based query (complete calendars, zero-filled), then
`models.forecast.forecast_series` picks a model by backtest and forecasts it with 80%/95%
intervals. Results replace gold.forecast_series, gold.forecast and gold.forecast_actual in one
transaction, so pages never see half a run.

Series (key = "<metric>:<dimension>:<member>"):
- mrr_usd, daily total (gold.daily_kpi) for 90 days, and monthly per region
  (gold.regional_monthly, month-end MRR; the as-of month at its as-of value) for 12 months;
- invoiced_usd (revenue), monthly total and per region for 12 months; only complete months,
  since a month's invoicing is a flow and the as-of month is not over;
- pipeline_weighted_usd: deals' amount x probability by month of (expected) close, all stages
  (gold.pipeline_monthly), months up to the as-of month, for 6 months;
- bookings_usd: won bookings, the USD amount of the deals closed and won (gold.sales_opportunity) by
  close month, for the company, each region and each territory, for 3 months; complete months only,
  each member's calendar zero-filled from its first won month. Territories are keyed by region and
  territory ("<region>/<territory>"): the CRM keeps an account's region and territory apart, so a
  territory name (at least 'Unknown') may appear in more than one region;
- bookings_usd_last_quarter: the same series forecast from their history before the previous
  quarter (the data's quarter minus one), for 3 months: that quarter's months, so the Sales page
  can set what was forecast for last quarter against what was booked;
- tickets_opened: daily total (gold.support_daily) for 28 days;
- replies: campaign replies by send day (gold.campaign_daily) for 28 days. The latest days
  undercount a little, since replies to recent sends may still arrive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import delete, insert, text

from dashboard.db import Database
from dashboard.tables.insights import Forecast, ForecastActual, ForecastSeries
from etl.gold import data_window
from etl.runs import recorded_run
from models.forecast import forecast_series

log = logging.getLogger(__name__)
JOB_ID = "forecasts"


@dataclass(frozen=True)
class SeriesFamily:
    """A group of series read by one query returning (dimension, member, period_start, value)."""

    name: str
    metric: str
    label: str
    grain: str  # day or month
    horizon: int
    sql: str


_DAYS = "generate_series(CAST(:first_day AS date), CAST(:as_of AS date), interval '1 day')"

# Bookings older than this add little to a 3-month forecast and make every model slower to fit.
BOOKINGS_HISTORY_MONTHS = 48


def _bookings_sql(history_end: str) -> str:
    """Won bookings (USD) by close month before `history_end` (a SQL date, a month's first day) over the
    last BOOKINGS_HISTORY_MONTHS: total, per region and per region/territory, each zero-filled from its
    first won month."""
    return f"""
        WITH bounds AS (
            SELECT {history_end} AS history_end,
                   CAST({history_end} - interval '{BOOKINGS_HISTORY_MONTHS} months' AS date) AS history_start
        ), won AS (
            SELECT o.region, o.territory, CAST(date_trunc('month', o.close_date) AS date) AS month, o.amount_usd
            FROM gold.sales_opportunity o CROSS JOIN bounds b
            WHERE o.is_won AND o.close_date >= b.history_start AND o.close_date < b.history_end
        ), booked AS (
            SELECT 'total' AS dimension, 'All' AS member, month, amount_usd FROM won
            UNION ALL SELECT 'region', region, month, amount_usd FROM won
            UNION ALL SELECT 'territory', region || '/' || territory, month, amount_usd FROM won
        ), by_month AS (
            SELECT dimension, member, month, sum(amount_usd) AS amount_usd FROM booked GROUP BY 1, 2, 3
        ), members AS (
            SELECT dimension, member, min(month) AS first_month FROM by_month GROUP BY 1, 2
        )
        SELECT m.dimension, m.member, CAST(c AS date), COALESCE(x.amount_usd, 0)
        FROM members m CROSS JOIN bounds b
        CROSS JOIN LATERAL generate_series(m.first_month, b.history_end - interval '1 month', interval '1 month') AS c
        LEFT JOIN by_month x ON x.dimension = m.dimension AND x.member = m.member AND x.month = CAST(c AS date)"""


# The first day of the first incomplete month: the as-of month's, or the next one's on its last day.
_COMPLETE_MONTHS_END = "CAST(date_trunc('month', CAST(:as_of AS date) + 1) AS date)"
# The first day of the quarter before the as-of quarter.
_LAST_QUARTER_START = "CAST(date_trunc('quarter', CAST(:as_of AS date)) - interval '3 months' AS date)"
BOOKINGS_HORIZON = 3
FAMILIES: tuple[SeriesFamily, ...] = (
    SeriesFamily("mrr_daily", "mrr_usd", "MRR (USD)", "day", 90, f"""
        SELECT 'total' AS dimension, 'All' AS member, CAST(d AS date) AS period_start,
               COALESCE(sum(k.mrr_usd), 0) AS value
        FROM {_DAYS} AS d LEFT JOIN gold.daily_kpi k ON k.day = CAST(d AS date)
        GROUP BY 3"""),
    SeriesFamily("mrr_region", "mrr_usd", "MRR (USD)", "month", 12, """
        SELECT 'region', region, month, mrr_usd FROM gold.regional_monthly"""),
    SeriesFamily("revenue_monthly", "invoiced_usd", "Revenue invoiced (USD)", "month", 12, """
        WITH complete AS (
            SELECT region, month, invoiced_usd FROM gold.regional_monthly
            WHERE month + interval '1 month' <= CAST(:as_of AS date) + 1
        )
        SELECT 'total', 'All', month, sum(invoiced_usd) FROM complete GROUP BY month
        UNION ALL
        SELECT 'region', region, month, invoiced_usd FROM complete"""),
    SeriesFamily("pipeline", "pipeline_weighted_usd", "Weighted pipeline by close month (USD)", "month", 6, """
        SELECT 'total', 'All', month, sum(weighted_amount_usd) FROM gold.pipeline_monthly
        WHERE month <= CAST(date_trunc('month', CAST(:as_of AS date)) AS date)
        GROUP BY month"""),
    SeriesFamily("bookings_monthly", "bookings_usd", "Won bookings (USD)", "month", BOOKINGS_HORIZON,
                 _bookings_sql(_COMPLETE_MONTHS_END)),
    SeriesFamily("bookings_last_quarter", "bookings_usd_last_quarter", "Won bookings forecast for last quarter (USD)",
                 "month", BOOKINGS_HORIZON, _bookings_sql(_LAST_QUARTER_START)),
    SeriesFamily("tickets_daily", "tickets_opened", "Tickets opened", "day", 28, f"""
        SELECT 'total', 'All', CAST(d AS date), COALESCE(sum(s.tickets_opened), 0)
        FROM {_DAYS} AS d LEFT JOIN gold.support_daily s ON s.day = CAST(d AS date)
        GROUP BY 3"""),
    SeriesFamily("replies_daily", "replies", "Campaign replies", "day", 28, f"""
        SELECT 'total', 'All', CAST(d AS date), COALESCE(sum(c.replied), 0)
        FROM {_DAYS} AS d LEFT JOIN gold.campaign_daily c ON c.day = CAST(d AS date)
        GROUP BY 3"""),
)
FREQ = {"day": "D", "month": "MS"}


@dataclass(frozen=True)
class ForecastRunResult:
    series: int
    forecast_rows: int
    seconds: float
    models: dict[str, str]  # series_key -> model chosen

    def describe(self) -> str:
        return f"Forecast {self.series} series ({self.forecast_rows:,} future periods) in {self.seconds:.1f}s."


def load_series(database: Database, families: Iterable[SeriesFamily] = FAMILIES) -> dict[tuple[str, str], pd.Series]:
    """(family name, series key) -> its regular history, read from gold."""
    out: dict[tuple[str, str], pd.Series] = {}
    with database.engine.connect() as conn:
        window = data_window(conn)
        params = {"first_day": window.first_day, "as_of": window.as_of}
        for family in families:
            rows = pd.DataFrame(conn.execute(text(family.sql), params).all(),
                                columns=["dimension", "member", "period_start", "value"])
            for (dimension, member), group in rows.groupby(["dimension", "member"], sort=True):
                group = group.sort_values("period_start")
                values = pd.Series(pd.to_numeric(group["value"]).astype(float).to_numpy(),
                                   index=pd.DatetimeIndex(pd.to_datetime(group["period_start"])))
                # On the family's full calendar (freq set): missing periods become gaps the model fills.
                calendar = pd.date_range(values.index[0], values.index[-1], freq=FREQ[family.grain])
                out[(family.name, f"{family.metric}:{dimension}:{member}")] = values.reindex(calendar)
    return out


def run_forecasts(database: Database, *, triggered_by: str = "manual",
                  families: Iterable[str] | None = None) -> ForecastRunResult:
    """Forecast every series (or the named families) and replace the stored forecasts."""
    started = time.monotonic()
    chosen = [f for f in FAMILIES if families is None or f.name in set(families)]
    unknown = set(families or ()) - {f.name for f in FAMILIES}
    if unknown:
        raise ValueError(f"unknown forecast families: {sorted(unknown)}")
    by_name = {f.name: f for f in chosen}
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
        generated_at = datetime.now(UTC)
        histories = load_series(database, chosen)
        series_rows, forecast_rows, actual_rows, models = [], [], [], {}
        for (family_name, key), history in histories.items():
            family = by_name[family_name]
            if history.notna().sum() == 0:
                continue
            result = forecast_series(history, family.horizon)
            _, dimension, member = key.split(":", 2)
            mase = None if pd.isna(result.backtest_mase) else float(result.backtest_mase)
            models[key] = result.model_name
            series_rows.append({
                "series_key": key, "metric": family.metric, "grain": family.grain, "dimension": dimension,
                "member": member, "label": family.label if member == "All" else f"{family.label}, {member}",
                "model_name": result.model_name, "backtest_mase": mase, "season_length": result.season_length,
                "history_points": int(history.notna().sum()), "last_actual_period": history.index[-1].date(),
                "generated_at": generated_at})
            frame = result.to_frame()
            for step, (period, row) in enumerate(frame.iterrows(), start=1):
                forecast_rows.append({"series_key": key, "period_start": period.date(), "horizon_step": step,
                                      **{c: float(row[c]) for c in frame.columns},
                                      "model_name": result.model_name, "backtest_mase": mase,
                                      "generated_at": generated_at})
            actual_rows += [{"series_key": key, "period_start": period.date(), "actual": float(value)}
                            for period, value in history.dropna().items()]
            log.info("forecast %s: %s, backtest MASE %s", key, result.model_name, mase)
        with database.begin() as session:
            keys = [row["series_key"] for row in series_rows]
            # A full run replaces everything (series that disappeared go too); a partial one its own series.
            for table in (Forecast, ForecastActual, ForecastSeries):
                statement = delete(table)
                if families is not None:
                    statement = statement.where(table.series_key.in_(keys))
                session.execute(statement)
            for table, rows in ((ForecastSeries, series_rows), (Forecast, forecast_rows),
                                (ForecastActual, actual_rows)):
                if rows:
                    session.execute(insert(table), rows)
        recorder.add_rows("gold.forecast_series", len(series_rows))
        recorder.add_rows("gold.forecast", len(forecast_rows))
        recorder.add_rows("gold.forecast_actual", len(actual_rows))
    return ForecastRunResult(len(series_rows), len(forecast_rows), time.monotonic() - started, models)

"""Gold stage: the small per-day and per-customer tables the pages read.

Each gold table is filled by one SQL file in this folder, run in the order of GOLD_STEPS,
all in one transaction: a failed run leaves the previous gold tables as they were. The SQL
gets two parameters: `:first_day` and `:as_of`, the first and last day of FX rates in
silver (the data window; as-of is the last day of data). To add a gold table: its ORM class
in dashboard/tables/gold.py, a migration, `<table>.sql` here and a line in GOLD_STEPS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection, text

from dashboard.tables import gold
from etl.sources.base import get_watermark, set_watermark
from etl.steps import SqlStep, Step, run_steps

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent


class NoDataWindow(RuntimeError):
    """Silver has no FX rates, so there is no as-of day and no way to convert to USD."""


@dataclass(frozen=True)
class DataWindow:
    """The days gold covers: the first and last FX rate day."""

    first_day: date
    as_of: date


GOLD_STEPS: tuple[Step, ...] = (
    SqlStep(gold.DailyKpiTerritory, SQL_DIR / "daily_kpi_territory.sql", since_column="day"),
    SqlStep(gold.DailyKpi, SQL_DIR / "daily_kpi.sql", since_column="day"),  # rolls up daily_kpi_territory
    SqlStep(gold.LeadsDaily, SQL_DIR / "leads_daily.sql", since_column="day"),
    SqlStep(gold.Campaign, SQL_DIR / "campaign.sql"),
    SqlStep(gold.CampaignDaily, SQL_DIR / "campaign_daily.sql", since_column="day"),
    SqlStep(gold.SupportDaily, SQL_DIR / "support_daily.sql", since_column="day"),
    SqlStep(gold.Customer360, SQL_DIR / "customer_360.sql"),
    SqlStep(gold.PipelineMonthly, SQL_DIR / "pipeline_monthly.sql"),
    SqlStep(gold.SupportHourly, SQL_DIR / "support_hourly.sql", since_column="day"),
    SqlStep(gold.CampaignHourly, SQL_DIR / "campaign_hourly.sql", since_column="sent_hour"),
    SqlStep(gold.BillingAgeing, SQL_DIR / "billing_ageing.sql"),
    SqlStep(gold.RegionalMonthly, SQL_DIR / "regional_monthly.sql"),  # reads gold.daily_kpi
    SqlStep(gold.TimelineEvent, SQL_DIR / "timeline_events.sql"),
)

# Gold tables the intelligence jobs write rather than this stage; customer_360 reads them.
WRITTEN_BY_JOBS: tuple[str, ...] = ("gold.account_scores",)


def data_window(conn: Connection) -> DataWindow:
    """First and last FX rate day in silver; NoDataWindow if there are no rates."""
    first_day, as_of = conn.execute(text("SELECT min(rate_date), max(rate_date) FROM silver.fx_rates")).one()
    if first_day is None or as_of is None:
        raise NoDataWindow("silver.fx_rates is empty: no as-of day and no USD rates, so gold cannot be built "
                           "(is billing/fx_rates*.csv in the landing folder?)")
    return DataWindow(first_day, as_of)


PENDING = ("gold", "pending_since")  # app.source_watermark source and dataset


def mark_gold_pending(conn: Connection, since_day: date | None) -> None:
    """Record, in silver's transaction, that gold must be refreshed from `since_day` on (kept at
    the earliest pending day until a gold build commits, so a killed gold run is redone)."""
    if since_day is None:
        return
    pending = pending_since(conn)
    set_watermark(conn, *PENDING, min(since_day, pending or since_day).isoformat())


def pending_since(conn: Connection) -> date | None:
    """The earliest day gold must be refreshed from; None when gold is up to date."""
    value = get_watermark(conn, *PENDING)
    return date.fromisoformat(value) if value else None


LAST_AS_OF = ("gold", "as_of")


def _refresh_from(conn: Connection, since: date, window: DataWindow) -> date | None:
    """The first day whose gold rows may differ from the last build's; None for everything.

    Besides the changed records' days (`since`), a new as-of day changes which unanswered
    tickets are past their SLA: those opened up to the longest SLA before the previous as-of.
    """
    last = get_watermark(conn, *LAST_AS_OF)
    if last is None or since <= window.first_day:
        return None
    if date.fromisoformat(last) != window.as_of:
        longest_sla = conn.execute(text("SELECT max(sla_first_response_minutes) FROM silver.tickets")).scalar() or 0
        since = min(since, date.fromisoformat(last) - timedelta(minutes=int(longest_sla)) - timedelta(days=1))
    return since if since > window.first_day else None


def build_gold(conn: Connection, *, full: bool = False) -> tuple[dict[str, int], DataWindow] | None:
    """Refresh gold in the caller's transaction: (rows per table, window), or None when silver
    has not changed since the last build (and not `full`).

    Day tables with a `since_column` replace only their rows from the first day that silver's
    changes touch (recorded by `mark_gold_pending`); the others are rebuilt whole.
    """
    pending = pending_since(conn)
    if pending is None and not full:
        return None
    window = data_window(conn)
    since = None if full or pending is None else _refresh_from(conn, pending, window)
    log.info("gold: data window %s to %s, refreshing %s", window.first_day, window.as_of,
             f"day tables from {since}" if since else "everything")
    params = {"first_day": window.first_day, "as_of": window.as_of}
    rows = run_steps(conn, GOLD_STEPS, params, stage="gold", truncate=False, since=since)
    conn.execute(text("DELETE FROM app.source_watermark WHERE source = :source AND dataset = :dataset"),
                 dict(zip(("source", "dataset"), PENDING, strict=True)))
    set_watermark(conn, *LAST_AS_OF, window.as_of.isoformat())
    return rows, window

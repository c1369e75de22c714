"""Why did the KPI move? (job "kpi_drivers"): MRR, active customers and reply rate over 30 and 90 days.

For each window (period_end = the as-of day, period_start = 30 or 90 days earlier):
- mrr_usd: each customer's (master account's) MRR on both days (gold.subscription_mrr_daily, at
  each day's FX rate), broken down into new, expansion, contraction and churn, in total, by
  region and by segment, plus the ten customers whose MRR moved most (dimension 'account',
  rank 1-10, label = name). FX moves show up as expansion or contraction of the customers
  billed in other currencies;
- active_customers: customers with an active subscription on each day: new, reactivated
  (active at some time before, not on the start day) and churned;
- reply_rate: replies / sends of the 30 days ending on each day (by send day), split into mix
  and rate effects by channel, region and segment (exact midpoint shift-share). Recent sends may
  still get replies, so the latest window can read slightly low.
Rows replace gold.kpi_driver in one transaction. Component names and signs: see models.drivers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import delete, insert, text

from dashboard.db import Database
from dashboard.tables.insights import KpiDriver
from etl.gold import data_window
from etl.runs import recorded_run
from models.drivers import active_customers_bridge, mrr_bridge, rate_shift_share

log = logging.getLogger(__name__)
JOB_ID = "kpi_drivers"
INPUT_JOBS = ("etl", "etl_full_rebuild")
WINDOWS_DAYS = (30, 90)
REPLY_WINDOW_DAYS = 30
TOP_ACCOUNTS = 10
DIMENSIONS = ("region", "segment")

# Per customer on :day: its MRR in USD that day (gold.subscription_mrr_daily: at that day's rate;
# none before the first rate day), whether any subscription counts that day, and whether one
# counted at some time before :day.
CUSTOMERS_ON_DAY_SQL = """
    WITH subs AS (
        SELECT COALESCE(am.master_account_id, m.account_id) AS account_id, m.subscription_id,
               m.active_from < CAST(:day AS date) AS active_before,
               m.active_until IS NULL OR m.active_until > CAST(:day AS date) AS active
        FROM gold.subscription_mrr m
        LEFT JOIN silver.account_master am ON am.account_id = m.account_id
        WHERE m.active_from <= CAST(:day AS date)
    ), on_day AS (
        SELECT subscription_id, mrr_usd FROM gold.subscription_mrr_daily WHERE day = CAST(:day AS date)
    )
    SELECT x.account_id, COALESCE(a.account_name, x.account_id) AS account_name,
           COALESCE(a.region, 'Unknown') AS region, COALESCE(a.account_type, 'Unknown') AS segment,
           round(COALESCE(sum(d.mrr_usd), 0), 2) AS mrr_usd, bool_or(x.active) AS active,
           bool_or(x.active_before) AS active_before
    FROM subs x
    LEFT JOIN on_day d ON d.subscription_id = x.subscription_id
    LEFT JOIN silver.accounts a ON a.account_id = x.account_id
    GROUP BY x.account_id, a.account_name, a.region, a.account_type
"""

# Sends and replies per channel, recipient region and segment in the window ending on :day.
SENDS_SQL = """
    SELECT COALESCE(s.channel, c.channel, 'Unknown') AS channel, COALESCE(a.region, 'Unknown') AS region,
           COALESCE(a.account_type, 'Unknown') AS segment,
           count(*) AS sends, count(s.replied_at) AS replies
    FROM silver.sends s
    LEFT JOIN silver.campaigns c ON c.campaign_id = s.campaign_id
    LEFT JOIN silver.contacts ct ON ct.contact_id = s.contact_id
    LEFT JOIN silver.accounts a ON a.account_id = ct.account_id
    WHERE CAST(s.sent_at AS date) BETWEEN CAST(:day AS date) - :days + 1 AND CAST(:day AS date)
    GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class DriverRunResult:
    as_of: date
    rows: int
    seconds: float

    def describe(self) -> str:
        return f"Wrote {self.rows:,} KPI driver rows for the windows ending {self.as_of} in {self.seconds:.1f}s."


def driver_rows(database: Database) -> tuple[date, pd.DataFrame]:
    """(as-of day, every gold.kpi_driver row but generated_at) for each window."""
    frames = []
    with database.engine.connect() as conn:
        window = data_window(conn)
        as_of = window.as_of

        def customers(day: date) -> pd.DataFrame:
            result = conn.execute(text(CUSTOMERS_ON_DAY_SQL), {"day": day})
            return pd.DataFrame(result.all(), columns=["account_id", "account_name", "region", "segment",
                                                       "mrr_usd", "active", "active_before"])

        def sends(day: date) -> pd.DataFrame:
            result = conn.execute(text(SENDS_SQL), {"day": day, "days": REPLY_WINDOW_DAYS})
            return pd.DataFrame(result.all(), columns=["channel", "region", "segment", "sends", "replies"])

        end_customers, end_sends = customers(as_of), sends(as_of)
        for days in WINDOWS_DAYS:
            start = as_of - timedelta(days=days)
            start_customers = customers(start)
            frames += [_tag(frame, kpi, start, as_of) for kpi, frame in (
                ("mrr_usd", _mrr(start_customers, end_customers)),
                ("active_customers", _active(start_customers, end_customers)),
                ("reply_rate", _reply_rate(sends(start), end_sends)))]
    return as_of, pd.concat(frames, ignore_index=True)


def run_kpi_drivers(database: Database, *, triggered_by: str = "manual") -> DriverRunResult:
    """Break down the 30- and 90-day changes of MRR, active customers and reply rate; replace gold.kpi_driver."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
        as_of, rows = driver_rows(database)
        generated_at = datetime.now(UTC)
        records = [{"kpi": record["kpi"], "period_start": record["period_start"], "period_end": record["period_end"],
                    "dimension": record["dimension"], "member": record["member"], "component": record["component"],
                    "figure": float(record["value"]),
                    "rank": None if pd.isna(record["rank"]) else int(record["rank"]),
                    "label": None if pd.isna(record["label"]) else str(record["label"]),
                    "generated_at": generated_at}
                   for record in rows.to_dict("records")]
        with database.begin() as session:
            session.execute(delete(KpiDriver))
            if records:
                session.execute(insert(KpiDriver), records)
        recorder.add_rows("gold.kpi_driver", len(records))
    return DriverRunResult(as_of, len(records), time.monotonic() - started)


def _tag(frame: pd.DataFrame, kpi: str, start: date, end: date) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "kpi", kpi)
    frame.insert(1, "period_start", start)
    frame.insert(2, "period_end", end)
    for column in ("rank", "label"):
        if column not in frame.columns:
            frame[column] = None
    return frame


def _mrr(start: pd.DataFrame, end: pd.DataFrame) -> pd.DataFrame:
    columns = ["account_id", "mrr_usd", *DIMENSIONS]
    bridge = mrr_bridge(start[columns], end[columns], dimensions=DIMENSIONS)
    names = pd.concat([start, end]).drop_duplicates("account_id", keep="last").set_index("account_id")["account_name"]
    top = bridge.top_accounts(TOP_ACCOUNTS)
    accounts = pd.DataFrame({"dimension": "account", "member": top["account_id"], "component": top["component"],
                             "value": top["change"], "rank": range(1, len(top) + 1),
                             "label": top["account_id"].map(names)})
    return pd.concat([bridge.components, accounts], ignore_index=True)


def _active(start: pd.DataFrame, end: pd.DataFrame) -> pd.DataFrame:
    columns = ["account_id", *DIMENSIONS]
    ever_before = start.loc[start["active_before"].astype(bool), "account_id"]
    bridge = active_customers_bridge(start.loc[start["active"].astype(bool), columns],
                                     end.loc[end["active"].astype(bool), columns],
                                     ever_active_before_start=ever_before, dimensions=DIMENSIONS)
    return bridge.components


def _reply_rate(start: pd.DataFrame, end: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for dimension in ("channel", *DIMENSIONS):
        before = start.groupby(dimension)[["sends", "replies"]].sum()
        after = end.groupby(dimension)[["sends", "replies"]].sum()
        groups = before.join(after, how="outer", lsuffix="_start", rsuffix="_end").fillna(0).reset_index()
        groups = groups.rename(columns={"sends_start": "trials_start", "replies_start": "successes_start",
                                        "sends_end": "trials_end", "replies_end": "successes_end"})
        parts.append(rate_shift_share(groups.astype({c: float for c in groups.columns if c != dimension}),
                                      dimension=dimension))
    shares = pd.concat(parts, ignore_index=True)
    # The start and end rates are the same whatever the split: keep them once, as dimension 'total'.
    totals = shares[(shares["dimension"] == "channel") & shares["component"].isin(["start", "end"])]
    totals = totals.assign(dimension="total")
    split = shares[~shares["component"].isin(["start", "end"])]
    return pd.concat([totals, split], ignore_index=True)

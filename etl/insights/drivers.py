"""Why did the KPI move? (job "kpi_drivers"): MRR, active customers and reply rate.

For each window (period_start, period_end):
- mrr_usd, over the last 30 and 90 days, Morning Coffee's default period (the 30 days to
  yesterday), the month to date and each of the last 12 complete months (`mrr_windows`): each
  customer's (master account's) MRR on both days (gold.subscription_mrr_daily, at each day's FX
  rate), broken down into new, expansion, contraction, churn and FX (the start's MRR revalued at
  the end day's rates, for customers with MRR on both days; models.drivers.mrr_bridge), in total,
  by region and by segment, plus the ten customers whose MRR moved most (dimension 'account',
  rank 1-10, label = name);
- active_customers, over the last 30 and 90 days: customers with an active subscription on each
  day: new, reactivated (active at some time before, not on the start day) and churned;
- reply_rate, likewise: replies / sends of the 30 days ending on each day (by send day), split into
  mix and rate effects by channel, region and segment (exact midpoint shift-share). Recent sends
  may still get replies, so the latest window can read slightly low.
Rows replace gold.kpi_driver in one transaction. Component names and signs: see models.drivers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, insert, select, text

from dashboard.db import Database
from dashboard.tables.insights import KpiDriver, LargestAccount
from etl.gold import data_window
from etl.runs import recorded_run
from models.drivers import active_customers_bridge, mrr_bridge, rate_shift_share

log = logging.getLogger(__name__)
JOB_ID = "kpi_drivers"
INPUT_JOBS = ("etl", "etl_full_rebuild")
WINDOWS_DAYS = (30, 90)
PAGE_DEFAULT_DAYS = 30  # Morning Coffee's default period: the 30 days to yesterday
MONTHS_BACK = 12  # complete calendar months broken down, besides the month to date
LARGEST_PER_GROUP = 10  # largest customers kept per region and territory and day
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
           COALESCE(a.territory, '') AS territory,
           round(COALESCE(sum(d.mrr_usd), 0), 2) AS mrr_usd, bool_or(x.active) AS active,
           bool_or(x.active_before) AS active_before
    FROM subs x
    LEFT JOIN on_day d ON d.subscription_id = x.subscription_id
    LEFT JOIN silver.accounts a ON a.account_id = x.account_id
    GROUP BY x.account_id, a.account_name, a.region, a.account_type, a.territory
"""
# Per customer, its MRR on :day revalued at :rate_day's rates (from the view, in a file of its own).
REVALUED_SQL = (Path(__file__).resolve().parent / "mrr_revalued.sql").read_text(encoding="utf-8")

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
    kept_months: int = 0  # complete months already broken down today, kept as they were

    def describe(self) -> str:
        kept = f" ({self.kept_months} complete months kept from today's earlier run)" if self.kept_months else ""
        return f"Wrote {self.rows:,} KPI driver rows for the windows ending {self.as_of} in {self.seconds:.1f}s{kept}."


def frequent_windows(as_of: date, first_day: date) -> list[tuple[date, date]]:
    """The MRR windows worked out on every run: the last 30 and 90 days, Morning Coffee's default
    period (the 30 days to yesterday) and the month to date."""
    yesterday = as_of - timedelta(days=1)
    pairs = [(as_of - timedelta(days=days), as_of) for days in WINDOWS_DAYS]
    pairs.append((yesterday - timedelta(days=PAGE_DEFAULT_DAYS), yesterday))
    pairs.append((as_of.replace(day=1) - timedelta(days=1), as_of))
    return [pair for pair in dict.fromkeys(pairs) if first_day <= pair[0] < pair[1]]


def month_windows(as_of: date, first_day: date) -> list[tuple[date, date]]:
    """The last MONTHS_BACK complete calendar months, each from the previous month's last day."""
    ends = [as_of.replace(day=1) - timedelta(days=1)]
    for _ in range(MONTHS_BACK):
        ends.append(ends[-1].replace(day=1) - timedelta(days=1))
    return [(ends[i + 1], ends[i]) for i in range(MONTHS_BACK) if ends[i + 1] >= first_day]


def mrr_windows(as_of: date, first_day: date) -> list[tuple[date, date]]:
    """(start day, end day) of each MRR breakdown kept; windows starting before the data are left out."""
    return list(dict.fromkeys([*frequent_windows(as_of, first_day), *month_windows(as_of, first_day)]))


def driver_rows(database: Database, *, skip: frozenset[tuple[date, date]] = frozenset()
                ) -> tuple[date, pd.DataFrame]:
    """(as-of day, every gold.kpi_driver row but generated_at) for each window, but the MRR windows
    in `skip` (kept from an earlier run)."""
    as_of, rows, _ = driver_tables(database, skip=skip)
    return as_of, rows


def largest_accounts(customers: pd.DataFrame, day: date) -> pd.DataFrame:
    """The LARGEST_PER_GROUP customers with the highest MRR (above zero) in each region and territory
    on `day`: day, region, territory, rank (1 = largest; ties by id), account_id, mrr_usd."""
    paying = customers[customers["mrr_usd"].astype(float) > 0].sort_values(
        ["mrr_usd", "account_id"], ascending=[False, True], kind="stable")
    ranks = paying.groupby(["region", "territory"], sort=False).cumcount() + 1
    top = paying[ranks <= LARGEST_PER_GROUP].assign(rank=ranks[ranks <= LARGEST_PER_GROUP], day=day)
    return top[["day", "region", "territory", "rank", "account_id", "mrr_usd"]].reset_index(drop=True)


def driver_tables(database: Database, *, skip: frozenset[tuple[date, date]] = frozenset()
                  ) -> tuple[date, pd.DataFrame, pd.DataFrame]:
    """`driver_rows`, and the largest customers (`largest_accounts`) of the as-of day, the day before,
    and the month ends of the complete months worked out (those of `skip` are kept as they were)."""
    frames = []
    with database.engine.connect() as conn:
        window = data_window(conn)
        as_of = window.as_of
        read: dict[tuple[date, date], pd.DataFrame] = {}

        def customers(day: date, rate_day: date | None = None) -> pd.DataFrame:
            """Per customer on `day`, its MRR also revalued at `rate_day`'s rates (read once per pair)."""
            key = (day, rate_day or day)
            if key not in read:
                if (day, day) not in read:
                    result = conn.execute(text(CUSTOMERS_ON_DAY_SQL), {"day": day})
                    read[(day, day)] = pd.DataFrame(result.all(), columns=[
                        "account_id", "account_name", "region", "segment", "territory", "mrr_usd", "active",
                        "active_before"])
                if key[1] != day:
                    revalued = pd.DataFrame(conn.execute(text(REVALUED_SQL), {"day": day, "rate_day": key[1]}).all(),
                                            columns=["account_id", "mrr_usd_at_end_rates"])
                    read[key] = read[(day, day)].merge(revalued, on="account_id", how="left")
            return read[key]

        def sends(day: date) -> pd.DataFrame:
            result = conn.execute(text(SENDS_SQL), {"day": day, "days": REPLY_WINDOW_DAYS})
            return pd.DataFrame(result.all(), columns=["channel", "region", "segment", "sends", "replies"])

        end_sends = sends(as_of)
        for days in WINDOWS_DAYS:
            start = as_of - timedelta(days=days)
            # The start day's frame revalued at the end's rates serves the MRR window too.
            frames += [_tag(frame, kpi, start, as_of) for kpi, frame in (
                ("active_customers", _active(customers(start, as_of), customers(as_of))),
                ("reply_rate", _reply_rate(sends(start), end_sends)))]
        for start, end in mrr_windows(as_of, window.first_day):
            if (start, end) not in skip:
                frames.append(_tag(_mrr(customers(start, end), customers(end)), "mrr_usd", start, end))
        months = set(month_windows(as_of, window.first_day)) - skip
        days = {as_of, as_of - timedelta(days=1), *(day for month in months for day in month)}
        largest = pd.concat([largest_accounts(customers(day), day) for day in sorted(days)], ignore_index=True)
    return as_of, pd.concat(frames, ignore_index=True), largest


def _kept_month_windows(database: Database, today: date) -> frozenset[tuple[date, date]]:
    """Complete months already broken down today, with FX, and with their month ends' largest
    customers kept: a finished month's figures move only with late data, so they are worked out
    once a day rather than on every run (each costs two reads of every customer's MRR)."""
    since = datetime.combine(today, datetime.min.time(), UTC)
    with database.engine.connect() as conn:
        window = data_window(conn)
        months = month_windows(window.as_of, window.first_day)
        done = conn.execute(select(KpiDriver.period_start, KpiDriver.period_end).distinct().where(
            KpiDriver.kpi == "mrr_usd", KpiDriver.component == "fx", KpiDriver.generated_at >= since)).all()
        days = set(conn.scalars(select(LargestAccount.day).distinct().where(LargestAccount.generated_at >= since)))
    return frozenset(month for month in months
                     if month in {(row.period_start, row.period_end) for row in done} and set(month) <= days)


def run_kpi_drivers(database: Database, *, triggered_by: str = "manual") -> DriverRunResult:
    """Break down the changes of MRR, active customers and reply rate; replace gold.kpi_driver (but the
    complete months' MRR rows already worked out today)."""
    started = time.monotonic()
    with recorded_run(database, JOB_ID, triggered_by=triggered_by) as recorder:
        generated_at = datetime.now(UTC)
        kept = _kept_month_windows(database, generated_at.date())
        as_of, rows, largest = driver_tables(database, skip=kept)
        kept_days = {day for month in kept for day in month} - {as_of, as_of - timedelta(days=1)}
        records = [{"kpi": record["kpi"], "period_start": record["period_start"], "period_end": record["period_end"],
                    "dimension": record["dimension"], "member": record["member"], "component": record["component"],
                    "figure": float(record["value"]),
                    "rank": None if pd.isna(record["rank"]) else int(record["rank"]),
                    "label": None if pd.isna(record["label"]) else str(record["label"]),
                    "generated_at": generated_at}
                   for record in rows.to_dict("records")]
        with database.begin() as session:
            replaced = delete(KpiDriver)
            for start, end in kept:
                replaced = replaced.where(~((KpiDriver.kpi == "mrr_usd") & (KpiDriver.period_start == start)
                                            & (KpiDriver.period_end == end)))
            session.execute(replaced)
            if records:
                session.execute(insert(KpiDriver), records)
            session.execute(delete(LargestAccount).where(LargestAccount.day.not_in(kept_days)))
            largest_records = [{**row, "mrr_usd": float(row["mrr_usd"]), "rank": int(row["rank"]),
                                "generated_at": generated_at} for row in largest.to_dict("records")]
            if largest_records:
                session.execute(insert(LargestAccount), largest_records)
        recorder.add_rows("gold.kpi_driver", len(records))
        recorder.add_rows("gold.largest_account", len(largest_records))
    return DriverRunResult(as_of, len(records), time.monotonic() - started, kept_months=len(kept))


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
    revalued = [c for c in ("mrr_usd_at_end_rates",) if c in start.columns]
    bridge = mrr_bridge(start[[*columns, *revalued]], end[columns], dimensions=DIMENSIONS)
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
        groups = before.join(after, how="outer", suffixes=("_start", "_end")).fillna(0).reset_index()
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

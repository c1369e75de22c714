"""All the nightly forecasts at large scale, and anomaly detection over many accounts.

Run through the runner: python bench/models.py --only forecast [--accounts 100000] [--seed 0]

The forecasts are the job's series (etl.insights.forecasts) on synthetic histories of the
large demo's shape: five years of daily MRR, tickets and replies, five years of monthly MRR
and revenue in total and for each of REGIONS regions, and the monthly weighted pipeline.
Anomaly detection runs over `--accounts` customers x 90 days of daily active users and API
calls, and their weekly interactions over 12 weeks, as the anomalies job does.
"""

from __future__ import annotations

from argparse import Namespace
from collections import Counter

import numpy as np
import pandas as pd

# churn_clv makes `models` the repository's package (the runner shadows it) and times actions.
from churn_clv import timed

from models.anomalies import MetricSpec, detect_anomalies
from models.forecast import forecast_series

REGIONS = ("North America", "Latin America", "Western Europe", "Northern Europe", "Middle East", "Africa",
           "South Asia", "East Asia")
YEARS = 5
AS_OF = pd.Timestamp("2026-11-23")
TARGET_FORECAST_SECONDS = 600.0  # the nightly window allows far more; a refresh-time job would not
TARGET_ANOMALY_SECONDS = 60.0


def _daily(rng: np.random.Generator, level: float, growth: float, weekly: float, noise: float,
           counts: bool) -> pd.Series:
    days = pd.date_range(end=AS_OF, periods=YEARS * 365, freq="D")
    t = np.arange(len(days))
    shape = level * (1 + growth) ** (t / 365) * (1 + weekly * np.where(days.day_of_week >= 5, -1, 0.4))
    values = rng.poisson(shape) if counts else shape * np.exp(np.cumsum(rng.normal(0, noise, len(days))))
    return pd.Series(values.astype(float), index=days)


def _monthly(rng: np.random.Generator, level: float, growth: float, seasonal: float, noise: float,
             months: int = YEARS * 12) -> pd.Series:
    index = pd.date_range(end=AS_OF.to_period("M").start_time, periods=months, freq="MS")
    t = np.arange(months)
    values = level * (1 + growth) ** (t / 12) * (1 + seasonal * np.sin(2 * np.pi * t / 12)) * (
        1 + rng.normal(0, noise, months))
    return pd.Series(values, index=index)


def nightly_series(seed: int) -> list[tuple[str, pd.Series, int]]:
    """(series key, history, horizon) for every series the nightly job forecasts."""
    rng = np.random.default_rng(seed)
    out = [("mrr_usd:total:All", _daily(rng, 4e6, 0.12, 0.0, 0.002, counts=False), 90),
           ("tickets_opened:total:All", _daily(rng, 900, 0.08, 0.5, 0, counts=True), 28),
           ("replies:total:All", _daily(rng, 600, 0.05, 0.3, 0, counts=True), 28)]
    out.append(("invoiced_usd:total:All", _monthly(rng, 4.4e6, 0.12, 0.05, 0.03).iloc[:-1], 12))
    out.append(("pipeline_weighted_usd:total:All", _monthly(rng, 2e6, 0.1, 0.15, 0.2), 6))
    for region in REGIONS:
        share = rng.uniform(0.05, 0.25)
        out.append((f"mrr_usd:region:{region}", _monthly(rng, 4e6 * share, rng.uniform(0, 0.2), 0.0, 0.01), 12))
        out.append((f"invoiced_usd:region:{region}",
                    _monthly(rng, 4.4e6 * share, rng.uniform(0, 0.2), 0.05, 0.05).iloc[:-1], 12))
    return out


def usage_frame(accounts: int, seed: int, days: int = 90) -> pd.DataFrame:
    """accounts x days of daily active users and API calls with a weekend dip and 0.1 % planted spikes."""
    rng = np.random.default_rng(seed)
    calendar = pd.date_range(end=AS_OF, periods=days, freq="D")
    level = rng.lognormal(3, 1, accounts)
    weekday = np.where(calendar.day_of_week >= 5, 0.35, 1.0)
    users = rng.poisson(level[:, None] * weekday[None, :]).astype(float)
    planted = rng.random(users.shape) < 0.001
    planted[:, :-7] = False
    users[planted] = users[planted] * 6 + 20
    calls = rng.poisson(level[:, None] * weekday[None, :] * 40).astype(float)
    return pd.DataFrame({"account_id": np.repeat(np.arange(accounts), days), "day": np.tile(calendar, accounts),
                         "active_users": users.ravel(), "api_calls": calls.ravel(), "planted": planted.ravel()})


def run_forecasts(args: Namespace) -> None:
    series = nightly_series(args.seed)
    print(f"forecasts: {len(series)} nightly series ({YEARS} years: 3 daily, "
          f"{len(series) - 3} monthly over {len(REGIONS)} regions and totals)")
    results, timing = timed(lambda: [(key, forecast_series(history, horizon)) for key, history, horizon in series])
    print(f"  all series     {timing.text(TARGET_FORECAST_SECONDS)}; {timing.wall / len(series):.2f} s per series")
    models = Counter(result.model_name for _, result in results)
    mase = np.array([result.backtest_mase for _, result in results])
    print(f"  models chosen: {', '.join(f'{name} {count}' for name, count in models.most_common())}")
    print(f"  backtest MASE: median {np.nanmedian(mase):.3f}, max {np.nanmax(mase):.3f}")
    for key, result in results[:5]:
        baseline = result.candidates.get("seasonal_naive", result.candidates.get("naive"))
        print(f"    {key:34s} {result.model_name:15s} MASE {result.backtest_mase:.3f} (baseline {baseline:.3f})")


def run_anomalies(args: Namespace) -> None:
    usage, building = timed(lambda: usage_frame(args.accounts, args.seed))
    print(f"anomalies: {args.accounts:,} accounts x 90 days ({len(usage):,} rows, built in {building.wall:.1f} s)")
    for spec in (MetricSpec("active_users", "Daily active users"),
                 MetricSpec("api_calls", "API calls", kinds=("spike",), min_change_pct=50.0)):
        frame = usage[["account_id", "day", spec.metric]].rename(columns={spec.metric: "value"})
        found, timing = timed(lambda f=frame, s=spec: detect_anomalies(f, s, as_of=AS_OF))
        print(f"  {spec.metric:12s} daily, last 7 days  {timing.text(TARGET_ANOMALY_SECONDS)}; "
              f"{len(found):,} anomalies ({dict(Counter(found['severity']))})")
        if spec.metric == "active_users":
            planted = usage.loc[usage["planted"], ["account_id", "day"]]
            spikes = found[found["kind"] == "spike"].assign(day=lambda f: pd.to_datetime(f["detected_on"]))
            caught = planted.merge(spikes, on=["account_id", "day"]).shape[0]
            print(f"    planted spikes found: {caught:,} of {len(planted):,}; "
                  f"other flags {len(found) - caught:,} of {args.accounts * 7:,} account-days")
    weekly = usage[usage["day"] > AS_OF - pd.Timedelta(days=84)][["account_id", "day", "active_users"]]
    weekly = weekly.rename(columns={"active_users": "value"})
    found, timing = timed(lambda: detect_anomalies(weekly, MetricSpec("interactions", "Weekly interactions",
                                                                      kinds=("drop",)), freq="W", as_of=AS_OF))
    print(f"  weekly drops, 12 weeks       {timing.text(TARGET_ANOMALY_SECONDS)}; {len(found):,} anomalies")


def run(args: Namespace) -> None:
    """Print forecast and anomaly-detection timings."""
    run_forecasts(args)
    run_anomalies(args)

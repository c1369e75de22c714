"""All the nightly forecasts at large scale, anomaly detection over many accounts, and forecast
accuracy on the M3 competition's real series.

Run through the runner: python bench/models.py --only forecast [--accounts 100000] [--seed 0]

Accuracy (run by hand, CPU-heavy: use nice):
    python bench/forecasts.py [--m3 M3.rda] [--sample 300] [--jobs 2] [--nightly]
        [--methods seasonal_naive,after,before,ets_MAdM_sm,theta_sm] [--before OLD/models/forecast.py]
prints the mean MASE (scaled by the in-sample seasonal differences, Hyndman and Koehler 2006) and the
share of held-out points inside the 95 % interval on M3's 1,428 monthly and 756 quarterly series
(Makridakis and Hibon 2000) at the official horizons (18 and 8), for seasonal naive, this
forecast_series ("after"), another version of it ("before", e.g. `git show main:models/forecast.py`),
statsmodels' damped multiplicative Holt-Winters (ETS M,Ad,M) and Theta fitted by hand, and the point
forecasts submitted to the competition (Theta, ForecastPro, ...). The data are the Mcomp R package's
(github.com/robjhyndman/Mcomp, data/M3.rda and M3Forecast.rda), read with --m3 or from a mirror of that
repository at M3_MIRROR.

The forecasts are the job's series (etl.insights.forecasts) on synthetic histories of the
large demo's shape: five years of daily MRR, tickets and replies, five years of monthly MRR
and revenue in total and for each of REGIONS regions, and the monthly weighted pipeline.
Anomaly detection runs over `--accounts` customers x 90 days of daily active users and API
calls, and their weekly interactions over 12 weeks, as the anomalies job does.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import struct
import subprocess
import sys
import time
import warnings
from argparse import Namespace
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# churn_clv makes `models` the repository's package (the runner shadows it) and times actions.
from churn_clv import timed
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from threadpoolctl import threadpool_limits

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


# --- accuracy on the M3 competition's monthly and quarterly series ------------------------------
# Data: the M3 series (Makridakis and Hibon 2000) and the competitors' forecasts, as kept in the Mcomp R
# package (github.com/robjhyndman/Mcomp, data/M3.rda and data/M3Forecast.rda). Without --m3 the files
# are read from a mirror of that repository at M3_MIRROR, if one is there.
M3_MIRROR = Path("/work/.mirror/robjhyndman+Mcomp/repo")
M3_UPSTREAM = "github.com/robjhyndman/Mcomp"
M3_PERIODS = {"MONTHLY": ("MS", 12), "QUARTERLY": ("QS-JAN", 4)}
PUBLISHED_METHODS = ("THETA", "ForecastPro", "ForcX", "DAMPEN", "COMB S-H-D", "NAIVE2")


@dataclass(frozen=True)
class M3Series:
    """One M3 series: its history, the held-out future (the official horizon) and its period."""

    name: str
    period: str
    season: int
    history: pd.Series
    future: np.ndarray


class _RData:
    """Reads R's XDR serialisation (an .rda file, format 2) into tuples: just enough for the Mcomp data.

    Vectors read as ("vec", values, attributes); pairlists as [(tag, value), ...]."""

    _NIL = {254, 242, 241, 253, 252, 251, 247}

    def __init__(self, raw: bytes) -> None:
        self.data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        if not self.data.startswith(b"RDX2\nX\n"):
            raise ValueError("not an R data file in XDR format 2")
        self.pos = len(b"RDX2\nX\n") + 12  # format, writer and reader versions
        self.refs: list[object] = []

    def _int(self) -> int:
        value = struct.unpack_from(">i", self.data, self.pos)[0]
        self.pos += 4
        return value

    def _length(self) -> int:
        length = self._int()
        return (self._int() << 32) + self._int() if length == -1 else length

    def _array(self, dtype: str, size: int) -> np.ndarray:
        length = self._length()
        values = np.frombuffer(self.data, dtype, length, self.pos).astype(float if "f" in dtype else np.int64)
        self.pos += size * length
        return values

    def item(self) -> object:
        flags = self._int()
        kind, has_attributes, has_tag = flags & 0xFF, flags & 512, flags & 1024
        if kind in self._NIL:
            return None
        if kind == 255:  # reference to an earlier symbol
            return self.refs[(flags >> 8 or self._int()) - 1]
        if kind == 1:  # symbol
            symbol = ("sym", self.item())
            self.refs.append(symbol)
            return symbol
        if kind in (2, 3, 5, 6, 17):  # pairlist and its kin
            if has_attributes:
                self.item()
            tag = self.item() if has_tag else None
            head = [(tag[1] if tag else None, self.item())]
            rest = self.item()
            return head + rest if kind == 2 and isinstance(rest, list) else head
        if kind == 9:  # string
            length = self._int()
            if length == -1:
                return None
            text = self.data[self.pos:self.pos + length].decode("latin-1")
            self.pos += length
            return text
        if kind in (10, 13):
            values: object = self._array(">i4", 4)
        elif kind == 14:
            values = self._array(">f8", 8)
        elif kind in (16, 19, 20):
            values = [self.item() for _ in range(self._length())]
        else:
            raise ValueError(f"R type {kind} is not supported")
        attributes = dict(self.item()) if has_attributes else {}
        return ("vec", values, attributes)

    def objects(self) -> dict[str, object]:
        return dict(self.item())


def _named(vector: tuple) -> dict[str, object]:
    """An R named list as a dict of its elements' values (attributes dropped unless needed)."""
    return dict(zip(vector[2]["names"][1], vector[1], strict=True))


def m3_series(raw: bytes) -> list[M3Series]:
    """The monthly and quarterly series of M3.rda, with their start dates and official horizons."""
    out = []
    for element in _RData(raw).objects()["M3"][1]:
        fields = _named(element)
        period = fields["period"][1][0]
        if period not in M3_PERIODS:
            continue
        freq, season = M3_PERIODS[period]
        history, future = fields["x"], fields["xx"]
        start = round(float(history[2]["tsp"][1][0]) * season)
        first = pd.Timestamp(year=start // season, month=1 + (start % season) * (12 // season), day=1)
        index = pd.date_range(first, periods=len(history[1]), freq=freq)
        out.append(M3Series(fields["sn"][1][0], period, season, pd.Series(history[1], index=index),
                            np.asarray(future[1], float)))
    return out


def m3_published(raw: bytes) -> dict[str, dict[str, np.ndarray]]:
    """method -> series name -> the forecast submitted to the competition (M3Forecast.rda)."""
    methods = _named(_RData(raw).objects()["M3Forecast"])
    out = {}
    for method in PUBLISHED_METHODS:
        frame = methods[method]
        columns = np.column_stack([np.asarray(column[1], float) for column in frame[1]])
        out[method] = dict(zip(frame[2]["row.names"][1], columns, strict=True))
    return out


def _read_m3(path: Path | None, name: str) -> bytes | None:
    if path is not None:
        return (path.parent / name if path.name != name else path).read_bytes() if path.exists() else None
    if not M3_MIRROR.exists():
        return None
    shown = subprocess.run(["git", "--git-dir", str(M3_MIRROR), "show", f"HEAD:data/{name}"],
                           capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


def mase_scale(history: np.ndarray, season: int) -> float:
    """Hyndman and Koehler's MASE denominator: the in-sample mean absolute seasonal difference."""
    return float(np.mean(np.abs(history[season:] - history[:-season])))


def seasonal_naive(history: pd.Series, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seasonal naive with its usual normal 95 % interval (the residual spread of the lag-season errors)."""
    y = history.to_numpy(float)
    steps = np.arange(horizon)
    mean = y[-season:][steps % season]
    sigma = np.sqrt(np.mean((y[season:] - y[:-season]) ** 2))
    half = 1.959963984540054 * sigma * np.sqrt(steps // season + 1)
    return mean, mean - half, mean + half


def _product_forecast(module_path: str | None) -> Callable:
    """forecast_series of the repository, or of another version of models/forecast.py (--before)."""
    if module_path is None:
        return forecast_series
    spec = importlib.util.spec_from_file_location("forecast_before", module_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["forecast_before"] = module
    spec.loader.exec_module(module)
    return module.forecast_series


def _statsmodels_baseline(kind: str, history: pd.Series, horizon: int, season: int
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand-fitted statsmodels models: damped Holt-Winters (multiplicative season) and Theta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "theta_sm":
            result = ThetaModel(history.to_numpy(float), period=season).fit()
            bounds = np.asarray(result.prediction_intervals(horizon, alpha=0.05), float)
            return np.asarray(result.forecast(horizon), float), bounds[:, 0], bounds[:, 1]
        model = ETSModel(history.reset_index(drop=True), error="mul", trend="add", damped_trend=True,
                         seasonal="mul", seasonal_periods=season)
        result = model.fit(disp=False, maxiter=500)
        prediction = result.get_prediction(start=len(history), end=len(history) + horizon - 1)
        frame = prediction.summary_frame(alpha=0.05)
        return frame["mean"].to_numpy(float), frame["pi_lower"].to_numpy(float), frame["pi_upper"].to_numpy(float)


def _evaluate_one(task: tuple[str, str | None, M3Series]) -> tuple[str, str, float, float, float, str]:
    """(series, period, MASE, share of the future inside the 95 % interval, CPU seconds, model name)."""
    method, module_path, series = task
    horizon, season = len(series.future), series.season
    started = time.process_time()  # CPU seconds: the wall clock counts whatever else the machine runs
    name = method
    try:
        if method == "seasonal_naive":
            mean, lower, upper = seasonal_naive(series.history, horizon, season)
        elif method in ("ets_MAdM_sm", "theta_sm"):
            mean, lower, upper = _statsmodels_baseline(method, series.history, horizon, season)
        else:
            with threadpool_limits(limits=1, user_api="blas"):
                result = _product_forecast(module_path)(series.history, horizon)
            mean, lower, upper = (result.mean.to_numpy(), result.lower95.to_numpy(), result.upper95.to_numpy())
            name = result.model_name
    except Exception:  # noqa: BLE001 - a failed baseline scores as seasonal naive, and says so
        mean, lower, upper = seasonal_naive(series.history, horizon, season)
        name = "failed"
    seconds = time.process_time() - started
    scale = mase_scale(series.history.to_numpy(float), season)
    mase = float(np.mean(np.abs(series.future - mean)) / scale)
    covered = float(np.mean((series.future >= lower) & (series.future <= upper)))
    return series.name, series.period, mase, covered, seconds, name


def evaluate_m3(series: list[M3Series], method: str, module_path: str | None, jobs: int) -> pd.DataFrame:
    """One row per series: MASE, 95 % coverage, seconds and the model used."""
    tasks = [(method, module_path, one) for one in series]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            rows = list(pool.map(_evaluate_one, tasks, chunksize=8))
    else:
        rows = [_evaluate_one(task) for task in tasks]
    return pd.DataFrame(rows, columns=["series", "period", "mase", "coverage95", "seconds", "model"])


def run_m3(args: Namespace) -> None:
    """MASE and 95 % coverage on M3 monthly and quarterly (official horizons 18 and 8) per method."""
    raw = _read_m3(args.m3, "M3.rda")
    if raw is None:
        print(f"M3: no data. Pass --m3 PATH/M3.rda (data/M3.rda of {M3_UPSTREAM}) or mirror that "
              f"repository at {M3_MIRROR}.")
        return
    series = m3_series(raw)
    if args.sample:
        rng = np.random.default_rng(args.seed)
        chosen = []
        for period in M3_PERIODS:
            names = [one for one in series if one.period == period]
            picks = sorted(rng.choice(len(names), min(args.sample, len(names)), replace=False))
            chosen += [names[i] for i in picks]
        series = chosen
    counts = Counter(one.period for one in series)
    subset = f"a fixed random sample (seed {args.seed}) of " if args.sample else "all "
    print(f"M3: {subset}{counts['MONTHLY']} monthly (h=18) and {counts['QUARTERLY']} quarterly (h=8) series; "
          "MASE scaled by the in-sample seasonal differences (Hyndman and Koehler 2006)")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    header = f"  {'method':24s} {'monthly':>8s} {'quarterly':>9s} {'both':>7s}   {'95% coverage m/q/both':>22s}  {'CPU s/series':>12s}"
    print(header)
    for method in methods:
        module_path = args.before if method == "before" else None
        frame, timing = timed(lambda m=method, p=module_path: evaluate_m3(
            series, "product" if m in ("before", "after") else m, p, args.jobs))
        by_period = frame.groupby("period")[["mase", "coverage95"]].mean()
        print(f"  {method:24s} {by_period.loc['MONTHLY', 'mase']:8.3f} {by_period.loc['QUARTERLY', 'mase']:9.3f} "
              f"{frame['mase'].mean():7.3f}   {by_period.loc['MONTHLY', 'coverage95']:6.1%} "
              f"{by_period.loc['QUARTERLY', 'coverage95']:6.1%} {frame['coverage95'].mean():6.1%}"
              f"  {frame['seconds'].mean():12.3f}")
        if method in ("before", "after"):
            chosen = Counter(frame["model"].str.replace(" (fallback: every model backtested worse)", " (fallback)"))
            print(f"    models: {', '.join(f'{name} {count}' for name, count in chosen.most_common(8))}")
        if args.out:
            frame.to_csv(Path(args.out) / f"m3_{method}.csv", index=False)
    published_raw = _read_m3(args.m3, "M3Forecast.rda")
    if published_raw is None:
        return
    print("  forecasts submitted to the competition (point forecasts only):")
    wanted = {one.name: one for one in series}
    for method, forecasts in m3_published(published_raw).items():
        scores = {"MONTHLY": [], "QUARTERLY": []}
        for name, one in wanted.items():
            forecast = forecasts[name][:len(one.future)]
            scale = mase_scale(one.history.to_numpy(float), one.season)
            scores[one.period].append(np.mean(np.abs(one.future - forecast)) / scale)
        both = np.concatenate([scores["MONTHLY"], scores["QUARTERLY"]])
        print(f"  {method:24s} {np.mean(scores['MONTHLY']):8.3f} {np.mean(scores['QUARTERLY']):9.3f} {both.mean():7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Forecast accuracy on the M3 competition's monthly and "
                                                 "quarterly series, and the nightly forecasts' timing.")
    parser.add_argument("--m3", type=Path, help=f"M3.rda (data/M3.rda of {M3_UPSTREAM}); M3Forecast.rda beside it")
    parser.add_argument("--sample", type=int, default=0, help="series per frequency (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--methods", default="seasonal_naive,after,ets_MAdM_sm,theta_sm",
                        help="seasonal_naive, after (this forecast_series), before (--before FILE), "
                             "ets_MAdM_sm, theta_sm")
    parser.add_argument("--before", help="another models/forecast.py to compare, e.g. main's")
    parser.add_argument("--out", help="directory for per-series CSV files")
    parser.add_argument("--nightly", action="store_true", help="also time the nightly forecasts")
    args = parser.parse_args()
    if args.nightly:
        run_forecasts(args)
    run_m3(args)


if __name__ == "__main__":
    main()

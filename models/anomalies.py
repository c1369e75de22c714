"""Per-account anomalies (drops and spikes) in daily or weekly activity series, many accounts at once.

Method, for each account and each of the last `recent_periods` periods:
1. daily series: a weekday profile is removed first (each weekday's median over the history
   before the evaluated periods, minus the overall median), so a quiet Sunday is not a drop;
2. baseline = median of the (weekday-adjusted) values over the `baseline_periods` periods before
   the evaluated one, and spread = 1.4826 x their median absolute deviation (MAD), at least
   `min_scale` so a flat history does not turn every small change into an anomaly;
3. expected = baseline + that weekday's effect; robust z = (observed - expected) / spread;
4. an anomaly is |z| >= 3.5 (the usual Iglewicz-Hoaglin cut-off) that also moves the value by at
   least `min_change_pct` percent, so tiny changes on very stable accounts are ignored.
   A drop needs an expected value above 0.

Severity by |robust z|: low 3.5 to 5, medium 5 to 8, high 8 or more (SEVERITY_THRESHOLDS).

Missing periods after an account's first observation count as 0 (no activity recorded);
periods before it are unknown, so a new account is not a spike. An evaluated period needs at
least half of its baseline window known. The work is NumPy over an accounts x periods matrix,
in chunks of accounts, so 100k accounts x 90 days take seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

SEVERITY_THRESHOLDS = (("high", 8.0), ("medium", 5.0), ("low", 3.5))
Z_THRESHOLD = SEVERITY_THRESHOLDS[-1][1]
MAD_TO_SIGMA = 1.4826
CHUNK_ACCOUNTS = 20_000  # bounds memory: chunk x recent x baseline floats
ANOMALY_COLUMNS = ["account_id", "metric", "kind", "detected_on", "observed", "baseline", "change_pct",
                   "robust_z", "severity", "description"]
PERIOD_WORD = {"D": "day", "W": "week"}


@dataclass(frozen=True)
class MetricSpec:
    """What is measured and how it reads in a sentence ("Daily active users fell to ...")."""

    metric: str  # stored id, e.g. "active_users"
    label: str  # sentence subject, e.g. "Daily active users"
    kinds: tuple[str, ...] = ("drop", "spike")
    min_change_pct: float = 30.0
    min_scale: float = 1.0  # floor of the spread, in the metric's units
    # Counts (users, sessions, interactions) vary at least like a Poisson count: spread >= sqrt(expected).
    is_count: bool = True


def detect_anomalies(observations: pd.DataFrame, spec: MetricSpec, *, freq: str = "D",
                     baseline_periods: int | None = None, recent_periods: int | None = None,
                     as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Anomalies of one metric for many accounts; `observations` has account_id, day, value.

    Returns one row per account x evaluated period flagged, with ANOMALY_COLUMNS:
    kind 'drop' or 'spike', detected_on (the day; for weekly series, the last day of the 7-day
    block, blocks ending on `as_of` or the last day observed), observed, baseline (the expected
    value), change_pct (NaN when the baseline is 0), robust_z, severity and a description.
    """
    if freq not in PERIOD_WORD:
        raise ValueError(f"freq must be 'D' or 'W', got {freq!r}")
    missing = {"account_id", "day", "value"} - set(observations.columns)
    if missing:
        raise ValueError(f"observations lack columns: {sorted(missing)}")
    unknown_kinds = set(spec.kinds) - {"drop", "spike"}
    if unknown_kinds:
        raise ValueError(f"unknown anomaly kinds: {sorted(unknown_kinds)}")
    baseline_periods = baseline_periods or (28 if freq == "D" else 8)
    recent_periods = recent_periods or (7 if freq == "D" else 1)
    if baseline_periods < 4 or recent_periods < 1:
        raise ValueError("baseline_periods must be >= 4 and recent_periods >= 1")
    if observations.empty:
        return _empty()

    matrix, accounts, periods = _to_matrix(observations, freq, as_of)
    n_periods = len(periods)
    first_eval = max(baseline_periods, n_periods - recent_periods)
    if first_eval >= n_periods:
        return _empty()
    weekday_effect = _weekday_effect(matrix, periods, first_eval) if freq == "D" else None

    found = []
    for start in range(0, len(accounts), CHUNK_ACCOUNTS):
        block = matrix[start:start + CHUNK_ACCOUNTS]
        effect = None if weekday_effect is None else weekday_effect[start:start + CHUNK_ACCOUNTS]
        rows, cols, observed, expected, z = _score(block, effect, periods, first_eval, baseline_periods, spec)
        found.append((rows + start, cols, observed, expected, z))
    rows = np.concatenate([f[0] for f in found])
    if len(rows) == 0:
        return _empty()
    cols = np.concatenate([f[1] for f in found])
    observed = np.concatenate([f[2] for f in found])
    expected = np.concatenate([f[3] for f in found])
    z = np.concatenate([f[4] for f in found])
    return _describe(accounts[rows], periods[cols], observed, expected, z, spec, freq, baseline_periods)


def severity_of(robust_z: float) -> str:
    """'high', 'medium' or 'low' for an anomaly's |robust z| (>= 3.5)."""
    size = abs(robust_z)
    for name, threshold in SEVERITY_THRESHOLDS:
        if size >= threshold:
            return name
    raise ValueError(f"|z| = {size:.2f} is below the anomaly threshold {Z_THRESHOLD}")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in ANOMALY_COLUMNS})


def _to_matrix(observations: pd.DataFrame, freq: str, as_of) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """accounts x periods values: 0 where missing after an account's first period, NaN before."""
    frame = observations[["account_id", "day", "value"]].copy()
    frame["day"] = pd.to_datetime(frame["day"]).dt.normalize()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = frame.dropna(subset=["day"])
    last = pd.Timestamp(as_of).normalize() if as_of is not None else frame["day"].max()
    frame = frame[frame["day"] <= last]
    if freq == "W":
        # Weeks are the 7-day blocks ending on the last day, each dated by its last day.
        frame["day"] = last - pd.to_timedelta((last - frame["day"]).dt.days // 7 * 7, unit="D")
    periods = pd.date_range(frame["day"].min(), last, freq="D" if freq == "D" else "7D")
    account_codes, accounts = pd.factorize(frame["account_id"], sort=True)
    period_codes = periods.get_indexer(frame["day"])
    # Duplicates (account, period) add up: weekly buckets of daily rows, or repeated facts.
    valid = period_codes >= 0
    sums = np.zeros((len(accounts), len(periods)))
    np.add.at(sums, (account_codes[valid], period_codes[valid]), np.nan_to_num(frame["value"].to_numpy()[valid]))
    seen = np.zeros(sums.shape, dtype=bool)
    seen[account_codes[valid], period_codes[valid]] = True
    started = np.maximum.accumulate(seen, axis=1)
    return np.where(started, sums, np.nan), np.asarray(accounts, dtype=object), periods


def _nanmedian(windows: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN; NaN when all are. Much faster than np.nanmedian here."""
    ordered = np.sort(windows, axis=-1)  # NaN sort last
    known = np.sum(~np.isnan(windows), axis=-1)
    low = np.take_along_axis(ordered, np.maximum((known - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    high = np.take_along_axis(ordered, np.maximum(known // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(known > 0, (low + high) / 2, np.nan)


def _weekday_effect(matrix: np.ndarray, periods: pd.DatetimeIndex, history_end: int) -> np.ndarray:
    """accounts x 7: each weekday's median minus the overall median, over the history before evaluation."""
    history = matrix[:, :history_end]
    weekdays = periods.day_of_week[:history_end]
    with np.errstate(all="ignore"), _quiet():
        overall = np.nanmedian(history, axis=1)
        effect = np.zeros((matrix.shape[0], 7))
        for weekday in range(7):
            columns = history[:, weekdays == weekday]
            if columns.shape[1] >= 2:
                effect[:, weekday] = np.nanmedian(columns, axis=1) - overall
    return np.nan_to_num(effect)


def _score(block: np.ndarray, weekday_effect: np.ndarray | None, periods: pd.DatetimeIndex, first_eval: int,
           baseline_periods: int, spec: MetricSpec):
    """Flagged (row, column, observed, expected, z) in one chunk of accounts."""
    n_periods = block.shape[1]
    evaluated = np.arange(first_eval, n_periods)
    if weekday_effect is not None:
        per_period_effect = weekday_effect[:, periods.day_of_week.to_numpy()]
    else:
        per_period_effect = np.zeros_like(block)
    adjusted = block - per_period_effect
    # windows[:, i, :] = the baseline_periods values before evaluated[i]
    windows = sliding_window_view(adjusted[:, first_eval - baseline_periods:n_periods - 1], baseline_periods,
                                  axis=1)
    baseline = _nanmedian(windows)
    mad = _nanmedian(np.abs(windows - baseline[:, :, None]))
    known = np.sum(~np.isnan(windows), axis=2)
    observed = block[:, evaluated]
    expected = np.maximum(baseline + per_period_effect[:, evaluated], 0.0)
    spread = np.maximum(MAD_TO_SIGMA * np.nan_to_num(mad), spec.min_scale)
    if spec.is_count:
        spread = np.maximum(spread, np.sqrt(np.nan_to_num(expected)))
    z = (observed - expected) / spread
    with np.errstate(all="ignore"):
        change_pct = np.where(expected > 0, 100.0 * (observed - expected) / expected, np.inf)
    usable = (known >= baseline_periods / 2) & ~np.isnan(observed) & ~np.isnan(expected)
    flagged = np.zeros_like(usable)
    if "spike" in spec.kinds:
        flagged |= usable & (z >= Z_THRESHOLD) & (change_pct >= spec.min_change_pct)
    if "drop" in spec.kinds:
        flagged |= usable & (z <= -Z_THRESHOLD) & (expected > 0) & (change_pct <= -spec.min_change_pct)
    rows, cols = np.nonzero(flagged)
    return rows, evaluated[cols], observed[rows, cols], expected[rows, cols], z[rows, cols]


def _describe(accounts: np.ndarray, days: pd.DatetimeIndex, observed: np.ndarray, expected: np.ndarray,
              z: np.ndarray, spec: MetricSpec, freq: str, baseline_periods: int) -> pd.DataFrame:
    kind = np.where(z < 0, "drop", "spike")
    with np.errstate(all="ignore"):
        change_pct = np.where(expected > 0, 100.0 * (observed - expected) / expected, np.nan)
    window = f"{baseline_periods}-{PERIOD_WORD[freq]} baseline"
    descriptions = []
    for day, k, value, base, change in zip(days, kind, observed, expected, change_pct, strict=True):
        verb = "fell" if k == "drop" else "rose"
        when = day.strftime("%d %b %Y") if freq == "D" else f"the week to {day.strftime('%d %b %Y')}"
        if np.isnan(change):
            descriptions.append(f"{spec.label} {verb} to {_number(value)} {'on' if freq == 'D' else 'in'} {when}, "
                                f"from a {window} of 0.")
        else:
            direction = "below" if k == "drop" else "above"
            descriptions.append(f"{spec.label} {verb} to {_number(value)} {'on' if freq == 'D' else 'in'} {when}, "
                                f"{abs(change):.0f}% {direction} the {window} of {_number(base)}.")
    result = pd.DataFrame({
        "account_id": accounts, "metric": spec.metric, "kind": kind, "detected_on": days.date,
        "observed": observed, "baseline": np.round(expected, 4), "change_pct": np.round(change_pct, 2),
        "robust_z": np.round(z, 3), "severity": [severity_of(v) for v in z], "description": descriptions,
    })
    return result.sort_values(["account_id", "detected_on"], ignore_index=True)


def _number(value: float) -> str:
    """12 -> '12', 12.345 -> '12.3', 12345 -> '12,345'."""
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence NumPy's 'All-NaN slice' warnings: all-missing windows are expected and masked later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield

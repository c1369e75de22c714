"""Forecast one regular time series with prediction intervals, choosing the model by backtest.

`forecast_series(series, horizon)`:
- takes logs when the series is positive and its spread grows with its level (Guerrero's method:
  the spread of each season's block, relative to its mean, is steadier than its absolute spread);
- removes the season by classical decomposition (multiplicative on positive series, additive on the
  log scale or when some values are <= 0) when the autocorrelation at the seasonal lag is significant;
- fits simple exponential smoothing, the Theta method, Holt's damped trend and a random walk with
  drift to the seasonally adjusted series; the candidates are their median (combinations are the
  robust winners of the M3 and M4 competitions), the mean of that median and the seasonal-naive
  forecast, and the damped trend and the drift alone (which must beat the combinations clearly);
- scores each candidate and the seasonal-naive baseline by a rolling-origin backtest (MASE over up
  to N_ORIGINS forecast origins, each forecasting as far ahead as the horizon allows) and keeps the
  best refitted on all the data. If no candidate beats the baseline on the backtest, the baseline is
  returned and its name says so ("seasonal_naive (fallback: ...)");
- intervals come from each model's forecast variance, widened when the backtest's errors ran larger,
  and are transformed back from the log scale (so they are asymmetric there); the point forecast is
  then the median.

Input handling, so that any valid series gets a forecast:
- the index must be a DatetimeIndex; its frequency is `index.freq`, else `pd.infer_freq`, else
  the most common step (1 day, 7 days, a month or a quarter) when the series has gaps;
- missing periods (gaps) and missing values are filled by linear interpolation between the
  neighbouring observations; leading/trailing missing values by the nearest observation;
- daily series are fitted on at most their last MAX_HISTORY[freq] points (older points add little
  to a 90-day forecast and make fitting slower);
- when every observation is >= 0 (counts, money), forecasts and bounds are clipped at 0;
- series of 1-3 points get a naive forecast with deliberately wide intervals and no backtest;
- any model that fails or produces non-finite values is dropped; seasonal-naive always works.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Imported at module level on purpose: threadpool_limits (below) only reaches BLAS libraries
# already loaded, and this import loads SciPy's.
from scipy.optimize import minimize, minimize_scalar
from threadpoolctl import threadpool_limits

Z80 = 1.2815515655446004  # two-sided 80% normal quantile
Z95 = 1.959963984540054  # two-sided 95%
N_ORIGINS = 8  # forecast origins in the backtest: fewer make the choice (and the fallback) noisy
ORIGIN_SPACING = 2  # origins are half the backtest horizon apart
SHORT_SERIES = 4  # fewer points than this: naive forecast, no backtest
MAX_HISTORY = {"D": 3 * 365, "B": 3 * 260, "W": 8 * 52}  # points fitted; other frequencies keep all
LOG_MIN_RANGE = 1.5  # take logs only when the level changes by half or more over the history
COMBINED_MEMBERS = ("ses", "theta", "ets_AAdN", "drift")
COMBINED = f"median({', '.join(COMBINED_MEMBERS)})"
MIXED = "mean(median, seasonal_naive)"
ELIGIBLE_SINGLES = ("ets_AAdN", "drift")  # single models that may be chosen instead of a combination
SINGLE_MARGIN = 0.7  # ... when their backtest MASE is below this share of the combinations'
CALIBRATION_QUANTILE = 0.95  # the backtest's standardised errors at this quantile ...
Z_CALIBRATION = Z95  # ... should be this large: otherwise the intervals widen by the ratio
MAX_WIDEN = 3.0
SEASON_BY_FREQ = {"D": 7, "B": 5, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


@dataclass(frozen=True)
class Forecast:
    """Point forecast, 80% and 95% intervals (Series indexed by the forecast dates) and the chosen model."""

    mean: pd.Series
    lower80: pd.Series
    upper80: pd.Series
    lower95: pd.Series
    upper95: pd.Series
    model_name: str
    backtest_mase: float  # NaN when the series is too short to backtest
    season_length: int = 1  # the seasonal period used (1: none)
    candidates: dict[str, float] = field(default_factory=dict)  # backtest MASE of every model tried

    def to_frame(self) -> pd.DataFrame:
        """One row per forecast date: mean and the four bounds."""
        return pd.DataFrame({"mean": self.mean, "lower80": self.lower80, "upper80": self.upper80,
                             "lower95": self.lower95, "upper95": self.upper95})


@dataclass(frozen=True)
class _Prediction:
    mean: np.ndarray
    se: np.ndarray  # standard error of each step's forecast (of its log when `log`)
    log: bool = False  # intervals are exp(log(mean) -/+ z se): the model was fitted to logs


def forecast_series(series: pd.Series, horizon: int, *, season_length: int | None = None) -> Forecast:
    """Forecast `horizon` periods after the series' last date with 80%/95% intervals."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    horizon = int(horizon)
    values, freq = _regularise(series)
    base = _base_freq(freq)
    if season_length is None:
        season_length = SEASON_BY_FREQ.get(base, 1)
    elif season_length < 1:
        raise ValueError(f"season_length must be >= 1, got {season_length}")
    max_points = MAX_HISTORY.get(base)
    if max_points and len(values) > max_points:
        values = values[-max_points:]
    last = values.index[-1]
    index = pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    y = values.to_numpy(dtype=float)
    nonnegative = bool((y >= 0).all())

    if len(y) < SHORT_SERIES:
        name, pred, mase, m, scores = "naive", _short_series(y, horizon), math.nan, 1, {}
    else:
        # These models are tiny: multi-threaded BLAS only adds contention (10x slower on a busy machine).
        with threadpool_limits(limits=1, user_api="blas"):
            name, pred, mase, m, scores = _select_and_fit(y, horizon, season_length)
    return _build(index, pred, name, mase, m, scores, nonnegative)


# --- input -------------------------------------------------------------------------------
def _regularise(series: pd.Series) -> tuple[pd.Series, pd.DateOffset]:
    """Sorted, numeric, on a complete regular index; (values, frequency). Raises ValueError if invalid."""
    if not isinstance(series, pd.Series):
        raise ValueError(f"series must be a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("series must have a DatetimeIndex")
    try:
        values = pd.to_numeric(series, errors="raise").astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"series values must be numeric: {exc}") from exc
    values = values.replace([np.inf, -np.inf], np.nan)
    if values.index.hasnans:
        raise ValueError("series index contains NaT")
    if values.index.has_duplicates:
        raise ValueError("series index has duplicate dates")
    freq = series.index.freq
    values = values.sort_index()
    if values.notna().sum() == 0:
        raise ValueError("series has no observations")
    if freq is None:
        freq = _infer_freq(values.index)
    full = pd.date_range(values.index[0], values.index[-1], freq=freq)
    if not values.index.isin(full).all():
        raise ValueError(f"series dates are not aligned to their frequency {freq.freqstr}")
    values = values.reindex(full)
    if values.isna().any():
        # Gaps: interpolate between neighbours; the ends take the nearest observation.
        values = values.interpolate(method="linear", limit_direction="both")
    values.index.freq = freq
    return values, freq


def _infer_freq(index: pd.DatetimeIndex) -> pd.DateOffset:
    if len(index) < 2:
        raise ValueError("cannot infer the frequency of a single observation: set series.index.freq")
    if len(index) >= 3:
        with pd.option_context("future.infer_freq_returns_offset", True):  # pandas' coming answer: an offset
            inferred = pd.infer_freq(index)
        if inferred:
            return pd.tseries.frequencies.to_offset(inferred)
    # Gappy series: the most common step, if it is a day, a week, a month or a quarter.
    steps = index.to_series().diff().dropna().dt.days
    step = int(steps.mode().iloc[0])
    month_start = bool((index.day == 1).all())
    month_end = bool(index.is_month_end.all())
    if step == 1:
        return pd.offsets.Day()
    if step == 7:
        return pd.offsets.Week(weekday=int(index[0].weekday()))
    if 28 <= step <= 31 and (month_start or month_end):
        return pd.offsets.MonthBegin() if month_start else pd.offsets.MonthEnd()
    if 89 <= step <= 92 and (month_start or month_end):
        start_month = int(index[0].month)
        return (pd.offsets.QuarterBegin(startingMonth=start_month) if month_start
                else pd.offsets.QuarterEnd(startingMonth=start_month))
    raise ValueError("cannot infer a regular daily, weekly, monthly or quarterly frequency from the series dates")


def _base_freq(freq: pd.DateOffset) -> str:
    code = freq.freqstr.split("-")[0]
    if code in SEASON_BY_FREQ:
        return code
    return code.rstrip("E").rstrip("S") or code


# --- seasonal adjustment and transform ----------------------------------------------------
@dataclass(frozen=True)
class _Shape:
    """How a training window is modelled: log or not, and its seasonal indices (None: no season)."""

    log: bool
    seasonal: np.ndarray | None  # one index per phase (t % m); added on the model's scale, or multiplied
    multiplicative: bool  # raw-scale indices that multiply (used when the scale is not log)

    def adjust(self, y: np.ndarray) -> np.ndarray:
        z = np.log(y) if self.log else y
        if self.seasonal is None:
            return z
        season = self.seasonal[np.arange(len(z)) % len(self.seasonal)]
        return z / season if self.multiplicative else z - season

    def restore(self, n: int, adjusted: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seasonality put back on steps n, n+1, ...: (value, se) on the model's scale (log if log)."""
        if self.seasonal is None:
            return adjusted, se
        season = self.seasonal[np.arange(n, n + len(adjusted)) % len(self.seasonal)]
        if self.multiplicative:
            return adjusted * season, se * season
        return adjusted + season, se


def _use_log(y: np.ndarray, m: int) -> bool:
    """Log when the series is positive and its spread grows with its level (Guerrero's method, lambda 0 vs 1)."""
    if not (y > 0).all() or len(y) < 2 * max(m, 2):
        return False
    width = max(m, 2)
    blocks = y[len(y) % width:].reshape(-1, width)
    means, spreads = blocks.mean(axis=1), blocks.std(axis=1, ddof=1)
    if (spreads <= 0).all():
        return False

    def variation(power: float) -> float:
        ratios = spreads / means ** power
        return float(np.std(ratios, ddof=1) / np.mean(ratios))

    # lambda = 1 - power: power 1 is the log (spread proportional to level), 0 no transform.
    return variation(1.0) < variation(0.0) and means.max() > LOG_MIN_RANGE * means.min()


def _is_seasonal(z: np.ndarray, m: int) -> bool:
    """The autocorrelation at lag m is significant at 90 % (the M4 competition's benchmark test),
    measured around the centred moving average when the series is long enough: a trend's own
    autocorrelation would otherwise hide the season."""
    if m < 2 or len(z) < 3 * m:
        return False
    trend, offset = _centred_average(z, m)
    detrended = z[offset:offset + len(trend)] - trend
    return _significant_at_lag(detrended if len(detrended) >= 3 * m else z, m)


def _significant_at_lag(z: np.ndarray, m: int) -> bool:
    n = len(z)
    centred = z - z.mean()
    denominator = float(centred @ centred)
    if denominator <= 0:
        return False
    acf = np.array([float(centred[k:] @ centred[:n - k]) / denominator for k in range(1, m + 1)])
    limit = 1.645 * math.sqrt((1 + 2 * float(np.sum(acf[:-1] ** 2))) / n)
    return abs(acf[-1]) > limit


def _centred_average(z: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """The centred moving average over one season (2 x m for even m) and the index of its first point."""
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    return np.convolve(z, weights, mode="valid"), (len(weights) - 1) // 2


def _seasonal_indices(z: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition: the centred moving average's ratios (or differences), averaged per phase."""
    trend, offset = _centred_average(z, m)
    detrended = z[offset:offset + len(trend)] / trend if multiplicative else z[offset:offset + len(trend)] - trend
    phases = np.arange(offset, offset + len(trend)) % m
    indices = np.array([detrended[phases == phase].mean() for phase in range(m)])
    return indices / indices.mean() if multiplicative else indices - indices.mean()


def _shape(y: np.ndarray, m: int, log: bool) -> _Shape:
    z = np.log(y) if log else y
    if not _is_seasonal(z, m):
        return _Shape(log, None, False)
    multiplicative = not log and bool((y > 0).all())
    indices = _seasonal_indices(z, m, multiplicative)
    if not np.isfinite(indices).all() or (multiplicative and (indices <= 0).any()):
        return _Shape(log, None, False)
    return _Shape(log, indices, multiplicative)


# --- models of the seasonally adjusted series ---------------------------------------------
def _naive(y: np.ndarray, h: int, m: int) -> _Prediction:
    """Seasonal naive (m > 1) or naive: repeat the last season; se from the in-sample lag-m errors."""
    lag = m if m > 1 and len(y) > m else 1
    last_season = y[-lag:]
    steps = np.arange(h)
    mean = last_season[steps % lag]
    diffs = y[lag:] - y[:-lag]
    sigma = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0
    se = sigma * np.sqrt(steps // lag + 1)
    return _Prediction(mean, se)


def _short_series(y: np.ndarray, h: int) -> _Prediction:
    """1-3 points: repeat the last value; intervals from the spread seen, at least 25% of the level."""
    spread = float(np.std(y, ddof=1)) if len(y) > 1 else 0.0
    floor = 0.25 * float(np.abs(y).mean()) or 1.0
    sigma = max(spread, floor)
    return _Prediction(np.full(h, y[-1]), sigma * np.sqrt(np.arange(1, h + 1)))


def _ses_errors(x: list[float], alpha: float) -> tuple[float, list[float]]:
    """Simple exponential smoothing from level x[0]: (final level, one-step errors)."""
    level, errors = x[0], []
    for value in x[1:]:
        error = value - level
        errors.append(error)
        level += alpha * error
    return level, errors


def _fit_ses(x: np.ndarray) -> tuple[float, float, float]:
    """(alpha, final level, residual sd) minimising the one-step squared errors."""
    values = x.tolist()

    def sse(alpha: float) -> float:
        return float(np.sum(np.square(_ses_errors(values, alpha)[1])))

    alpha = float(minimize_scalar(sse, bounds=(0.01, 0.99), method="bounded",
                                  options={"xatol": 1e-3}).x)
    level, errors = _ses_errors(values, alpha)
    return alpha, level, float(np.sqrt(np.mean(np.square(errors))))


def _ses(x: np.ndarray, h: int) -> _Prediction:
    alpha, level, sigma = _fit_ses(x)
    steps = np.arange(1, h + 1)
    return _Prediction(np.full(h, level), sigma * np.sqrt(1 + (steps - 1) * alpha**2))


def _theta(x: np.ndarray, h: int) -> _Prediction:
    """The Theta method (Assimakopoulos and Nikolopoulos 2000) as SES with half the linear trend's drift."""
    alpha, level, sigma = _fit_ses(x)
    n = len(x)
    slope = float(np.polyfit(np.arange(n), x, 1)[0])
    steps = np.arange(1, h + 1)
    mean = level + 0.5 * slope * (steps - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    return _Prediction(mean, sigma * np.sqrt(1 + (steps - 1) * alpha**2))


def _holt_errors(x: list[float], alpha: float, beta: float, phi: float, trend0: float
                 ) -> tuple[float, float, list[float]]:
    level, trend, errors = x[0], trend0, []
    for value in x[1:]:
        error = value - level - phi * trend
        errors.append(error)
        level = level + phi * trend + alpha * error
        trend = phi * trend + alpha * beta * error
    return level, trend, errors


def _damped(x: np.ndarray, h: int) -> _Prediction:
    """Holt's linear trend damped by phi (Gardner and McKenzie 1985), ETS(A,Ad,N)."""
    values = x.tolist()
    head = min(len(x) - 1, 4)
    trend0 = float((x[head] - x[0]) / head) if head > 0 else 0.0

    def sse(params: np.ndarray) -> float:
        return float(np.sum(np.square(_holt_errors(values, *params, trend0)[2])))

    result = minimize(sse, np.array([0.3, 0.1, 0.95]), method="L-BFGS-B",
                      bounds=[(0.01, 0.99), (0.01, 0.99), (0.8, 0.98)], options={"maxiter": 60})
    alpha, beta, phi = (float(v) for v in result.x)
    level, trend, errors = _holt_errors(values, alpha, beta, phi, trend0)
    sigma = float(np.sqrt(np.mean(np.square(errors))))
    steps = np.arange(1, h + 1)
    damping = np.cumsum(phi ** steps)  # phi + phi^2 + ... + phi^h
    mean = level + damping * trend
    # Forecast variance of ETS(A,Ad,N) (Hyndman et al. 2008, table 6.1): c_j = alpha (1 + beta phi_j).
    c = alpha * (1 + beta * damping[:-1])
    se = sigma * np.sqrt(1 + np.r_[0.0, np.cumsum(c**2)])
    return _Prediction(mean, se)


def _drift(x: np.ndarray, h: int) -> _Prediction:
    """Random walk with drift: the last value plus the average step."""
    n = len(x)
    steps = np.arange(1, h + 1)
    slope = float((x[-1] - x[0]) / (n - 1))
    sigma = float(np.std(np.diff(x), ddof=1)) if n > 2 else 0.0
    return _Prediction(x[-1] + slope * steps, sigma * np.sqrt(steps * (1 + steps / (n - 1))))


_Fitter = Callable[[np.ndarray, int], _Prediction]
MODELS: dict[str, _Fitter] = {"ses": _ses, "theta": _theta, "ets_AAdN": _damped, "drift": _drift}


# --- selection ---------------------------------------------------------------------------
def _origins(n: int, horizon: int, min_train: int) -> tuple[int, list[int]]:
    """Backtest horizon and train sizes at each origin, most recent first (none when too short)."""
    h = min(horizon, max(1, n // 4))
    spacing = max(1, h // ORIGIN_SPACING)
    origins = [n - h - i * spacing for i in range(N_ORIGINS)]
    return h, [o for o in origins if o >= min_train]


def _mase_scale(y: np.ndarray, m: int) -> float:
    lag = m if len(y) > m else 1
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    if scale > 0:
        return scale
    # Constant (seasonal) series: relative to the level, so a perfect forecast still scores 0.
    return float(np.mean(np.abs(y))) or 1.0


def _model_paths(y: np.ndarray, h: int, m: int, log: bool) -> dict[str, _Prediction]:
    """Every model's forecast of the next h steps of y on the model's scale (log if log, seasonality
    included); models that fail are left out."""
    shape = _shape(y, m, log)
    adjusted = shape.adjust(y)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, fitter in MODELS.items():
            try:
                pred = fitter(adjusted, h)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                continue
            value, se = shape.restore(len(y), pred.mean, pred.se)
            if np.isfinite(value).all() and np.isfinite(se).all():
                out[name] = _Prediction(value, se)
    return out


def _candidates(paths: dict[str, _Prediction], seasonal_naive: _Prediction) -> dict[str, _Prediction]:
    """The forecasts the backtest chooses from (on the model's scale): the median of the models
    (combinations are robust: M3, M4), and the mean of that median and the seasonal naive forecast
    (for series whose season changes faster than the decomposition follows). A combination's se is
    its members' mean: their errors are correlated, so averaging does not shrink it much."""
    members = [paths[name] for name in COMBINED_MEMBERS if name in paths]
    if not members:
        return {}
    combined = _Prediction(np.median([p.mean for p in members], axis=0), np.mean([p.se for p in members], axis=0))
    mixed = _Prediction((combined.mean + seasonal_naive.mean) / 2, (combined.se + seasonal_naive.se) / 2)
    return {COMBINED: combined, MIXED: mixed, **{k: paths[k] for k in ELIGIBLE_SINGLES if k in paths}}


def _to_raw(value: np.ndarray, log: bool) -> np.ndarray:
    return np.exp(np.minimum(value, 700.0)) if log else value


def _select_and_fit(y: np.ndarray, horizon: int, season_length: int
                    ) -> tuple[str, _Prediction, float, int, dict[str, float]]:
    """(model name, prediction, its backtest MASE, season used, every candidate's backtest MASE)."""
    n = len(y)
    m = season_length
    h_bt, origins = _origins(n, horizon, min_train=2 * m + 2 if m > 1 else 3)
    if m > 1 and not origins:
        m = 1  # too short for its seasonality: model without it
        h_bt, origins = _origins(n, horizon, min_train=3)
    baseline = "seasonal_naive" if m > 1 else "naive"
    if not origins:
        return baseline, _naive(y, horizon, m), math.nan, m, {}
    scale = _mase_scale(y, m)
    log = _use_log(y, m)
    z = np.log(y) if log else y

    def candidates(end: int, h: int) -> dict[str, _Prediction]:
        return _candidates(_model_paths(y[:end], h, m, log), _naive(z[:end], h, m))

    # Rolling-origin backtest of every candidate and the baseline at each origin.
    errors: dict[str, list[np.ndarray]] = {baseline: []}
    standardized: dict[str, list[np.ndarray]] = {}
    for origin in origins:
        actual = y[origin:origin + h_bt]
        errors[baseline].append(np.abs(actual - _naive(y[:origin], h_bt, m).mean))
        for name, path in candidates(origin, h_bt).items():
            errors.setdefault(name, []).append(np.abs(actual - _to_raw(path.mean, log)))
            with np.errstate(divide="ignore", invalid="ignore"):
                standardized.setdefault(name, []).append(np.abs(z[origin:origin + h_bt] - path.mean) / path.se)
    scores = {name: float(np.mean(np.concatenate(found)) / scale)
              for name, found in errors.items() if len(found) == len(origins)}

    paths = candidates(n, horizon)
    # A single model must beat the combinations clearly: on short backtests a lucky one often wins.
    ranked = sorted((k for k in scores if k in paths),
                    key=lambda k: scores[k] / (SINGLE_MARGIN if k in ELIGIBLE_SINGLES else 1.0))
    # Never a forecast that backtested worse than the baseline.
    beating = [k for k in ranked if scores[k] <= scores[baseline]]
    if not beating:
        name = f"{baseline} (fallback: every model backtested worse)" if ranked else baseline
        return name, _naive(y, horizon, m), scores[baseline], m, scores
    chosen = beating[0]
    path = paths[chosen]
    # Widen the intervals when the held-out errors ran larger than the model's own se says.
    ratios = np.concatenate(standardized[chosen])
    ratios = ratios[np.isfinite(ratios)]
    widen = float(np.quantile(ratios, CALIBRATION_QUANTILE)) / Z_CALIBRATION if len(ratios) else 1.0
    se = path.se * min(max(widen, 1.0), MAX_WIDEN)
    name = chosen + (" on the log scale" if log else "")
    return name, _Prediction(_to_raw(path.mean, log), se, log=log), scores[chosen], m, scores


def _build(index: pd.DatetimeIndex, pred: _Prediction, name: str, mase: float, m: int,
           scores: dict[str, float], nonnegative: bool) -> Forecast:
    mean = pred.mean.astype(float)
    se = np.maximum(pred.se.astype(float), 0.0)
    if pred.log:
        bounds = {"lower80": mean * np.exp(-Z80 * se), "upper80": mean * np.exp(np.minimum(Z80 * se, 700.0)),
                  "lower95": mean * np.exp(-Z95 * se), "upper95": mean * np.exp(np.minimum(Z95 * se, 700.0))}
    else:
        bounds = {"lower80": mean - Z80 * se, "upper80": mean + Z80 * se,
                  "lower95": mean - Z95 * se, "upper95": mean + Z95 * se}
    if nonnegative:
        mean = np.maximum(mean, 0.0)
        bounds = {key: np.maximum(value, 0.0) for key, value in bounds.items()}

    def as_series(values: np.ndarray) -> pd.Series:
        return pd.Series(values, index=index, dtype=float)

    return Forecast(mean=as_series(mean), model_name=name, backtest_mase=mase, season_length=m,
                    candidates=scores, **{key: as_series(value) for key, value in bounds.items()})

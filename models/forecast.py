"""Forecast one regular time series with prediction intervals, choosing the model by backtest.

`forecast_series(series, horizon)` tries a seasonal-naive baseline and a few small statsmodels
models (ETS with additive errors, optionally damped trend and seasonality; Theta; a small
seasonal ARIMA), scores each by a rolling-origin backtest (MASE over a few forecast origins,
each forecasting as far ahead as the horizon allows) and refits the best one on all the data.

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
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.statespace.sarimax import SARIMAX

# Imported at module level on purpose: threadpool_limits (below) only reaches BLAS libraries
# already loaded, and these imports load SciPy's.
from threadpoolctl import threadpool_limits

Z80 = 1.2815515655446004  # two-sided 80% normal quantile
Z95 = 1.959963984540054  # two-sided 95%
N_ORIGINS = 3  # forecast origins in the backtest
SHORT_SERIES = 4  # fewer points than this: naive forecast, no backtest
MAX_HISTORY = {"D": 3 * 365, "B": 3 * 260, "W": 8 * 52}  # points fitted; other frequencies keep all
SARIMA_MAX_POINTS = 150  # the seasonal ARIMA is the slowest candidate; skip it on longer fits
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
    se: np.ndarray  # standard error of each step's forecast


_Fitter = Callable[[np.ndarray, int, int], _Prediction]


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


# --- models ------------------------------------------------------------------------------
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


def _ets(trend: bool, damped: bool, seasonal: bool) -> _Fitter:
    def fit(y: np.ndarray, h: int, m: int) -> _Prediction:
        options = {"error": "add", "trend": "add" if trend else None, "damped_trend": damped,
                   "seasonal": "add" if seasonal else None, "seasonal_periods": m if seasonal else None}
        # A Series (not an array): statsmodels' ETS prediction results need an index.
        endog = pd.Series(y)
        try:
            # Heuristic initial states leave only the smoothing parameters to optimise: much faster.
            model = ETSModel(endog, initialization_method="heuristic", **options)
        except ValueError:  # fewer than two seasons or ten points
            model = ETSModel(endog, **options)
        result = model.fit(disp=False, maxiter=200)
        prediction = result.get_prediction(start=len(y), end=len(y) + h - 1)
        return _Prediction(np.asarray(prediction.predicted_mean, float),
                           np.sqrt(np.asarray(prediction.forecast_variance, float)))
    return fit


def _theta(y: np.ndarray, h: int, m: int) -> _Prediction:
    result = ThetaModel(y, period=m, deseasonalize=m > 1, method="additive").fit()
    mean = np.asarray(result.forecast(h), float)
    bounds = np.asarray(result.prediction_intervals(h, alpha=0.05), float)
    return _Prediction(mean, (bounds[:, 1] - bounds[:, 0]) / (2 * Z95))


def _sarima(y: np.ndarray, h: int, m: int) -> _Prediction:
    seasonal = (0, 1, 1, m) if m > 1 else (0, 0, 0, 0)
    result = SARIMAX(y, order=(1, 1, 1), seasonal_order=seasonal).fit(disp=False, maxiter=50)
    forecast = result.get_forecast(h)
    return _Prediction(np.asarray(forecast.predicted_mean, float), np.sqrt(np.asarray(forecast.var_pred_mean, float)))


def _candidates(n_train: int, m: int) -> dict[str, _Fitter]:
    """The models worth trying on `n_train` points with seasonal period m (1: none)."""
    baseline = "seasonal_naive" if m > 1 else "naive"
    models: dict[str, _Fitter] = {baseline: _naive}
    if n_train >= 6:
        models["ets_ANN"] = _ets(trend=False, damped=False, seasonal=False)
        models["ets_AAdN"] = _ets(trend=True, damped=True, seasonal=False)
        models["theta"] = _theta
    if m > 1:
        models["ets_ANA"] = _ets(trend=False, damped=False, seasonal=True)
        models["ets_AAdA"] = _ets(trend=True, damped=True, seasonal=True)
    # Seasonal ARIMA only for monthly and quarterly seasons: with a weekly season on daily data it
    # is several times slower than everything else together, and ETS covers that case.
    if 12 <= n_train <= SARIMA_MAX_POINTS and m in (1, 4, 12):
        models["sarima"] = _sarima
    return models


def _run(fitter: _Fitter, y: np.ndarray, h: int, m: int) -> _Prediction | None:
    """The model's prediction, or None when it fails or gives non-finite numbers."""
    with warnings.catch_warnings():
        # Optimiser chatter on short or flat series; a bad fit shows in the backtest anyway.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        try:
            pred = fitter(y, h, m)
        except Exception:  # noqa: BLE001 - any model failure falls back to the others
            return None
    if len(pred.mean) != h or not np.isfinite(pred.mean).all():
        return None
    se = np.where(np.isfinite(pred.se) & (pred.se >= 0), pred.se, np.nan)
    return _Prediction(pred.mean, se)


# --- selection ---------------------------------------------------------------------------
def _origins(n: int, horizon: int, min_train: int) -> tuple[int, list[int]]:
    """Backtest horizon and train sizes at each origin (non-empty list or none possible)."""
    h = min(horizon, max(1, n // 4))
    spacing = max(1, h // 2)
    origins = [n - h - i * spacing for i in range(N_ORIGINS)]
    return h, [o for o in origins if o >= min_train]


def _mase_scale(y: np.ndarray, m: int) -> float:
    lag = m if len(y) > m else 1
    scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    if scale > 0:
        return scale
    # Constant (seasonal) series: relative to the level, so a perfect forecast still scores 0.
    return float(np.mean(np.abs(y))) or 1.0


def _select_and_fit(y: np.ndarray, horizon: int, season_length: int
                    ) -> tuple[str, _Prediction, float, int, dict[str, float]]:
    n = len(y)
    m = season_length
    h_bt, origins = _origins(n, horizon, min_train=2 * m + 2 if m > 1 else 3)
    if m > 1 and not origins:
        m = 1  # too short for its seasonality: model without it
        h_bt, origins = _origins(n, horizon, min_train=3)
    scale = _mase_scale(y, m)
    models = _candidates(min(origins) if origins else n, m)
    scores: dict[str, float] = {}
    for name, fitter in models.items():
        errors = []
        for origin in origins:
            pred = _run(fitter, y[:origin], h_bt, m)
            if pred is None:
                break
            errors.append(np.abs(y[origin:origin + h_bt] - pred.mean))
        else:
            if errors:
                scores[name] = float(np.mean(np.concatenate(errors)) / scale)
    baseline = next(iter(models))
    ranked = sorted(scores, key=lambda k: (scores[k], k != baseline))
    for name in [*ranked, baseline]:
        pred = _run(models[name], y, horizon, m)
        if pred is not None:
            return name, _fill_se(pred, y, horizon, m), scores.get(name, math.nan), m, scores
    # Only reached when even the baseline failed, i.e. never for finite input.
    return "naive", _short_series(y, horizon), math.nan, 1, scores


def _fill_se(pred: _Prediction, y: np.ndarray, h: int, m: int) -> _Prediction:
    """Replace missing standard errors with the seasonal-naive ones."""
    if np.isnan(pred.se).any():
        return _Prediction(pred.mean, np.where(np.isnan(pred.se), _naive(y, h, m).se, pred.se))
    return pred


def _build(index: pd.DatetimeIndex, pred: _Prediction, name: str, mase: float, m: int,
           scores: dict[str, float], nonnegative: bool) -> Forecast:
    mean = pred.mean.astype(float)
    se = np.maximum(pred.se.astype(float), 0.0)
    bounds = {"lower80": mean - Z80 * se, "upper80": mean + Z80 * se,
              "lower95": mean - Z95 * se, "upper95": mean + Z95 * se}
    if nonnegative:
        mean = np.maximum(mean, 0.0)
        bounds = {key: np.maximum(value, 0.0) for key, value in bounds.items()}

    def as_series(values: np.ndarray) -> pd.Series:
        return pd.Series(values, index=index, dtype=float)

    return Forecast(mean=as_series(mean), model_name=name, backtest_mase=mase, season_length=m,
                    candidates=scores, **{key: as_series(value) for key, value in bounds.items()})

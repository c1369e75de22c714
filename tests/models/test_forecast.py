"""models.forecast on shapes that broke the first version: a seasonal swing growing with the level,
the fallback to seasonal naive, intervals transformed back from logs, and very short series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.forecast import forecast_series


def growing_swing(months: int, seed: int = 0) -> pd.Series:
    """Sales growing 2 % a month whose seasonal swing (+-35 %) grows with them: multiplicative."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    values = 1_000 * 1.02**t * (1 + 0.35 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, months))
    return pd.Series(values, index=pd.date_range("2015-01-01", periods=months, freq="MS"))


def mase(forecast: np.ndarray, actual: np.ndarray, history: np.ndarray, season: int = 12) -> float:
    return float(np.mean(np.abs(forecast - actual)) / np.mean(np.abs(history[season:] - history[:-season])))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_growing_seasonal_swing_beats_seasonal_naive_on_the_held_out_months(seed):
    series = growing_swing(96 + 18, seed)
    history, future = series.iloc[:-18], series.iloc[-18:].to_numpy()
    forecast = forecast_series(history, 18)
    y = history.to_numpy()
    seasonal_naive = y[-12:][np.arange(18) % 12]
    model = mase(forecast.mean.to_numpy(), future, y)
    assert model < 0.6 * mase(seasonal_naive, future, y)
    assert "log scale" in forecast.model_name  # the spread grows with the level
    # The season is kept: the forecast peaks and troughs with the history's months.
    assert np.corrcoef(forecast.mean.to_numpy(), future)[0, 1] > 0.9


def test_intervals_back_from_logs_hold_the_forecast_and_widen_with_the_horizon():
    forecast = forecast_series(growing_swing(96), 24)
    frame = forecast.to_frame()
    assert (frame["lower95"] < frame["lower80"]).all() and (frame["lower80"] < frame["mean"]).all()
    assert (frame["mean"] < frame["upper80"]).all() and (frame["upper80"] < frame["upper95"]).all()
    # Relative to the level (the season scales both), the 95 % band never narrows further out...
    relative = ((frame["upper95"] - frame["lower95"]) / frame["mean"]).to_numpy()
    assert (np.diff(relative) >= -1e-9).all() and relative[-1] > relative[0]
    # ... and, transformed back from logs, it is wider above the forecast than below.
    assert ((frame["upper95"] - frame["mean"]) > (frame["mean"] - frame["lower95"])).all()


def test_trend_without_season_widens_in_absolute_terms():
    rng = np.random.default_rng(3)
    values = 500 + 4 * np.arange(60) + rng.normal(0, 10, 60)
    forecast = forecast_series(pd.Series(values, index=pd.date_range("2020-01-01", periods=60, freq="MS")), 12)
    width = (forecast.upper95 - forecast.lower95).to_numpy()
    assert (np.diff(width) >= -1e-9).all() and width[-1] > width[0]
    assert forecast.mean.iloc[-1] > values[-12:].mean()  # the trend goes on (damped, not flat)


def test_fallback_to_seasonal_naive_is_named_when_every_model_backtests_worse():
    # 34 months of a sharp season: too short for the models to learn it (three seasons are needed),
    # while repeating last year is exact.
    pattern = np.array([10, 80, 15, 60, 5, 90, 20, 70, 10, 50, 30, 100], dtype=float)
    series = pd.Series(np.tile(pattern, 3)[:34], index=pd.date_range("2023-01-01", periods=34, freq="MS"))
    forecast = forecast_series(series, 6)
    assert forecast.model_name.startswith("seasonal_naive (fallback")
    assert forecast.backtest_mase == forecast.candidates["seasonal_naive"]
    assert all(score > forecast.backtest_mase for name, score in forecast.candidates.items()
               if name != "seasonal_naive")
    assert np.allclose(forecast.mean.to_numpy(), series.to_numpy()[-12:][:6])


@pytest.mark.parametrize("freq", ["MS", "QS"])
@pytest.mark.parametrize("length", [4, 5, 7, 9, 11, 13, 17, 25, 30])
def test_short_series_get_a_finite_ordered_forecast(freq, length):
    rng = np.random.default_rng(length)
    index = pd.date_range("2024-01-01", periods=length, freq=freq)
    for values in (100 + rng.normal(0, 10, length), np.r_[np.zeros(length - 2), 5.0, 0.0],
                   rng.normal(0, 10, length)):
        forecast = forecast_series(pd.Series(values, index=index), 18)
        frame = forecast.to_frame()
        assert len(frame) == 18 and np.isfinite(frame.to_numpy()).all()
        assert (frame["lower95"] <= frame["mean"]).all() and (frame["mean"] <= frame["upper95"]).all()

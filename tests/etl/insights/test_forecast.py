"""models.forecast on series with known shapes: seasonal, trending, short, gappy, flat, invalid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.forecast import forecast_series


def seasonal_series(n: int = 140, period: int = 7, noise: float = 1.0, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    values = 100 + 20 * np.sin(2 * np.pi * steps / period) + rng.normal(0, noise, n)
    return pd.Series(values, index=pd.date_range("2026-01-05", periods=n, freq="D"))


def test_pure_seasonal_series_forecast_beats_naive_on_held_out_weeks():
    series = seasonal_series(n=168)
    history, future = series.iloc[:-28], series.iloc[-28:]
    forecast = forecast_series(history, 28)
    model_error = np.abs(forecast.mean.to_numpy() - future.to_numpy()).mean()
    naive_error = np.abs(history.iloc[-1] - future.to_numpy()).mean()
    assert model_error < naive_error / 3
    assert forecast.season_length == 7
    # The backtest chose a model at least as good as the seasonal-naive baseline.
    assert forecast.backtest_mase <= forecast.candidates["seasonal_naive"]
    assert forecast.backtest_mase < 1.0


def test_forecast_dates_continue_the_frequency_and_intervals_are_ordered():
    monthly = pd.Series(np.linspace(100, 200, 36) + np.tile(np.arange(12), 3),
                        index=pd.date_range("2023-01-01", periods=36, freq="MS"))
    forecast = forecast_series(monthly, 6)
    expected_dates = pd.date_range("2026-01-01", periods=6, freq="MS")
    frame = forecast.to_frame()
    assert list(frame.index) == list(expected_dates)
    assert (frame["lower95"] <= frame["lower80"]).all() and (frame["lower80"] <= frame["mean"]).all()
    assert (frame["mean"] <= frame["upper80"]).all() and (frame["upper80"] <= frame["upper95"]).all()
    assert ((frame["upper95"] - frame["lower95"]) > (frame["upper80"] - frame["lower80"])).all()
    # A steady upward trend keeps going up.
    assert frame["mean"].iloc[-1] > monthly.iloc[-12:].mean()


@pytest.mark.parametrize("freq, expected", [("D", 7), ("W-MON", 52), ("MS", 12), ("ME", 12), ("QS", 4)])
def test_season_length_inferred_from_the_frequency(freq, expected):
    n = 2 * expected + 12
    values = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / expected)
    index = pd.date_range("2015-01-01", periods=n, freq=freq)
    series = pd.Series(values, index=pd.DatetimeIndex(list(index)))  # no freq set: it is inferred
    forecast = forecast_series(series, 3)
    assert forecast.season_length == expected
    assert forecast.mean.index[0] == index[-1] + index.freq


@pytest.mark.parametrize("values", [[5.0], [5.0, 7.0], [3.0, 0.0, 4.0]])
def test_very_short_series_get_a_naive_forecast_with_wide_intervals(values):
    series = pd.Series(values, index=pd.date_range("2026-01-01", periods=len(values), freq="D"))
    forecast = forecast_series(series, 5)
    assert forecast.model_name == "naive" and math.isnan(forecast.backtest_mase)
    assert (forecast.mean == values[-1]).all()
    assert (forecast.upper95 - forecast.lower95 > 0).all()
    assert (forecast.lower95 >= 0).all()  # non-negative history: non-negative bounds


def test_zeros_constant_and_gappy_series_do_not_raise():
    days = pd.date_range("2026-01-01", periods=60, freq="D")
    zeros = forecast_series(pd.Series(0.0, index=days), 7)
    assert (zeros.mean == 0).all() and (zeros.upper95 == 0).all()
    flat = forecast_series(pd.Series(42.0, index=days), 7)
    assert np.allclose(flat.mean, 42.0) and flat.backtest_mase == 0.0
    gappy = pd.Series(np.arange(60, dtype=float), index=days).drop(days[[5, 6, 7, 30, 59 - 1]])
    forecast = forecast_series(gappy, 7)
    assert forecast.mean.index[0] == pd.Timestamp("2026-03-02")
    assert forecast.mean.iloc[0] > 55  # the gap was filled along the trend, not with zeros
    with_nan = pd.Series(np.arange(60, dtype=float), index=days)
    with_nan.iloc[[10, 11]] = np.nan
    assert forecast_series(with_nan, 3).mean.notna().all()


def test_negative_values_are_not_clipped():
    series = pd.Series(np.linspace(-50, -10, 24), index=pd.date_range("2024-01-01", periods=24, freq="MS"))
    forecast = forecast_series(series, 3)
    assert (forecast.lower95 < 0).all()


@pytest.mark.parametrize("series, horizon, message", [
    (pd.Series([1.0, 2.0, 3.0]), 3, "DatetimeIndex"),
    (pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2026-01-01", periods=3)), 0, "horizon"),
    (pd.Series([1.0], index=pd.DatetimeIndex(["2026-01-01"])), 3, "single observation"),
    (pd.Series([1.0, 2.0, 3.0], index=pd.DatetimeIndex(["2026-01-01", "2026-01-04", "2026-01-15"])), 3,
     "frequency"),
    (pd.Series([np.nan, np.nan], index=pd.date_range("2026-01-01", periods=2)), 3, "no observations"),
    (pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2026-01-01", "2026-01-01"])), 3, "duplicate"),
])
def test_invalid_input_gets_a_clear_error(series, horizon, message):
    with pytest.raises(ValueError, match=message):
        forecast_series(series, horizon)

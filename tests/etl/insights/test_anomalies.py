"""models.anomalies: an injected spike or drop is found, clean noise is quiet, sentences and severity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.anomalies import MetricSpec, detect_anomalies, severity_of

USERS = MetricSpec("active_users", "Daily active users")
AS_OF = pd.Timestamp("2026-11-23")


def usage(accounts: int = 200, days: int = 90, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Poisson daily users with a weekend dip, one row per account and day."""
    rng = np.random.default_rng(seed)
    calendar = pd.date_range(end=AS_OF, periods=days, freq="D")
    level = rng.uniform(20, 120, accounts)
    weekday = np.where(calendar.day_of_week >= 5, 0.4, 1.0)
    values = rng.poisson(level[:, None] * weekday[None, :]).astype(float)
    frame = pd.DataFrame({"account_id": np.repeat([f"acc-{i:03d}" for i in range(accounts)], days),
                          "day": np.tile(calendar, accounts), "value": values.ravel()})
    return frame, values


def test_one_injected_spike_is_found_with_severity_and_sentence():
    frame, _ = usage()
    spike_day = AS_OF - pd.Timedelta(days=2)
    hit = (frame["account_id"] == "acc-042") & (frame["day"] == spike_day)
    frame.loc[hit, "value"] = frame.loc[hit, "value"] * 5
    found = detect_anomalies(frame, USERS)
    spikes = found[found["account_id"] == "acc-042"]
    assert len(spikes) == 1
    row = spikes.iloc[0]
    assert row["kind"] == "spike" and row["detected_on"] == spike_day.date()
    assert row["severity"] == "high" and row["robust_z"] >= 8
    assert row["observed"] == frame.loc[hit, "value"].iloc[0]
    assert row["change_pct"] == pytest.approx(100 * (row["observed"] - row["baseline"]) / row["baseline"], abs=0.01)
    assert row["description"].startswith(f"Daily active users rose to {row['observed']:,.0f} on 21 Nov 2026, ")
    assert "above the 28-day baseline of" in row["description"]
    # Among 200 accounts x 7 days of clean noise the spike is the only high-severity finding.
    assert list(found.loc[found["severity"] == "high", "account_id"]) == ["acc-042"]


def test_clean_noise_gives_no_anomalies():
    frame, _ = usage(accounts=100)
    found = detect_anomalies(frame, USERS)
    assert len(found) <= 2  # 700 account-days evaluated; robust z >= 3.5 is rare in clean data
    assert (found["severity"] == "low").all()


def test_drop_reads_as_a_fall_below_the_baseline_and_weekends_are_not_drops():
    frame, values = usage(accounts=5)
    frame.loc[(frame["account_id"] == "acc-001") & (frame["day"] == AS_OF), "value"] = 0.0
    found = detect_anomalies(frame, MetricSpec("active_users", "Daily active users", kinds=("drop",)))
    assert list(found["account_id"]) == ["acc-001"]
    row = found.iloc[0]
    assert row["kind"] == "drop" and row["change_pct"] == -100.0
    assert row["description"].endswith(f"100% below the 28-day baseline of {row['baseline']:,.0f}.") or \
        "100% below the 28-day baseline of" in row["description"]


def test_new_account_is_not_a_spike_and_weekly_series_work():
    frame, _ = usage(accounts=3)
    newcomer = pd.DataFrame({"account_id": "acc-new", "day": pd.date_range(end=AS_OF, periods=3), "value": 80.0})
    found = detect_anomalies(pd.concat([frame, newcomer]), USERS)
    assert "acc-new" not in set(found["account_id"])
    weeks = pd.date_range(end=AS_OF, periods=12, freq="W-MON")
    weekly = pd.DataFrame({"account_id": "acc-w", "day": weeks, "value": [20.0] * 11 + [2.0]})
    found = detect_anomalies(weekly, MetricSpec("interactions", "Weekly interactions"), freq="W")
    assert len(found) == 1 and found.iloc[0]["kind"] == "drop"
    assert found.iloc[0]["description"] == ("Weekly interactions fell to 2 in the week to 23 Nov 2026, "
                                            "90% below the 8-week baseline of 20.")
    # Daily rows are summed into the 7-day blocks ending on the last day.
    daily = pd.DataFrame({"account_id": "acc-d", "day": pd.date_range(end=AS_OF, periods=84), "value": 3.0})
    daily.loc[daily["day"] > AS_OF - pd.Timedelta(days=7), "value"] = 0.0
    found = detect_anomalies(daily, MetricSpec("interactions", "Weekly interactions"), freq="W")
    assert list(found["observed"]) == [0.0] and list(found["baseline"]) == [21.0]


def test_spike_from_zero_and_severity_thresholds():
    days = pd.date_range(end=AS_OF, periods=40, freq="D")
    frame = pd.DataFrame({"account_id": "quiet", "day": days, "value": [0.0] * 39 + [40.0]})
    found = detect_anomalies(frame, MetricSpec("api_calls", "API calls"))
    assert len(found) == 1 and np.isnan(found.iloc[0]["change_pct"])
    assert found.iloc[0]["description"] == "API calls rose to 40 on 23 Nov 2026, from a 28-day baseline of 0."
    assert [severity_of(z) for z in (3.5, -4.9, 5.0, -7.99, 8.0, 30)] == ["low", "low", "medium", "medium",
                                                                           "high", "high"]
    with pytest.raises(ValueError):
        severity_of(2.0)
    with pytest.raises(ValueError, match="columns"):
        detect_anomalies(frame.drop(columns="value"), USERS)
    assert detect_anomalies(frame.iloc[:0], USERS).empty

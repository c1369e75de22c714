"""The churn features' window sums, recomputed with pandas from silver and compared with the SQL."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from etl.gold import data_window
from etl.intelligence.features import build_features


@pytest.fixture(scope="module")
def silver_frames(loaded_database: Database) -> dict[str, pd.DataFrame]:
    queries = {
        "masters": "SELECT a.account_id, COALESCE(am.master_account_id, a.account_id) AS master_id "
                   "FROM silver.accounts a LEFT JOIN silver.account_master am ON am.account_id = a.account_id",
        "usage": "SELECT account_id, usage_date, active_users FROM silver.usage_daily",
        "chat": "SELECT conv.account_id, CAST(m.sent_at AS date) AS day FROM silver.messages m "
                "JOIN silver.conversations conv ON conv.conversation_id = m.conversation_id "
                "WHERE m.direction IS DISTINCT FROM 'outbound'",
        "meeting": "SELECT account_id, CAST(scheduled_at AS date) AS day FROM silver.meetings "
                   "WHERE outcome = 'completed'",
        "support": "SELECT account_id, CAST(created_at AS date) AS day FROM silver.tickets",
        "email": "SELECT c.account_id, CAST(r.received_at AS date) AS day FROM silver.replies r "
                 "JOIN silver.contacts c ON c.contact_id = r.contact_id",
        "web": "SELECT account_id, CAST(started_at AS date) AS day FROM silver.web_sessions",
    }
    with loaded_database.engine.connect() as conn:
        return {name: pd.read_sql(text(sql), conn) for name, sql in queries.items()}


def _usage_means(frames: dict[str, pd.DataFrame], cutoff) -> pd.DataFrame:
    usage = frames["usage"].merge(frames["masters"], on="account_id")
    daily = usage.groupby(["master_id", "usage_date"], as_index=False)["active_users"].sum()
    age = (pd.Timestamp(cutoff) - pd.to_datetime(daily["usage_date"])).dt.days  # 0 on the cut-off day

    def mean_over(low: int, high: int) -> pd.Series:  # days with age in [low, high)
        return daily[(age >= low) & (age < high)].groupby("master_id")["active_users"].mean()

    return pd.DataFrame({"usage_30d": mean_over(0, 30), "usage_prev_30d": mean_over(30, 60),
                         "usage_prev_90d": mean_over(30, 120)})


def _channels(frames: dict[str, pd.DataFrame], cutoff) -> pd.DataFrame:
    parts = [frames[name].assign(channel=name) for name in ("chat", "meeting", "support", "email", "web")]
    events = pd.concat(parts).merge(frames["masters"], on="account_id")
    age = (pd.Timestamp(cutoff) - pd.to_datetime(events["day"])).dt.days
    recent = events[(age >= 0) & (age < 90)]
    return pd.DataFrame({"channels_90d": recent.groupby("master_id")["channel"].nunique(),
                         "interactions_90d": recent.groupby("master_id").size()})


def test_usage_and_channel_windows_match_an_independent_computation(loaded_database: Database,
                                                                     silver_frames) -> None:
    with loaded_database.engine.connect() as conn:
        as_of = data_window(conn).as_of
        cutoffs = [as_of - timedelta(days=30), as_of - timedelta(days=75), as_of - timedelta(days=200)]
        features = build_features(conn, cutoffs)
    checked = 0
    for cutoff in cutoffs:
        sql = features[features["cutoff"] == cutoff].set_index("account_id")
        assert len(sql) > 0
        usage = _usage_means(silver_frames, cutoff).reindex(sql.index)
        for column in ("usage_30d", "usage_prev_30d", "usage_prev_90d"):
            np.testing.assert_allclose(sql[column].astype(float), usage[column].astype(float), rtol=1e-9,
                                       err_msg=f"{column} at {cutoff}")
            checked += int(usage[column].notna().sum())
        channels = _channels(silver_frames, cutoff).reindex(sql.index).fillna(0)
        for column in ("channels_90d", "interactions_90d"):
            assert sql[column].astype(int).tolist() == channels[column].astype(int).tolist(), (column, cutoff)
    assert checked > 100  # the windows had data to compare

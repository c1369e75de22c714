"""The Support pages' gold tables against an independent pandas reading of the landing files:
one row per ticket and conversation (gold.support_case) and agents at work per hour
(gold.support_staffing_hourly)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from dashboard.db import Database
from tests.etl.reference import Landing, typed


def frame(database: Database, sql: str, **params) -> pd.DataFrame:
    with database.engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.all(), columns=list(result.keys()))


@pytest.fixture(scope="module")
def reference(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


@pytest.fixture(scope="module")
def support(pristine_landing_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: typed(pristine_landing_dir, f"support/{name}") for name in ("conversations", "messages", "agents")}


def test_each_ticket_is_one_case_with_its_sla_team_and_region(loaded_database: Database, reference: Landing,
                                                               support: dict[str, pd.DataFrame]) -> None:
    as_of = reference.as_of
    end = pd.Timestamp(as_of + timedelta(days=1), tz="UTC")
    tickets = reference.tickets.dropna(subset=["created_at"])
    tickets = tickets[tickets["created_at"] < end].set_index("ticket_id")
    stored = frame(loaded_database, "SELECT * FROM gold.support_case WHERE kind = 'ticket'").set_index("case_id")
    # Every ticket that reached silver is one case; the generator's malformed rows are the only ones missing.
    assert set(stored.index) <= set(tickets.index)
    assert len(stored) >= 0.99 * len(tickets)
    tickets = tickets.loc[stored.index]

    responded = tickets["first_response_at"].notna()
    minutes = (tickets["first_response_at"] - tickets["created_at"]).dt.total_seconds() / 60
    sla = tickets["sla_first_response_minutes"]
    met = responded & (minutes <= sla)
    breached = (responded & (minutes > sla)) | (~responded & (tickets["created_at"] + pd.to_timedelta(sla, "min") < end))
    assert (stored["sla_met"] == met).all()
    assert (stored["sla_breached"] == breached).all()
    assert stored["sla_met"].sum() > 0 and stored["sla_breached"].sum() > 0
    assert (stored["is_open"] == tickets["resolved_at"].isna()).all()
    assert (stored["waiting_since"].notna() == (tickets["resolved_at"].isna() & ~responded)).all()
    resolution = (tickets["resolved_at"] - tickets["created_at"]).dt.total_seconds() / 60
    np.testing.assert_allclose(stored["resolution_minutes"].astype(float), resolution.astype(float), rtol=1e-9)
    assert (stored["reopen_count"] == tickets["reopen_count"].fillna(0).astype(int)).all()
    assert stored["reopen_count"].gt(0).any()

    accounts = reference.accounts.set_index("account_id")
    assert (stored["region"] == tickets["account_id"].map(accounts["region"]).fillna("Unknown")).all()
    agents = support["agents"].set_index("agent_id")
    team = tickets["agent_id"].map(agents["team"]).fillna("No team").where(tickets["agent_id"].notna(), "Unassigned")
    assert (stored["team"] == team).all()
    assert (stored["opened_weekday"] == tickets["created_at"].dt.day_of_week + 1).all()
    assert (stored["opened_hour"] == tickets["created_at"].dt.hour).all()


def test_each_conversation_has_its_first_response_and_waiting_time(loaded_database: Database,
                                                                   support: dict[str, pd.DataFrame]) -> None:
    stored = frame(loaded_database, "SELECT * FROM gold.support_case WHERE kind = 'conversation'").set_index("case_id")
    conversations = support["conversations"].set_index("conversation_id").loc[stored.index]
    messages = support["messages"].dropna(subset=["sent_at"])
    messages = messages[messages["conversation_id"].isin(stored.index)]
    started = messages["conversation_id"].map(conversations["started_at"])
    outbound = messages[(messages["direction"] == "outbound")]
    first_out = outbound[outbound["sent_at"] >= started.loc[outbound.index]].groupby("conversation_id")["sent_at"].min()
    last_out = outbound.groupby("conversation_id")["sent_at"].max()
    inbound = messages[messages["direction"] == "inbound"]
    after_last = inbound[inbound["sent_at"] > inbound["conversation_id"].map(last_out).fillna(
        pd.Timestamp("1970-01-01", tz="UTC"))]
    waiting = after_last.groupby("conversation_id")["sent_at"].min()
    waiting = waiting.reindex(stored.index).where(conversations["closed_at"].isna())

    expected_minutes = (first_out.reindex(stored.index) - conversations["started_at"]).dt.total_seconds() / 60
    np.testing.assert_allclose(stored["first_response_minutes"].astype(float), expected_minutes.astype(float),
                               rtol=1e-9)
    assert (stored["waiting_since"].isna() == waiting.isna()).all()
    both = waiting.notna()
    assert (stored.loc[both, "waiting_since"] == waiting[both]).all()
    assert both.any(), "some open conversation waits for an agent"
    assert (stored["messages"] == messages.groupby("conversation_id").size().reindex(stored.index).fillna(0)).all()
    assert (stored["team"] == "Unassigned").sum() == conversations["assigned_agent_id"].isna().sum()


def test_agents_at_work_per_hour_and_team(loaded_database: Database, reference: Landing,
                                          support: dict[str, pd.DataFrame]) -> None:
    end = pd.Timestamp(reference.as_of + timedelta(days=1), tz="UTC")
    messages = support["messages"]
    tickets = reference.tickets
    activity = pd.concat([
        messages.loc[messages["direction"] == "outbound", ["author_id", "sent_at"]].set_axis(["agent_id", "at"], axis=1),
        tickets[["agent_id", "first_response_at"]].set_axis(["agent_id", "at"], axis=1),
        tickets[["agent_id", "resolved_at"]].set_axis(["agent_id", "at"], axis=1),
    ]).dropna()
    activity = activity[activity["at"] < end]
    agents = support["agents"].set_index("agent_id")
    activity = activity[activity["agent_id"].isin(agents.index)]
    activity = activity.assign(day=activity["at"].dt.date, hour=activity["at"].dt.hour,
                               team=activity["agent_id"].map(agents["team"]).fillna("No team"))
    expected = activity.groupby(["day", "hour", "team"])["agent_id"].nunique()
    stored = frame(loaded_database, "SELECT * FROM gold.support_staffing_hourly").set_index(["day", "hour", "team"])
    # Silver may hold a little less than the landing files (quarantined rows): nearly all hours agree.
    common = expected.index.intersection(stored.index)
    assert len(common) >= 0.98 * len(expected)
    agree = (stored.loc[common, "agents"] == expected.loc[common]).mean()
    assert agree >= 0.98, agree
    assert stored["agents"].max() > 1

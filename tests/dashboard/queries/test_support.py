"""Queues page queries on the real pipeline's output: the queue now, SLA attainment, first response
and resolution percentiles and the peak hours are recomputed independently with pandas from the
pristine landing files (the newest version of each ticket, conversations with their messages, the
accounts' territories) and compared, for the whole company and for a user limited to some
territories. Cases are compared over the ids that reached silver (malformed rows are quarantined)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import support as q
from dashboard.queries.support import PageQuery, SupportFilters
from dashboard.scope import DataScope
from dashboard.tables.gold import SupportCase, SupportSlaDaily
from tests.etl.reference import raw_rows, typed

AS_OF = date(2026, 11, 23)
CLOCK = datetime.combine(AS_OF, time(23, 59, 59), tzinfo=UTC)
EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)


def _timestamps(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")


class Truth:
    """Every ticket and conversation as the page defines it, computed with pandas from the landing files."""

    def __init__(self, landing_dir, silver_ids: set[tuple[str, str]]) -> None:
        accounts = typed(landing_dir, "crm/accounts").set_index("account_id")
        agents = raw_rows(landing_dir, "support/agents").drop_duplicates("agent_id", keep="last").set_index("agent_id")
        as_of_end = pd.Timestamp(AS_OF + timedelta(days=1), tz="UTC")

        tickets = typed(landing_dir, "support/tickets")
        t = pd.DataFrame({"kind": "ticket", "case_id": tickets["ticket_id"], "account_id": tickets["account_id"],
                          "channel": tickets["channel"], "severity": tickets["severity"],
                          "agent_id": tickets["agent_id"], "opened_at": tickets["created_at"],
                          "first_response_at": tickets["first_response_at"], "resolved_at": tickets["resolved_at"],
                          "sla_minutes": tickets["sla_first_response_minutes"], "csat": tickets["csat"],
                          "reopen_count": tickets["reopen_count"].fillna(0)})
        t["waiting_since"] = t["opened_at"].where(t["resolved_at"].isna() & t["first_response_at"].isna())

        conversations = raw_rows(landing_dir, "support/conversations").drop_duplicates("conversation_id", keep="last")
        messages = raw_rows(landing_dir, "support/messages").drop_duplicates("message_id", keep="last")
        messages["sent_at"] = _timestamps(messages["sent_at"])
        messages = messages[messages["sent_at"].notna()]
        c = pd.DataFrame({"kind": "conversation", "case_id": conversations["conversation_id"],
                          "account_id": conversations["account_id"], "channel": conversations["channel"],
                          "severity": None, "agent_id": conversations["assigned_agent_id"],
                          "opened_at": _timestamps(conversations["started_at"]),
                          "resolved_at": _timestamps(conversations["closed_at"]), "sla_minutes": float("nan"),
                          "csat": float("nan"), "reopen_count": float("nan")})
        thread = messages.merge(c[["case_id", "opened_at"]], left_on="conversation_id", right_on="case_id")
        outbound = thread[thread["direction"] == "outbound"]
        first_out = outbound[outbound["sent_at"] >= outbound["opened_at"]].groupby("case_id")["sent_at"].min()
        last_out = outbound.groupby("case_id")["sent_at"].max()
        inbound = thread[thread["direction"] == "inbound"].copy()
        inbound["last_out"] = inbound["case_id"].map(last_out)
        waiting = inbound[inbound["last_out"].isna() | (inbound["sent_at"] > inbound["last_out"])] \
            .groupby("case_id")["sent_at"].min()
        c["first_response_at"] = c["case_id"].map(first_out)
        c["waiting_since"] = c["case_id"].map(waiting).where(c["resolved_at"].isna())

        cases = pd.concat([t, c], ignore_index=True)
        cases = cases[[(k, i) in silver_ids for k, i in zip(cases["kind"], cases["case_id"], strict=True)]].copy()
        cases["channel"] = cases["channel"].fillna("Unknown")
        cases["territory"] = cases["account_id"].map(accounts["territory"]).fillna("Unknown")
        cases["team"] = cases["agent_id"].map(agents["team"]).fillna("No team").where(cases["agent_id"].notna(),
                                                                                      q.UNASSIGNED)
        cases["opened_day"] = cases["opened_at"].dt.tz_convert("UTC").dt.date
        cases["weekday"] = cases["opened_at"].dt.isocalendar().day.astype(int)
        cases["hour"] = cases["opened_at"].dt.hour
        cases["frt"] = (cases["first_response_at"] - cases["opened_at"]).dt.total_seconds() / 60
        cases["resolution"] = (cases["resolved_at"] - cases["opened_at"]).dt.total_seconds() / 60
        cases["sla_due_at"] = cases["opened_at"] + pd.to_timedelta(cases["sla_minutes"], unit="min")
        has_sla = cases["sla_minutes"].notna()
        answered = cases["first_response_at"].notna()
        cases["sla_met"] = has_sla & answered & (cases["frt"] <= cases["sla_minutes"])
        cases["sla_breached"] = has_sla & ((answered & (cases["frt"] > cases["sla_minutes"]))
                                           | (~answered & (cases["sla_due_at"] < as_of_end)))
        cases["is_open"] = cases["resolved_at"].isna()
        self.cases = cases[cases["opened_day"] <= AS_OF].reset_index(drop=True)

    def period(self, days: int = 30, territories: set[str] | None = None) -> pd.DataFrame:
        start = AS_OF - timedelta(days=days - 1)
        frame = self.cases[(self.cases["opened_day"] >= start) & (self.cases["opened_day"] <= AS_OF)]
        return frame if territories is None else frame[frame["territory"].isin(territories)]

    def open_now(self, territories: set[str] | None = None) -> pd.DataFrame:
        frame = self.cases[self.cases["is_open"] & (self.cases["opened_at"] <= CLOCK)]
        return frame if territories is None else frame[frame["territory"].isin(territories)]

    @staticmethod
    def sla_rate(frame: pd.DataFrame) -> float | None:
        met, breached = int(frame["sla_met"].sum()), int(frame["sla_breached"].sum())
        return met / (met + breached) if met + breached else None


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


@pytest.fixture(scope="module")
def truth(loaded_database, pristine_landing_dir) -> Truth:
    with loaded_database.session() as session:
        ids = {(kind, case_id) for kind, case_id in session.execute(select(SupportCase.kind, SupportCase.case_id))}
    return Truth(pristine_landing_dir, ids)


def _filters(session: Session, scope: DataScope = EVERYTHING, **choices) -> SupportFilters:
    resolved = q.resolve_page(session, PageQuery(**choices), scope)
    assert resolved is not None
    return resolved.filters


def _territories(truth: Truth) -> set[str]:
    counts = truth.cases["territory"].value_counts()
    return set(counts.index[:2])


def test_the_clock_is_the_end_of_the_as_of_day_on_static_data(session):
    f = _filters(session)
    assert f.as_of == AS_OF and f.clock == CLOCK  # today is past the demo's as-of day
    early = datetime.combine(AS_OF, time(9, 30), tzinfo=UTC)
    assert q.queue_clock(AS_OF, early) == early  # a live feed: real time
    assert f.period.start == AS_OF - timedelta(days=29) and f.previous.end == AS_OF - timedelta(days=30)


def test_the_queue_now_matches_pandas(session, truth):
    state = q.queue_state(session, _filters(session))
    open_now = truth.open_now()
    assert state.open == len(open_now) > 0
    assert state.unassigned == int(open_now["agent_id"].isna().sum())
    assert state.unanswered == int(open_now["waiting_since"].notna().sum()) > 0
    unanswered_tickets = open_now[(open_now["kind"] == "ticket") & open_now["first_response_at"].isna()
                                  & open_now["sla_minutes"].notna()]
    due = unanswered_tickets["sla_due_at"]
    assert state.breaching == int(((due >= CLOCK) & (due < CLOCK + timedelta(hours=1))).sum())
    assert state.breached == int((due < CLOCK).sum())
    oldest = open_now["waiting_since"].min()
    assert state.oldest_since == oldest.to_pydatetime()
    assert state.oldest_wait_minutes == pytest.approx((CLOCK - oldest).total_seconds() / 60)


def test_each_queue_lists_its_cases(session, truth):
    for queue in q.QUEUES:
        filters = _filters(session, queue=queue)
        found = q.queue_list(session, filters, FULL)
        assert found.total == q.queue_state(session, filters).count(queue), queue
        assert len(found.grid.rows) == min(found.total, q.QUEUE_ROWS)
    unanswered = q.queue_list(session, _filters(session, queue="unanswered"), FULL)
    waits = [row["waiting_minutes"] for row in unanswered.grid.rows]
    assert waits == sorted(waits, reverse=True)  # the longest waiting first
    # "Which customers have open cases, and what is their status?": every open case, with its status.
    open_cases = q.queue_list(session, _filters(session), FULL)
    assert all(row["status"] and row["account_name"] for row in open_cases.grid.rows)
    assert {row["case_id"] for row in open_cases.grid.rows} <= set(truth.open_now()["case_id"])


def test_an_agent_filters_the_queue(session, truth):
    open_now = truth.open_now()
    agent = open_now["agent_id"].dropna().value_counts().index[0]
    filters = _filters(session, agent=agent)
    assert filters.agent == agent
    found = q.queue_list(session, filters, FULL)
    assert found.total == int((open_now["agent_id"] == agent).sum())
    assert {row["row_id"].split(":", 1)[1] for row in found.grid.rows} == \
        set(open_now.loc[open_now["agent_id"] == agent, "case_id"])
    bad = q.resolve_page(session, PageQuery(agent="AGT-9999"), EVERYTHING)
    assert bad.filters.agent is None and bad.notes


def test_sla_matches_pandas_overall_by_severity_and_by_channel(session, truth):
    found = q.sla(session, _filters(session))
    period = truth.period()
    tickets = period[period["kind"] == "ticket"]
    assert found.current == pytest.approx(truth.sla_rate(tickets))
    assert found.met == int(tickets["sla_met"].sum()) and found.breached == int(tickets["sla_breached"].sum())
    before = truth.cases[(truth.cases["opened_day"] >= AS_OF - timedelta(days=59))
                         & (truth.cases["opened_day"] <= AS_OF - timedelta(days=30))]
    assert found.previous == pytest.approx(truth.sla_rate(before[before["kind"] == "ticket"]))
    for frame, column in ((found.by_severity, "severity"), (found.by_channel, "channel")):
        expected = {member: truth.sla_rate(group) for member, group in tickets.groupby(column)
                    if truth.sla_rate(group) is not None}
        got = {row.member: row.rate for row in frame.itertuples() if not pd.isna(row.rate)}
        assert got == pytest.approx(expected), column
    assert len(q.breaches(session, _filters(session), FULL).rows) == min(found.breached, q.CASE_ROWS)


@pytest.mark.parametrize("from_cases", [False, True], ids=["gold-summary", "cases"])
@pytest.mark.parametrize("by", ["channel", "agent"])
def test_first_response_and_resolution_percentiles_match_pandas(session, truth, by, from_cases):
    filters = _filters(session, by=by)
    assert q._summary_speed_rows(session, filters) is not None  # the company-wide view is kept in gold
    found = q.speed(session, filters, from_cases=from_cases)
    period = truth.period()
    assert found.overall["current"]["frt_median"] == pytest.approx(period["frt"].median())
    assert found.overall["current"]["frt_p90"] == pytest.approx(period["frt"].quantile(0.9))
    assert found.overall["current"]["resolution_median"] == pytest.approx(period["resolution"].median())
    assert found.overall["current"]["resolution_p90"] == pytest.approx(period["resolution"].quantile(0.9))
    key = period["channel"] if by == "channel" else period["agent_id"].fillna(q.UNASSIGNED)
    expected = period.groupby(key).agg(cases=("case_id", "size"), frt_median=("frt", "median"),
                                       frt_p90=("frt", lambda s: s.quantile(0.9)),
                                       resolution_median=("resolution", "median"),
                                       resolution_p90=("resolution", lambda s: s.quantile(0.9)))
    got = found.rows.set_index("member")
    assert set(got.index) == set(expected.index)
    for member, row in expected.iterrows():
        assert got.loc[member, "cases"] == row["cases"], member
        for measure in q.SPEED_MEASURES:
            if pd.isna(row[measure]):
                assert pd.isna(got.loc[member, measure]), (member, measure)
            else:
                assert got.loc[member, measure] == pytest.approx(row[measure]), (member, measure)


@pytest.mark.parametrize("days", q.PERIODS)
def test_the_kept_speed_figures_are_the_cases_own_for_every_period_and_dimension(session, days):
    for by in q.DIMENSIONS:
        filters = _filters(session, period=str(days), by=by)
        assert (q._summary_speed_rows(session, filters) is None) == (days == 90)  # 90 days: from the cases
        kept, worked_out = q.speed(session, filters), q.speed(session, filters, from_cases=True)
        for period in ("current", "previous"):
            assert kept.overall[period] == pytest.approx(worked_out.overall[period]), (by, period)
        pd.testing.assert_frame_equal(kept.rows, worked_out.rows, check_dtype=False)
        assert len(kept.rows) > 0


@pytest.mark.parametrize("days", q.PERIODS)
def test_the_kept_sla_counts_are_the_tickets_own(session, days):
    for choices in ({}, {"channel": "email"}, {"team": "Tier 1"}, {"channel": "chat", "team": "Tier 2"}):
        filters = _filters(session, period=str(days), **choices)
        kept = sorted(tuple(r) for r in q._sla_counts(session, filters))
        counted = sorted(tuple(r) for r in q._sla_counts(session, filters, from_cases=True))
        assert kept == counted, choices
        assert kept or choices  # every unfiltered period has tickets
    assert session.scalar(select(SupportSlaDaily.day).limit(1)) is not None


def test_a_filtered_scoped_or_stale_view_is_worked_out_from_the_cases(session, truth):
    territory = DataScope.restricted_to(territories=sorted(_territories(truth)))
    for filters in (_filters(session, channel="chat"), _filters(session, team="Tier 1"), _filters(session, territory),
                    dataclasses.replace(_filters(session), as_of=_filters(session).as_of - timedelta(days=1))):
        assert q._summary_speed_rows(session, filters) is None
    period = truth.period()
    found = q.speed(session, _filters(session, territory))
    assert found.overall["current"]["cases"] == int(period["territory"].isin(_territories(truth)).sum())


def test_peak_hours_count_the_cases_of_each_weekday_and_hour(session, truth):
    found = q.peak_hours(session, _filters(session))
    period = truth.period()
    expected = period.groupby(["weekday", "hour"]).size()
    got = found.cells.set_index(["weekday", "hour"])["cases"]
    assert len(got) == 7 * 24
    assert got[got > 0].to_dict() == expected.to_dict()
    assert found.cells["staffed"].max() > 0 and found.median_load is not None
    # A cell counted in the heatmap drills to exactly its cases.
    (weekday, hour), count = expected.idxmax(), int(expected.max())
    drilled = q.drill_cases(session, _filters(session, drill=f"cell:{weekday}-{hour}"), FULL)
    assert drilled.total == count and drilled.label.startswith(f"Opened on {q.WEEKDAYS[weekday - 1]}")


def test_the_agent_leaderboard(session, truth):
    grid = q.agents_leaderboard(session, _filters(session))
    period = truth.period()
    handled = period[period["agent_id"].notna()]
    rows = {row["agent_id"]: row for row in grid.rows}
    assert set(rows) == set(handled["agent_id"])
    agent, cases = handled["agent_id"].value_counts().index[0], handled[handled["agent_id"] ==
                                                                        handled["agent_id"].value_counts().index[0]]
    row = rows[agent]
    assert row["cases"] == len(cases)
    assert row["resolution_rate"] == pytest.approx(cases["resolved_at"].notna().mean())
    assert row["csat"] == pytest.approx(round(cases["csat"].dropna().mean(), 2))
    tickets = cases[cases["kind"] == "ticket"]
    resolved = int(tickets["resolved_at"].notna().sum())
    reopened = int(((tickets["reopen_count"] > 0) & tickets["resolved_at"].notna()).sum())
    assert row["reopen_rate"] == pytest.approx(reopened / resolved)
    assert row["frt_median"] == pytest.approx(round(cases["frt"].median(), 1))


def test_a_scope_of_territories_sees_only_its_cases(session, truth):
    territories = _territories(truth)
    scope = DataScope.restricted_to(territories)
    filters = _filters(session, scope)
    state = q.queue_state(session, filters)
    assert state.open == len(truth.open_now(territories)) < len(truth.open_now())
    assert state.unanswered == int(truth.open_now(territories)["waiting_since"].notna().sum())
    listed = q.queue_list(session, filters, FULL)
    in_scope = set(truth.cases.loc[truth.cases["territory"].isin(territories), "case_id"])
    assert listed.grid.rows and {row["case_id"] for row in listed.grid.rows} <= in_scope
    assert q.sla(session, filters).current == pytest.approx(truth.sla_rate(
        truth.period(territories=territories).query("kind == 'ticket'")))
    outside = truth.open_now()[~truth.open_now()["territory"].isin(territories)].iloc[0]
    assert q.case_thread(session, f"{outside['kind']}:{outside['case_id']}", scope, FULL) is None
    assert q.case_thread(session, f"{outside['kind']}:{outside['case_id']}", EVERYTHING, FULL) is not None
    assert q.speed(session, _filters(session, DataScope.nothing())).empty


def test_a_conversation_thread_is_its_messages_in_order(session, truth):
    conversations = truth.cases[truth.cases["kind"] == "conversation"]
    case_id = conversations["case_id"].iloc[0]
    thread = q.case_thread(session, f"conversation:{case_id}", EVERYTHING, FULL)
    assert thread is not None and thread.messages
    sent = [m.sent_at for m in thread.messages if m.sent_at is not None]
    assert sent == sorted(sent)
    assert q.case_thread(session, "conversation:nope", EVERYTHING, FULL) is None
    assert q.case_thread(session, "nonsense", EVERYTHING, FULL) is None


def test_the_url_state_is_validated(session):
    resolved = q.resolve_page(session, PageQuery(period="12", channel="fax", team="Nope", queue="x",
                                                 drill="cell:9-99"), EVERYTHING)
    f = resolved.filters
    assert (f.days, f.channel, f.team, f.queue, f.drill) == (30, None, None, "open", None)
    assert len(resolved.notes) == 5
    assert PageQuery.from_args({"period": "7", "queue": "breaching"}).search == "?period=7&queue=breaching"
    assert q.drill_to(PageQuery(period="7"), "cell", "2-14").drill == "cell:2-14"
    assert q.drill_to(PageQuery(), "cell", "8-1") is None
    assert q.agent_queue(PageQuery(), "AGT-0001").search == "?queue=open&agent=AGT-0001"
    options = q.resolve_page(session, PageQuery(channel="chat", team="Tier 1"), EVERYTHING, with_options=True)
    assert "chat" in options.channels and "Tier 1" in options.teams and q.UNASSIGNED in options.teams
    assert (options.filters.channel, options.filters.team) == ("chat", "Tier 1") and not options.notes
    assert q.resolve_page(session, PageQuery(channel="chat"), EVERYTHING).filters.channel == "chat"


def test_channel_and_team_filter_the_queue_and_the_period(session, truth):
    open_now, period = truth.open_now(), truth.period()
    for column, value in (("channel", "chat"), ("team", "Tier 1")):
        filters = _filters(session, **{column: value})
        state = q.queue_state(session, filters)
        assert state.open == int((open_now[column] == value).sum()) > 0, column
        assert state.unanswered == int(((open_now[column] == value) & open_now["waiting_since"].notna()).sum())
        assert q.speed(session, filters).overall["current"]["cases"] == int((period[column] == value).sum())


def test_card_numbers_are_redacted_for_a_role_without_view_pii():
    from dashboard.masking import mask_text

    hidden = MaskPolicy(view_pii=False, view_financials=True)
    text = ("Card 4111 1111 1111 1111, or 5500-0055-5555-5559 or 378282246310005; invoice INV785580 of "
            "2026-11-23; order 1234567890123 is not a card. Mail jane.doe@example.com, call +27 82 123 4567.")
    masked = mask_text(text, hidden)
    assert "[card \u2022\u2022\u2022\u2022 1111]" in masked and "4111" not in masked
    assert "[card \u2022\u2022\u2022\u2022 5559]" in masked and "[card \u2022\u2022\u2022\u2022 0005]" in masked
    assert "INV785580" in masked and "2026-11-23" in masked
    assert "[card" not in mask_text("order 1234567890123", hidden)  # fails the Luhn check
    assert "j***@example.com" in masked and "+27 ** *** 4567" in masked
    assert mask_text(text, FULL) == text

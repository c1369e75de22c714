"""Queues page queries: the queue now (unassigned, unanswered, oldest waiting, SLA breaching within
the hour, every open case), first response and resolution times, SLA attainment, the agent
leaderboard, peak hours against staffing, the cases behind any chart cell and one case's thread.

Everything is read from gold.support_case (one row per ticket and per chat conversation), with
gold.support_staffing_hourly for the agents at work; a conversation's thread is one keyed read of
silver.messages. Every query takes the caller's `DataScope` (cases through `account_filter`) and
every text a customer wrote (subjects, messages) passes `mask_text` for the caller's `MaskPolicy`.

The queue's clock is least(now, the end of the data's as-of day): real time on a live feed, the end
of the as-of day on static data. Definitions:
- unassigned: open cases without an agent; unanswered: open cases waiting for an agent (a customer
  message with no agent reply since); oldest waiting: the unanswered case waiting longest;
- breaching within the hour: open tickets with no first response whose SLA falls due between the
  clock and an hour later; those already past due are 'breached, still unanswered';
- the period: the last 7, 30 or 90 days up to the as-of day, by the day a case was opened, against the
  same number of days before;
- SLA met: tickets answered within their first-response target, as a share of those met or breached;
- reopen rate: tickets reopened at least once over the tickets resolved;
- staffed agents: the mean number of agents at work in that weekday and hour over the period's days.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Double, Integer, and_, cast, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_text
from dashboard.queries.executive import data_date_bounds
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, COUNT, PERCENT, TEXT, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import (
    SupportAgent,
    SupportCase,
    SupportSlaDaily,
    SupportSpeed,
    SupportStaffingHourly,
)
from dashboard.tables.silver import Message
from dashboard.url_state import first, to_search
from models.kpi import Period

PAGE_PATH = "/support"
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
QUEUES = ("open", "unassigned", "unanswered", "oldest", "breaching")
QUEUE_WORDS = {"open": "Open cases", "unassigned": "Unassigned", "unanswered": "Unanswered",
               "oldest": "Waiting longest", "breaching": "SLA breaching within 1 h"}
DIMENSIONS = ("channel", "team", "agent")
# What a chart click drills to: the speed chart's members, the SLA charts' bars, a heatmap cell.
DRILLS = ("channel", "team", "agent", "severity", "sla_channel", "cell")
DRILL_WORDS = {"channel": "Channel", "team": "Team", "agent": "Agent", "severity": "SLA tickets of severity",
               "sla_channel": "SLA tickets on channel", "cell": "Opened on"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BREACH_WINDOW = timedelta(hours=1)
QUEUE_ROWS = 500  # the queue grid shows the longest waiting; the count says how many there are
CASE_ROWS = 500
UNASSIGNED = "Unassigned"
AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
CELL = re.compile(r"^([1-7])-(\d{1,2})$")
OVERLOADED = 1.5  # a weekday-hour whose cases per staffed agent exceed 1.5 x the median stands out


# --- The URL ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQuery:
    """The page as the URL holds it, validated by `resolve_page`:
    `?period=30&channel=chat&team=Tier 1&queue=unanswered&agent=AGT-0001&by=team&drill=cell:1-9`."""

    period: Any = None
    channel: Any = None
    team: Any = None
    queue: Any = None
    agent: Any = None
    by: Any = None
    drill: Any = None

    FIELDS = ("period", "channel", "team", "queue", "agent", "by", "drill")

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> PageQuery:
        """From Dash's layout kwargs or Flask's request args."""
        return cls(*(first(args, name) for name in cls.FIELDS))

    @classmethod
    def from_state(cls, data: Any) -> PageQuery:
        """From the page's state store; anything malformed reads as the default view."""
        return cls.from_args(data if isinstance(data, dict) else None)

    def as_state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    @property
    def search(self) -> str:
        return to_search([(name, getattr(self, name)) for name in self.FIELDS])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


def parse_drill(raw: Any) -> tuple[str, str] | None:
    """'cell:1-9' -> ('cell', '1-9'); None for anything else."""
    if not isinstance(raw, str):
        return None
    kind, sep, value = raw.partition(":")
    if not sep or kind not in DRILLS or not value or len(value) > 200:
        return None
    if kind == "cell":
        match = CELL.match(value)
        if not match or not 0 <= int(match.group(2)) <= 23:
            return None
    return kind, value


# --- Filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportFilters:
    """The validated page: the period, the channel and team chosen (None: all), the queue list and
    agent, the speed chart's dimension, the drill, the queue's clock and the caller's scope."""

    days: int
    as_of: date
    clock: datetime
    channel: str | None = None
    team: str | None = None
    queue: str = "open"
    agent: str | None = None
    by: str = "channel"
    drill: tuple[str, str] | None = None
    scope: DataScope = field(kw_only=True)

    @property
    def period(self) -> Period:
        return Period(self.as_of - timedelta(days=self.days - 1), self.as_of)

    @property
    def previous(self) -> Period:
        return self.period.previous()


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters after validation, the choices the controls offer and notes on what was adjusted."""

    filters: SupportFilters
    channels: tuple[str, ...]
    teams: tuple[str, ...]
    agent_name: str | None = None
    notes: tuple[str, ...] = ()

    def canonical(self) -> PageQuery:
        f = self.filters
        return PageQuery(str(f.days), f.channel, f.team, None if f.queue == "open" and not f.agent else f.queue,
                         f.agent, None if f.by == "channel" else f.by,
                         None if f.drill is None else f"{f.drill[0]}:{f.drill[1]}")


def queue_clock(as_of: date, now: datetime | None = None) -> datetime:
    """least(now, the end of the as-of day): real time on a live feed, the day's end on static data."""
    end_of_day = datetime.combine(as_of, time(23, 59, 59), tzinfo=UTC)
    return min(now or datetime.now(UTC), end_of_day)


def resolve_filters(session: Session, query: PageQuery, as_of: date, scope: DataScope, *,
                    now: datetime | None = None, with_options: bool = False) -> ResolvedFilters:
    """Validate the URL state: an unknown period becomes 30 days, an unknown channel, team, queue or
    agent is dropped, each with a note. The channels the control offers are listed `with_options`
    only (the layout); the panels probe the chosen one."""
    notes: list[str] = []
    try:
        days = int(query.period) if query.period is not None else DEFAULT_PERIOD
    except (TypeError, ValueError):
        days = -1
    if days not in PERIODS:
        notes.append(f"Period \u201c{str(query.period)[:20]}\u201d is not available: showing the last "
                     f"{DEFAULT_PERIOD} days.")
        days = DEFAULT_PERIOD
    recent = SupportCase.opened_day >= as_of - timedelta(days=max(PERIODS) * 2)
    channels = tuple(sorted(session.scalars(select(SupportCase.channel).distinct().where(recent)))) \
        if with_options else ()
    teams = tuple(sorted({*session.scalars(select(SupportAgent.team).distinct()), UNASSIGNED}))
    channel, team = query.channel, query.team
    known = channel in channels if with_options else channel is not None and session.scalar(
        select(SupportCase.channel).where(recent, SupportCase.channel == str(channel)[:100]).limit(1)) is not None
    if channel is not None and not known:
        notes.append(f"Channel \u201c{str(channel)[:40]}\u201d is not available: showing every channel.")
        channel = None
    if team is not None and team not in teams:
        notes.append(f"Team \u201c{str(team)[:40]}\u201d is not available: showing every team.")
        team = None
    queue = query.queue if query.queue in QUEUES else "open"
    if query.queue is not None and query.queue not in QUEUES:
        notes.append(f"Queue \u201c{str(query.queue)[:40]}\u201d is not available: showing every open case.")
    agent, agent_name = None, None
    if query.agent is not None:
        found = session.execute(select(SupportAgent.agent_id, SupportAgent.full_name)
                                .where(SupportAgent.agent_id == str(query.agent)[:40])).first() \
            if AGENT_ID.match(str(query.agent)) else None
        if found is None:
            notes.append(f"Agent \u201c{str(query.agent)[:40]}\u201d is not available: showing every agent.")
        else:
            agent, agent_name = found.agent_id, found.full_name or found.agent_id
    by = query.by if query.by in DIMENSIONS else "channel"
    drill = parse_drill(query.drill)
    if query.drill is not None and drill is None:
        notes.append("That chart selection is not available: pick a bar or a cell again.")
    filters = SupportFilters(days, as_of, queue_clock(as_of, now), channel, team, queue, agent, by, drill,
                             scope=scope)
    return ResolvedFilters(filters, channels, teams, agent_name, tuple(notes))


def resolve_page(session: Session, query: PageQuery, scope: DataScope, *, now: datetime | None = None,
                 with_options: bool = False) -> ResolvedFilters | None:
    """The URL state validated against the data; None when gold is empty."""
    bounds = data_date_bounds(session)
    if bounds is None:
        return None
    return resolve_filters(session, query, bounds.last, scope, now=now, with_options=with_options)


def case_filter(filters: SupportFilters) -> ColumnElement[bool]:
    """The cases of the slice: scope, channel and team."""
    c = SupportCase
    conditions = [filters.scope.account_filter(c.territory, c.account_id)]
    if filters.channel:
        conditions.append(c.channel == filters.channel)
    if filters.team:
        conditions.append(c.team == filters.team)
    return and_(*conditions)


def opened_in(period: Period) -> ColumnElement[bool]:
    return SupportCase.opened_day.between(period.start, period.end)


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def share(part: float | None, whole: float | None) -> float | None:
    return None if not whole else float(part or 0) / float(whole)


def row_id(kind: str, case_id: str) -> str:
    """A case's id in the grids and the thread: 'ticket:TCK-00000001'."""
    return f"{kind}:{case_id}"


# --- The queue now -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueState:
    """The queue at `clock` (see the module's doc for each definition)."""

    clock: datetime
    open: int
    unassigned: int
    unanswered: int
    breaching: int
    breached: int  # past their SLA, still unanswered
    oldest_case: str | None  # row id of the case waiting longest
    oldest_account: str | None
    oldest_since: datetime | None

    @property
    def oldest_wait_minutes(self) -> float | None:
        if self.oldest_since is None:
            return None
        return max(0.0, (self.clock - self.oldest_since).total_seconds() / 60)

    def count(self, queue: str) -> int:
        return {"open": self.open, "unassigned": self.unassigned, "unanswered": self.unanswered,
                "oldest": self.unanswered, "breaching": self.breaching + self.breached}[queue]


def _open_now(filters: SupportFilters) -> ColumnElement[bool]:
    """Open cases of the slice opened by the clock (the partial index of open cases serves it)."""
    return and_(SupportCase.is_open, SupportCase.opened_at <= filters.clock, case_filter(filters))


def _unanswered_ticket() -> ColumnElement[bool]:
    c = SupportCase
    return and_(c.kind == "ticket", c.first_response_at.is_(None), c.sla_due_at.is_not(None))


def queue_state(session: Session, filters: SupportFilters) -> QueueState:
    c, clock = SupportCase, filters.clock
    counts = session.execute(select(
        func.count().label("open"),
        func.count().filter(c.agent_id.is_(None)).label("unassigned"),
        func.count().filter(c.waiting_since.is_not(None)).label("unanswered"),
        func.count().filter(_unanswered_ticket(), c.sla_due_at >= clock,
                            c.sla_due_at < clock + BREACH_WINDOW).label("breaching"),
        func.count().filter(_unanswered_ticket(), c.sla_due_at < clock).label("breached"),
    ).where(_open_now(filters))).one()
    oldest = session.execute(select(c.kind, c.case_id, c.account_name, c.waiting_since)
                             .where(_open_now(filters), c.waiting_since.is_not(None))
                             .order_by(c.waiting_since, c.kind, c.case_id).limit(1)).first()
    return QueueState(clock, counts.open, counts.unassigned, counts.unanswered, counts.breaching, counts.breached,
                      row_id(oldest.kind, oldest.case_id) if oldest else None,
                      oldest.account_name if oldest else None, oldest.waiting_since if oldest else None)


def queue_condition(filters: SupportFilters, queue: str) -> ColumnElement[bool]:
    c, clock = SupportCase, filters.clock
    condition = _open_now(filters)
    if queue == "unassigned":
        condition = and_(condition, c.agent_id.is_(None))
    elif queue in ("unanswered", "oldest"):
        condition = and_(condition, c.waiting_since.is_not(None))
    elif queue == "breaching":
        condition = and_(condition, _unanswered_ticket(), c.sla_due_at < clock + BREACH_WINDOW)
    if filters.agent:
        condition = and_(condition, c.agent_id == filters.agent)
    return condition


def case_columns(*, queue: bool = False) -> tuple[GridColumn, ...]:
    """The columns of every case list; the queue's add the wait and the SLA clock."""
    extra = (GridColumn("waiting_minutes", "Waiting (min)", COUNT), GridColumn("sla_due", "SLA", TEXT)) \
        if queue else (GridColumn("first_response_minutes", "First response (min)", COUNT),
                       GridColumn("resolution_minutes", "Resolution (min)", COUNT))
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("case_id", "Case"), GridColumn("kind_label", "Kind"), GridColumn("status", "Status"),
            GridColumn("channel", "Channel"), GridColumn("severity", "Severity"),
            GridColumn("agent_name", "Agent"), GridColumn("team", "Team"), GridColumn("opened", "Opened (UTC)"),
            *extra, GridColumn("subject", "Subject"))


def _sla_words(due: datetime | None, responded: bool, clock: datetime) -> str | None:
    if due is None or responded:
        return None
    minutes = round((due - clock).total_seconds() / 60)
    return f"due in {minutes} min" if minutes >= 0 else f"breached {-minutes} min ago"


def _case_rows(session: Session, condition: ColumnElement[bool], order: list[Any], limit: int,
               filters: SupportFilters, policy: MaskPolicy) -> list[dict[str, Any]]:
    c = SupportCase
    rows = session.execute(select(
        c.kind, c.case_id, c.account_id, c.account_name, c.status, c.channel, c.severity, c.agent_name, c.team,
        c.opened_at, c.waiting_since, c.sla_due_at, c.first_response_at, c.first_response_minutes,
        c.resolution_minutes, c.subject).where(condition).order_by(*order).limit(limit)).all()
    clock = filters.clock
    return [{
        "row_id": row_id(r.kind, r.case_id), "account_id": r.account_id, "account_name": r.account_name or "Unknown account", "case_id": r.case_id,
        "kind_label": "Ticket" if r.kind == "ticket" else "Conversation", "status": r.status,
        "channel": r.channel, "severity": r.severity, "agent_name": r.agent_name or UNASSIGNED, "team": r.team,
        "opened": f"{r.opened_at.astimezone(UTC):%Y-%m-%d %H:%M}",
        "waiting_minutes": None if r.waiting_since is None
        else max(0, round((clock - r.waiting_since).total_seconds() / 60)),
        "sla_due": _sla_words(r.sla_due_at, r.first_response_at is not None, clock),
        "first_response_minutes": None if r.first_response_minutes is None else round(r.first_response_minutes),
        "resolution_minutes": None if r.resolution_minutes is None else round(r.resolution_minutes),
        "subject": mask_text(r.subject, policy),
    } for r in rows]


@dataclass(frozen=True)
class QueueList:
    """The cases of one queue (the longest waiting first), how many there are, and for whom."""

    queue: str
    grid: GridRows
    total: int


def queue_list(session: Session, filters: SupportFilters, policy: MaskPolicy) -> QueueList:
    c = SupportCase
    condition = queue_condition(filters, filters.queue)
    total = session.scalar(select(func.count()).where(condition)) or 0
    order = [c.sla_due_at, c.kind, c.case_id] if filters.queue == "breaching" else \
        [c.waiting_since.asc().nulls_last(), c.opened_at, c.kind, c.case_id]
    rows = _case_rows(session, condition, order, QUEUE_ROWS, filters, policy)
    return QueueList(filters.queue, GridRows(case_columns(queue=True), rows, key_field="account_name"), total)


def fingerprint(*parts: Any) -> str:
    """A short digest of what a panel shows: equal digests, nothing to redraw."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:16]


# --- Speed: first response and resolution ------------------------------------------------------


SPEED_MEASURES = ("frt_median", "frt_p90", "resolution_median", "resolution_p90")


def _speed_columns() -> list[Any]:
    c = SupportCase
    return [func.count().label("cases"),
            func.percentile_cont(0.5).within_group(c.first_response_minutes).label("frt_median"),
            func.percentile_cont(0.9).within_group(c.first_response_minutes).label("frt_p90"),
            func.percentile_cont(0.5).within_group(c.resolution_minutes).label("resolution_median"),
            func.percentile_cont(0.9).within_group(c.resolution_minutes).label("resolution_p90")]


def _member(by: str) -> tuple[Any, Any]:
    """The member id and its label for a dimension."""
    c = SupportCase
    if by == "agent":
        return func.coalesce(c.agent_id, UNASSIGNED), func.coalesce(c.agent_name, c.agent_id, UNASSIGNED)
    column = c.channel if by == "channel" else c.team
    return column, column


@dataclass(frozen=True)
class Speed:
    """Median and p90 first response and resolution minutes, overall (`overall[period]`) and per
    member of `by` (`rows`: member, label, the four measures now and `<measure>_previous`)."""

    by: str
    overall: dict[str, dict[str, float | None]]  # 'current' / 'previous' -> measure -> minutes
    rows: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.rows.empty


QUANTILES = (0.5, 0.9)


def _quantiles(values: list[float | None] | None) -> tuple[float | None, float | None]:
    """The median and p90 of percentile_cont's array; empty when there was nothing to rank."""
    return (values[0], values[1]) if values else (None, None)


def _summary_speed_rows(session: Session, filters: SupportFilters) -> list[tuple[Any, ...]] | None:
    """The rows of gold.support_speed for an unfiltered company-wide view, or None when it is another
    slice or the table was built for another as-of day (then the cases are read)."""
    if not filters.scope.unrestricted or filters.channel or filters.team:
        return None
    s = SupportSpeed
    rows = session.execute(select(s.is_current, s.member, s.label, s.dimension, s.cases, *(getattr(s, m) for m in
                                                                                          SPEED_MEASURES))
                           .where(s.period_days == filters.days, s.as_of == filters.as_of,
                                  s.dimension.in_(("all", filters.by)))).all()
    if not rows:
        return None
    return [(r[0], None if r[3] == "all" else r[1], None if r[3] == "all" else r[2], int(r[3] == "all"), *r[4:])
            for r in rows]


def _case_speed_rows(session: Session, filters: SupportFilters) -> list[tuple[Any, ...]]:
    """One pass over both periods' cases: the totals and each member, now and before (grouping sets)."""
    c = SupportCase
    member, label = _member(filters.by)
    cases = (select(member.label("member"), label.label("label"),
                    (c.opened_day >= filters.period.start).label("is_current"),
                    c.first_response_minutes, c.resolution_minutes)
             .where(c.opened_day.between(filters.previous.start, filters.period.end), case_filter(filters))
             .subquery())
    rows = session.execute(
        select(cases.c.is_current, cases.c.member, func.min(cases.c.label).label("label"),
               func.grouping(cases.c.member).label("is_total"), func.count().label("cases"),
               # one sort per measure for both quantiles
               *(func.percentile_cont(array(QUANTILES), type_=ARRAY(Double)).within_group(getattr(cases.c, column))
                 .label(column) for column in ("first_response_minutes", "resolution_minutes")))
        .group_by(func.grouping_sets(tuple_(cases.c.is_current), tuple_(cases.c.is_current, cases.c.member)))).all()
    return [(*r[:5], *_quantiles(r.first_response_minutes), *_quantiles(r.resolution_minutes)) for r in rows]


def speed(session: Session, filters: SupportFilters, *, from_cases: bool = False) -> Speed:
    """Overall and per member of `filters.by`, now and before: from gold.support_speed for the unfiltered
    company-wide views, from the cases otherwise (or `from_cases`)."""
    summary = None if from_cases else _summary_speed_rows(session, filters)
    rows = summary if summary is not None else _case_speed_rows(session, filters)
    found = pd.DataFrame(rows, columns=["is_current", "member", "label", "is_total", "cases", *SPEED_MEASURES])
    overall: dict[str, dict[str, float | None]] = {}
    for name, current in (("current", True), ("previous", False)):
        totals = found[(found["is_total"] == 1) & (found["is_current"] == current)]
        overall[name] = {m: _float(totals[m].iloc[0]) if len(totals) else (0.0 if m == "cases" else None)
                         for m in ("cases", *SPEED_MEASURES)}
    members = found[found["is_total"] == 0].drop(columns=["is_total"])
    now = members[members["is_current"] == True].drop(columns=["is_current"])  # noqa: E712
    before = (members[members["is_current"] == False].drop(columns=["is_current", "label"])  # noqa: E712
              .add_suffix("_previous").rename(columns={"member_previous": "member"}))
    rows_now = now.merge(before, on="member", how="left").sort_values(["cases", "member"], ascending=[False, True])
    return Speed(filters.by, overall, rows_now.reset_index(drop=True))


# --- SLA ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    """First-response SLA attainment of the period's tickets: overall now and before, by severity, by
    channel and per week (each frame: member, met, breached, rate)."""

    current: float | None
    previous: float | None
    met: int
    breached: int
    by_severity: pd.DataFrame
    by_channel: pd.DataFrame
    weekly: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.met + self.breached == 0


def _rated(rows: Any, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    total = frame["met"] + frame["breached"]
    frame["rate"] = (frame["met"] / total.where(total > 0)).astype(float)
    return frame


def _sla_counts(session: Session, filters: SupportFilters, *, from_cases: bool = False) -> list[Any]:
    """Met and breached per period, severity, channel and week: summed from gold.support_sla_daily for a
    caller who sees every territory, counted from the tickets otherwise (or `from_cases`)."""
    if filters.scope.unrestricted and not from_cases:
        d = SupportSlaDaily
        where = [d.day.between(filters.previous.start, filters.period.end)]
        if filters.channel:
            where.append(d.channel == filters.channel)
        if filters.team:
            where.append(d.team == filters.team)
        is_current = (d.day >= filters.period.start).label("is_current")
        week = func.date_trunc("week", d.day).label("week")
        return list(session.execute(select(is_current, d.severity, d.channel, week, func.sum(d.met),
                                           func.sum(d.breached))
                                    .where(*where).group_by(is_current, d.severity, d.channel, week)).all())
    c = SupportCase
    is_current = (c.opened_day >= filters.period.start).label("is_current")
    severity = func.coalesce(c.severity, "None").label("severity")
    week = func.date_trunc("week", c.opened_day).label("week")
    return list(session.execute(
        select(is_current, severity, c.channel, week, func.count().filter(c.sla_met).label("met"),
               func.count().filter(c.sla_breached).label("breached"))
        .where(c.kind == "ticket", c.sla_minutes.is_not(None), case_filter(filters),
               c.opened_day.between(filters.previous.start, filters.period.end))
        .group_by(is_current, severity, c.channel, week)).all())


def sla(session: Session, filters: SupportFilters) -> Sla:
    """Both periods' tickets counted per period, severity, channel and week (`_sla_counts`: a few hundred
    rows); the totals now and before, now by severity and by channel, and per week are summed from those
    here (grouping sets sorted the tickets once per set: twice the time)."""
    rows = _sla_counts(session, filters)
    found = pd.DataFrame.from_records([tuple(r) for r in rows],
                                      columns=["is_current", "severity", "channel", "week", "met", "breached"])
    found["is_current"] = found["is_current"].astype(bool)

    def counts(current: bool) -> tuple[int, int]:
        part = found[found["is_current"] == current]
        return int(part["met"].sum()), int(part["breached"].sum())

    def members(column: str) -> pd.DataFrame:
        part = found[found["is_current"]].groupby(column, sort=True)[["met", "breached"]].sum().reset_index()
        return _rated(part.to_numpy().tolist(), ["member", "met", "breached"])

    (met, breached), (before_met, before_breached) = counts(True), counts(False)
    weekly = found.groupby("week", sort=True)[["met", "breached"]].sum().reset_index()
    return Sla(share(met, met + breached), share(before_met, before_met + before_breached), met, breached,
               members("severity"), members("channel"),
               _rated(weekly[["week", "met", "breached"]].to_numpy().tolist(), ["week", "met", "breached"]))


def breach_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("case_id", "Ticket"),
            GridColumn("severity", "Severity"), GridColumn("channel", "Channel"), GridColumn("agent_name", "Agent"),
            GridColumn("opened", "Opened (UTC)"), GridColumn("sla_minutes", "SLA (min)", COUNT),
            GridColumn("first_response_minutes", "First response (min)", COUNT), GridColumn("status", "Status"),
            GridColumn("subject", "Subject"))


def breaches(session: Session, filters: SupportFilters, policy: MaskPolicy) -> GridRows:
    """The period's tickets that missed their first-response SLA, the newest first."""
    c = SupportCase
    rows = session.execute(select(
        c.kind, c.case_id, c.account_id, c.account_name, c.severity, c.channel, c.agent_name, c.opened_at,
        c.sla_minutes, c.first_response_minutes, c.status, c.subject)
        .where(c.kind == "ticket", c.sla_breached, opened_in(filters.period), case_filter(filters))
        .order_by(c.opened_at.desc(), c.case_id).limit(CASE_ROWS)).all()
    return GridRows(breach_columns(), [{
        "row_id": row_id(r.kind, r.case_id), "account_id": r.account_id, "account_name": r.account_name,
        "case_id": r.case_id, "severity": r.severity, "channel": r.channel, "agent_name": r.agent_name or UNASSIGNED,
        "opened": f"{r.opened_at.astimezone(UTC):%Y-%m-%d %H:%M}", "sla_minutes": r.sla_minutes,
        "first_response_minutes": None if r.first_response_minutes is None else round(r.first_response_minutes),
        "status": r.status, "subject": mask_text(r.subject, policy)} for r in rows], key_field="account_name")


# --- Agents -------------------------------------------------------------------------------------


def agent_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("agent_name", "Agent", pinned=True), GridColumn("team", "Team"),
            GridColumn("cases", "Cases handled", COUNT), GridColumn("open_cases", "Open now", COUNT),
            GridColumn("frt_median", "Median first response (min)", COUNT),
            GridColumn("resolution_rate", "Resolution rate", PERCENT), GridColumn("csat", "CSAT (1-5)"),
            GridColumn("reopen_rate", "Reopen rate", PERCENT))


def agents_leaderboard(session: Session, filters: SupportFilters) -> GridRows:
    """Per agent, the cases of the period they handled: median first response, the share resolved,
    mean CSAT and the reopen rate; and the cases open on their queue now."""
    c = SupportCase
    resolved_tickets = func.count().filter(c.kind == "ticket", c.resolved_at.is_not(None))
    rows = session.execute(select(
        c.agent_id, func.min(c.agent_name).label("agent_name"), func.min(c.team).label("team"),
        func.count().label("cases"),
        func.percentile_cont(0.5).within_group(c.first_response_minutes).label("frt_median"),
        (cast(func.count().filter(c.resolved_at.is_not(None)), Double) / func.count()).label("resolution_rate"),
        func.avg(c.csat).label("csat"),
        # of the resolved tickets, the share a customer had to reopen
        (cast(func.count().filter(c.kind == "ticket", c.resolved_at.is_not(None), c.reopen_count > 0), Double)
         / func.nullif(resolved_tickets, 0)).label("reopen_rate"))
        .where(c.agent_id.is_not(None), opened_in(filters.period), case_filter(filters))
        .group_by(c.agent_id)).all()
    open_now = dict(session.execute(select(c.agent_id, func.count()).where(_open_now(filters), c.agent_id.is_not(None))
                                    .group_by(c.agent_id)).all())
    records = [{"agent_id": r.agent_id, "agent_name": r.agent_name or r.agent_id, "team": r.team,
                "cases": r.cases, "open_cases": open_now.get(r.agent_id, 0),
                "frt_median": None if r.frt_median is None else round(float(r.frt_median), 1),
                "resolution_rate": _float(r.resolution_rate),
                "csat": None if r.csat is None else round(float(r.csat), 2),
                "reopen_rate": _float(r.reopen_rate)} for r in rows]
    records.sort(key=lambda r: (-r["cases"], r["agent_id"]))
    return GridRows(agent_columns(), records, key_field="agent_name")


# --- Peak hours ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeakHours:
    """Cases opened per ISO weekday (1-7) and UTC hour over the period, the mean agents at work in
    that weekday-hour, and the cases per staffed agent (`load`: None where nobody was at work)."""

    cells: pd.DataFrame  # weekday, hour, cases, staffed, load, overloaded
    median_load: float | None

    @property
    def empty(self) -> bool:
        return int(self.cells["cases"].sum()) == 0


def weekdays_in(period: Period) -> dict[int, int]:
    """How many of each ISO weekday the period holds."""
    counts = dict.fromkeys(range(1, 8), 0)
    for offset in range(period.days):
        counts[(period.start + timedelta(days=offset)).isoweekday()] += 1
    return counts


def peak_hours(session: Session, filters: SupportFilters) -> PeakHours:
    c, s = SupportCase, SupportStaffingHourly
    opened = pd.DataFrame(session.execute(
        select(c.opened_weekday, c.opened_hour, func.count())
        .where(opened_in(filters.period), case_filter(filters))
        .group_by(c.opened_weekday, c.opened_hour)).all(), columns=["weekday", "hour", "cases"])
    weekday = cast(func.extract("isodow", s.day), Integer)
    staffing = select(weekday.label("weekday"), s.hour,
                      func.sum(s.agents).label("agents")).where(s.day.between(filters.period.start,
                                                                              filters.period.end))
    if filters.team:  # staffing is kept per team; channels are not staffed apart
        staffing = staffing.where(s.team == filters.team)
    staffed = pd.DataFrame(session.execute(staffing.group_by(weekday, s.hour)).all(),
                           columns=["weekday", "hour", "agents"])
    grid = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"]).to_frame(index=False)
    cells = grid.merge(opened, how="left", on=["weekday", "hour"]).merge(staffed, how="left", on=["weekday", "hour"])
    cells["cases"] = cells["cases"].fillna(0).astype(int)
    days = weekdays_in(filters.period)
    cells["days"] = cells["weekday"].map(days)
    cells["staffed"] = (cells["agents"].fillna(0).astype(float) / cells["days"].where(cells["days"] > 0)).fillna(0.0)
    # Cases per agent-hour at work: the cell's cases over the agents at work summed over its days.
    agent_hours = cells["agents"].fillna(0).astype(float)
    cells["load"] = (cells["cases"] / agent_hours.where(agent_hours > 0)).astype(float)
    loads = cells.loc[cells["cases"] > 0, "load"].dropna()
    median = float(loads.median()) if len(loads) else None
    unstaffed = (cells["cases"] > 0) & (agent_hours == 0)
    cells["overloaded"] = unstaffed | ((cells["load"] > OVERLOADED * median) if median else False)
    return PeakHours(cells.drop(columns=["agents", "days"]), median)


# --- Drill: the cases behind a chart cell --------------------------------------------------------


def drill_condition(filters: SupportFilters) -> ColumnElement[bool] | None:
    """The period's cases behind the chosen bar or cell."""
    if filters.drill is None:
        return None
    c = SupportCase
    kind, value = filters.drill
    condition = and_(opened_in(filters.period), case_filter(filters))
    if kind == "channel":
        return and_(condition, c.channel == value)
    if kind == "team":
        return and_(condition, c.team == value)
    if kind == "agent":
        return and_(condition, c.agent_id.is_(None) if value == UNASSIGNED else c.agent_id == value)
    sla_ticket = and_(condition, c.kind == "ticket", c.sla_minutes.is_not(None), c.sla_met | c.sla_breached)
    if kind == "severity":
        return and_(sla_ticket, c.severity == value)
    if kind == "sla_channel":
        return and_(sla_ticket, c.channel == value)
    weekday, hour = (int(part) for part in value.split("-"))
    return and_(condition, c.opened_weekday == weekday, c.opened_hour == hour)


def drill_label(filters: SupportFilters, agent_names: Mapping[str, str] | None = None) -> str | None:
    """'Opened on Tue 09:00-10:00 UTC', 'Channel chat', ..."""
    if filters.drill is None:
        return None
    kind, value = filters.drill
    if kind == "cell":
        weekday, hour = (int(part) for part in value.split("-"))
        return f"Opened on {WEEKDAYS[weekday - 1]} {hour:02d}:00\u2013{(hour + 1) % 24:02d}:00 UTC"
    if kind == "agent" and agent_names:
        value = agent_names.get(value, value)
    return f"{DRILL_WORDS[kind]} {value}"


@dataclass(frozen=True)
class DrillCases:
    label: str
    grid: GridRows
    total: int


def drill_cases(session: Session, filters: SupportFilters, policy: MaskPolicy) -> DrillCases | None:
    condition = drill_condition(filters)
    if condition is None:
        return None
    c = SupportCase
    total = session.scalar(select(func.count()).where(condition)) or 0
    rows = _case_rows(session, condition, [c.opened_at.desc(), c.kind, c.case_id], CASE_ROWS, filters, policy)
    names = {}
    if filters.drill and filters.drill[0] == "agent":
        names = dict(session.execute(select(SupportAgent.agent_id, SupportAgent.full_name)
                                     .where(SupportAgent.agent_id == filters.drill[1])).all())
    return DrillCases(drill_label(filters, names) or "", GridRows(case_columns(), rows, key_field="account_name"),
                      total)


# --- One case's thread ------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadMessage:
    sent_at: datetime | None
    inbound: bool
    author: str
    body: str | None


@dataclass(frozen=True)
class CaseThread:
    """A case as its side panel shows it: its timeline and, for a conversation, its messages in order."""

    kind: str
    case_id: str
    account_id: str | None
    account_name: str | None
    subject: str | None
    status: str | None
    channel: str
    severity: str | None
    agent_name: str | None
    team: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    sla_minutes: int | None
    sla_due_at: datetime | None
    sla_met: bool | None
    sla_breached: bool | None
    csat: int | None
    messages: tuple[ThreadMessage, ...] = ()


def parse_row_id(raw: Any) -> tuple[str, str] | None:
    if not isinstance(raw, str):
        return None
    kind, sep, case_id = raw.partition(":")
    if not sep or kind not in ("ticket", "conversation") or not case_id or len(case_id) > 80:
        return None
    return kind, case_id


def case_thread(session: Session, raw_id: Any, scope: DataScope, policy: MaskPolicy) -> CaseThread | None:
    """The case `raw_id` ('conversation:CNV-…') with its messages, or None outside the caller's scope."""
    key = parse_row_id(raw_id)
    if key is None:
        return None
    c = SupportCase
    found = session.scalars(select(c).where(c.kind == key[0], c.case_id == key[1],
                                            scope.account_filter(c.territory, c.account_id))).first()
    if found is None:
        return None
    messages: tuple[ThreadMessage, ...] = ()
    if found.kind == "conversation":
        rows = session.execute(select(Message.sent_at, Message.direction, Message.author_id, Message.body)
                               .where(Message.conversation_id == found.case_id)
                               .order_by(Message.sent_at.asc().nulls_last(), Message.message_id)).all()
        authors = {r.author_id for r in rows if r.direction == "outbound" and r.author_id}
        names = dict(session.execute(select(SupportAgent.agent_id, SupportAgent.full_name)
                                     .where(SupportAgent.agent_id.in_(authors))).all()) if authors else {}
        messages = tuple(ThreadMessage(r.sent_at, r.direction != "outbound",
                                       "Customer" if r.direction != "outbound"
                                       else names.get(r.author_id) or r.author_id or "Agent",
                                       mask_text(r.body, policy)) for r in rows)
    return CaseThread(found.kind, found.case_id, found.account_id, found.account_name, mask_text(found.subject, policy),
                      found.status, found.channel, found.severity, found.agent_name, found.team, found.opened_at,
                      found.first_response_at, found.resolved_at, found.sla_minutes, found.sla_due_at,
                      found.sla_met, found.sla_breached, found.csat, messages)


def agent_queue(query: PageQuery, agent_id: Any) -> PageQuery | None:
    """The page at that agent's open queue."""
    if not isinstance(agent_id, str) or not AGENT_ID.match(agent_id):
        return None
    return replace(query, agent=agent_id, queue="open")


def drill_to(query: PageQuery, kind: str, value: Any) -> PageQuery | None:
    """The page listing the cases behind a clicked bar or cell."""
    if value is None or (isinstance(value, str) and not value):
        return None
    drill = parse_drill(f"{kind}:{value}")
    return None if drill is None else replace(query, drill=f"{drill[0]}:{drill[1]}")


# --- The page's panels ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageQueue:
    resolved: ResolvedFilters
    state: QueueState
    queue: QueueList

    @property
    def fingerprint(self) -> str:
        """What the queue panels show, so a refresh that changes nothing redraws nothing."""
        s = self.state
        return fingerprint(s.open, s.unassigned, s.unanswered, s.breaching, s.breached, s.oldest_case,
                           None if s.oldest_wait_minutes is None else round(s.oldest_wait_minutes),
                           self.queue.queue, self.queue.total, self.queue.grid.rows)


@dataclass(frozen=True)
class PageSpeed:
    resolved: ResolvedFilters
    speed: Speed


@dataclass(frozen=True)
class PageSla:
    resolved: ResolvedFilters
    sla: Sla
    breaches: GridRows


@dataclass(frozen=True)
class PageAgents:
    resolved: ResolvedFilters
    grid: GridRows


@dataclass(frozen=True)
class PagePeaks:
    resolved: ResolvedFilters
    peaks: PeakHours


@dataclass(frozen=True)
class PageCases:
    resolved: ResolvedFilters
    cases: DrillCases | None


def _on_page(session: Session, query: PageQuery, scope: DataScope, panel: Callable[[ResolvedFilters], Any], *,
             now: datetime | None = None) -> Any:
    """`panel` of the validated page, or the gold status when there is no data yet."""
    resolved = resolve_page(session, query, scope, now=now)
    return gold_status(session) if resolved is None else panel(resolved)


def page_queue(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy,
               now: datetime | None = None) -> PageQueue | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageQueue(r, queue_state(session, r.filters),
                                                               queue_list(session, r.filters, policy)), now=now)


def page_speed(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageSpeed | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageSpeed(r, speed(session, r.filters)))


def page_sla(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageSla | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageSla(r, sla(session, r.filters),
                                                             breaches(session, r.filters, policy)))


def page_agents(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageAgents | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageAgents(r, agents_leaderboard(session, r.filters)))


def page_peaks(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PagePeaks | GoldStatus:
    return _on_page(session, query, scope, lambda r: PagePeaks(r, peak_hours(session, r.filters)))


def page_cases(session: Session, query: PageQuery, scope: DataScope, *, policy: MaskPolicy) -> PageCases | GoldStatus:
    return _on_page(session, query, scope, lambda r: PageCases(r, drill_cases(session, r.filters, policy)))


def data_version(session: Session) -> str | None:
    """When gold was last refreshed: the period panels redraw only when it moves."""
    refreshed = gold_status(session).refreshed_at
    return None if refreshed is None else refreshed.isoformat()



# --- Server-side exports (dashboard/export.py): the grids recomputed for the same URL state ---------


def _export(session: Session, args: Mapping[str, Any], scope: DataScope,
            grid: Callable[[SupportFilters], GridRows], columns: tuple[GridColumn, ...]) -> GridRows:
    resolved = resolve_page(session, PageQuery.from_args(args), scope)
    return GridRows(columns, [], key_field="account_name") if resolved is None else grid(resolved.filters)


def export_queue(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(session, args, scope, lambda f: queue_list(session, f, policy).grid, case_columns(queue=True))


def export_breaches(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(session, args, scope, lambda f: breaches(session, f, policy), breach_columns())


def export_agents(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(session, args, scope, lambda f: agents_leaderboard(session, f), agent_columns())


def export_cases(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    def grid(filters: SupportFilters) -> GridRows:
        found = drill_cases(session, filters, policy)
        return found.grid if found is not None else GridRows(case_columns(), [], key_field="account_name")
    return _export(session, args, scope, grid, case_columns())


def export_name(args: Mapping[str, Any]) -> str:
    """The file-name part of an export: the period, and the queue or drill shown."""
    parts = [f"{first(args, 'period')}-days" if first(args, "period") in {str(p) for p in PERIODS} else None,
             first(args, "queue") if first(args, "queue") in QUEUES else None,
             (parse_drill(first(args, "drill")) or (None, None))[0]]
    return "_".join(p for p in parts if p) or "all"

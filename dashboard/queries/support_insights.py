"""Operations page queries: recurring issues, tickets per customer by product, repeat-issue customers,
systemic issues, satisfaction, inbound sentiment, VIP attention, onboarding delays and complaints.

One function per panel, each taking the page's URL state, the caller's `DataScope` and `MaskPolicy`
(both required) and returning a typed result, or gold's status before gold was built. Everything is
read from gold: gold.support_case (one row per ticket and conversation, in the region and territory of
its account), gold.text_score / gold.topic_trend / gold.sentiment_daily (the text job),
gold.product_customer and gold.onboarding_stage (built for this page), gold.customer_360. Cases are
scoped by their account (`account_filter` on territory and account id), so accounts assigned by name
count.

The period is the last 7, 30 or 90 days to the data's last day (`?days=30`, the default), optionally one
region (`?region=Europe`). Definitions (shown on the page too):
- repeat issue: a ticket whose account opened a ticket of the same category in the 30 days before it;
  a customer returns with a repeat issue when one of its tickets opened in the period is one;
- systemic issue: a ticket category whose distinct accounts in the last 7 days are at least
  SYSTEMIC_RATIO times its usual weekly level (the mean of the 12 weeks before) and at least
  SYSTEMIC_MIN_ACCOUNTS accounts;
- satisfied: a CSAT rating of 4 or 5; the share satisfied has a 95% Wilson score interval, which
  stays inside 0-100% and is honest for small groups;
- VIP: a customer in the top 10% of paying customers by MRR (company-wide), ranked by urgency: 3 points
  per open P1, 2 per open P2, 1 per SLA breach of a ticket opened in the period, 2 when its inbound
  sentiment fell by at least SENTIMENT_FALL against the period before;
- complaint: a ticket whose subject the text job scored negative, or an escalated ticket; resolved
  within SLA: resolved, first response within the ticket's SLA target (when it has one) and resolved
  within RESOLUTION_TARGET_HOURS of its severity. Complaints still open whose target has not passed
  are not counted yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Text,
    and_,
    any_,
    bindparam,
    case,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_text, mask_value
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.grid import ACCOUNT, BAND, COUNT, DAY, PERCENT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.attribution_text import SentimentDaily, SentimentPeriod, TextScore, TopicTrend
from dashboard.tables.gold import (
    Customer360,
    OnboardingDays,
    OnboardingStage,
    OnboardingStuck,
    OnboardingSummary,
    ProductCustomer,
    SupportCase,
    SupportCategoryWeekly,
    SupportProductRunning,
    SupportRegion,
    SupportRepeatCustomer,
    SupportRepeatTicket,
    SupportVip,
)
from dashboard.url_state import first, to_search
from models.kpi import wilson_interval

PAGE_PATH = "/support/insights"
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
REPEAT_WINDOW_DAYS = 30
SYSTEMIC_WEEKS = 12
SYSTEMIC_RATIO = 2.0
SYSTEMIC_MIN_ACCOUNTS = 3
SATISFIED_CSAT = 4
VIP_SHARE = 0.10  # the top 10% of paying customers by MRR
SENTIMENT_FALL = 0.10  # a drop in mean compound sentiment that counts as falling
SENTIMENT_MIN_TEXTS = 2  # texts needed in each period to call a fall
HIGH_SEVERITIES = ("P1", "P2")
RESOLUTION_TARGET_HOURS = {"P1": 8, "P2": 24, "P3": 72, "P4": 120}
ONBOARDING_DAYS = 365  # stage figures over the milestones completed in the last year
MILESTONE_ORDER = ("kickoff", "site_survey", "installation", "configuration", "training", "go_live")
TOPIC_LIMIT = 10
SAMPLES_PER_TOPIC = 3
GRID_LIMIT = 200
REPEAT_LIMIT = 25  # the customers returning most; the headline counts them all

SC = SupportCase


# --- The page's state in the URL -----------------------------------------------------


@dataclass(frozen=True)
class OperationsQuery:
    """The page as the URL holds it, raw: `?days=7&region=Europe`. Validated by `resolve`."""

    days: Any = None
    region: Any = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> OperationsQuery:
        return cls(first(args, "days"), first(args, "region"))

    @classmethod
    def from_state(cls, data: Any) -> OperationsQuery:
        if not isinstance(data, dict):
            return cls()
        return cls.from_args({k: data.get(k) for k in ("days", "region")})

    def as_state(self) -> dict[str, Any]:
        return {"days": self.days, "region": self.region}

    @property
    def search(self) -> str:
        return to_search([("days", self.days), ("region", self.region)])

    @property
    def href(self) -> str:
        return PAGE_PATH + self.search


@dataclass(frozen=True)
class ResolvedQuery:
    """The validated state: the period's days, its last day (the data's last day), a region or None."""

    days: int
    as_of: date
    region: str | None
    regions: tuple[str, ...]
    scope: DataScope
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> date:
        """The period's first day."""
        return self.as_of - timedelta(days=self.days - 1)

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def canonical(self) -> OperationsQuery:
        return OperationsQuery(str(self.days) if self.days != DEFAULT_DAYS else None, self.region)


def resolve(session: Session, query: OperationsQuery, scope: DataScope) -> ResolvedQuery | None:
    """Validate the URL state; unknown values fall back with a note. None before gold was built."""
    as_of = session.scalar(select(func.max(SC.opened_day)))
    if as_of is None:
        return None
    notes: list[str] = []
    days = DEFAULT_DAYS
    if query.days is not None:
        raw = str(query.days).strip()
        if raw.isdigit() and int(raw) in PERIODS:
            days = int(raw)
        else:
            notes.append(f"The period can be 7, 30 or 90 days, not \u201c{raw[:40]}\u201d: showing 30.")
    if scope.served_by_territory:  # gold.support_region: customer_360's regions per territory
        regions_of_scope = (select(SupportRegion.region).distinct()
                            .where(scope.territory_filter(SupportRegion.territory)).order_by(SupportRegion.region))
    else:
        regions_of_scope = (select(Customer360.region).distinct().where(scope.customer_filter())
                            .order_by(Customer360.region))
    regions = tuple(r for r in session.scalars(regions_of_scope) if r)
    region = query.region if query.region in regions else None
    if query.region is not None and region is None:
        notes.append(f"No region \u201c{str(query.region)[:40]}\u201d in your data: showing every region.")
    return ResolvedQuery(days, as_of, region, regions, scope, tuple(notes))


def _case_filter(resolved: ResolvedQuery) -> ColumnElement[bool]:
    """Cases of the caller's scope (and the chosen region)."""
    where = resolved.scope.account_filter(SC.territory, SC.account_id)
    return and_(where, SC.region == resolved.region) if resolved.region else where


def _unit_filter(resolved: ResolvedQuery, table: Any) -> list[ColumnElement[bool]]:
    """Rows of gold kept per region and territory within a scope served by territory (and the region)."""
    where = [resolved.scope.territory_filter(table.territory)]
    return [*where, table.region == resolved.region] if resolved.region else where


def _tickets_between(resolved: ResolvedQuery, first_day: date, last_day: date) -> list[ColumnElement[bool]]:
    return [SC.kind == "ticket", SC.opened_day >= first_day, SC.opened_day <= last_day, _case_filter(resolved)]


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else float(part) / float(whole)


def _day(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else None


def customer_of_account() -> Any:
    """Each regional account's customer (master account, gold.customer_360), whose Customer 360 page
    the page's account rows open: cases and milestones carry the regional account."""
    c = Customer360
    return select(c.account_id.label("customer_id"), c.account_name.label("customer_name"),
                  func.unnest(c.regional_account_ids).label("regional_id")).subquery("customer_of_account")


# --- 1. Recurring issues -------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRow:
    topic: str
    mentions: int
    previous_mentions: int
    change_pct: float | None
    avg_sentiment: float | None
    negative_share: float | None
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicsResult:
    """The most mentioned topics of the period with their trend, and a few recent texts each.
    Company-wide (gold.topic_trend: messages, ticket subjects and replies) for a caller who sees every
    territory and no region chosen; otherwise worked out from the scope's ticket subjects."""

    resolved: ResolvedQuery
    company_wide: bool
    rows: tuple[TopicRow, ...]


def _scoped_topic_counts(session: Session, resolved: ResolvedQuery) -> list[TopicRow]:
    topic = func.unnest(TextScore.topics).label("topic")
    texts = (select(topic, SC.opened_day, TextScore.compound, TextScore.label)
             .join(TextScore, and_(TextScore.source == "ticket", TextScore.item_id == SC.case_id))
             .where(*_tickets_between(resolved, resolved.previous_start, resolved.as_of)).subquery())
    current = texts.c.opened_day >= resolved.start
    rows = session.execute(
        select(texts.c.topic, func.count().filter(current), func.count().filter(~current),
               func.avg(texts.c.compound).filter(current),
               func.avg(case((texts.c.label == "negative", 1.0), else_=0.0)).filter(current))
        .group_by(texts.c.topic)).all()
    return [TopicRow(t, int(n), int(p), 100.0 * (n - p) / p if p else None,
                     None if s is None else float(s), None if neg is None else float(neg))
            for t, n, p, s, neg in rows if n]


def _samples(session: Session, resolved: ResolvedQuery, topics: list[str], policy: MaskPolicy) -> dict[str, list[str]]:
    """The newest ticket subjects of the period per topic, masked for roles without PII access. Each topic
    walks the cases newest first (ix_gold_support_case_newest) until it has its few, instead of ranking
    every subject of the period (95 ms of SQL at 100k accounts, now 5)."""
    if not topics:
        return {}
    wanted = select(func.unnest(bindparam(None, list(topics), type_=ARRAY(Text))).label("topic")).subquery("wanted")
    # Newest first by day, then time: the index's order, so each topic reads only the period's newest cases.
    newest = (select(SC.subject, SC.opened_day, SC.opened_at, SC.case_id)
              .join(TextScore, and_(TextScore.source == "ticket", TextScore.item_id == SC.case_id))
              .where(*_tickets_between(resolved, resolved.start, resolved.as_of), SC.subject.is_not(None),
                     wanted.c.topic == any_(TextScore.topics))
              .order_by(SC.opened_day.desc(), SC.opened_at.desc(), SC.case_id).limit(SAMPLES_PER_TOPIC)
              .lateral("newest"))
    found: dict[str, list[str]] = {}
    for t, subject in session.execute(select(wanted.c.topic, newest.c.subject).select_from(wanted.join(newest, true()))
                                      .order_by(wanted.c.topic, newest.c.opened_day.desc(),
                                                newest.c.opened_at.desc(), newest.c.case_id)):
        found.setdefault(t, []).append(mask_text(subject, policy) or "")
    return found


def topics(session: Session, query: OperationsQuery, scope: DataScope, *,
           policy: MaskPolicy) -> TopicsResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    company_wide = scope.unrestricted and resolved.region is None
    if company_wide:
        tt = TopicTrend
        rows = [TopicRow(r.term, r.mentions, r.previous_mentions, r.change_pct, r.avg_sentiment, r.negative_share)
                for r in session.scalars(select(tt).where(tt.kind == "topic", tt.period_days == resolved.days,
                                                          tt.mentions > 0))]
    else:
        rows = _scoped_topic_counts(session, resolved)
    rows = sorted(rows, key=lambda r: (-r.mentions, r.topic))[:TOPIC_LIMIT]
    samples = _samples(session, resolved, [r.topic for r in rows], policy)
    rows = [TopicRow(r.topic, r.mentions, r.previous_mentions, r.change_pct, r.avg_sentiment, r.negative_share,
                     tuple(samples.get(r.topic, ()))) for r in rows]
    return TopicsResult(resolved, company_wide, tuple(rows))


# --- 2. Tickets per customer by product ------------------------------------------------------------


@dataclass(frozen=True)
class ProductsResult:
    """Per product: the period's tickets over the customers running it on some day of the period."""

    resolved: ResolvedQuery
    grid: GridRows
    tickets: int  # tickets about a product in the period


def product_columns() -> tuple[GridColumn, ...]:
    # Narrow: the card shares its row. Each row keeps its product_id (the grid's row id).
    return (GridColumn("product_name", "Product", pinned=True),
            GridColumn("tickets_per_customer", "Per customer", COUNT), GridColumn("tickets", "Tickets", COUNT),
            GridColumn("customers", "Running it", COUNT), GridColumn("customers_with_tickets", "With a ticket", COUNT))


def _running_customers(session: Session, resolved: ResolvedQuery, *, from_rows: bool = False) -> dict[str, Any]:
    """Customers running each product in the period (product_id -> row of product_name, customers): summed
    from gold.support_product_running for everything or territories, counted from gold.product_customer
    for a scope naming accounts (or `from_rows`)."""
    scope = resolved.scope
    if scope.served_by_territory and not from_rows:
        pr = SupportProductRunning
        where = [pr.period_days == resolved.days, pr.as_of == resolved.as_of, scope.territory_filter(pr.territory)]
        if resolved.region:
            where.append(pr.region == resolved.region)
        kept = session.scalar(select(pr.period_days).where(pr.period_days == resolved.days,
                                                           pr.as_of == resolved.as_of).limit(1))
        if kept is not None:
            return {r.product_id: r for r in session.execute(
                select(pr.product_id, func.max(pr.product_name).label("product_name"),
                       func.sum(pr.customers).label("customers")).where(*where).group_by(pr.product_id))}
    pc = ProductCustomer
    where = [pc.running_from <= resolved.as_of,
             or_(pc.running_until.is_(None), pc.running_until > resolved.start),
             scope.account_filter(pc.territory, pc.account_id)]
    if resolved.region:
        where.append(pc.region == resolved.region)
    return {r.product_id: r for r in session.execute(
        select(pc.product_id, func.max(pc.product_name).label("product_name"), func.count().label("customers"))
        .where(*where).group_by(pc.product_id))}


def products(session: Session, query: OperationsQuery, scope: DataScope, *,
             policy: MaskPolicy) -> ProductsResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    tickets = {r.product_id: r for r in session.execute(
        select(SC.product_id, func.max(SC.product_name).label("product_name"), func.count().label("tickets"),
               func.count(distinct(SC.account_id)).label("accounts"))
        .where(*_tickets_between(resolved, resolved.start, resolved.as_of), SC.product_id.is_not(None))
        .group_by(SC.product_id))}
    running = _running_customers(session, resolved)
    records = []
    for product_id in set(tickets) | set(running):
        t, c = tickets.get(product_id), running.get(product_id)
        count, customers = (t.tickets if t else 0), (c.customers if c else 0)
        records.append({"product_id": product_id, "product_name": (t or c).product_name or product_id,
                        "tickets": count, "customers": customers,
                        "customers_with_tickets": t.accounts if t else 0,
                        "tickets_per_customer": round(count / customers, 3) if customers else None})
    records.sort(key=lambda r: (-(r["tickets_per_customer"] or 0), -r["tickets"], r["product_name"]))
    return ProductsResult(resolved, GridRows(product_columns(), records, "product_name"),
                          sum(r["tickets"] for r in records))


# --- 3. Repeat-issue customers ------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatResult:
    """Customers with a ticket in the period, those returning with the same category within 30 days."""

    resolved: ResolvedQuery
    customers: int  # accounts with a ticket opened in the period
    repeat_customers: int  # ... of which with a repeat ticket in the period
    tickets: int
    repeat_tickets: int
    grid: GridRows

    @property
    def repeat_share(self) -> float | None:
        return _ratio(self.repeat_customers, self.customers)


def repeat_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True),
            GridColumn("repeat_tickets", "Repeat tickets", COUNT), GridColumn("tickets", "Tickets in period", COUNT),
            GridColumn("categories", "Returning with"), GridColumn("last_opened", "Last repeat", DAY),
            GridColumn("territory", "Territory"), GridColumn("account_id", "Account id"))


def _repeat_aggregates(cases: Any, resolved: ResolvedQuery) -> Any:
    """Per customer of `cases` (each with its previous ticket of the category, `previous_at`): its name,
    territory, tickets of the period, repeat tickets, their categories and last day."""
    in_period = cases.c.opened_day >= resolved.start
    is_repeat = and_(in_period, cases.c.previous_at.is_not(None),
                     cases.c.opened_at - cases.c.previous_at <= timedelta(days=REPEAT_WINDOW_DAYS))
    return select(cases.c.customer_id, func.max(cases.c.account_name).label("account_name"),
                  func.max(cases.c.territory).label("territory"),
                  func.count().filter(in_period).label("tickets"),
                  func.count().filter(is_repeat).label("repeat_tickets"),
                  func.string_agg(distinct(case((is_repeat, cases.c.category))), literal(", ")).label("categories"),
                  func.max(case((is_repeat, cases.c.opened_day))).label("last_opened")).group_by(cases.c.customer_id)


def _repeat_customers_by_ticket(resolved: ResolvedQuery) -> Any:
    """Every ticket of the scope from 30 days before the period on, in order per customer and category:
    for a scope naming accounts, whose customers gold cannot sum."""
    lookback = resolved.start - timedelta(days=REPEAT_WINDOW_DAYS)
    customers = customer_of_account()
    customer = func.coalesce(customers.c.customer_id, SC.account_id)
    previous = func.lag(SC.opened_at).over(partition_by=(customer, SC.category), order_by=(SC.opened_at, SC.case_id))
    cases = (select(customer.label("customer_id"), func.coalesce(customers.c.customer_name, SC.account_name,
                                                                 SC.account_id).label("account_name"),
                    SC.territory, SC.category, SC.opened_day, SC.opened_at, previous.label("previous_at"))
             .outerjoin(customers, customers.c.regional_id == SC.account_id)
             .where(*_tickets_between(resolved, lookback, resolved.as_of), SC.account_id.is_not(None),
                    SC.category.is_not(None))
             .subquery())
    return _repeat_aggregates(cases, resolved).subquery()


def _repeat_customers_by_territory(resolved: ResolvedQuery) -> Any:
    """Customers whose tickets sit in one territory read their row of gold.support_repeat_customer; the few
    over several territories are worked out from their tickets the scope sees (gold.support_repeat_ticket)."""
    rc, rt = SupportRepeatCustomer, SupportRepeatTicket
    lookback = resolved.start - timedelta(days=REPEAT_WINDOW_DAYS)
    previous = func.lag(rt.opened_at).over(partition_by=(rt.customer_account_id, rt.category),
                                           order_by=(rt.opened_at, rt.case_id))
    spread = (select(rt.customer_account_id.label("customer_id"), rt.account_name, rt.territory, rt.category,
                     rt.opened_day, rt.opened_at, previous.label("previous_at"))
              .where(rt.opened_day >= lookback, rt.opened_day <= resolved.as_of, *_unit_filter(resolved, rt))
              .subquery())
    whole = select(rc.customer_account_id.label("customer_id"), rc.account_name, rc.territory, rc.tickets,
                   rc.repeat_tickets, rc.categories, rc.last_opened).where(rc.period_days == resolved.days,
                                                                           *_unit_filter(resolved, rc))
    return whole.union_all(_repeat_aggregates(spread, resolved)).subquery()


def repeats(session: Session, query: OperationsQuery, scope: DataScope, *,
            policy: MaskPolicy) -> RepeatResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    per_customer = (_repeat_customers_by_territory(resolved) if scope.served_by_territory
                    else _repeat_customers_by_ticket(resolved))
    # The headline counts ride along as window totals, so the customers are worked out once.
    pc = per_customer.c
    everyone = (func.count().filter(pc.tickets > 0).over(), func.count().filter(pc.repeat_tickets > 0).over(),
                func.coalesce(func.sum(pc.tickets).over(), 0), func.coalesce(func.sum(pc.repeat_tickets).over(), 0))
    ranked = select(per_customer, *(total.label(f"total_{i}") for i, total in enumerate(everyone))).subquery()
    found = session.execute(select(ranked).order_by((ranked.c.repeat_tickets > 0).desc(), ranked.c.repeat_tickets.desc(),
                                                    ranked.c.last_opened.desc(), ranked.c.customer_id)
                            .limit(REPEAT_LIMIT)).all()
    totals = (found[0].total_0, found[0].total_1, found[0].total_2, found[0].total_3) if found else (0, 0, 0, 0)
    rows = [r for r in found if r.repeat_tickets > 0]
    records = [{"account_id": r.customer_id, "account_name": r.account_name,
                "repeat_tickets": r.repeat_tickets, "tickets": r.tickets, "categories": r.categories,
                "last_opened": _day(r.last_opened), "territory": r.territory} for r in rows]
    return RepeatResult(resolved, int(totals[0]), int(totals[1]), int(totals[2]), int(totals[3]),
                        GridRows(repeat_columns(), records, "account_name"))


# --- 4. Systemic issues --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemicRow:
    category: str
    accounts_last_week: int  # distinct accounts with a ticket of the category in the last 7 days
    usual_weekly: float  # mean distinct accounts per week over the 12 weeks before
    flagged: bool

    @property
    def ratio(self) -> float | None:
        return None if not self.usual_weekly else self.accounts_last_week / self.usual_weekly


@dataclass(frozen=True)
class SystemicResult:
    resolved: ResolvedQuery
    rows: tuple[SystemicRow, ...]  # flagged first, then by the rise against the usual level

    @property
    def flagged(self) -> tuple[SystemicRow, ...]:
        return tuple(r for r in self.rows if r.flagged)


def is_systemic(last_week: int, usual_weekly: float) -> bool:
    return last_week >= SYSTEMIC_MIN_ACCOUNTS and last_week >= SYSTEMIC_RATIO * usual_weekly


def systemic(session: Session, query: OperationsQuery, scope: DataScope, *,
             policy: MaskPolicy) -> SystemicResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    first_day = resolved.as_of - timedelta(days=7 * (SYSTEMIC_WEEKS + 1) - 1)
    # Week 0 is the last 7 days to the data's last day, week 1 the 7 before, ...
    if scope.served_by_territory:  # an account sits in one territory: its weekly rows add up
        cw = SupportCategoryWeekly
        rows = session.execute(select(cw.category, cw.week, func.sum(cw.accounts))
                               .where(*_unit_filter(resolved, cw)).group_by(cw.category, cw.week)).all()
    else:
        week = func.div(literal(resolved.as_of, Date) - SC.opened_day, 7).label("week")
        rows = session.execute(select(SC.category, week, func.count(distinct(SC.account_id)))
                               .where(*_tickets_between(resolved, first_day, resolved.as_of), SC.category.is_not(None),
                                      SC.account_id.is_not(None))
                               .group_by(SC.category, week)).all()
    weekly: dict[str, dict[int, int]] = {}
    for category, w, accounts in rows:
        weekly.setdefault(category, {})[int(w)] = int(accounts)
    found = []
    for category, counts in weekly.items():
        last = counts.get(0, 0)
        usual = sum(counts.get(w, 0) for w in range(1, SYSTEMIC_WEEKS + 1)) / SYSTEMIC_WEEKS
        found.append(SystemicRow(category, last, round(usual, 2), is_systemic(last, usual)))
    found.sort(key=lambda r: (not r.flagged, -(r.accounts_last_week - r.usual_weekly), r.category))
    return SystemicResult(resolved, tuple(found))


# --- 5. Satisfaction --------------------------------------------------------------------------------------


SATISFACTION_DIMENSIONS = {"product": "Product", "region": "Region", "agent": "Agent"}


def satisfaction_columns(dimension: str) -> tuple[GridColumn, ...]:
    return (GridColumn("group", SATISFACTION_DIMENSIONS[dimension], pinned=True),
            GridColumn("satisfied_share", "Satisfied (4-5)", PERCENT),
            GridColumn("interval", "95% interval"), GridColumn("rated", "Rated tickets", COUNT),
            GridColumn("avg_csat", "Mean CSAT", COUNT))


@dataclass(frozen=True)
class SatisfactionResult:
    """CSAT of the tickets opened in the period and rated, overall and by product, region and agent."""

    resolved: ResolvedQuery
    rated: int
    satisfied: int
    avg_csat: float | None
    grids: dict[str, GridRows] = field(default_factory=dict)

    @property
    def satisfied_share(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


def interval_text(interval: tuple[float, float] | None) -> str:
    return "n/a" if interval is None else f"{interval[0] * 100:.0f}\u2013{interval[1] * 100:.0f}%"


def satisfaction(session: Session, query: OperationsQuery, scope: DataScope, *,
                 policy: MaskPolicy) -> SatisfactionResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    keys = {"product": func.coalesce(SC.product_name, "No product"), "region": SC.region,
            "agent": func.coalesce(SC.agent_name, SC.agent_id, "Unassigned")}
    # One pass counts the period overall and per product, region and agent (hashed grouping sets); four
    # scans of the period's tickets before.
    rows = session.execute(
        select(*(key.label(name) for name, key in keys.items()), func.grouping(*keys.values()).label("set"),
               func.count(), func.count().filter(SC.csat >= SATISFIED_CSAT), func.sum(SC.csat))
        .where(*_tickets_between(resolved, resolved.start, resolved.as_of), SC.csat.is_not(None))
        .group_by(func.grouping_sets(tuple_(), *(tuple_(key) for key in keys.values())))).all()
    # grouping(): a bit per dimension left out, product first; 0b111 is the overall row.
    sets = {"product": 0b011, "region": 0b101, "agent": 0b110}
    total = next((r for r in rows if r.set == 0b111), None)
    overall = (0, 0, None) if total is None or not total[4] else (int(total[4]), int(total[5]),
                                                                   int(total[6]) / int(total[4]))
    grids = {}
    for position, dimension in enumerate(keys):
        records = []
        for row in rows:
            if row.set != sets[dimension]:
                continue
            group, rated, happy, csat_sum = row[position], int(row[4]), int(row[5]), int(row[6])
            interval = wilson_interval(happy, rated)
            records.append({"group": group, "rated": rated, "satisfied": happy,
                            "satisfied_share": happy / rated, "interval": interval_text(interval),
                            "low": interval[0] if interval else None, "high": interval[1] if interval else None,
                            "avg_csat": round(csat_sum / rated, 2)})
        records.sort(key=lambda r: (r["satisfied_share"], -r["rated"], str(r["group"])))
        grids[dimension] = GridRows(satisfaction_columns(dimension), records, "group")
    return SatisfactionResult(resolved, int(overall[0]), int(overall[1]),
                              None if overall[2] is None else float(overall[2]), grids)


# --- 6. Inbound sentiment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentResult:
    """Inbound chat and WhatsApp messages per day of the period: texts, mean compound sentiment
    (-1..1, VADER) and the share negative; the period's mean against the period before."""

    resolved: ResolvedQuery
    days: tuple[date, ...]
    texts: tuple[int, ...]
    mean: tuple[float | None, ...]
    negative_share: tuple[float | None, ...]
    period_mean: float | None
    previous_mean: float | None
    period_texts: int
    period_negative_share: float | None


def _sentiment_scope(resolved: ResolvedQuery) -> list[ColumnElement[bool]]:
    """Sentiment rows are per customer (master account): scoped through gold.customer_360."""
    scope = resolved.scope
    if scope.unrestricted and resolved.region is None:
        return []
    where = [SentimentDaily.account_id.in_(select(Customer360.account_id).where(
        scope.customer_filter(), Customer360.region == resolved.region if resolved.region else true()))]
    return where


def sentiment(session: Session, query: OperationsQuery, scope: DataScope, *,
              policy: MaskPolicy) -> SentimentResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    sd = SentimentDaily
    rows = session.execute(select(sd.day, func.sum(sd.texts), func.sum(sd.compound_sum), func.sum(sd.negative))
                           .where(sd.source == "message", sd.day >= resolved.previous_start, sd.day <= resolved.as_of,
                                  *_sentiment_scope(resolved))
                           .group_by(sd.day).order_by(sd.day)).all()
    current = [r for r in rows if r[0] >= resolved.start]
    previous = [r for r in rows if r[0] < resolved.start]

    def mean(part: list) -> float | None:
        texts = sum(int(r[1]) for r in part)
        return float(sum(float(r[2]) for r in part)) / texts if texts else None

    texts = sum(int(r[1]) for r in current)
    return SentimentResult(resolved, tuple(r[0] for r in current), tuple(int(r[1]) for r in current),
                           tuple(float(r[2]) / int(r[1]) if r[1] else None for r in current),
                           tuple(int(r[3]) / int(r[1]) if r[1] else None for r in current),
                           mean(current), mean(previous), texts,
                           _ratio(sum(int(r[3]) for r in current), texts))


# --- 7. VIP attention -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VipResult:
    """The scope's VIP customers needing attention, most urgent first, with the reason in words."""

    resolved: ResolvedQuery
    vip_customers: int  # VIPs in the scope
    threshold_usd: float | None  # the MRR from which a customer is a VIP
    grid: GridRows


def vip_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("urgency", "Urgency", COUNT),
            GridColumn("reason", "Why"), GridColumn("mrr_usd", "MRR", USD if policy.view_financials else BAND),
            GridColumn("open_p1", "Open P1", COUNT), GridColumn("open_p2", "Open P2", COUNT),
            GridColumn("sla_breaches", "SLA breaches", COUNT),
            GridColumn("sentiment_now", "Sentiment"), GridColumn("territory", "Territory"),
            GridColumn("account_id", "Account id"))


def urgency(open_p1: int, open_p2: int, breaches: int, sentiment_falling: bool) -> int:
    return 3 * open_p1 + 2 * open_p2 + breaches + (2 if sentiment_falling else 0)


def signed(value: float | None) -> str | None:
    """A sentiment score as +0.12 / -0.30; rounded first, so a hair below zero reads +0.00."""
    return None if value is None else f"{round(value, 2) + 0.0:+.2f}"


def vip_reason(open_p1: int, open_p2: int, oldest_open: date | None, breaches: int, days: int,
               sentiment_then: float | None, sentiment_now: float | None, falling: bool, as_of: date) -> str:
    parts = []
    if open_p1 or open_p2:
        kinds = " and ".join(p for p in (f"{open_p1} P1" if open_p1 else "", f"{open_p2} P2" if open_p2 else "") if p)
        age = ""
        if oldest_open is not None:
            days_ago = (as_of - oldest_open).days
            when = "today" if days_ago == 0 else "1 day ago" if days_ago == 1 else f"{days_ago} days ago"
            age = f", {'the oldest ' if open_p1 + open_p2 > 1 else ''}opened {when}"
        parts.append(f"{kinds} open{age}")
    if breaches:
        parts.append(f"{breaches} SLA {'breach' if breaches == 1 else 'breaches'} in the last {days} days")
    if falling and sentiment_then is not None and sentiment_now is not None:
        parts.append(f"sentiment fell from {signed(sentiment_then)} to {signed(sentiment_now)}")
    return "; ".join(parts)


def vip_threshold(session: Session) -> float | None:
    """The MRR of the 90th percentile of paying customers, company-wide (kept on every gold.support_vip row)."""
    value = session.scalar(select(SupportVip.threshold_usd).limit(1))
    return None if value is None else float(value)


def _vip_sentiment(session: Session, resolved: ResolvedQuery, vips: Any) -> Any:
    """Each VIP's texts and compound sum in the period and the one before: gold.sentiment_period when the
    text job worked it out to this last day, else summed from gold.sentiment_daily."""
    sp = SentimentPeriod
    if session.scalar(select(sp.period_end).where(sp.period_days == resolved.days).limit(1)) == resolved.as_of:
        return (select(sp.account_id, sp.texts.label("texts_now"), sp.compound_sum.label("sum_now"),
                       sp.previous_texts.label("texts_then"), sp.previous_compound_sum.label("sum_then"))
                .where(sp.period_days == resolved.days, sp.account_id.in_(select(vips.c.account_id))).subquery())
    sd = SentimentDaily
    current = sd.day >= resolved.start
    return (select(sd.account_id, func.sum(sd.texts).filter(current).label("texts_now"),
                   func.sum(sd.compound_sum).filter(current).label("sum_now"),
                   func.sum(sd.texts).filter(~current).label("texts_then"),
                   func.sum(sd.compound_sum).filter(~current).label("sum_then"))
            .where(sd.account_id.in_(select(vips.c.account_id)), sd.day >= resolved.previous_start,
                   sd.day <= resolved.as_of)
            .group_by(sd.account_id).subquery())


def vip(session: Session, query: OperationsQuery, scope: DataScope, *,
        policy: MaskPolicy) -> VipResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    threshold = vip_threshold(session)
    if threshold is None:
        return VipResult(resolved, 0, None, GridRows(vip_columns(policy), [], "account_name"))
    v = SupportVip
    where = [scope.account_filter(v.territory, v.account_id)]
    if resolved.region:
        where.append(v.region == resolved.region)
    breaches = {7: v.sla_breaches_7, 30: v.sla_breaches_30, 90: v.sla_breaches_90}[resolved.days]
    vips = select(v.account_id, v.account_name, v.territory, v.mrr_usd, v.open_p1, v.open_p2, v.oldest_open,
                  breaches.label("breaches")).where(*where).subquery()
    mood = _vip_sentiment(session, resolved, vips)
    now = mood.c.sum_now / func.nullif(mood.c.texts_now, 0)
    then = mood.c.sum_then / func.nullif(mood.c.texts_then, 0)
    falling = func.coalesce(and_(mood.c.texts_now >= SENTIMENT_MIN_TEXTS, mood.c.texts_then >= SENTIMENT_MIN_TEXTS,
                                 now <= then - SENTIMENT_FALL), false())
    points = (3 * vips.c.open_p1 + 2 * vips.c.open_p2 + vips.c.breaches + case((falling, 2), else_=0))
    scored = (select(vips, mood.c.texts_now, mood.c.sum_now, mood.c.texts_then, mood.c.sum_then,
                     falling.label("falling"), points.label("urgency"))
              .outerjoin(mood, mood.c.account_id == vips.c.account_id).subquery())
    vip_customers = session.scalar(select(func.count()).select_from(vips)) or 0
    records = []
    for row in session.execute(select(scored).where(scored.c.urgency > 0)
                               .order_by(scored.c.urgency.desc(), scored.c.mrr_usd.desc(), scored.c.account_id)
                               .limit(GRID_LIMIT)):
        now_value = float(row.sum_now) / row.texts_now if row.texts_now else None
        then_value = float(row.sum_then) / row.texts_then if row.texts_then else None
        records.append({"account_id": row.account_id, "account_name": row.account_name, "urgency": row.urgency,
                        "reason": vip_reason(row.open_p1, row.open_p2, row.oldest_open, row.breaches, resolved.days,
                                             then_value, now_value, row.falling, resolved.as_of),
                        "mrr_usd": mask_value("mrr_usd", float(row.mrr_usd), policy),
                        "open_p1": row.open_p1, "open_p2": row.open_p2, "sla_breaches": row.breaches,
                        "sentiment_now": signed(now_value), "sentiment_falling": row.falling,
                        "territory": row.territory})
    return VipResult(resolved, int(vip_customers), threshold if policy.view_financials else None,
                     GridRows(vip_columns(policy), records, "account_name"))


# --- 8. Onboarding and delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    sequence: int
    milestone: str
    owner_team: str
    completed: int
    median_days_taken: float | None
    median_days_late: float | None
    late_share: float | None


@dataclass(frozen=True)
class OnboardingResult:
    """Onboarding stages completed in the last year (their median days taken and days late, share late),
    the median days from contract start to go-live, and the accounts stuck now."""

    resolved: ResolvedQuery
    stages: tuple[StageRow, ...]
    median_days_to_live: float | None
    went_live: int
    stuck: GridRows

    @property
    def slowest_stage(self) -> StageRow | None:
        late = [s for s in self.stages if s.median_days_late is not None]
        return max(late, key=lambda s: (s.median_days_late, -s.sequence)) if late else None


def stuck_columns() -> tuple[GridColumn, ...]:
    return (GridColumn("account_name", "Account", ACCOUNT, pinned=True), GridColumn("milestone", "Stuck at"),
            GridColumn("owner_team", "Owner team"), GridColumn("planned_date", "Planned", DAY),
            GridColumn("days_overdue", "Days overdue", COUNT), GridColumn("territory", "Territory"),
            GridColumn("account_id", "Account id"))


def _stage_filter(resolved: ResolvedQuery) -> list[ColumnElement[bool]]:
    st = OnboardingStage
    where = [resolved.scope.account_filter(st.territory, st.account_id)]
    if resolved.region:
        where.append(st.region == resolved.region)
    return where


def onboarding(session: Session, query: OperationsQuery, scope: DataScope, *,
               policy: MaskPolicy) -> OnboardingResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    if scope.served_by_territory:
        stages, went_live, days_to_live = _stages_by_territory(session, resolved)
    else:
        stages, went_live, days_to_live = _stages_by_milestone(session, resolved)
    order = {m: i for i, m in enumerate(MILESTONE_ORDER)}
    stages.sort(key=lambda s: (order.get(s.milestone, len(order)), s.sequence, s.milestone))
    # Per customer, its open milestone planned earliest (the one holding the others up).
    stuck = OnboardingStuck
    where = [scope.account_filter(stuck.territory, stuck.account_id)]
    if resolved.region:
        where.append(stuck.region == resolved.region)
    stuck_rows = session.execute(
        select(stuck.customer_account_id.label("customer_id"), stuck.account_name, stuck.milestone, stuck.owner_team, stuck.planned_date,
               stuck.territory)
        .where(*where).ext(distinct_on(stuck.customer_account_id))
        .order_by(stuck.customer_account_id, stuck.planned_date, stuck.sequence, stuck.milestone_id)).all()
    records = [{"account_id": r.customer_id, "account_name": r.account_name, "milestone": r.milestone,
                "owner_team": r.owner_team, "planned_date": _day(r.planned_date),
                "days_overdue": (resolved.as_of - r.planned_date).days, "territory": r.territory}
               for r in stuck_rows]
    records.sort(key=lambda r: (-r["days_overdue"], r["account_id"]))
    return OnboardingResult(resolved, tuple(stages), days_to_live, went_live,
                            GridRows(stuck_columns(), records[:GRID_LIMIT], "account_name"))


def _stages_by_milestone(session: Session, resolved: ResolvedQuery) -> tuple[list[StageRow], int, float | None]:
    """The stage figures from every milestone the scope sees: for a scope naming accounts."""
    st = OnboardingStage
    since = resolved.as_of - timedelta(days=ONBOARDING_DAYS - 1)
    done = [*_stage_filter(resolved), st.completed_on >= since, st.completed_on <= resolved.as_of]
    median = func.percentile_cont(0.5).within_group
    stages = [StageRow(int(seq or 0), milestone, team, int(n), None if taken is None else float(taken),
                       None if late is None else float(late), None if share is None else float(share))
              for milestone, seq, team, n, taken, late, share in session.execute(
                  select(st.milestone, func.min(st.sequence).label("sequence"),
                         func.mode().within_group(st.owner_team).label("owner_team"), func.count().label("completed"),
                         median(st.days_taken).label("days_taken"), median(st.days_late).label("days_late"),
                         func.avg(case((st.days_late > 0, 1.0), else_=0.0)).label("late_share"))
                  .where(*done).group_by(st.milestone))]
    kickoff = OnboardingStage.__table__.alias("kickoff")
    live = session.execute(select(func.count(), median(st.completed_on - kickoff.c.started_on).label("days"))
                           .join(kickoff, and_(kickoff.c.account_id == st.account_id,
                                               kickoff.c.milestone == "kickoff"))
                           .where(*done, st.milestone == "go_live", kickoff.c.started_on.is_not(None))).one()
    return stages, int(live[0]), None if live[1] is None else float(live[1])


def median_of_counts(counts: list[tuple[int, int]]) -> float | None:
    """The median (interpolated, as percentile_cont(0.5)) of values given as (value, how many) in order."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    position = (total - 1) / 2
    lower_rank, upper_rank = math.floor(position), math.ceil(position)
    lower = upper = None
    seen = 0
    for value, n in counts:
        if lower is None and lower_rank < seen + n:
            lower = value
        if upper_rank < seen + n:
            upper = value
            break
        seen += n
    assert lower is not None and upper is not None
    return float(lower) + (float(upper) - float(lower)) * (position - lower_rank)


def _stages_by_territory(session: Session, resolved: ResolvedQuery) -> tuple[list[StageRow], int, float | None]:
    """The stage figures summed from gold.onboarding_summary and gold.onboarding_days over the scope's
    territories: the medians from each number of days' count."""
    os_, od = OnboardingSummary, OnboardingDays
    per_team = (select(os_.milestone, os_.owner_team, func.min(os_.sequence).label("sequence"),
                       func.sum(os_.completed).label("completed"), func.sum(os_.late).label("late"))
                .where(*_unit_filter(resolved, os_)).group_by(os_.milestone, os_.owner_team).subquery())
    # The most frequent team, the first in order on a tie (as mode() picks).
    busiest = (select(per_team.c.milestone, per_team.c.owner_team).ext(distinct_on(per_team.c.milestone))
               .order_by(per_team.c.milestone, per_team.c.completed.desc(), per_team.c.owner_team).subquery())
    totals = session.execute(
        select(per_team.c.milestone, func.min(per_team.c.sequence), func.sum(per_team.c.completed),
               func.sum(per_team.c.late), func.max(busiest.c.owner_team))
        .join(busiest, busiest.c.milestone == per_team.c.milestone).group_by(per_team.c.milestone)).all()
    counts: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for milestone, measure, days, n in session.execute(
            select(od.milestone, od.measure, od.days, func.sum(od.stages)).where(*_unit_filter(resolved, od))
            .group_by(od.milestone, od.measure, od.days).order_by(od.milestone, od.measure, od.days)):
        counts.setdefault((milestone, measure), []).append((int(days), int(n)))
    stages = [StageRow(int(seq or 0), milestone, team, int(n), median_of_counts(counts.get((milestone, "taken"), [])),
                       median_of_counts(counts.get((milestone, "late"), [])), int(late) / int(n))
              for milestone, seq, n, late, team in totals]
    to_live = counts.get(("go_live", "to_live"), [])
    return stages, sum(n for _, n in to_live), median_of_counts(to_live)


# --- 9. Complaints ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintRow:
    severity: str
    complaints: int  # opened in the period
    decided: int  # resolved, or past their resolution target
    within_sla: int

    @property
    def share(self) -> float | None:
        return _ratio(self.within_sla, self.decided)


@dataclass(frozen=True)
class ComplaintsResult:
    resolved: ResolvedQuery
    rows: tuple[ComplaintRow, ...]  # per severity, P1 first

    @property
    def total(self) -> ComplaintRow:
        return ComplaintRow("All", sum(r.complaints for r in self.rows), sum(r.decided for r in self.rows),
                            sum(r.within_sla for r in self.rows))


def complaints(session: Session, query: OperationsQuery, scope: DataScope, *,
               policy: MaskPolicy) -> ComplaintsResult | GoldStatus:
    resolved = resolve(session, query, scope)
    if resolved is None:
        return gold_status(session)
    target_minutes = case(*((SC.severity == s, h * 60) for s, h in RESOLUTION_TARGET_HOURS.items()), else_=None)
    as_of_end = datetime.combine(resolved.as_of + timedelta(days=1), datetime.min.time())
    complaint = or_(SC.subject_negative, SC.is_escalated.is_(True))
    resolved_in_time = and_(SC.resolved_at.is_not(None),
                            or_(SC.sla_minutes.is_(None),
                                and_(SC.first_response_minutes.is_not(None),
                                     SC.first_response_minutes <= SC.sla_minutes)),
                            SC.resolution_minutes <= target_minutes)
    decided = or_(SC.resolved_at.is_not(None),
                  SC.opened_at + func.make_interval(0, 0, 0, 0, 0, target_minutes) < func.timezone("UTC", as_of_end))
    rows = session.execute(
        select(SC.severity, func.count(), func.count().filter(decided), func.count().filter(resolved_in_time))
        .where(*_tickets_between(resolved, resolved.start, resolved.as_of), complaint,
               SC.severity.in_(list(RESOLUTION_TARGET_HOURS)))
        .group_by(SC.severity).order_by(SC.severity)).all()
    return ComplaintsResult(resolved, tuple(ComplaintRow(s, int(n), int(d), int(w)) for s, n, d, w in rows))


# --- Server-side exports (dashboard/export.py): the grids recomputed for the same URL state ---------


def _export(result: Any, columns: tuple[GridColumn, ...]) -> GridRows:
    return result.grid if not isinstance(result, GoldStatus) else GridRows(columns, [], key_field="account_name")


def export_products(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(products(session, OperationsQuery.from_args(args), scope, policy=policy), product_columns())


def export_repeats(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(repeats(session, OperationsQuery.from_args(args), scope, policy=policy), repeat_columns())


def export_vip(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    return _export(vip(session, OperationsQuery.from_args(args), scope, policy=policy), vip_columns(policy))


def export_name(args: Mapping[str, Any]) -> str:
    """The file-name part of an export: the period and region shown."""
    days = first(args, "days")
    parts = [f"{days}-days" if days in {str(p) for p in PERIODS} else None, first(args, "region")]
    return "_".join(str(p).replace(" ", "-") for p in parts if p)[:60] or "all"

"""My accounts: an account manager's book of business, with quick filters, a summary strip and the
feedback its customers gave.

The book is the active customers (gold.customer_360, status active) inside the caller's data scope:
an account manager's CRM book, a sales manager's region, everything for an executive. Every figure
is read from gold tables the ETL and the intelligence jobs keep (customer_360, churn_prediction,
account_health, alert, next_best_action, account_book, feedback_summary, feedback_item), so no request
aggregates raw events. Definitions (glossary keys in brackets):

  * at risk [book_at_risk]: churn risk level HIGH; MRR at risk is their MRR;
  * renewals due [renewals_due]: the next renewal (gold.account_book.next_renewal_date) after the
    as-of day and at most `months` months later (3 or 6);
  * no contact [no_contact]: no interaction (gold.customer_360.last_interaction_at) in the `days`
    days to the as-of day, or none ever;
  * product gaps against peers [product_gaps]: the product lines at least half of the customer's
    peers (other active customers of its segment and size band, at least 5) hold and it lacks,
    worked out set-based by etl/gold/account_book.sql;
  * upsell potential [upsell_potential]: its product gaps plus its open Growth next-best actions;
    an upsell candidate has at least one of either;
  * open actions [open_actions]: next-best actions with status open.

Functions take the caller's scope and masking policy and return frozen dataclasses; without
view_financials money is a band, and feedback texts are masked without view_pii.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Double, Text, and_, any_, bindparam, cast, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, amount_band, mask_text
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, DAY, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.attribution_text import (
    FEEDBACK_ITEMS_PER_CUSTOMER,
    FEEDBACK_SURVEY_DAYS,
    FEEDBACK_TEXT_DAYS,
    FeedbackItem,
    FeedbackSummary,
)
from dashboard.tables.gold import AccountBook, Customer360, DailyKpi
from dashboard.tables.intelligence import AccountHealth, Alert, ChurnPrediction, NextBestAction
from dashboard.url_state import first, to_search
from models.health import HealthBand

# Quick filters (URL value -> label), in button order; no value shows the whole book.
VIEWS: dict[str, str] = {
    "at-risk": "At risk",
    "renewals": "Renewals due",
    "upsell": "Upsell candidates",
    "no-contact": "No recent contact",
}
RENEWAL_MONTHS = (3, 6)
DEFAULT_RENEWAL_MONTHS = 6
DEFAULT_NO_CONTACT_DAYS = 60
MAX_NO_CONTACT_DAYS = 730
AT_RISK_LEVEL = "HIGH"
GROWTH_ACTION = "Growth"
# The grid shows the largest accounts first, this many at most; the export up to EXPORT_LIMIT.
GRID_LIMIT = 500
EXPORT_LIMIT = 5_000
RECENT_COMMENTS = NEGATIVE_TEXTS = FEEDBACK_ITEMS_PER_CUSTOMER  # the newest shown across the book
FEEDBACK_DAYS = FEEDBACK_SURVEY_DAYS
SENTIMENT_DAYS = FEEDBACK_TEXT_DAYS


def add_months(day: date, months: int) -> date:
    """`day` plus whole months, on the month's last day when it is shorter (as PostgreSQL does)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class BookQuery:
    """The page's state in the URL: `view` (a quick filter), `months` (renewal window) and
    `days` (no-contact window); invalid values fall back to the defaults."""

    view: str | None = None
    months: int = DEFAULT_RENEWAL_MONTHS
    days: int = DEFAULT_NO_CONTACT_DAYS

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | None) -> BookQuery:
        view = first(args, "view")
        months = first(args, "months") or ""
        days = first(args, "days") or ""
        return cls(view if view in VIEWS else None,
                   int(months) if months.isdigit() and int(months) in RENEWAL_MONTHS else DEFAULT_RENEWAL_MONTHS,
                   int(days) if days.isdigit() and 1 <= int(days) <= MAX_NO_CONTACT_DAYS
                   else DEFAULT_NO_CONTACT_DAYS)

    def as_state(self) -> dict[str, Any]:
        return {"view": self.view, "months": self.months, "days": self.days}

    @property
    def search(self) -> str:
        """The canonical query string; defaults are left out, as is a window its view does not use."""
        months = str(self.months) if self.view == "renewals" and self.months != DEFAULT_RENEWAL_MONTHS else None
        days = str(self.days) if self.view == "no-contact" and self.days != DEFAULT_NO_CONTACT_DAYS else None
        return to_search([("view", self.view), ("months", months), ("days", days)])


@dataclass(frozen=True)
class BookAccount:
    """One row of the book."""

    account_id: str
    account_name: str
    region: str | None
    segment: str | None
    mrr_usd: float | None  # None without view_financials
    mrr_band: str | None
    health_score: float | None
    health_band: str | None
    risk_level: str | None
    churn_risk_score: float | None
    top_reason: str | None  # the churn model's strongest factor raising the risk
    clv_usd: float | None
    clv_band: str | None
    open_alerts: int
    next_renewal_date: date | None
    last_interaction_at: datetime | None
    gap_lines: tuple[str, ...]
    growth_actions: int

    @property
    def upsell_score(self) -> int:
        return len(self.gap_lines) + self.growth_actions

    @property
    def upsell_potential(self) -> str | None:
        """'Security, Voice · 1 growth action', or None without either."""
        parts = [", ".join(self.gap_lines)] if self.gap_lines else []
        if self.growth_actions:
            parts.append(f"{self.growth_actions} growth action{'s' if self.growth_actions != 1 else ''}")
        return " · ".join(parts) or None


@dataclass(frozen=True)
class BookSummary:
    """The strip above the grid, over the whole book whatever the quick filter."""

    accounts: int
    mrr_usd: float | None  # None without view_financials (the bands say it)
    mrr_band: str | None
    at_risk_accounts: int
    mrr_at_risk_usd: float | None
    mrr_at_risk_band: str | None
    renewals_due: int
    renewal_months: int
    open_actions: int

    @property
    def at_risk_share(self) -> float | None:
        return self.at_risk_accounts / self.accounts if self.accounts else None


@dataclass(frozen=True)
class BookPage:
    """The book's grid: the as-of day, the rows the filter keeps (largest MRR first, at most the grid's
    limit), how many there are in all, and how many accounts the whole book holds."""

    query: BookQuery
    as_of: date | None
    accounts: tuple[BookAccount, ...]
    matching: int
    book_size: int

    @property
    def empty_book(self) -> bool:
        return self.book_size == 0


def data_as_of(session: Session) -> date | None:
    """The last day of data (gold.daily_kpi), which the windows count back and forward from."""
    return session.scalar(select(func.max(DailyKpi.day)))


def _ids(ids: list[str]) -> Any:
    """One array parameter: hundreds of separate ones cost more to send and plan than to read."""
    return bindparam(None, ids, type_=ARRAY(Text))


def _actions(ids: list[str]) -> Any:
    nba = NextBestAction
    return (select(nba.customer_id, func.count().label("open_actions"),
                   func.count().filter(nba.action_type == GROWTH_ACTION).label("growth_actions"))
            .where(nba.status == "open", nba.customer_id == any_(_ids(ids))).group_by(nba.customer_id).subquery("actions"))


def _alerts(ids: list[str]) -> Any:
    return (select(Alert.account_id, func.count().label("open_alerts"))
            .where(Alert.status != "resolved", Alert.account_id == any_(_ids(ids))).group_by(Alert.account_id)
            .subquery("alerts"))


def _in_book(scope: DataScope) -> ColumnElement[bool]:
    """Active customers in scope, on gold.account_book's copy of customer_360's columns."""
    return and_(AccountBook.active, scope.account_filter(AccountBook.territory, AccountBook.account_id))


def _has_growth_action() -> ColumnElement[bool]:
    nba = NextBestAction
    return select(nba.customer_id).where(nba.customer_id == AccountBook.account_id, nba.status == "open",
                                         nba.action_type == GROWTH_ACTION).exists()


def _renewing(as_of: date, months: int) -> ColumnElement[bool]:
    renewal = AccountBook.next_renewal_date
    return and_(renewal > as_of, renewal <= add_months(as_of, months))


def _view_filter(query: BookQuery, as_of: date) -> ColumnElement[bool]:
    book = AccountBook
    if query.view == "at-risk":
        return book.risk_level == AT_RISK_LEVEL
    if query.view == "renewals":
        return _renewing(as_of, query.months)
    if query.view == "upsell":
        return or_(book.gap_count > 0, _has_growth_action())
    if query.view == "no-contact":
        # No interaction on any of the `days` days ending with the as-of day.
        return or_(book.last_interaction_at.is_(None),
                   cast(book.last_interaction_at, Date) <= as_of - timedelta(days=query.days))
    return true()


def _details(session: Session, ids: list[str]) -> dict[str, Any]:
    """The grid's columns of the accounts `ids`, read for those accounts only."""
    customer, actions, alerts = Customer360, _actions(ids), _alerts(ids)
    rows = session.execute(
        select(customer.account_id, customer.account_name, customer.region, customer.segment,
               customer.mrr_usd, customer.clv_usd, customer.last_interaction_at,
               ChurnPrediction.risk_level, ChurnPrediction.churn_risk_score,
               ChurnPrediction.contributing_factors, AccountHealth.health_score, AccountHealth.health_band,
               AccountBook.next_renewal_date, AccountBook.gap_lines,
               func.coalesce(actions.c.growth_actions, 0).label("growth_actions"),
               func.coalesce(alerts.c.open_alerts, 0).label("open_alerts"))
        .outerjoin(ChurnPrediction, ChurnPrediction.account_id == customer.account_id)
        .outerjoin(AccountHealth, AccountHealth.account_id == customer.account_id)
        .outerjoin(AccountBook, AccountBook.account_id == customer.account_id)
        .outerjoin(actions, actions.c.customer_id == customer.account_id)
        .outerjoin(alerts, alerts.c.account_id == customer.account_id)
        .where(customer.account_id == any_(_ids(ids))))
    return {row.account_id: row for row in rows}


def _money(value: Decimal | float | None, policy: MaskPolicy) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    return (float(value), None) if policy.view_financials else (None, amount_band(value))


def top_reason(factors: Any) -> str | None:
    raising = [f for f in factors or [] if isinstance(f, dict) and float(f.get("contribution") or 0) > 0]
    return str(raising[0].get("sentence") or raising[0].get("label") or "") or None if raising else None


def _account(row: Any, policy: MaskPolicy) -> BookAccount:
    mrr, mrr_band = _money(row.mrr_usd, policy)
    clv, clv_band = _money(row.clv_usd, policy)
    return BookAccount(row.account_id, row.account_name, row.region, row.segment, mrr, mrr_band,
                       row.health_score, row.health_band, row.risk_level, row.churn_risk_score,
                       top_reason(row.contributing_factors), clv, clv_band, int(row.open_alerts),
                       row.next_renewal_date, row.last_interaction_at, tuple(row.gap_lines or ()),
                       int(row.growth_actions))


def _empty_summary(query: BookQuery) -> BookSummary:
    return BookSummary(0, None, None, 0, None, None, 0, query.months, 0)


def book_summary(session: Session, query: BookQuery, scope: DataScope, policy: MaskPolicy) -> BookSummary:
    """The strip above the grid, over the whole book whatever the quick filter: accounts, MRR, at risk,
    renewals due in the query's window and open actions. A panel of its own, beside the grid."""
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        return _empty_summary(query)
    book = AccountBook
    at_risk = book.risk_level == AT_RISK_LEVEL
    row = session.execute(select(
        func.count(), func.sum(book.mrr_usd), func.count().filter(at_risk),
        func.coalesce(func.sum(book.mrr_usd).filter(at_risk), 0),
        func.count().filter(_renewing(as_of, query.months)),
    ).where(_in_book(scope))).one()
    open_actions = session.scalar(
        select(func.count()).select_from(NextBestAction)
        .join(AccountBook, AccountBook.account_id == NextBestAction.customer_id)
        .where(NextBestAction.status == "open", _in_book(scope)))
    accounts = int(row[0])
    mrr, mrr_band = _money(row[1] if accounts else None, policy)
    at_risk_mrr, at_risk_band = _money(row[3] if accounts else None, policy)
    return BookSummary(accounts, mrr, mrr_band, int(row[2]), at_risk_mrr, at_risk_band, int(row[4]), query.months,
                       int(open_actions or 0))


@dataclass(frozen=True)
class RenewalFigures:
    """The renewals due in a window: how many, their MRR, and of them the HIGH churn risk ones (with
    their MRR) and the Critical health ones (gold.account_health band, health below 50)."""

    accounts: int
    mrr_usd: float
    high_risk: int
    high_risk_mrr_usd: float
    critical: int


def renewal_figures(session: Session, months: int, scope: DataScope) -> RenewalFigures:
    """The renewals view's totals over every renewing account of the scope (the grid shows the first rows)."""
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        return RenewalFigures(0, 0.0, 0, 0.0, 0)
    book = AccountBook
    at_risk = book.risk_level == AT_RISK_LEVEL
    critical = AccountHealth.health_band == HealthBand.CRITICAL.value
    renewing = and_(_in_book(scope), _renewing(as_of, months))
    # Two index reads: the renewals' totals, then the few Critical accounts among them (joining every
    # renewal to its health score costs more than both).
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(book.mrr_usd), 0), func.count().filter(at_risk),
               func.coalesce(func.sum(book.mrr_usd).filter(at_risk), 0)).where(renewing)).one()
    critical_count = session.scalar(select(func.count()).select_from(AccountHealth)
                                    .join(book, book.account_id == AccountHealth.account_id)
                                    .where(critical, renewing))
    return RenewalFigures(int(row[0]), float(row[1]), int(row[2]), float(row[3]), int(critical_count or 0))


def book_page(session: Session, query: BookQuery, scope: DataScope, policy: MaskPolicy, *,
              limit: int = GRID_LIMIT) -> BookPage:
    """The accounts the quick filter keeps, largest MRR first, with their count and the book's size.

    The filter, count and order run on gold.account_book's narrow copy of the book; the grid's other
    columns are then read for the accounts shown only.
    """
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        return BookPage(query, as_of, (), 0, 0)
    book = AccountBook
    kept = _view_filter(query, as_of)
    book_size, matching = session.execute(
        select(func.count(), func.count().filter(kept)).where(_in_book(scope))).one()
    ids = list(session.scalars(select(book.account_id).where(_in_book(scope), kept)
                               .order_by(book.mrr_usd.desc(), book.account_name, book.account_id).limit(limit)))
    details = _details(session, ids)
    return BookPage(query, as_of, tuple(_account(details[i], policy) for i in ids if i in details), int(matching),
                    int(book_size))


def renewal_accounts(session: Session, months: int, scope: DataScope, policy: MaskPolicy, *,
                     limit: int = GRID_LIMIT) -> BookPage:
    """The renewals view's first accounts, largest MRR first, without counting the whole book
    (`renewal_figures` counts the renewals): matching and book_size are the rows read."""
    query = BookQuery(view="renewals", months=months)
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        return BookPage(query, as_of, (), 0, 0)
    book = AccountBook
    ids = list(session.scalars(select(book.account_id).where(_in_book(scope), _renewing(as_of, months))
                               .order_by(book.mrr_usd.desc(), book.account_name, book.account_id).limit(limit)))
    details = _details(session, ids)
    accounts = tuple(_account(details[i], policy) for i in ids if i in details)
    return BookPage(query, as_of, accounts, len(accounts), len(accounts))


# --- The grid and its export --------------------------------------------------------------


def grid_columns(policy: MaskPolicy) -> tuple[GridColumn, ...]:
    money = USD if policy.view_financials else BAND
    return (
        GridColumn("account_name", "Account", ACCOUNT, pinned=True),
        GridColumn("mrr_usd", "MRR", money),
        GridColumn("health", "Health", CHIP, score="health"),
        GridColumn("churn_risk", "Churn risk", CHIP, score="churn"),
        GridColumn("top_reason", "Top churn reason"),
        GridColumn("clv_usd", "CLV", money),
        GridColumn("open_alerts", "Open alerts", COUNT),
        GridColumn("next_renewal_date", "Next renewal", DAY),
        GridColumn("last_interaction", "Last interaction", DAY),
        GridColumn("upsell_potential", "Upsell potential", TEXT),
        GridColumn("account_id", "Account id"),
        GridColumn("segment", "Segment"),
        GridColumn("region", "Region"),
    )


def book_rows(page: BookPage, policy: MaskPolicy) -> GridRows:
    """The grid of the page's accounts; money as bands without view_financials."""
    rows = [{"account_name": a.account_name, "account_id": a.account_id, "region": a.region, "segment": a.segment,
             "mrr_usd": a.mrr_usd if policy.view_financials else a.mrr_band,
             "health": a.health_band, "churn_risk": a.risk_level, "top_reason": a.top_reason,
             "clv_usd": a.clv_usd if policy.view_financials else a.clv_band, "open_alerts": a.open_alerts,
             "next_renewal_date": a.next_renewal_date.isoformat() if a.next_renewal_date else None,
             "last_interaction": a.last_interaction_at.date().isoformat() if a.last_interaction_at else None,
             "upsell_potential": a.upsell_potential} for a in page.accounts]
    return GridRows(grid_columns(policy), rows, key_field="account_name")


def export_book(session: Session, args: Mapping[str, Any], scope: DataScope, policy: MaskPolicy) -> GridRows:
    """The book grid of the URL's quick filter, up to EXPORT_LIMIT accounts."""
    return book_rows(book_page(session, BookQuery.from_args(args), scope, policy, limit=EXPORT_LIMIT), policy)


def export_name(args: Mapping[str, Any]) -> str:
    """The quick filter, e.g. 'at_risk', or 'all' for the whole book."""
    view = BookQuery.from_args(args).view
    return view.replace("-", "_") if view else "all"


# --- Feedback from the book ---------------------------------------------------------------


@dataclass(frozen=True)
class BookComment:
    account_id: str
    account_name: str
    survey_type: str  # nps or csat
    score: int | None
    responded_at: datetime
    comment: str  # masked without view_pii


@dataclass(frozen=True)
class NegativeText:
    account_id: str
    account_name: str
    source: str  # message, ticket or reply
    at: datetime
    text: str  # masked without view_pii
    compound: float


@dataclass(frozen=True)
class BookFeedback:
    """What the book's customers said: survey scores and comments of the last year, and their
    texts' sentiment over the last 90 days with the newest negative ones of those days."""

    as_of: date | None
    nps: float | None  # average NPS score (0-10) of answered surveys
    csat: float | None  # average CSAT score (1-5)
    responses: int
    texts: int  # scored texts in the last SENTIMENT_DAYS days
    average_sentiment: float | None  # VADER compound, -1..1
    negative_share: float | None
    comments: tuple[BookComment, ...]  # newest first
    negative: tuple[NegativeText, ...]  # newest first

    @property
    def empty(self) -> bool:
        return not self.responses and not self.texts and not self.comments


def _feedback_items(session: Session, kind: str, scope: DataScope) -> list[Any]:
    item = FeedbackItem
    return list(session.execute(
        select(item.account_id, Customer360.account_name, item.source, item.at, item.body, item.score)
        .join(Customer360, Customer360.account_id == item.account_id)
        .where(item.kind == kind, Customer360.status == "active", scope.customer_filter())
        .order_by(item.at.desc(), item.item_id).limit(RECENT_COMMENTS if kind == "comment" else NEGATIVE_TEXTS)))


def book_feedback(session: Session, scope: DataScope, policy: MaskPolicy) -> BookFeedback:
    """Survey scores and comments, text sentiment and recent negative texts across the book, added up
    from each customer's sums and newest items (gold.feedback_summary and gold.feedback_item)."""
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        return BookFeedback(as_of, None, None, 0, 0, None, None, (), ())
    f = FeedbackSummary
    texts = func.sum(f.texts)
    row = session.execute(
        select(func.sum(f.nps_sum) / func.nullif(func.sum(f.nps_responses), 0),
               func.sum(f.csat_sum) / func.nullif(func.sum(f.csat_responses), 0),
               func.sum(f.responses), texts, func.sum(f.compound_sum) / func.nullif(texts, 0),
               cast(func.sum(f.negative_texts), Double) / func.nullif(texts, 0))
        .join(AccountBook, AccountBook.account_id == f.account_id).where(_in_book(scope))).one()
    nps, csat, responses, text_count, average, negative_share = row
    comments = tuple(BookComment(r.account_id, r.account_name, r.source, None if r.score is None else int(r.score),
                                 r.at, mask_text(r.body, policy) or "")
                     for r in _feedback_items(session, "comment", scope))
    negative = tuple(NegativeText(r.account_id, r.account_name, r.source, r.at, mask_text(r.body, policy) or "",
                                  float(r.score))
                     for r in _feedback_items(session, "negative", scope))
    return BookFeedback(as_of, None if nps is None else float(nps), None if csat is None else float(csat),
                        int(responses or 0), int(text_count or 0), None if average is None else float(average),
                        None if negative_share is None else float(negative_share), comments, negative)

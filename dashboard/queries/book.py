"""My accounts: an account manager's book of business, with quick filters, a summary strip and the
feedback its customers gave.

The book is the active customers (gold.customer_360, status active) inside the caller's data scope:
an account manager's CRM book, a sales manager's region, everything for an executive. Every figure
is read from gold tables the ETL and the intelligence jobs keep (customer_360, churn_prediction,
account_health, alert, next_best_action, account_book, sentiment_daily, text_score), so no request
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

from sqlalchemy import ColumnElement, Date, Select, and_, bindparam, cast, func, or_, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from dashboard.masking import MaskPolicy, amount_band, mask_text
from dashboard.queries.grid import ACCOUNT, BAND, CHIP, COUNT, DAY, TEXT, USD, GridColumn, GridRows
from dashboard.scope import DataScope
from dashboard.tables.gold import AccountBook, Customer360, DailyKpi
from dashboard.tables.intelligence import AccountHealth, Alert, ChurnPrediction, NextBestAction
from dashboard.url_state import first, to_search

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
RECENT_COMMENTS = 10
NEGATIVE_TEXTS = 10
FEEDBACK_DAYS = 365
SENTIMENT_DAYS = 90


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
    """The book as the page shows it: the as-of day, the summary, the rows the filter keeps (largest
    MRR first, at most the grid's limit) and how many there are in all."""

    query: BookQuery
    as_of: date | None
    summary: BookSummary
    accounts: tuple[BookAccount, ...]
    matching: int

    @property
    def empty_book(self) -> bool:
        return self.summary.accounts == 0


def data_as_of(session: Session) -> date | None:
    """The last day of data (gold.daily_kpi), which the windows count back and forward from."""
    return session.scalar(select(func.max(DailyKpi.day)))


def _actions() -> Any:
    nba = NextBestAction
    return (select(nba.customer_id, func.count().label("open_actions"),
                   func.count().filter(nba.action_type == GROWTH_ACTION).label("growth_actions"))
            .where(nba.status == "open").group_by(nba.customer_id).subquery("actions"))


def _alerts() -> Any:
    return (select(Alert.account_id, func.count().label("open_alerts"))
            .where(Alert.status != "resolved").group_by(Alert.account_id).subquery("alerts"))


def _book(scope: DataScope) -> Select:
    """Every active customer in scope with the columns the grid and the summary read."""
    customer, actions, alerts = Customer360, _actions(), _alerts()
    return (select(customer.account_id, customer.account_name, customer.region, customer.segment,
                   customer.mrr_usd, customer.clv_usd, customer.last_interaction_at,
                   ChurnPrediction.risk_level, ChurnPrediction.churn_risk_score,
                   ChurnPrediction.contributing_factors, AccountHealth.health_score, AccountHealth.health_band,
                   AccountBook.next_renewal_date, AccountBook.gap_lines,
                   func.coalesce(AccountBook.gap_count, 0).label("gap_count"),
                   func.coalesce(actions.c.open_actions, 0).label("open_actions"),
                   func.coalesce(actions.c.growth_actions, 0).label("growth_actions"),
                   func.coalesce(alerts.c.open_alerts, 0).label("open_alerts"))
            .outerjoin(ChurnPrediction, ChurnPrediction.account_id == customer.account_id)
            .outerjoin(AccountHealth, AccountHealth.account_id == customer.account_id)
            .outerjoin(AccountBook, AccountBook.account_id == customer.account_id)
            .outerjoin(actions, actions.c.customer_id == customer.account_id)
            .outerjoin(alerts, alerts.c.account_id == customer.account_id)
            .where(customer.status == "active", scope.customer_filter()))


def _renewing(book: Any, as_of: date, months: int) -> ColumnElement[bool]:
    return and_(book.c.next_renewal_date > as_of, book.c.next_renewal_date <= add_months(as_of, months))


def _view_filter(book: Any, query: BookQuery, as_of: date) -> ColumnElement[bool]:
    if query.view == "at-risk":
        return book.c.risk_level == AT_RISK_LEVEL
    if query.view == "renewals":
        return _renewing(book, as_of, query.months)
    if query.view == "upsell":
        return or_(book.c.gap_count > 0, book.c.growth_actions > 0)
    if query.view == "no-contact":
        # No interaction on any of the `days` days ending with the as-of day.
        return or_(book.c.last_interaction_at.is_(None),
                   cast(book.c.last_interaction_at, Date) <= as_of - timedelta(days=query.days))
    return true()


def _money(value: Decimal | float | None, policy: MaskPolicy) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    return (float(value), None) if policy.view_financials else (None, amount_band(value))


def _top_reason(factors: Any) -> str | None:
    raising = [f for f in factors or [] if isinstance(f, dict) and float(f.get("contribution") or 0) > 0]
    return str(raising[0].get("sentence") or raising[0].get("label") or "") or None if raising else None


def _account(row: Any, policy: MaskPolicy) -> BookAccount:
    mrr, mrr_band = _money(row.mrr_usd, policy)
    clv, clv_band = _money(row.clv_usd, policy)
    return BookAccount(row.account_id, row.account_name, row.region, row.segment, mrr, mrr_band,
                       row.health_score, row.health_band, row.risk_level, row.churn_risk_score,
                       _top_reason(row.contributing_factors), clv, clv_band, int(row.open_alerts),
                       row.next_renewal_date, row.last_interaction_at, tuple(row.gap_lines or ()),
                       int(row.growth_actions))


def _summary(session: Session, book: Any, as_of: date, query: BookQuery, policy: MaskPolicy) -> BookSummary:
    at_risk = book.c.risk_level == AT_RISK_LEVEL
    row = session.execute(select(
        func.count(), func.sum(book.c.mrr_usd), func.count().filter(at_risk),
        func.coalesce(func.sum(book.c.mrr_usd).filter(at_risk), 0),
        func.count().filter(_renewing(book, as_of, query.months)), func.coalesce(func.sum(book.c.open_actions), 0),
    )).one()
    accounts = int(row[0])
    mrr, mrr_band = _money(row[1] if accounts else None, policy)
    at_risk_mrr, at_risk_band = _money(row[3] if accounts else None, policy)
    return BookSummary(accounts, mrr, mrr_band, int(row[2]), at_risk_mrr, at_risk_band, int(row[4]), query.months,
                       int(row[5]))


def book_page(session: Session, query: BookQuery, scope: DataScope, policy: MaskPolicy, *,
              limit: int = GRID_LIMIT) -> BookPage:
    """The summary of the caller's book and the accounts the quick filter keeps, largest MRR first."""
    as_of = data_as_of(session)
    if as_of is None or scope.sees_nothing:
        empty = BookSummary(0, None, None, 0, None, None, 0, query.months, 0)
        return BookPage(query, as_of, empty, (), 0)
    book = _book(scope).subquery("book")
    summary = _summary(session, select(book).subquery("whole"), as_of, query, policy)
    rows = session.execute(
        select(book, func.count().over().label("matching")).where(_view_filter(book, query, as_of))
        .order_by(book.c.mrr_usd.desc(), book.c.account_name, book.c.account_id).limit(limit)).all()
    return BookPage(query, as_of, summary, tuple(_account(r, policy) for r in rows),
                    int(rows[0].matching) if rows else 0)


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


# The book's regional accounts, each with its customer (a customer without any stands for itself).
REGIONAL = """SELECT c.account_id, c.account_name, r.regional_id FROM gold.customer_360 c CROSS JOIN LATERAL
    unnest(CASE WHEN cardinality(c.regional_account_ids) > 0 THEN c.regional_account_ids ELSE ARRAY[c.account_id] END)
    AS r(regional_id) WHERE c.account_id = ANY(:ids)"""
FEEDBACK_SQL = text(f"""
WITH regional AS ({REGIONAL})
SELECT avg(s.nps_score) FILTER (WHERE s.survey_type = 'nps'), avg(s.csat_score) FILTER (WHERE s.survey_type = 'csat'),
       count(*)
FROM silver.surveys s JOIN regional r ON r.regional_id = s.account_id
WHERE s.responded_at IS NOT NULL AND CAST(s.responded_at AT TIME ZONE 'UTC' AS date) > CAST(:as_of AS date) - :days
""")
COMMENTS_SQL = text(f"""
WITH regional AS ({REGIONAL})
SELECT r.account_id, r.account_name, s.survey_type, COALESCE(s.nps_score, s.csat_score) AS score, s.responded_at,
       s.comment
FROM silver.surveys s JOIN regional r ON r.regional_id = s.account_id
WHERE s.responded_at IS NOT NULL AND btrim(COALESCE(s.comment, '')) <> ''
ORDER BY s.responded_at DESC, s.survey_id LIMIT :limit
""")
SENTIMENT_SQL = text(f"""
WITH regional AS ({REGIONAL})
SELECT sum(d.texts), sum(d.compound_sum) / NULLIF(sum(d.texts), 0), sum(d.negative)::float / NULLIF(sum(d.texts), 0)
FROM gold.sentiment_daily d JOIN regional r ON r.regional_id = d.account_id
WHERE d.day > CAST(:as_of AS date) - :days AND d.day <= :as_of
""")
# The newest negative texts of the sentiment window: inbound chat messages, ticket subjects and campaign
# replies (the window's condition reaches into each branch, so only recent texts are read).
NEGATIVE_SQL = text(f"""
WITH regional AS ({REGIONAL}),
texts AS (
    SELECT r.account_id, r.account_name, 'message' AS source, m.message_id AS item_id, m.sent_at AS at, m.body AS body
    FROM regional r JOIN silver.conversations v ON v.account_id = r.regional_id
    JOIN silver.messages m ON m.conversation_id = v.conversation_id
    UNION ALL
    SELECT r.account_id, r.account_name, 'ticket', t.ticket_id, t.created_at, t.subject
    FROM regional r JOIN silver.tickets t ON t.account_id = r.regional_id
    UNION ALL
    SELECT r.account_id, r.account_name, 'reply', p.reply_id, p.received_at, p.body
    FROM regional r JOIN silver.contacts c ON c.account_id = r.regional_id
    JOIN silver.replies p ON p.contact_id = c.contact_id
)
SELECT x.account_id, x.account_name, x.source, x.at, x.body, s.compound
FROM texts x JOIN gold.text_score s ON s.source = x.source AND s.item_id = x.item_id
WHERE s.label = 'negative' AND x.at >= CAST(:as_of AS date) - :days AND x.at < CAST(:as_of AS date) + 1
  AND btrim(COALESCE(x.body, '')) <> ''
ORDER BY x.at DESC, x.item_id LIMIT :limit
""")
_IDS = bindparam("ids", type_=ARRAY(Text))


def book_feedback(session: Session, scope: DataScope, policy: MaskPolicy) -> BookFeedback:
    """Survey scores and comments, text sentiment and recent negative texts across the book."""
    as_of = data_as_of(session)
    ids = [] if as_of is None or scope.sees_nothing else list(session.scalars(
        select(Customer360.account_id).where(Customer360.status == "active", scope.customer_filter())))
    if not ids:
        return BookFeedback(as_of, None, None, 0, 0, None, None, (), ())
    params = {"ids": ids, "as_of": as_of}
    nps, csat, responses = session.execute(_bind(FEEDBACK_SQL), {**params, "days": FEEDBACK_DAYS}).one()
    texts, average, negative_share = session.execute(_bind(SENTIMENT_SQL), {**params, "days": SENTIMENT_DAYS}).one()
    comments = tuple(BookComment(r.account_id, r.account_name, r.survey_type, r.score, r.responded_at,
                                 mask_text(r.comment, policy) or "")
                     for r in session.execute(_bind(COMMENTS_SQL), {**params, "limit": RECENT_COMMENTS}))
    negative = tuple(NegativeText(r.account_id, r.account_name, r.source, r.at, mask_text(r.body, policy) or "",
                                  float(r.compound))
                     for r in session.execute(_bind(NEGATIVE_SQL), {**params, "days": SENTIMENT_DAYS - 1, "limit": NEGATIVE_TEXTS}))
    return BookFeedback(as_of, None if nps is None else float(nps), None if csat is None else float(csat),
                        int(responses or 0), int(texts or 0), None if average is None else float(average),
                        None if negative_share is None else float(negative_share), comments, negative)


def _bind(statement: Any) -> Any:
    return statement.bindparams(_IDS)

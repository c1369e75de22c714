"""One customer's journey, people and feedback: the Journey and People & feedback pages of the
Customer 360 view, and the REST API later.

Every function takes the caller's data scope (and, where it returns personal data or money, the
masking policy) and answers None when the customer (a master account, gold.customer_360) is
unknown or outside the scope: the caller shows the same 404 for both. Results are frozen
dataclasses; the heavy lifting is set-based SQL on one customer's rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from dashboard import audit
from dashboard.masking import MaskPolicy, amount_band, mask_email, mask_phone, mask_text
from dashboard.permissions import MANAGE_USERS
from dashboard.scope import DataScope
from dashboard.tables.attribution_text import AccountSummary
from dashboard.tables.gold import Customer360, DailyKpi
from dashboard.tables.identity import AccountLinkOverride, AccountMaster
from dashboard.tables.silver import Account, Invoice, Ticket

# Timeline categories (URL value -> label), in filter order.
EVENT_CATEGORIES: dict[str, str] = {
    "renewal": "Contract renewals and milestones",
    "support": "Support incidents and resolutions",
    "billing": "Billing and payments",
    "usage": "Usage changes",
    "meeting": "QBRs and meetings",
    "critical": "Escalations and critical events",
    "campaign": "Campaign replies",
    "opportunity": "Opportunities won or lost",
    "action": "Actions taken",
}
DEFAULT_WINDOW_DAYS = 365
PER_PAGE = 25
MAX_PER_PAGE = 200
MRR_PERIODS = (30, 90, 365)
MRR_PARTS = ("new", "expansion", "contraction", "churn", "fx")
THREAD_MESSAGES = 300
RECENT_FEEDBACK = 10
TOP_TOPICS = 10
LINK_ACTIONS = ("link", "unlink")
REFRESH_NOTE = "Links and unlinks take effect at the next data refresh."


# --- The customer -------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountHeading:
    account_id: str
    account_name: str
    region: str
    regional_account_ids: tuple[str, ...]
    as_of: date | None  # the last day of data (gold.daily_kpi)


def account_heading(session: Session, account_id: str, scope: DataScope) -> AccountHeading | None:
    """The customer's name and regional accounts; None when unknown or outside the scope."""
    row = session.execute(
        select(Customer360.account_id, Customer360.account_name, Customer360.region,
               Customer360.regional_account_ids, select(func.max(DailyKpi.day)).scalar_subquery())
        .where(Customer360.account_id == account_id, scope.customer_filter())).one_or_none()
    if row is None:
        return None
    regional = tuple(row[3] or ()) or (row[0],)
    return AccountHeading(row[0], row[1], row[2], regional, row[4])


# --- The journey timeline -----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    event_id: str
    category: str
    title: str
    description: str | None
    occurred_at: datetime
    severity: str
    status: str
    amount_usd: float | None  # None without view_financials
    amount_band: str | None
    detail_kind: str | None  # "ticket" or "invoice": the side panel it opens
    detail_id: str | None


@dataclass(frozen=True)
class TimelinePage:
    account_id: str
    start: date
    end: date | None  # None: open-ended, so booked meetings and scheduled actions show
    types: tuple[str, ...]
    page: int
    per_page: int
    total: int  # events of the selected types in the window
    counts: dict[str, int]  # events per category in the window, whatever the type filter
    items: tuple[TimelineItem, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# Every event of one customer: gold.timeline_events (master account) plus onboarding milestones,
# disputes, usage anomalies, campaign replies, closed opportunities and executed or scheduled
# next-best actions. detail_kind/detail_id say which side panel an event opens.
EVENTS_CTE = """
WITH events AS (
    SELECT e.event_id,
           CASE e.event_type WHEN 'RENEWAL' THEN 'renewal' WHEN 'BILLING' THEN 'billing'
                WHEN 'MEETING' THEN 'meeting' WHEN 'CHURN' THEN 'critical'
                WHEN 'SUPPORT' THEN CASE WHEN t.is_escalated THEN 'critical' ELSE 'support' END
                ELSE lower(e.event_type) END AS category,
           e.event_title AS title, e.event_description AS description, e.event_date AS occurred_at,
           e.severity, e.status, e.related_amount AS amount_usd,
           CASE WHEN e.event_id LIKE 'ticket:%' THEN 'ticket'
                WHEN e.event_id LIKE 'invoice-%' THEN 'invoice' END AS detail_kind,
           substr(e.event_id, strpos(e.event_id, ':') + 1) AS detail_id
    FROM gold.timeline_events e
    LEFT JOIN silver.tickets t ON e.event_id LIKE 'ticket:%' AND t.ticket_id = substr(e.event_id, 8)
    WHERE e.customer_id = :account_id
    UNION ALL
    SELECT 'milestone:' || m.milestone_id, 'renewal', 'Onboarding milestone reached', m.milestone,
           m.completed_at, 'INFO', 'RESOLVED', NULL, NULL, NULL
    FROM silver.onboarding_milestones m
    WHERE m.account_id = ANY(:regional) AND m.completed_at IS NOT NULL
    UNION ALL
    SELECT 'dispute:' || d.dispute_id, 'billing', 'Invoice disputed',
           concat_ws(' ', d.reason, '-', d.amount, d.currency), d.opened_at, 'MEDIUM',
           CASE WHEN d.resolved_at IS NULL THEN 'OPEN' ELSE 'RESOLVED' END, d.amount_usd, 'invoice', d.invoice_id
    FROM silver.disputes d
    WHERE d.account_id = ANY(:regional)
    UNION ALL
    SELECT 'anomaly:' || a.anomaly_id, 'usage',
           CASE a.kind WHEN 'drop' THEN 'Usage drop: ' ELSE 'Usage spike: ' END || replace(a.metric, '_', ' '),
           concat('Observed ', round(CAST(a.observed AS numeric)), ' against ', round(CAST(a.baseline AS numeric)),
                  ' expected'),
           CAST(a.detected_on AS timestamptz), CASE a.kind WHEN 'drop' THEN 'MEDIUM' ELSE 'LOW' END,
           'RESOLVED', NULL, NULL, NULL
    FROM gold.account_anomaly a
    WHERE a.account_id = :account_id
    UNION ALL
    SELECT 'reply:' || r.reply_id, 'campaign', 'Campaign reply',
           concat_ws(' - ', c.campaign_name, left(r.body, 200)), r.received_at, 'INFO', 'RESOLVED', NULL, NULL, NULL
    FROM silver.replies r
    JOIN silver.contacts ct ON ct.contact_id = r.contact_id
    LEFT JOIN silver.sends s ON s.send_id = r.send_id
    LEFT JOIN silver.campaigns c ON c.campaign_id = s.campaign_id
    WHERE ct.account_id = ANY(:regional) AND r.received_at IS NOT NULL
    UNION ALL
    SELECT 'opportunity:' || o.opportunity_id, 'opportunity',
           CASE WHEN o.is_won THEN 'Opportunity won' ELSE 'Opportunity lost' END,
           concat_ws(' - ', o.opportunity_name, o.stage), CAST(o.close_date AS timestamptz),
           CASE WHEN o.is_won THEN 'INFO' ELSE 'MEDIUM' END, 'RESOLVED', o.amount_usd, NULL, NULL
    FROM silver.opportunities o
    WHERE o.account_id = ANY(:regional) AND o.is_closed AND o.close_date IS NOT NULL
    UNION ALL
    SELECT 'action:' || x.id, 'action',
           CASE x.action WHEN 'executed' THEN 'Action taken: ' ELSE 'Action scheduled: ' END
               || COALESCE(n.action_title, x.recommendation_id),
           concat_ws(' - ', 'By ' || x.actor, x.outcome_status, NULLIF(x.note, '')), x.acted_at, 'INFO',
           CASE x.action WHEN 'executed' THEN 'RESOLVED' ELSE 'SCHEDULED' END, NULL, NULL, NULL
    FROM app.action_execution x
    LEFT JOIN gold.next_best_action n ON n.recommendation_id = x.recommendation_id
    WHERE x.customer_id = :account_id AND x.action IN ('scheduled', 'executed')
), windowed AS (
    SELECT * FROM events
    WHERE CAST(occurred_at AT TIME ZONE 'UTC' AS date) >= :start
      AND (CAST(:end AS date) IS NULL OR CAST(occurred_at AT TIME ZONE 'UTC' AS date) <= CAST(:end AS date))
)
"""
COUNTS_SQL = text(EVENTS_CTE + "SELECT category, count(*) FROM windowed GROUP BY category").bindparams(
    bindparam("regional", type_=ARRAY(Text)))
PAGE_SQL = text(EVENTS_CTE + """
SELECT event_id, category, title, description, occurred_at, severity, status, amount_usd, detail_kind, detail_id
FROM windowed WHERE category = ANY(:types)
ORDER BY occurred_at DESC, event_id
LIMIT :limit OFFSET :offset
""").bindparams(bindparam("regional", type_=ARRAY(Text)), bindparam("types", type_=ARRAY(Text)))


def default_start(as_of: date | None) -> date:
    """Twelve months before the last day of data."""
    return (as_of or date.today()) - timedelta(days=DEFAULT_WINDOW_DAYS)


def clean_types(types: Iterable[str] | None) -> tuple[str, ...]:
    """The known categories asked for, in filter order; none (or none known) means all."""
    wanted = {t for t in types or () if t in EVENT_CATEGORIES}
    return tuple(t for t in EVENT_CATEGORIES if t in wanted) or tuple(EVENT_CATEGORIES)


# Amounts written into free text: "$28.4K", "538625.5 ZAR", "MRR 1200 EUR". A change in percent
# right after an amount goes too: growth rates of money are hidden as well.
AMOUNT_IN_TEXT = re.compile(r"(?:[-+]?[$\u20ac\u00a3]\s?\d[\d,]*(?:\.\d+)?\s?[KMBkmb]?\b"
                            r"|\b\d[\d,]*(?:\.\d+)?\s?[A-Z]{3}\b)(?:\s*\([-+]?\d+(?:\.\d+)?%\))?")
AMOUNT_HIDDEN = "[amount hidden]"


def hide_amounts(text_: str | None, policy: MaskPolicy) -> str | None:
    """Free text with every written amount hidden, for roles without view_financials."""
    if text_ is None or policy.view_financials:
        return text_
    return AMOUNT_IN_TEXT.sub(AMOUNT_HIDDEN, text_)


def _money(value: Decimal | float | None, policy: MaskPolicy) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    return (float(value), None) if policy.view_financials else (None, amount_band(value))


def account_timeline(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy, *,
                     types: Iterable[str] | None = None, start: date | None = None, end: date | None = None,
                     page: int = 1, per_page: int = PER_PAGE) -> TimelinePage | None:
    """One page of the customer's journey, newest first: the events of `types` (all when empty)
    from `start` (default 12 months before the last day of data) to `end` (inclusive; None =
    open-ended). Descriptions are masked without view_pii, amounts banded without view_financials."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    start = start or default_start(heading.as_of)
    chosen = clean_types(types)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    params: dict[str, Any] = {"account_id": account_id, "regional": list(heading.regional_account_ids),
                              "start": start, "end": end}
    counts = {category: int(n) for category, n in session.execute(COUNTS_SQL, params)}
    total = sum(counts.get(t, 0) for t in chosen)
    pages = max(1, -(-total // per_page))
    page = max(1, min(int(page), pages))
    rows = session.execute(PAGE_SQL, {**params, "types": list(chosen), "limit": per_page,
                                      "offset": (page - 1) * per_page})
    items = tuple(TimelineItem(r.event_id, r.category, r.title, hide_amounts(mask_text(r.description, policy), policy),
                               r.occurred_at,
                               r.severity, r.status, *_money(r.amount_usd, policy), r.detail_kind, r.detail_id)
                  for r in rows)
    return TimelinePage(account_id, start, end, chosen, page, per_page, total, counts, items)


# --- Event details: a ticket's thread, an invoice's payments and disputes -----------------


@dataclass(frozen=True)
class ThreadMessage:
    conversation_id: str
    sent_at: datetime | None
    direction: str | None
    body: str | None  # masked without view_pii


@dataclass(frozen=True)
class TicketDetail:
    ticket_id: str
    subject: str | None
    severity: str | None
    category: str | None
    status: str | None
    created_at: datetime
    resolved_at: datetime | None
    is_escalated: bool
    csat: int | None
    messages: tuple[ThreadMessage, ...]


# A ticket's thread: the chat conversations its contact (else anyone at the account) started from
# a day before the ticket until a day after it was resolved (a week after it opened while open):
# the support desk and the chat tool share no key, so time and person tie them together.
TICKET_THREAD_SQL = text("""
SELECT m.conversation_id, m.sent_at, m.direction, m.body
FROM silver.tickets t
JOIN silver.conversations c ON c.account_id = t.account_id
     AND (t.contact_id IS NULL OR c.contact_id = t.contact_id)
     AND c.started_at >= t.created_at - interval '1 day'
     AND c.started_at <= COALESCE(t.resolved_at, t.created_at + interval '7 days') + interval '1 day'
JOIN silver.messages m ON m.conversation_id = c.conversation_id
WHERE t.ticket_id = :ticket_id
ORDER BY m.sent_at, m.message_id
LIMIT :limit
""")


def _customer_record(session: Session, account_id: str, scope: DataScope, table: Any, key: Any,
                     value: str) -> Any:
    """A silver record (ticket, invoice) of one of the customer's regional accounts, or None."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    return session.execute(select(table).where(key == value,
                                               table.account_id.in_(heading.regional_account_ids))).scalar()


def ticket_detail(session: Session, account_id: str, ticket_id: str, scope: DataScope,
                  policy: MaskPolicy) -> TicketDetail | None:
    """A ticket of this customer with its conversation thread; None when the customer is unknown
    or out of scope, or the ticket is not theirs."""
    ticket = _customer_record(session, account_id, scope, Ticket, Ticket.ticket_id, ticket_id)
    if ticket is None:
        return None
    messages = tuple(ThreadMessage(r.conversation_id, r.sent_at, r.direction, mask_text(r.body, policy))
                     for r in session.execute(TICKET_THREAD_SQL, {"ticket_id": ticket_id, "limit": THREAD_MESSAGES}))
    return TicketDetail(ticket.ticket_id, mask_text(ticket.subject, policy), ticket.severity, ticket.category,
                        ticket.status, ticket.created_at, ticket.resolved_at, bool(ticket.is_escalated),
                        ticket.csat, messages)


@dataclass(frozen=True)
class MoneyLine:
    """A payment, dispute or adjustment of an invoice."""

    kind: str  # payment, dispute, credit, debit
    occurred_at: datetime | None
    description: str
    amount: float | None  # in the invoice's currency; None without view_financials
    amount_band: str | None
    status: str | None


@dataclass(frozen=True)
class InvoiceDetail:
    invoice_id: str
    invoice_number: str | None
    issue_date: date
    due_date: date | None
    currency: str
    amount: float | None
    amount_band: str | None
    status: str | None
    paid_at: datetime | None
    is_disputed: bool
    lines: tuple[MoneyLine, ...]  # payments, disputes and adjustments, oldest first


INVOICE_LINES_SQL = text("""
SELECT 'payment' AS kind, p.paid_at AS occurred_at, concat_ws(' ', 'Payment', 'by ' || p.method) AS description,
       p.amount, NULL AS status
FROM silver.payments p WHERE p.invoice_id = :invoice_id
UNION ALL
SELECT 'dispute', d.opened_at, concat_ws(' ', 'Dispute', '- ' || d.reason), d.amount, d.status
FROM silver.disputes d WHERE d.invoice_id = :invoice_id
UNION ALL
SELECT a.kind, a.created_at, concat_ws(' ', initcap(a.kind), 'note', '- ' || a.reason), a.amount, NULL
FROM silver.adjustments a WHERE a.invoice_id = :invoice_id
ORDER BY 2 NULLS LAST, 1
""")


def invoice_detail(session: Session, account_id: str, invoice_id: str, scope: DataScope,
                   policy: MaskPolicy) -> InvoiceDetail | None:
    """An invoice of this customer with its payments, disputes and credit or debit notes."""
    invoice = _customer_record(session, account_id, scope, Invoice, Invoice.invoice_id, invoice_id)
    if invoice is None:
        return None
    lines = tuple(MoneyLine(r.kind, r.occurred_at, r.description, *_money(r.amount, policy), r.status)
                  for r in session.execute(INVOICE_LINES_SQL, {"invoice_id": invoice_id}))
    return InvoiceDetail(invoice.invoice_id, invoice.invoice_number, invoice.issue_date, invoice.due_date,
                         invoice.currency, *_money(invoice.amount, policy), invoice.status, invoice.paid_at,
                         bool(invoice.is_disputed), lines)


# --- What changed: the MRR bridge ----------------------------------------------------------


@dataclass(frozen=True)
class MrrLine:
    """One product line (a regional account's subscriptions of one product in one currency)."""

    account_id: str
    product: str
    currency: str
    mrr_start_usd: float
    mrr_end_usd: float
    part: str  # new, expansion, contraction, churn or unchanged (FX aside)
    fx_usd: float


@dataclass(frozen=True)
class MrrChange:
    account_id: str
    start: date
    end: date
    days: int
    financials_hidden: bool
    mrr_start_usd: float
    mrr_end_usd: float
    parts: dict[str, float]  # MRR_PARTS -> USD; they add up to end - start
    lines: tuple[MrrLine, ...]  # largest moves first

    @property
    def change_usd(self) -> float:
        return self.mrr_end_usd - self.mrr_start_usd


# Per product line on both days: local MRR (constant per subscription) and USD at each day's rate
# (gold.subscription_mrr_daily). A line with no MRR at the start is new, none at the end churned;
# otherwise FX is the start's local MRR revalued at the end rate, and the rest is expansion or
# contraction at the end rate. So new + expansion + contraction + churn + fx = end - start exactly.
MRR_LINES_SQL = text("""
WITH subs AS (
    SELECT m.subscription_id, m.account_id, m.currency, m.mrr,
           COALESCE(p.product_name, s.product_id, m.subscription_id) AS product
    FROM gold.subscription_mrr m
    LEFT JOIN silver.subscriptions s ON s.subscription_id = m.subscription_id
    LEFT JOIN silver.products p ON p.product_id = s.product_id
    WHERE m.account_id = ANY(:regional) AND m.active_from <= :end_day
      AND (m.active_until IS NULL OR m.active_until > :start_day)
), lines AS (
    SELECT s.account_id, s.product, s.currency,
           COALESCE(sum(s.mrr) FILTER (WHERE d.day = :start_day), 0) AS local_start,
           COALESCE(sum(s.mrr) FILTER (WHERE d.day = :end_day), 0) AS local_end,
           COALESCE(sum(d.mrr_usd) FILTER (WHERE d.day = :start_day), 0) AS usd_start,
           COALESCE(sum(d.mrr_usd) FILTER (WHERE d.day = :end_day), 0) AS usd_end,
           max(d.usd_per_unit) FILTER (WHERE d.day = :end_day) AS end_rate
    FROM subs s
    JOIN gold.subscription_mrr_daily d ON d.subscription_id = s.subscription_id AND d.day IN (:start_day, :end_day)
    GROUP BY s.account_id, s.product, s.currency
), parts AS (
    SELECT *, CASE WHEN local_start > 0 AND local_end > 0
                   THEN local_start * COALESCE(end_rate, 0) - usd_start ELSE 0 END AS fx
    FROM lines
)
SELECT account_id, product, currency, usd_start, usd_end, fx,
       CASE WHEN local_start = 0 THEN 'new' WHEN local_end = 0 THEN 'churn'
            WHEN usd_end - usd_start - fx > 0 THEN 'expansion'
            WHEN usd_end - usd_start - fx < 0 THEN 'contraction' ELSE 'unchanged' END AS part
FROM parts
WHERE usd_start <> 0 OR usd_end <> 0
ORDER BY abs(usd_end - usd_start) DESC, account_id, product, currency
""").bindparams(bindparam("regional", type_=ARRAY(Text)))


def mrr_change(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy, *,
               days: int = 90, end: date | None = None) -> MrrChange | None:
    """Why the customer's MRR moved over the `days` up to `end` (default: the last day of data):
    new, expansion, contraction, churn and FX. Without view_financials nothing is read."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    days = days if days in MRR_PERIODS else 90
    end = end or heading.as_of or date.today()
    start = end - timedelta(days=days)
    if not policy.view_financials:
        return MrrChange(account_id, start, end, days, True, 0.0, 0.0, {}, ())
    rows = session.execute(MRR_LINES_SQL, {"regional": list(heading.regional_account_ids),
                                           "start_day": start, "end_day": end}).all()
    parts = dict.fromkeys(MRR_PARTS, Decimal(0))
    for row in rows:  # a handful of product lines of one customer
        parts["fx"] += row.fx
        if row.part in ("new", "churn", "expansion", "contraction"):
            parts[row.part] += row.usd_end - row.usd_start - row.fx
    lines = tuple(MrrLine(r.account_id, r.product, r.currency, float(r.usd_start), float(r.usd_end), r.part,
                          float(r.fx)) for r in rows)
    return MrrChange(account_id, start, end, days, False, float(sum(r.usd_start for r in rows)),
                     float(sum(r.usd_end for r in rows)), {k: float(v) for k, v in parts.items()}, lines)


# --- People: contacts and their chats -------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    contact_id: str  # the master person (silver.contact_master.master_contact_id)
    name: str
    job_title: str | None
    email: str | None  # masked without view_pii
    phone: str | None
    is_primary: bool
    engagement_score: float | None  # 0-1
    engagement_tier: str | None  # Potential, Watch List, Alert
    conversations: int


# One row per master person at the customer's regional accounts: the primary, newest record's
# details, the person's engagement (gold.contact_engagement) and how many chats they started.
CONTACTS_SQL = text("""
WITH people AS (
    SELECT COALESCE(cm.master_contact_id, c.contact_id) AS person_id, c.*
    FROM silver.contacts c
    LEFT JOIN silver.contact_master cm ON cm.contact_id = c.contact_id
    WHERE c.account_id = ANY(:regional)
), chosen AS (
    SELECT DISTINCT ON (person_id) person_id, first_name, last_name, email, phone, job_title,
           COALESCE(is_primary, false) AS is_primary
    FROM people
    ORDER BY person_id, is_primary DESC NULLS LAST, updated_at DESC NULLS LAST, contact_id
), chats AS (
    SELECT p.person_id, count(*) AS conversations
    FROM people p JOIN silver.conversations v ON v.contact_id = p.contact_id
    GROUP BY p.person_id
)
SELECT c.person_id, concat_ws(' ', c.first_name, c.last_name) AS name, c.job_title, c.email, c.phone,
       c.is_primary, e.engagement_score, e.tier, COALESCE(h.conversations, 0) AS conversations
FROM chosen c
LEFT JOIN gold.contact_engagement e ON e.contact_id = c.person_id
LEFT JOIN chats h ON h.person_id = c.person_id
ORDER BY e.engagement_score DESC NULLS LAST, c.is_primary DESC, name, c.person_id
LIMIT :limit
""").bindparams(bindparam("regional", type_=ARRAY(Text)))


def account_contacts(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy, *,
                     limit: int = 200) -> tuple[ContactRow, ...] | None:
    """The customer's people, most engaged first, emails and phones masked without view_pii."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    rows = session.execute(CONTACTS_SQL, {"regional": list(heading.regional_account_ids), "limit": limit})
    email, phone = ((lambda v: v), (lambda v: v)) if policy.view_pii else (mask_email, mask_phone)
    return tuple(ContactRow(r.person_id, r.name or r.person_id, r.job_title, email(r.email), phone(r.phone),
                            bool(r.is_primary), r.engagement_score, r.tier, int(r.conversations)) for r in rows)


@dataclass(frozen=True)
class ContactThread:
    contact_id: str
    name: str
    messages: tuple[ThreadMessage, ...]  # oldest first, the newest THREAD_MESSAGES


CONTACT_THREAD_SQL = text("""
WITH records AS (
    SELECT c.contact_id, concat_ws(' ', c.first_name, c.last_name) AS name
    FROM silver.contacts c
    LEFT JOIN silver.contact_master cm ON cm.contact_id = c.contact_id
    WHERE c.account_id = ANY(:regional) AND COALESCE(cm.master_contact_id, c.contact_id) = :person_id
), newest AS (
    SELECT m.conversation_id, m.sent_at, m.direction, m.body, m.message_id
    FROM silver.conversations v
    JOIN silver.messages m ON m.conversation_id = v.conversation_id
    WHERE v.contact_id IN (SELECT contact_id FROM records)
    ORDER BY m.sent_at DESC NULLS LAST, m.message_id DESC
    LIMIT :limit
)
SELECT (SELECT min(name) FROM records) AS name, (SELECT count(*) FROM records) AS records,
       n.conversation_id, n.sent_at, n.direction, n.body
FROM (SELECT 1) one LEFT JOIN newest n ON true
ORDER BY n.sent_at NULLS FIRST, n.message_id
""").bindparams(bindparam("regional", type_=ARRAY(Text)))


def contact_thread(session: Session, account_id: str, contact_id: str, scope: DataScope,
                   policy: MaskPolicy) -> ContactThread | None:
    """A person's chat history (silver.messages of their conversations), text masked without
    view_pii; None when the customer is out of scope or the person is not theirs."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    rows = session.execute(CONTACT_THREAD_SQL, {"regional": list(heading.regional_account_ids),
                                                "person_id": contact_id, "limit": THREAD_MESSAGES}).all()
    if not rows or not rows[0].records:
        return None
    messages = tuple(ThreadMessage(r.conversation_id, r.sent_at, r.direction, mask_text(r.body, policy))
                     for r in rows if r.conversation_id is not None)
    return ContactThread(contact_id, rows[0].name or contact_id, messages)


# --- Linked accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedAccount:
    account_id: str
    account_name: str
    region: str | None
    country: str | None
    confidence: int
    method: str  # single, exact, fuzzy, parent, shared_contact, manual
    is_master: bool


@dataclass(frozen=True)
class LinkDecision:
    account_id: str  # the other account
    action: str  # link or unlink
    created_by: str
    created_at: datetime
    pending: bool  # not yet applied by a refresh


@dataclass(frozen=True)
class LinkedAccounts:
    account_id: str
    accounts: tuple[LinkedAccount, ...]
    decisions: tuple[LinkDecision, ...]  # manual links and unlinks touching this customer, newest first


def linked_accounts(session: Session, account_id: str, scope: DataScope) -> LinkedAccounts | None:
    """The regional accounts behind the customer with the confidence and method that linked each,
    and the manual decisions about it (pending ones apply at the next refresh)."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    rows = session.execute(
        select(AccountMaster.account_id, Account.account_name, Account.region, Account.country,
               AccountMaster.confidence, AccountMaster.method)
        .join(Account, Account.account_id == AccountMaster.account_id)
        .where(AccountMaster.master_account_id == account_id)
        .order_by((AccountMaster.account_id != account_id), AccountMaster.confidence.desc(), AccountMaster.account_id))
    accounts = tuple(LinkedAccount(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[0] == account_id) for r in rows)
    if not accounts:  # identity not run yet: the customer is its own regional accounts
        accounts = tuple(LinkedAccount(a, heading.account_name, heading.region, None, 100, "single", a == account_id)
                         for a in heading.regional_account_ids)
    members = [a.account_id for a in accounts]
    # The pair's other account: a decision is stored once per unordered pair.
    other_id = func.coalesce(func.nullif(AccountLinkOverride.account_id_a, account_id), AccountLinkOverride.account_id_b)
    master_of_other = (select(AccountMaster.master_account_id).where(AccountMaster.account_id == other_id)
                       .scalar_subquery())
    applied = or_(and_(AccountLinkOverride.action == "link", master_of_other == account_id),
                  and_(AccountLinkOverride.action == "unlink", func.coalesce(master_of_other, "") != account_id))
    decision_rows = session.execute(
        select(other_id, AccountLinkOverride.action, AccountLinkOverride.created_by, AccountLinkOverride.created_at,
               ~applied)
        .where(or_(AccountLinkOverride.account_id_a.in_(members), AccountLinkOverride.account_id_b.in_(members)),
               or_(AccountLinkOverride.account_id_a == account_id, AccountLinkOverride.account_id_b == account_id))
        .order_by(AccountLinkOverride.created_at.desc(), AccountLinkOverride.id.desc()).limit(20))
    decisions = tuple(LinkDecision(r[0], r[1], r[2], r[3], bool(r[4])) for r in decision_rows)
    return LinkedAccounts(account_id, accounts, decisions)


class AccountLinkError(ValueError):
    """A link or unlink that cannot be made; the message is safe to show."""


@dataclass(frozen=True)
class LinkChange:
    account_id: str
    other_account_id: str
    action: str
    message: str


def change_account_link(session: Session, scope: DataScope, account_id: str, other_account_id: str, action: str, *,
                        actor: str, permissions: Iterable[str]) -> LinkChange:
    """Record that `other_account_id` is (link) or is not (unlink) the same customer as
    `account_id`, in app.account_link_override with an audit row in the same transaction. Needs
    manage_users; the identity step applies it at the next refresh."""
    if MANAGE_USERS not in set(permissions):
        raise AccountLinkError("Only an administrator may link or unlink accounts.")
    if action not in LINK_ACTIONS:
        raise AccountLinkError(f"Unknown change {action!r}.")
    other_account_id = (other_account_id or "").strip()
    if account_heading(session, account_id, scope) is None:
        raise AccountLinkError("No such customer.")
    if not other_account_id or other_account_id == account_id:
        raise AccountLinkError("Choose another account.")
    if session.scalar(select(Account.account_id).where(Account.account_id == other_account_id)) is None:
        raise AccountLinkError(f"There is no account {other_account_id}.")
    current_master = session.scalar(select(AccountMaster.master_account_id)
                                    .where(AccountMaster.account_id == other_account_id))
    if action == "link" and current_master == account_id:
        raise AccountLinkError(f"{other_account_id} is already linked to this customer.")
    if action == "unlink" and current_master != account_id:
        raise AccountLinkError(f"{other_account_id} is not linked to this customer.")
    first, second = sorted((account_id, other_account_id))  # one decision per unordered pair
    session.add(AccountLinkOverride(account_id_a=first, account_id_b=second, action=action, created_by=actor))
    audit.record_in(session, "account_link_override", target=f"account:{account_id}", actor=actor,
                    detail={"action": action, "other_account_id": other_account_id})
    session.flush()
    verb = "Linked" if action == "link" else "Unlinked"
    return LinkChange(account_id, other_account_id, action, f"{verb} {other_account_id}. {REFRESH_NOTE}")


# --- Summary and feedback --------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentMonth:
    month: date
    texts: int
    average: float  # compound, -1..1
    negative_share: float  # 0-1


@dataclass(frozen=True)
class FeedbackItem:
    survey_type: str  # nps or csat
    touchpoint: str | None
    responded_at: datetime
    score: int | None
    comment: str | None  # masked without view_pii


@dataclass(frozen=True)
class TopicCount:
    topic: str
    texts: int
    average_sentiment: float


@dataclass(frozen=True)
class AccountFeedback:
    account_id: str
    summary: str | None
    summary_generated_at: datetime | None
    sentiment: tuple[SentimentMonth, ...]  # the last 12 months with texts, oldest first
    feedback: tuple[FeedbackItem, ...]  # newest first
    nps: float | None  # average NPS score of answered surveys in the last 12 months
    csat: float | None
    topics: tuple[TopicCount, ...]  # most mentioned first


SENTIMENT_SQL = text("""
SELECT CAST(date_trunc('month', day) AS date) AS month, sum(texts) AS texts,
       sum(compound_sum) / NULLIF(sum(texts), 0) AS average, sum(negative)::float / NULLIF(sum(texts), 0) AS negative
FROM gold.sentiment_daily
WHERE account_id = :account_id AND day > CAST(:end_day AS date) - 365 AND day <= :end_day
GROUP BY 1 HAVING sum(texts) > 0 ORDER BY 1
""")
FEEDBACK_SQL = text("""
SELECT survey_type, touchpoint, responded_at, COALESCE(nps_score, csat_score) AS score, comment
FROM silver.surveys
WHERE account_id = ANY(:regional) AND responded_at IS NOT NULL
ORDER BY responded_at DESC, survey_id LIMIT :limit
""").bindparams(bindparam("regional", type_=ARRAY(Text)))
SCORES_SQL = text("""
SELECT avg(nps_score) FILTER (WHERE survey_type = 'nps'), avg(csat_score) FILTER (WHERE survey_type = 'csat')
FROM silver.surveys
WHERE account_id = ANY(:regional) AND responded_at IS NOT NULL
  AND CAST(responded_at AT TIME ZONE 'UTC' AS date) > CAST(:end_day AS date) - 365
""").bindparams(bindparam("regional", type_=ARRAY(Text)))
# The customer's scored texts of the last 12 months: inbound chat messages, ticket subjects and
# campaign replies (gold.text_score), counted per topic.
TOPICS_SQL = text("""
WITH texts AS (
    SELECT 'message' AS source, m.message_id AS item_id, m.sent_at AS at
    FROM silver.conversations v JOIN silver.messages m ON m.conversation_id = v.conversation_id
    WHERE v.account_id = ANY(:regional)
    UNION ALL
    SELECT 'ticket', t.ticket_id, t.created_at FROM silver.tickets t WHERE t.account_id = ANY(:regional)
    UNION ALL
    SELECT 'reply', r.reply_id, r.received_at
    FROM silver.replies r JOIN silver.contacts c ON c.contact_id = r.contact_id
    WHERE c.account_id = ANY(:regional)
)
SELECT topic, count(*) AS texts, avg(s.compound) AS average
FROM texts x
JOIN gold.text_score s ON s.source = x.source AND s.item_id = x.item_id
CROSS JOIN LATERAL unnest(s.topics) AS topic
WHERE CAST(x.at AT TIME ZONE 'UTC' AS date) > CAST(:end_day AS date) - 365
GROUP BY topic ORDER BY texts DESC, topic LIMIT :limit
""").bindparams(bindparam("regional", type_=ARRAY(Text)))


def account_feedback(session: Session, account_id: str, scope: DataScope,
                     policy: MaskPolicy) -> AccountFeedback | None:
    """The customer's written summary, monthly sentiment, recent survey answers and top topics."""
    heading = account_heading(session, account_id, scope)
    if heading is None:
        return None
    end_day = heading.as_of or date.today()
    regional = list(heading.regional_account_ids)
    summary = session.execute(select(AccountSummary.summary, AccountSummary.generated_at)
                              .where(AccountSummary.account_id == account_id)).one_or_none()
    sentiment = tuple(SentimentMonth(r.month, int(r.texts), float(r.average or 0), float(r.negative or 0))
                      for r in session.execute(SENTIMENT_SQL, {"account_id": account_id, "end_day": end_day}))
    feedback = tuple(FeedbackItem(r.survey_type, r.touchpoint, r.responded_at, r.score, mask_text(r.comment, policy))
                     for r in session.execute(FEEDBACK_SQL, {"regional": regional, "limit": RECENT_FEEDBACK}))
    nps, csat = session.execute(SCORES_SQL, {"regional": regional, "end_day": end_day}).one()
    topics = tuple(TopicCount(r.topic, int(r.texts), float(r.average))
                   for r in session.execute(TOPICS_SQL, {"regional": regional, "end_day": end_day,
                                                         "limit": TOP_TOPICS}))
    return AccountFeedback(account_id, hide_amounts(summary[0], policy) if summary else None, summary[1] if summary else None, sentiment,
                           feedback, None if nps is None else float(nps), None if csat is None else float(csat),
                           topics)

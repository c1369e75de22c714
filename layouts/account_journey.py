"""Customer 360, Journey: the customer's timeline (filterable by event type and dates, paged, each
ticket or invoice opening in a side panel) and "What changed" in its MRR over 30, 90 or 365 days.

The URL holds the state (`?type=&start=&end=&page=&period=`); `layout(account_id, **query)`
builds the page from it and callbacks/account_journey.py fills the panels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_usd
from dashboard.masking import MaskPolicy
from dashboard.queries.account_journey import (
    EVENT_CATEGORIES,
    MRR_PARTS,
    MRR_PERIODS,
    AccountHeading,
    InvoiceDetail,
    MrrChange,
    ThreadMessage,
    TicketDetail,
    TimelineItem,
    TimelinePage,
    account_heading,
    clean_types,
    default_start,
)
from dashboard.queries.customer360 import account_header as account_header_query
from dashboard.queries.glossary import definition
from dashboard.scope import DataScope, current_scope
from dashboard.url_state import first, to_search, values
from layouts.components import chart_card, no_selection_state, not_found_state
from layouts.customer360 import account_header
from layouts.kit.charts import mrr_waterfall_figure, png_filename
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

PAGE_SLUG = "account-journey"
FINANCIALS_HIDDEN = "Hidden: the MRR bridge needs the financials permission"
SEVERITY_COLOURS = {"HIGH": "danger", "MEDIUM": "warning", "LOW": "info", "INFO": "secondary"}


class JourneyIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "aj-page"
    URL = "aj-url"
    STATE = "aj-state"
    TYPES = "aj-types"
    DATES = "aj-dates"
    PERIOD = "aj-period"
    TIMELINE = "aj-timeline"
    PREVIOUS = "aj-previous"
    NEXT = "aj-next"
    MRR = "aj-mrr"
    OPEN = "aj-open"  # pattern-matching: {"type": OPEN, "kind": "ticket"|"invoice", "id": ...}
    DETAIL = "aj-detail"
    DETAIL_BODY = "aj-detail-body"
    EVENT = "aj-event"


ID = JourneyIds


@dataclass(frozen=True)
class JourneyQuery:
    """The page's state as the URL carries it (raw strings, checked by the queries)."""

    account_id: str
    types: tuple[str, ...] = ()  # empty: every type
    start: str | None = None  # ISO days; empty start: 12 months before the last day of data
    end: str | None = None
    page: int = 1
    period: int = 90

    @classmethod
    def from_args(cls, account_id: str, args: Mapping[str, Any] | None) -> JourneyQuery:
        chosen = clean_types(values(args, "type"))
        types = () if len(chosen) == len(EVENT_CATEGORIES) else chosen
        period = _int(first(args, "period"), 90)
        return cls(account_id, types, _iso(first(args, "start")), _iso(first(args, "end")),
                   max(1, _int(first(args, "page"), 1)), period if period in MRR_PERIODS else 90)

    @classmethod
    def from_state(cls, state: Any) -> JourneyQuery:
        state = state if isinstance(state, dict) else {}
        return cls.from_args(str(state.get("account_id") or ""), {k: v for k, v in state.items() if k != "account_id"})

    def as_state(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "type": list(self.types), "start": self.start, "end": self.end,
                "page": str(self.page), "period": str(self.period)}

    @property
    def search(self) -> str:
        return to_search([("type", list(self.types)), ("start", self.start), ("end", self.end),
                          ("page", str(self.page) if self.page > 1 else None),
                          ("period", str(self.period) if self.period != 90 else None)])

    def start_day(self) -> date | None:
        return date.fromisoformat(self.start) if self.start else None

    def end_day(self) -> date | None:
        return date.fromisoformat(self.end) if self.end else None


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _iso(raw: str | None) -> str | None:
    try:
        return date.fromisoformat(raw[:10]).isoformat() if raw else None
    except ValueError:
        return None


# --- The page ------------------------------------------------------------------------------


def customer_header(account_id: str, active_tab: str, subtitle: str = "", search: str = "") -> html.Div:
    """The Customer 360 header (name, badges, headline figures and the tabs) above a sibling page."""
    with db.session() as session:
        header = account_header_query(session, account_id, current_scope(), MaskPolicy.for_current_user())
    parts = [account_header(header, active_tab, search)] if header is not None else []
    if subtitle:
        parts.append(html.Div(subtitle, className="text-muted small mb-2"))
    return html.Div(parts, className="c360-account-header", **{"data-account-id": account_id})


def resolve_heading(account_id: str | None, scope: DataScope) -> AccountHeading | None:
    """The customer of the page's path, or None (unknown or outside the scope: the same 404)."""
    if not account_id:
        return None
    with db.session() as session:
        return account_heading(session, account_id, scope)


def _filters(query: JourneyQuery, heading: AccountHeading) -> html.Div:
    start = query.start or default_start(heading.as_of).isoformat()
    return html.Div([
        html.Div([
            dbc.Label("Event types", html_for=ID.TYPES, className="c360-filter-label"),
            dbc.Checklist(id=ID.TYPES, options=[{"label": label, "value": key}
                                                for key, label in EVENT_CATEGORIES.items()],
                          value=list(query.types), inline=True, switch=False, className="c360-journey-types"),
            html.Div("None ticked: every type.", className="form-text"),
        ], className="c360-filter c360-filter-types"),
        html.Div([
            dbc.Label("Dates", html_for=ID.DATES, className="c360-filter-label"),
            dcc.DatePickerRange(id=ID.DATES, start_date=start, end_date=query.end, display_format="D MMM YYYY",
                                first_day_of_week=1, minimum_nights=0, clearable=False,
                                end_date_placeholder_text="Open end", className="c360-date-range"),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(account_id: str | None = None, **query: Any) -> html.Div:
    """Filters, the timeline and the MRR bridge of one customer; the plain 404 when the customer
    is unknown or outside the user's scope."""
    heading = resolve_heading(account_id, current_scope())
    if heading is None:
        return not_found_state()
    state = JourneyQuery.from_args(heading.account_id, query)
    period = dbc.RadioItems(id=ID.PERIOD, options=[{"label": f"{d} days", "value": d} for d in MRR_PERIODS],
                            value=state.period, inline=True, className="c360-mrr-period")
    detail = dbc.Offcanvas(loading(ID.DETAIL_BODY, skeleton("card", 6)), id=ID.DETAIL, title="Details",
                           placement="end", is_open=False, scrollable=True, className="c360-detail-panel")
    subtitle = f"Data up to {format_day(heading.as_of)}" if heading.as_of else ""
    return html.Div([
        # The default start rides along so an untouched start date stays out of the URL.
        url_state(ID.URL, ID.STATE, {**state.as_state(), "default_start": default_start(heading.as_of).isoformat()}),
        customer_header(heading.account_id, "journey", subtitle),
        _filters(state, heading),
        dbc.Row([
            dbc.Col(loading(ID.TIMELINE, skeleton("grid", 8), "grid"), lg=7, className="mb-3"),
            dbc.Col([html.Div(period, className="mb-2"), loading(ID.MRR, skeleton("chart", 6), "chart")],
                    lg=5, className="mb-3"),
        ], className="g-3"),
        detail,
    ], id=ID.PAGE, className="c360-account-journey")


# --- The timeline --------------------------------------------------------------------------


def day_of(moment: Any) -> str:
    return format_day(moment.date() if hasattr(moment, "date") else moment)


def _amount(usd: float | None, band: str | None) -> str | None:
    return format_usd(usd) if usd is not None else band


def _event(item: TimelineItem) -> html.Li:
    amount = _amount(item.amount_usd, item.amount_band)
    opener = None
    if item.detail_kind and item.detail_id:
        opener = dbc.Button(f"Open {item.detail_kind}", color="link", size="sm", className="p-0 c360-event-open",
                            id={"type": ID.OPEN, "kind": item.detail_kind, "id": item.detail_id})
    return html.Li([
        html.Div([html.Span(day_of(item.occurred_at), className="c360-event-date text-muted me-2"),
                  dbc.Badge(EVENT_CATEGORIES.get(item.category, item.category), color="light", text_color="dark",
                            className="me-2"),
                  dbc.Badge(item.status.title(), color=SEVERITY_COLOURS.get(item.severity, "secondary"),
                            title=f"Severity {item.severity}")], className="c360-event-meta"),
        html.Div([html.Strong(item.title), html.Span(f" \u00b7 {amount}", className="text-muted") if amount else None],
                 className="c360-event-title"),
        html.Div(item.description, className="small text-muted c360-event-description") if item.description else None,
        opener,
    ], className=f"c360-event list-group-item c360-event-{item.category}",
        **{"data-category": item.category, "data-event-id": item.event_id})


def timeline_panel(page: TimelinePage | None, scope: DataScope) -> Any:
    """The card listing one page of events, with a pager."""
    if page is None:
        return not_found_state()
    period = f"{format_day(page.start)} \u2013 {format_day(page.end) if page.end else 'now and booked'}"
    counts = ", ".join(f"{EVENT_CATEGORIES[t]}: {format_count(page.counts.get(t, 0))}" for t in page.types
                       if page.counts.get(t))
    if not page.items:
        body: Any = no_selection_state(empty_reason(
            scope, f"No events of the chosen types between {period}. Widen the dates or tick more types."))
    else:
        body = html.Ol([_event(item) for item in page.items], className="list-group list-group-flush c360-timeline")
    pager = html.Div([
        dbc.Button("\u2190 Newer", id=ID.PREVIOUS, size="sm", color="secondary", outline=True,
                   disabled=page.page <= 1),
        html.Span(f"Page {page.page} of {page.pages} \u00b7 {format_count(page.total)} events",
                  className="mx-2 small text-muted c360-pager-label"),
        dbc.Button("Older \u2192", id=ID.NEXT, size="sm", color="secondary", outline=True,
                   disabled=page.page >= page.pages),
    ], className="c360-pager d-flex align-items-center")
    return chart_card("Journey", body, subtitle=f"{period}" + (f" \u00b7 {counts}" if counts else ""),
                      definition=definition("journey_timeline"), footer=pager)


# --- The side panel ------------------------------------------------------------------------


def thread_messages(messages: tuple[ThreadMessage, ...], empty: str) -> Any:
    if not messages:
        return no_selection_state(empty)
    return html.Ul([
        html.Li([html.Div([html.Span("Customer" if m.direction == "inbound" else "Agent", className="fw-semibold me-2"),
                           html.Span(day_of(m.sent_at) if m.sent_at else "", className="text-muted small")]),
                 html.Div(m.body or "", className="c360-message-body")],
                className=f"c360-message c360-message-{m.direction or 'unknown'} list-group-item")
        for m in messages], className="list-group list-group-flush c360-thread")


def ticket_panel(detail: TicketDetail) -> tuple[str, Any]:
    facts = [f"{detail.severity or 'No severity'}", detail.category or "", detail.status or "",
             "escalated" if detail.is_escalated else "", f"CSAT {detail.csat}" if detail.csat is not None else ""]
    when = f"Opened {day_of(detail.created_at)}" + (f", resolved {day_of(detail.resolved_at)}" if detail.resolved_at
                                                  else "")
    return f"Ticket {detail.ticket_id}", html.Div([
        html.H6(detail.subject or "No subject"),
        html.Div(" \u00b7 ".join(f for f in facts if f), className="small text-muted"),
        html.Div(when, className="small text-muted mb-3"),
        html.H6("Conversation", className="mt-2"),
        thread_messages(detail.messages, "No chat around this ticket: it was handled by email or phone."),
    ], id="aj-ticket-detail")


def invoice_panel(detail: InvoiceDetail) -> tuple[str, Any]:
    amount = (f"{detail.amount:,.2f} {detail.currency}" if detail.amount is not None
              else f"{detail.amount_band} (band)")
    rows = [html.Tr([html.Td(day_of(line.occurred_at) if line.occurred_at else ""), html.Td(line.description),
                     html.Td(f"{line.amount:,.2f}" if line.amount is not None else line.amount_band,
                             className="text-end"), html.Td(line.status or "")]) for line in detail.lines]
    table = dbc.Table([html.Thead(html.Tr([html.Th("Date"), html.Th("What"), html.Th(detail.currency,
                                                                                     className="text-end"),
                                           html.Th("Status")])), html.Tbody(rows)], size="sm", className="c360-table")
    return f"Invoice {detail.invoice_number or detail.invoice_id}", html.Div([
        html.Div(f"Issued {format_day(detail.issue_date)}, due {format_day(detail.due_date)}", className="small"),
        html.Div([html.Strong(amount), f" \u00b7 {detail.status or 'no status'}",
                  " \u00b7 disputed" if detail.is_disputed else ""], className="mb-3"),
        html.Div("The billing feed carries invoice totals, not line items.", className="small text-muted mb-2"),
        table if rows else no_selection_state("No payments, disputes or notes yet."),
    ], id="aj-invoice-detail")


# --- What changed: the MRR bridge ----------------------------------------------------------


def mrr_waterfall(change: MrrChange) -> go.Figure:
    """Start MRR, the five parts and end MRR as a waterfall."""
    return mrr_waterfall_figure(format_day(change.start), change.mrr_start_usd,
                                {part: change.parts[part] for part in MRR_PARTS}, format_day(change.end),
                                change.mrr_end_usd)


def mrr_panel(change: MrrChange | None, scope: DataScope) -> Any:
    title = "What changed in MRR"
    if change is None:
        return not_found_state()
    if change.financials_hidden:
        return chart_card(title, no_selection_state(FINANCIALS_HIDDEN))
    subtitle = (f"{format_day(change.start)} \u2013 {format_day(change.end)}: "
                f"{format_usd(change.mrr_start_usd)} \u2192 {format_usd(change.mrr_end_usd)}")
    if not change.lines:
        return chart_card(title, no_selection_state(empty_reason(
            scope, "No MRR on either day: the customer had no subscription counting then.")), subtitle=subtitle)
    movers = [line for line in change.lines if line.mrr_start_usd != line.mrr_end_usd][:5]
    table = html.Ul([html.Li(f"{line.product} ({line.currency}, {line.account_id}): "
                             f"{format_usd(line.mrr_start_usd)} \u2192 {format_usd(line.mrr_end_usd)}, {line.part}"
                             + (f", FX {format_usd(line.fx_usd)}" if line.fx_usd else ""), className="small")
                     for line in movers], className="mb-0 ps-3 c360-mrr-movers")
    return chart_card(title, mrr_waterfall(change), subtitle=subtitle, definition=definition("mrr_bridge"),
                      png_filename=png_filename(PAGE_SLUG, ["mrr-change", change.account_id, f"{change.days}d"]),
                      footer=table if movers else None, card_id="aj-mrr-card")

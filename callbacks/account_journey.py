"""Customer 360 Journey wiring: filters and the pager write the URL; the page's state feeds the
timeline and MRR-bridge queries; an event's "Open" button fills the side panel.

The `build_*` functions take a session and the page state, so tests call them directly.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_CUSTOMER360
from dashboard.queries import account_journey as q
from dashboard.scope import DataScope, current_scope
from layouts import account_journey as page
from layouts.account_journey import JourneyIds as ID
from layouts.account_journey import JourneyQuery
from layouts.components import no_selection_state

STATE_INPUT = dict(state=Input(ID.STATE, "data"))
GONE = "This record is no longer available."


def build_timeline(session: Session, query: JourneyQuery, *, scope: DataScope, policy: MaskPolicy) -> Any:
    result = q.account_timeline(session, query.account_id, scope, policy, types=query.types,
                                start=query.start_day(), end=query.end_day(), page=query.page)
    return page.timeline_panel(result, scope)


def build_mrr(session: Session, query: JourneyQuery, *, scope: DataScope, policy: MaskPolicy) -> Any:
    return page.mrr_panel(q.mrr_change(session, query.account_id, scope, policy, days=query.period), scope)


def build_detail(session: Session, account_id: str, kind: str, record_id: str, *, scope: DataScope,
                 policy: MaskPolicy) -> tuple[str, Any]:
    """(panel title, body) of a ticket or invoice of this customer."""
    if kind == "ticket":
        ticket = q.ticket_detail(session, account_id, record_id, scope, policy)
        if ticket is not None:
            return page.ticket_panel(ticket)
    elif kind == "invoice":
        invoice = q.invoice_detail(session, account_id, record_id, scope, policy)
        if invoice is not None:
            return page.invoice_panel(invoice)
    return "Details", no_selection_state(GONE)


# --- The URL ---------------------------------------------------------------------------------


@page_callback(VIEW_CUSTOMER360, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(types=Input(ID.TYPES, "value"), start=Input(ID.DATES, "start_date"),
                           end=Input(ID.DATES, "end_date"), period=Input(ID.PERIOD, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_filters_to_url(types: Any, start: Any, end: Any, period: Any, state: Any) -> Any:
    """A filter change becomes a new URL (and a history entry), back on the first page."""
    current = JourneyQuery.from_state(state)
    if isinstance(state, dict) and start == state.get("default_start"):
        start = None
    args = {"type": types if isinstance(types, list) else [], "start": start, "end": end, "period": period}
    query = JourneyQuery.from_args(current.account_id, {k: v for k, v in args.items() if v not in (None, "")})
    if query == current:
        raise PreventUpdate
    return search_or_wait(query.search)


@page_callback(VIEW_CUSTOMER360, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(_newer=Input(ID.PREVIOUS, "n_clicks"), _older=Input(ID.NEXT, "n_clicks")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def turn_page(_newer: Any, _older: Any, state: Any) -> Any:
    """Newer / Older move one page through the timeline."""
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    current = JourneyQuery.from_state(state)
    step = -1 if ctx.triggered_id == ID.PREVIOUS else 1
    moved = JourneyQuery(current.account_id, current.types, current.start, current.end,
                         max(1, current.page + step), current.period)
    return search_or_wait(moved.search)


# --- Panels ----------------------------------------------------------------------------------


@page_callback(VIEW_CUSTOMER360, output=Output(ID.TIMELINE, "children"), inputs=STATE_INPUT)
def update_timeline(state: Any) -> Any:
    with db.session() as session:
        return cached_build(build_timeline, session, JourneyQuery.from_state(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_CUSTOMER360, output=Output(ID.MRR, "children"), inputs=STATE_INPUT)
def update_mrr(state: Any) -> Any:
    with db.session() as session:
        return cached_build(build_mrr, session, JourneyQuery.from_state(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_CUSTOMER360,
               output=dict(is_open=Output(ID.DETAIL, "is_open"), title=Output(ID.DETAIL, "title"),
                           body=Output(ID.DETAIL_BODY, "children")),
               inputs=dict(_clicks=Input({"type": ID.OPEN, "kind": ALL, "id": ALL}, "n_clicks")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def open_detail(_clicks: Any, state: Any) -> dict[str, Any]:
    """An event's "Open" button shows its ticket thread or invoice in the side panel."""
    button = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0].get("value") or not isinstance(button, dict):
        raise PreventUpdate  # buttons appearing with a fresh page fire without a click
    kind, record_id = button.get("kind"), button.get("id")
    if not isinstance(kind, str) or not isinstance(record_id, str):
        raise PreventUpdate
    with db.session() as session:
        title, body = build_detail(session, JourneyQuery.from_state(state).account_id, kind, record_id,
                                   scope=current_scope(), policy=MaskPolicy.for_current_user())
    return {"is_open": True, "title": title, "body": body}

"""Leads and buyers wiring: the controls write the URL; the page's state store feeds one query per
panel, whose results the page's layout helpers turn into cards and grids.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy, so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_account_opener, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SALES
from dashboard.queries import sales_leads as q
from dashboard.queries.sales_leads import LeadsQuery
from dashboard.scope import DataScope, current_scope
from layouts import sales_leads as page
from layouts.sales_leads import ALL
from layouts.sales_leads import LeadsIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_leads(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The prioritised-leads card for the raw page state."""
    return page.leads_output(q.leads(session, LeadsQuery.from_state(state), scope, policy=policy))


def build_repeat(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The likely-to-buy-again card for the raw page state."""
    return page.repeat_output(q.repeat_buyers(session, LeadsQuery.from_state(state), scope, policy=policy))


def build_decline(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The reduced-or-stopped-buying card for the raw page state."""
    return page.decline_output(q.declines(session, LeadsQuery.from_state(state), scope, policy=policy))


# --- The URL: the controls write it, the page is rebuilt from it ----------------------------


def _chosen(value: Any, current: Any) -> Any:
    if not isinstance(value, str):
        return current
    return None if value == ALL else value


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(source=Input(ID.SOURCE, "value"), kind=Input(ID.KIND, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(source: Any, kind: Any, state: Any) -> Any:
    """A new lead source or kind of decline becomes a new URL (and a history entry)."""
    current = LeadsQuery.from_state(state)
    query = LeadsQuery(_chosen(source, current.source), _chosen(kind, current.kind))
    return search_or_wait(query.search if query != current else None)


for grid_id in (ID.REPEAT_GRID, ID.DECLINE_GRID):
    register_account_opener(VIEW_SALES, grid_id=grid_id, location_id=ID.URL, explain_column="")


# --- Panels: one callback each, so they load side by side ----------------------------------


def _register_panel(output_id: str, build: Callable[..., Any]) -> Callable[..., Any]:
    """The callback filling one panel from the page's state with `build`."""
    @page_callback(VIEW_SALES, output=Output(output_id, "children"), inputs=STATE_INPUT)
    def update_panel(state: Any) -> Any:
        with db.session() as session:
            return build(session, state, scope=current_scope(), policy=MaskPolicy.for_current_user())

    update_panel.__name__ = f"update_{build.__name__.removeprefix('build_')}"
    return update_panel


PANELS: dict[str, Callable[..., Any]] = {ID.LEADS: build_leads, ID.REPEAT: build_repeat, ID.DECLINE: build_decline}
UPDATES = {output_id: _register_panel(output_id, build) for output_id, build in PANELS.items()}

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

from callbacks.kit import (
    page_callback,
    register_account_opener,
    register_panels,
    register_score_explainer,
    search_or_wait,
)
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SALES
from dashboard.queries import sales_leads as q
from dashboard.queries import scores
from dashboard.queries.book import DEFAULT_RENEWAL_MONTHS
from dashboard.queries.sales_leads import LeadsQuery
from dashboard.scope import DataScope
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


def build_renewals(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The renewals-due card for the raw page state."""
    return page.renewals_output(q.renewals(session, LeadsQuery.from_state(state), scope, policy=policy))


def build_potential(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The cross-sell and upsell card (the Strategy page's ranking) for the raw page state."""
    query = LeadsQuery.from_state(state)
    return page.potential_output(q.potential(session, query, scope, policy=policy), q.resolve(session, query, scope))


# --- The URL: the controls write it, the page is rebuilt from it ----------------------------


def _chosen(value: Any, current: Any) -> Any:
    if not isinstance(value, str):
        return current
    return None if value == ALL else value


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(source=Input(ID.SOURCE, "value"), kind=Input(ID.KIND, "value"),
                           months=Input(ID.MONTHS, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(source: Any, kind: Any, months: Any, state: Any) -> Any:
    """A new lead source, kind of decline or renewal window becomes a new URL (and a history entry)."""
    current = LeadsQuery.from_state(state)
    # The default window stays out of the URL, as the page's canonical form leaves it.
    chosen_months = _chosen(months, current.months)
    if chosen_months is not None and str(chosen_months) == str(DEFAULT_RENEWAL_MONTHS):
        chosen_months = None
    query = LeadsQuery(_chosen(source, current.source), _chosen(kind, current.kind), chosen_months)
    return search_or_wait(query.search if query != current else None)


for grid_id in (ID.REPEAT_GRID, ID.DECLINE_GRID):
    register_account_opener(VIEW_SALES, grid_id=grid_id, location_id=ID.URL, explain_column="")
for grid_id, modal_id, body_id in ((ID.RENEWALS_GRID, ID.RENEWALS_CHIP_MODAL, ID.RENEWALS_CHIP_BODY),
                                   (ID.POTENTIAL_GRID, ID.POTENTIAL_CHIP_MODAL, ID.POTENTIAL_CHIP_BODY)):
    register_account_opener(VIEW_SALES, grid_id=grid_id, location_id=ID.URL, explain_column="churn_risk")
    register_score_explainer(VIEW_SALES, grid_id=grid_id, column="churn_risk", score=scores.CHURN,
                             modal_id=modal_id, body_id=body_id, explain=scores.explain)


# --- Panels: one callback each, so they load side by side ----------------------------------


PANELS: dict[str, Callable[..., Any]] = {ID.LEADS: build_leads, ID.REPEAT: build_repeat, ID.DECLINE: build_decline,
                                         ID.RENEWALS: build_renewals, ID.POTENTIAL: build_potential}
UPDATES = register_panels(VIEW_SALES, PANELS, STATE_INPUT)

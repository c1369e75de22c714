"""Engagement radar wiring: the controls (and a click on a sharp drop) write the URL; the page's state
store feeds one engagement query per panel, whose results the page's layout helpers turn into cards,
figures and grids.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy, so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_panels, register_score_explainer, relayed, search_or_wait
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SALES
from dashboard.queries import engagement as q
from dashboard.queries import scores
from dashboard.queries.engagement import ALL_TIERS, EngagementQuery
from dashboard.scope import DataScope
from layouts import sales_engagement as page
from layouts.sales_engagement import EngagementIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))
CHIP_COLUMN = "engagement_tier"


def build_tiers(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The tiers card for the raw page state."""
    return page.tiers_output(q.tiers(session, EngagementQuery.from_state(state), scope, policy=policy))


def build_distribution(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The score distribution card for the raw page state."""
    return page.distribution_output(q.distribution(session, EngagementQuery.from_state(state), scope, policy=policy))


def build_drops(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The sharp drops card for the raw page state."""
    return page.drops_output(q.drops(session, EngagementQuery.from_state(state), scope, policy=policy))


def build_peers(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The peer comparison card for the raw page state."""
    return page.peers_output(q.peers(session, EngagementQuery.from_state(state), scope, policy=policy))


def build_accounts(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The customers-of-the-tier card for the raw page state."""
    return page.accounts_output(q.accounts(session, EngagementQuery.from_state(state), scope, policy=policy))


def build_contacts(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The contacts card for the raw page state (emails and phones masked by the policy)."""
    return page.contacts_output(q.contacts(session, EngagementQuery.from_state(state), scope, policy=policy))


# --- The URL: the controls write it, the page is rebuilt from it ----------------------------


def _tier_value(tier: Any) -> str | None:
    return None if tier in (None, ALL_TIERS) or not isinstance(tier, str) else tier


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(tier=Input(ID.TIER, "value"), account=Input(ID.ACCOUNT, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(tier: Any, account: Any, state: Any) -> Any:
    """A new tier or compared account becomes a new URL (and a history entry)."""
    current = EngagementQuery.from_state(state)
    query = EngagementQuery(_tier_value(tier), account if isinstance(account, str) and account else None)
    now = EngagementQuery(current.tier if current.tier in q.TIERS else None, current.account or None)
    return search_or_wait(query.search if query != now else None)


def compare_clicked_account(cell: Any, state: Any) -> Any:
    """A click on a customer's row (not its chip, nor its name's link) compares it with its peers."""
    if (not isinstance(cell, dict) or cell.get("colId") in (CHIP_COLUMN, "account_name")
            or not isinstance(cell.get("rowId"), str)):
        raise PreventUpdate
    current = EngagementQuery.from_state(state)
    query = EngagementQuery(current.tier if current.tier in q.TIERS else None, cell["rowId"])
    return search_or_wait(query.search if query.account != current.account else None)


# The sharp drops' and the tier's customers: a row compares it with its peers, a chip explains it.
for grid_id in (ID.DROPS_GRID, ID.ACCOUNTS_GRID):
    page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
                  inputs=dict(cell=relayed(grid_id, "cellClicked")), state=dict(state=State(ID.STATE, "data")),
                  prevent_initial_call=True)(compare_clicked_account)
    register_score_explainer(VIEW_SALES, grid_id=grid_id, column=CHIP_COLUMN, score=scores.ENGAGEMENT,
                             modal_id=ID.CHIP_MODAL, body_id=ID.CHIP_BODY, explain=scores.explain)


# --- Panels: one callback each, so they load side by side ----------------------------------


PANELS: dict[str, Callable[..., Any]] = {
    ID.TIERS: build_tiers, ID.DISTRIBUTION: build_distribution, ID.DROPS: build_drops, ID.PEERS: build_peers,
    ID.ACCOUNTS: build_accounts, ID.CONTACTS: build_contacts,
}
UPDATES = register_panels(VIEW_SALES, PANELS, STATE_INPUT)

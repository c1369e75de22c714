"""Strategy wiring: the controls write the URL; the page's state store feeds one strategy query
per panel, whose results the page's layout helpers turn into cards, figures and grids.

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
from dashboard import current_settings
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_EXECUTIVE
from dashboard.queries import scores
from dashboard.queries import strategy as q
from dashboard.queries.strategy import StrategyQuery
from dashboard.scope import DataScope, current_scope
from layouts import executive_strategy as page
from layouts.executive_strategy import StrategyIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_retention(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The retention card for the raw page state."""
    return page.retention_output(q.retention(session, StrategyQuery.from_state(state), scope, policy=policy))


def build_concentration(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The concentration card for the raw page state."""
    return page.concentration_output(q.concentration(session, StrategyQuery.from_state(state), scope, policy=policy))


def build_segments(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy,
                   cost_per_ticket_usd: float) -> dict[str, Any]:
    """The profitability-against-risk and growth cards for the raw page state."""
    result = q.segments(session, StrategyQuery.from_state(state), scope, policy=policy,
                        cost_per_ticket_usd=cost_per_ticket_usd)
    return {"segments": page.segments_output(result), "growth": page.growth_output(result)}


def build_lifetime_value(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The lifetime-value card for the raw page state."""
    query = StrategyQuery.from_state(state)
    return page.lifetime_value_output(q.lifetime_value(session, query, scope, policy=policy),
                                      q.resolve(session, query, scope))


def build_satisfaction(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The satisfaction-and-value card for the raw page state."""
    return page.satisfaction_output(q.satisfaction(session, StrategyQuery.from_state(state), scope, policy=policy))


def build_potential(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The cross-sell and upsell card for the raw page state."""
    return page.potential_output(q.potential(session, StrategyQuery.from_state(state), scope, policy=policy))


def build_churn_drivers(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The why-customers-churn card for the raw page state."""
    return page.churn_drivers_output(q.churn_drivers(session, StrategyQuery.from_state(state), scope, policy=policy))


# --- The URL: the controls write it, the page is rebuilt from it ----------------------------


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(by=Input(ID.BREAKDOWN, "value"), month=Input(ID.MONTH, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(by: Any, month: Any, state: Any) -> Any:
    """A new breakdown or month becomes a new URL (and a history entry)."""
    current = StrategyQuery.from_state(state)
    query = StrategyQuery(by if isinstance(by, str) else current.by, month if isinstance(month, str) else current.month)
    return search_or_wait(query.search if query != current else None)


for grid_id, modal_id, body_id in ((ID.TOP_GRID, ID.CHIP_MODAL, ID.CHIP_BODY),
                                   (ID.POTENTIAL_GRID, ID.POTENTIAL_CHIP_MODAL, ID.POTENTIAL_CHIP_BODY)):
    register_account_opener(VIEW_EXECUTIVE, grid_id=grid_id, location_id=ID.URL, explain_column="churn_risk")
    register_score_explainer(VIEW_EXECUTIVE, grid_id=grid_id, column="churn_risk", score=scores.CHURN,
                             modal_id=modal_id, body_id=body_id, explain=scores.explain)


# --- Panels: one callback each, so they load side by side ----------------------------------


PANELS: dict[str, Callable[..., Any]] = {
    ID.RETENTION: build_retention, ID.CONCENTRATION: build_concentration, ID.LIFETIME_VALUE: build_lifetime_value,
    ID.SATISFACTION: build_satisfaction, ID.POTENTIAL: build_potential, ID.CHURN: build_churn_drivers,
}
UPDATES = register_panels(VIEW_EXECUTIVE, PANELS, STATE_INPUT)


@page_callback(VIEW_EXECUTIVE, output=dict(segments=Output(ID.SEGMENTS, "children"),
                                           growth=Output(ID.GROWTH, "children")), inputs=STATE_INPUT)
def update_segments(state: Any) -> dict[str, Any]:
    """Segments' profitability and growth share one query, so one callback fills both."""
    with db.session() as session:
        return build_segments(session, state, scope=current_scope(), policy=MaskPolicy.for_current_user(),
                              cost_per_ticket_usd=current_settings().support_cost_per_ticket_usd)

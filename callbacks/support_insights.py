"""Operations wiring: the controls write the URL; the page's state store feeds one query per panel,
whose results the page's layout helpers turn into cards, tables and grids.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy, so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_account_opener, register_panels, search_or_wait
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SUPPORT
from dashboard.queries import support_insights as q
from dashboard.queries.support_insights import DEFAULT_DAYS, OperationsQuery
from dashboard.scope import DataScope
from layouts import support_insights as page
from layouts.support_insights import ALL
from layouts.support_insights import OperationsIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_topics(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The recurring-issues card: topics, their trend and masked sample texts."""
    return page.topics_output(q.topics(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_products(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The tickets-per-customer-by-product card."""
    return page.products_output(q.products(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_repeat(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The repeat-issue customers card."""
    return page.repeat_output(q.repeats(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_systemic(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The systemic-issues card."""
    return page.systemic_output(q.systemic(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_satisfaction(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The CSAT by product, region and agent card."""
    return page.satisfaction_output(q.satisfaction(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_sentiment(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The inbound-sentiment trend card."""
    return page.sentiment_output(q.sentiment(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_vip(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The VIP-attention card."""
    return page.vip_output(q.vip(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_onboarding(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The onboarding stages and stuck customers card."""
    return page.onboarding_output(q.onboarding(session, OperationsQuery.from_state(state), scope, policy=policy))


def build_complaints(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The complaints-within-SLA card."""
    return page.complaints_output(q.complaints(session, OperationsQuery.from_state(state), scope, policy=policy))


# --- The URL: the controls write it, the page is rebuilt from it ----------------------------


def _chosen(value: Any, current: Any) -> Any:
    if not isinstance(value, str):
        return current
    return None if value == ALL else value


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(days=Input(ID.DAYS, "value"), region=Input(ID.REGION, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(days: Any, region: Any, state: Any) -> Any:
    """A new period or region becomes a new URL (and a history entry)."""
    current = OperationsQuery.from_state(state)
    chosen_days = _chosen(days, current.days)
    # The default period stays out of the URL, as the page's canonical form leaves it.
    if chosen_days is not None and str(chosen_days) == str(DEFAULT_DAYS):
        chosen_days = None
    query = OperationsQuery(chosen_days, _chosen(region, current.region))
    return search_or_wait(query.search if query != current else None)


for grid_id in (ID.REPEAT_GRID, ID.VIP_GRID, ID.STUCK_GRID):
    register_account_opener(VIEW_SUPPORT, grid_id=grid_id, location_id=ID.URL, explain_column="")


# --- Panels: one callback each, so they load side by side ----------------------------------


PANELS: dict[str, Callable[..., Any]] = {
    ID.TOPICS: build_topics, ID.PRODUCTS: build_products, ID.REPEAT: build_repeat, ID.SYSTEMIC: build_systemic,
    ID.SATISFACTION: build_satisfaction, ID.SENTIMENT: build_sentiment, ID.VIP: build_vip,
    ID.ONBOARDING: build_onboarding, ID.COMPLAINTS: build_complaints}
UPDATES = register_panels(VIEW_SUPPORT, PANELS, STATE_INPUT)

"""Receivables wiring: the page's state store feeds one query per panel, whose results the page's layout
helpers turn into cards and grids; a click on an account row opens its Customer 360 page. The bucket
tiles are links to the page with that bucket, so the URL holds the choice without a callback.

The `build_*` functions take a session, the raw URL state, the scope and the mask policy, so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input
from sqlalchemy.orm import Session

from callbacks.kit import register_account_opener, register_panels
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_BILLING
from dashboard.queries import receivables as q
from dashboard.queries.receivables import ReceivablesQuery
from dashboard.scope import DataScope
from layouts import receivables as page
from layouts.receivables import ReceivablesIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_ageing(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The ageing card: overdue buckets, the invoices of the chosen one, the customers overdue."""
    return page.ageing_output(q.ageing(session, ReceivablesQuery.from_state(state), scope, policy=policy), policy)


def build_receivables(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The receivables by segment and account manager card."""
    return page.receivables_output(q.receivables(session, ReceivablesQuery.from_state(state), scope, policy=policy),
                                   policy)


def build_disputes(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The disputes and adjustments card."""
    return page.disputes_output(q.disputes(session, ReceivablesQuery.from_state(state), scope, policy=policy), policy)


def build_holds(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The credit holds card."""
    return page.holds_output(q.holds(session, ReceivablesQuery.from_state(state), scope, policy=policy), policy)


def build_dso(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The days-sales-outstanding trend card."""
    return page.dso_output(q.dso(session, ReceivablesQuery.from_state(state), scope, policy=policy), policy)


def build_accuracy(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The billing accuracy card: the monthly share of invoices never adjusted, CSAT and churn beside it."""
    return page.accuracy_output(q.accuracy(session, ReceivablesQuery.from_state(state), scope, policy=policy), policy)


def build_collections(session: Session, state: Any, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The collections forecast card: cash expected in the next 30, 60 and 90 days."""
    return page.collections_output(q.collections(session, ReceivablesQuery.from_state(state), scope, policy=policy),
                                   policy)


for grid_id in (ID.OVERDUE_GRID, ID.DISPUTES_GRID, ID.HOLDS_GRID):
    register_account_opener(VIEW_BILLING, grid_id=grid_id, location_id=ID.URL, explain_column="")


PANELS: dict[str, Callable[..., Any]] = {
    ID.AGEING: build_ageing, ID.RECEIVABLES: build_receivables, ID.DISPUTES: build_disputes, ID.HOLDS: build_holds,
    ID.DSO: build_dso, ID.ACCURACY: build_accuracy,
    ID.COLLECTIONS: build_collections}
UPDATES = register_panels(VIEW_BILLING, PANELS, STATE_INPUT)

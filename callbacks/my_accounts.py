"""My accounts wiring: the quick filters write the URL; the page's state store feeds the summary, the
grid (a row opens the account, a score chip explains itself) and the feedback panel.

The `build_*` functions take a session, the state and the caller's scope and policy, so tests call
them directly.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_account_opener, register_score_explainer, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.queries import book as q
from dashboard.queries import scores
from dashboard.scope import DataScope, current_scope
from layouts import my_accounts as page
from layouts.my_accounts import ALL_ACCOUNTS, BOOK_PERMISSION, ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def query_from_controls(view: Any, months: Any, days: Any) -> q.BookQuery:
    """The state the controls ask for; anything invalid falls back to its default."""
    return q.BookQuery.from_args({"view": None if view == ALL_ACCOUNTS else view, "months": months,
                                  "days": days})


def _query(state: Any) -> q.BookQuery:
    return q.BookQuery.from_args(state if isinstance(state, dict) else {})


def build_summary(session: Session, state: Any, scope: DataScope, policy: MaskPolicy) -> Any:
    """The summary strip over the whole book."""
    return page.summary_panel(q.book_summary(session, _query(state), scope, policy), scope)


def build_accounts(session: Session, state: Any, scope: DataScope, policy: MaskPolicy) -> Any:
    """The grid of the state's quick filter."""
    book = q.book_page(session, _query(state), scope, policy)
    return page.accounts_panel(book, q.book_rows(book, policy), scope)


def build_feedback(session: Session, scope: DataScope, policy: MaskPolicy) -> Any:
    return page.feedback_panel(q.book_feedback(session, scope, policy), scope)


@page_callback(BOOK_PERMISSION, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(view=Input(ID.VIEW, "value"), months=Input(ID.MONTHS, "value"),
                           days=Input(ID.DAYS, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_filters_to_url(view: Any, months: Any, days: Any, state: Any) -> Any:
    """A quick filter or window change becomes a new URL (and a history entry)."""
    query = query_from_controls(view, months, days)
    return search_or_wait(None if query == _query(state) else query.search)


# The summary and the grid are separate panels, so they load side by side.
@page_callback(BOOK_PERMISSION, output=Output(ID.SUMMARY, "children"), inputs=STATE_INPUT)
def update_summary(state: Any) -> Any:
    with db.session() as session:
        return build_summary(session, state, current_scope(), MaskPolicy.for_current_user())


@page_callback(BOOK_PERMISSION, output=Output(ID.ACCOUNTS, "children"), inputs=STATE_INPUT)
def update_accounts(state: Any) -> Any:
    with db.session() as session:
        return build_accounts(session, state, current_scope(), MaskPolicy.for_current_user())


@page_callback(BOOK_PERMISSION, output=Output(ID.FEEDBACK, "children"), inputs=STATE_INPUT)
def update_feedback(state: Any) -> Any:
    with db.session() as session:
        return build_feedback(session, current_scope(), MaskPolicy.for_current_user())


register_account_opener(BOOK_PERMISSION, grid_id=ID.GRID, location_id=ID.URL, explain_column="churn_risk")
register_score_explainer(BOOK_PERMISSION, grid_id=ID.GRID, column="churn_risk", score=scores.CHURN,
                         modal_id=ID.CHIP_MODAL, body_id=ID.CHIP_BODY, explain=scores.explain)

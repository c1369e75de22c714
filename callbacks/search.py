"""Account search wiring: suggestions while typing in the navbar, Enter opens /search?q=..., and the
results page's grid (a row opens the account, its churn chip explains itself)."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from callbacks.kit import page_callback, register_account_opener, register_score_explainer
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.queries import scores
from dashboard.queries import search as q
from dashboard.scope import DataScope, current_scope
from layouts import search as page
from layouts.search import ID, SEARCH_PERMISSION


def build_suggestions(session: Session, typed: Any, scope: DataScope, policy: MaskPolicy) -> Any:
    """The navbar's suggestions for what was typed: nothing for an empty box."""
    if q.normalise_query(typed) is None:
        return None
    return page.suggestions(q.search_accounts(session, typed, scope, policy), scope)


def build_results(session: Session, state: Any, scope: DataScope, policy: MaskPolicy) -> Any:
    """The results panel for the page's state ({'q': ..., 'page': ...})."""
    result, grid = q.results_page(session, state if isinstance(state, dict) else {}, scope, policy)
    return page.results_panel(result, grid, scope)


@page_callback(SEARCH_PERMISSION, output=Output(ID.SUGGESTIONS, "children"),
               inputs=dict(typed=Input(ID.INPUT, "value"), _path=Input(ID.LOCATION, "pathname")))
def suggest_accounts(typed: Any, _path: Any) -> Any:
    """Up to ten accounts as the user types (debounced in the browser); none once they navigate."""
    if ctx.triggered_id == ID.LOCATION:
        return None
    with db.session() as session:
        return build_suggestions(session, typed, current_scope(), MaskPolicy.for_current_user())


@page_callback(SEARCH_PERMISSION, output=Output(ID.LOCATION, "href"),
               inputs=dict(submitted=Input(ID.INPUT, "n_submit")), state=dict(typed=State(ID.INPUT, "value")),
               prevent_initial_call=True)
def open_results(submitted: Any, typed: Any) -> str:
    """Enter opens the results page of what was typed."""
    terms = q.normalise_query(typed)
    if not submitted or terms is None:
        raise PreventUpdate
    return page.results_href(terms.text)


@page_callback(SEARCH_PERMISSION, output=Output(ID.RESULTS, "children"), inputs=dict(state=Input(ID.STATE, "data")))
def update_results(state: Any) -> Any:
    """The results grid of the page's query."""
    with db.session() as session:
        return build_results(session, state, current_scope(), MaskPolicy.for_current_user())


register_account_opener(SEARCH_PERMISSION, grid_id=ID.GRID, location_id=ID.URL, explain_column="churn_risk")
register_score_explainer(SEARCH_PERMISSION, grid_id=ID.GRID, column="churn_risk", score=scores.CHURN,
                         modal_id=ID.CHIP_MODAL, body_id=ID.CHIP_BODY, explain=scores.explain)

"""Sales wiring: the quarter control, chart and leaderboard clicks write the URL; the page's state
store feeds the sales queries, whose results the page's layout helpers turn into KPI cards, charts,
the forecast and grids; a click on an opportunity opens its account.

The `build_*` functions take a session and the page's state (what a URL may carry), so unit tests
call them directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Input, Output, State
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback, relayed, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SALES
from dashboard.queries import sales as q
from dashboard.queries.sales import PageQuery
from dashboard.scope import DataScope, current_scope
from layouts import sales as page
from layouts.kit.charts import clicked_label
from layouts.kit.grid import ACCOUNT_PATH
from layouts.sales import SalesIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_kpis(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """Breadcrumb, period label, notes and the headline KPIs for `query`."""
    return page.kpi_outputs(q.page_kpis(session, query, scope, policy=policy), policy)


def build_members(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The drill chart for `query`."""
    return page.members_outputs(q.page_members(session, query, scope, policy=policy), policy)


def build_pipeline(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The funnel, the pipeline by close month and the stale deals for `query`."""
    return page.pipeline_outputs(q.page_pipeline(session, query, scope, policy=policy), policy)


def build_forecast(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The quarter's expected revenue, commit, best case and pipeline, and the bookings forecast for `query`."""
    return page.forecast_outputs(q.page_forecast(session, query, scope, policy=policy), policy)


def build_opportunities(session: Session, query: PageQuery, *, scope: DataScope,
                        policy: MaskPolicy) -> dict[str, Any]:
    """The open opportunities grid for `query`."""
    return page.opportunities_outputs(q.page_opportunities(session, query, scope, policy=policy), policy)


def build_win_loss(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """Win rates and loss reasons for `query`."""
    return page.win_loss_outputs(q.page_win_loss(session, query, scope, policy=policy))


def build_reps(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The reps leaderboard for `query`."""
    return page.reps_outputs(q.page_reps(session, query, scope, policy=policy), policy)


# --- The URL: the quarter and the drill-downs write it, the page is rebuilt from it ------------


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(quarter=Input(ID.QUARTER, "value")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def write_quarter_to_url(quarter: Any, state: Any) -> Any:
    """Another quarter becomes a new URL (and a history entry); the drill stays."""
    query = q.query_from_controls(quarter, PageQuery.from_state(state))
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.MEMBERS_GRAPH, "clickData")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def drill_from_chart(click: Any, state: Any) -> Any:
    """A click on a member's bar goes one level down to it."""
    label = clicked_label(click)
    if label is None:
        raise PreventUpdate
    with db.session() as session:
        query = q.member_drill(session, PageQuery.from_state(state), current_scope(), label)
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_SALES, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(cell=relayed(ID.REPS_GRID, "cellClicked")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def drill_to_rep(cell: Any, state: Any) -> Any:
    """A click on a rep in the leaderboard opens their accounts (the drill at that rep)."""
    if not isinstance(cell, dict):
        raise PreventUpdate
    with db.session() as session:
        query = q.rep_drill(session, PageQuery.from_state(state), current_scope(), cell.get("rowId"))
    return search_or_wait(query.search if query is not None else None)


def _account_path(cell: Any) -> str:
    """The Customer 360 path of a clicked deal's account (the grids' row id is the deal id); nothing
    for a deal outside the user's scope."""
    if not isinstance(cell, dict):
        raise PreventUpdate
    with db.session() as session:
        account = q.account_of_opportunity(session, cell.get("rowId"), current_scope())
    if account is None:
        raise PreventUpdate
    return ACCOUNT_PATH + account


# One callback per grid: Dash runs a callback only when every input of it is on the page, and the
# stale deals grid is not when there are none.
@page_callback(VIEW_SALES, output=Output(ID.URL, "pathname", allow_duplicate=True),
               inputs=dict(cell=relayed(ID.OPPORTUNITIES_GRID, "cellClicked")), prevent_initial_call=True)
def open_opportunity_account(cell: Any) -> Any:
    """A click on an open deal opens its account's Customer 360 page."""
    return _account_path(cell)


@page_callback(VIEW_SALES, output=Output(ID.URL, "pathname", allow_duplicate=True),
               inputs=dict(cell=relayed(ID.STALE_GRID, "cellClicked")), prevent_initial_call=True)
def open_stale_deal_account(cell: Any) -> Any:
    """A click on a stale deal opens its account's Customer 360 page."""
    return _account_path(cell)


# --- Panels --------------------------------------------------------------------------------

# Each build's outputs; one callback per panel, so panels load side by side.
PANEL_OUTPUTS: dict[Callable[..., dict[str, Any]], dict[str, Output]] = {
    build_kpis: dict(breadcrumb=Output(ID.BREADCRUMB_HOLDER, "children"),
                     period_label=Output(ID.PERIOD_LABEL, "children"),
                     filter_note=Output(ID.FILTER_NOTE, "children"), kpis=Output(ID.KPIS, "children")),
    build_members: dict(members=Output(ID.MEMBERS, "children")),
    build_pipeline: dict(funnel=Output(ID.FUNNEL, "children"), close_months=Output(ID.CLOSE_MONTHS, "children"),
                         stale=Output(ID.STALE, "children")),
    build_forecast: dict(forecast=Output(ID.FORECAST, "children")),
    build_opportunities: dict(opportunities=Output(ID.OPPORTUNITIES, "children")),
    build_win_loss: dict(win_loss=Output(ID.WIN_LOSS, "children")),
    build_reps: dict(reps=Output(ID.REPS, "children")),
}


def _register_panel(build: Callable[..., dict[str, Any]], outputs: dict[str, Output]) -> Callable[..., Any]:
    """The callback filling one panel's outputs with `build` for the page's state, scope and mask policy."""
    @page_callback(VIEW_SALES, output=outputs, inputs=STATE_INPUT)
    def update_panel(state: Any) -> dict[str, Any]:
        with db.session() as session:
            return cached_build(build, session, PageQuery.from_state(state), scope=current_scope(),
                                policy=MaskPolicy.for_current_user())

    update_panel.__name__ = f"update_{build.__name__.removeprefix('build_')}"
    return update_panel


UPDATES = {build.__name__.removeprefix("build_"): _register_panel(build, outputs)
           for build, outputs in PANEL_OUTPUTS.items()}

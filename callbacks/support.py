"""Queues wiring: the controls, chart clicks and the agent leaderboard write the URL; the page's state
store feeds the support queries, whose results the page's layout helpers turn into cards, charts and
grids; a click on a case opens its thread in the side panel.

The queue panels refresh every minute: each tick recomputes the queue and redraws it only when its
fingerprint changed, and the period panels follow only when gold was refreshed. The `build_*`
functions take a session and the page's state (what a URL may carry), so unit tests call them
directly with their own session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback, relayed, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_SUPPORT
from dashboard.queries import support as q
from dashboard.queries.support import PageQuery
from dashboard.scope import DataScope, current_scope
from layouts import support as page
from layouts.kit.charts import clicked_label
from layouts.support import ALL
from layouts.support import SupportIds as ID

PANEL_INPUTS = dict(state=Input(ID.STATE, "data"), version=Input(ID.DATA_VERSION, "data"))


def build_queue(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy,
                fingerprint: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The queue's clock, cards and list, and their fingerprint; the cards and the list stay as they are
    (no_update) when the fingerprint is `fingerprint`, only the clock moves."""
    result = q.page_queue(session, query, scope, policy=policy, now=now)
    outputs = page.queue_outputs(result)
    current = result.fingerprint if isinstance(result, q.PageQueue) else None
    if current is not None and current == fingerprint:
        return {"clock": outputs["clock"], "kpis": no_update, "queue": no_update, "fingerprint": no_update}
    return {**outputs, "fingerprint": current}


def build_speed(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.speed_outputs(q.page_speed(session, query, scope, policy=policy))


def build_sla(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.sla_outputs(q.page_sla(session, query, scope, policy=policy))


def build_agents(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.agents_outputs(q.page_agents(session, query, scope, policy=policy))


def build_heatmap(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.heatmap_outputs(q.page_peaks(session, query, scope, policy=policy))


def build_cases(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.cases_outputs(q.page_cases(session, query, scope, policy=policy))


def build_thread(session: Session, row_id: Any, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The side panel for a clicked case, open."""
    title, body = page.thread_body(q.case_thread(session, row_id, scope, policy))
    return {"is_open": True, "title": title, "body": body}


# --- The queue, every minute ---------------------------------------------------------------


@page_callback(VIEW_SUPPORT, output=dict(clock=Output(ID.CLOCK, "children"), kpis=Output(ID.KPIS, "children"),
                                         queue=Output(ID.QUEUE, "children"),
                                         fingerprint=Output(ID.FINGERPRINT, "data"),
                                         version=Output(ID.DATA_VERSION, "data")),
               inputs=dict(tick=Input(ID.TICK, "n_intervals"), state=Input(ID.STATE, "data")),
               state=dict(fingerprint=State(ID.FINGERPRINT, "data"), version=State(ID.DATA_VERSION, "data")))
def refresh_queue(tick: Any, state: Any, fingerprint: Any, version: Any) -> dict[str, Any]:
    """The queue now; the period panels are told to follow only when gold moved since they were drawn."""
    with db.session() as session:
        outputs = build_queue(session, PageQuery.from_state(state), scope=current_scope(),
                              policy=MaskPolicy.for_current_user(),
                              fingerprint=fingerprint if isinstance(fingerprint, str) else None)
        latest = q.data_version(session)
    return {**outputs, "version": no_update if latest == version else latest}


# --- The URL: the controls and the clicks write it, the page is rebuilt from it ------------------


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(period=Input(ID.PERIOD, "value"), channel=Input(ID.CHANNEL, "value"),
                           team=Input(ID.TEAM, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_filters_to_url(period: Any, channel: Any, team: Any, state: Any) -> Any:
    """Another period, channel or team becomes a new URL; the queue and agent stay, a drill goes."""
    current = PageQuery.from_state(state)
    query = PageQuery(period if period in {str(p) for p in q.PERIODS} else current.period,
                      None if channel in (ALL, None) else channel, None if team in (ALL, None) else team,
                      current.queue, current.agent, current.by, None)
    return search_or_wait(query.search)


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(by=Input(ID.SPEED_BY, "value")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def write_speed_dimension(by: Any, state: Any) -> Any:
    current = PageQuery.from_state(state)
    if by not in q.DIMENSIONS or (current.by or "channel") == by:
        raise PreventUpdate
    return search_or_wait(PageQuery(**{**current.as_state(), "by": by, "drill": None}).search)


def _drill(state: Any, kind: str, value: Any) -> Any:
    query = q.drill_to(PageQuery.from_state(state), kind, value)
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.SPEED_GRAPH, "clickData")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def drill_from_speed(click: Any, state: Any) -> Any:
    """A click on a channel's, team's or agent's bar lists their cases of the period."""
    query = PageQuery.from_state(state)
    by = query.by if query.by in q.DIMENSIONS else "channel"
    return _drill(state, by, clicked_label(click))


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.SLA_SEVERITY_GRAPH, "clickData")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def drill_from_sla_severity(click: Any, state: Any) -> Any:
    return _drill(state, "severity", clicked_label(click, "x"))


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.SLA_CHANNEL_GRAPH, "clickData")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def drill_from_sla_channel(click: Any, state: Any) -> Any:
    return _drill(state, "sla_channel", clicked_label(click, "x"))


def heatmap_cell(click: Any) -> str | None:
    """'2-14' (ISO weekday, hour) of a clicked heatmap cell."""
    if not isinstance(click, dict) or not isinstance(click.get("points"), list) or not click["points"]:
        return None
    point = click["points"][0]
    if not isinstance(point, dict) or point.get("y") not in page.WEEKDAYS or not isinstance(point.get("x"), int):
        return None
    return f"{page.WEEKDAYS.index(point['y']) + 1}-{point['x']}"


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.HEATMAP_GRAPH, "clickData")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def drill_from_heatmap(click: Any, state: Any) -> Any:
    """A click on a weekday-hour cell lists the cases opened then."""
    return _drill(state, "cell", heatmap_cell(click))


@page_callback(VIEW_SUPPORT, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(cell=relayed(ID.AGENTS_GRID, "cellClicked")), state=dict(state=State(ID.STATE, "data")),
               prevent_initial_call=True)
def open_agent_queue(cell: Any, state: Any) -> Any:
    """A click on an agent opens their open queue."""
    if not isinstance(cell, dict):
        raise PreventUpdate
    query = q.agent_queue(PageQuery.from_state(state), cell.get("rowId"))
    return search_or_wait(query.search if query is not None else None)


# --- Cases: a click opens the thread ----------------------------------------------------------

THREAD_OUTPUTS = dict(is_open=Output(ID.THREAD, "is_open", allow_duplicate=True),
                      title=Output(ID.THREAD, "title", allow_duplicate=True),
                      body=Output(ID.THREAD_BODY, "children", allow_duplicate=True))


def open_thread(cell: Any) -> dict[str, Any]:
    """The clicked case's side panel; a click on the account's link opens its page instead."""
    if not isinstance(cell, dict) or cell.get("colId") == "account_name":
        raise PreventUpdate
    with db.session() as session:
        return build_thread(session, cell.get("rowId"), scope=current_scope(), policy=MaskPolicy.for_current_user())


def _register_thread_opener(grid_id: str) -> Callable[..., Any]:
    # One callback per grid: Dash runs a callback only when every input of it is on the page.
    @page_callback(VIEW_SUPPORT, output=THREAD_OUTPUTS, inputs=dict(cell=relayed(grid_id, "cellClicked")),
                   prevent_initial_call=True)
    def open_case(cell: Any) -> dict[str, Any]:
        return open_thread(cell)

    open_case.__name__ = f"open_case_from_{grid_id.replace('-', '_')}"
    return open_case


THREAD_OPENERS = {grid_id: _register_thread_opener(grid_id)
                  for grid_id in (ID.QUEUE_GRID, ID.CASES_GRID, ID.BREACHES_GRID)}


# --- Panels --------------------------------------------------------------------------------

PANEL_OUTPUTS: dict[Callable[..., dict[str, Any]], dict[str, Output]] = {
    build_speed: dict(speed=Output(ID.SPEED, "children")),
    build_sla: dict(sla=Output(ID.SLA, "children"), breaches=Output(ID.BREACHES, "children")),
    build_agents: dict(agents=Output(ID.AGENTS, "children")),
    build_heatmap: dict(heatmap=Output(ID.HEATMAP, "children")),
    build_cases: dict(cases=Output(ID.CASES, "children")),
}


def _register_panel(build: Callable[..., dict[str, Any]], outputs: dict[str, Output]) -> Callable[..., Any]:
    """The callback filling one panel with `build` for the page's state, scope and mask policy; it runs
    again when gold was refreshed (the data version the queue's tick keeps)."""
    @page_callback(VIEW_SUPPORT, output=outputs, inputs=PANEL_INPUTS)
    def update_panel(state: Any, version: Any) -> dict[str, Any]:
        with db.session() as session:
            return cached_build(build, session, PageQuery.from_state(state), scope=current_scope(),
                                policy=MaskPolicy.for_current_user())

    update_panel.__name__ = f"update_{build.__name__.removeprefix('build_')}"
    return update_panel


UPDATES = {build.__name__.removeprefix("build_"): _register_panel(build, outputs)
           for build, outputs in PANEL_OUTPUTS.items()}

"""Queues: the support lead's landing page. The queue now (unassigned, unanswered, the oldest waiting
and SLA breaches within the hour, each count opening its list), first response and resolution times
against the previous period, SLA attainment and its breaches, the agent leaderboard and peak hours
against staffing, down to each case and its thread in a side panel.

The URL holds the page's state (`?period=&channel=&team=&queue=&agent=&by=&drill=`): `layout(**query)`
builds the page from it, and the panel helpers below turn the support queries' typed results into
cards, figures and grids. Callbacks (callbacks/support.py) only wire the two together; the queue
panels refresh every minute and redraw only when what they show changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_minutes, format_percent
from dashboard.permissions import EXPORT_DATA, has_permission
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.support import (
    DIMENSIONS,
    PERIODS,
    QUEUE_WORDS,
    WEEKDAYS,
    CaseThread,
    PageAgents,
    PageCases,
    PagePeaks,
    PageQuery,
    PageQueue,
    PageSla,
    PageSpeed,
    ResolvedFilters,
    data_version,
    resolve_page,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit.grid import ACCOUNT_PATH, data_grid
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Queues"
REFRESH_MS = 60_000
ALL = "__all__"  # the controls' "every channel / team" choice (the URL leaves it out)
DIMENSION_WORDS = {"channel": "Channel", "team": "Team", "agent": "Agent"}


class SupportIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "sq-page"
    URL = "sq-url"
    STATE = "sq-state"
    NO_DATA = "sq-no-data"
    TICK = "sq-tick"
    FINGERPRINT = "sq-fingerprint"
    DATA_VERSION = "sq-data-version"
    PERIOD = "sq-period"
    CHANNEL = "sq-channel"
    TEAM = "sq-team"
    NOTES = "sq-notes"
    CLOCK = "sq-clock"
    KPIS = "sq-kpis"
    QUEUE = "sq-queue"
    QUEUE_GRID = "sq-queue-grid"
    SPEED = "sq-speed"
    SPEED_BY = "sq-speed-by"
    SPEED_GRAPH = "sq-speed-graph"
    SLA = "sq-sla"
    SLA_SEVERITY_GRAPH = "sq-sla-severity-graph"
    SLA_CHANNEL_GRAPH = "sq-sla-channel-graph"
    BREACHES = "sq-breaches"
    BREACHES_GRID = "sq-breaches-grid"
    AGENTS = "sq-agents"
    AGENTS_GRID = "sq-agents-grid"
    HEATMAP = "sq-heatmap"
    HEATMAP_GRAPH = "sq-heatmap-graph"
    CASES = "sq-cases"
    CASES_GRID = "sq-cases-grid"
    THREAD = "sq-thread"
    THREAD_BODY = "sq-thread-body"


ID = SupportIds
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}



def _export(grid_name: str, resolved: Any) -> dict[str, Any]:
    """The grid's server export for the view shown, for the roles that may export."""
    if not has_permission(EXPORT_DATA):
        return {}
    return {"export_name": grid_name, "search": resolved.canonical().search}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state("No data yet", gold_empty_detail(status), state_id=ID.NO_DATA)


# --- The page ------------------------------------------------------------------------------


def _select(component_id: str, label: str, options: list[dict[str, str]], value: str) -> html.Div:
    return html.Div([dbc.Label(label, html_for=component_id, className="c360-filter-label"),
                     dcc.Dropdown(id=component_id, options=options, value=value, clearable=False, searchable=False)],
                    className="c360-filter")


def _controls(resolved: ResolvedFilters) -> html.Div:
    f = resolved.filters
    return html.Div([
        _select(ID.PERIOD, "Period", [{"label": f"Last {d} days", "value": str(d)} for d in PERIODS], str(f.days)),
        _select(ID.CHANNEL, "Channel", [{"label": "Every channel", "value": ALL}]
                + [{"label": c, "value": c} for c in resolved.channels], f.channel or ALL),
        _select(ID.TEAM, "Team", [{"label": "Every team", "value": ALL}]
                + [{"label": t, "value": t} for t in resolved.teams], f.team or ALL),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """The queue now and its lists, then speed, SLA, agents and peak hours over the period, built from
    the URL's query arguments within the user's data scope."""
    requested = PageQuery.from_args(query)
    with db.session() as session:
        resolved = resolve_page(session, requested, current_scope(), with_options=True)
        status = gold_status(session) if resolved is None else None
        version = data_version(session) if resolved is not None else None
    subtitle = "Live queues, response and resolution times, SLA, agents and peak hours"
    if resolved is None:
        return html.Div([page_header(TITLE, subtitle), no_data_panel(status)], id=ID.PAGE)
    header = page_header(TITLE, f"{subtitle} \u00b7 data up to {format_day(resolved.filters.as_of)}",
                         controls=_controls(resolved))
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        dcc.Interval(id=ID.TICK, interval=REFRESH_MS),
        dcc.Store(id=ID.FINGERPRINT),
        dcc.Store(id=ID.DATA_VERSION, data=version),
        header,
        html.Div([html.Div(note, className="alert alert-warning py-2 px-3 small mb-2", role="status")
                  for note in resolved.notes], id=ID.NOTES),
        html.Div(id=ID.CLOCK, className="c360-period-label text-muted"),
        loading(ID.KPIS, skeleton("card", 4)),
        dbc.Row(dbc.Col(loading(ID.QUEUE, skeleton("grid", 6), "grid")), className="g-3 my-1"),
        dbc.Row([dbc.Col(loading(ID.SPEED, skeleton("chart", 6), "chart"), lg=6),
                 dbc.Col(loading(ID.SLA, skeleton("chart", 6), "chart"), lg=6)], className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.CASES, html.Div(), "grid")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.HEATMAP, skeleton("chart", 6), "chart")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.AGENTS, skeleton("grid", 6), "grid")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.BREACHES, skeleton("grid", 6), "grid")), className="g-3 mb-4"),
        dbc.Offcanvas(html.Div(id=ID.THREAD_BODY), id=ID.THREAD, title="Case", placement="end", is_open=False,
                      scrollable=True, className="c360-thread", style={"maxWidth": "100vw"}),
    ], id=ID.PAGE, className="c360-support")


def _href(resolved: ResolvedFilters, **changes: Any) -> str:
    return replace(resolved.canonical(), **changes).href


# --- The queue now ---------------------------------------------------------------------------


def _queue_card(resolved: ResolvedFilters, queue: str, title: str, value: str, note: str, tone: str = "") -> dbc.Col:
    active = resolved.filters.queue == queue
    card = dbc.Card(dbc.CardBody([
        html.Div(html.Span(title, className="c360-kpi-title"), className="c360-kpi-header"),
        html.Div(value, className=f"c360-kpi-value {tone}"),
        html.Div(note, className="c360-kpi-subtitle text-muted small"),
    ]), className="c360-kpi-card h-100" + (" border-primary" if active else ""))
    return dbc.Col(dcc.Link(card, href=_href(resolved, queue=queue, drill=None), id=f"{ID.KPIS}-{queue}",
                            className="text-reset text-decoration-none", title=f"List: {QUEUE_WORDS[queue]}"),
                   xs=6, md=4, xl=True)


def clock_label(clock: datetime, taken: datetime | None = None) -> str:
    """'Queue as of 23 Nov 2026 23:59 UTC · refreshed 12:04 UTC, every minute'."""
    taken = taken or datetime.now(UTC)
    return (f"Queue as of {format_day(clock.date())} {clock:%H:%M} UTC \u00b7 numbers taken {taken:%H:%M:%S} UTC, "
            "refreshed every minute")


def queue_outputs(result: PageQueue | GoldStatus, *, taken: datetime | None = None) -> dict[str, Any]:
    """The queue's clock, its five cards and the list behind the chosen one."""
    if isinstance(result, GoldStatus):
        return {"clock": "", "kpis": no_selection_state("No data yet"), "queue": None}
    resolved, s = result.resolved, result.state
    wait = s.oldest_wait_minutes
    cards = dbc.Row([
        _queue_card(resolved, "open", "Open cases", format_count(s.open), "tickets and conversations"),
        _queue_card(resolved, "unassigned", "Unassigned", format_count(s.unassigned), "open, no agent yet"),
        _queue_card(resolved, "unanswered", "Unanswered", format_count(s.unanswered), "waiting for an agent reply"),
        _queue_card(resolved, "oldest", "Oldest waiting", format_minutes(wait) if wait is not None else "none",
                    f"{s.oldest_case.split(':', 1)[1]} \u00b7 {s.oldest_account or 'unknown account'}"
                    if s.oldest_case else "nobody is waiting"),
        _queue_card(resolved, "breaching", "SLA breaching within 1 h", format_count(s.breaching),
                    f"{format_count(s.breached)} breached, still unanswered",
                    "text-danger" if s.breaching or s.breached else ""),
    ], className="g-3 mb-2")
    return {"clock": clock_label(s.clock, taken), "kpis": cards, "queue": queue_panel(result)}


def queue_panel(result: PageQueue) -> dbc.Card:
    resolved, found = result.resolved, result.queue
    f = resolved.filters
    title = QUEUE_WORDS[found.queue]
    if f.agent:
        title += f" \u00b7 {resolved.agent_name}'s queue"
    shown = f" (the {len(found.grid.rows)} waiting longest shown)" if found.total > len(found.grid.rows) else ""
    subtitle = f"{format_count(found.total)} cases{shown}; click a case for its thread, an account for its page"
    extra = None
    if f.agent:
        extra = dcc.Link("Show every agent's cases", href=_href(resolved, agent=None), className="small",
                         id=f"{ID.QUEUE}-all-agents")
    body: Any = no_selection_state(empty_reason(f.scope, "No case in this queue now")) if found.grid.empty \
        else data_grid(ID.QUEUE_GRID, found.grid, row_id_field="row_id", **_export(ID.QUEUE, resolved))
    return chart_card(title, body, subtitle=subtitle, extra=extra, card_id=f"{ID.QUEUE}-card")


# --- Speed -----------------------------------------------------------------------------------


def _change_words(current: float | None, previous: float | None) -> str:
    if current is None or previous is None:
        return "no previous figure"
    delta = current - previous
    arrow = "\u2191" if delta > 0 else "\u2193" if delta < 0 else "="
    return f"{arrow} {format_minutes(abs(delta))} vs {format_minutes(previous)} before"


def _tile(title: str, current: float | None, previous: float | None, tile_id: str) -> dbc.Col:
    return dbc.Col(html.Div([html.Div(title, className="c360-kpi-title"),
                             html.Div(format_minutes(current), className="c360-forecast-value"),
                             html.Div(_change_words(current, previous), className="small text-muted")],
                            className="c360-forecast-figure", id=tile_id), xs=6, md=3)


def speed_figure(rows: pd.DataFrame) -> go.Figure:
    """Median first response per member, now (dark) and in the previous period (light); the category is
    the member's id (what a click carries), the tick its name."""
    ordered = rows.head(15).iloc[::-1]
    fig = theme.figure(barmode="group", margin=dict(l=8, r=56, t=28, b=28), height=max(240, 70 + 40 * len(ordered)),
                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    for column, name, colour in (("frt_median_previous", "Previous period", theme.MUTED),
                                 ("frt_median", "This period", theme.PRIMARY)):
        values = [None if pd.isna(v) else float(v) for v in ordered[column]]
        fig.add_trace(go.Bar(y=ordered["member"].tolist(), x=values, name=name, orientation="h", marker_color=colour,
                             text=[format_minutes(v) for v in values], textposition="outside", cliponaxis=False,
                             textfont=dict(size=10), hovertext=ordered["label"].astype(str).tolist(),
                             hovertemplate=f"%{{hovertext}}: %{{text}}<extra>{name}</extra>"))
    labels = [str(label)[:21] + ("\u2026" if len(str(label)) > 21 else "") for label in ordered["label"]]
    fig.update_yaxes(tickmode="array", tickvals=ordered["member"].tolist(), ticktext=labels, automargin=True)
    fig.update_xaxes(title_text="median first response (min)", rangemode="tozero", nticks=5)
    return fig


def speed_outputs(result: PageSpeed | GoldStatus) -> dict[str, Any]:
    if isinstance(result, GoldStatus):
        return {"speed": no_selection_state("No data yet")}
    f, found = result.resolved.filters, result.speed
    title = f"First response and resolution, last {f.days} days"
    if found.empty:
        return {"speed": chart_card(title, no_selection_state(empty_reason(f.scope, "No case opened in this period")))}
    now, before = found.overall["current"], found.overall["previous"]
    tiles = dbc.Row([
        _tile("First response, median", now["frt_median"], before["frt_median"], f"{ID.SPEED}-frt-median"),
        _tile("First response, p90", now["frt_p90"], before["frt_p90"], f"{ID.SPEED}-frt-p90"),
        _tile("Resolution, median", now["resolution_median"], before["resolution_median"],
              f"{ID.SPEED}-resolution-median"),
        _tile("Resolution, p90", now["resolution_p90"], before["resolution_p90"], f"{ID.SPEED}-resolution-p90"),
    ], className="g-2 mb-2")
    by = dbc.RadioItems(id=ID.SPEED_BY, options=[{"label": DIMENSION_WORDS[d], "value": d} for d in DIMENSIONS],
                        value=found.by, inline=True, className="small mb-1")
    figure = speed_figure(found.rows)
    table_rows = [html.Tr([html.Td(str(r.label)), html.Td(format_count(r.cases), className="text-end"),
                           html.Td(format_minutes(r.frt_median), className="text-end"),
                           html.Td(format_minutes(r.frt_p90), className="text-end"),
                           html.Td(format_minutes(r.resolution_median), className="text-end"),
                           html.Td(format_minutes(r.resolution_p90), className="text-end")])
                  for r in found.rows.head(15).itertuples()]
    table = html.Div(html.Table([html.Thead(html.Tr([html.Th(DIMENSION_WORDS[found.by]), html.Th("Cases"),
                                                     html.Th("FR median"), html.Th("FR p90"), html.Th("Res. median"),
                                                     html.Th("Res. p90")])), html.Tbody(table_rows)],
                                className="table table-sm small mb-0"), className="table-responsive")
    body = html.Div([tiles, by, dcc.Graph(id=ID.SPEED_GRAPH, figure=figure, config=GRAPH_CONFIG, className="c360-graph",
                                          style={"height": f"{int(figure.layout.height)}px"}), table])
    return {"speed": chart_card(title, body, subtitle=f"{format_count(now['cases'])} cases opened, against the "
                                                      f"{f.days} days before; click a bar for its cases")}


# --- SLA -------------------------------------------------------------------------------------


def sla_bar_figure(frame: pd.DataFrame) -> dict[str, Any]:
    # Plain dicts: three validated go.Figure objects took a third of the panel's server time.
    rates = [None if pd.isna(v) else float(v) for v in frame["rate"]]
    bar = {"type": "bar", "x": frame["member"].tolist(), "y": rates, "marker": {"color": theme.PRIMARY},
           "text": [format_percent(v, 0) for v in rates], "textposition": "outside", "cliponaxis": False,
           "customdata": (frame["met"] + frame["breached"]).tolist(),
           "hovertemplate": "%{x}: %{text} of %{customdata} tickets<extra></extra>"}
    return theme.figure_dict([bar], margin=dict(l=8, r=8, t=8, b=28), height=220, showlegend=False,
                             yaxis=dict(tickformat=".0%", range=[0, 1.15], nticks=4))


def sla_trend_figure(weekly: pd.DataFrame) -> dict[str, Any]:
    line = {"type": "scatter", "x": list(weekly["week"]), "y": weekly["rate"].astype(float).tolist(),
            "mode": "lines+markers", "line": {"color": theme.PRIMARY},
            "hovertemplate": "Week of %{x|%d %b}: %{y:.0%}<extra></extra>"}
    return theme.figure_dict([line], margin=dict(l=8, r=8, t=8, b=28), height=200, showlegend=False,
                             yaxis=dict(tickformat=".0%", nticks=4), xaxis=dict(tickformat="%d %b"))


def sla_outputs(result: PageSla | GoldStatus) -> dict[str, Any]:
    if isinstance(result, GoldStatus):
        return {"sla": no_selection_state("No data yet"), "breaches": None}
    f, found = result.resolved.filters, result.sla
    title = f"SLA met, last {f.days} days"
    if found.empty:
        body: Any = no_selection_state(empty_reason(f.scope, "No ticket with an SLA target in this period"))
        return {"sla": chart_card(title, body), "breaches": breaches_panel(result)}
    change = "" if found.previous is None else \
        f" ({(found.current - found.previous) * 100:+.1f} points vs {format_percent(found.previous)} before)"
    headline = html.Div([html.Span(format_percent(found.current), className="c360-kpi-value me-2",
                                   id=f"{ID.SLA}-rate"),
                         html.Span(f"of {format_count(found.met + found.breached)} tickets answered within their "
                                   f"first-response target{change}", className="small text-muted")])
    graphs = dbc.Row([
        dbc.Col([html.Div("By severity", className="small fw-semibold"),
                 dcc.Graph(id=ID.SLA_SEVERITY_GRAPH, figure=sla_bar_figure(found.by_severity), config=GRAPH_CONFIG,
                           className="c360-graph", style={"height": "220px"})], md=6),
        dbc.Col([html.Div("By channel", className="small fw-semibold"),
                 dcc.Graph(id=ID.SLA_CHANNEL_GRAPH, figure=sla_bar_figure(found.by_channel), config=GRAPH_CONFIG,
                           className="c360-graph", style={"height": "220px"})], md=6),
    ], className="g-2")
    trend = html.Div([html.Div("Weekly, this period and the one before", className="small fw-semibold"),
                      dcc.Graph(figure=sla_trend_figure(found.weekly), config=GRAPH_CONFIG, className="c360-graph",
                                style={"height": "200px"})]) if not found.weekly.empty else None
    return {"sla": chart_card(title, html.Div([headline, graphs, trend]),
                              subtitle="Met / (met + breached) first-response targets; click a bar for its tickets"),
            "breaches": breaches_panel(result)}


def breaches_panel(result: PageSla) -> dbc.Card:
    grid = result.breaches
    f = result.resolved.filters
    body: Any = no_selection_state(empty_reason(f.scope, "No SLA breach in this period")) if grid.empty \
        else data_grid(ID.BREACHES_GRID, grid, row_id_field="row_id", **_export(ID.BREACHES, result.resolved))
    more = f" (the newest {len(grid.rows)})" if len(grid.rows) >= 500 else ""
    return chart_card(f"SLA breaches, last {f.days} days", body,
                      subtitle=f"{format_count(result.sla.breached)} tickets{more}; click one for its timeline")


# --- Agents ----------------------------------------------------------------------------------


def agents_outputs(result: PageAgents | GoldStatus) -> dict[str, Any]:
    if isinstance(result, GoldStatus):
        return {"agents": no_selection_state("No data yet")}
    f = result.resolved.filters
    body: Any = no_selection_state(empty_reason(f.scope, "No agent handled a case in this period")) \
        if result.grid.empty else data_grid(ID.AGENTS_GRID, result.grid, row_id_field="agent_id",
                                                      **_export(ID.AGENTS, result.resolved))
    return {"agents": chart_card(f"Agents, last {f.days} days", body,
                                 subtitle="Sort by any column; click an agent for their open queue")}


# --- Peak hours --------------------------------------------------------------------------------


def _matrix(cells: pd.DataFrame, column: str) -> list[list[float | None]]:
    table = cells.pivot(index="weekday", columns="hour", values=column).reindex(index=range(1, 8), columns=range(24))
    return [[None if pd.isna(v) else float(v) for v in row] for row in table.to_numpy()]


def heatmap_figure(cells: pd.DataFrame) -> go.Figure:
    """Cases opened per weekday and hour (left) and cases per staffed agent-hour (right); cells well
    above the median load are ringed."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, subplot_titles=("Cases opened", "Cases per agent at work"),
                        vertical_spacing=0.16, shared_xaxes=True)
    fig.update_layout(margin=dict(l=8, r=8, t=28, b=28), height=520)
    hours = list(range(24))
    staffed = _matrix(cells, "staffed")
    fig.add_trace(go.Heatmap(z=_matrix(cells, "cases"), x=hours, y=list(WEEKDAYS), colorscale="Blues",
                             customdata=staffed, showscale=False, xgap=1, ygap=1,
                             hovertemplate="%{y} %{x}:00 UTC: %{z} cases, %{customdata:.1f} agents at work"
                                           "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=_matrix(cells, "load"), x=hours, y=list(WEEKDAYS), colorscale="Oranges",
                             showscale=False, xgap=1, ygap=1, customdata=staffed,
                             hovertemplate="%{y} %{x}:00 UTC: %{z:.2f} cases per agent-hour "
                                           "(%{customdata:.1f} at work)<extra></extra>"), row=2, col=1)
    hot = cells[cells["overloaded"]]
    if not hot.empty:
        fig.add_trace(go.Scatter(x=hot["hour"].tolist(), y=[WEEKDAYS[w - 1] for w in hot["weekday"]], mode="markers",
                                 marker=dict(symbol="x", size=8, color=theme.OKABE_ITO["vermillion"]),
                                 name="Understaffed", hoverinfo="skip", showlegend=False), row=2, col=1)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(dtick=3, title_text="hour (UTC)", row=2, col=1)
    return fig


def heatmap_outputs(result: PagePeaks | GoldStatus) -> dict[str, Any]:
    if isinstance(result, GoldStatus):
        return {"heatmap": no_selection_state("No data yet")}
    f, peaks = result.resolved.filters, result.peaks
    title = f"Peak hours, last {f.days} days"
    if peaks.empty:
        return {"heatmap": chart_card(title, no_selection_state(empty_reason(f.scope, "No case opened in this "
                                                                                      "period")))}
    hot = int(peaks.cells["overloaded"].sum())
    subtitle = (f"Incoming cases by weekday and hour (UTC) beside the agents at work; {hot} hours marked \u00d7 carry "
                f"over 1.5 times the median load per agent (median {peaks.median_load or 0:.2f}) or have nobody at "
                "work. Click a cell for its cases.")
    figure = heatmap_figure(peaks.cells)
    return {"heatmap": chart_card(title, dcc.Graph(id=ID.HEATMAP_GRAPH, figure=figure, config=GRAPH_CONFIG,
                                                   className="c360-graph", style={"height": "520px"}),
                                  subtitle=subtitle)}


# --- The cases behind a chart cell ----------------------------------------------------------------


def cases_outputs(result: PageCases | GoldStatus) -> dict[str, Any]:
    if isinstance(result, GoldStatus) or result.cases is None:
        return {"cases": None}
    found, resolved = result.cases, result.resolved
    body: Any = no_selection_state(empty_reason(resolved.filters.scope, "No case here")) if found.grid.empty \
        else data_grid(ID.CASES_GRID, found.grid, row_id_field="row_id", **_export(ID.CASES, resolved))
    shown = f" (the newest {len(found.grid.rows)} shown)" if found.total > len(found.grid.rows) else ""
    close = dcc.Link("Close this list", href=_href(resolved, drill=None), className="small", id=f"{ID.CASES}-close")
    return {"cases": chart_card(f"Cases: {found.label}, last {resolved.filters.days} days", body,
                                subtitle=f"{format_count(found.total)} cases{shown}; click one for its thread",
                                extra=close, card_id=f"{ID.CASES}-card")}


# --- The side panel: one case ---------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    return "\u2014" if moment is None else f"{moment.astimezone(UTC):%d %b %Y %H:%M} UTC"


def thread_body(thread: CaseThread | None) -> tuple[str, Any]:
    """The side panel's title and body: the case's timeline, then its messages in order."""
    if thread is None:
        return "Case", html.Div("This case is not in your data scope or no longer exists.", className="text-muted")
    sla_words = "no SLA target" if thread.sla_minutes is None else (
        f"{format_minutes(thread.sla_minutes)} first response, due {_when(thread.sla_due_at)}: "
        + ("met" if thread.sla_met else "breached" if thread.sla_breached else "pending"))
    facts = [("Account", html.A(thread.account_name or thread.account_id, href=ACCOUNT_PATH + thread.account_id)
              if thread.account_id else "Unknown"),
             ("Status", thread.status or "\u2014"), ("Channel", thread.channel),
             ("Severity", thread.severity or "\u2014"), ("Agent", thread.agent_name or "Unassigned"),
             ("Team", thread.team), ("Opened", _when(thread.opened_at)),
             ("First response", _when(thread.first_response_at)), ("Resolved", _when(thread.resolved_at)),
             ("SLA", sla_words), ("CSAT", "\u2014" if thread.csat is None else str(thread.csat))]
    timeline = html.Dl([part for label, value in facts
                        for part in (html.Dt(label, className="col-4 small"), html.Dd(value, className="col-8 small mb-1"))],
                       className="row mb-2")
    body: list = [html.Div(thread.subject or "(no subject)", className="fw-semibold mb-2", id=f"{ID.THREAD}-subject"),
                  timeline]
    if thread.kind == "conversation":
        body.append(html.Div(f"{len(thread.messages)} messages", className="small text-muted mb-1"))
        body.append(html.Div([html.Div([html.Div(f"{m.author} \u00b7 {_when(m.sent_at)}", className="small text-muted"),
                                        html.Div(m.body or "", className="c360-message-body")],
                                       className="c360-message p-2 mb-2 rounded "
                                                 + ("bg-light" if m.inbound else "border border-primary-subtle ms-4"))
                              for m in thread.messages], id=f"{ID.THREAD}-messages"))
    kind = "Ticket" if thread.kind == "ticket" else "Conversation"
    return f"{kind} {thread.case_id}", html.Div(body)

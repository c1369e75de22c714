"""Growth and demographics: how fast contacts and leads grow, where contacts are, and their segments,
for marketing managers and executives.

The URL holds the page's state (`?grain=<day|week|month>&segment=<attribute key>`): `layout(**query)`
builds the page from it,
and the panel helpers below turn the queries' typed results (dashboard/queries/growth.py) into cards,
charts and tables. Callbacks (callbacks/growth.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent
from dashboard.permissions import EXPORT_DATA, has_permission
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.growth import (
    GRAIN_WORDS,
    GRAINS,
    OTHER_VALUES,
    ROLLING,
    SEGMENT_DEFINITIONS,
    TOP_KEYS,
    TOP_VALUES,
    GeographyResult,
    GrowthQuery,
    ResolvedQuery,
    SegmentRow,
    SegmentsResult,
    SeriesSummary,
    VelocityResult,
    attribute_keys,
    chosen_key,
    period_end,
    resolve,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit import kpi
from layouts.kit.grid import data_grid
from layouts.kit.light import static_table
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Growth"
NO_DATA = "No data yet"
# Plotly draws country shapes from a topojson file it would fetch from its CDN: this server serves it
# (Natural Earth 1:110m, as shipped with plotly.js), so the map needs no outside service.
TOPOJSON_URL = "/assets/vendor/topojson/"
GRAIN_LABELS = {"day": "Per day", "week": "Per week", "month": "Per month"}


class GrowthIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "gw-page"
    URL = "gw-url"
    STATE = "gw-state"
    NO_DATA = "gw-no-data"
    GRAIN = "gw-grain"
    NOTE = "gw-note"
    VELOCITY = "gw-velocity"
    VELOCITY_GRAPH = "gw-velocity-graph"
    GEOGRAPHY = "gw-geography"
    MAP = "gw-map"
    COUNTRY_TABLE = "gw-country-table"
    SEGMENT_KEY = "gw-segment-key"
    SEGMENTS = "gw-segments"  # the panel, and the name of its grid's export
    SEGMENT_GRAPH = "gw-segment-graph"
    SEGMENT_GRID = "gw-segment-grid"
    SEGMENT_DEFINITIONS = "gw-segment-definitions"


ID = GrowthIds
PANELS = (ID.VELOCITY, ID.GEOGRAPHY, ID.SEGMENTS)
TITLES = {"velocity": "Growth velocity", "geography": "Contacts by country", "segments": "Segments"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def _controls(resolved: ResolvedQuery, keys: list[tuple[str, int]], key: str | None) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Granularity", html_for=ID.GRAIN, className="c360-filter-label"),
            dcc.Dropdown(id=ID.GRAIN, value=resolved.grain, clearable=False, searchable=False,
                         options=[{"label": GRAIN_LABELS[g], "value": g} for g in GRAINS]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Attribute", html_for=ID.SEGMENT_KEY, className="c360-filter-label"),
            dcc.Dropdown(id=ID.SEGMENT_KEY, value=key, clearable=False, disabled=not keys,
                         placeholder="No attributes yet",
                         options=[{"label": f"{k} ({format_count(n)})", "value": k} for k, n in keys]),
        ], className="c360-filter", title="The custom attribute whose values the Segments panel shows"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then one panel per question, each filled by its own callback from the URL's state."""
    requested = GrowthQuery.from_args(query)
    scope = current_scope()
    with db.session() as session:
        resolved = resolve(session, requested, scope)
        status = gold_status(session) if resolved is None else None
        keys = attribute_keys(session, scope) if resolved is not None else []
    header_text = "New contacts and leads, their growth and trend, where contacts are, and their segments"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)

    def panel(component_id: str, kind: str = "card", **widths: int) -> dbc.Col:
        return dbc.Col(loading(component_id, skeleton(kind, 5), kind), xs=12, className="mb-3", **widths)

    panels = dbc.Row([panel(ID.VELOCITY, "chart"), panel(ID.GEOGRAPHY, "chart"), panel(ID.SEGMENTS, "chart")],
                     className="g-3")
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text, controls=_controls(resolved, keys, chosen_key(requested.segment, keys)[0])),
        html.Div(notes, id=ID.NOTE),
        panels,
    ], id=ID.PAGE, className="c360-growth")


# --- Shared pieces ----------------------------------------------------------------------------------



def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1, table_id: str | None = None) -> Any:
    """A small plain table that scrolls inside its card on a phone, never the page."""
    return static_table(header, rows, numeric=range(numeric_from, len(header)), table_id=table_id,
                        wrap_style={"maxHeight": "360px", "overflowY": "auto"})


def signed_percent(value: float | None) -> str:
    return "\u2014" if value is None else f"{value * 100:+.1f}%"


def signed_count(value: float | None) -> str:
    return "\u2014" if value is None else f"{value:+,.1f}"


def period_label(grain: str, start: Any) -> str:
    if grain == "month":
        return start.strftime("%b %Y")
    if grain == "week":
        return f"week of {format_day(start)}"
    return format_day(start)


# --- 1. Growth velocity -----------------------------------------------------------------------------


def velocity_figure(result: VelocityResult) -> go.Figure:
    grain = result.resolved.grain
    x = [p.isoformat() for p in result.periods]
    fig = theme.figure(margin=dict(l=8, r=8, t=8, b=32), hovermode="x unified")
    colours = {"New contacts": theme.PRIMARY, "New leads": theme.OKABE_ITO["orange"]}
    for series in (result.contacts, result.leads):
        colour = colours[series.label]
        fig.add_trace(go.Bar(x=x, y=list(series.counts), name=series.label, marker_color=colour, opacity=0.55,
                             hovertemplate="%{y:,}"))
        fig.add_trace(go.Scatter(x=x, y=list(series.rolling_mean), name=f"{series.label}, {ROLLING[grain]}-"
                                 f"{GRAIN_WORDS[grain]} mean", mode="lines", line=dict(color=colour, width=2),
                                 hovertemplate="%{y:,.1f}"))
        fig.add_trace(go.Scatter(x=x, y=list(series.trend_line), name=f"{series.label}, trend", mode="lines",
                                 line=dict(color=colour, width=1, dash="dot"), hovertemplate="%{y:,.1f}"))
    fig.update_layout(barmode="group")
    return fig


def _seriesheadlines(series: SeriesSummary, result: VelocityResult) -> list[html.Div]:
    grain = result.resolved.grain
    complete = result.complete_periods
    latest_label = period_label(grain, complete[-1]) if complete else ""
    return [
        kpi.headline(f"{series.label}, latest {GRAIN_WORDS[grain]}", format_count(series.latest), latest_label),
        kpi.headline("Growth rate", signed_percent(series.growth_rate),
                  f"against the {GRAIN_WORDS[grain]} before ({format_count(series.previous)})",
                  title="New records in the latest complete period against the period before, minus one"),
        kpi.headline("Trend", f"{signed_count(series.slope_per_month)} / month",
                  f"per {GRAIN_WORDS[grain]}, least-squares slope",
                  title="How much the number of new records per period changes each month, from the straight "
                        "line fitted through the complete periods shown"),
    ]


def velocity_output(result: VelocityResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    grain = resolved.grain
    if not result.contacts.total and not result.leads.total:
        return chart_card(TITLES["velocity"], no_selection_state(empty_reason(resolved.scope)))
    partial = (f" The last {GRAIN_WORDS[grain]} is partial (to {format_day(resolved.as_of)}, it ends "
               f"{format_day(period_end(grain, result.periods[-1]))}): it is drawn but left out of the growth rate "
               "and the trend." if result.last_is_partial else "")
    body = [
        html.Div([html.Div(_seriesheadlines(result.contacts, result), className="d-flex flex-wrap"),
                  html.Div(_seriesheadlines(result.leads, result), className="d-flex flex-wrap")]),
        dcc.Graph(id=ID.VELOCITY_GRAPH, figure=velocity_figure(result), config={"displayModeBar": False,
                                                                                "responsive": True},
                  style={"height": "320px"}, className="c360-graph"),
        html.Div(f"{format_count(result.contacts.total)} new contacts and {format_count(result.leads.total)} new "
                 f"leads in the {len(result.periods)} {GRAIN_WORDS[grain]}s shown.{partial}",
                 className="small text-muted"),
    ]
    return chart_card(TITLES["velocity"], body,
                      subtitle=f"New contacts (by creation day) and new leads per {GRAIN_WORDS[grain]} to "
                               f"{format_day(resolved.as_of)}, with the {ROLLING[grain]}-{GRAIN_WORDS[grain]} "
                               "rolling mean and the linear trend")


# --- 2. Geography -----------------------------------------------------------------------------------


def geography_figure(result: GeographyResult) -> go.Figure:
    fig = theme.figure(margin=dict(l=0, r=0, t=0, b=0), showlegend=False)
    fig.add_trace(go.Choropleth(
        locations=[r.iso3 for r in result.rows], z=[r.contacts for r in result.rows],
        text=[r.name for r in result.rows], locationmode="ISO-3", colorscale="Blues", marker_line_width=0.5,
        colorbar=dict(title=dict(text="Contacts"), thickness=10, len=0.8),
        hovertemplate="%{text}: %{z:,} contacts<extra></extra>"))
    fig.update_geos(projection_type="natural earth", showcountries=True, countrycolor="#94a3b8",
                    showframe=False, showcoastlines=False, landcolor="#f1f5f9", showland=True)
    return fig


def geography_output(result: GeographyResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.total:
        return chart_card(TITLES["geography"], no_selection_state(empty_reason(resolved.scope)))
    rows = [[r.name, r.iso3, format_count(r.contacts), format_percent(r.contacts / result.total)]
            for r in result.rows]
    if result.unknown:
        rows.append(["Unknown (no valid phone)", "\u2014", format_count(result.unknown),
                     format_percent(result.unknown / result.total)])
    top = result.rows[0] if result.rows else None
    headlines = html.Div([
        kpi.headline("Countries", format_count(len(result.rows)), f"{format_count(result.known)} contacts placed"),
        kpi.headline("Largest", top.name if top else "\u2014",
                  f"{format_count(top.contacts)} contacts ({format_percent(top.contacts / result.total)})"
                  if top else ""),
        kpi.headline("Unknown", format_count(result.unknown), "no phone, or not a valid number"),
    ], className="d-flex flex-wrap")
    body = dbc.Row([
        dbc.Col([headlines,
                 dcc.Graph(id=ID.MAP, figure=geography_figure(result),
                           config={"displayModeBar": False, "responsive": True, "topojsonURL": TOPOJSON_URL},
                           style={"height": "360px"}, className="c360-graph")], xs=12, lg=8),
        dbc.Col(_table(["Country", "ISO-3", "Contacts", "Share"], rows, numeric_from=2, table_id=ID.COUNTRY_TABLE),
                xs=12, lg=4),
    ])
    return chart_card(TITLES["geography"], body,
                      subtitle="Every contact in your data, placed by the country calling code of its phone number "
                               "(only counts are shown, never numbers)")


# --- 3. Segments ------------------------------------------------------------------------------------


def _growth_detail(row: SegmentRow, result: SegmentsResult) -> str:
    return (f"{format_percent(row.share)} of contacts; {format_count(row.new_latest)} new in "
            f"{result.latest_month:%b %Y}, {signed_percent(row.growth)} on {result.previous_month:%b %Y}")


def segments_figure(result: SegmentsResult) -> go.Figure:
    """The shown attribute's values as horizontal bars, the most common on top."""
    rows = list(result.values)[::-1]
    fig = theme.figure(margin=dict(l=8, r=8, t=8, b=32), showlegend=False)
    fig.add_trace(go.Bar(
        y=[r.value for r in rows], x=[r.contacts for r in rows], orientation="h",
        marker_color=[theme.MUTED if r.value == OTHER_VALUES else theme.PRIMARY for r in rows],
        customdata=[[format_percent(r.share), r.new_latest, signed_percent(r.growth)] for r in rows],
        hovertemplate=("%{y}: %{x:,} contacts (%{customdata[0]})<br>%{customdata[1]:,} new in "
                       f"{result.latest_month:%b %Y}, %{{customdata[2]}} on {result.previous_month:%b %Y}"
                       "<extra></extra>")))
    fig.update_yaxes(automargin=True)
    return fig


def _definitions() -> html.Div:
    items = [html.Li([html.Strong(name), f": {text}."]) for name, text in SEGMENT_DEFINITIONS.items()]
    items.append(html.Li([html.Strong("Attributes"), ": the CRM's custom fields of each contact, key = value; of "
                          f"the {TOP_KEYS} keys most contacts have, the {TOP_VALUES} most common values of each, the "
                          f"rest as \u201c{OTHER_VALUES}\u201d. A contact may be in several segments."]))
    return html.Ul(items, id=ID.SEGMENT_DEFINITIONS, className="small text-muted mb-0 mt-2 ps-3")


def segments_output(result: SegmentsResult | GoldStatus) -> Any:
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if not result.total:
        return chart_card(TITLES["segments"], no_selection_state(empty_reason(resolved.scope)))
    headlines = kpi.headlines(*(kpi.headline(row.key, format_count(row.contacts), _growth_detail(row, result),
                                             title=SEGMENT_DEFINITIONS[row.key]) for row in result.segments))
    body: list = [headlines]
    if result.notes:
        body.append(html.Div(" ".join(result.notes), className="alert alert-warning py-2 px-3 small mb-2",
                             role="status"))
    if result.key is None:
        body.append(no_selection_state("No contact in your data has custom attributes yet: they appear here, key "
                                       "by key, as soon as the CRM sends them (the attributes column of its "
                                       "contacts export)."))
    else:
        body.append(html.Div(f"{result.key}: contacts per value", className="small fw-semibold mt-2"))
        body.append(dcc.Graph(id=ID.SEGMENT_GRAPH, figure=segments_figure(result),
                              config={"displayModeBar": False, "responsive": True},
                              style={"height": f"{max(180, 34 * len(result.values) + 60)}px"},
                              className="c360-graph"))
    export = {"export_name": ID.SEGMENTS, "search": result.search} if has_permission(EXPORT_DATA) else {}
    body.append(data_grid(ID.SEGMENT_GRID, result.grid, **export))
    body.append(_definitions())
    return chart_card(TITLES["segments"], body,
                      definition="; ".join(f"{k}: {v}" for k, v in SEGMENT_DEFINITIONS.items()),
                      subtitle=f"Contacts per segment and per value of a custom attribute, their share of your "
                               f"{format_count(result.total)} contacts, and new ones by month of creation")

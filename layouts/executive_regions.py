"""Regional analysis: revenue, customers, win rate and product mix by region, each against the
previous period and the previous year, drilling from regions to a region's territories.

The URL holds the page's state (`?start=&end=&view=&region=`): `layout(**query)` builds the
page from it, and the panel helpers below turn the regions queries' typed results into cards,
figures and a grid. Callbacks (callbacks/executive_regions.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import FORMATTERS, format_count, format_day
from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.queries.regions import (
    MASTER,
    PERIOD_LABELS,
    VIEWS,
    PageComparison,
    PageProductMix,
    PageQuery,
    RegionComparison,
    ResolvedFilters,
    resolve_page,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import (
    chart_card,
    delta_indicator,
    empty_state,
    gold_empty_detail,
    no_selection_state,
    page_header,
)
from layouts.kit.charts import png_filename
from layouts.kit.grid import data_grid
from layouts.kit.page import breadcrumb, url_state
from layouts.kit.states import NOTHING_IN_SCOPE, loading, skeleton

TITLE = "Regional analysis"
PAGE_SLUG = "regional-analysis"
FINANCIALS_HIDDEN = "Hidden: exact revenue figures need the financials permission"
NOTHING_HERE = "No figures for this period in this region"
# Bars per period, oldest first so the selected period is drawn strongest and on top.
PERIOD_COLOURS = {"year": "#e2e8f0", "previous": theme.MUTED, "current": theme.PRIMARY}
# Legend names short enough to fit on one line above a third of the page.
LEGEND_NAMES = {"year": "Year earlier", "previous": "Previous", "current": "This period"}


class RegionIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "rg-page"
    URL = "rg-url"
    STATE = "rg-state"
    NO_DATA = "rg-no-data"
    DATE_RANGE = "rg-date-range"
    VIEW = "rg-view"
    PERIOD_LABEL = "rg-period-label"
    FILTER_NOTE = "rg-filter-note"
    BREADCRUMB_HOLDER = "rg-breadcrumb-holder"
    BREADCRUMB = "rg-breadcrumb"
    REVENUE = "rg-revenue"
    REVENUE_GRAPH = "rg-revenue-graph"
    CUSTOMERS = "rg-customers"
    CUSTOMERS_GRAPH = "rg-customers-graph"
    WIN_RATE = "rg-win-rate"
    WIN_RATE_GRAPH = "rg-win-rate-graph"
    COMPARISON = "rg-comparison"
    COMPARISON_GRID = "rg-comparison-grid"
    PRODUCT_MIX = "rg-product-mix"


ID = RegionIds
# The comparison charts: output name -> (figure column, value format, title, glossary key, graph id).
CHARTS = {
    "revenue": ("invoiced", "usd", "Revenue", "regional_revenue", ID.REVENUE_GRAPH),
    "customers": ("customers", "count", "Customers", "regional_customers", ID.CUSTOMERS_GRAPH),
    "win_rate": ("win_rate", "percent", "Win rate", "regional_win_rate", ID.WIN_RATE_GRAPH),
}
COMPARISON_TITLE = "Regions compared"
PRODUCT_MIX_TITLE = "Product mix"


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    """Shown instead of the page while the gold tables are empty."""
    return empty_state("No data yet", gold_empty_detail(status), state_id=ID.NO_DATA)


# --- The page ------------------------------------------------------------------------------


def _controls(resolved: ResolvedFilters) -> html.Div:
    filters, bounds = resolved.filters, resolved.bounds
    return html.Div([
        html.Div([
            dbc.Label("Period", html_for=ID.DATE_RANGE, className="c360-filter-label"),
            dcc.DatePickerRange(
                id=ID.DATE_RANGE, start_date=filters.start.isoformat(), end_date=filters.end.isoformat(),
                min_date_allowed=bounds.first.isoformat(), max_date_allowed=bounds.last.isoformat(),
                initial_visible_month=filters.end.isoformat(), display_format="D MMM YYYY", first_day_of_week=1,
                minimum_nights=0, clearable=False, className="c360-date-range"),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Count customers as", html_for=ID.VIEW, className="c360-filter-label"),
            dbc.RadioItems(id=ID.VIEW, options=[{"label": label, "value": value} for value, label in VIEWS.items()],
                           value=filters.view, inline=True, className="c360-view-toggle"),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Filters, then revenue, customer and win-rate charts by region, the comparison grid and the
    product mix, built from the URL's query arguments within the user's data scope."""
    requested = PageQuery.from_args(query)
    with db.session() as session:
        scope = current_scope()
        resolved = resolve_page(session, requested, scope)
        status = gold_status(session) if resolved is None else None
    subtitle = "Revenue, customers, win rate and product mix by region"
    if resolved is None:
        return html.Div([page_header(TITLE, subtitle), no_data_panel(status)], id=ID.PAGE)
    header = page_header(TITLE, f"{subtitle} \u00b7 data up to {format_day(resolved.bounds.last)}",
                         controls=_controls(resolved))
    charts = dbc.Row([dbc.Col(loading(card_id, skeleton("chart", 6), "chart"), lg=4)
                      for card_id in (ID.REVENUE, ID.CUSTOMERS, ID.WIN_RATE)], className="g-3 mb-3")
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        header,
        html.Div(id=ID.PERIOD_LABEL, className="c360-period-label text-muted"),
        html.Div(id=ID.FILTER_NOTE, className="c360-filter-note"),
        html.Div(id=ID.BREADCRUMB_HOLDER),
        charts,
        dbc.Row(dbc.Col(loading(ID.COMPARISON, skeleton("grid", 6), "grid")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.PRODUCT_MIX, skeleton("chart", 6), "chart"), lg=7), className="g-3 mb-4"),
    ], id=ID.PAGE, className="c360-regions")


# --- The comparison: charts, grid, labels ---------------------------------------------------


def period_label(resolved: ResolvedFilters) -> str:
    """'1 Jul 2026 – 30 Sep 2026, compared with ... and ... · master accounts'."""
    periods = resolved.filters.periods

    def span(name: str) -> str:
        return f"{format_day(periods[name].start)} \u2013 {format_day(periods[name].end)}"

    return (f"{span('current')}, compared with the previous period {span('previous')} and the previous year "
            f"{span('year')} \u00b7 {VIEWS[resolved.filters.view].lower()}")


def comparison_figure(rows: pd.DataFrame, kind: str, value_format: str) -> go.Figure:
    """One figure per member as horizontal bars, the previous year and previous period behind the
    selected period; members in the rows' order (largest revenue on top)."""
    ordered = rows.iloc[::-1]  # Plotly draws the first category at the bottom
    formatter = FORMATTERS[value_format]
    fig = theme.figure(barmode="group", bargap=0.25, bargroupgap=0.05,
                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, traceorder="reversed",
                                   font=dict(size=11)),
                       margin=dict(l=8, r=48, t=28, b=28), height=max(260, 80 + 46 * len(rows)))
    for name in ("year", "previous", "current"):
        values = [None if pd.isna(v) else float(v) for v in ordered[f"{kind}_{name}"]]
        text = [formatter(v) if v is not None else "n/a" for v in values]
        bar: dict[str, Any] = dict(y=list(ordered["member"]), x=values, name=LEGEND_NAMES[name], orientation="h",
                                   marker_color=PERIOD_COLOURS[name], customdata=text,
                                   hovertemplate=f"%{{y}}: %{{customdata}}<extra>{PERIOD_LABELS[name]}</extra>")
        if name == "current":
            bar.update(text=text, textposition="outside", cliponaxis=False, textfont=dict(size=11),
                       constraintext="none")
        fig.add_trace(go.Bar(**bar))
    axis: dict[str, Any] = dict(rangemode="tozero", showgrid=True, gridcolor="#eef0f3", nticks=5)
    if value_format == "usd":
        axis.update(tickprefix="$", tickformat="~s")
    elif value_format == "percent":
        axis.update(tickformat=".0%", range=[0, 1.15])
    fig.update_xaxes(**axis)
    fig.update_yaxes(showgrid=False, ticksuffix="  ", automargin=True)
    return fig


def _png_name(chart: str, query: PageQuery) -> str:
    return png_filename(PAGE_SLUG, [chart, query.start, query.end, query.view, query.region])


def _change_footer(comparison: RegionComparison, kind: str, value_format: str) -> html.Div:
    """The total's change against the previous period and the previous year."""
    parts = []
    for name, words in (("previous", "vs previous period"), ("year", "vs previous year")):
        current, before = comparison.total(kind, "current"), comparison.total(kind, name)
        delta = None if current is None or before is None else current - before
        if kind == "win_rate":  # a change of a rate is in points, not a percent of a percent
            parts.append(delta_indicator(delta, value_format="percent", comparison=f"points {words}"))
        else:
            parts.append(delta_indicator(delta, percent=comparison.change(kind, name), value_format=value_format,
                                         comparison=words))
    return html.Div(parts, className="c360-regions-changes")


def _total_text(comparison: RegionComparison, kind: str, value_format: str) -> str:
    total = comparison.total(kind, "current")
    return "n/a" if total is None else FORMATTERS[value_format](total)


CHART_SUBTITLES = {
    "revenue": "Invoiced USD in the period",
    "customers": "Active customers on the period's last day",
    "win_rate": "Won / (won + lost) deals closed in the period's months",
}


def _chart_card(name: str, result: PageComparison, state: PageQuery, policy: MaskPolicy) -> dbc.Card:
    kind, value_format, title, key, graph_id = CHARTS[name]
    comparison = result.comparison
    heading = f"{title} in {comparison.filters.region} by territory" if comparison.filters.region \
        else f"{title} by region"
    scope = comparison.filters.scope
    empty = NOTHING_IN_SCOPE if scope.sees_nothing else NOTHING_HERE
    if comparison.empty:
        return chart_card(heading, no_selection_state(empty), definition=definition(key))
    if name == "revenue" and not policy.view_financials:
        band = amount_band(comparison.total("invoiced", "current"))
        return chart_card(heading, no_selection_state(f"Band {band}. {FINANCIALS_HIDDEN}"), definition=definition(key))
    hint = "" if comparison.filters.region else " \u00b7 click a bar for its territories"
    subtitle = f"{CHART_SUBTITLES[name]}: {_total_text(comparison, kind, value_format)}{hint}"
    figure = comparison_figure(comparison.rows, kind, value_format)
    return chart_card(heading, figure, subtitle=subtitle, graph_id=graph_id, definition=definition(key),
                      height=int(figure.layout.height), png_filename=_png_name(name, state),
                      footer=_change_footer(comparison, kind, value_format))


def _notes(result: PageComparison) -> list[str]:
    notes = list(result.resolved.notes)
    if result.resolved.filters.view == MASTER:
        notes.append("Revenue and MRR count in the master account's region; deals stay in the region of the "
                     "regional account that won them.")
    for name in result.comparison.before_data:
        notes.append(f"No comparison with the {PERIOD_LABELS[name].lower()}: it starts before the first day of data.")
    return notes


def comparison_outputs(result: PageComparison | GoldStatus, query: PageQuery, policy: MaskPolicy) -> dict[str, Any]:
    """Period label, notes, breadcrumb, the three charts and the comparison grid."""
    if isinstance(result, GoldStatus):
        nothing = no_selection_state("No data yet")
        return {"period_label": "", "filter_note": no_data_panel(result), "breadcrumb": None,
                **{name: nothing for name in CHARTS}, "comparison": nothing}
    resolved = result.resolved
    state = resolved.canonical()
    notes = _notes(result)
    adjusted = [html.Div(note, className="alert alert-warning py-2 px-3 small mb-2", role="status")
                for note in resolved.notes]
    about = [html.Div(note, className="small text-muted mb-2") for note in notes[len(resolved.notes):]]
    region = resolved.filters.region
    path = [("All regions", state.without_region().href if region else None)]
    if region:
        path.append((region, None))
    outputs: dict[str, Any] = {
        "period_label": period_label(resolved),
        "filter_note": adjusted + about,
        "breadcrumb": breadcrumb(path, ID.BREADCRUMB),
        **{name: _chart_card(name, result, state, policy) for name in CHARTS},
    }
    grid = result.grid
    empty = NOTHING_IN_SCOPE if resolved.filters.scope.sees_nothing else NOTHING_HERE
    body = no_selection_state(empty) if grid.empty else data_grid(
        ID.COMPARISON_GRID, grid, export_name=ID.COMPARISON, search=state.search, row_id_field="member")
    outputs["comparison"] = chart_card(
        COMPARISON_TITLE if not region else f"Territories of {region} compared", body,
        definition=definition("regions_compared"),
        subtitle="Changes are against the previous period and the same period a year earlier"
                 + ("" if policy.view_financials else "; revenue and MRR as bands"))
    return outputs


# --- Product mix ----------------------------------------------------------------------------


def product_mix_figure(rows: pd.DataFrame, members: list[str]) -> go.Figure:
    """Members x product lines, each cell the share of the member's customers holding the line."""
    table = rows.pivot(index="member", columns="product_line", values="share").reindex(members[::-1])
    lines = list(table.columns)
    text = [["" if pd.isna(v) else f"{v:.0%}" for v in row] for row in table.to_numpy()]
    fig = theme.figure(margin=dict(l=8, r=8, t=8, b=8), height=max(240, 70 + 40 * len(members)))
    fig.add_trace(go.Heatmap(
        z=table.to_numpy(), x=lines, y=list(table.index), text=text, texttemplate="%{text}", textfont=dict(size=11),
        colorscale=[[0, "#f1f5f9"], [1, theme.PRIMARY]], zmin=0, zmax=1, showscale=False, xgap=2, ygap=2,
        hovertemplate="%{y}, %{x}: %{text} of customers<extra></extra>"))
    fig.update_xaxes(side="bottom", showgrid=False, tickangle=-35, automargin=True)
    fig.update_yaxes(showgrid=False, ticksuffix=" ", automargin=True)
    return fig


def product_mix_outputs(result: PageProductMix | GoldStatus, query: PageQuery) -> dict[str, Any]:
    """The product mix card."""
    if isinstance(result, GoldStatus):
        return {"product_mix": no_selection_state("No data yet")}
    filters, mix = result.resolved.filters, result.mix
    title = f"{PRODUCT_MIX_TITLE} in {filters.region} by territory" if filters.region else f"{PRODUCT_MIX_TITLE} by region"
    if mix.empty:
        body: Any = no_selection_state(NOTHING_IN_SCOPE if filters.scope.sees_nothing else NOTHING_HERE)
        return {"product_mix": chart_card(title, body, definition=definition("product_mix"))}
    members = list(mix.base["member"])
    figure = product_mix_figure(mix.rows, members)
    customers = format_count(int(mix.base["customers"].sum()))
    return {"product_mix": chart_card(
        title, figure, definition=definition("product_mix"), height=int(figure.layout.height),
        subtitle=f"Share of the {customers} customers with a subscription on {format_day(mix.day)} holding each "
                 "product line", png_filename=_png_name("product-mix", result.resolved.canonical()))}

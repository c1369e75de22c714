"""Strategy: retention, concentration, segments and lifetime value, for the chairman and CEO.

The URL holds the page's state (`?by=region|segment|product_line&month=YYYY-MM`): `layout(**query)`
builds the page from it, and the panel helpers below turn the strategy queries' typed results
(dashboard/queries/strategy.py) into cards, figures and grids. Callbacks
(callbacks/executive_strategy.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent, format_usd
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.queries.strategy import (
    ALL_SEGMENTS,
    BREAKDOWNS,
    TOP_SHARES,
    ChurnDriversResult,
    ConcentrationResult,
    Correlation,
    LifetimeValueResult,
    PotentialResult,
    ResolvedQuery,
    RetentionResult,
    SatisfactionResult,
    SegmentsResult,
    StrategyQuery,
    resolve,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit.charts import png_filename
from layouts.kit.grid import data_grid
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Strategy"
PAGE_SLUG = "strategy"
FINANCIALS_HIDDEN = "Hidden: revenue figures need the financials permission"
NO_DATA = "No data yet"


class StrategyIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "st-page"
    URL = "st-url"
    STATE = "st-state"
    NO_DATA = "st-no-data"
    BREAKDOWN = "st-breakdown"
    MONTH = "st-month"
    NOTE = "st-note"
    RETENTION = "st-retention"
    CONCENTRATION = "st-concentration"
    TOP_GRID = "st-top-grid"
    SEGMENTS = "st-segments"
    GROWTH = "st-growth"
    LIFETIME_VALUE = "st-lifetime-value"
    SATISFACTION = "st-satisfaction"
    SATISFACTION_TREND = "st-satisfaction-trend"
    POTENTIAL = "st-potential"
    CHURN = "st-churn"
    POTENTIAL_GRID = "st-potential-grid"
    POTENTIAL_CHIP_MODAL = "st-potential-chip-modal"
    POTENTIAL_CHIP_BODY = "st-potential-chip-body"
    CHIP_MODAL = "st-chip-modal"
    CHIP_BODY = "st-chip-body"


ID = StrategyIds
TITLES = {"retention": "Retention, trailing 12 months", "concentration": "Revenue concentration",
          "segments": "Profitability against churn risk, by segment", "growth": "Growth by segment",
          "lifetime_value": "Customer lifetime value", "satisfaction": "Satisfaction and value",
          "potential": "Cross-sell and upsell potential", "churn": "Why customers churn"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def _controls(resolved: ResolvedQuery) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Retention by", html_for=ID.BREAKDOWN, className="c360-filter-label"),
            dbc.RadioItems(id=ID.BREAKDOWN, value=resolved.by, inline=True,
                           options=[{"label": label, "value": value} for value, label in BREAKDOWNS.items()]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("12 months to the end of", html_for=ID.MONTH, className="c360-filter-label"),
            dcc.Dropdown(id=ID.MONTH, value=f"{resolved.month:%Y-%m}", clearable=False, searchable=False,
                         options=[{"label": f"{m:%B %Y}", "value": f"{m:%Y-%m}"} for m in resolved.months],
                         className="c360-month-select"),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then the retention, concentration, segment and lifetime-value panels, each
    filled by its own callback from the state the URL holds."""
    requested = StrategyQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = "Retention, value and growth by segment"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)
    panels = dbc.Row([
        dbc.Col(loading(ID.RETENTION, skeleton("chart", 6), "chart"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.CONCENTRATION, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.SEGMENTS, skeleton("chart", 6), "chart"), lg=7, className="mb-3"),
        dbc.Col(loading(ID.GROWTH, skeleton("chart", 6), "chart"), lg=5, className="mb-3"),
        dbc.Col(loading(ID.LIFETIME_VALUE, skeleton("chart", 6), "chart"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.SATISFACTION, skeleton("chart", 6), "chart"), lg=6, className="mb-3"),
        dbc.Col(loading(ID.CHURN, skeleton("chart", 6), "chart"), lg=6, className="mb-3"),
        dbc.Col(loading(ID.POTENTIAL, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
    ], className="g-3")
    chip_modals = [dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Churn risk explained")), dbc.ModalBody(id=body)],
                             id=modal, is_open=False)
                   for modal, body in ((ID.CHIP_MODAL, ID.CHIP_BODY), (ID.POTENTIAL_CHIP_MODAL, ID.POTENTIAL_CHIP_BODY))]
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text, controls=_controls(resolved)),
        html.Div(notes, id=ID.NOTE),
        panels, *chip_modals,
    ], id=ID.PAGE, className="c360-strategy")


def _png(chart: str, resolved: ResolvedQuery) -> str:
    return png_filename(PAGE_SLUG, [chart, resolved.by, f"{resolved.month:%Y-%m}"])


def _percent_or_dash(value: float | None) -> str:
    return "\u2014" if value is None or pd.isna(value) else format_percent(value)


def _headline(label: str, value: str, glossary_key: str, detail: str = "") -> html.Div:
    return html.Div([html.Div(label, className="c360-kpi-title", title=definition(glossary_key)),
                     html.Div(value, className="c360-kpi-value"),
                     html.Div(detail, className="c360-kpi-subtitle text-muted small")],
                    className="c360-strategy-headline me-4 mb-2")


def _empty(resolved: ResolvedQuery | None, message: str | None = None) -> html.Div:
    if resolved is None:
        return no_selection_state(NO_DATA)
    return no_selection_state(empty_reason(resolved.scope, message) if message else empty_reason(resolved.scope))


# --- 1. Retention ----------------------------------------------------------------------


def retention_bars(breakdown: pd.DataFrame, financials: bool) -> go.Figure:
    """Logo retention (and NRR) per member as grouped horizontal bars, largest cohort on top."""
    ordered = breakdown.iloc[::-1]
    fig = theme.figure(barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0,
                                                     traceorder="reversed"),
                       margin=dict(l=8, r=48, t=28, b=28))
    traces = [("logo_retention", "Logo retention", theme.PRIMARY)]
    if financials:
        traces.append(("nrr", "Net revenue retention", theme.OKABE_ITO["orange"]))
    for column, name, colour in traces:
        fig.add_trace(go.Bar(
            y=ordered["member"], x=ordered[column], name=name, orientation="h", marker_color=colour,
            text=[_percent_or_dash(v) for v in ordered[column]], textposition="outside", cliponaxis=False,
            customdata=[[format_count(n)] for n in ordered["start_customers"]],
            hovertemplate="%{y}: %{text} of %{customdata[0]} at the start<extra>" + name + "</extra>"))
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(ticksuffix="  ")
    return fig


def retention_trend(trend: pd.DataFrame, financials: bool) -> go.Figure:
    """The trailing-12-month rates at each month's end, one point per month."""
    fig = theme.figure(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                       margin=dict(l=8, r=16, t=28, b=28))
    labels = [f"{m:%b %Y}" for m in trend["month"]]
    series = [("logo_retention", "Logo retention", theme.PRIMARY)]
    if financials:
        series.append(("nrr", "Net revenue retention", theme.OKABE_ITO["orange"]))
    for column, name, colour in series:
        fig.add_trace(go.Scatter(x=labels, y=trend[column], mode="lines+markers", name=name,
                                 line=dict(color=colour, width=2.5),
                                 hovertemplate="12 months to %{x}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_yaxes(tickformat=".0%")
    return fig


def retention_output(result: RetentionResult | GoldStatus) -> Any:
    """The retention card: headline rates, the breakdown and the monthly trend."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved, overall = result.resolved, result.overall
    by_words = BREAKDOWNS[resolved.by].lower()
    if result.breakdown.empty or result.window_start is None or result.window_end is None:
        return chart_card(TITLES["retention"], _empty(resolved), definition=definition("logo_retention"))
    window = f"{format_day(result.window_start)} \u2013 {format_day(result.window_end)}"
    headlines = [_headline("Logo retention", _percent_or_dash(overall.logo_retention), "logo_retention",
                           f"{format_count(overall.retained_customers)} of {format_count(overall.start_customers)} "
                           "customers kept")]
    if result.financials:
        headlines.append(_headline("Net revenue retention", _percent_or_dash(overall.nrr), "net_revenue_retention",
                                   f"{format_usd(overall.retained_mrr_usd)} MRR now from "
                                   f"{format_usd(overall.start_mrr_usd)} a year before"))
    else:
        headlines.append(_headline("Net revenue retention", "\u2014", "net_revenue_retention", FINANCIALS_HIDDEN))
    body = [
        html.Div(headlines, className="d-flex flex-wrap"),
        dbc.Row([
            dbc.Col([html.Div(f"By {by_words}", className="small fw-semibold"),
                     dcc.Graph(figure=retention_bars(result.breakdown, result.financials),
                               config={"displaylogo": False, "toImageButtonOptions":
                                       {"filename": _png("retention-by", resolved)}},
                               style={"height": f"{max(260, 48 * len(result.breakdown) + 80)}px"},
                               className="c360-graph")], lg=6),
            dbc.Col([html.Div("Trend: each point is the 12 months to that month's end", className="small fw-semibold"),
                     dcc.Graph(figure=retention_trend(result.trend, result.financials),
                               config={"displaylogo": False, "toImageButtonOptions":
                                       {"filename": _png("retention-trend", resolved)}},
                               style={"height": "300px"}, className="c360-graph")], lg=6),
        ], className="g-3"),
    ]
    subtitle = f"{window} \u00b7 customers (master accounts) active at the start of the window"
    if resolved.by == "product_line":
        subtitle += "; by product line a customer counts once per line it held"
    return chart_card(TITLES["retention"], body, subtitle=subtitle, definition=definition("logo_retention"))


# --- 2. Concentration -------------------------------------------------------------------


def concentration_output(result: ConcentrationResult | GoldStatus) -> Any:
    """Top-N shares of current MRR and the largest customers' yearly MRR with their churn risk."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.top.empty:
        return chart_card(TITLES["concentration"], _empty(resolved), definition=definition("revenue_concentration"))
    if result.total_mrr_usd is None:
        shares: Any = html.Div(FINANCIALS_HIDDEN, className="small text-muted mb-2")
    else:
        shares = html.Div([
            _headline(f"Top {n}", _percent_or_dash(result.shares.get(n)), "revenue_concentration",
                      f"of {format_usd(result.total_mrr_usd)} MRR") for n in TOP_SHARES
        ], className="d-flex flex-wrap c360-concentration-shares")
    as_of = format_day(result.as_of) if result.as_of else ""
    same_day = f" on {result.as_of:%d %b}" if result.as_of else ""
    body = [shares,
            html.Div(f"The {len(result.top.rows)} largest customers: MRR{same_day} "
                     "of each year \u00b7 click a row for the customer, a chip for its churn risk",
                     className="small text-muted mb-1"),
            data_grid(ID.TOP_GRID, result.top, export_name=ID.CONCENTRATION, search=resolved.canonical.search,
                      row_id_field="account_id")]
    return chart_card(TITLES["concentration"], body, definition=definition("revenue_concentration"),
                      subtitle=f"Share of current MRR (as of {as_of}) held by the largest customers of "
                               f"{format_count(result.customers)} paying")


# --- 3. Segments ------------------------------------------------------------------------


def segments_scatter(rows: pd.DataFrame) -> go.Figure:
    """Profit margin (y) against average churn risk score (x) per segment; bubble area = MRR."""
    mrr = rows["mrr_usd"].fillna(0)
    largest = float(mrr.max()) if len(mrr) else 0.0
    sizes = [max(12.0, 60.0 * (float(v) / largest) ** 0.5) if largest > 0 else 20.0 for v in mrr]
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=16, t=16, b=40))
    fig.add_trace(go.Scatter(
        x=rows["avg_churn_score"], y=rows["profit_usd"], mode="markers+text", text=rows["segment"],
        textposition="top center", marker=dict(size=sizes, color=theme.PRIMARY, opacity=0.6,
                                               line=dict(color="#ffffff", width=1)),
        customdata=[[format_usd(p), _percent_or_dash(m), format_usd(v), format_count(t)]
                    for p, m, v, t in zip(rows["profit_usd"], rows["profit_margin"], rows["mrr_usd"],
                                          rows["tickets"], strict=True)],
        hovertemplate=("%{text}: profit %{customdata[0]} (margin %{customdata[1]}), churn risk %{x:.0f} of 100,"
                       " MRR %{customdata[2]}, %{customdata[3]} tickets<extra></extra>")))
    fig.update_xaxes(title_text="Average churn risk score (0\u2013100)", rangemode="tozero")
    fig.update_yaxes(title_text="Profit, 12 months", tickprefix="$", tickformat="~s")
    return fig


def segments_output(result: SegmentsResult | GoldStatus) -> Any:
    """The profitability-against-risk scatter, with the figures behind it as a small table."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved, rows = result.resolved, result.rows
    if rows.empty:
        return chart_card(TITLES["segments"], _empty(resolved), definition=definition("segment_profit"))
    table = html.Table([
        html.Thead(html.Tr([html.Th("Segment"), html.Th("Revenue", className="text-end"),
                            html.Th("Tickets", className="text-end"), html.Th("Profit", className="text-end"),
                            html.Th("Churn risk", className="text-end"), html.Th("High risk", className="text-end")])),
        html.Tbody([html.Tr([html.Td(r.segment), html.Td(format_usd(r.invoiced_usd), className="text-end"),
                             html.Td(format_count(r.tickets), className="text-end"),
                             html.Td(format_usd(r.profit_usd), className="text-end"),
                             html.Td("\u2014" if pd.isna(r.avg_churn_score) else f"{r.avg_churn_score:.0f}",
                                     className="text-end"),
                             html.Td(_percent_or_dash(r.high_risk_share), className="text-end")])
                    for r in rows.itertuples(index=False)]),
    ], className="table table-sm small mb-0 c360-segment-table")
    if not result.financials:
        body: Any = [no_selection_state(FINANCIALS_HIDDEN), html.Div(table, className="table-responsive")]
    elif rows["avg_churn_score"].isna().all():
        body = [no_selection_state("The churn model has not scored these customers yet."),
                html.Div(table, className="table-responsive")]
    else:
        body = [dcc.Graph(figure=segments_scatter(rows), style={"height": "320px"}, className="c360-graph",
                          config={"displaylogo": False,
                                  "toImageButtonOptions": {"filename": _png("segments", resolved)}}),
                html.Div(table, className="table-responsive")]
    return chart_card(TITLES["segments"], body, definition=definition("segment_profit"),
                      subtitle=f"Profit = invoiced revenue less {format_usd(result.cost_per_ticket_usd)} support "
                               "cost per ticket, 12 months; bubble size = MRR; churn risk today")


def growth_figure(rows: pd.DataFrame, financials: bool) -> go.Figure:
    """12-month growth per segment in customers (and MRR), fastest first."""
    key = "mrr_growth" if financials else "customer_growth"
    ordered = rows.sort_values(key, ascending=True, na_position="first")
    fig = theme.figure(barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0,
                                                     traceorder="reversed"),
                       margin=dict(l=8, r=48, t=28, b=28))
    series = [("customer_growth", "Customers", theme.PRIMARY)]
    if financials:
        series.append(("mrr_growth", "MRR", theme.OKABE_ITO["green"]))
    for column, name, colour in series:
        fig.add_trace(go.Bar(y=ordered["segment"], x=ordered[column], name=name, orientation="h",
                             marker_color=colour, text=[_percent_or_dash(v) for v in ordered[column]],
                             textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: %{text}<extra>" + name + "</extra>"))
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(ticksuffix="  ")
    return fig


def growth_output(result: SegmentsResult | GoldStatus) -> Any:
    """The fastest-growing segments by MRR and by customer count."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved, rows = result.resolved, result.rows
    if rows.empty:
        return chart_card(TITLES["growth"], _empty(resolved), definition=definition("segment_growth"))
    fastest = rows.sort_values("customer_growth", ascending=False, na_position="last").iloc[0]
    lines = [f"Fastest by customers: {fastest.segment} ({_percent_or_dash(fastest.customer_growth)}, "
             f"{format_count(fastest.customers_year_ago)} \u2192 {format_count(fastest.customers)})"]
    if result.financials:
        by_mrr = rows.sort_values("mrr_growth", ascending=False, na_position="last").iloc[0]
        lines.append(f"Fastest by MRR: {by_mrr.segment} ({_percent_or_dash(by_mrr.mrr_growth)}, "
                     f"{format_usd(by_mrr.mrr_usd_year_ago)} \u2192 {format_usd(by_mrr.mrr_usd)})")
    body = [html.Ul([html.Li(line) for line in lines], className="small mb-1 c360-growth-leaders"),
            dcc.Graph(figure=growth_figure(rows, result.financials), className="c360-graph",
                      style={"height": f"{max(240, 56 * len(rows) + 80)}px"},
                      config={"displaylogo": False, "toImageButtonOptions": {"filename": _png("growth", resolved)}})]
    return chart_card(TITLES["growth"], body, definition=definition("segment_growth"),
                      subtitle="Change over the 12 months: customers and MRR at the window's end vs its start")


# --- 4. Lifetime value --------------------------------------------------------------------


def clv_figure(frame: pd.DataFrame) -> go.Figure:
    ordered = frame.iloc[::-1]
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=56, t=8, b=28))
    fig.add_trace(go.Bar(y=ordered["member"], x=ordered["average_clv_usd"], orientation="h",
                         marker_color=theme.PRIMARY, text=[format_usd(v) for v in ordered["average_clv_usd"]],
                         textposition="outside", cliponaxis=False,
                         customdata=[format_count(n) for n in ordered["customers"]],
                         hovertemplate="%{y}: average %{text} over %{customdata} customers<extra></extra>"))
    fig.update_xaxes(tickprefix="$", tickformat="~s", rangemode="tozero")
    fig.update_yaxes(ticksuffix="  ")
    return fig


def lifetime_value_output(result: LifetimeValueResult | GoldStatus | None, resolved: ResolvedQuery | None) -> Any:
    """Average CLV overall, by region and by product line."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if result is None:
        return chart_card(TITLES["lifetime_value"], no_selection_state(FINANCIALS_HIDDEN),
                          definition=definition("clv_usd"))
    if result.customers == 0:
        return chart_card(TITLES["lifetime_value"],
                          _empty(result.resolved, "No customer lifetime value has been worked out yet."),
                          definition=definition("clv_usd"))
    body = [
        _headline("Average customer", format_usd(result.average_usd), "clv_usd",
                  f"over {format_count(result.customers)} active customers"),
        dbc.Row([
            dbc.Col([html.Div("By region", className="small fw-semibold"),
                     dcc.Graph(figure=clv_figure(result.by_region), className="c360-graph",
                               style={"height": f"{max(220, 40 * len(result.by_region) + 60)}px"},
                               config={"displaylogo": False})], lg=6),
            dbc.Col([html.Div("By product line held", className="small fw-semibold"),
                     dcc.Graph(figure=clv_figure(result.by_product_line), className="c360-graph",
                               style={"height": f"{max(220, 40 * len(result.by_product_line) + 60)}px"},
                               config={"displaylogo": False})], lg=6),
        ], className="g-3"),
    ]
    return chart_card(TITLES["lifetime_value"], body, definition=definition("clv_usd"),
                      subtitle="Revenue to date plus the projected next 36 months, averaged over active customers")


# --- 5. Satisfaction and value ------------------------------------------------------------


def correlation_words(correlation: Correlation) -> str:
    """'r = 0.21 (95 % CI 0.08 to 0.33, n = 212)': never a bare coefficient."""
    interval = correlation.interval
    if correlation.r is None or interval is None:
        return f"not enough customers to tell (n = {format_count(correlation.n)})"
    return (f"r = {correlation.r:.2f} (95 % CI {interval[0]:.2f} to {interval[1]:.2f}, "
            f"n = {format_count(correlation.n)})")


def correlation_figure(correlations: tuple[Correlation, ...]) -> go.Figure:
    """Each correlation as a point with its 95 % interval (a forest plot), zero marked."""
    shown = [c for c in correlations if c.r is not None and c.interval is not None]
    labels = [f"{c.score} vs {c.against.lower()}" for c in shown]
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=16, t=8, b=36))
    fig.add_trace(go.Scatter(
        x=[c.r for c in shown], y=labels, mode="markers", marker=dict(size=10, color=theme.PRIMARY),
        error_x=dict(type="data", symmetric=False, array=[c.interval[1] - c.r for c in shown],  # type: ignore[index]
                     arrayminus=[c.r - c.interval[0] for c in shown], color=theme.PRIMARY),  # type: ignore[index]
        customdata=[correlation_words(c) for c in shown], hovertemplate="%{y}: %{customdata}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#94a3b8", dash="dot"))
    fig.update_xaxes(range=[-1, 1], title_text="Correlation (Pearson r) with its 95 % interval")
    fig.update_yaxes(ticksuffix="  ", autorange="reversed")
    return fig


def satisfaction_trend(trend: pd.DataFrame, financials: bool) -> dict[str, Any]:
    """NPS, CSAT, retention and MRR growth of each trailing 12 months, one panel per figure and one
    line per segment (the whole scope in black); a legend click hides a segment in every panel."""
    panels = [("nps", "NPS score", ".1f"), ("csat", "CSAT", ".2f"), ("retention", "Retention", ".1%")]
    if financials:
        panels.append(("mrr_growth", "MRR growth", ".1%"))
    # Panels stacked top to bottom on one shared month axis, each with its own y axis and title.
    gap, count = 0.07, len(panels)
    height = (1 - gap * (count - 1)) / count
    layout: dict[str, Any] = {"legend": {"orientation": "h", "y": 1.04, "yanchor": "bottom", "x": 0},
                              "margin": {"l": 8, "r": 16, "t": 48, "b": 28}, "annotations": [],
                              "xaxis": {"anchor": f"y{count}", "type": "category"}}
    for index, (_, title, digits) in enumerate(panels):
        top = 1 - index * (height + gap)
        name = "yaxis" if index == 0 else f"yaxis{index + 1}"
        layout[name] = {"domain": [top - height, top], "anchor": "x", "automargin": True,
                        **({"tickformat": ".0%"} if digits.endswith("%") else {})}
        layout["annotations"].append({"text": f"<b>{title}</b>", "x": 0, "xref": "paper", "xanchor": "left",
                                      "y": top, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": 12}})
    traces: list[dict[str, Any]] = []
    segments = [ALL_SEGMENTS, *sorted(set(trend["segment"]) - {ALL_SEGMENTS})]
    for order, segment in enumerate(segments):
        rows = trend[trend["segment"] == segment]
        labels = [f"{m:%b %Y}" for m in rows["month"]]
        colour = "#111827" if segment == ALL_SEGMENTS else theme.PALETTE[(order - 1) % len(theme.PALETTE)]
        for index, (column, title, digits) in enumerate(panels):
            values = [None if pd.isna(v) else float(v) for v in rows[column]]
            traces.append({"type": "scatter", "x": labels, "y": values, "mode": "lines+markers", "name": segment,
                           "legendgroup": segment, "showlegend": index == 0, "xaxis": "x",
                           "yaxis": "y" if index == 0 else f"y{index + 1}", "marker": {"size": 4},
                           "line": {"color": colour, "width": 3 if segment == ALL_SEGMENTS else 1.5},
                           "hovertemplate": f"{segment}, 12 months to %{{x}}: %{{y:{digits}}}<extra>{title}</extra>"})
    return theme.figure_dict(traces, **layout)


def satisfaction_output(result: SatisfactionResult | GoldStatus) -> Any:
    """Satisfaction against retention and MRR growth by segment, and the correlations over customers."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved, rows = result.resolved, result.by_segment
    if rows.empty:
        return chart_card(TITLES["satisfaction"], _empty(resolved), definition=definition("satisfaction_value"))

    def score(value: float, digits: int = 1) -> str:
        return "\u2014" if pd.isna(value) else f"{value:.{digits}f}"

    table = html.Table([
        html.Thead(html.Tr([html.Th("Segment"), html.Th("NPS score", className="text-end"),
                            html.Th("CSAT", className="text-end"), html.Th("Retention", className="text-end"),
                            html.Th("MRR growth", className="text-end")])),
        html.Tbody([html.Tr([
            html.Td(r.segment),
            html.Td(f"{score(r.nps)} ({format_count(r.nps_responses)})", className="text-end text-nowrap"),
            html.Td(f"{score(r.csat, 2)} ({format_count(r.csat_responses)})", className="text-end text-nowrap"),
            html.Td(_percent_or_dash(r.retention), className="text-end"),
            html.Td(_percent_or_dash(r.mrr_growth) if result.financials else "\u2014", className="text-end"),
        ]) for r in rows.itertuples(index=False)]),
    ], className="table table-sm small mb-2 c360-satisfaction-table")
    findings = html.Ul([html.Li([html.Strong(f"{c.score} and {c.against.lower()}: "), correlation_words(c)])
                        for c in result.correlations], className="small mb-1 c360-correlations")
    body: list = [html.Div(table, className="table-responsive"), findings]
    if any(c.r is not None for c in result.correlations):
        body.append(dcc.Graph(figure=correlation_figure(result.correlations), style={"height": "220px"},
                              className="c360-graph", config={"displaylogo": False}))
    if not result.trend.empty:
        panels = 4 if result.financials else 3
        body.append(html.Div("Trend by segment: each point is the 12 months to that month's end",
                             className="small fw-semibold mt-2"))
        body.append(dcc.Graph(figure=satisfaction_trend(result.trend, result.financials),
                              id=ID.SATISFACTION_TREND, className="c360-graph",
                              style={"height": f"{150 * panels + 90}px"},
                              config={"displaylogo": False, "toImageButtonOptions":
                                      {"filename": _png("satisfaction-trend", resolved)}}))
    if not result.financials:
        body.append(html.Div(f"MRR growth: {FINANCIALS_HIDDEN.lower()}", className="small text-muted"))
    window = result.trend[(result.trend["month"] == resolved.month)]["window_end"]
    ending = f" to {format_day(window.iloc[0])}" if not window.empty else ""
    return chart_card(TITLES["satisfaction"], body, definition=definition("satisfaction_value"),
                      subtitle=f"Survey answers of the 12 months{ending} (responses in brackets) against the same "
                               "months' retention and MRR growth; correlations over customers")


# --- 7. Cross-sell and upsell potential ---------------------------------------------------


def potential_output(result: PotentialResult | GoldStatus) -> Any:
    """The accounts with the highest potential, with their expected value; rows open the customer."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.grid.empty:
        return chart_card(TITLES["potential"], _empty(resolved, "No customer has a product gap or an open growth "
                                                                "action."), definition=definition("upsell_potential"))
    total = (f" \u00b7 {format_usd(result.total_expected_usd)} expected in all"
             if result.total_expected_usd is not None else "")
    body = [html.Div(f"{format_count(result.candidates)} customers with potential{total}; the first "
                     f"{len(result.grid.rows)} by expected value \u00b7 click a row for the customer, a chip for "
                     "its churn risk", className="small text-muted mb-1"),
            data_grid(ID.POTENTIAL_GRID, result.grid, export_name=ID.POTENTIAL, search=resolved.canonical.search,
                      row_id_field="account_id")]
    return chart_card(TITLES["potential"], body, definition=definition("upsell_potential"),
                      subtitle="Open growth next-best actions (their estimated revenue) and product gaps against "
                               "peers of the same segment and size")


# --- 6. Why customers churn ----------------------------------------------------------------

# The comparison's rows: label, how to read one side, and the figure's format.
CHURN_COMPARISON = (
    ("Had a price rise", lambda side: _percent_or_dash(side.price_rise_share)),
    ("Tickets per customer", lambda side: "\u2014" if side.tickets_per_customer is None
     else f"{side.tickets_per_customer:.1f}"),
    ("Tickets past their SLA", lambda side: _percent_or_dash(side.sla_breach_rate)),
    ("Ticket CSAT (1\u20135)", lambda side: "\u2014" if side.csat is None else f"{side.csat:.2f}"),
    ("Mentioned a competitor", lambda side: _percent_or_dash(side.competitor_share)),
)


def churn_comparison_figure(result: ChurnDriversResult) -> go.Figure:
    """The shares that can be compared on one scale, churned next to retained."""
    labels = ["Had a price rise", "Tickets past SLA", "Mentioned a competitor"]
    fig = theme.figure(barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                       margin=dict(l=8, r=16, t=28, b=28))
    for name, side, colour in (("Churned", result.churned, theme.OKABE_ITO["vermillion"]),
                               ("Retained", result.retained, theme.PRIMARY)):
        values = [side.price_rise_share, side.sla_breach_rate, side.competitor_share]
        fig.add_trace(go.Bar(x=labels, y=values, name=name, marker_color=colour,
                             text=[_percent_or_dash(v) for v in values], textposition="outside", cliponaxis=False,
                             hovertemplate="%{x}: %{text}<extra>" + name + "</extra>"))
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def churn_drivers_output(result: ChurnDriversResult | GoldStatus) -> Any:
    """Churned against retained customers side by side, and the churn model's common risk factors."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.churned.customers + result.retained.customers == 0 or result.window_start is None:
        return chart_card(TITLES["churn"], _empty(resolved), definition=definition("churn_drivers"))
    churned, retained = result.churned, result.retained
    table = html.Table([
        html.Thead(html.Tr([html.Th(""), html.Th(f"Churned ({format_count(churned.customers)})", className="text-end"),
                            html.Th(f"Retained ({format_count(retained.customers)})", className="text-end")])),
        html.Tbody([html.Tr([html.Td(label), html.Td(read(churned), className="text-end"),
                             html.Td(read(retained), className="text-end")]) for label, read in CHURN_COMPARISON]),
    ], className="table table-sm small mb-2 c360-churn-table")
    body: list = [html.Div(table, className="table-responsive")]
    if churned.customers:
        body.append(dcc.Graph(figure=churn_comparison_figure(result), style={"height": "260px"},
                              className="c360-graph", config={"displaylogo": False}))
    if result.factors.empty:
        body.append(html.Div("No customer is at HIGH churn risk today.", className="small text-muted"))
    else:
        body += [html.Div(f"What the churn model sees in the {format_count(result.high_risk_customers)} customers "
                          "at HIGH risk today:", className="small fw-semibold"),
                 html.Ul([html.Li(f"{row.label}: {format_count(row.customers)} "
                                  f"({_percent_or_dash(row.share)})") for row in result.factors.itertuples()],
                         className="small mb-0 c360-churn-factors")]
    window = f"{format_day(result.window_start)} \u2013 {format_day(result.window_end)}"
    return chart_card(TITLES["churn"], body, definition=definition("churn_drivers"),
                      subtitle=f"Customers active on {format_day(result.window_start)}: those gone by "
                               f"{format_day(result.window_end)} against those kept, over {window}")

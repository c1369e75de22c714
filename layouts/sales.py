"""Sales: the drill region -> territory -> rep -> account with its breadcrumb, headline KPIs against
the previous period, the pipeline (funnel, expected close months, stale deals), the open
opportunities, win and loss, and the reps leaderboard. The sales manager's landing page.

The URL holds the page's state (`?quarter=&region=&territory=&rep=&account=`): `layout(**query)`
builds the page from it, and the panel helpers below turn the sales queries' typed results into
cards, figures and grids. Callbacks (callbacks/sales.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent, format_usd
from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition, term
from dashboard.queries.sales import (
    LEVEL_WORDS,
    OPEN_STAGES,
    STALE_DAYS,
    WON_STAGE,
    PageKpis,
    PageMembers,
    PageOpportunities,
    PagePipeline,
    PageQuery,
    PageReps,
    PageWinLoss,
    ResolvedFilters,
    quarter_label,
    quarter_name,
    resolve_page,
)
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit.charts import png_filename
from layouts.kit.grid import data_grid
from layouts.kit.kpi import kpi_card, kpi_card_empty
from layouts.kit.page import breadcrumb, url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Sales"
PAGE_SLUG = "sales"
FINANCIALS_HIDDEN = "Hidden: exact amounts need the financials permission"
NOTHING_HERE = "No deals in this slice"


class SalesIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "sl-page"
    URL = "sl-url"
    STATE = "sl-state"
    NO_DATA = "sl-no-data"
    QUARTER = "sl-quarter"
    PERIOD_LABEL = "sl-period-label"
    FILTER_NOTE = "sl-filter-note"
    BREADCRUMB_HOLDER = "sl-breadcrumb-holder"
    BREADCRUMB = "sl-breadcrumb"
    KPIS = "sl-kpis"
    MEMBERS = "sl-members"
    MEMBERS_GRAPH = "sl-members-graph"
    FUNNEL = "sl-funnel"
    CLOSE_MONTHS = "sl-close-months"
    STALE = "sl-stale"
    STALE_GRID = "sl-stale-grid"
    OPPORTUNITIES = "sl-opportunities"
    OPPORTUNITIES_GRID = "sl-opportunities-grid"
    WIN_LOSS = "sl-win-loss"
    REPS = "sl-reps"
    REPS_GRID = "sl-reps-grid"


ID = SalesIds
# The headline KPIs in reading order: key, title, whether a rise is good.
KPI_CARDS = (
    ("revenue_quarter", "Closed revenue, quarter", True),
    ("revenue_month", "Closed revenue, month", True),
    ("open_pipeline", "Open pipeline", True),
    ("weighted_pipeline", "Weighted pipeline", True),
    ("win_rate", "Win rate", True),
    ("deal_size", "Average deal size", True),
    ("sales_cycle", "Sales cycle (median days)", False),
    ("quota_attainment", "Quota attainment", True),
)
WIN_LOSS_TITLES = {"territory": "By territory", "rep": "By rep", "product_line": "By product line",
                   "size_band": "By deal size"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    """Shown instead of the page while the gold tables are empty."""
    return empty_state("No data yet", gold_empty_detail(status), state_id=ID.NO_DATA)


# --- The page ------------------------------------------------------------------------------


def _controls(resolved: ResolvedFilters) -> html.Div:
    options = [{"label": quarter_label(q), "value": quarter_name(q)} for q in resolved.quarters]
    return html.Div([
        html.Div([
            dbc.Label("Quarter", html_for=ID.QUARTER, className="c360-filter-label"),
            dcc.Dropdown(id=ID.QUARTER, options=options, value=quarter_name(resolved.filters.quarter),
                         clearable=False, searchable=False, className="c360-quarter-select"),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """The quarter, the breadcrumb, then KPIs, the drill chart, pipeline, opportunities, win and loss
    and reps, built from the URL's query arguments within the user's data scope."""
    requested = PageQuery.from_args(query)
    with db.session() as session:
        resolved = resolve_page(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    subtitle = "Pipeline, forecast of the quarter, win and loss and reps, from region to account"
    if resolved is None:
        return html.Div([page_header(TITLE, subtitle), no_data_panel(status)], id=ID.PAGE)
    header = page_header(TITLE, f"{subtitle} \u00b7 data up to {format_day(resolved.bounds.last)}",
                         controls=_controls(resolved))
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        header,
        html.Div(id=ID.BREADCRUMB_HOLDER),
        html.Div(id=ID.PERIOD_LABEL, className="c360-period-label text-muted"),
        html.Div(id=ID.FILTER_NOTE, className="c360-filter-note"),
        loading(ID.KPIS, skeleton("card", 4)),
        dbc.Row([dbc.Col(loading(ID.MEMBERS, skeleton("chart", 6), "chart"), lg=6),
                 dbc.Col(loading(ID.FUNNEL, skeleton("chart", 6), "chart"), lg=6)], className="g-3 my-1"),
        dbc.Row([dbc.Col(loading(ID.CLOSE_MONTHS, skeleton("chart", 6), "chart"), lg=6),
                 dbc.Col(loading(ID.STALE, skeleton("grid", 6), "grid"), lg=6)], className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.OPPORTUNITIES, skeleton("grid", 6), "grid")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.WIN_LOSS, skeleton("chart", 6), "chart")), className="g-3 mb-3"),
        dbc.Row(dbc.Col(loading(ID.REPS, skeleton("grid", 6), "grid")), className="g-3 mb-4"),
    ], id=ID.PAGE, className="c360-sales")


# --- Header: breadcrumb, period, notes, KPIs --------------------------------------------------


def period_label(resolved: ResolvedFilters) -> str:
    """'Q4 2026 (1 Oct 2026 – 31 Dec 2026) against Q3 2026; month: November 2026 · open pipeline on 23 Nov 2026'."""
    f = resolved.filters
    month = f.month
    return (f"{quarter_label(f.quarter)} ({format_day(f.quarter.start)} \u2013 {format_day(f.quarter.end)}) "
            f"against the quarter before; this month {month.start:%B %Y} against the month before "
            f"\u00b7 open pipeline on {format_day(f.pipeline_day)}")


def breadcrumb_of(resolved: ResolvedFilters) -> dbc.Breadcrumb:
    """Every level chosen; all but the last lead back up."""
    return breadcrumb([(label, None if up is None else up.href) for label, up in resolved.path()], ID.BREADCRUMB)


def _kpi(result: PageKpis, key: str, title: str, up_is_good: bool, policy: MaskPolicy) -> dbc.Card:
    figure = result.kpis[key]
    if figure.value_format == "usd" and not policy.view_financials:
        return kpi_card_empty(key, title, f"Band {amount_band(figure.current) or 'n/a'}. {FINANCIALS_HIDDEN}")
    comparison = "vs previous month" if key == "revenue_month" else "vs previous quarter"
    if key == "open_pipeline":
        comparison = "vs open at the previous quarter's end"
    if figure.value_format == "percent":  # a change of a rate is in points
        return kpi_card(f"{ID.KPIS}-{key}", key, title, figure.current, figure.delta, value_format="percent",
                        up_is_good=up_is_good, comparison=f"points {comparison}")
    return kpi_card(f"{ID.KPIS}-{key}", key, title, figure.current, figure.delta, percent=figure.change,
                    value_format=figure.value_format, up_is_good=up_is_good, comparison=comparison)


def kpi_outputs(result: PageKpis | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """Breadcrumb, period label, notes and the eight KPI cards."""
    if isinstance(result, GoldStatus):
        return {"breadcrumb": None, "period_label": "", "filter_note": no_data_panel(result),
                "kpis": no_selection_state("No data yet")}
    resolved = result.resolved
    notes = [html.Div(note, className="alert alert-warning py-2 px-3 small mb-2", role="status")
             for note in resolved.notes]
    cards = dbc.Row([dbc.Col(_kpi(result, key, title, up, policy), xs=12, sm=6, lg=3)
                     for key, title, up in KPI_CARDS], className="g-3 mb-2")
    return {"breadcrumb": breadcrumb_of(resolved), "period_label": period_label(resolved), "filter_note": notes,
            "kpis": cards}


# --- The drill chart -----------------------------------------------------------------------


def _png_name(chart: str, state: PageQuery) -> str:
    return png_filename(PAGE_SLUG, [chart, state.quarter, state.region, state.territory, state.rep, state.account])


def _short(label: Any, length: int = 22) -> str:
    """A name cut to fit beside a bar on a phone (the hover and the breadcrumb give it whole)."""
    text = str(label)
    return text if len(text) <= length else text[:length - 1] + "\u2026"


def members_figure(rows: pd.DataFrame) -> go.Figure:
    """Closed revenue in the quarter and open pipeline now per member, as horizontal bars; the
    category is the member's id (what a click carries), the tick its name."""
    ordered = rows.iloc[::-1]
    fig = theme.figure(barmode="group", bargap=0.25, legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0),
                       margin=dict(l=8, r=48, t=28, b=28), height=max(260, 80 + 44 * len(rows)))
    for column, name, colour in (("pipeline", "Open pipeline", theme.MUTED), ("revenue", "Closed revenue",
                                                                                theme.PRIMARY)):
        values = ordered[column].astype(float).tolist()
        fig.add_trace(go.Bar(y=ordered["member"].tolist(), x=values, name=name, orientation="h", marker_color=colour,
                             customdata=[format_usd(v) for v in values], text=[format_usd(v) for v in values],
                             textposition="outside", cliponaxis=False, textfont=dict(size=11),
                             hovertext=ordered["label"].astype(str).tolist(),
                             hovertemplate=f"%{{hovertext}}: %{{customdata}}<extra>{name}</extra>"))
    fig.update_yaxes(tickmode="array", tickvals=ordered["member"].tolist(),
                     ticktext=[_short(label) for label in ordered["label"]], showgrid=False, ticksuffix="  ",
                     automargin=True)
    fig.update_xaxes(tickprefix="$", tickformat="~s", rangemode="tozero", nticks=5)
    return fig


def members_outputs(result: PageMembers | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """The drill chart: the level below, by closed revenue and open pipeline."""
    if isinstance(result, GoldStatus):
        return {"members": no_selection_state("No data yet")}
    f, found = result.resolved.filters, result.members
    level = LEVEL_WORDS[found.level].lower()
    title = f"Closed revenue and pipeline by {level}"
    if f.level:
        title += f" in {result.resolved.names.get(getattr(f, f.level), getattr(f, f.level))}"
    if found.empty:
        return {"members": chart_card(title, no_selection_state(empty_reason(f.scope, NOTHING_HERE)),
                                      definition=definition("sales_members"))}
    if not policy.view_financials:
        body = no_selection_state(f"Band {amount_band(found.rows['revenue'].sum())} closed. {FINANCIALS_HIDDEN}")
        return {"members": chart_card(title, body, definition=definition("sales_members"))}
    figure = members_figure(found.rows.head(25))
    hint = "" if found.level == "deal" else f" \u00b7 click a bar for the {level}'s detail"
    more = f" (the top 25 of {len(found.rows)})" if len(found.rows) > 25 else ""
    return {"members": chart_card(
        title, figure, graph_id=ID.MEMBERS_GRAPH, height=int(figure.layout.height),
        definition=definition("sales_members"), png_filename=_png_name("members", result.resolved.canonical()),
        subtitle=f"{quarter_label(f.quarter)}: {format_usd(found.rows['revenue'].sum())} closed, "
                 f"{format_usd(found.rows['pipeline'].sum())} open{more}{hint}")}


# --- Pipeline -------------------------------------------------------------------------------


def funnel_figure(funnel: pd.DataFrame) -> go.Figure:
    """Deals per stage as a funnel, each stage with its conversion from the stage before and the
    median days its open deals have spent in it."""
    labels = []
    for row in funnel.itertuples():
        conversion = "" if pd.isna(row.conversion) else f" \u00b7 {format_percent(row.conversion)} from previous"
        days = "" if pd.isna(row.median_days_in_stage) else f" \u00b7 {row.median_days_in_stage:.0f} d in stage"
        labels.append(f"{format_count(row.deals)} deals{conversion}{days}")
    fig = theme.figure(margin=dict(l=8, r=8, t=8, b=8), height=300, showlegend=False)
    fig.add_trace(go.Funnel(y=funnel["stage"].tolist(), x=funnel["deals"].tolist(), text=labels,
                            textinfo="text", textposition="inside",
                            customdata=[format_usd(v) for v in funnel["amount"]],
                            hovertemplate="%{y}: %{x} deals, %{customdata}<extra></extra>",
                            marker=dict(color=[theme.PRIMARY] * len(OPEN_STAGES) + [theme.OKABE_ITO["green"]])))
    fig.update_yaxes(automargin=True)
    return fig


def close_months_figure(by_month: pd.DataFrame) -> go.Figure:
    """Open pipeline by expected close month: amount and weighted amount."""
    months = [f"{m:%b %Y}" for m in by_month["month"]]
    fig = theme.figure(barmode="overlay", margin=dict(l=8, r=8, t=28, b=40), height=300,
                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    fig.add_trace(go.Bar(x=months, y=by_month["amount"].tolist(), name="Amount", marker_color=theme.MUTED,
                         hovertemplate="%{x}: $%{y:,.0f}<extra>Amount</extra>"))
    fig.add_trace(go.Bar(x=months, y=by_month["weighted"].tolist(), name="Weighted", marker_color=theme.PRIMARY,
                         width=0.45, hovertemplate="%{x}: $%{y:,.0f}<extra>Weighted</extra>"))
    fig.update_yaxes(tickprefix="$", tickformat="~s", nticks=5)
    return fig


def pipeline_outputs(result: PagePipeline | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """The funnel, the pipeline by close month and the stale deals."""
    if isinstance(result, GoldStatus):
        nothing = no_selection_state("No data yet")
        return {"funnel": nothing, "close_months": nothing, "stale": nothing}
    f, found = result.resolved.filters, result.pipeline
    state = result.resolved.canonical()
    empty = no_selection_state(empty_reason(f.scope, NOTHING_HERE))
    if found.empty:
        return {"funnel": chart_card("Pipeline by stage", empty, definition=definition("sales_funnel")),
                "close_months": chart_card("Pipeline by expected close month", empty,
                                           definition=definition("pipeline_by_close_month")),
                "stale": chart_card("Stale deals", empty, definition=definition("stale_deals"))}
    open_deals = found.funnel[found.funnel["stage"] != WON_STAGE]
    funnel = chart_card("Pipeline by stage", funnel_figure(found.funnel), definition=definition("sales_funnel"),
                        png_filename=_png_name("funnel", state),
                        subtitle=f"{format_count(int(open_deals['deals'].sum()))} open deals; Closed Won: won in "
                                 f"{quarter_label(f.quarter)}; conversion over the last year's deals")
    if policy.view_financials:
        months: Any = close_months_figure(found.by_month) if not found.by_month.empty else empty
        months_card = chart_card("Pipeline by expected close month", months,
                                 definition=definition("pipeline_by_close_month"),
                                 png_filename=_png_name("close-months", state),
                                 subtitle="Open deals' amount and weighted amount (x probability) in USD")
    else:
        months_card = chart_card("Pipeline by expected close month", no_selection_state(FINANCIALS_HIDDEN),
                                 definition=definition("pipeline_by_close_month"))
    amount = format_usd(found.stale_amount) if policy.view_financials else amount_band(found.stale_amount)
    body = no_selection_state("No stale deals") if found.stale_rows.empty else data_grid(
        ID.STALE_GRID, found.stale_rows, row_id_field="opportunity_id")
    stale = chart_card("Stale deals", body, definition=definition("stale_deals"),
                       subtitle=f"{format_count(found.stale_count)} open deals ({amount}) past their close date or "
                                f"without a meeting or email for {STALE_DAYS} days; the largest first")
    return {"funnel": funnel, "close_months": months_card, "stale": stale}


# --- Open opportunities ---------------------------------------------------------------------


def opportunities_outputs(result: PageOpportunities | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """The open opportunities grid with its export."""
    if isinstance(result, GoldStatus):
        return {"opportunities": no_selection_state("No data yet")}
    grid, state = result.grid, result.resolved.canonical()
    body = no_selection_state(empty_reason(result.resolved.filters.scope, "No open deals in this slice")) \
        if grid.empty else data_grid(ID.OPPORTUNITIES_GRID, grid, export_name=ID.OPPORTUNITIES, search=state.search,
                                     row_id_field="opportunity_id")
    return {"opportunities": chart_card(
        "Open opportunities", body, definition=definition("open_opportunities"),
        subtitle=f"{format_count(len(grid.rows))} open deals, largest first; click a row to open its account"
                 + ("" if policy.view_financials else "; amounts as bands"))}


# --- Win and loss ------------------------------------------------------------------------------


def win_rate_figure(frame: pd.DataFrame) -> go.Figure:
    """Win rate per member as horizontal bars, with won / closed in the hover."""
    ordered = frame.head(12).iloc[::-1]
    labels = [str(v)[:24] for v in ordered["label"]]
    text = [f"{format_percent(r)} ({w}/{w + lost})" for r, w, lost in
            zip(ordered["win_rate"], ordered["won"], ordered["lost"], strict=True)]
    fig = theme.figure(margin=dict(l=8, r=40, t=8, b=24), height=max(200, 60 + 26 * len(ordered)), showlegend=False)
    fig.add_trace(go.Bar(y=labels, x=ordered["win_rate"].tolist(), orientation="h", marker_color=theme.PRIMARY,
                         text=text, textposition="outside", cliponaxis=False, textfont=dict(size=10),
                         hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1.3], nticks=4)
    fig.update_yaxes(automargin=True)
    return fig


def loss_reasons_figure(reasons: pd.DataFrame) -> go.Figure:
    ordered = reasons.iloc[::-1]
    fig = theme.figure(margin=dict(l=8, r=30, t=8, b=24), height=max(200, 60 + 26 * len(ordered)), showlegend=False)
    fig.add_trace(go.Bar(y=ordered["reason"].tolist(), x=ordered["deals"].tolist(), orientation="h",
                         marker_color=theme.OKABE_ITO["vermillion"], text=ordered["deals"].tolist(),
                         textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x} deals<extra></extra>"))
    fig.update_yaxes(automargin=True)
    return fig


def win_loss_outputs(result: PageWinLoss | GoldStatus) -> dict[str, Any]:
    """Win rate by territory, rep, product line and deal size, and the loss reasons. Counts and
    shares only: nothing to mask."""
    if isinstance(result, GoldStatus):
        return {"win_loss": no_selection_state("No data yet")}
    f, found = result.resolved.filters, result.win_loss
    title = f"Win and loss, {quarter_label(f.quarter)}"
    if found.empty:
        return {"win_loss": chart_card(title, no_selection_state(empty_reason(f.scope, "No deals closed in the "
                                                                                       "quarter here")),
                                       definition=definition("sales_win_loss"))}
    panels = [dbc.Col([html.Div(WIN_LOSS_TITLES[name], className="small fw-semibold"),
                       dcc.Graph(figure=win_rate_figure(frame), config={"displayModeBar": False, "responsive": True},
                                 className="c360-graph")], lg=4, md=6)
              for name, frame in found.by.items() if not frame.empty]
    reasons: Any = no_selection_state("No deal lost in the quarter") if found.loss_reasons.empty else dcc.Graph(
        figure=loss_reasons_figure(found.loss_reasons), config={"displayModeBar": False, "responsive": True},
        className="c360-graph")
    panels.append(dbc.Col([html.Div(term("loss_reasons"), className="small fw-semibold",
                                    title=definition("loss_reasons")), reasons], lg=4, md=6))
    return {"win_loss": chart_card(title, dbc.Row(panels, className="g-2"), definition=definition("sales_win_loss"),
                                   subtitle="Deals closed in the quarter: win rate (won / closed)")}


# --- Reps -----------------------------------------------------------------------------------


def reps_outputs(result: PageReps | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """The reps leaderboard with its export; a click on a rep opens their accounts."""
    if isinstance(result, GoldStatus):
        return {"reps": no_selection_state("No data yet")}
    grid, state = result.grid, result.resolved.canonical()
    body = no_selection_state(empty_reason(result.resolved.filters.scope, "No rep with deals here")) \
        if grid.empty else data_grid(ID.REPS_GRID, grid, export_name=ID.REPS, search=state.search,
                                     row_id_field="user_id")
    return {"reps": chart_card(
        f"Reps, {quarter_label(result.resolved.filters.quarter)}", body, definition=definition("reps_leaderboard"),
        subtitle="By closed revenue; click a rep for their accounts"
                 + ("" if policy.view_financials else "; revenue as bands"))}


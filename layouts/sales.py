"""Sales: the drill region -> territory -> rep -> account with its breadcrumb, headline KPIs against
the previous period, the pipeline (funnel, expected close months, stale deals), the quarter's
forecast, the open opportunities, win and loss, and the reps leaderboard. The sales manager's
landing page.

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
from flask import has_app_context

from dashboard import current_settings
from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent, format_usd
from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition, term
from dashboard.queries.sales import (
    LEVEL_WORDS,
    NO_HISTORY,
    NOT_RUN,
    OPEN_STAGES,
    STALE_DAYS,
    WON_STAGE,
    BookingsForecast,
    PageForecast,
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
from dashboard.settings import JobSchedule
from layouts import theme
from layouts.components import (
    chart_card,
    compact_table,
    empty_state,
    gold_empty_detail,
    no_selection_state,
    page_header,
)
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
    FORECAST = "sl-forecast"
    FORECAST_FIGURES = "sl-forecast-figures"
    FORECAST_GRAPH = "sl-forecast-graph"
    FORECAST_LAST_QUARTER = "sl-forecast-last-quarter"
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
        dbc.Row(dbc.Col(loading(ID.FORECAST, skeleton("chart", 6), "chart")), className="g-3 mb-3"),
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


def funnel_figure(funnel: pd.DataFrame) -> dict[str, Any]:
    """Deals per stage as a funnel, each stage with its conversion from the stage before and the
    median days its open deals have spent in it. A plain figure dict, as the page's other charts with
    few traces: building validated figures was a sixth of the callback."""
    labels = []
    for row in funnel.itertuples():
        conversion = "" if pd.isna(row.conversion) else f" \u00b7 {format_percent(row.conversion)} from previous"
        days = "" if pd.isna(row.median_days_in_stage) else f" \u00b7 {row.median_days_in_stage:.0f} d in stage"
        labels.append(f"{format_count(row.deals)} deals{conversion}{days}")
    trace = {"type": "funnel", "y": funnel["stage"].tolist(), "x": funnel["deals"].tolist(), "text": labels,
             "textinfo": "text", "textposition": "inside", "customdata": [format_usd(v) for v in funnel["amount"]],
             "hovertemplate": "%{y}: %{x} deals, %{customdata}<extra></extra>",
             "marker": {"color": [theme.PRIMARY] * len(OPEN_STAGES) + [theme.OKABE_ITO["green"]]}}
    return theme.figure_dict([trace], margin=dict(l=8, r=8, t=8, b=8), height=300, showlegend=False,
                             yaxis=dict(automargin=True))


def close_months_figure(by_month: pd.DataFrame) -> dict[str, Any]:
    """Open pipeline by expected close month: amount and weighted amount."""
    months = [f"{m:%b %Y}" for m in by_month["month"]]
    traces = [{"type": "bar", "x": months, "y": by_month["amount"].tolist(), "name": "Amount",
               "marker": {"color": theme.MUTED}, "hovertemplate": "%{x}: $%{y:,.0f}<extra>Amount</extra>"},
              {"type": "bar", "x": months, "y": by_month["weighted"].tolist(), "name": "Weighted",
               "marker": {"color": theme.PRIMARY}, "width": 0.45,
               "hovertemplate": "%{x}: $%{y:,.0f}<extra>Weighted</extra>"}]
    return theme.figure_dict(traces, barmode="overlay", margin=dict(l=8, r=8, t=28, b=40), height=300,
                             legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0),
                             yaxis=dict(tickprefix="$", tickformat="~s", nticks=5))


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
        subtitle=(f"{format_count(result.open_deals)} open deals, largest first" if result.open_deals <= len(grid.rows)
                  else f"The largest {format_count(len(grid.rows))} of {format_count(result.open_deals)} open deals "
                       "(the export holds more)")
                 + "; click a row to open its account"
                 + ("" if policy.view_financials else "; amounts as bands"))}


# --- Win and loss ------------------------------------------------------------------------------


def win_rate_figure(frame: pd.DataFrame) -> dict[str, Any]:
    """Win rate per member as horizontal bars, with won / closed in the hover (a plain figure: four of
    them per request, Plotly's validation cost more than the query)."""
    ordered = frame.head(12).iloc[::-1]
    labels = [str(v)[:24] for v in ordered["label"]]
    text = [f"{format_percent(r)} ({w}/{w + lost})" for r, w, lost in
            zip(ordered["win_rate"], ordered["won"], ordered["lost"], strict=True)]
    trace = {"type": "bar", "y": labels, "x": ordered["win_rate"].tolist(), "orientation": "h",
             "marker": {"color": theme.PRIMARY}, "text": text, "textposition": "outside", "cliponaxis": False,
             "textfont": {"size": 10}, "hovertemplate": "%{y}: %{text}<extra></extra>"}
    return theme.figure_dict([trace], margin=dict(l=8, r=40, t=8, b=24), height=max(200, 60 + 26 * len(ordered)),
                             showlegend=False, xaxis={"tickformat": ".0%", "range": [0, 1.3], "nticks": 4},
                             yaxis={"automargin": True})


def loss_reasons_figure(reasons: pd.DataFrame) -> dict[str, Any]:
    ordered = reasons.iloc[::-1]
    trace = {"type": "bar", "y": ordered["reason"].tolist(), "x": ordered["deals"].tolist(), "orientation": "h",
             "marker": {"color": theme.OKABE_ITO["vermillion"]}, "text": ordered["deals"].tolist(),
             "textposition": "outside", "cliponaxis": False, "hovertemplate": "%{y}: %{x} deals<extra></extra>"}
    return theme.figure_dict([trace], margin=dict(l=8, r=30, t=8, b=24), height=max(200, 60 + 26 * len(ordered)),
                             showlegend=False, yaxis={"automargin": True})


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



# --- Forecast --------------------------------------------------------------------------------

# The quarter's figures in reading order: glossary key, title, the outlook's attribute.
FORECAST_FIGURES = (
    ("expected_revenue", "Expected revenue", "expected"),
    ("closed_won_quarter", "Closed won", "closed_won"),
    ("weighted_open_quarter", "Weighted open", "weighted_open"),
    ("forecast_commit", "Commit", "commit"),
    ("forecast_best_case", "Best case", "best_case"),
    ("forecast_pipeline", "Pipeline", "pipeline"),
)
MODEL_WORDS = {
    "naive": "a naive forecast (the last month repeated)",
    "seasonal_naive": "a seasonal naive forecast (the same month last year)",
    "median(ses, theta, ets_AAdN, drift)": "the median of four models (exponential smoothing, Theta, a damped "
                                           "trend and a drift)",
    "mean(median, seasonal_naive)": "the median of four models averaged with the same month last year",
    "ets_AAdN": "exponential smoothing with a damped trend",
    "drift": "the average monthly change carried forward",
    # Names of the earlier model set, still in gold until the next nightly run.
    "ets_ANN": "exponential smoothing",
    "ets_ANA": "exponential smoothing with seasonality",
    "ets_AAdA": "exponential smoothing with a damped trend and seasonality",
    "theta": "the Theta method",
    "sarima": "a seasonal ARIMA",
}
FALLBACK_SUFFIX = " (fallback: every model backtested worse)"
LOG_SUFFIX = " on the log scale"


def _forecasts_hour() -> int:
    """The hour (UTC) the nightly forecasts job runs at, from the app's settings."""
    return current_settings().schedule.forecasts_hour if has_app_context() else JobSchedule().forecasts_hour


def model_words(name: str | None, mase: float | None) -> str:
    """'Exponential smoothing, chosen by backtest: its errors on held-out months were 18 % smaller than a
    naive forecast's typical error (MASE 0.82).'"""
    base = (name or "").removesuffix(LOG_SUFFIX).removesuffix(FALLBACK_SUFFIX)
    model = MODEL_WORDS.get(base, base or "an unnamed model")
    if (name or "").endswith(LOG_SUFFIX):
        model += ", fitted to the logarithm (growth in percent)"
    if (name or "").endswith(FALLBACK_SUFFIX):
        model += ", since every model did worse on the backtest"
    model = model[0].upper() + model[1:]
    if mase is None or pd.isna(mase):
        return f"{model}; too little history to backtest it."
    if mase < 1:
        return (f"{model}, chosen by backtest: its errors on held-out months were {format_percent(1 - mase, 0)} "
                f"smaller than a naive forecast's typical error (MASE {mase:.2f}).")
    return (f"{model}, chosen by backtest: its errors on held-out months were {mase:.1f} times a naive "
            f"forecast's typical error (MASE {mase:.2f}): bookings are lumpy here, so read the bands more than "
            "the line.")


def _money(value: float | None, policy: MaskPolicy) -> str:
    return format_usd(value) if policy.view_financials else (amount_band(value) or "n/a")


def _figure_tile(key: str, title: str, value: str, note: str | None = None) -> dbc.Col:
    body = [html.Div(title, className="c360-kpi-title", title=definition(key)),
            html.Div(value, className="c360-forecast-value")]
    if note:
        body.append(html.Div(note, className="small text-muted"))
    return dbc.Col(html.Div(body, className="c360-forecast-figure", id=f"{ID.FORECAST_FIGURES}-{key}"),
                   xs=6, md=4, xl=True)


def forecast_figures(result: PageForecast, policy: MaskPolicy) -> dbc.Row:
    """Expected revenue, closed won, weighted open, commit, best case, pipeline and the quota."""
    outlook = result.outlook
    tiles = [_figure_tile(key, title, _money(getattr(outlook, attribute), policy))
             for key, title, attribute in FORECAST_FIGURES]
    if outlook.quota is not None:
        tiles.append(_figure_tile("forecast_quota", "Quota", _money(outlook.quota, policy),
                                  f"expected {format_percent(outlook.expected_vs_quota, 0)} of it"))
    return dbc.Row(tiles, className="g-2 mb-2", id=ID.FORECAST_FIGURES)


def bookings_figure(bookings: BookingsForecast) -> go.Figure:
    """Monthly won bookings (bars) and the forecast continuing them as a dashed line inside its 95 % and
    80 % bands."""
    actuals, ahead = bookings.actuals, bookings.forecast
    fig = theme.figure(margin=dict(l=8, r=8, t=28, b=32), height=300,
                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    fig.add_trace(go.Bar(x=list(actuals["month"]), y=actuals["actual"].astype(float).tolist(), name="Booked",
                         marker_color=theme.MUTED, customdata=[format_usd(v) for v in actuals["actual"]],
                         hovertemplate="%{x|%b %Y}: %{customdata}<extra>Booked</extra>"))
    if not ahead.empty:
        months = list(ahead["month"])
        for level, opacity in (("95", 0.12), ("80", 0.24)):
            lower, upper = ahead[f"lower{level}"].astype(float).tolist(), ahead[f"upper{level}"].astype(float).tolist()
            fig.add_trace(go.Scatter(x=months + months[::-1], y=upper + lower[::-1], fill="toself", mode="lines",
                                     line=dict(width=0), fillcolor=f"rgba(0,114,178,{opacity})",
                                     name=f"{level} % band", hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=months, y=ahead["mean"].astype(float).tolist(), mode="lines+markers", name="Forecast",
            line=dict(color=theme.PRIMARY, width=2, dash="dash"), marker=dict(size=7),
            customdata=[[format_usd(m), f"{format_usd(lo80)}\u2013{format_usd(hi80)}",
                         f"{format_usd(lo95)}\u2013{format_usd(hi95)}"]
                        for m, lo80, hi80, lo95, hi95 in ahead[["mean", "lower80", "upper80", "lower95", "upper95"]]
                        .itertuples(index=False)],
            hovertemplate=("%{x|%b %Y}: %{customdata[0]}<br>80 %: %{customdata[1]}<br>95 %: %{customdata[2]}"
                           "<extra>Forecast</extra>")))
    fig.update_xaxes(tickformat="%b<br>%Y", dtick="M2")
    fig.update_yaxes(tickprefix="$", tickformat="~s", rangemode="tozero", nticks=5)
    return fig


def _inside(flag: object) -> str:
    return "\u2014" if flag is None or pd.isna(flag) else ("yes" if flag else "no")


def last_quarter_table(bookings: BookingsForecast, policy: MaskPolicy) -> html.Div:
    """Last quarter's months: what was forecast before it began against what was booked, and whether the
    bookings fell inside the 80 % and 95 % bands; the quarter's totals last."""
    rows = bookings.last_quarter_rows
    title = html.Div(f"Last quarter, {quarter_label(bookings.last_quarter)}: forecast vs actual"
                     if bookings.last_quarter else "Last quarter: forecast vs actual", className="small fw-semibold",
                     title=definition("forecast_last_quarter"))
    if rows.empty:
        return html.Div([title, no_selection_state("No forecast was made for last quarter: too little history "
                                                   "before it.")], id=ID.FORECAST_LAST_QUARTER)
    body = [[f"{month:%b %Y}", _money(mean, policy), _money(actual, policy) if actual is not None and not pd.isna(actual)
             else "not over", _inside(in80), _inside(in95)]
            for month, mean, actual, in80, in95 in rows[["month", "mean", "actual", "in80", "in95"]]
            .itertuples(index=False)]
    forecast_total, actual_total = bookings.last_quarter_totals
    error = ""
    if actual_total is not None and forecast_total:
        miss = (actual_total - forecast_total) / forecast_total
        error = f" {format_percent(abs(miss), 0)} {'above' if miss >= 0 else 'below'} the forecast"
    footer = ["Quarter", _money(forecast_total, policy),
              _money(actual_total, policy) if actual_total is not None else "not over", "", ""]
    hits = int(rows["in80"].eq(True).sum()), int(rows["in95"].eq(True).sum())
    summary = html.Div(f"Booked{error or ' so far'}; {hits[0]} of {len(rows)} months inside the 80 % band, "
                       f"{hits[1]} inside the 95 % band.", className="small text-muted mt-1")
    return html.Div([title, compact_table(["Month", "Forecast", "Actual", "In 80 %", "In 95 %"], body,
                                          numeric=(1, 2), footer=footer), summary], id=ID.FORECAST_LAST_QUARTER)


def _bookings_part(result: PageForecast, policy: MaskPolicy) -> list:
    """The statistical forecast's chart, model and last quarter's comparison, or why there is none."""
    bookings = result.bookings
    if bookings == NOT_RUN:
        return [no_selection_state(f"Forecast not run yet: the forecasts job runs nightly at "
                                   f"{_forecasts_hour():02d}:00 UTC.")]
    if bookings == NO_HISTORY:
        return [no_selection_state("No bookings forecast here: no deal was won in this slice in the history the "
                                   "forecast reads (the last four complete years).")]
    if not isinstance(bookings, BookingsForecast):
        return [no_selection_state("The bookings forecast is kept for the company, each region and each territory: "
                                   "your data scope does not hold all of this one.")]
    whose = f"{'Territory ' if bookings.dimension == 'territory' else ''}{bookings.member}"
    heading = f"Monthly won bookings, {whose}: the next {len(bookings.forecast)} months"
    if bookings.for_territory:
        heading += " (a rep's or an account's monthly bookings are too few to forecast: this is their territory's)"
    chart: Any = no_selection_state(FINANCIALS_HIDDEN) if not policy.view_financials else dcc.Graph(
        id=ID.FORECAST_GRAPH, figure=bookings_figure(bookings), className="c360-graph",
        config={"displayModeBar": False, "responsive": True}, style={"height": "300px"})
    model = html.Div(f"{model_words(bookings.model_name, bookings.backtest_mase)} Forecast made "
                     f"{format_day(bookings.generated_at.date())}.", className="small text-muted mt-1")
    return [dbc.Row([dbc.Col([html.Div(heading, className="small fw-semibold", title=definition("bookings_forecast")),
                              chart, model], lg=7),
                     dbc.Col(last_quarter_table(bookings, policy), lg=5)], className="g-3")]


def forecast_outputs(result: PageForecast | GoldStatus, policy: MaskPolicy) -> dict[str, Any]:
    """The quarter's expected revenue, commit, best case and pipeline against the quota, and the bookings
    forecast with last quarter's forecast against its actuals."""
    if isinstance(result, GoldStatus):
        return {"forecast": no_selection_state("No data yet")}
    f, outlook = result.resolved.filters, result.outlook
    title = f"Forecast, {quarter_label(f.quarter)}"
    if result.empty:
        return {"forecast": chart_card(title, no_selection_state(empty_reason(f.scope, NOTHING_HERE)),
                                       definition=definition("sales_forecast"))}
    if outlook.quarter_over:
        subtitle = "The quarter is over: its revenue is what closed"
    else:
        subtitle = (f"Closed won plus the weighted open deals closing by {format_day(f.quarter.end)} "
                    f"({format_count(outlook.open_deals)} deals, {format_count(outlook.overdue_deals)} past their "
                    "close date)")
    if not policy.view_financials:
        subtitle += "; amounts as bands"
    body = [forecast_figures(result, policy), *_bookings_part(result, policy)]
    return {"forecast": chart_card(title, html.Div(body), definition=definition("sales_forecast"),
                                   subtitle=subtitle, card_id=f"{ID.FORECAST}-card")}

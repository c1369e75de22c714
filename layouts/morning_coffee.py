"""Morning Coffee: the executive overview of customers, leads, support, campaigns and MRR.

The URL holds the page's state (`?start=&end=&region=&drill=`): `layout(**query)` builds the
page from it, and the panel helpers below turn the executive queries' typed results into
cards, figures and grids. Callbacks (callbacks/morning_coffee.py) only wire the two together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_day_short, format_usd
from dashboard.masking import MaskPolicy, amount_band
from dashboard.queries.executive import (
    KPI_GOLD_TABLES,
    DateBounds,
    PageCharts,
    PageKpis,
    PageQuery,
    PageTables,
    ResolvedFilters,
    data_date_bounds,
    regions,
    resolve_page,
)
from dashboard.queries.executive_outlook import (
    CHURN,
    HEALTH,
    NOT_SCORED,
    Headline,
    MrrForecast,
    MrrMovement,
    PageRisk,
    segment_label,
)
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.queries.grid import GridRows
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import (
    NO_SELECTION_MESSAGE,
    chart_card,
    delta_indicator,
    empty_state,
    gold_empty_detail,
    no_selection_state,
    page_header,
)
from layouts.kit.charts import mrr_waterfall_figure, png_filename
from layouts.kit.grid import data_grid
from layouts.kit.kpi import kpi_card, kpi_card_empty
from layouts.kit.page import breadcrumb, url_state
from layouts.kit.provenance import lineage_body
from layouts.kit.states import NOTHING_IN_SCOPE, loading, skeleton
from models.kpi import rag_for_lower_is_better

TITLE = "Morning Coffee"
PAGE_SLUG = "morning-coffee"
FINANCIALS_HIDDEN = "Hidden: exact revenue figures need the financials permission"
NOT_IN_SCOPE = "Not shown: this figure is company-wide and your view is limited to your territories"


class MorningCoffeeIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "mc-page"
    URL = "mc-url"
    STATE = "mc-state"
    NO_DATA = "mc-no-data"
    DATE_RANGE = "mc-date-range"
    REGIONS = "mc-regions"
    PERIOD_LABEL = "mc-period-label"
    FILTER_NOTE = "mc-filter-note"
    KPI_CUSTOMERS = "mc-kpi-customers"
    KPI_CONTACTS = "mc-kpi-contacts"
    KPI_LEADS = "mc-kpi-leads"
    KPI_EFFICIENCY = "mc-kpi-efficiency"
    KPI_MRR = "mc-kpi-mrr"
    MRR_TREND = "mc-mrr-trend"
    REVENUE_BY_REGION = "mc-revenue-by-region"
    REVENUE_GRAPH = "mc-revenue-graph"
    REVENUE_BREADCRUMB = "mc-revenue-breadcrumb"
    REVENUE_ACCOUNTS_GRID = "mc-revenue-accounts-grid"
    CAMPAIGNS = "mc-campaigns"
    CAMPAIGNS_GRID = "mc-campaigns-grid"
    TOP_ACCOUNTS = "mc-top-accounts"
    TOP_ACCOUNTS_GRID = "mc-top-accounts-grid"
    CHIP_MODAL = "mc-chip-modal"
    CHIP_BODY = "mc-chip-body"
    HEADLINE = "mc-headline"
    MRR_MOVEMENT = "mc-mrr-movement"
    RISK = "mc-risk"
    RISK_CHURN_GRAPH = "mc-risk-churn-graph"
    RISK_HEALTH_GRAPH = "mc-risk-health-graph"
    RISK_BREADCRUMB = "mc-risk-breadcrumb"
    SEGMENT_GRID = "mc-segment-grid"
    AT_RISK = "mc-at-risk"
    AT_RISK_GRID = "mc-at-risk-grid"


ID = MorningCoffeeIds
# The KPI cards in page order, with the title each shows before its figures arrive.
KPI_TITLES: dict[str, str] = {
    ID.KPI_CUSTOMERS: "Active customers",
    ID.KPI_CONTACTS: "Active contacts",
    ID.KPI_LEADS: "New leads",
    ID.KPI_EFFICIENCY: "Team efficiency",
    ID.KPI_MRR: "MRR",
}
# Output name -> (card id, glossary key).
KPI_CARDS = dict(customers=(ID.KPI_CUSTOMERS, "active_customers"), contacts=(ID.KPI_CONTACTS, "active_contacts"),
                 leads=(ID.KPI_LEADS, "new_leads"), efficiency=(ID.KPI_EFFICIENCY, "team_efficiency"),
                 mrr=(ID.KPI_MRR, "mrr_usd"))
CHART_TITLES = {"mrr_trend": "MRR, last 12 months", "revenue": "Revenue by region", "movement": "Why MRR moved"}
CAMPAIGNS_TITLE = "Active campaigns"
ACCOUNTS_TITLE = "Largest accounts by MRR"


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    """Shown instead of the page while the gold tables are empty; names the cause when the data
    refresh failed or data quality held promotion back."""
    return empty_state("No data yet", gold_empty_detail(status), state_id=ID.NO_DATA)


# --- The page --------------------------------------------------------------------------


def _filters(bounds: DateBounds, region_names: list[str], resolved: ResolvedFilters) -> html.Div:
    filters = resolved.filters
    return html.Div([
        html.Div([
            dbc.Label("Period", html_for=ID.DATE_RANGE, className="c360-filter-label"),
            dcc.DatePickerRange(
                id=ID.DATE_RANGE,
                start_date=filters.start.isoformat(), end_date=filters.end.isoformat(),
                min_date_allowed=bounds.first.isoformat(), max_date_allowed=bounds.last.isoformat(),
                initial_visible_month=filters.end.isoformat(),
                display_format="D MMM YYYY", first_day_of_week=1, minimum_nights=0,
                clearable=False, className="c360-date-range",
            ),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Regions", html_for=ID.REGIONS, className="c360-filter-label"),
            dcc.Dropdown(
                id=ID.REGIONS, options=[{"label": r, "value": r} for r in region_names],
                value=list(filters.regions), multi=True, placeholder="All regions", searchable=True,
                className="c360-region-select",
            ),
        ], className="c360-filter c360-filter-regions"),
    ], className="c360-filters")


def _canonical(resolved: ResolvedFilters, requested: PageQuery) -> PageQuery:
    """The state the page shows: validated dates and regions; the drill as requested when valid."""
    filters = resolved.filters
    return PageQuery(filters.start.isoformat(), filters.end.isoformat(),
                     list(filters.regions) if not resolved.selects_nothing else list(requested.regions or ()),
                     resolved.drill_region, requested.segment, resolved.drill_territory)


def layout(**query: Any) -> html.Div:
    """Filters, then KPI cards, trend and revenue charts, campaigns and top accounts, built from
    the URL's query arguments. The region dropdown offers only the regions inside the user's
    data scope."""
    requested = PageQuery.from_args(query)
    with db.session() as session:
        bounds = data_date_bounds(session)
        scope = current_scope()
        region_names = regions(session, scope) if bounds is not None else []
        resolved = resolve_page(session, requested, scope) if bounds is not None else None
        status = gold_status(session) if bounds is None else None
    if bounds is None or resolved is None:
        return html.Div([page_header(TITLE, "Company-wide customers, leads, support and revenue"),
                         no_data_panel(status)], id=ID.PAGE)

    # The panels read the state as requested, so their notes say what was adjusted.
    header = page_header(TITLE, f"Data up to {format_day(bounds.last)}",
                         controls=_filters(bounds, region_names, resolved))
    kpis = dbc.Row(
        [dbc.Col(loading(kpi_id, skeleton("card")), className="c360-kpi-col") for kpi_id in KPI_TITLES],
        className="row-cols-1 row-cols-sm-2 row-cols-lg-3 row-cols-xl-5 g-3 mb-3 c360-kpi-row",
    )
    charts = dbc.Row([
        dbc.Col(loading(ID.MRR_TREND, skeleton("chart", 6), "chart"), lg=7),
        dbc.Col(loading(ID.MRR_MOVEMENT, skeleton("chart", 6), "chart"), lg=5),
    ], className="g-3 mb-3")
    outlook = dbc.Row([
        dbc.Col(loading(ID.REVENUE_BY_REGION, skeleton("chart", 6), "chart"), lg=5),
        dbc.Col(loading(ID.RISK, skeleton("chart", 6), "chart"), lg=7),
        dbc.Col(loading(ID.AT_RISK, skeleton("grid", 5), "grid"), xs=12),
    ], className="g-3 mb-3")
    tables = dbc.Row([
        dbc.Col(loading(ID.CAMPAIGNS, skeleton("grid", 5), "grid"), lg=7),
        dbc.Col(loading(ID.TOP_ACCOUNTS, skeleton("grid", 5), "grid"), lg=5),
    ], className="g-3 mb-4")
    chip_modal = dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Churn risk explained")),
                            dbc.ModalBody(id=ID.CHIP_BODY)], id=ID.CHIP_MODAL, is_open=False)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        header,
        html.Div(id=ID.PERIOD_LABEL, className="c360-period-label text-muted"),
        html.Div(id=ID.FILTER_NOTE, className="c360-filter-note"),
        loading(ID.HEADLINE, skeleton("line", 1), "line"),
        kpis, charts, outlook, tables, chip_modal,
    ], id=ID.PAGE, className="c360-morning-coffee")


# --- KPI cards -------------------------------------------------------------------------


def _period_label(resolved: ResolvedFilters) -> str:
    filters = resolved.filters
    previous = filters.previous
    region_text = ", ".join(filters.regions) if filters.regions else "All regions"
    return (f"{format_day(filters.start)} \u2013 {format_day(filters.end)} ({filters.period.days} days), "
            f"compared with {format_day(previous.start)} \u2013 {format_day(previous.end)} \u00b7 {region_text}")


def _series(daily: pd.DataFrame, column: str) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in daily[column]] if column in daily else []


def _empty_kpis(message: str) -> dict[str, Any]:
    return {name: kpi_card_empty(key, KPI_TITLES[card_id], message) for name, (card_id, key) in KPI_CARDS.items()}


def kpi_outputs(result: PageKpis | GoldStatus, *, green_minutes: float, amber_minutes: float,
                policy: MaskPolicy) -> dict[str, Any]:
    """Period label, adjustment notes and the five KPI cards."""
    if isinstance(result, GoldStatus):
        return {"period_label": "", "filter_note": no_data_panel(result), **_empty_kpis("No data yet")}
    resolved = result.resolved
    filters = resolved.filters
    note = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3",
                     role="status") if resolved.notes else None)
    outputs: dict[str, Any] = {"period_label": _period_label(resolved), "filter_note": note}
    nothing = NOTHING_IN_SCOPE if filters.scope.sees_nothing else NO_SELECTION_MESSAGE
    since = f"vs {format_day_short(filters.day_before_start, filters.end)}"
    common = dict(status=result.status)

    def lineage(key: str) -> Any:
        return result.lineage.get(KPI_GOLD_TABLES[key])

    stock = result.stock
    if resolved.selects_nothing or not stock.has_data:
        for name in ("customers", "contacts", "mrr"):
            outputs[name] = kpi_card_empty(KPI_CARDS[name][1], KPI_TITLES[KPI_CARDS[name][0]], nothing)
    else:
        on_end = f"on {format_day(filters.end)}"
        for name, figure in (("customers", stock.active_customers), ("contacts", stock.active_contacts)):
            card_id, key = KPI_CARDS[name]
            outputs[name] = kpi_card(card_id, key, KPI_TITLES[card_id], figure.current, figure.delta,
                                     percent=figure.percent_change, comparison=since, subtitle=on_end,
                                     series=_series(result.daily, key), drivers=result.drivers.get(key),
                                     lineage=lineage(key), **common)
        if policy.view_financials:
            mrr = stock.mrr_usd
            outputs["mrr"] = kpi_card(ID.KPI_MRR, "mrr_usd", "MRR", mrr.current, mrr.delta,
                                      percent=mrr.percent_change, value_format="usd", comparison=since,
                                      subtitle=f"Monthly recurring revenue {on_end}",
                                      series=_series(result.daily, "mrr_usd"), drivers=result.drivers.get("mrr_usd"),
                                      lineage=lineage("mrr_usd"), **common)
        else:
            outputs["mrr"] = kpi_card_empty("mrr_usd", "MRR",
                                            f"Band {amount_band(stock.mrr_usd.current)}. {FINANCIALS_HIDDEN}")

    leads = result.leads
    if not filters.company_wide:
        outputs["leads"] = kpi_card_empty("new_leads", "New leads", NOT_IN_SCOPE)
    elif resolved.selects_nothing or not leads.has_data:
        outputs["leads"] = kpi_card_empty("new_leads", "New leads", nothing)
    else:
        title = "New leads yesterday" if result.is_yesterday else f"New leads on {format_day(filters.end)}"
        outputs["leads"] = kpi_card(ID.KPI_LEADS, "new_leads", title, leads.on_end_date.current,
                                    leads.on_end_date.delta, percent=leads.on_end_date.percent_change,
                                    comparison="vs the day before",
                                    subtitle=f"{format_count(leads.period_total)} in the period",
                                    series=_series(result.daily, "new_leads"), lineage=lineage("new_leads"), **common)

    median = result.efficiency.median_first_response_minutes
    if not filters.company_wide:
        outputs["efficiency"] = kpi_card_empty("team_efficiency", "Team efficiency", NOT_IN_SCOPE)
    elif resolved.selects_nothing or median.current is None:
        outputs["efficiency"] = kpi_card_empty("team_efficiency", "Team efficiency", nothing)
    else:
        outputs["efficiency"] = kpi_card(
            ID.KPI_EFFICIENCY, "team_efficiency", "Team efficiency", median.current, median.delta,
            percent=median.percent_change, value_format="minutes", up_is_good=False,
            comparison="vs previous period", rag=rag_for_lower_is_better(median.current, green_minutes, amber_minutes),
            subtitle=f"Median first response \u00b7 {format_count(result.efficiency.responses)} tickets",
            series=_series(result.daily, "median_first_response_minutes"), lineage=lineage("team_efficiency"),
            **common)
    return outputs


# --- Charts ------------------------------------------------------------------------------


def _month_labels(days: Sequence[date]) -> list[str]:
    """'Dec<br>2025', 'Jan<br>2026', 'Feb', ... and the end date as '22 Nov'."""
    labels = []
    for index, day in enumerate(days):
        if index == len(days) - 1:
            labels.append(f"{day.day} {day:%b}" + (f"<br>{day.year}" if day.month == 1 or index == 0 else ""))
        elif index == 0 or day.month == 1:
            labels.append(f"{day:%b}<br>{day.year}")
        else:
            labels.append(f"{day:%b}")
    return labels


def _forecast_hover(forecast: MrrForecast) -> str:
    mase = f"{forecast.backtest_mase:.2f}" if forecast.backtest_mase is not None else "not backtested"
    return f"model {forecast.model_name}, backtest MASE {mase}"


def mrr_trend_figure(trend: pd.DataFrame, forecast: MrrForecast | None = None) -> go.Figure:
    """Month-end MRR as a line with markers, one evenly spaced point per month; the forecast's
    month-ends continue it as a dashed line inside its 95 % and 80 % bands."""
    days = list(trend["day"])
    positions = list(range(len(days)))
    fig = theme.figure(showlegend=False)
    labels = _month_labels(days)
    if forecast is not None and forecast.shown:
        ahead = forecast.points
        steps = list(range(len(days), len(days) + len(ahead)))
        # The bands start at the last actual point so the forecast reads as its continuation.
        x = [positions[-1], *steps]
        last = float(trend["mrr_usd"].iloc[-1])
        for level, opacity in (("95", 0.12), ("80", 0.22)):
            lower, upper = [last, *ahead[f"lower{level}"]], [last, *ahead[f"upper{level}"]]
            fig.add_trace(go.Scatter(x=x + x[::-1], y=upper + lower[::-1], fill="toself", mode="lines",
                                     line=dict(width=0), fillcolor=f"rgba(0,114,178,{opacity})",
                                     name=f"{level} % interval", hoverinfo="skip"))
        how = _forecast_hover(forecast)
        fig.add_trace(go.Scatter(
            x=x, y=[last, *ahead["mean"]], mode="lines+markers", name="Forecast",
            line=dict(color=theme.PRIMARY, width=2, dash="dash"), marker=dict(size=6, symbol="circle-open"),
            customdata=[["", "", "", ""]] + [[format_day(d), format_usd(m),
                                              f"{format_usd(lo80)}–{format_usd(hi80)}",
                                              f"{format_usd(lo95)}–{format_usd(hi95)}"]
                                             for d, m, lo80, hi80, lo95, hi95 in ahead.itertuples(index=False)],
            hovertemplate=("Forecast %{customdata[0]}: %{customdata[1]}<br>80 %: %{customdata[2]} · "
                           f"95 %: %{{customdata[3]}}<br>{how}<extra></extra>"),
        ))
        positions = positions + steps
        labels = labels + [f"{day:%b}<br>forecast" for day in ahead["day"]]
    fig.add_trace(go.Scatter(
        x=list(range(len(days))), y=trend["mrr_usd"], mode="lines+markers", name="MRR",
        line=dict(color=theme.PRIMARY, width=2.5), marker=dict(size=7),
        customdata=[[format_day(d), format_usd(v)] for d, v in zip(days, trend["mrr_usd"], strict=True)],
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
    ))
    # A line need not start at zero: the month-to-month movement is the point of this chart.
    fig.update_xaxes(tickmode="array", tickvals=positions, ticktext=labels, range=[-0.4, len(positions) - 0.6])
    fig.update_yaxes(tickprefix="$", tickformat="~s", nticks=6)
    return fig


def revenue_figure(revenue: pd.DataFrame, label_column: str = "member") -> go.Figure:
    """Invoiced USD per region (or territory) as horizontal bars, largest on top, the previous
    period behind."""
    ordered = revenue.iloc[::-1]  # Plotly draws the first category at the bottom
    fig = theme.figure(barmode="group", bargap=0.3, bargroupgap=0.05,
                       legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="reversed"),
                       margin=dict(l=8, r=56, t=28, b=28))
    fig.add_trace(go.Bar(
        y=ordered[label_column], x=ordered["previous_invoiced_usd"], name="Previous period", orientation="h",
        marker_color=theme.MUTED,
        customdata=[format_usd(v) for v in ordered["previous_invoiced_usd"]],
        hovertemplate="%{y}: %{customdata}<extra>Previous period</extra>",
    ))
    fig.add_trace(go.Bar(
        y=ordered[label_column], x=ordered["invoiced_usd"], name="This period", orientation="h",
        marker_color=theme.PRIMARY,
        text=[format_usd(v) for v in ordered["invoiced_usd"]], textposition="outside", cliponaxis=False,
        textfont=dict(size=11), constraintext="none",
        customdata=[format_usd(v) for v in ordered["invoiced_usd"]],
        hovertemplate="%{y}: %{customdata}<extra>This period</extra>",
    ))
    fig.update_xaxes(tickprefix="$", tickformat="~s", rangemode="tozero", showgrid=True, gridcolor="#eef0f3",
                     nticks=5)
    fig.update_yaxes(showgrid=False, ticksuffix="  ")
    return fig


def _png_name(chart: str, query: PageQuery) -> str:
    return png_filename(PAGE_SLUG, [chart, query.start, query.end, *(query.regions or ()), query.drill_region])


def _lineage_footer(result: PageCharts) -> Any:
    lineage = result.lineage.get("gold.daily_kpi")
    if lineage is None:
        return None
    return html.Details([html.Summary("Where from?", className="small"), lineage_body(lineage)],
                        className="c360-where-from")


def _trend_subtitle(end: date, forecast: MrrForecast | None) -> str:
    subtitle = f"Month-end MRR in USD, 12 months to {format_day(end)}"
    if forecast is None:
        return subtitle
    if forecast.shown:
        return subtitle + f", then the forecast with its 80 % and 95 % intervals ({_forecast_hover(forecast)})"
    return subtitle + f". {forecast.note}" if forecast.note else subtitle


def movement_card(movement: MrrMovement | None, nothing: str) -> dbc.Card:
    """MRR's change over the period as a waterfall: new, expansion, contraction, churn and FX."""
    title = CHART_TITLES["movement"]
    if movement is None or not movement.shown:
        reason = movement.note if movement is not None and movement.note else nothing
        return chart_card(title, no_selection_state(reason), definition=definition("mrr_movement"))
    assert movement.start is not None and movement.end is not None and movement.parts is not None
    period = f"{format_day(movement.start)} \u2192 {format_day(movement.end)}"
    subtitle = (f"MRR {period}: {format_usd(movement.start_mrr)} \u2192 {format_usd(movement.end_mrr)}"
                if movement.exact else
                f"Shown for {period}, the broken-down period nearest yours (kept: the last 30 and 90 days, "
                "the 30 days to yesterday, the month to date and each of the last 12 months)")
    figure = mrr_waterfall_figure(format_day(movement.start), movement.start_mrr, movement.parts,
                                  format_day(movement.end), movement.end_mrr)
    return chart_card(title, figure, subtitle=subtitle, definition=definition("mrr_movement"))


def chart_outputs(result: PageCharts | GoldStatus | None, query: PageQuery,
                  forecast: MrrForecast | None = None, movement: MrrMovement | None = None) -> dict[str, Any]:
    """The MRR trend (continued by its forecast), why MRR moved, and the revenue card, which drills
    from regions to territories."""
    if isinstance(result, GoldStatus):
        return {name: no_selection_state("No data yet") for name in CHART_TITLES}
    if result is None:  # no financials permission: nothing was read
        return {name: chart_card(title, no_selection_state(FINANCIALS_HIDDEN)) for name, title in CHART_TITLES.items()}
    filters = result.resolved.filters
    state = _canonical(result.resolved, query)
    nothing = NOTHING_IN_SCOPE if filters.scope.sees_nothing else NO_SELECTION_MESSAGE
    trend_body = (mrr_trend_figure(result.trend, forecast) if not result.trend.empty
                  else no_selection_state(nothing))
    mrr_card = chart_card(CHART_TITLES["mrr_trend"], trend_body, subtitle=_trend_subtitle(filters.end, forecast),
                          definition=definition("mrr_trend"), png_filename=_png_name("mrr-trend", state),
                          footer=_lineage_footer(result))
    revenue = result.revenue
    path = [("All regions", state.without_drill().href)] if revenue.region else [("All regions", None)]
    if revenue.region:
        path.append((revenue.region, state.without_territory().href if revenue.territory else None))
    if revenue.territory:
        path.append((revenue.territory, None))
    crumbs = breadcrumb(path, ID.REVENUE_BREADCRUMB)
    title = f"Revenue in {revenue.region} by territory" if revenue.region else CHART_TITLES["revenue"]
    if revenue.territory and revenue.accounts is not None:
        accounts = revenue.accounts
        body = (data_grid(ID.REVENUE_ACCOUNTS_GRID, accounts, export_name=None, row_id_field="account_id")
                if accounts.rows else no_selection_state(nothing))
        revenue_card = chart_card(f"Largest accounts in {revenue.territory}", body, extra=crumbs,
                                  definition=definition("largest_accounts"),
                                  subtitle=_accounts_subtitle(revenue.accounts_day, filters.end, exact_money=True)
                                  + " \u00b7 click a row for the customer")
    elif revenue.rows.empty:
        revenue_card = chart_card(title, no_selection_state(nothing), subtitle="Invoiced USD", extra=crumbs,
                                  definition=definition("revenue_by_region"))
    else:
        total = revenue.total
        hint = " \u00b7 click a bar for its largest accounts" if revenue.region else " \u00b7 click a bar for its territories"
        revenue_card = chart_card(
            title, revenue_figure(revenue.rows), extra=crumbs, graph_id=ID.REVENUE_GRAPH,
            subtitle=f"Invoiced USD in the period: {format_usd(total.current)}{hint}",
            definition=definition("revenue_by_region"), png_filename=_png_name("revenue", state),
            footer=delta_indicator(total.delta, percent=total.percent_change, value_format="usd",
                                   comparison="vs previous period"),
        )
    return {"mrr_trend": mrr_card, "revenue": revenue_card, "movement": movement_card(movement, nothing)}


# --- Grids -------------------------------------------------------------------------------


def _accounts_subtitle(day: date | None, end: date, *, exact_money: bool) -> str:
    what = "MRR in USD" if exact_money else "MRR band"
    if day is None:
        return f"{what}: none kept for a day this early"
    if day == end:
        return f"{what} on {format_day(day)}"
    if day > end:
        return f"{what} on {format_day(day)}, the latest: past days are kept once the KPI-driver job has run"
    return (f"{what} on {format_day(day)}, the nearest day kept before {format_day(end)} (the last two days "
            "and each month end)")


def table_outputs(result: PageTables | GoldStatus, query: PageQuery, policy: MaskPolicy) -> dict[str, Any]:
    """The active-campaigns funnel and the largest accounts as grids with server exports."""
    if isinstance(result, GoldStatus):
        return {"campaigns": no_selection_state("No data yet"), "top_accounts": no_selection_state("No data yet")}
    filters = result.resolved.filters
    search = _canonical(result.resolved, query).search
    nothing = NOTHING_IN_SCOPE if filters.scope.sees_nothing else NO_SELECTION_MESSAGE
    count = result.campaigns.count
    header = html.Div([
        html.Span(format_count(count.current), className="c360-inline-value"),
        html.Span(f" running on {format_day(filters.end)}", className="text-muted me-3"),
        delta_indicator(count.delta, percent=count.percent_change,
                        comparison=f"vs {format_day_short(filters.day_before_start, filters.end)}"),
    ], className="c360-inline-kpi")
    if not filters.company_wide:
        body: Any = no_selection_state(NOT_IN_SCOPE)
    elif result.resolved.selects_nothing:
        body = [header, no_selection_state(nothing)]
    elif result.campaign_rows.empty:
        reason = (f"No campaign running on {format_day(filters.end)} sent anything in the selected regions"
                  if result.campaigns.hidden else f"No campaign was running on {format_day(filters.end)}")
        body = [header, no_selection_state(reason)]
    else:
        body = [header, data_grid(ID.CAMPAIGNS_GRID, result.campaign_rows, export_name=ID.CAMPAIGNS, search=search,
                                  totals=result.campaign_totals)]
    hidden = result.campaigns.hidden
    campaigns_card = chart_card(CAMPAIGNS_TITLE, body, definition=definition("active_campaigns"),
                                subtitle="Sends to recipients in the selected regions during the period; "
                                         "rates are shares of sent"
                                + (f" \u00b7 {format_count(hidden)} running campaign{'s' if hidden != 1 else ''} "
                                   "with no send in these regions hidden" if hidden else ""))
    accounts = result.accounts
    accounts_body = (no_selection_state(nothing) if accounts.empty else
                     data_grid(ID.TOP_ACCOUNTS_GRID, accounts, export_name=ID.TOP_ACCOUNTS, search=search,
                               row_id_field="account_id"))
    accounts_card = chart_card(ACCOUNTS_TITLE, accounts_body, definition=definition("largest_accounts"),
                               subtitle=_accounts_subtitle(result.accounts_day, filters.end,
                                                           exact_money=policy.view_financials)
                               + " \u00b7 click a row for the customer, a chip for its churn risk")
    return {"campaigns": campaigns_card, "top_accounts": accounts_card}


# --- Outlook: headline, risk distribution and the accounts most at risk ----------------------

RISK_TITLE = "Churn risk and health"
AT_RISK_TITLE = "Top 10 accounts at risk"
# Worst first, in the colours of the score chips.
LEVEL_COLOURS = {"HIGH": theme.OKABE_ITO["vermillion"], "MEDIUM": theme.OKABE_ITO["orange"],
                 "LOW": theme.OKABE_ITO["green"], "Critical": theme.OKABE_ITO["vermillion"],
                 "At-Risk": theme.OKABE_ITO["orange"], "Healthy": theme.OKABE_ITO["green"], NOT_SCORED: theme.MUTED}


def headline_panel(headline: Headline) -> Any:
    """Today's findings on one line, or nothing when no rule found anything to say."""
    if not headline.findings:
        return None
    return html.P(["Today: ", "; ".join(headline.findings), "."], className="c360-headline lead mb-3",
                  title="Found in the figures below by fixed rules")


def risk_figure(levels: pd.DataFrame, title: str) -> go.Figure:
    """Accounts per level as bars, worst first, each with its share and MRR on hover."""
    total = max(int(levels["accounts"].sum()), 1)
    with_mrr = levels["mrr_usd"].notna().any()
    fig = theme.figure(showlegend=False, margin=dict(l=8, r=8, t=28, b=28), title=dict(text=title, font_size=13))
    fig.add_trace(go.Bar(
        x=list(levels["level"]), y=list(levels["accounts"]),
        marker_color=[LEVEL_COLOURS.get(level, theme.MUTED) for level in levels["level"]],
        text=[f"{format_count(n)}" for n in levels["accounts"]], textposition="outside", cliponaxis=False,
        customdata=[[f"{n / total:.0%}", format_usd(m) if with_mrr else "hidden"]
                    for n, m in zip(levels["accounts"], levels["mrr_usd"], strict=True)],
        hovertemplate="%{x}: %{y:,} accounts (%{customdata[0]}), MRR %{customdata[1]}<extra>click for the accounts"
                      "</extra>",
    ))
    fig.update_yaxes(rangemode="tozero", showticklabels=False, showgrid=False)
    return fig


def _risk_body(risk: PageRisk, state: PageQuery) -> list[Any]:
    distribution = risk.distribution
    graphs = dbc.Row([
        dbc.Col(graph_of(risk_figure(distribution.by_churn, "By churn risk"), ID.RISK_CHURN_GRAPH), xs=12, md=6),
        dbc.Col(graph_of(risk_figure(distribution.by_health, "By health band"), ID.RISK_HEALTH_GRAPH), xs=12, md=6),
    ], className="g-2")
    body: list[Any] = [graphs]
    if risk.segment is not None and risk.segment_rows is not None:
        label = segment_label(risk.segment)
        body.append(breadcrumb([("All active customers", replace_segment(state, None).href), (label, None)],
                               ID.RISK_BREADCRUMB))
        shown = len(risk.segment_rows.rows)
        count = (f"{format_count(risk.segment_total)} account{'s' if risk.segment_total != 1 else ''}"
                 + (f", the {format_count(shown)} largest by MRR shown" if shown < risk.segment_total else ""))
        body += [html.Div(count, className="small text-muted mb-1"),
                 data_grid(ID.SEGMENT_GRID, risk.segment_rows, export_name=ID.SEGMENT_GRID, search=state.search,
                           row_id_field="account_id")
                 if risk.segment_rows.rows else no_selection_state("No account in this segment")]
    return body


def replace_segment(state: PageQuery, segment: str | None) -> PageQuery:
    return replace(state, segment=segment)


def graph_of(figure: go.Figure, graph_id: str) -> Any:
    return dcc.Graph(id=graph_id, figure=figure, config={"displayModeBar": False, "responsive": True},
                     style={"height": "220px"}, className="c360-graph")


def risk_card(result: PageRisk | None, query: PageQuery) -> Any:
    """The risk distribution card, with the accounts behind a clicked bar."""
    if result is None:
        return no_selection_state("No data yet")
    distribution = result.distribution
    scored = f" \u00b7 scored {format_day(distribution.scored_on)}" if distribution.scored_on else ""
    body: Any = (no_selection_state("No active customer in this selection") if distribution.empty
                 else _risk_body(result, query))
    return chart_card(RISK_TITLE, body, definition=definition("risk_distribution"),
                      subtitle=f"{format_count(distribution.accounts)} active customers{scored}"
                               " \u00b7 click a bar for its accounts")


def at_risk_card(result: GridRows | None, query: PageQuery, policy: MaskPolicy) -> Any:
    """The top 10 accounts at risk as a grid with its server export."""
    if result is None:
        return no_selection_state("No data yet")
    body = (no_selection_state("No scored active customer in this selection") if not result.rows else
            data_grid(ID.AT_RISK_GRID, result, export_name=ID.AT_RISK_GRID, search=query.search,
                      row_id_field="account_id"))
    money = "MRR at stake" if policy.view_financials else "MRR band"
    return chart_card(AT_RISK_TITLE, body, definition=definition("at_risk_accounts"),
                      subtitle=f"Highest churn score first, with the top reason, {money} and days to "
                               "renewal \u00b7 click a row for the customer, a chip for its score")


def headline_output(result: Headline | None) -> Any:
    return headline_panel(result) if result is not None else None


SEGMENT_PREFIXES = {ID.RISK_CHURN_GRAPH: CHURN, ID.RISK_HEALTH_GRAPH: HEALTH}

"""Morning Coffee: the executive overview of customers, leads, support, campaigns and MRR."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.queries.executive import DateBounds, data_date_bounds, default_filters, regions
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.scope import current_scope
from layouts.components import chart_card, empty_state, format_day, gold_empty_detail, page_header

TITLE = "Morning Coffee"


class MorningCoffeeIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "mc-page"
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
    CAMPAIGNS = "mc-campaigns"
    TOP_ACCOUNTS = "mc-top-accounts"


ID = MorningCoffeeIds
# The KPI cards in page order, with the title each shows before its figures arrive.
KPI_TITLES: dict[str, str] = {
    ID.KPI_CUSTOMERS: "Active customers",
    ID.KPI_CONTACTS: "Active contacts",
    ID.KPI_LEADS: "New leads",
    ID.KPI_EFFICIENCY: "Team efficiency",
    ID.KPI_MRR: "MRR",
}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    """Shown instead of the page while the gold tables are empty; names the cause when the data
    refresh failed or data quality held promotion back."""
    return empty_state("No data yet", gold_empty_detail(status), state_id=ID.NO_DATA)


def _loading(component_id: str, placeholder: object = None) -> dcc.Loading:
    return dcc.Loading(html.Div(placeholder, id=component_id, className="h-100"),
                       type="circle", delay_show=200, parent_className="h-100 c360-loading")


def _filters(bounds: DateBounds, region_names: list[str]) -> html.Div:
    defaults = default_filters(bounds)
    return html.Div([
        html.Div([
            dbc.Label("Period", html_for=ID.DATE_RANGE, className="c360-filter-label"),
            dcc.DatePickerRange(
                id=ID.DATE_RANGE,
                start_date=defaults.start.isoformat(), end_date=defaults.end.isoformat(),
                min_date_allowed=bounds.first.isoformat(), max_date_allowed=bounds.last.isoformat(),
                initial_visible_month=defaults.end.isoformat(),
                display_format="D MMM YYYY", first_day_of_week=1, minimum_nights=0,
                clearable=False, className="c360-date-range",
            ),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Regions", html_for=ID.REGIONS, className="c360-filter-label"),
            dcc.Dropdown(
                id=ID.REGIONS, options=[{"label": r, "value": r} for r in region_names],
                value=[], multi=True, placeholder="All regions", searchable=True,
                className="c360-region-select",
            ),
        ], className="c360-filter c360-filter-regions"),
    ], className="c360-filters")


def _kpi_placeholder(title: str) -> dbc.Card:
    return dbc.Card(dbc.CardBody([html.Div(title, className="c360-kpi-title"),
                                  html.Div("\u00a0", className="c360-kpi-value")]),
                    className="c360-kpi-card h-100")


def layout(**_: object) -> html.Div:
    """Filters, then KPI cards, trend and revenue charts, campaigns and top accounts. The region
    dropdown offers only the regions inside the user's data scope."""
    with db.session() as session:
        bounds = data_date_bounds(session)
        region_names = regions(session, current_scope()) if bounds is not None else []
        status = gold_status(session) if bounds is None else None
    if bounds is None:
        return html.Div([page_header(TITLE, "Company-wide customers, leads, support and revenue"),
                         no_data_panel(status)], id=ID.PAGE)

    header = page_header(TITLE, f"Data up to {format_day(bounds.last)}", controls=_filters(bounds, region_names))
    kpis = dbc.Row(
        [dbc.Col(_loading(kpi_id, _kpi_placeholder(title)), className="c360-kpi-col")
         for kpi_id, title in KPI_TITLES.items()],
        className="row-cols-1 row-cols-sm-2 row-cols-lg-3 row-cols-xl-5 g-3 mb-3",
    )
    charts = dbc.Row([
        dbc.Col(_loading(ID.MRR_TREND, chart_card("MRR, last 12 months", None)), lg=7),
        dbc.Col(_loading(ID.REVENUE_BY_REGION, chart_card("Revenue by region", None)), lg=5),
    ], className="g-3 mb-3")
    tables = dbc.Row([
        dbc.Col(_loading(ID.CAMPAIGNS, chart_card("Active campaigns", None)), lg=7),
        dbc.Col(_loading(ID.TOP_ACCOUNTS, chart_card("Largest accounts by MRR", None)), lg=5),
    ], className="g-3 mb-4")
    return html.Div([
        header,
        html.Div(id=ID.PERIOD_LABEL, className="c360-period-label text-muted"),
        html.Div(id=ID.FILTER_NOTE, className="c360-filter-note"),
        kpis, charts, tables,
    ], id=ID.PAGE, className="c360-morning-coffee")

"""Morning Coffee wiring: filters and chart clicks write the URL; the page's state store feeds
the executive queries, whose results the page's layout helpers turn into cards and grids.

The `build_*` functions take a session and the raw filter values (what a URL may carry), so
unit tests call them directly with their own session.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx
from sqlalchemy.orm import Session

from callbacks.kit import (
    cached_build,
    page_callback,
    register_account_opener,
    register_score_explainer,
    relayed,
    search_or_wait,
)
from dashboard import current_settings
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_EXECUTIVE
from dashboard.queries import executive as q
from dashboard.queries import executive_outlook as outlook
from dashboard.queries import scores
from dashboard.queries.executive import PageQuery, resolve_filters
from dashboard.scope import DataScope, current_scope
from layouts import morning_coffee as page
from layouts.components import NO_SELECTION_MESSAGE
from layouts.kit.charts import clicked_label
from layouts.kit.relay import relayed_from
from layouts.morning_coffee import KPI_CARDS
from layouts.morning_coffee import MorningCoffeeIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def _query(start_date: Any, end_date: Any, selected_regions: Any, drill_region: Any = None,
           drill_territory: Any = None) -> PageQuery:
    return PageQuery(start_date, end_date, selected_regions, drill_region, drill_territory=drill_territory)


def build_kpis(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
               green_minutes: float, amber_minutes: float, scope: DataScope,
               policy: MaskPolicy) -> dict[str, Any]:
    """Period label, adjustment notes and the five KPI cards for the raw filter values."""
    result = q.page_kpis(session, _query(start_date, end_date, selected_regions), scope, policy=policy)
    return page.kpi_outputs(result, green_minutes=green_minutes, amber_minutes=amber_minutes, policy=policy)


def build_charts(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
                 drill_region: Any = None, drill_territory: Any = None, scope: DataScope,
                 policy: MaskPolicy) -> dict[str, Any]:
    """The MRR trend and revenue cards for the raw filter values."""
    query = _query(start_date, end_date, selected_regions, drill_region, drill_territory)
    forecast = outlook.forecast_for_page(session, query, scope) if policy.view_financials else None
    movement = outlook.movement_for_page(session, query, scope) if policy.view_financials else None
    return page.chart_outputs(q.page_charts(session, query, scope, policy=policy), query, forecast, movement)


def build_tables(session: Session, start_date: Any, end_date: Any, selected_regions: Any, *,
                 scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The active-campaigns and largest-accounts grids for the raw filter values."""
    query = _query(start_date, end_date, selected_regions)
    return page.table_outputs(q.page_tables(session, query, scope, policy=policy), query, policy)


def build_headline(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """Today's headline for the URL state."""
    return page.headline_output(outlook.page_headline(session, query, scope, policy=policy))


def build_risk(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The risk distribution card (and the accounts behind the chosen bar) for the URL state."""
    return page.risk_card(outlook.page_risk(session, query, scope, policy=policy), query)


def build_at_risk(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> Any:
    """The top 10 accounts at risk for the URL state."""
    return page.at_risk_card(outlook.page_at_risk(session, query, scope, policy=policy), query, policy)


# --- The URL: filters and drill-downs write it, the page is rebuilt from it ------------


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(start_date=Input(ID.DATE_RANGE, "start_date"), end_date=Input(ID.DATE_RANGE, "end_date"),
                           selected_regions=Input(ID.REGIONS, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_filters_to_url(start_date: Any, end_date: Any, selected_regions: Any, state: Any) -> Any:
    """A complete filter change becomes a new URL (and a history entry)."""
    query = q.query_from_controls(start_date, end_date, selected_regions, PageQuery.from_state(state))
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(click=relayed(ID.REVENUE_GRAPH, "clickData")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def drill_into_region(click: Any, state: Any) -> Any:
    """A click on a region's bar goes one level down, to its territories; on a territory's, to its
    largest accounts."""
    query = q.drill_into(PageQuery.from_state(state), clicked_label(click))
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(churn=relayed(ID.RISK_CHURN_GRAPH, "clickData"),
                           health=relayed(ID.RISK_HEALTH_GRAPH, "clickData")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def list_segment_accounts(churn: Any, health: Any, state: Any) -> Any:
    """A click on a bar of the risk distribution lists the accounts behind it."""
    dimension = page.SEGMENT_PREFIXES.get(relayed_from(ctx.triggered_id))
    click = churn if dimension == outlook.CHURN else health
    query = outlook.select_segment(PageQuery.from_state(state), dimension or "", clicked_label(click, axis="x"))
    return search_or_wait(query.search if query is not None else None)


for grid_id in (ID.TOP_ACCOUNTS_GRID, ID.AT_RISK_GRID, ID.SEGMENT_GRID, ID.REVENUE_ACCOUNTS_GRID):
    register_account_opener(VIEW_EXECUTIVE, grid_id=grid_id, location_id=ID.URL, explain_column="churn_risk")
    register_score_explainer(VIEW_EXECUTIVE, grid_id=grid_id, column="churn_risk", score=scores.CHURN,
                             modal_id=ID.CHIP_MODAL, body_id=ID.CHIP_BODY, explain=scores.explain)


# --- Panels ------------------------------------------------------------------------------

KPI_OUTPUTS = dict(
    period_label=Output(ID.PERIOD_LABEL, "children"),
    filter_note=Output(ID.FILTER_NOTE, "children"),
    **{name: Output(card_id, "children") for name, (card_id, _) in KPI_CARDS.items()},
)
CHART_OUTPUTS = dict(mrr_trend=Output(ID.MRR_TREND, "children"), revenue=Output(ID.REVENUE_BY_REGION, "children"),
                     movement=Output(ID.MRR_MOVEMENT, "children"))
TABLE_OUTPUTS = dict(campaigns=Output(ID.CAMPAIGNS, "children"), top_accounts=Output(ID.TOP_ACCOUNTS, "children"))


# The panels by page query, as the page cache keys them (dashboard.cache).
def _kpi_panel(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy, green_minutes: float,
               amber_minutes: float) -> dict[str, Any]:
    return build_kpis(session, query.start, query.end, query.regions, green_minutes=green_minutes,
                      amber_minutes=amber_minutes, scope=scope, policy=policy)


def _chart_panel(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return build_charts(session, query.start, query.end, query.regions, drill_region=query.drill_region,
                        drill_territory=query.drill_territory, scope=scope, policy=policy)


def _table_panel(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return build_tables(session, query.start, query.end, query.regions, scope=scope, policy=policy)


def _panel(build: Any, state: Any, **options: Any) -> Any:
    with db.session() as session:
        return cached_build(build, session, PageQuery.from_state(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user(), **options)


@page_callback(VIEW_EXECUTIVE, output=KPI_OUTPUTS, inputs=STATE_INPUT)
def update_kpis(state: Any) -> dict[str, Any]:
    """The KPI cards for the page's state."""
    settings = current_settings()
    return _panel(_kpi_panel, state, green_minutes=settings.first_response_green_minutes,
                  amber_minutes=settings.first_response_amber_minutes)


@page_callback(VIEW_EXECUTIVE, output=CHART_OUTPUTS, inputs=STATE_INPUT)
def update_charts(state: Any) -> dict[str, Any]:
    """The MRR trend and revenue charts for the page's state."""
    return _panel(_chart_panel, state)


@page_callback(VIEW_EXECUTIVE, output=TABLE_OUTPUTS, inputs=STATE_INPUT)
def update_tables(state: Any) -> dict[str, Any]:
    """The campaigns and largest-accounts grids for the page's state."""
    return _panel(_table_panel, state)


def _outlook_panel(build: Any, state: Any) -> Any:
    return _panel(build, state)


# Three panels, three callbacks: each loads as soon as its own reads are done.
@page_callback(VIEW_EXECUTIVE, output=Output(ID.HEADLINE, "children"), inputs=STATE_INPUT)
def update_headline(state: Any) -> Any:
    """Today's headline for the page's state."""
    return _outlook_panel(build_headline, state)


@page_callback(VIEW_EXECUTIVE, output=Output(ID.RISK, "children"), inputs=STATE_INPUT)
def update_risk(state: Any) -> Any:
    """The risk distribution for the page's state."""
    return _outlook_panel(build_risk, state)


@page_callback(VIEW_EXECUTIVE, output=Output(ID.AT_RISK, "children"), inputs=STATE_INPUT)
def update_at_risk(state: Any) -> Any:
    """The top 10 accounts at risk for the page's state."""
    return _outlook_panel(build_at_risk, state)


__all__ = ["NO_SELECTION_MESSAGE", "build_at_risk", "build_charts", "build_headline", "build_kpis", "build_risk",
           "build_tables", "resolve_filters", "update_at_risk", "update_charts", "update_headline", "update_kpis",
           "update_risk", "update_tables"]

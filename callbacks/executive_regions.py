"""Regional analysis wiring: the period and view controls and chart clicks write the URL; the
page's state store feeds the regions queries, whose results the page's layout helpers turn
into charts and a grid.

The `build_*` functions take a session and the page's state (what a URL may carry), so unit
tests call them directly with their own session.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback, relayed, search_or_wait
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import VIEW_EXECUTIVE
from dashboard.queries import regions as q
from dashboard.queries.regions import PageQuery
from dashboard.scope import DataScope, current_scope
from layouts import executive_regions as page
from layouts.executive_regions import CHARTS
from layouts.executive_regions import RegionIds as ID
from layouts.kit.charts import clicked_label
from layouts.kit.relay import relayed_from

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def build_comparison(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """Period label, notes, breadcrumb, the three comparison charts and the grid for `query`."""
    return page.comparison_outputs(q.page_comparison(session, query, scope, policy=policy), query, policy)


def build_product_mix(session: Session, query: PageQuery, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    """The product mix card for `query`."""
    return page.product_mix_outputs(q.page_product_mix(session, query, scope, policy=policy), query)


# --- The URL: controls and drill-downs write it, the page is rebuilt from it -------------


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs=dict(start_date=Input(ID.DATE_RANGE, "start_date"), end_date=Input(ID.DATE_RANGE, "end_date"),
                           view=Input(ID.VIEW, "value")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def write_controls_to_url(start_date: Any, end_date: Any, view: Any, state: Any) -> Any:
    """A complete change of period or view becomes a new URL (and a history entry)."""
    query = q.query_from_controls(start_date, end_date, view, PageQuery.from_state(state))
    return search_or_wait(query.search if query is not None else None)


@page_callback(VIEW_EXECUTIVE, output=Output(ID.URL, "search", allow_duplicate=True),
               inputs={name: relayed(graph_id, "clickData") for name, (*_, graph_id) in CHARTS.items()},
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def drill_into_region(revenue: Any, customers: Any, win_rate: Any, state: Any) -> Any:
    """A click on a region's bar in any chart goes one level down, to its territories."""
    clicks = {ID.REVENUE_GRAPH: revenue, ID.CUSTOMERS_GRAPH: customers, ID.WIN_RATE_GRAPH: win_rate}
    query = q.drill_into(PageQuery.from_state(state), clicked_label(clicks.get(relayed_from(ctx.triggered_id))))
    return search_or_wait(query.search if query is not None else None)


# --- Panels --------------------------------------------------------------------------------

COMPARISON_OUTPUTS = dict(
    period_label=Output(ID.PERIOD_LABEL, "children"),
    filter_note=Output(ID.FILTER_NOTE, "children"),
    breadcrumb=Output(ID.BREADCRUMB_HOLDER, "children"),
    revenue=Output(ID.REVENUE, "children"),
    customers=Output(ID.CUSTOMERS, "children"),
    win_rate=Output(ID.WIN_RATE, "children"),
    comparison=Output(ID.COMPARISON, "children"),
)
PRODUCT_MIX_OUTPUTS = dict(product_mix=Output(ID.PRODUCT_MIX, "children"))


@page_callback(VIEW_EXECUTIVE, output=COMPARISON_OUTPUTS, inputs=STATE_INPUT)
def update_comparison(state: Any) -> dict[str, Any]:
    """The comparison charts and grid for the page's state."""
    with db.session() as session:
        return cached_build(build_comparison, session, PageQuery.from_state(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_EXECUTIVE, output=PRODUCT_MIX_OUTPUTS, inputs=STATE_INPUT)
def update_product_mix(state: Any) -> dict[str, Any]:
    """The product mix for the page's state."""
    with db.session() as session:
        return cached_build(build_product_mix, session, PageQuery.from_state(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())

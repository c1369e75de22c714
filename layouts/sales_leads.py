"""Leads and buyers: the leads to call first, the customers likely to buy again, and those buying less.

The URL holds the page's state (`?source=<lead source>&kind=<churned|contracted|stopped buying>`):
`layout(**query)` builds the page from it, and the panel helpers below turn the queries' typed
results (dashboard/queries/sales_leads.py) into cards and grids. Callbacks
(callbacks/sales_leads.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_usd
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.queries.sales_leads import (
    DECLINE_KINDS,
    LEAD_SOURCES,
    DeclineResult,
    LeadsQuery,
    LeadsResult,
    RepeatResult,
    ResolvedQuery,
    resolve,
)
from dashboard.scope import current_scope
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit.grid import data_grid
from layouts.kit.page import url_state
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Leads and buyers"
PAGE_SLUG = "sales-leads"
NO_DATA = "No data yet"
ALL = "all"


class LeadsIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "sl-page"
    URL = "sl-url"
    STATE = "sl-state"
    NO_DATA = "sl-no-data"
    SOURCE = "sl-source"
    KIND = "sl-kind"
    NOTE = "sl-note"
    LEADS = "sl-leads"
    LEADS_GRID = "sl-leads-grid"
    LEAD_AUC = "sl-lead-auc"
    REPEAT = "sl-repeat"
    REPEAT_GRID = "sl-repeat-grid"
    DECLINE = "sl-decline"
    DECLINE_GRID = "sl-decline-grid"


ID = LeadsIds
TITLES = {"leads": "Prioritised leads", "repeat": "Likely to buy again", "decline": "Reduced or stopped buying, and why"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def _controls(resolved: ResolvedQuery) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Lead source", html_for=ID.SOURCE, className="c360-filter-label"),
            dcc.Dropdown(id=ID.SOURCE, value=resolved.source or ALL, clearable=False, searchable=False,
                         options=[{"label": "Every source", "value": ALL}]
                         + [{"label": s.title(), "value": s} for s in LEAD_SOURCES]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Buying less", html_for=ID.KIND, className="c360-filter-label"),
            dcc.Dropdown(id=ID.KIND, value=resolved.kind or ALL, clearable=False, searchable=False,
                         options=[{"label": "Every kind", "value": ALL}]
                         + [{"label": k.capitalize(), "value": k} for k in DECLINE_KINDS]),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then the prioritised leads, likely repeat buyers and declining customers, each filled
    by its own callback from the state the URL holds."""
    requested = LeadsQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = "Leads to call first, customers likely to buy again, and customers buying less"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)
    panels = dbc.Row([
        dbc.Col(loading(ID.LEADS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.REPEAT, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.DECLINE, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
    ], className="g-3")
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text, controls=_controls(resolved)),
        html.Div(notes, id=ID.NOTE),
        panels,
    ], id=ID.PAGE, className="c360-sales-leads")


def _headline(label: str, value: str, glossary_key: str, detail: str = "", element_id: str | None = None) -> html.Div:
    props = {"id": element_id} if element_id else {}
    return html.Div([html.Div(label, className="c360-kpi-title", title=definition(glossary_key)),
                     html.Div(value, className="c360-kpi-value"),
                     html.Div(detail, className="c360-kpi-subtitle text-muted small")],
                    className="c360-strategy-headline me-4 mb-2", **props)


def _empty(resolved: ResolvedQuery, message: str | None = None) -> html.Div:
    return no_selection_state(empty_reason(resolved.scope, message) if message else empty_reason(resolved.scope))


# --- 1. Prioritised leads ----------------------------------------------------------------


def auc_text(auc: float | None) -> str:
    return "n/a" if auc is None else f"{auc:.2f}"


def leads_output(result: LeadsResult | GoldStatus) -> Any:
    """The model's validation AUC and the open leads, highest score first."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    split = f"leads created after {format_day(result.split_at)}" if result.split_at else "the latest leads"
    headlines = html.Div([
        _headline("Open leads", format_count(result.open_leads), "open_leads"),
        _headline("Model AUC", auc_text(result.validation_auc), "lead_model_auc",
                  f"validated on {format_count(result.validation_rows)} {split}, trained on "
                  f"{format_count(result.train_rows)} earlier ones", element_id=ID.LEAD_AUC),
    ], className="d-flex flex-wrap")
    if result.grid.empty:
        body: list = [headlines, _empty(resolved, "No open lead in your territories for this source.")]
    else:
        body = [headlines,
                html.Div(f"The first {len(result.grid.rows)} of {format_count(result.open_leads)} open leads by "
                         "their chance to convert, with the reason in words", className="small text-muted mb-1"),
                data_grid(ID.LEADS_GRID, result.grid, export_name=ID.LEADS, search=resolved.canonical.search,
                          row_id_field="lead_id")]
    return chart_card(TITLES["leads"], body, definition=definition("lead_score"),
                      subtitle="Propensity to convert from a model trained on past leads and checked on later ones")


# --- 2. Likely to buy again -----------------------------------------------------------------


def bgnbd_text(parameters: dict[str, Any]) -> str:
    if not parameters:
        return "BG/NBD not fitted"
    return (f"BG/NBD on {format_count(parameters.get('customers', 0))} customers' purchase weeks: "
            f"r={parameters['r']:.3f}, \u03b1={parameters['alpha']:.3f}, a={parameters['a']:.3f}, "
            f"b={parameters['b']:.3f}")


def repeat_output(result: RepeatResult | GoldStatus) -> Any:
    """Customers by expected purchases in the next 13 weeks, with P(alive) and the last expansion."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    headlines = html.Div([
        _headline("Customers who bought", format_count(result.customers), "repeat_purchase"),
        _headline("Likely still buying", format_count(result.likely_customers), "p_alive", "P(still buying) \u2265 50%"),
    ], className="d-flex flex-wrap")
    if result.grid.empty:
        body: list = [headlines, _empty(resolved)]
    else:
        body = [headlines,
                html.Div(f"The first {len(result.grid.rows)} by expected purchases (won deals and new subscriptions) "
                         "in the next 13 weeks \u00b7 click a row for the customer", className="small text-muted mb-1"),
                data_grid(ID.REPEAT_GRID, result.grid, export_name=ID.REPEAT, search=resolved.canonical.search,
                          row_id_field="account_id")]
    return chart_card(TITLES["repeat"], body, definition=definition("expected_purchases"),
                      subtitle=bgnbd_text(result.parameters))


# --- 3. Reduced or stopped buying -------------------------------------------------------------


def decline_output(result: DeclineResult | GoldStatus) -> Any:
    """Customers who churned, contracted or stopped buying, with the reasons in words."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    heads = [_headline(kind.capitalize(), format_count(result.counts.get(kind, 0)), "buying_decline")
             for kind in ("churned", "contracted", "stopped buying")]
    if result.lost_mrr_usd is not None:
        heads.append(_headline("MRR lost", format_usd(result.lost_mrr_usd), "buying_decline",
                               f"over the last {result.window_days} days"))
    headlines = html.Div(heads, className="d-flex flex-wrap")
    if result.grid.empty:
        body: list = [headlines, _empty(resolved)]
    else:
        body = [headlines,
                html.Div("Largest MRR loss first \u00b7 click a row for the customer", className="small text-muted mb-1"),
                data_grid(ID.DECLINE_GRID, result.grid, export_name=ID.DECLINE, search=resolved.canonical.search,
                          row_id_field="account_id")]
    return chart_card(TITLES["decline"], body, definition=definition("buying_decline"),
                      subtitle=f"MRR down over the last {result.window_days} days, or purchases stopped; the reasons "
                               "from the churn model, price rises, support tickets and overdue payments")

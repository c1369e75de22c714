"""Leads and buyers: the leads to call first, the customers likely to buy again, those buying less,
the renewals due and the cross-sell and upsell candidates.

The URL holds the page's state (`?source=<lead source>&kind=<churned|contracted|stopped buying>&months=<3|6>`):
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
from dashboard.queries.book import RENEWAL_MONTHS
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.queries.sales_leads import (
    DECLINE_KINDS,
    LEAD_SOURCES,
    DeclineResult,
    LeadsQuery,
    LeadsResult,
    RenewalsResult,
    RepeatResult,
    ResolvedQuery,
    resolve,
)
from dashboard.queries.strategy import PotentialResult
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

    PAGE = "ld-page"
    URL = "ld-url"
    STATE = "ld-state"
    NO_DATA = "ld-no-data"
    SOURCE = "ld-source"
    KIND = "ld-kind"
    NOTE = "ld-note"
    LEADS = "ld-leads"
    LEADS_GRID = "ld-leads-grid"
    LEAD_AUC = "ld-lead-auc"
    REPEAT = "ld-repeat"
    REPEAT_GRID = "ld-repeat-grid"
    DECLINE = "ld-decline"
    DECLINE_GRID = "ld-decline-grid"
    MONTHS = "ld-months"
    RENEWALS = "ld-renewals"
    RENEWALS_GRID = "ld-renewals-grid"
    RENEWALS_CHIP_MODAL = "ld-renewals-chip-modal"
    RENEWALS_CHIP_BODY = "ld-renewals-chip-body"
    POTENTIAL = "ld-potential"
    POTENTIAL_GRID = "ld-potential-grid"
    POTENTIAL_CHIP_MODAL = "ld-potential-chip-modal"
    POTENTIAL_CHIP_BODY = "ld-potential-chip-body"


ID = LeadsIds
TITLES = {"leads": "Prioritised leads", "repeat": "Likely to buy again", "decline": "Reduced or stopped buying, and why",
          "renewals": "Renewals due", "potential": "Cross-sell and upsell"}


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
        html.Div([
            dbc.Label("Renewals within", html_for=ID.MONTHS, className="c360-filter-label"),
            dcc.Dropdown(id=ID.MONTHS, value=str(resolved.months), clearable=False, searchable=False,
                         options=[{"label": f"{m} months", "value": str(m)} for m in RENEWAL_MONTHS]),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then the prioritised leads, likely repeat buyers and declining customers, each filled
    by its own callback from the state the URL holds."""
    requested = LeadsQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
    header_text = ("Leads to call first, customers likely to buy again, customers buying less, renewals due, "
                   "and cross-sell and upsell")
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)
    panels = dbc.Row([
        dbc.Col(loading(ID.LEADS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.REPEAT, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.DECLINE, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.RENEWALS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.POTENTIAL, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
    ], className="g-3")
    chip_modals = [dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Churn risk explained")), dbc.ModalBody(id=body)],
                             id=modal, is_open=False)
                   for modal, body in ((ID.RENEWALS_CHIP_MODAL, ID.RENEWALS_CHIP_BODY),
                                       (ID.POTENTIAL_CHIP_MODAL, ID.POTENTIAL_CHIP_BODY))]
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, header_text, controls=_controls(resolved)),
        html.Div(notes, id=ID.NOTE),
        panels, *chip_modals,
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


# --- 4. Renewals due ------------------------------------------------------------------------------


def _money(value: float | None, band: str | None) -> str:
    return format_usd(value) if value is not None else (band or "\u2014")


def renewals_output(result: RenewalsResult | GoldStatus) -> Any:
    """The customers renewing within the window, largest MRR first, with health and churn level."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    window = f"in the next {resolved.months} months"
    headlines = html.Div([
        _headline("Renewals due", format_count(result.renewals), "renewals_due",
                  f"after {format_day(result.as_of)}, {window}" if result.as_of else window),
        _headline("MRR renewing", _money(result.mrr_usd, result.mrr_band), "renewals_due"),
        _headline("High churn risk", format_count(result.high_risk), "churn_risk",
                  f"{_money(result.high_risk_mrr_usd, result.high_risk_mrr_band)} of MRR"),
        _headline("Critical health", format_count(result.unhealthy), "health_score", "health below 50"),
    ], className="d-flex flex-wrap")
    if result.grid.empty:
        body: list = [headlines, _empty(resolved, f"No customer renews {window}.")]
    else:
        shown = len(result.grid.rows)
        lead = f"The first {shown} of {format_count(result.renewals)}" if shown < result.renewals else "All"
        body = [headlines,
                html.Div(f"{lead} by MRR, as on My accounts \u00b7 click a row for the customer, a churn chip for "
                         "its reasons", className="small text-muted mb-1"),
                data_grid(ID.RENEWALS_GRID, result.grid, export_name=ID.RENEWALS, search=resolved.canonical.search,
                          row_id_field="account_id")]
    return chart_card(TITLES["renewals"], body, definition=definition("renewals_due"),
                      subtitle=f"Customers whose next renewal falls {window}, with their health and churn risk")


# --- 5. Cross-sell and upsell ----------------------------------------------------------------------


def potential_output(result: PotentialResult | GoldStatus, resolved: ResolvedQuery | None = None) -> Any:
    """The Strategy page's ranking of cross-sell and upsell candidates, for the sales scope."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    if result.total_expected_usd is None:
        expected, detail = "\u2014", "needs the financials permission"
    else:
        expected, detail = format_usd(result.total_expected_usd), "the candidates' open growth actions"
    headlines = html.Div([
        _headline("Candidates", format_count(result.candidates), "upsell_potential"),
        _headline("Expected value", expected, "upsell_potential", detail),
    ], className="d-flex flex-wrap")
    if result.grid.empty:
        body: list = [headlines, no_selection_state(empty_reason(result.resolved.scope,
                                                                 "No customer has a product gap or an open growth "
                                                                 "action."))]
    else:
        body = [headlines,
                html.Div(f"The first {len(result.grid.rows)} by expected value, the same ranking as the Strategy "
                         "page \u00b7 click a row for the customer, a chip for its churn risk",
                         className="small text-muted mb-1"),
                data_grid(ID.POTENTIAL_GRID, result.grid, export_name=ID.POTENTIAL,
                          search=resolved.canonical.search if resolved else "", row_id_field="account_id")]
    return chart_card(TITLES["potential"], body, definition=definition("upsell_potential"),
                      subtitle="Open growth next-best actions (their estimated revenue) and product gaps against "
                               "peers of the same segment and size")

"""Engagement radar: customers and contacts by tier, the score distribution, sharp drops with what
fell, a customer against its peers, and the contacts' trend, for sales managers.

The URL holds the page's state (`?tier=Potential|Watch List|Alert&account=<account id>`):
`layout(**query)` builds the page from it, and the panel helpers below turn the engagement queries'
typed results (dashboard/queries/engagement.py) into cards, figures and grids. Callbacks
(callbacks/sales_engagement.py) only wire the two together.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.export import export_href
from dashboard.extensions import db
from dashboard.formatting import format_count, format_day, format_percent
from dashboard.queries.engagement import (
    ACCOUNT_LIMIT,
    ALL_TIERS,
    CONTACT_LIMIT,
    TIERS,
    AccountsResult,
    ContactsResult,
    DistributionResult,
    DropsResult,
    EngagementQuery,
    PeersResult,
    ResolvedQuery,
    TiersResult,
    account_options,
    resolve,
)
from dashboard.queries.freshness import GoldStatus, gold_status
from dashboard.queries.glossary import definition
from dashboard.scope import current_scope
from layouts import theme
from layouts.components import chart_card, empty_state, gold_empty_detail, no_selection_state, page_header
from layouts.kit.charts import png_filename
from layouts.kit.grid import data_grid
from layouts.kit.page import url_state
from layouts.kit.scores import score_chip
from layouts.kit.states import empty_reason, loading, skeleton

TITLE = "Engagement radar"
PAGE_SLUG = "engagement"
NO_DATA = "No engagement scores yet"
NOT_SCORED = "No engagement score has been worked out for these customers yet."
# Colours per tier, with the chips' severity (colour-blind-safe Okabe-Ito).
TIER_COLOURS = {"Potential": theme.OKABE_ITO["green"], "Watch List": theme.OKABE_ITO["orange"],
                "Alert": theme.OKABE_ITO["vermillion"]}
PART_LABELS = {"engagement_score": "Score", "recency": "Recency", "frequency": "Frequency", "depth": "Depth"}


class EngagementIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "eg-page"
    URL = "eg-url"
    STATE = "eg-state"
    NO_DATA = "eg-no-data"
    TIER = "eg-tier"
    ACCOUNT = "eg-account"
    NOTE = "eg-note"
    TIERS = "eg-tiers"
    RULES = "eg-tier-rules"
    RULES_TOOLTIP = "eg-tier-rules-tooltip"
    DISTRIBUTION = "eg-distribution"
    DROPS = "eg-drops"
    DROPS_GRID = "eg-drops-grid"
    PEERS = "eg-peers"
    ACCOUNTS = "eg-accounts"
    ACCOUNTS_GRID = "eg-accounts-grid"
    CONTACTS = "eg-contacts"
    CONTACTS_GRID = "eg-contacts-grid"
    CAMPAIGN = "eg-campaign"
    CHIP_MODAL = "eg-chip-modal"
    CHIP_BODY = "eg-chip-body"


ID = EngagementIds
# Exportable grids (dashboard.export.GRIDS): the contacts as shown, and the campaign list.
ACCOUNTS_EXPORT = "eg-accounts"
CONTACTS_EXPORT = "eg-contacts"
CAMPAIGN_EXPORT = "eg-campaign-list"
TITLES = {"tiers": "Customers and contacts by tier", "distribution": "Score distribution",
          "drops": "Recent sharp drops", "peers": "Against its peers", "accounts": "Customers of the tier",
          "contacts": "Contacts and their trend"}


def no_data_panel(status: GoldStatus | None = None) -> html.Div:
    return empty_state(NO_DATA, gold_empty_detail(status), state_id=ID.NO_DATA)


def _controls(resolved: ResolvedQuery, options: list[tuple[str, str]]) -> html.Div:
    return html.Div([
        html.Div([
            dbc.Label("Customers and contacts of tier", html_for=ID.TIER, className="c360-filter-label"),
            dbc.RadioItems(id=ID.TIER, value=resolved.tier or ALL_TIERS, inline=True,
                           options=[{"label": "All", "value": ALL_TIERS},
                                    *({"label": tier, "value": tier} for tier in TIERS)]),
        ], className="c360-filter"),
        html.Div([
            dbc.Label("Compare with peers", html_for=ID.ACCOUNT, className="c360-filter-label"),
            dcc.Dropdown(id=ID.ACCOUNT, value=resolved.account, clearable=True, searchable=True,
                         placeholder="The sharpest drop", options=[{"label": name, "value": account_id}
                                                                   for account_id, name in options],
                         className="c360-account-select", style={"minWidth": "220px"}),
        ], className="c360-filter"),
    ], className="c360-filters")


def layout(**query: Any) -> html.Div:
    """Controls, then the tier, distribution, drops, peers and contacts panels, each filled by its own
    callback from the state the URL holds."""
    requested = EngagementQuery.from_args(query)
    with db.session() as session:
        resolved = resolve(session, requested, current_scope())
        status = gold_status(session) if resolved is None else None
        options = account_options(session, resolved) if resolved is not None else []
    header_text = "Who is engaged, who is slipping, and who to call next"
    if resolved is None:
        return html.Div([page_header(TITLE, header_text), no_data_panel(status)], id=ID.PAGE)
    panels = dbc.Row([
        dbc.Col(loading(ID.TIERS, skeleton("card", 5), "card"), lg=5, className="mb-3"),
        dbc.Col(loading(ID.DISTRIBUTION, skeleton("chart", 6), "chart"), lg=7, className="mb-3"),
        dbc.Col(loading(ID.DROPS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.PEERS, skeleton("chart", 6), "chart"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.ACCOUNTS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
        dbc.Col(loading(ID.CONTACTS, skeleton("grid", 6), "grid"), xs=12, className="mb-3"),
    ], className="g-3")
    chip_modal = dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Engagement explained")), dbc.ModalBody(id=ID.CHIP_BODY)],
                           id=ID.CHIP_MODAL, is_open=False)
    notes = (html.Div(" ".join(resolved.notes), className="alert alert-warning py-2 px-3 small mb-3", role="status")
             if resolved.notes else None)
    as_of = f"Scored on the data of {format_day(resolved.as_of)}" if resolved.as_of else header_text
    return html.Div([
        url_state(ID.URL, ID.STATE, requested.as_state()),
        page_header(TITLE, as_of, controls=_controls(resolved, options)),
        html.Div(notes, id=ID.NOTE),
        panels, chip_modal,
    ], id=ID.PAGE, className="c360-engagement")


def _png(chart: str, resolved: ResolvedQuery) -> str:
    return png_filename(PAGE_SLUG, [chart, resolved.tier, resolved.account])


def _empty(resolved: ResolvedQuery, message: str | None = None) -> html.Div:
    return no_selection_state(empty_reason(resolved.scope, message) if message else empty_reason(resolved.scope))


def _score(value: float | None) -> str:
    return "\u2014" if value is None or pd.isna(value) else f"{value:.2f}"


def _band(band: tuple[float, float] | None) -> str:
    return "\u2014" if band is None else f"{band[0]:.2f}\u2013{band[1]:.2f}"


# --- 1. Tiers -----------------------------------------------------------------------------


def tier_rules_body(result: TiersResult) -> html.Div:
    """The tier rules as models.engagement states them (TIER_THRESHOLDS, WEIGHTS, the drop rule)."""
    return html.Div([
        html.Div(result.score_rule, className="mb-1"),
        html.Ul([html.Li([html.Strong(f"{tier}: "), rule]) for tier, rule in result.rules], className="mb-1 ps-3"),
        html.Div(result.drop_rule),
    ], className="small text-start c360-tier-rules-body")


def tiers_output(result: TiersResult | GoldStatus) -> Any:
    """Customers and contacts per tier, with the rules on hovering 'How tiers are defined'."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    rules = html.Div([
        html.Span("How tiers are defined", id=ID.RULES, tabIndex=0, role="button",
                  className="small text-primary c360-tier-rules",
                  style={"textDecoration": "underline dotted", "cursor": "help"}),
        dbc.Tooltip(tier_rules_body(result), target=ID.RULES, id=ID.RULES_TOOLTIP, placement="bottom",
                    className="c360-tier-rules-tooltip"),
    ], className="mb-2")
    if result.accounts + result.contacts == 0:
        return chart_card(TITLES["tiers"], [rules, _empty(resolved, NOT_SCORED)],
                          definition=definition("engagement_tiers"))
    table = html.Table([
        html.Thead(html.Tr([html.Th("Tier"), html.Th("Customers", className="text-end"),
                            html.Th("Contacts", className="text-end")])),
        html.Tbody([html.Tr([
            html.Td(score_chip("engagement", r.tier)),
            html.Td(f"{format_count(r.accounts)} ({format_percent(r.account_share, 0)})",
                    className="text-end text-nowrap"),
            html.Td(f"{format_count(r.contacts)} ({format_percent(r.contact_share, 0)})",
                    className="text-end text-nowrap"),
        ]) for r in result.rows.itertuples(index=False)]),
        html.Tfoot(html.Tr([html.Th("All"), html.Th(format_count(result.accounts), className="text-end"),
                            html.Th(format_count(result.contacts), className="text-end")])),
    ], className="table table-sm small mb-0 c360-tier-table")
    return chart_card(TITLES["tiers"], [rules, html.Div(table, className="table-responsive")],
                      definition=definition("engagement_tiers"),
                      subtitle="Customers (master accounts) and contacts (people) in your data scope")


# --- 2. Distribution ----------------------------------------------------------------------


def distribution_figure(result: DistributionResult) -> go.Figure:
    """Customers and contacts per 0.05 score band as overlaid bars, the tier thresholds as lines."""
    bins = result.bins
    fig = theme.figure(barmode="group", bargap=0.1, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                       margin=dict(l=8, r=16, t=28, b=40))
    centres = (bins["bin_start"] + bins["bin_end"]) / 2
    labels = [f"{s:.2f}\u2013{e:.2f}" for s, e in zip(bins["bin_start"], bins["bin_end"], strict=True)]
    for column, name, colour in (("accounts", "Customers", theme.PRIMARY),
                                 ("contacts", "Contacts", theme.OKABE_ITO["sky"])):
        fig.add_trace(go.Bar(x=centres, y=bins[column], name=name, marker_color=colour, customdata=labels,
                             hovertemplate="Score %{customdata}: %{y:,}<extra>" + name + "</extra>"))
    for threshold in result.thresholds:
        fig.add_vline(x=threshold, line=dict(color=theme.MUTED, dash="dot"))
    fig.update_xaxes(range=[0, 1], dtick=0.1, title_text="Engagement score (0\u20131)")
    fig.update_yaxes(title_text="Count", rangemode="tozero")
    return fig


def distribution_output(result: DistributionResult | GoldStatus) -> Any:
    """The histogram of scores, with the medians in words."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if int(result.bins[["accounts", "contacts"]].to_numpy().sum()) == 0:
        return chart_card(TITLES["distribution"], _empty(resolved, NOT_SCORED),
                          definition=definition("engagement_distribution"))
    body = [html.Div(f"Median customer {_band(result.median_account)} \u00b7 median contact "
                     f"{_band(result.median_contact)} \u00b7 dotted lines: the tier thresholds "
                     f"({', '.join(f'{t:.2f}' for t in result.thresholds)})", className="small text-muted"),
            dcc.Graph(figure=distribution_figure(result), style={"height": "300px"}, className="c360-graph",
                      config={"displaylogo": False, "toImageButtonOptions": {"filename": _png("distribution",
                                                                                              resolved)}})]
    return chart_card(TITLES["distribution"], body, definition=definition("engagement_distribution"),
                      subtitle="Engagement scores in bands of 0.05")


# --- 3. Drops -----------------------------------------------------------------------------


def drops_output(result: DropsResult | GoldStatus) -> Any:
    """The customers whose engagement fell sharply, with what fell and since when."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.grid.empty:
        return chart_card(TITLES["drops"], _empty(resolved, f"No sharp drop in the last {result.lookback_days} "
                                                            "days."),
                          definition=definition("engagement_drops"), subtitle=result.rule)
    shown = len(result.grid.rows)
    more = f"; the {shown} largest shown" if shown < result.count else ""
    body = [html.Div(f"{format_count(result.count)} customers fell sharply{more} \u00b7 click a row to compare it "
                     "with its peers, a chip for its engagement", className="small text-muted mb-1"),
            data_grid(ID.DROPS_GRID, result.grid, row_id_field="account_id")]
    return chart_card(TITLES["drops"], body, definition=definition("engagement_drops"), subtitle=result.rule)


# --- 4. Peers -----------------------------------------------------------------------------


def peers_figure(result: PeersResult) -> go.Figure:
    """The customer's score and parts next to its peers' medians, the peers' middle half as whiskers."""
    names = list(PART_LABELS)
    labels = [PART_LABELS[n] for n in names]
    fig = theme.figure(barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                       margin=dict(l=8, r=16, t=28, b=28))
    own = [result.account.get(n) for n in names]
    fig.add_trace(go.Bar(x=labels, y=own, name=result.account_name or "This customer", marker_color=theme.PRIMARY,
                         text=[_score(v) for v in own], textposition="outside", cliponaxis=False,
                         hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>"))
    medians = [result.peer_medians.get(n) for n in names]
    low = [result.peer_quartiles.get(n, (None, None))[0] for n in names]
    high = [result.peer_quartiles.get(n, (None, None))[1] for n in names]
    fig.add_trace(go.Bar(
        x=labels, y=medians, name="Peers' median", marker_color=theme.OKABE_ITO["orange"],
        text=[_score(v) for v in medians], textposition="outside", cliponaxis=False,
        error_y=dict(type="data", symmetric=False, color=theme.MUTED,
                     array=[(h - m) if h is not None and m is not None else 0 for h, m in zip(high, medians,
                                                                                                strict=True)],
                     arrayminus=[(m - lo) if lo is not None and m is not None else 0
                                 for lo, m in zip(low, medians, strict=True)]),
        customdata=[[_score(lo), _score(h)] for lo, h in zip(low, high, strict=True)],
        hovertemplate="%{x}: median %{text}, middle half %{customdata[0]}\u2013%{customdata[1]}"
                      "<extra>Peers</extra>"))
    fig.update_yaxes(range=[0, 1.1], title_text="0\u20131")
    return fig


def peers_output(result: PeersResult | GoldStatus) -> Any:
    """The selected customer against its segment and size band."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    if result.account_id is None:
        return chart_card(TITLES["peers"], _empty(resolved, NOT_SCORED), definition=definition("engagement_peers"))
    if result.peers == 0:
        standing = "It has no scored peers in its segment and size band."
    else:
        standing = (f"Higher than {result.percentile:.0f} % of its {format_count(result.peers)} peers "
                    f"(median {_score(result.peer_medians.get('engagement_score'))}).")
    body = [html.Div([score_chip("engagement", result.tier),
                      html.Span(result.account_name, className="ms-2 fw-semibold c360-peer-account"),
                      html.Span(f" \u00b7 score {_score(result.account.get('engagement_score'))} \u00b7 {standing}",
                                className="small")], className="mb-1 c360-peer-standing"),
            dcc.Graph(figure=peers_figure(result), style={"height": "300px"}, className="c360-graph",
                      config={"displaylogo": False, "toImageButtonOptions": {"filename": _png("peers", resolved)}})]
    return chart_card(TITLES["peers"], body, definition=definition("engagement_peers"),
                      subtitle=f"Peer group {result.peer_group}: the other active customers of the same segment "
                               "and size band, company-wide")


# --- 5. Customers of a tier ----------------------------------------------------------------


def accounts_output(result: AccountsResult | GoldStatus) -> Any:
    """The customers of the selected tier with their trend and standing among peers."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    tier = resolved.tier or "every tier"
    if result.grid.empty:
        return chart_card(TITLES["accounts"], _empty(resolved, f"No customer of {tier}."),
                          definition=definition("engagement_accounts"))
    shown = len(result.grid.rows)
    more = f"; the {format_count(shown)} most engaged shown (the limit is {format_count(ACCOUNT_LIMIT)})" \
        if shown < result.total else ""
    body = [html.Div(f"{format_count(result.total)} customers of {tier}{more} \u00b7 click a row to compare it "
                     "with its peers, a chip for its engagement", className="small text-muted mb-1"),
            data_grid(ID.ACCOUNTS_GRID, result.grid, export_name=ACCOUNTS_EXPORT, search=resolved.canonical.search,
                      row_id_field="account_id")]
    return chart_card(TITLES["accounts"], body, definition=definition("engagement_accounts"),
                      subtitle="Score now against 30 days before: \u25b2 rising, \u25bc falling, \u25cf steady")


# --- 6. Contacts --------------------------------------------------------------------------


def campaign_buttons(resolved: ResolvedQuery) -> html.Div:
    """Links to the server export of every Potential contact of the scope (the campaign list)."""
    search = resolved.canonical.search
    return html.Div([
        html.Span("Campaign list (every Potential contact)", className="small text-muted me-2"),
        dbc.Button("CSV", href=export_href(CAMPAIGN_EXPORT, "csv", search), external_link=True, size="sm",
                   color="primary", outline=True, className="me-1", id=f"{CAMPAIGN_EXPORT}-export-csv"),
        dbc.Button("Excel", href=export_href(CAMPAIGN_EXPORT, "xlsx", search), external_link=True, size="sm",
                   color="primary", outline=True, id=f"{CAMPAIGN_EXPORT}-export-xlsx"),
    ], className="c360-grid-export c360-campaign-export mb-1", id=ID.CAMPAIGN)


def contacts_output(result: ContactsResult | GoldStatus) -> Any:
    """The contacts grid of the selected tier with their trend, and the campaign list export."""
    if isinstance(result, GoldStatus):
        return no_data_panel(result)
    resolved = result.resolved
    tier = resolved.tier or "every tier"
    if result.grid.empty:
        return chart_card(TITLES["contacts"], [campaign_buttons(resolved), _empty(resolved, f"No contact of {tier}.")],
                          definition=definition("engagement_contacts"))
    shown = len(result.grid.rows)
    more = f"; the {format_count(shown)} most engaged shown (the limit is {format_count(CONTACT_LIMIT)})" \
        if shown < result.total else ""
    body = [campaign_buttons(resolved),
            html.Div(f"{format_count(result.total)} contacts of {tier}{more} \u00b7 filter any column",
                     className="small text-muted mb-1"),
            data_grid(ID.CONTACTS_GRID, result.grid, export_name=CONTACTS_EXPORT, search=resolved.canonical.search,
                      row_id_field="contact_id")]
    return chart_card(TITLES["contacts"], body, definition=definition("engagement_contacts"),
                      subtitle="Score now against 30 days before: \u25b2 rising, \u25bc falling, \u25cf steady")

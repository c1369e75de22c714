"""Admin: the audit log. Filter by user, action, dates and text; page through; export as CSV."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import audit
from dashboard.extensions import db
from dashboard.permissions import EXPORT_DATA, has_permission
from layouts.components import page_header

TITLE = "Audit log"
PAGE_SIZE = 50


class AuditIds:
    ACTOR = "audit-actor"
    ACTION = "audit-action"
    DATES = "audit-dates"
    TEXT = "audit-text"
    PAGER = "audit-pager"
    SUMMARY = "audit-summary"
    RESULTS = "audit-results"
    EXPORT = "audit-export"


ID = AuditIds


def filters_bar(actors: list[str], actions: list[str]) -> dbc.Row:
    """User, action, date range and free-text filters."""
    return dbc.Row([
        dbc.Col(dcc.Dropdown(id=ID.ACTOR, options=actors, placeholder="Any user", clearable=True), md=3),
        dbc.Col(dcc.Dropdown(id=ID.ACTION, options=[{"label": a.replace("_", " "), "value": a}
                                                     for a in actions],
                             placeholder="Any action", clearable=True), md=3),
        dbc.Col(dcc.DatePickerRange(id=ID.DATES, display_format="YYYY-MM-DD", clearable=True,
                                    start_date_placeholder_text="From", end_date_placeholder_text="To"), md=3),
        dbc.Col(dbc.Input(id=ID.TEXT, type="search", placeholder="Search target, address, details",
                          debounce=True, maxLength=200), md=3),
    ], className="g-2 mb-3")


def layout(**_kwargs: object) -> html.Div:
    with db.session() as session:
        actors, actions = audit.known_actors(session), audit.known_actions(session)
    # Always rendered so the callback can update its link; hidden without export_data (the export
    # route checks the permission itself).
    export = dbc.Button("Export CSV", id=ID.EXPORT, href="/admin/audit/export.csv", external_link=True,
                        color="secondary", outline=True, size="sm",
                        style=None if has_permission(EXPORT_DATA) else {"display": "none"})
    return html.Div([
        page_header(TITLE, "Who did what, when and from where. Entries can be added, never changed.",
                    controls=export),
        filters_bar(actors, actions),
        html.Div(id=ID.SUMMARY, className="text-muted small mb-2"),
        dcc.Loading(html.Div(id=ID.RESULTS)),
        dbc.Pagination(id=ID.PAGER, max_value=1, active_page=1, fully_expanded=False,
                       first_last=True, previous_next=True, className="mt-3"),
    ], id="audit-page")

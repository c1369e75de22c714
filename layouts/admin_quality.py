"""Admin: data quality. Checks and their trend, profile completeness, quarantine, identity
resolution and the churn model registry, each panel filled by its own callback."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.queries.quality import SEVERITIES, STAGES, STATUSES
from layouts.components import chart_card, page_header

TITLE = "Data quality"


class AdminQualityIds:
    """Component ids of the page, shared by its layout and its callbacks."""

    PAGE = "aq-page"
    REFRESH = "aq-refresh"
    GOLD_STATUS = "aq-gold-status"
    STAGE = "aq-stage"
    STATUS = "aq-status"
    SEVERITY = "aq-severity"
    CHECKS = "aq-checks"
    CHECKS_TABLE = "aq-checks-table"
    CHECKS_EMPTY = "aq-checks-empty"
    COMPLETENESS = "aq-completeness"
    QUARANTINE = "aq-quarantine"
    IDENTITY = "aq-identity"
    MODELS = "aq-models"


ID = AdminQualityIds
PANEL_TITLES: dict[str, str] = {
    ID.CHECKS: "Checks",
    ID.COMPLETENESS: "Profile completeness",
    ID.QUARANTINE: "Quarantine",
    ID.IDENTITY: "Identity resolution",
    ID.MODELS: "Churn models and scoring",
}


def _choice(component_id: str, label: str, values: tuple[str, ...], value: list[str]) -> html.Div:
    return html.Div([
        dbc.Label(label, html_for=component_id, className="c360-filter-label"),
        dcc.Dropdown(id=component_id, options=[{"label": v, "value": v} for v in values], value=value,
                     multi=True, placeholder="Any", searchable=False),
    ], className="c360-filter")


def _loading(component_id: str) -> dcc.Loading:
    """A panel's place: its titled card, empty until the callback fills it."""
    return dcc.Loading(html.Div(chart_card(PANEL_TITLES[component_id], None), id=component_id, className="h-100"),
                       type="circle", delay_show=200, parent_className="h-100 c360-loading")


def _as_list(raw: object, allowed: tuple[str, ...]) -> list[str]:
    """A deep link's filter value ('fail' or 'fail,pass') as the dropdown's list of known values."""
    parts = raw.split(",") if isinstance(raw, str) else []
    return [v for v in allowed if v in parts]


def checks_card(stage: object, status: object, severity: object) -> dbc.Card:
    """The checks panel: its filters stay put while the callback redraws the list below them."""
    filters = html.Div([
        _choice(ID.STAGE, "Stage", STAGES, _as_list(stage, STAGES)),
        _choice(ID.STATUS, "Status", STATUSES, _as_list(status, STATUSES)),
        _choice(ID.SEVERITY, "Severity", SEVERITIES, _as_list(severity, SEVERITIES)),
    ], className="c360-filters")
    return dbc.Card([
        dbc.CardHeader([html.H6(PANEL_TITLES[ID.CHECKS], className="c360-card-title mb-0"),
                        html.Div("Each check's latest result and its last runs, failures first",
                                 className="c360-card-subtitle text-muted mb-2"),
                        filters], className="c360-card-header"),
        dbc.CardBody(dcc.Loading(html.Div(id=ID.CHECKS), type="circle", delay_show=200),
                     className="c360-card-body"),
    ], className="c360-chart-card", id="aq-checks-card")


def layout(stage: object = None, status: object = None, severity: object = None, **_: object) -> html.Div:
    """The gold status, the checks with their filters (deep-linkable: ?status=fail&stage=silver),
    then quarantine, completeness, identity and models."""
    reload = dbc.Button("Reload", id=ID.REFRESH, color="secondary", outline=True, size="sm")
    return html.Div([
        page_header(TITLE, "Checks after each stage, completeness, quarantined rows, identity and models",
                    controls=reload),
        html.Div(id=ID.GOLD_STATUS),
        dbc.Row(dbc.Col(checks_card(stage, status, severity)), className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(_loading(ID.QUARANTINE), lg=7),
            dbc.Col(_loading(ID.COMPLETENESS), lg=5),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(_loading(ID.IDENTITY), lg=7),
            dbc.Col(_loading(ID.MODELS), lg=5),
        ], className="g-3 mb-4"),
    ], id=ID.PAGE, className="c360-admin-quality")

"""The alert centre: a bell in the navbar counting the user's open alerts, and a side panel listing
them with their account, kind, severity and age, to acknowledge or resolve."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.permissions import EXECUTE_ACTIONS, VIEW_CUSTOMER360, has_permission
from dashboard.queries.alerts import KIND_LABELS, AlertCentre, AlertItem
from layouts.components import humanize_age

# Alerts are per customer: whoever may open customer views may see them; acting on them is an action.
VIEW_ALERTS = VIEW_CUSTOMER360
CHANGE_ALERTS = EXECUTE_ACTIONS
REFRESH_MILLISECONDS = 5 * 60 * 1000
SEVERITY_COLORS = {"HIGH": "danger", "MEDIUM": "warning", "LOW": "secondary"}


class AlertCentreIds:
    """Component ids of the alert centre, shared by its layout and its callbacks."""

    BELL = "alert-bell"
    COUNT = "alert-bell-count"
    PANEL = "alert-panel"
    LIST = "alert-list"
    MESSAGE = "alert-message"
    CHANGED = "alert-changed"  # bumped after a change, so the count and list reload
    REFRESH = "alert-refresh"
    ITEM = "alert-item"  # class of each listed alert
    CHANGE = "alert-change"  # pattern-matching id type of the acknowledge / resolve buttons


ID = AlertCentreIds


def change_button_id(alert_id: int, status: str) -> dict[str, object]:
    return {"type": ID.CHANGE, "alert_id": alert_id, "status": status}


def bell_count(count: int) -> dbc.Badge:
    """The number on the bell: red while any alert waits for someone."""
    return dbc.Badge(f"{count:,}", color="danger" if count else "secondary", pill=True,
                     className="ms-1", title=f"{count:,} open alert{'s' if count != 1 else ''}")


def _alert_row(alert: AlertItem, *, may_change: bool, now: datetime | None) -> html.Div:
    actions = []
    if may_change:
        if alert.status == "open":
            actions.append(dbc.Button("Acknowledge", id=change_button_id(alert.alert_id, "acknowledged"),
                                      size="sm", color="primary", outline=True, className="me-2"))
        actions.append(dbc.Button("Resolve", id=change_button_id(alert.alert_id, "resolved"),
                                  size="sm", color="success", outline=True))
    status = (dbc.Badge("Acknowledged", color="info", className="ms-2") if alert.status == "acknowledged"
              else None)
    return html.Div([
        html.Div([
            html.Strong(alert.account_name or alert.account_id, className="me-2"),
            dbc.Badge(alert.severity.title(), color=SEVERITY_COLORS.get(alert.severity, "secondary")),
            status,
        ], className="d-flex align-items-center flex-wrap"),
        html.Div([html.Span(KIND_LABELS.get(alert.kind, alert.kind)), html.Span(" \u00b7 "),
                  html.Span(f"opened {humanize_age(alert.opened_at, now)}", title=f"{alert.opened_at:%Y-%m-%d %H:%M}")],
                 className="small text-muted"),
        html.Div(alert.description, className="small"),
        html.Div(actions, className="mt-2") if actions else None,
    ], className=f"list-group-item {ID.ITEM}", **{"data-alert-id": str(alert.alert_id)})


# The closed panel's body, shown in the moment between opening it and its list arriving.
LIST_LOADING = html.P("Loading alerts\u2026", className="text-muted small", role="status")


def alert_list(centre: AlertCentre, *, may_change: bool, now: datetime | None = None) -> html.Div:
    """The panel body: one row per unresolved alert, or a plain word when there are none."""
    if not centre.alerts:
        return html.P("No open alerts for your accounts.", className="text-muted")
    intro = (f"{centre.open_count:,} open, waiting for someone. "
             "Acknowledged alerts stay listed until they are resolved.")
    return html.Div([html.P(intro, className="small text-muted"),
                     html.Div([_alert_row(a, may_change=may_change, now=now) for a in centre.alerts],
                              className="list-group")])


def alert_centre() -> html.Div | None:
    """The bell and its panel, for users who may see alerts; nothing for the others."""
    if not has_permission(VIEW_ALERTS):
        return None
    return html.Div([
        dbc.Button(["\U0001f514", html.Span(bell_count(0), id=ID.COUNT)], id=ID.BELL, color="dark",
                   className="position-relative py-1", title="Alerts", n_clicks=0),
        dbc.Offcanvas([html.Div(id=ID.MESSAGE), html.Div(LIST_LOADING, id=ID.LIST)], id=ID.PANEL, title="Alerts",
                      placement="end", is_open=False, scrollable=True),
        dcc.Store(id=ID.CHANGED, data=0),
        dcc.Interval(id=ID.REFRESH, interval=REFRESH_MILLISECONDS),
    ], className="me-3 d-flex align-items-center")

"""Alert centre callbacks: open the panel, reload the count and list, acknowledge or resolve."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user

from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.permissions import has_permission
from dashboard.queries.alerts import (
    ALERT_CHANGES,
    AlertError,
    alert_centre,
    change_alert_status,
    open_alert_count,
)
from dashboard.scope import current_scope
from layouts.alert_centre import CHANGE_ALERTS, ID, LIST_LOADING, VIEW_ALERTS, alert_list, bell_count

CHANGE_WORDS = {"acknowledged": "Acknowledged", "resolved": "Resolved"}


@guarded_callback(VIEW_ALERTS, Output(ID.PANEL, "is_open"), Input(ID.BELL, "n_clicks"),
                  State(ID.PANEL, "is_open"), prevent_initial_call=True)
def toggle_panel(clicks: Any, is_open: Any) -> bool:
    """The bell opens and closes the panel."""
    if not clicks:
        raise PreventUpdate
    return not bool(is_open)


@guarded_callback(VIEW_ALERTS, output=dict(count=Output(ID.COUNT, "children"), alerts=Output(ID.LIST, "children")),
                  inputs=dict(_tick=Input(ID.REFRESH, "n_intervals"), _changed=Input(ID.CHANGED, "data"),
                              opened=Input(ID.PANEL, "is_open")))
def refresh_alerts(_tick: Any, _changed: Any, opened: Any) -> dict[str, Any]:
    """The count for the caller's scope on load, every few minutes and after a change; the list only while
    the panel is open. A closed panel holds no rows: a hundred listed alerts are some six hundred
    components, which every page would otherwise carry and the browser re-check on each update."""
    scope = current_scope()
    with db.session() as session:
        if not opened:
            return {"count": bell_count(open_alert_count(session, scope)), "alerts": LIST_LOADING}
        centre = alert_centre(session, scope)
    return {"count": bell_count(centre.open_count),
            "alerts": alert_list(centre, may_change=has_permission(CHANGE_ALERTS))}


def _requested_change() -> tuple[int, str]:
    """The alert and status of the button that was clicked (untrusted: checked here)."""
    clicked = ctx.triggered[0] if ctx.triggered else {}
    button = ctx.triggered_id
    if not clicked.get("value") or not isinstance(button, dict):
        raise PreventUpdate  # buttons appearing in a fresh list fire without a click
    alert_id, status = button.get("alert_id"), button.get("status")
    if not isinstance(alert_id, int) or isinstance(alert_id, bool) or status not in ALERT_CHANGES:
        raise PreventUpdate
    return alert_id, status


@guarded_callback(CHANGE_ALERTS, output=dict(changed=Output(ID.CHANGED, "data"), message=Output(ID.MESSAGE, "children")),
                  inputs=dict(_clicks=Input({"type": ID.CHANGE, "alert_id": ALL, "status": ALL}, "n_clicks")),
                  state=dict(changed=State(ID.CHANGED, "data")), prevent_initial_call=True)
def change_alert(_clicks: Any, changed: Any) -> dict[str, Any]:
    """Acknowledge or resolve one alert in the caller's scope; the change is audited."""
    alert_id, status = _requested_change()
    try:
        with db.begin() as session:
            alert = change_alert_status(session, current_scope(), alert_id, status, actor=current_user.email)
            title = alert.title
    except AlertError:
        return {"changed": no_update,
                "message": dbc.Alert("That alert is no longer available.", color="warning", className="py-2")}
    counter = (changed if isinstance(changed, int) else 0) + 1
    return {"changed": counter,
            "message": dbc.Alert(f"{CHANGE_WORDS[status]}: {title}.", color="success", className="py-2",
                                 duration=4000)}

"""Customer 360 overview wiring: the page's state store (the account id) feeds the customer360
queries, whose results the page's layout helpers turn into cards and lists; the alert and action
buttons call the audited services, each behind execute_actions checked on the server.

The `build_*` functions take a session, so tests call them directly with their own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import EXECUTE_ACTIONS, VIEW_CUSTOMER360
from dashboard.queries import customer360 as q
from dashboard.queries.alerts import ALERT_CHANGES, AlertError, change_alert_status
from dashboard.scope import DataScope, current_scope
from layouts import customer360 as page
from layouts.customer360 import ID, KPI_CARDS

STATE_INPUT = dict(state=Input(ID.STATE, "data"))
LISTS_INPUT = dict(state=Input(ID.STATE, "data"), _changed=Input(ID.CHANGED, "data"))
ALERT_WORDS = {"acknowledged": "Acknowledged", "resolved": "Resolved"}


def _account_id(state: Any) -> str:
    account_id = state.get("account_id") if isinstance(state, dict) else None
    if not isinstance(account_id, str) or not account_id:
        raise PreventUpdate
    return account_id


def build_kpis(session: Session, account_id: str, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.kpi_outputs(q.account_kpis(session, account_id, scope, policy))


def build_risk(session: Session, account_id: str, *, scope: DataScope) -> Any:
    return page.risk_outputs(q.risk_panel(session, account_id, scope))


def build_alerts(session: Session, account_id: str, *, scope: DataScope, may_change: bool) -> Any:
    return page.alert_outputs(q.risk_alerts(session, account_id, scope), may_change=may_change)


def build_actions(session: Session, account_id: str, *, scope: DataScope, policy: MaskPolicy, may_act: bool) -> Any:
    return page.action_outputs(q.next_best_actions(session, account_id, scope, policy), may_act=may_act)


# --- Panels --------------------------------------------------------------------------------


@page_callback(VIEW_CUSTOMER360, output={card_id: Output(card_id, "children") for card_id in KPI_CARDS},
               inputs=STATE_INPUT)
def update_kpis(state: Any) -> dict[str, Any]:
    """The seven KPI cards of the customer."""
    with db.session() as session:
        return cached_build(build_kpis, session, _account_id(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_CUSTOMER360, output=Output(ID.RISK, "children"), inputs=STATE_INPUT)
def update_risk(state: Any) -> Any:
    """Churn score and factors, health parts, usage trend and anomalies."""
    with db.session() as session:
        return build_risk(session, _account_id(state), scope=current_scope())


@page_callback(VIEW_CUSTOMER360, output=Output(ID.ALERTS, "children"), inputs=LISTS_INPUT)
def update_alerts(state: Any, _changed: Any) -> Any:
    """The customer's unresolved alerts; reloaded after a change."""
    with db.session() as session:
        return build_alerts(session, _account_id(state), scope=current_scope(), may_change=page.may_act())


@page_callback(VIEW_CUSTOMER360, output=Output(ID.ACTIONS, "children"), inputs=LISTS_INPUT)
def update_actions(state: Any, _changed: Any) -> Any:
    """The customer's recommended actions; reloaded after a change."""
    with db.session() as session:
        return build_actions(session, _account_id(state), scope=current_scope(),
                             policy=MaskPolicy.for_current_user(), may_act=page.may_act())


# --- Acting: alerts and actions (execute_actions, audited) --------------------------------

CHANGE_OUTPUTS = dict(changed=Output(ID.CHANGED, "data", allow_duplicate=True),
                      message=Output(ID.MESSAGE, "children", allow_duplicate=True))


def _clicked() -> dict[str, Any]:
    """The pattern-matching id of the button that was clicked; buttons appearing in a fresh list
    fire without a click, and ids are untrusted (checked by the services)."""
    clicked = ctx.triggered[0] if ctx.triggered else {}
    if not clicked.get("value") or not isinstance(ctx.triggered_id, dict):
        raise PreventUpdate
    return dict(ctx.triggered_id)


def _changed(counter: Any, message: str, color: str = "success") -> dict[str, Any]:
    return {"changed": (counter if isinstance(counter, int) else 0) + 1,
            "message": dbc.Alert(message, color=color, className="py-2", duration=6000)}


def _refused(message: str) -> dict[str, Any]:
    return {"changed": no_update, "message": dbc.Alert(message, color="warning", className="py-2")}


@page_callback(EXECUTE_ACTIONS, output=CHANGE_OUTPUTS,
               inputs=dict(_clicks=Input({"type": ID.ALERT_CHANGE, "alert_id": ALL, "status": ALL}, "n_clicks")),
               state=dict(changed=State(ID.CHANGED, "data")), prevent_initial_call=True)
def change_alert(_clicks: Any, changed: Any) -> dict[str, Any]:
    """Acknowledge or resolve one of the customer's alerts; audited."""
    button = _clicked()
    alert_id, status = button.get("alert_id"), button.get("status")
    if not isinstance(alert_id, int) or isinstance(alert_id, bool) or status not in ALERT_CHANGES:
        raise PreventUpdate
    try:
        with db.begin() as session:
            title = change_alert_status(session, current_scope(), alert_id, status, actor=current_user.email).title
    except AlertError:
        return _refused("That alert is no longer available.")
    return _changed(changed, f"{ALERT_WORDS[status]}: {title}.")


@page_callback(EXECUTE_ACTIONS, output=CHANGE_OUTPUTS,
               inputs=dict(_clicks=Input({"type": ID.EXECUTE, "action_id": ALL}, "n_clicks")),
               state=dict(changed=State(ID.CHANGED, "data")), prevent_initial_call=True)
def execute_action(_clicks: Any, changed: Any) -> dict[str, Any]:
    """Mark an action executed for everyone; audited."""
    action_id = _clicked().get("action_id")
    try:
        with db.begin() as session:
            action = q.execute_action(session, current_scope(), action_id, actor=current_user.email)
    except (q.NotFound, ValueError) as exc:
        return _refused(f"Not done: {exc}.")
    return _changed(changed, f"Executed: {action.title}.")


@page_callback(EXECUTE_ACTIONS,
               output=dict(is_open=Output(ID.SCHEDULE_MODAL, "is_open"), target=Output(ID.SCHEDULE_TARGET, "data"),
                           title=Output(ID.SCHEDULE_TITLE, "children"), owners=Output(ID.SCHEDULE_OWNER, "options"),
                           owner=Output(ID.SCHEDULE_OWNER, "value"), day=Output(ID.SCHEDULE_DATE, "date"),
                           min_day=Output(ID.SCHEDULE_DATE, "min_date_allowed"),
                           error=Output(ID.SCHEDULE_ERROR, "children")),
               inputs=dict(_clicks=Input({"type": ID.SCHEDULE, "action_id": ALL}, "n_clicks")),
               prevent_initial_call=True)
def open_schedule(_clicks: Any) -> dict[str, Any]:
    """The Schedule button opens the modal for its action, with the caller as default owner."""
    action_id = _clicked().get("action_id")
    with db.session() as session:
        account = q.action_account(session, current_scope(), action_id)
        owners = q.action_owners(session, account) if account else []  # an action out of scope: no one
    today = date.today().isoformat()
    me = current_user.email if any(o.email == current_user.email for o in owners) else None
    return {"is_open": True, "target": action_id, "title": "", "owners": page.owner_options(owners), "owner": me,
            "day": today, "min_day": today, "error": ""}


@page_callback(EXECUTE_ACTIONS,
               output=dict(**CHANGE_OUTPUTS, is_open=Output(ID.SCHEDULE_MODAL, "is_open", allow_duplicate=True),
                           error=Output(ID.SCHEDULE_ERROR, "children", allow_duplicate=True)),
               inputs=dict(clicks=Input(ID.SCHEDULE_SUBMIT, "n_clicks")),
               state=dict(target=State(ID.SCHEDULE_TARGET, "data"), day=State(ID.SCHEDULE_DATE, "date"),
                          owner=State(ID.SCHEDULE_OWNER, "value"), changed=State(ID.CHANGED, "data")),
               prevent_initial_call=True)
def schedule_action(clicks: Any, target: Any, day: Any, owner: Any, changed: Any) -> dict[str, Any]:
    """Schedule the modal's action for the picked day and owner, for everyone; audited."""
    if not clicks:
        raise PreventUpdate
    try:
        with db.begin() as session:
            action = q.schedule_action(session, current_scope(), target, actor=current_user.email,
                                       due_on=day if isinstance(day, str) else None, owner=owner)
    except q.NotFound:
        return {**_refused("That action is no longer available."), "is_open": False, "error": ""}
    except ValueError as exc:
        return {"changed": no_update, "message": no_update, "is_open": True, "error": f"{exc}."}
    done = _changed(changed, f"Scheduled for {action.scheduled_for:%d %b %Y}, owner {action.owner}: {action.title}.")
    return {**done, "is_open": False, "error": ""}

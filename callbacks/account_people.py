"""Customer 360 People & feedback wiring: the contacts, linked-accounts and feedback panels, a
contact's chat history in the side panel, and linking or unlinking accounts (administrators).

The `build_*` functions take a session, so tests call them directly.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask_login import current_user
from sqlalchemy.orm import Session

from callbacks.kit import cached_build, page_callback
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.permissions import MANAGE_USERS, VIEW_CUSTOMER360, has_permission
from dashboard.queries import account_journey as q
from dashboard.scope import DataScope, current_scope
from layouts import account_people as page
from layouts.account_people import FEEDBACK_OUTPUTS
from layouts.account_people import PeopleIds as ID

STATE_INPUT = dict(state=Input(ID.STATE, "data"))


def _account_id(state: Any) -> str:
    account_id = state.get("account_id") if isinstance(state, dict) else None
    if not isinstance(account_id, str) or not account_id:
        raise PreventUpdate
    return account_id


def build_contacts(session: Session, account_id: str, *, scope: DataScope, policy: MaskPolicy) -> Any:
    return page.contacts_panel(q.account_contacts(session, account_id, scope, policy), scope)


def build_linked(session: Session, account_id: str, *, scope: DataScope, may_link: bool) -> Any:
    return page.linked_panel(q.linked_accounts(session, account_id, scope), may_link=may_link)


def build_feedback(session: Session, account_id: str, *, scope: DataScope, policy: MaskPolicy) -> dict[str, Any]:
    return page.feedback_panels(q.account_feedback(session, account_id, scope, policy), scope)


def build_thread(session: Session, account_id: str, contact_id: str, *, scope: DataScope,
                 policy: MaskPolicy) -> tuple[str, Any]:
    return page.thread_panel(q.contact_thread(session, account_id, contact_id, scope, policy))


@page_callback(VIEW_CUSTOMER360, output=Output(ID.CONTACTS, "children"), inputs=STATE_INPUT)
def update_contacts(state: Any) -> Any:
    with db.session() as session:
        return cached_build(build_contacts, session, _account_id(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_CUSTOMER360, output=Output(ID.LINKED, "children"),
               inputs=dict(state=Input(ID.STATE, "data"), _changed=Input(ID.LINK_CHANGED, "data")))
def update_linked(state: Any, _changed: Any) -> Any:
    with db.session() as session:
        return build_linked(session, _account_id(state), scope=current_scope(),
                            may_link=has_permission(MANAGE_USERS))


@page_callback(VIEW_CUSTOMER360, output={name: Output(f"ap-{name}", "children") for name in FEEDBACK_OUTPUTS},
               inputs=STATE_INPUT)
def update_feedback(state: Any) -> dict[str, Any]:
    with db.session() as session:
        return cached_build(build_feedback, session, _account_id(state), scope=current_scope(),
                            policy=MaskPolicy.for_current_user())


@page_callback(VIEW_CUSTOMER360,
               output=dict(is_open=Output(ID.THREAD, "is_open"), title=Output(ID.THREAD, "title"),
                           body=Output(ID.THREAD_BODY, "children")),
               inputs=dict(_clicks=Input({"type": ID.CONTACT, "id": ALL}, "n_clicks")),
               state=dict(state=State(ID.STATE, "data")), prevent_initial_call=True)
def open_thread(_clicks: Any, state: Any) -> dict[str, Any]:
    """A contact's name opens their chat history in the side panel."""
    button = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0].get("value") or not isinstance(button, dict):
        raise PreventUpdate  # names appearing in a fresh list fire without a click
    contact_id = button.get("id")
    if not isinstance(contact_id, str):
        raise PreventUpdate
    with db.session() as session:
        title, body = build_thread(session, _account_id(state), contact_id, scope=current_scope(),
                                   policy=MaskPolicy.for_current_user())
    return {"is_open": True, "title": title, "body": body}


def change_link(account_id: str, other_account_id: str, action: str, *, scope: DataScope, actor: str,
                permissions: Any) -> tuple[bool, str]:
    """(changed?, message) for a link or unlink; the query function checks the permission again."""
    try:
        with db.begin() as session:
            return True, q.change_account_link(session, scope, account_id, other_account_id, action, actor=actor,
                                               permissions=permissions).message
    except q.AccountLinkError as refused:
        return False, str(refused)


@page_callback(MANAGE_USERS, output=dict(message=Output(ID.LINK_MESSAGE, "children"),
                                         changed=Output(ID.LINK_CHANGED, "data")),
               inputs=dict(_link=Input(ID.LINK_BUTTON, "n_clicks"),
                           _unlink=Input({"type": ID.UNLINK, "id": ALL}, "n_clicks")),
               state=dict(other=State(ID.LINK_INPUT, "value"), state=State(ID.STATE, "data"),
                          changed=State(ID.LINK_CHANGED, "data")), prevent_initial_call=True)
def link_or_unlink(_link: Any, _unlink: Any, other: Any, state: Any, changed: Any) -> dict[str, Any]:
    """Link the typed account, or unlink a listed one; recorded, audited, applied at the next refresh."""
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    button = ctx.triggered_id
    if isinstance(button, dict):
        action, other = "unlink", button.get("id")
    else:
        action = "link"
    if not isinstance(other, str):
        raise PreventUpdate
    ok, message = change_link(_account_id(state), other, action, scope=current_scope(), actor=current_user.email,
                              permissions=current_user.permissions)
    alert = dbc.Alert(message, color="success" if ok else "warning", className="py-2 mt-2 mb-0",
                      id="ap-link-alert")
    return {"message": alert, "changed": (changed if isinstance(changed, int) else 0) + 1 if ok else no_update}

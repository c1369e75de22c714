"""Admin users callbacks: thin wrappers over `dashboard.users` and `dashboard.tokens`, which
validate input and write the audit trail in the same transaction as each change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, html, no_update
from flask_login import current_user
from sqlalchemy.orm import Session

from dashboard import tokens, users
from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.permissions import MANAGE_USERS
from dashboard.queries.accounts import account_choices
from dashboard.queries.admin import user_assignment
from layouts.admin_users import ID
from layouts.components import compact_table, format_day

MAX_LIST_VALUES = 500


def _strings(raw: Any) -> list[str]:
    """A dropdown's value as a list of strings; anything else is dropped."""
    if raw is None:
        return []
    values = raw if isinstance(raw, list) else [raw]
    return [v for v in values[:MAX_LIST_VALUES] if isinstance(v, str)]


def _text(raw: Any, limit: int = 254) -> str:
    return raw.strip()[:limit] if isinstance(raw, str) else ""


def _user_id(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


# --- List ------------------------------------------------------------------------------


def users_table(rows: list[users.UserSummary]) -> html.Div:
    body = [[html.Div([html.Div(u.full_name or u.email, className="fw-semibold"),
                       html.Div(u.email, className="small text-muted")]),
             u.role.replace("_", " "),
             ", ".join(u.territories) or ("\u2014" if not u.account_ids else ""),
             str(len(u.account_ids)),
             u.crm_user_id or "\u2014",
             dbc.Badge("active" if u.is_active else "deactivated", color="success" if u.is_active else "secondary"),
             format_day(u.last_login_at.date()) if u.last_login_at else "never",
             str(u.active_tokens)]
            for u in rows]
    return compact_table(["User", "Role", "Territories", "Accounts", "CRM user", "Status", "Last sign-in", "Tokens"],
                         body, numeric=(3, 7), table_id="au-users-table")


def build_user_list(session: Session, search: Any) -> tuple[html.Div, list[dict[str, Any]]]:
    rows = users.list_users(session, search=_text(search, 200))
    options = [{"label": f"{u.email} ({u.role.replace('_', ' ')})", "value": u.id} for u in rows]
    if not rows:
        return html.P("No user matches this search.", className="text-muted"), options
    return users_table(rows), options


@guarded_callback(MANAGE_USERS, Output(ID.TABLE, "children"), Output(ID.USER, "options"),
                  Input(ID.SEARCH, "value"), Input(ID.REFRESH, "data"))
def update_user_list(search: Any, _refresh: Any) -> tuple[Any, Any]:
    """The users matching the search, and the same users in the edit form's picker."""
    with db.session() as session:
        return build_user_list(session, search)


# --- Edit form -------------------------------------------------------------------------


@guarded_callback(MANAGE_USERS, Output(ID.EDIT_NAME, "value"), Output(ID.EDIT_ROLE, "value"),
                  Output(ID.EDIT_TERRITORIES, "value"), Output(ID.EDIT_ACCOUNTS, "value"),
                  Output(ID.EDIT_CRM_USER, "value"), Output(ID.EDIT_STATUS, "children"),
                  Input(ID.USER, "value"), Input(ID.REFRESH, "data"))
def load_user(user_id: Any, _refresh: Any) -> tuple[Any, ...]:
    """Fill the edit form with the chosen user's name, role, scope and CRM user."""
    chosen = _user_id(user_id)
    if chosen is None:
        return "", None, [], [], None, ""
    with db.session() as session:
        found = user_assignment(session, chosen)
    if found is None:
        return "", None, [], [], None, "No such user."
    status = f"{found.email} \u00b7 {'active' if found.is_active else 'deactivated'}"
    return (found.full_name, found.role, list(found.territories), list(found.account_ids), found.crm_user_id,
            status)


def _account_options(search: Any, selected: Any) -> list[dict[str, str]]:
    with db.session() as session:
        return account_choices(session, _strings(selected), _text(search, 100))


@guarded_callback(MANAGE_USERS, Output(ID.NEW_ACCOUNTS, "options"),
                  Input(ID.NEW_ACCOUNTS, "search_value"), Input(ID.NEW_ACCOUNTS, "value"))
def new_account_options(search: Any, selected: Any) -> list[dict[str, str]]:
    """Accounts matching what the admin types, plus the ones already chosen."""
    return _account_options(search, selected)


@guarded_callback(MANAGE_USERS, Output(ID.EDIT_ACCOUNTS, "options"),
                  Input(ID.EDIT_ACCOUNTS, "search_value"), Input(ID.EDIT_ACCOUNTS, "value"))
def edit_account_options(search: Any, selected: Any) -> list[dict[str, str]]:
    """Accounts matching what the admin types, plus the ones already assigned."""
    return _account_options(search, selected)


# --- Actions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    """What an action shows: in the create card or in the edit card, and whether to refresh."""

    create_message: Any = None
    action_message: Any = None
    changed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _ok(text: Any) -> dbc.Alert:
    return dbc.Alert(text, color="success", className="py-2 mb-0")


def _error(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", className="py-2 mb-0")


def _one_time_password(intro: str, password: str) -> dbc.Alert:
    return dbc.Alert([html.Div(intro), html.Code(password, id="au-one-time-password", className="fs-5"),
                      html.Div("It is shown only once; the user must choose a new password at sign-in.",
                               className="small")], color="success", className="py-2 mb-0")


def create(session: Session, form: dict[str, Any], actor: str) -> ActionResult:
    created = users.create_user(session, email=_text(form.get("email")), role=_text(form.get("role"), 100),
                                full_name=_text(form.get("full_name"), 200),
                                territories=_strings(form.get("territories")),
                                account_ids=_strings(form.get("account_ids")),
                                crm_user_id=_text(form.get("crm_user_id"), 200) or None, actor=actor)
    message = _one_time_password(f"Created {created.user.email}. One-time password:",
                                 created.initial_password or "")
    return ActionResult(create_message=message, changed=True, details={"user_id": created.user.id})


def edit(session: Session, action: str, user_id: int, form: dict[str, Any], actor: str) -> ActionResult:
    """Run one edit-card action on `user_id`."""
    if action == ID.SAVE:
        user = users.update_user(session, user_id, role=_text(form.get("role"), 100) or None,
                                 territories=_strings(form.get("territories")),
                                 account_ids=_strings(form.get("account_ids")),
                                 # A cleared choice ("") unlinks the CRM user.
                                 crm_user_id=_text(form.get("crm_user_id"), 200),
                                 full_name=_text(form.get("full_name"), 200), actor=actor)
        return ActionResult(action_message=_ok(f"Saved {user.email}."), changed=True)
    if action == ID.TOGGLE_ACTIVE:
        found = user_assignment(session, user_id)
        if found is None:
            raise users.UserError("No such user.")
        user = users.set_user_active(session, user_id, not found.is_active, actor=actor)
        state = "reactivated" if user.is_active else "deactivated; their sessions and tokens were ended"
        return ActionResult(action_message=_ok(f"{user.email} {state}."), changed=True)
    if action == ID.RESET_PASSWORD:
        password = users.reset_password(session, user_id, actor=actor)
        return ActionResult(action_message=_one_time_password("Password reset. One-time password:", password),
                            changed=True)
    if action == ID.REVOKE_SESSIONS:
        users.revoke_sessions(session, user_id, actor=actor)
        return ActionResult(action_message=_ok("Every session of this user was ended."), changed=True)
    if action == ID.REVOKE_TOKENS:
        active = [t for t in tokens.list_tokens(session, user_id) if t.status == "active"]
        for token in active:
            tokens.revoke_token(session, token.id, actor=actor)
        return ActionResult(action_message=_ok(f"Revoked {len(active)} API token{'s' if len(active) != 1 else ''}."),
                            changed=True)
    raise users.UserError("Unknown action.")


def perform(action: str | None, form: dict[str, Any], actor: str) -> ActionResult:
    """Run the action in one transaction; a refused change rolls back and says why."""
    if action is None:
        return ActionResult()
    in_create = action == ID.CREATE
    user_id = _user_id(form.get("user_id"))
    if not in_create and user_id is None:
        return ActionResult(action_message=_error("Choose a user first."))
    try:
        with db.begin() as session:
            return create(session, form, actor) if in_create else edit(session, action, user_id, form, actor)
    except users.UserError as exc:
        message = _error(str(exc))
        return ActionResult(create_message=message) if in_create else ActionResult(action_message=message)


ACTION_BUTTONS = (ID.CREATE, ID.SAVE, ID.TOGGLE_ACTIVE, ID.RESET_PASSWORD, ID.REVOKE_SESSIONS, ID.REVOKE_TOKENS)


@guarded_callback(
    MANAGE_USERS,
    Output(ID.CREATE_RESULT, "children"), Output(ID.ACTION_RESULT, "children"), Output(ID.REFRESH, "data"),
    *[Input(button, "n_clicks") for button in ACTION_BUTTONS],
    State(ID.NEW_EMAIL, "value"), State(ID.NEW_NAME, "value"), State(ID.NEW_ROLE, "value"),
    State(ID.NEW_TERRITORIES, "value"), State(ID.NEW_ACCOUNTS, "value"), State(ID.NEW_CRM_USER, "value"),
    State(ID.USER, "value"), State(ID.EDIT_NAME, "value"), State(ID.EDIT_ROLE, "value"),
    State(ID.EDIT_TERRITORIES, "value"), State(ID.EDIT_ACCOUNTS, "value"), State(ID.EDIT_CRM_USER, "value"),
    State(ID.REFRESH, "data"),
    prevent_initial_call=True,
)
def user_action(*values: Any) -> tuple[Any, Any, Any]:
    """Create, save, (de)activate, reset a password, or revoke sessions or tokens."""
    (new_email, new_name, new_role, new_territories, new_accounts, new_crm_user,
     user_id, edit_name, edit_role, edit_territories, edit_accounts, edit_crm_user,
     refresh) = values[len(ACTION_BUTTONS):]
    action = ctx.triggered_id if ctx.triggered_id in ACTION_BUTTONS else None
    if action == ID.CREATE:
        form = {"email": new_email, "full_name": new_name, "role": new_role, "territories": new_territories,
                "account_ids": new_accounts, "crm_user_id": new_crm_user}
    else:
        form = {"user_id": user_id, "full_name": edit_name, "role": edit_role, "territories": edit_territories,
                "account_ids": edit_accounts, "crm_user_id": edit_crm_user}
    result = perform(action, form, current_user.email)
    counter = (refresh if isinstance(refresh, int) else 0) + 1
    return (result.create_message if result.create_message is not None else no_update,
            result.action_message if result.action_message is not None else no_update,
            counter if result.changed else no_update)

"""Admin: users. Search, create with a one-time password, edit role and scope, (de)activate,
reset passwords, revoke sessions and API tokens."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.extensions import db
from dashboard.queries.accounts import territories
from dashboard.queries.admin import role_permissions
from dashboard.queries.crm_users import CrmUserChoice, crm_user_choices
from layouts.components import page_header

TITLE = "Users"


class AdminUsersIds:
    """Component ids shared by the layout and its callbacks."""

    PAGE = "au-page"
    SEARCH = "au-search"
    TABLE = "au-table"
    REFRESH = "au-refresh"
    NEW_EMAIL = "au-new-email"
    NEW_NAME = "au-new-name"
    NEW_ROLE = "au-new-role"
    NEW_TERRITORIES = "au-new-territories"
    NEW_ACCOUNTS = "au-new-accounts"
    NEW_CRM_USER = "au-new-crm-user"
    CREATE = "au-create"
    CREATE_RESULT = "au-create-result"
    USER = "au-user"
    EDIT_NAME = "au-edit-name"
    EDIT_ROLE = "au-edit-role"
    EDIT_TERRITORIES = "au-edit-territories"
    EDIT_ACCOUNTS = "au-edit-accounts"
    EDIT_CRM_USER = "au-edit-crm-user"
    EDIT_STATUS = "au-edit-status"
    SAVE = "au-save"
    TOGGLE_ACTIVE = "au-toggle-active"
    RESET_PASSWORD = "au-reset-password"
    REVOKE_SESSIONS = "au-revoke-sessions"
    REVOKE_TOKENS = "au-revoke-tokens"
    ACTION_RESULT = "au-action-result"


ID = AdminUsersIds


def _field(label: str, control: object, component_id: str) -> html.Div:
    return html.Div([dbc.Label(label, html_for=component_id, className="small fw-semibold mb-1"), control],
                    className="mb-2")


def _choices(values: list[str]) -> list[dict[str, str]]:
    return [{"label": v.replace("_", " "), "value": v} for v in values]


def _scope_fields(territory_id: str, accounts_id: str, crm_user_id: str, territory_names: list[str],
                  crm_users: list[CrmUserChoice]) -> list[html.Div]:
    return [
        _field("CRM user (book of business)",
               dcc.Dropdown(id=crm_user_id, options=[{"label": u.label, "value": u.user_id} for u in crm_users],
                            value=None, placeholder="Not linked"),
               crm_user_id),
        _field("Territories", dcc.Dropdown(id=territory_id, options=[{"label": t, "value": t} for t in territory_names],
                                           value=[], multi=True, placeholder="None (see the note on scope)"),
               territory_id),
        _field("Assigned accounts", dcc.Dropdown(id=accounts_id, options=[], value=[], multi=True,
                                                 placeholder="Type to search accounts by name or id"),
               accounts_id),
    ]


SCOPE_NOTE = ("Sales and account managers see their book of business from their CRM user (an account "
              "manager the customers it owns, a sales manager every territory of its region) plus the "
              "territories and accounts set here, and nothing when none are set. Other roles see everything "
              "unless territories or accounts are set.")


def layout(**_: object) -> html.Div:
    with db.session() as session:
        roles = list(role_permissions(session))
        territory_names = territories(session)
        crm_users = crm_user_choices(session)
    create = dbc.Card(dbc.CardBody([
        html.H5("Create a user", className="card-title"),
        _field("Email", dbc.Input(id=ID.NEW_EMAIL, type="email", placeholder="name@company.com",
                                  autoComplete="off"), ID.NEW_EMAIL),
        _field("Full name", dbc.Input(id=ID.NEW_NAME, type="text"), ID.NEW_NAME),
        _field("Role", dcc.Dropdown(id=ID.NEW_ROLE, options=_choices(roles), clearable=False,
                                    value="account_manager" if "account_manager" in roles else None), ID.NEW_ROLE),
        *_scope_fields(ID.NEW_TERRITORIES, ID.NEW_ACCOUNTS, ID.NEW_CRM_USER, territory_names, crm_users),
        html.P(SCOPE_NOTE, className="small text-muted"),
        dbc.Button("Create user", id=ID.CREATE, color="primary"),
        html.Div(id=ID.CREATE_RESULT, className="mt-3", role="status"),
    ]), className="mb-3")
    edit = dbc.Card(dbc.CardBody([
        html.H5("Edit a user", className="card-title"),
        _field("User", dcc.Dropdown(id=ID.USER, options=[], placeholder="Choose a user"), ID.USER),
        html.Div(id=ID.EDIT_STATUS, className="small mb-2"),
        _field("Full name", dbc.Input(id=ID.EDIT_NAME, type="text"), ID.EDIT_NAME),
        _field("Role", dcc.Dropdown(id=ID.EDIT_ROLE, options=_choices(roles), clearable=False), ID.EDIT_ROLE),
        *_scope_fields(ID.EDIT_TERRITORIES, ID.EDIT_ACCOUNTS, ID.EDIT_CRM_USER, territory_names, crm_users),
        html.Div([
            dbc.Button("Save changes", id=ID.SAVE, color="primary", className="me-2 mb-2"),
            dbc.Button("Deactivate / reactivate", id=ID.TOGGLE_ACTIVE, color="warning", outline=True,
                       className="me-2 mb-2"),
            dbc.Button("Reset password", id=ID.RESET_PASSWORD, color="secondary", outline=True,
                       className="me-2 mb-2"),
            dbc.Button("Sign out everywhere", id=ID.REVOKE_SESSIONS, color="secondary", outline=True,
                       className="me-2 mb-2"),
            dbc.Button("Revoke API tokens", id=ID.REVOKE_TOKENS, color="danger", outline=True, className="mb-2"),
        ]),
        html.Div(id=ID.ACTION_RESULT, className="mt-2", role="status"),
    ]), className="mb-3")
    return html.Div([
        page_header(TITLE, "Accounts, roles and data scope of the people who sign in"),
        dcc.Store(id=ID.REFRESH, data=0),
        dbc.Row([
            dbc.Col([
                dbc.Input(id=ID.SEARCH, type="search", placeholder="Search by email, name or role",
                          debounce=True, className="mb-2"),
                html.Div(id=ID.TABLE),
            ], lg=7),
            dbc.Col([create, edit], lg=5),
        ], className="g-3"),
    ], id=ID.PAGE)

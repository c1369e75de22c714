"""Admin roles callbacks: show and change a role's permissions through `dashboard.users`."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html
from flask_login import current_user

from dashboard import users
from dashboard.callback_guard import guarded_callback
from dashboard.extensions import db
from dashboard.permissions import ALL_PERMISSIONS, MANAGE_USERS
from dashboard.queries.admin import role_permissions
from layouts.admin_roles import ID
from layouts.components import compact_table


def roles_matrix(roles: dict[str, list[str]]) -> html.Div:
    """Permissions down, roles across, a tick where the role holds the permission."""
    names = list(roles)
    rows = [[html.Code(p), *["\u2713" if p in roles[r] else "" for r in names]] for p in ALL_PERMISSIONS]
    return compact_table(["Permission", *[r.replace("_", " ") for r in names]], rows, table_id="ar-matrix")


@guarded_callback(MANAGE_USERS, Output(ID.PERMISSIONS, "value"), Input(ID.ROLE, "value"))
def load_role(role: Any) -> list[str]:
    """Tick the chosen role's permissions."""
    with db.session() as session:
        return role_permissions(session).get(role, []) if isinstance(role, str) else []


def save_role(role: Any, permissions: Any, actor: str) -> dbc.Alert:
    """Replace the role's permissions; `dashboard.users` validates and audits the change."""
    if not isinstance(role, str) or not role:
        return dbc.Alert("Choose a role first.", color="danger", className="py-2 mb-0")
    chosen = [p for p in (permissions or []) if isinstance(p, str)] if isinstance(permissions, list) else []
    try:
        with db.begin() as session:
            users.set_role_permissions(session, role, chosen, actor=actor)
    except users.UserError as exc:
        return dbc.Alert(str(exc), color="danger", className="py-2 mb-0")
    return dbc.Alert(f"Saved the permissions of {role.replace('_', ' ')}.", color="success", className="py-2 mb-0")


@guarded_callback(MANAGE_USERS, Output(ID.RESULT, "children"), Input(ID.SAVE, "n_clicks"),
                  State(ID.ROLE, "value"), State(ID.PERMISSIONS, "value"), prevent_initial_call=True)
def save_permissions(_clicks: Any, role: Any, permissions: Any) -> dbc.Alert:
    """Save the ticked permissions for the chosen role."""
    return save_role(role, permissions, current_user.email)


@guarded_callback(MANAGE_USERS, Output(ID.SUMMARY, "children"), Input(ID.RESULT, "children"))
def update_summary(_result: Any) -> html.Div:
    """Every role's permissions at a glance, redrawn after each save."""
    with db.session() as session:
        return roles_matrix(role_permissions(session))

"""My account: who you are, what your role allows, and links to your password, API tokens and TOTP."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from dashboard.scope import current_scope
from layouts.components import page_header

TITLE = "My account"

SETTINGS_LINKS: tuple[tuple[str, str, str, str], ...] = (
    ("account-link-password", "/account/password", "Change password", "At least 12 characters, not a common one."),
    ("account-link-tokens", "/account/tokens", "My API tokens",
     "Let scripts read the REST API as you; shown once, revocable."),
    ("account-link-totp", "/account/totp", "Two-step sign-in",
     "A code from an authenticator app after your password."),
)


def _link_card(link_id: str, href: str, title: str, detail: str) -> dbc.Col:
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.H5(html.A(title, href=href, id=link_id), className="card-title"),
        html.P(detail, className="text-muted mb-0"),
    ])), md=4)


def layout(**_kwargs: object) -> html.Div:
    scope = current_scope().description()
    totp = "on" if current_user.totp_enrolled else "off"
    return html.Div([
        page_header(TITLE, current_user.email),
        dbc.Row([_link_card(*link) for link in SETTINGS_LINKS], className="g-3 mb-4"),
        html.Dl([
            html.Dt("Role"), html.Dd(current_user.role.replace("_", " "), id="account-role"),
            html.Dt("Permissions"), html.Dd(", ".join(sorted(current_user.permissions)) or "none",
                                            id="account-permissions"),
            html.Dt("Data scope"), html.Dd(scope, id="account-scope"),
            html.Dt("Two-step sign-in"), html.Dd(totp, id="account-totp"),
        ], className="c360-account-facts"),
    ], id="account-page")

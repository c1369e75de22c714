"""The page shell: navbar with the user's pages, account search, user menu, freshness badge, page container."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from dashboard.extensions import db
from dashboard.permissions import has_permission
from dashboard.queries.freshness import gold_status
from layouts.alert_centre import alert_centre
from layouts.components import freshness_badge
from layouts.kit.relay import relay_stores
from layouts.pages import pages_for_current_user
from layouts.search import SEARCH_PERMISSION, navbar_search

# Below 992 px (Bootstrap's lg) the links, badge and user menu fold behind the toggler.
NAVBAR_TOGGLER_ID = "navbar-toggler"
NAVBAR_COLLAPSE_ID = "navbar-collapse"


def navbar() -> dbc.Navbar:
    """Links only to the pages this user's role may open."""
    links = [dbc.NavItem(dbc.NavLink(p.name, href=p.path, active="exact", id=f"nav-{p.path.strip('/')}"))
             for p in pages_for_current_user()]
    with db.session() as session:
        status = gold_status(session)
    user_menu = dbc.DropdownMenu(
        [dbc.DropdownMenuItem(f"Role: {current_user.role.replace('_', ' ')}", header=True),
         dbc.DropdownMenuItem("My account", href="/account", id="account-link"),
         dbc.DropdownMenuItem("Sign out", href="/logout", external_link=True, id="logout-link")],
        label=current_user.display_name, align_end=True, nav=True, in_navbar=True, id="user-menu",
    )
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand("Client360", href="/"),
            # The bell stays outside the collapse so a phone shows the alert count without a tap.
            html.Div(alert_centre(), className="ms-auto order-lg-last"),
            dbc.NavbarToggler(id=NAVBAR_TOGGLER_ID, n_clicks=0),
            dbc.Collapse([
                dbc.Nav(links, navbar=True, className="me-auto", id="main-nav"),
                navbar_search() if has_permission(SEARCH_PERMISSION) else None,
                html.Div(freshness_badge(status), className="me-3 c360-freshness-wrap"),
                dbc.Nav([user_menu], navbar=True),
            ], id=NAVBAR_COLLAPSE_ID, is_open=False, navbar=True),
        ], fluid=True),
        color="dark", dark=True, expand="lg", className="mb-3 c360-navbar",
    )


def app_layout() -> html.Div:
    """Built per request, so the navbar reflects the current user's role."""
    if not getattr(current_user, "is_authenticated", False):
        return html.Div(id="anonymous-shell")
    return html.Div([navbar(), relay_stores(),
                     dbc.Container(dash.page_container, fluid=True, className="c360-main")])

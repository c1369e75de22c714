"""Home: the dashboards this user may open."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts.components import empty_state, page_header


def layout(**_: object) -> html.Div:
    """A card per page the user may open."""
    from layouts.pages import pages_for_current_user

    pages = pages_for_current_user()
    if not pages:
        body = empty_state("No dashboards for your role yet",
                           "Your role has no dashboard pages assigned. Ask an administrator.", "\u2302")
    else:
        body = dbc.Row([
            dbc.Col(dbc.Card(dbc.CardBody([
                html.H5(p.name, className="card-title"),
                html.P(p.description, className="card-text text-muted"),
                dbc.Button("Open", href=p.path, color="primary", size="sm"),
            ]), className="h-100 shadow-sm"), md=4, className="mb-3")
            for p in pages
        ])
    return html.Div([page_header("Your dashboards"), body], id="home-page")

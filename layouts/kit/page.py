"""The page frame: URL state (a Location that writes the query string and a store that holds
the state the page was built from), and a breadcrumb that leads back up a drill-down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html


def url_state(location_id: str, store_id: str, state: dict[str, Any]) -> html.Div:
    """The page's URL writer and its state.

    Filters write the query string through `location_id` ("callback-nav": a history entry,
    and Dash's page router rebuilds the page from the new URL). The page's panels read
    `store_id`, which holds the state the layout was built from, so a deep link, a filter
    change, back and forward all go through the same path: URL -> layout -> store -> panels."""
    return html.Div([dcc.Location(id=location_id, refresh="callback-nav"), dcc.Store(id=store_id, data=state)])


def breadcrumb(items: Sequence[tuple[str, str | None]], breadcrumb_id: str) -> dbc.Breadcrumb:
    """The drill path, e.g. [('All regions', '/executive?...'), ('Europe', None)]; every level
    but the last links back up."""
    return dbc.Breadcrumb(
        items=[{"label": label, "href": href, "active": href is None} if href is not None
               else {"label": label, "active": True} for label, href in items],
        id=breadcrumb_id, className="c360-breadcrumb mb-1")

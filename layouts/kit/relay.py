"""Stores in the app shell that carry a click from a component a panel draws to a server callback.

Dash calls a server callback when one of its inputs appears in the page, even with
prevent_initial_call, if its output was already there: every drill-down or score chip on a grid
or chart a panel draws cost a request that answered "no update" as the panel appeared, and the
page was not settled until it came back. A click on such a component is copied in the browser
(callbacks.kit.relayed) into a store that is in the shell from the start, and the server callback
listens to the store: on the page's first draw nothing reaches the server."""

from __future__ import annotations

from dash import dcc, html

# The relays the callbacks asked for, in order, and the component each carries from; the shell
# draws one store for each.
_RELAY_SOURCES: dict[str, str] = {}


def register_relay(component_id: str, prop: str) -> tuple[str, bool]:
    """(the id of the store that carries `prop` of `component_id`, whether this call registered it)."""
    store_id = f"relay-{component_id}-{prop}"
    new = store_id not in _RELAY_SOURCES
    _RELAY_SOURCES.setdefault(store_id, component_id)
    return store_id, new


def relay_id(component_id: str, prop: str) -> str:
    """The id of the store that carries `prop` of `component_id`."""
    return f"relay-{component_id}-{prop}"


def relayed_from(store_id: object) -> object:
    """The component a relay store carries from (a callback's triggered id), else `store_id` itself."""
    return _RELAY_SOURCES.get(store_id, store_id) if isinstance(store_id, str) else store_id


def relay_stores() -> html.Div:
    """Every registered relay's store, for the app shell."""
    return html.Div([dcc.Store(id=store_id) for store_id in _RELAY_SOURCES], id="relay-stores", hidden=True)

"""Shared wiring of the page kit: every page callback behind its permission with errors turned
into a friendly card, the URL writer, grid clicks (open an account, explain a score chip), the
"copy link" button and the navbar toggler on narrow screens."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard import cache
from dashboard.callback_guard import guarded_callback
from dashboard.db import (
    is_database_unavailable,
    is_dropped_connection,
    is_statement_timeout,
    write_units_opened,
)
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.scope import current_scope
from layouts.components import COPY_LINK_ID
from layouts.kit.grid import ACCOUNT_PATH
from layouts.kit.light import lighten
from layouts.kit.relay import register_relay
from layouts.kit.scores import score_explanation
from layouts.kit.states import error_card
from layouts.shell import NAVBAR_COLLAPSE_ID, NAVBAR_TOGGLER_ID

log = logging.getLogger(__name__)


def _error_outputs(output: Any, reference: str, error: Exception) -> Any:
    """The error card for every 'children' output, nothing for the others."""
    card = error_card(reference, timed_out=is_statement_timeout(error), unavailable=is_database_unavailable(error))

    def one(out: Output) -> Any:
        return card if out.component_property == "children" else no_update

    if isinstance(output, dict):
        return {name: one(out) for name, out in output.items()}
    if isinstance(output, (list, tuple)):
        return [one(out) for out in output]
    return one(output)


def friendly_errors(output: Any) -> Callable[[Callable], Callable]:
    """Turn an exception in a panel callback into an error card with a reference id, logged here
    with its traceback; the browser never sees the exception. A callback that only read and lost its
    connection under it (the database restarted) runs once more, on a fresh connection."""
    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def friendly(*args: Any, **kwargs: Any) -> Any:
            for attempt in (1, 2):
                writes_before = write_units_opened()
                try:
                    return func(*args, **kwargs)
                except PreventUpdate:
                    raise
                except Exception as error:
                    if attempt == 1 and is_dropped_connection(error) and write_units_opened() == writes_before:
                        log.warning("callback %s lost its database connection; reading again", func.__name__)
                        continue
                    reference = uuid.uuid4().hex[:8].upper()
                    if is_database_unavailable(error):  # an outage, not a bug: one line, no traceback
                        log.warning("callback %s: database unavailable (reference %s): %s", func.__name__,
                                    reference, error.__class__.__name__)
                    else:
                        log.exception("callback %s failed (reference %s)", func.__name__, reference)
                    return _error_outputs(output, reference, error)
            raise AssertionError("unreachable")

        return friendly

    return decorator


def page_callback(permission: str, *, output: Any, inputs: Any, state: Any = None,
                  prevent_initial_call: bool | None = None) -> Callable[[Callable], Callable]:
    """`guarded_callback` for a page panel, with `friendly_errors`; what it sends has its static parts
    as one component each (`lighten`). The function returned, for tests, answers unlightened."""
    def decorator(func: Callable) -> Callable:
        extra = {} if state is None else {"state": state}
        wrapped = friendly_errors(output)(func)

        @functools.wraps(wrapped)
        def sent(*args: Any, **kwargs: Any) -> Any:
            return lightened_outputs(output, wrapped(*args, **kwargs))

        guarded_callback(permission, output=output, inputs=inputs, prevent_initial_call=prevent_initial_call,
                         **extra)(sent)
        return wrapped

    return decorator


def cached_build(build: Callable[..., Any], session: Any, state: Any, **kwargs: Any) -> Any:
    """The page cache (`dashboard.cache.cached_build`) keeping a panel as the pages send it: lightened."""
    return cache.cached_build(build, session, state, prepare=lighten_value, **kwargs)


def lighten_value(value: Any) -> Any:
    """A build's answer lightened, whether one output or a dict or tuple of them."""
    if isinstance(value, dict):
        return {name: lighten(output) for name, output in value.items()}
    if isinstance(value, tuple):
        return tuple(lighten(output) for output in value)
    return lighten(value)


def lightened_outputs(output: Any, result: Any) -> Any:
    """Each output value lightened, by the shape the outputs were declared in."""
    if isinstance(output, dict) and isinstance(result, dict):
        return {name: lighten(value) for name, value in result.items()}
    if isinstance(output, (list, tuple)) and isinstance(result, (list, tuple)):
        return type(result)(lighten(value) for value in result)
    return lighten(result)


def search_or_wait(search: str | None) -> Any:
    """A URL writer's answer: the new query string, or nothing while the state is incomplete."""
    if search is None:
        raise PreventUpdate
    return search


def register_account_opener(permission: str, *, grid_id: str, location_id: str, explain_column: str) -> None:
    """A click on a grid's account row opens its Customer 360 page (a click on its score chip explains it).

    In the browser: the path is the row's id and nothing else, and the page it opens checks the caller's
    role and scope itself, so a round trip to the server would only make every grid's first draw wait
    on it (Dash calls it as the grid appears). `permission` is the page's, kept for the reader."""
    del permission
    dash.clientside_callback(
        OPEN_ACCOUNT_JS % (json.dumps(explain_column), json.dumps(ACCOUNT_PATH)),
        Output(location_id, "pathname", allow_duplicate=True), Input(grid_id, "cellClicked"),
        prevent_initial_call=True)


# The Customer 360 path of a clicked row (its id is the account id), except on the score chip column.
OPEN_ACCOUNT_JS = """function (cell) {
    if (!cell || cell.colId === %s || typeof cell.rowId !== "string") { return window.dash_clientside.no_update; }
    return %s + cell.rowId;
}"""


def relayed(component_id: str, prop: str) -> Input:
    """The input a server callback takes for a click (`prop`) on a component a panel draws: a store in
    the shell, which the browser fills from the component (layouts.kit.relay says why). The callback
    then fires on a click, not as the component appears."""
    store_id, new = register_relay(component_id, prop)
    if new:
        dash.clientside_callback(RELAY_JS, Output(store_id, "data"), Input(component_id, prop),
                                 prevent_initial_call=True)
    return Input(store_id, "data")


# A value the component has not set (its first draw) is no click.
RELAY_JS = """function (value) {
    return (value === null || value === undefined) ? window.dash_clientside.no_update : value;
}"""


def register_score_explainer(permission: str, *, grid_id: str, column: str, score: str, modal_id: str,
                             body_id: str, explain: Callable) -> None:
    """A click on a grid's score chip opens a modal explaining that account's score."""
    # A page may explain chips of several grids in one modal: each grid's explainer writes it.
    @page_callback(permission, output=dict(is_open=Output(modal_id, "is_open", allow_duplicate=True),
                                           body=Output(body_id, "children", allow_duplicate=True)),
                   inputs=dict(cell=relayed(grid_id, "cellClicked")), prevent_initial_call=True)
    def explain_score_chip(cell: Any) -> dict[str, Any]:
        if not isinstance(cell, dict) or cell.get("colId") != column or not isinstance(cell.get("rowId"), str):
            raise PreventUpdate
        with db.session() as session:
            return {"is_open": True, "body": score_explanation(explain(session, score, cell["rowId"],
                                                                       current_scope()))}


# --- Browser-only wiring: the copy-link button and the navbar toggler ----------------------

dash.clientside_callback(
    "function(n) { return n ? window.location.href : window.dash_clientside.no_update; }",
    Output(COPY_LINK_ID, "content"), Input(COPY_LINK_ID, "n_clicks"), prevent_initial_call=True,
)
dash.clientside_callback(
    "function(n, isOpen) { return n ? !isOpen : isOpen; }",
    Output(NAVBAR_COLLAPSE_ID, "is_open"), Input(NAVBAR_TOGGLER_ID, "n_clicks"), State(NAVBAR_COLLAPSE_ID, "is_open"),
    prevent_initial_call=True,
)


def register_panels(permission: str, panels: dict[str, Callable[..., Any]], inputs: Any) -> dict[str, Callable]:
    """One callback per panel, so panels load side by side: each fills `<output id>.children` with
    `build(session, state, scope=..., policy=...)` for the caller's scope and mask policy, kept in the
    page cache (dashboard/cache.py): a build must depend on those and the data alone."""

    def register(output_id: str, build: Callable[..., Any]) -> Callable:
        @page_callback(permission, output=Output(output_id, "children"), inputs=inputs)
        def update_panel(state: Any) -> Any:
            with db.session() as session:
                return cached_build(build, session, state, scope=current_scope(),
                                    policy=MaskPolicy.for_current_user())

        update_panel.__name__ = f"update_{build.__name__.removeprefix('build_')}"
        return update_panel

    return {output_id: register(output_id, build) for output_id, build in panels.items()}

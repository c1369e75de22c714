"""Server-side permission checks for Dash callbacks.

All callbacks share one route, `/_dash-update-component`, so hiding a page protects
nothing. Every callback is registered through `guarded_callback` with the permission
it needs; a request gate checks that permission for each output before Dash runs the
callback, and refuses outputs nobody declared.

The registry is discoverable: `undeclared_callbacks(dash_app)` lists every callback the Dash
app knows whose outputs have no declared permission; the test suite requires it to be empty.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

import dash
from dash import Output
from flask import Flask, abort, has_request_context, jsonify, request

from dashboard.permissions import AUTHENTICATED, permission_granted

# "component-id.property" -> permission. Filled at import time of the callback modules.
OUTPUT_PERMISSIONS: dict[str, str] = {
    # Dash's own page router and title updater: any logged-in user may navigate.
    "_pages_content.children": AUTHENTICATED,
    "_pages_store.data": AUTHENTICATED,
    "_pages_dummy.children": AUTHENTICATED,
}


def output_key(component_id: Any, component_property: str) -> str:
    """A stable key for an output; pattern-matching ids are keyed by their `type`, and the
    `@hash` Dash appends to an `allow_duplicate` output is dropped."""
    if isinstance(component_id, dict):
        component_id = "{" + str(component_id.get("type", "")) + "}"
    return f"{component_id}.{str(component_property).split('@', 1)[0]}"


def _declared_outputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Output]:
    found: list[Output] = []

    def visit(item: Any) -> None:
        if isinstance(item, Output):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            for sub in item:
                visit(sub)
        elif isinstance(item, dict):
            for sub in item.values():
                visit(sub)

    visit(args)
    visit(kwargs.get("output"))
    return found


def guarded_callback(permission: str, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
    """`dash.callback` that declares the permission needed to trigger it.

    A background callback's function runs in a worker process without the request; the
    request gate has already checked the permission there."""
    outputs = _declared_outputs(args, kwargs)
    if not outputs:
        raise ValueError("guarded_callback needs at least one Output")
    for out in outputs:
        key = output_key(out.component_id, out.component_property)
        known = OUTPUT_PERMISSIONS.setdefault(key, permission)
        if known != permission:
            raise ValueError(f"{key} is already guarded by {known!r}, not {permission!r}")

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def checked(*cb_args: Any, **cb_kwargs: Any) -> Any:
            # Second line of defence if the request gate is ever bypassed (e.g. unit tests).
            if has_request_context() and not permission_granted(permission, target=f"callback:{func.__name__}"):
                abort(403)
            return func(*cb_args, **cb_kwargs)

        dash.callback(*args, **kwargs)(checked)
        return checked

    return decorator


def _requested_outputs(payload: dict[str, Any]) -> Iterable[tuple[Any, str]]:
    def walk(item: Any) -> Iterable[tuple[Any, str]]:
        if isinstance(item, list):
            for sub in item:
                yield from walk(sub)
        elif isinstance(item, dict) and "property" in item:
            yield item.get("id"), str(item["property"])

    yield from walk(payload.get("outputs"))


def _check_callback_request():
    """Refuse a callback request unless the user holds the permission of every output."""
    if request.path != "/_dash-update-component" or request.method != "POST":
        return None
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="malformed callback request"), 400
    requested = list(_requested_outputs(payload))
    if not requested:
        return jsonify(error="malformed callback request"), 400
    for component_id, prop in requested:
        key = output_key(component_id, prop)
        permission = OUTPUT_PERMISSIONS.get(key)
        if permission is None:
            from dashboard.audit import record_denial

            record_denial("undeclared", target=f"callback:{key}")
            return jsonify(error="forbidden"), 403
        if not permission_granted(permission, target=f"callback:{key}"):
            return jsonify(error="forbidden"), 403
    return None


def callback_map_outputs(callback_key: str) -> list[str]:
    """The output keys of one `callback_map` entry ('a.children' or '..a.children...b.data..')."""
    parts = callback_key[2:-2].split("...") if callback_key.startswith("..") else [callback_key]
    keys = []
    for part in parts:
        component_id, _, prop = part.rpartition(".")
        parsed: Any = component_id
        if component_id.startswith("{"):
            try:
                parsed = json.loads(component_id)
            except ValueError:
                parsed = component_id
        keys.append(output_key(parsed, prop))
    return keys


def callback_permissions(dash_app: dash.Dash) -> dict[str, tuple[str | None, ...]]:
    """Every server-side callback the app has registered -> the permission declared for each of
    its outputs. Clientside callbacks run in the browser and never reach the server. Dash
    collects callbacks registered with `dash.callback` into the app on its first request."""
    return {key: tuple(OUTPUT_PERMISSIONS.get(out) for out in callback_map_outputs(key))
            for key, spec in dash_app.callback_map.items() if spec.get("callback") is not None}


def undeclared_callbacks(dash_app: dash.Dash) -> list[str]:
    """Callbacks with an output no permission was declared for; must be empty."""
    return sorted(key for key, perms in callback_permissions(dash_app).items() if None in perms)


def init_app(server: Flask) -> None:
    """Check every callback request before Dash dispatches it."""
    server.before_request(_check_callback_request)

"""Server-side permission checks for Dash callbacks.

All callbacks share one route, `/_dash-update-component`, so hiding a page protects
nothing. Every callback is registered through `guarded_callback` with the permission
it needs; a request gate checks that permission for each output before Dash runs the
callback, and refuses outputs nobody declared.

The registry is discoverable: `undeclared_callbacks(dash_app)` lists every callback the Dash
app knows whose outputs have no declared permission; the test suite requires it to be empty.

The gate also refuses what Dash itself would answer with a 500: a body that is not a callback
request, an `output` (what Dash runs) that disagrees with `outputs` (what the permission check
would otherwise read), a callback Dash does not know, inputs that do not fit the callback, and
values PostgreSQL cannot store (NUL, unpaired surrogates) anywhere in the request.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

import dash
from dash import Output
from flask import Flask, abort, current_app, has_request_context, jsonify, request

from dashboard.audit import record_denial
from dashboard.permissions import AUTHENTICATED, permission_granted
from dashboard.security import UNSTORABLE_TEXT_MESSAGE, holds_unstorable_text, request_json

DASH_CALLBACK_ROUTE = "/_dash-update-component"

# "component-id.property" -> permission. Filled at import time of the callback modules.
OUTPUT_PERMISSIONS: dict[str, str] = {
    # Dash's own page router and title updater: any logged-in user may navigate.
    "_pages_content.children": AUTHENTICATED,
    "_pages_store.data": AUTHENTICATED,
    "_pages_dummy.children": AUTHENTICATED,
}
# The output keys of each callback registered through `guarded_callback`, in declaration order.
GUARDED_OUTPUTS: set[tuple[str, ...]] = set()


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
    GUARDED_OUTPUTS.add(tuple(output_key(out.component_id, out.component_property) for out in outputs))
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


def _is_one_dependency(item: Any) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("property"), str)
            and isinstance(item.get("id"), (str, dict)))


def _is_dependency(item: Any) -> bool:
    """One output, input or state as the renderer sends it ({"id", "property", ...}), or for a
    pattern-matching (ALL) dependency a list of those; nothing nests deeper."""
    if isinstance(item, list):
        return all(_is_one_dependency(sub) for sub in item)
    return _is_one_dependency(item)


def _well_formed(payload: dict[str, Any]) -> bool:
    """The shape Dash's dispatcher reads without failing."""
    outputs = payload.get("outputs")
    dependencies = (payload.get("inputs"), payload.get("state", []), outputs if isinstance(outputs, list) else [])
    changed = payload.get("changedPropIds", [])
    return (isinstance(payload.get("output"), str)
            and (isinstance(outputs, list) or _is_one_dependency(outputs))
            and all(isinstance(deps, list) and all(_is_dependency(d) for d in deps) for deps in dependencies)
            and isinstance(changed, list) and all(isinstance(prop_id, str) for prop_id in changed))


def _dash_collected(dash_app: dash.Dash) -> bool:
    """Whether Dash has moved the `dash.callback` registrations into its map: it does so in a hook
    of the app's first request, which runs after this gate."""
    return any(tuple(callback_map_outputs(key)) in GUARDED_OUTPUTS for key in dash_app.callback_map)


def _fits_known_callback(payload: dict[str, Any]) -> bool:
    """Whether `output` names a callback Dash knows, with as many inputs and states as it declares."""
    dash_app = current_app.extensions.get("dash_app")
    if dash_app is None:
        return False
    spec = dash_app.callback_map.get(payload["output"])
    if spec is None:
        # Trap: a worker's first request may be a callback, checked here before Dash has collected its
        # callbacks (and its page router). Then only the outputs' permissions, checked already, can be.
        return not _dash_collected(dash_app)
    return (len(payload["inputs"]) == len(spec.get("inputs", []))
            and len(payload.get("state", [])) == len(spec.get("state", [])))


def _check_callback_request():
    """Refuse a callback request that is malformed (400), or unless the user holds the permission of
    every output of a callback Dash knows (403)."""
    if request.path != DASH_CALLBACK_ROUTE or request.method != "POST":
        return None
    payload = request_json()
    if not isinstance(payload, dict) or not _well_formed(payload):
        return jsonify(error="malformed callback request"), 400
    if holds_unstorable_text(payload):
        return jsonify(error=UNSTORABLE_TEXT_MESSAGE), 400
    output_keys = callback_map_outputs(payload["output"])
    requested = {output_key(component_id, prop) for component_id, prop in _requested_outputs(payload)}
    if not requested or requested != set(output_keys):
        # Dash runs the callback named by `output`; `outputs` must describe the very same outputs.
        return jsonify(error="malformed callback request: output and outputs disagree"), 400
    for key in output_keys:
        permission = OUTPUT_PERMISSIONS.get(key)
        if permission is None:
            record_denial("undeclared", target=f"callback:{key}")
            return jsonify(error="forbidden"), 403
        if not permission_granted(permission, target=f"callback:{key}"):
            return jsonify(error="forbidden"), 403
    if not _fits_known_callback(payload):
        return jsonify(error="no such callback, or its inputs do not fit it"), 400
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
            except (ValueError, RecursionError):
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

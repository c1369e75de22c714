"""Build the request bodies Dash's renderer posts to /_dash-update-component, from the app's
own callback map, so tests can call any callback exactly as a browser (or an attacker) would."""

from __future__ import annotations

import json
from typing import Any

from dashboard.callback_guard import callback_map_outputs, callback_permissions

DASH_ROUTE = "/_dash-update-component"


def dash_app(app) -> Any:
    return app.extensions["dash_app"]


def callback_keys(app) -> list[str]:
    """Every callback the app has registered (after Dash collected them)."""
    return sorted(callback_permissions(dash_app(app)))


def key_for_output(app, output: str) -> str:
    """The callback_map key of the callback that has `output` ('id.property')."""
    return next(k for k in callback_keys(app) if output in callback_map_outputs(k))


def _outputs(key: str) -> Any:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        component_id, _, prop = part.rpartition(".")
        parsed: Any = json.loads(component_id) if component_id.startswith("{") else component_id
        outputs.append({"id": parsed, "property": prop})
    return outputs if key.startswith("..") else outputs[0]


def payload(app, key: str, values: dict[str, Any] | None = None, changed: str | None = None) -> dict[str, Any]:
    """A request for callback `key`; `values` maps 'id.property' of inputs and states to values
    (missing ones are None); `changed` names the input that triggered it (default: the first)."""
    values = values or {}
    spec = dash_app(app).callback_map[key]

    def items(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                for d in deps]

    inputs = items(spec.get("inputs", []))
    first = f"{inputs[0]['id']}.{inputs[0]['property']}" if inputs else ""
    return {"output": key, "outputs": _outputs(key), "inputs": inputs, "state": items(spec.get("state", [])),
            "changedPropIds": [changed or first]}


def post_callback(client, app, output: str, values: dict[str, Any] | None = None, changed: str | None = None):
    """Post the callback that writes `output`."""
    key = key_for_output(app, output)
    return client.post(DASH_ROUTE, json=payload(app, key, values, changed))


def response_outputs(response) -> dict[str, Any]:
    """'id.property' -> value of a callback response."""
    body = response.get_json()
    return {f"{cid}.{prop}": value for cid, props in body["response"].items() for prop, value in props.items()}


def page_layout(client, app, pathname: str):
    """Ask Dash's page router for a page, as the browser does on navigation."""
    key = key_for_output(app, "_pages_content.children")
    return client.post(DASH_ROUTE, json=payload(app, key, {"_pages_location.pathname": pathname,
                                                           "_pages_location.search": ""}))


def find_component(tree: Any, component_id: str) -> dict[str, Any]:
    """The serialised component with `component_id` in a Dash JSON response."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == component_id:
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError(f"{component_id} not found")

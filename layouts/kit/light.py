"""Read-only tables and static content drawn by one Dash component each.

The browser's Dash renderer re-checks every component on the page after each update a callback
makes; a table built of html.Tr and html.Td costs one component per cell, so a page of tables was
over a thousand components and seconds of that checking. `static_table` sends the whole table as
data instead: the header, rows and footer, each cell a string, a number or a small element tree
(strong, span with a class and title, a link...), drawn by `assets/c360_kit.js` with React
elements, so no text is ever interpreted as HTML.

`lighten` does the same for the static parts of a page's layout and of each panel a callback
sends: runs of html elements without ids become one element tree each.

A cell holding anything else (a component with an id, that callbacks may target, or one this
renderer does not know) keeps the component-per-cell table, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html
from dash.development.base_component import Component

NAMESPACE = "c360_kit"
LIGHT_TABLE_PROPS = ["id", "header", "rows", "footer", "numeric", "rowClassNames", "className",
                     "tableClassName", "style"]
LIGHT_CONTENT_PROPS = ["id", "content"]
GRID = ("dash_ag_grid", "AgGrid")
# html.* components drawn as their own tag; the renderer draws these and no others.
ELEMENT_TAGS = frozenset({"Span", "Strong", "Em", "Small", "B", "I", "Abbr", "Code", "Br", "Div", "P",
                          "Ul", "Ol", "Li", "Sup", "Sub", "Mark", "Time", "Table", "Thead", "Tbody", "Tfoot",
                          "Tr", "Th", "Td", "H6", "Hr"})
# The properties drawn; an element with any other is left a component of its own.
ELEMENT_PROPS = frozenset({"children", "className", "title", "style", "colSpan", "rowSpan", "role"})
LINK_PROPS = ELEMENT_PROPS | {"href", "target"}


class _LightComponent(Component):
    """A component of the c360_kit namespace, drawn by assets/c360_kit.js; `_props` names its properties."""

    _children_props: list[str] = []
    _base_nodes: list[str] = []
    _namespace = NAMESPACE
    _props: list[str] = []

    def __init__(self, **props: Any) -> None:
        self._prop_names = self._props
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = self._props
        self.available_wildcard_properties: list[str] = []
        super().__init__(**props)


class LightTable(_LightComponent):
    """One component for a whole static table (see the module's docstring)."""

    _type = "LightTable"
    _props = LIGHT_TABLE_PROPS


class LightContent(_LightComponent):
    """One component for a static element tree (see the module's docstring)."""

    _type = "LightContent"
    _props = LIGHT_CONTENT_PROPS


class NotDrawable(Exception):
    """A cell the light renderer cannot draw."""


def _element(component: Component, children: Any = None, *, children_given: bool = False) -> dict[str, Any]:
    """One html element as a spec; NotDrawable for anything that carries more than the renderer draws
    (an id callbacks may target, data- or aria- attributes, a Link that must reload the page...).
    `children` is the spec of its children when the caller has built it already."""
    props = dict(component.to_plotly_json()["props"])
    kind = (component._namespace, component._type)
    if kind[0] == "dash_html_components" and kind[1] in ELEMENT_TAGS:
        spec: dict[str, Any] = {"tag": kind[1].lower()}
        allowed = ELEMENT_PROPS
    elif kind == ("dash_html_components", "A") or kind == ("dash_core_components", "Link") and not props.pop(
            "refresh", False):
        spec = {"tag": "a"}
        allowed = LINK_PROPS
    elif kind == ("dash_bootstrap_components", "Badge"):
        classes = ["badge", f"bg-{props.pop('color', None) or 'primary'}"]
        if props.get("text_color"):
            classes.append(f"text-{props.pop('text_color')}")
        if props.pop("pill", False):
            classes.append("rounded-pill")
        if props.get("className"):
            classes.append(props["className"])
        props["className"] = " ".join(classes)
        spec = {"tag": "span"}
        allowed = ELEMENT_PROPS
    else:
        raise NotDrawable(f"{kind[0]}.{kind[1]}")
    unknown = {key for key, value in props.items() if value is not None} - allowed
    if unknown:
        raise NotDrawable(f"{kind[1]} with {sorted(unknown)}")
    spec.update({key: value for key, value in props.items() if key != "children" and value is not None})
    if children_given:
        if children is not None:
            spec["children"] = children
    elif props.get("children") is not None:
        spec["children"] = cell_spec(props["children"])
    return spec


def cell_spec(value: Any) -> Any:
    """A cell as the light renderer takes it; NotDrawable when it cannot be."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [cell_spec(part) for part in value]
    if isinstance(value, Component):
        return _element(value)
    raise NotDrawable(type(value).__name__)


def _component_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], numeric: frozenset[int],
                     footer: Sequence[Any] | None, row_classes: Sequence[str | None] | None,
                     table_class: str, wrap_class: str, table_id: str | None,
                     wrap_style: dict[str, str] | None) -> html.Div:
    def cell(tag: type, index: int, content: Any, numeric_class: str) -> Any:
        return tag(content, className=numeric_class if index in numeric else None)

    head = html.Thead(html.Tr([cell(html.Th, i, c, "text-end") for i, c in enumerate(header)]))
    classes = row_classes or [None] * len(rows)
    body = html.Tbody([html.Tr([cell(html.Td, i, c, "text-end text-nowrap") for i, c in enumerate(row)],
                               className=cls) for row, cls in zip(rows, classes, strict=True)])
    parts = [head, body]
    if footer is not None:
        parts.append(html.Tfoot(html.Tr([cell(html.Th, i, c, "text-end") for i, c in enumerate(footer)])))
    props: dict[str, Any] = {"id": table_id} if table_id else {}
    if wrap_style:
        props["style"] = wrap_style
    return html.Div(html.Table(parts, className=table_class), className=wrap_class, **props)


def static_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
                 footer: Sequence[Any] | None = None, row_classes: Sequence[str | None] | None = None,
                 table_class: str = "table table-sm mb-1", wrap_class: str = "table-responsive",
                 table_id: str | None = None, wrap_style: dict[str, str] | None = None) -> Component:
    """A read-only table: `numeric` holds the indexes of right-aligned columns, `row_classes` a class
    per row. It scrolls sideways inside its card on a phone (`wrap_class`), never the page."""
    numeric_columns = frozenset(numeric)
    if row_classes is not None and len(row_classes) != len(rows):
        raise ValueError("one row class per row")
    try:
        spec = {"header": [cell_spec(c) for c in header], "rows": [[cell_spec(c) for c in row] for row in rows],
                "footer": None if footer is None else [cell_spec(c) for c in footer]}
    except NotDrawable:
        return _component_table(header, rows, numeric_columns, footer, row_classes, table_class, wrap_class,
                                table_id, wrap_style)
    props: dict[str, Any] = {"id": table_id} if table_id else {}
    if wrap_style:
        props["style"] = wrap_style
    if row_classes is not None and any(row_classes):
        props["rowClassNames"] = list(row_classes)
    if spec["footer"] is None:
        del spec["footer"]
    return LightTable(**spec, numeric=sorted(numeric_columns), className=wrap_class, tableClassName=table_class,
                      **props)


def lighten(value: Any) -> Any:
    """A callback's output or a page's layout with each static part sent as one component.

    Components that must stay components (those with an id, graphs, grids, buttons, cards...) are
    kept, in place; the static runs among their children (html elements without ids, links, badges)
    become one LightContent each. The page's DOM is the same, with far fewer Dash components. A
    grid's rows are compacted (`compact_rows`)."""
    if isinstance(value, Component):
        if (value._namespace, value._type) == GRID:
            _visit(value)
        else:
            _visit_children(value)
        return value
    if isinstance(value, list) and any(isinstance(item, Component) for item in value):
        static, lightened = _visit(value)
        return [LightContent(content=lightened)] if static else lightened
    return value


def _visit(node: Any) -> tuple[bool, Any]:
    """(True, spec) for a static node, else (False, the node with its static parts lightened)."""
    if node is None or isinstance(node, (str, int, float)):
        return True, node
    if isinstance(node, (list, tuple)):
        results = [_visit(item) for item in node]
        if all(static for static, _ in results):
            return True, [spec for _, spec in results]
        return False, _merged_runs(node, results)
    if isinstance(node, Component):
        if isinstance(node, (LightContent, LightTable)):
            return False, node
        if (node._namespace, node._type) == GRID and isinstance(getattr(node, "rowData", None), list):
            node.rowData = compact_rows(node.rowData)
            return False, node
        children = getattr(node, "children", None)
        static, value = _visit(children)
        if static:
            try:
                return True, _element(node, value, children_given=True)
            except NotDrawable:
                if _has_component(children):
                    node.children = LightContent(content=value)
                return False, node
        node.children = value
        return False, node
    return False, node


def compact_rows(rows: list[Any]) -> list[Any]:
    """A grid's rows as the browser needs them: empty cells left out (the grid shows a missing value as it
    shows null), whole floats as integers, other floats to six decimals (no column shows more). A
    leaderboard of two thousand reps is a quarter smaller on the wire."""
    def compact(value: Any) -> Any:
        if isinstance(value, float):
            return int(value) if value.is_integer() and abs(value) < 2 ** 53 else round(value, 6)
        return value

    return [{key: compact(value) for key, value in row.items() if value is not None and value == value}
            if isinstance(row, dict) else row for row in rows]


def _visit_children(node: Component) -> None:
    children = getattr(node, "children", None)
    if children is None or isinstance(node, (LightContent, LightTable)):
        return
    static, value = _visit(children)
    node.children = (LightContent(content=value) if static and _has_component(children) else
                     children if static else value)


def _merged_runs(items: Sequence[Any], results: list[tuple[bool, Any]]) -> list[Any]:
    """Children with each run of static siblings holding a component merged into one LightContent."""
    merged: list[Any] = []
    run: list[tuple[Any, Any]] = []

    def flush() -> None:
        if any(isinstance(item, Component) for item, _ in run):
            merged.append(LightContent(content=[spec for _, spec in run]))
        else:
            merged.extend(item for item, _ in run)
        run.clear()

    for item, (static, value) in zip(items, results, strict=True):
        if static:
            run.append((item, value))
        else:
            flush()
            merged.append(value)
    flush()
    return merged


def _has_component(children: Any) -> bool:
    if isinstance(children, Component):
        return True
    return isinstance(children, (list, tuple)) and any(_has_component(child) for child in children)


def table_text(component: Any) -> list[str]:
    """Every string a light table shows, in order (for tests and exports that read rendered text)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node is None:
            return
        if isinstance(node, (str, int, float)):
            parts.append(str(node))
        elif isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            walk(node.get("children"))

    for prop in ("header", "rows", "footer", "content"):
        walk(getattr(component, prop, None))
    return parts


__all__ = ["LightContent", "LightTable", "cell_spec", "lighten", "static_table", "table_text"]

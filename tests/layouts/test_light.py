"""Read-only tables and static content drawn by one component (layouts/kit/light.py,
assets/c360_kit.js): what they send, when they keep a component per element, and, in a browser,
that hostile text stays text."""

from __future__ import annotations

import json

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html
from plotly.utils import PlotlyJSONEncoder
from selenium.webdriver.common.by import By

from callbacks.kit import lightened_outputs
from dashboard.extensions import db
from dashboard.tables.app import AuditEvent
from layouts.kit.light import LightContent, LightTable, lighten, static_table, table_text
from tests.layouts.test_pages import sign_in, wait

HOSTILE = '<img src=x onerror="window.__c360Injected = true">'


def test_plain_and_known_cells_make_one_component() -> None:
    table = static_table(["Account", "MRR"], [
        [html.Span([html.Strong("ACC-1"), " Acme"], className="small"), "1,200"],
        [dcc.Link("ACC-2", href="/accounts/ACC-2"), dbc.Badge("High", color="danger", pill=True)],
    ], numeric=[1], footer=["All", "2,400"], row_classes=["table-warning", None], table_id="t")

    assert isinstance(table, LightTable)
    props = table.to_plotly_json()["props"]
    assert props["rows"][0][0] == {"tag": "span", "className": "small",
                                   "children": [{"tag": "strong", "children": "ACC-1"}, " Acme"]}
    assert props["rows"][1] == [{"tag": "a", "href": "/accounts/ACC-2", "children": "ACC-2"},
                                {"tag": "span", "className": "badge bg-danger rounded-pill", "children": "High"}]
    assert props["numeric"] == [1] and props["rowClassNames"] == ["table-warning", None] and props["id"] == "t"
    assert table_text(table) == ["Account", "MRR", "ACC-1", " Acme", "1,200", "ACC-2", "High", "All", "2,400"]


def test_a_cell_callbacks_may_target_keeps_its_component() -> None:
    button = dbc.Button("Resolve", id={"type": "resolve", "row": 1})
    table = static_table(["Alert", ""], [["Late invoice", button]])

    assert not isinstance(table, LightTable)
    body = table.children.children[1]
    assert isinstance(body, html.Tbody) and body.children[0].children[1].children is button


def test_one_row_class_per_row() -> None:
    with pytest.raises(ValueError):
        static_table(["A"], [["x"], ["y"]], row_classes=["only-one"])


def _components(node: object) -> int:
    """Dash components in a serialised tree, as the browser's renderer counts them."""
    if isinstance(node, dict):
        return ("namespace" in node and "type" in node) + sum(_components(v) for v in node.values())
    if isinstance(node, list):
        return sum(_components(v) for v in node)
    return 0


def _serialised(node: object) -> object:
    return json.loads(json.dumps(node, cls=PlotlyJSONEncoder))


def test_lighten_keeps_what_callbacks_target_and_merges_the_static_rest() -> None:
    def panel() -> dbc.Card:
        return dbc.Card(dbc.CardBody([
            html.Div("Pipeline", className="title"),
            html.Div([html.Span("Open deals "), html.Strong("42"), dcc.Link(" see all", href="/sales?drill=deals")]),
            dcc.Graph(id="pipeline-chart"),
            html.Ul([html.Li(f"Deal {n}") for n in range(50)]),
            html.Div([html.Span("Last refresh"), dbc.Button("Refresh", id="refresh")]),
        ]))

    before, after = _serialised(panel()), _serialised(lighten(panel()))

    assert _components(before) == 62 and _components(after) == 8
    body = after["props"]["children"]["props"]["children"]
    assert [part["type"] for part in body] == ["LightContent", "Graph", "LightContent", "Div"]
    assert body[0]["props"]["content"][1]["children"][2] == {"tag": "a", "href": "/sales?drill=deals",
                                                             "children": " see all"}
    assert body[3]["props"]["children"][1]["props"]["id"] == "refresh"  # still a component callbacks reach
    assert lighten(after) == after and lighten("text") == "text"


def test_grid_rows_lose_empty_cells_and_needless_digits_on_the_way() -> None:
    rows = [{"rep": "Ada", "territory": None, "won": 4.0, "attainment": 9.479982352941176, "gap": float("nan"),
             "revenue_usd": 3062034.3, "active": True}]
    panel = html.Div([html.H6("Reps"), dag.AgGrid(id="reps", rowData=rows)])

    lighten(panel)

    assert panel.children[1].rowData == [{"rep": "Ada", "won": 4, "attainment": 9.479982, "revenue_usd": 3062034.3,
                                          "active": True}]
    alone = dag.AgGrid(id="alone", rowData=[{"a": None, "b": 1.0}])
    assert lighten(alone).rowData == [{"b": 1}]


def test_lightened_outputs_follow_how_the_outputs_were_declared() -> None:
    static = [html.Div("a"), html.Div("b")]
    single = lightened_outputs("out.children", list(static))
    assert len(single) == 1 and isinstance(single[0], LightContent)
    as_dict = lightened_outputs({"one": "x", "two": "y"}, {"one": html.Div(html.Span("a")), "two": 3})
    assert isinstance(as_dict["one"].children, LightContent) and as_dict["two"] == 3
    as_list = lightened_outputs(["x", "y"], (html.Div(html.B("a")), None))
    assert isinstance(as_list, tuple) and isinstance(as_list[0].children, LightContent) and as_list[1] is None


@pytest.fixture()
def hostile_audit_event() -> None:
    """An audit entry whose target and details are markup (the trail is append-only: it stays)."""
    with db.begin() as session:
        session.add(AuditEvent(action="light_table_check", actor="tester", target=HOSTILE, detail={"note": HOSTILE}))


@pytest.mark.browser
def test_hostile_text_in_a_light_table_is_shown_not_run(browser, live_server, hostile_audit_event):
    sign_in(browser, live_server, "admin")
    browser.get(live_server + "/admin/audit")
    cell = "#audit-table tbody td"
    wait(browser).until(lambda b: any(HOSTILE in td.text for td in b.find_elements(By.CSS_SELECTOR, cell)))
    assert not browser.find_elements(By.CSS_SELECTOR, "#audit-table img")
    assert browser.execute_script("return window.__c360Injected === undefined")
    # Drawn by the one-component renderer: the table is there, its cells are not Dash components.
    assert browser.find_elements(By.CSS_SELECTOR, "#audit-table table.c360-table thead th")

"""Regional analysis callbacks: the build functions return the page's components, the callbacks
answer an executive through Dash's route and refuse every other role on the server, a scoped
executive sees only their territories, money is hidden without view_financials, and the
controls and chart clicks write a canonical URL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callbacks.executive_regions import build_comparison, build_product_mix
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.queries import regions as q
from dashboard.queries.regions import REGIONAL, PageQuery
from dashboard.scope import DataScope
from dashboard.tables.app import User
from dashboard.tables.gold import DailyKpi
from dashboard.users import update_user
from layouts.executive_regions import FINANCIALS_HIDDEN
from layouts.executive_regions import RegionIds as ID
from layouts.kit.relay import relay_id
from layouts.kit.states import NOTHING_IN_SCOPE
from tests.callbacks.test_morning_coffee import find_by_class, text_of
from tests.dashboard.security.dash_requests import (
    DASH_ROUTE,
    callback_keys,
    dash_app,
    page_layout,
    payload,
    post_callback,
    response_outputs,
)

FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_MONEY = MaskPolicy(view_pii=False, view_financials=False)
EVERYTHING = DataScope.everything()
Q3 = PageQuery("2026-07-01", "2026-09-30")
EXECUTIVE_EMAIL = "executive@test.client360.dev"


@pytest.fixture()
def session(loaded_database) -> Iterator[Session]:
    with loaded_database.session() as session:
        yield session


def _json(outputs: dict) -> str:
    return json.dumps(outputs, cls=PlotlyJSONEncoder)


def _graph_ids(component) -> list[str]:
    found = json.loads(_json(component))
    ids: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Graph" and "id" in node.get("props", {}):
                ids.append(node["props"]["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(found)
    return ids


def test_build_comparison_returns_the_charts_grid_and_breadcrumb(session):
    outputs = build_comparison(session, Q3, scope=EVERYTHING, policy=FULL)
    assert set(outputs) == {"period_label", "filter_note", "breadcrumb", "revenue", "customers", "win_rate",
                            "comparison"}
    assert "1 Jul 2026 \u2013 30 Sep 2026" in outputs["period_label"]
    assert "1 Apr 2026 \u2013 30 Jun 2026" in outputs["period_label"]  # the previous quarter
    assert "1 Jul 2025 \u2013 30 Sep 2025" in outputs["period_label"]  # the same quarter a year earlier
    assert _graph_ids(outputs["revenue"]) == [ID.REVENUE_GRAPH]
    assert _graph_ids(outputs["customers"]) == [ID.CUSTOMERS_GRAPH]
    assert _graph_ids(outputs["win_rate"]) == [ID.WIN_RATE_GRAPH]
    assert "Revenue by region" in text_of(outputs["revenue"])
    grid = json.loads(_json(outputs["comparison"]))
    assert f'"{ID.COMPARISON_GRID}"' in _json(grid) and f"/export/{ID.COMPARISON}.csv" in _json(grid)
    assert "All regions" in _json(outputs["breadcrumb"])
    assert "deals stay in the region of the regional account" in text_of(outputs["filter_note"])
    mix = build_product_mix(session, Q3, scope=EVERYTHING, policy=FULL)
    assert "Product mix by region" in text_of(mix["product_mix"])
    assert '"type": "heatmap"' in _json(mix)


def test_a_drill_down_shows_territories_and_a_breadcrumb_back(session):
    region = q.regions(session, EVERYTHING, q.data_date_bounds(session).last)[0]
    outputs = build_comparison(session, PageQuery(Q3.start, Q3.end, REGIONAL, region), scope=EVERYTHING, policy=FULL)
    assert f"Revenue in {region} by territory" in text_of(outputs["revenue"])
    crumbs = json.loads(_json(outputs["breadcrumb"]))["props"]["items"]
    assert crumbs[0]["label"] == "All regions"
    assert crumbs[0]["href"] == "/executive/regions?start=2026-07-01&end=2026-09-30&view=regional"
    assert crumbs[1] == {"label": region, "active": True}
    assert f"Product mix in {region} by territory" in text_of(
        build_product_mix(session, PageQuery(Q3.start, Q3.end, None, region), scope=EVERYTHING,
                          policy=FULL)["product_mix"])


def test_money_is_hidden_without_view_financials(session):
    outputs = build_comparison(session, Q3, scope=EVERYTHING, policy=NO_MONEY)
    assert FINANCIALS_HIDDEN in text_of(outputs["revenue"])
    assert not _graph_ids(outputs["revenue"])
    assert _graph_ids(outputs["customers"]) == [ID.CUSTOMERS_GRAPH]
    grid = _json(outputs["comparison"])
    assert '"invoiced_current": "' in grid and '"mrr_current": "' in grid  # bands, not amounts


def test_an_empty_scope_and_an_empty_gold_say_so(session):
    outputs = build_comparison(session, Q3, scope=DataScope.nothing(), policy=FULL)
    for name in ("revenue", "customers", "win_rate", "comparison"):
        assert NOTHING_IN_SCOPE in text_of(outputs[name]), name
    assert find_by_class(outputs["revenue"], "c360-no-selection")
    with session.begin_nested() as nested:
        session.execute(delete(DailyKpi))
        empty = build_comparison(session, Q3, scope=EVERYTHING, policy=FULL)
        assert "No data yet" in text_of(empty["revenue"])
        nested.rollback()


def test_the_controls_and_clicks_write_a_canonical_url():
    current = PageQuery("2026-07-01", "2026-09-30", None, "Europe")
    assert q.query_from_controls("2026-01-01", "2026-03-31T00:00:00", "master", current).search == \
        "?start=2026-01-01&end=2026-03-31&region=Europe"
    assert q.query_from_controls("2026-01-01", None, "master", current) is None
    assert q.query_from_controls("2026-01-01", "2026-01-31", "regional", PageQuery()).search == \
        "?start=2026-01-01&end=2026-01-31&view=regional"
    assert q.drill_into(PageQuery("2026-07-01", "2026-09-30"), "Europe").href == \
        "/executive/regions?start=2026-07-01&end=2026-09-30&region=Europe"
    assert q.drill_into(current, "EU-DACH") is None and q.drill_into(PageQuery(), None) is None


# --- Through Dash's route, as a browser posts ----------------------------------------------


def _state(**values) -> dict:
    return {f"{ID.STATE}.data": {"start": "2026-07-01", "end": "2026-09-30", **values}}


def test_an_executive_gets_the_panels_and_the_export(app, login_as):
    client = login_as("executive")
    response = post_callback(client, app, f"{ID.REVENUE}.children", _state())
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    outputs = response_outputs(response)
    assert "Revenue by region" in json.dumps(outputs[f"{ID.REVENUE}.children"])
    mix = post_callback(client, app, f"{ID.PRODUCT_MIX}.children", _state())
    assert mix.status_code == 200 and "Product mix" in mix.get_data(as_text=True)
    drill_key = next(key for key in callback_keys(app) if f"{ID.URL}.search" in key
                     and any(i["id"] == relay_id(ID.REVENUE_GRAPH, "clickData") for i in dash_app(app).callback_map[key]["inputs"]))
    drill = client.post(DASH_ROUTE, json=payload(
        app, drill_key, {f"{relay_id(ID.REVENUE_GRAPH, 'clickData')}.data": {"points": [{"y": "Europe"}]}, **_state()},
        changed=f"{relay_id(ID.REVENUE_GRAPH, 'clickData')}.data"))
    assert drill.status_code == 200
    assert response_outputs(drill)[f"{ID.URL}.search"] == "?start=2026-07-01&end=2026-09-30&region=Europe"
    export = client.get(f"/export/{ID.COMPARISON}.csv?start=2026-07-01&end=2026-09-30")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert rows and {"Region", "Revenue", "Customers", "Win rate"} <= set(rows[0])
    layout = page_layout(client, app, "/executive/regions")
    assert layout.status_code == 200 and f'"{ID.DATE_RANGE}"' in layout.get_data(as_text=True)


@pytest.mark.parametrize("role", ["support_lead", "account_manager", "sales_manager"])
def test_roles_without_view_executive_are_refused_on_the_server(app, login_as, role):
    client = login_as(role)
    for output in (f"{ID.REVENUE}.children", f"{ID.PRODUCT_MIX}.children"):
        response = post_callback(client, app, output, _state())
        assert response.status_code == 403, output
        assert "Revenue by region" not in response.get_data(as_text=True)
    assert client.get(f"/export/{ID.COMPARISON}.csv").status_code == 403


def test_anonymous_is_refused(app, client):
    assert post_callback(client, app, f"{ID.REVENUE}.children", _state()).status_code == 401


@pytest.fixture()
def scoped_executive(app) -> Iterator[list[str]]:
    """The test executive limited to two territories of one region; unrestricted again afterwards."""
    with db.begin() as session:
        territories = q.regions(session, EVERYTHING, q.data_date_bounds(session).last)
        pairs = session.execute(select(q.DailyKpiTerritory.region, q.DailyKpiTerritory.territory).distinct()
                                .where(q.DailyKpiTerritory.day == q.data_date_bounds(session).last)).all()
        region = territories[0]
        chosen = sorted(t for r, t in pairs if r == region)[:2]
        user_id = session.scalar(select(User.id).where(User.email == EXECUTIVE_EMAIL))
        update_user(session, user_id, territories=chosen, actor="test")
    yield chosen
    with db.begin() as session:
        update_user(session, user_id, territories=[], actor="test")


def test_a_scoped_executive_sees_only_their_territories(app, login_as, scoped_executive):
    client = login_as("executive")
    with db.session() as session:
        every_region = q.regions(session, EVERYTHING, q.data_date_bounds(session).last)
        own = q.regions(session, DataScope.restricted_to(scoped_executive), q.data_date_bounds(session).last)
    assert len(own) == 1 and len(every_region) > 1
    grid = json.dumps(response_outputs(post_callback(client, app, f"{ID.COMPARISON}.children", _state())))
    assert f'"member": "{own[0]}"' in grid
    assert not [r for r in every_region if r != own[0] and f'"member": "{r}"' in grid]
    drilled = json.dumps(response_outputs(post_callback(client, app, f"{ID.COMPARISON}.children",
                                                        _state(region=own[0]))))
    members = {t for t in scoped_executive if f'"member": "{t}"' in drilled}
    assert members and members <= set(scoped_executive)
    refused = json.dumps(response_outputs(post_callback(client, app, f"{ID.COMPARISON}.children",
                                                        _state(region=every_region[-1]))))
    assert "is not available" in json.dumps(response_outputs(post_callback(
        client, app, f"{ID.FILTER_NOTE}.children", _state(region=every_region[-1]))))
    assert f'"member": "{every_region[-1]}"' not in refused

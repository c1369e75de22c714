"""Growth wiring: the build_* functions turn each query's result into its panel (the map with ISO-3
codes, counts and never a phone number; the segments with their definitions, chart, grid and export),
garbage state handled, the granularity and the attribute writing the URL, and the page's callbacks
refused server-side to a role without view_marketing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import text
from sqlalchemy.orm import Session

from callbacks.growth import PANELS, write_controls_to_url, write_segment_to_url
from dashboard.masking import MaskPolicy
from dashboard.queries import growth as q
from dashboard.queries.growth import GrowthQuery
from dashboard.scope import DataScope
from layouts.growth import GrowthIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs

EVERYTHING = DataScope.everything()
MASKED = MaskPolicy(view_pii=False, view_financials=True)


@pytest.fixture()
def session(rolled_back: Session) -> Session:  # noqa: F811
    return rolled_back


def _json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder)


def _all(session: Session, state: Any) -> dict[str, Any]:
    return {output: build(session, state, scope=EVERYTHING, policy=MASKED) for output, build in PANELS.items()}


def test_every_panel_shows_its_figures_and_no_phone_number(session):
    outputs = _all(session, {"grain": "month"})
    velocity = text_of(outputs[ID.VELOCITY])
    assert "Growth rate" in velocity and "/ month" in velocity and "per month" in velocity
    geography = _json(outputs[ID.GEOGRAPHY])
    result = q.geography(session, GrowthQuery(), EVERYTHING, policy=MASKED)
    assert '"locationmode": "ISO-3"' in geography and f'"{result.rows[0].iso3}"' in geography
    assert result.rows[0].name in text_of(outputs[ID.GEOGRAPHY])
    phones = [p for p in session.scalars(text("SELECT phone FROM silver.contacts WHERE phone IS NOT NULL LIMIT 200"))]
    everything = _json(outputs)
    assert phones and not any(p in everything or p.lstrip("+") in everything for p in phones)


@pytest.mark.parametrize("state", [None, "garbage", {"grain": ["a"]}, {"grain": "x" * 10_000}, {"grain": "day"},
                                   {"grain": {"x": 1}}, {"segment": ["a"]}, {"segment": {"x": 1}},
                                   {"segment": "x" * 10_000}, {"segment": 7, "grain": None}, {"segment": ""}])
def test_garbage_state_never_raises(session, state):
    for name, panel in _all(session, state).items():
        serialised = _json(panel)
        assert "Traceback" not in serialised and "Something went wrong" not in serialised, name


def test_the_granularity_and_the_attribute_write_the_url():
    assert write_controls_to_url("month", {}) == "?grain=month"
    assert write_controls_to_url("week", {"grain": "day"}) == ""
    with pytest.raises(PreventUpdate):
        write_controls_to_url("day", {"grain": "day"})
    assert write_controls_to_url("month", {"segment": "tier"}) == "?grain=month&segment=tier"
    assert write_segment_to_url("persona", {"grain": "month", "segment": "tier"}) == "?grain=month&segment=persona"
    with pytest.raises(PreventUpdate):
        write_segment_to_url(None, {"segment": "tier"})


def test_the_segments_panel_shows_the_definitions_the_chart_and_an_exportable_grid(session):
    panel = _all(session, {"segment": "persona"})[ID.SEGMENTS]
    shown = text_of(panel)
    assert all(name in shown for name in ("VIP", "Lead", "Churned", "top 10% of paying customers"))
    serialised = _json(panel)
    assert ID.SEGMENT_GRAPH in serialised and ID.SEGMENT_GRID in serialised and "persona = " in serialised
    result = q.segments(session, GrowthQuery(segment="persona"), EVERYTHING, policy=MASKED)
    assert f'"{result.values[0].value}"' in serialised


def test_without_any_attribute_the_panel_says_so(session):
    session.execute(text("DELETE FROM gold.contact_segment_monthly WHERE kind = 'attribute'"))
    shown = text_of(_all(session, {})[ID.SEGMENTS])
    assert "No contact in your data has custom attributes yet" in shown and "VIP" in shown


def test_the_segments_export_is_the_grid(login_as, session):
    client = login_as("marketing_manager")
    response = client.get("/export/gw-segments.csv?segment=tier")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    lines = response.get_data(as_text=True).strip().splitlines()
    result = q.segments(session, GrowthQuery(segment="tier"), EVERYTHING, policy=MASKED)
    assert lines[0].startswith("Segment,Contacts,Share of contacts") and len(lines) == 1 + len(result.grid.rows)
    assert any(line.startswith("tier = ") for line in lines)
    assert login_as("support_lead").get("/export/gw-segments.csv").status_code == 403


@pytest.mark.parametrize("role", ["executive", "marketing_manager"])
@pytest.mark.parametrize("output", list(PANELS))
def test_executives_and_marketing_managers_get_the_panels_and_support_leads_are_refused(login_as, role, output):
    client = login_as(role)
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("support_lead"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "contacts" not in refused.get_data(as_text=True).lower()


def test_before_gold_is_built_every_panel_says_so(session):
    from dashboard.queries.freshness import gold_status
    from layouts import growth as page

    status = gold_status(session)
    for output in (page.velocity_output, page.geography_output, page.segments_output):
        assert "No data yet" in text_of(output(status)), output.__name__
    session.execute(text("DELETE FROM gold.contact_daily"))
    session.execute(text("DELETE FROM gold.leads_daily"))
    assert q.resolve(session, GrowthQuery(), EVERYTHING) is None
    assert isinstance(q.geography(session, GrowthQuery(), EVERYTHING, policy=MASKED), type(status))
    assert isinstance(q.segments(session, GrowthQuery(), EVERYTHING, policy=MASKED), type(status))

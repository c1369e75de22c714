"""Strategy wiring: the build_* functions turn each query's result into its panel, with the
financials hidden where the policy says, garbage state handled, and the page's callbacks refused
server-side to a role without view_executive."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.orm import Session

from callbacks.executive_strategy import (
    build_churn_drivers,
    build_concentration,
    build_lifetime_value,
    build_potential,
    build_retention,
    build_satisfaction,
    build_segments,
    write_controls_to_url,
)
from dashboard.formatting import format_percent
from dashboard.masking import MaskPolicy
from dashboard.queries import strategy as q
from dashboard.queries.strategy import StrategyQuery
from dashboard.scope import DataScope
from layouts.executive_strategy import FINANCIALS_HIDDEN
from layouts.executive_strategy import StrategyIds as ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_FINANCIALS = MaskPolicy(view_pii=True, view_financials=False)


@pytest.fixture()
def session(rolled_back: Session, insights_ran) -> Session:  # noqa: F811
    return rolled_back


def _json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder)


def _all(session: Session, state: Any, scope: DataScope = EVERYTHING, policy: MaskPolicy = FULL) -> dict[str, Any]:
    return {"retention": build_retention(session, state, scope=scope, policy=policy),
            "concentration": build_concentration(session, state, scope=scope, policy=policy),
            **build_segments(session, state, scope=scope, policy=policy, cost_per_ticket_usd=25.0),
            "lifetime_value": build_lifetime_value(session, state, scope=scope, policy=policy),
            "satisfaction": build_satisfaction(session, state, scope=scope, policy=policy),
            "potential": build_potential(session, state, scope=scope, policy=policy),
            "churn": build_churn_drivers(session, state, scope=scope, policy=policy)}


def test_every_panel_shows_its_figures(session):
    outputs = _all(session, {"by": "segment"})
    result = q.retention(session, StrategyQuery("segment"), EVERYTHING, policy=FULL)
    retention = text_of(outputs["retention"])
    assert format_percent(result.overall.logo_retention) in retention
    assert format_percent(result.overall.nrr) in retention
    concentration = q.concentration(session, StrategyQuery(), EVERYTHING, policy=FULL)
    assert format_percent(concentration.shares[5]) in text_of(outputs["concentration"])
    assert "Fastest by customers" in text_of(outputs["growth"])
    assert "Average customer" in text_of(outputs["lifetime_value"])
    satisfaction = text_of(outputs["satisfaction"])
    assert "95 % CI" in satisfaction and "n = " in satisfaction
    assert "customers with potential" in text_of(outputs["potential"])
    churn = text_of(outputs["churn"])
    assert "Churned (" in churn and "Retained (" in churn and "Mentioned a competitor" in churn
    for name, panel in outputs.items():
        serialised = _json(panel)
        assert "Hidden:" not in serialised and "Something went wrong" not in serialised, name


def test_without_financials_only_customer_counts_show(session):
    outputs = _all(session, None, policy=NO_FINANCIALS)
    retention = text_of(outputs["retention"])
    assert FINANCIALS_HIDDEN in retention and "Logo retention" in retention
    assert FINANCIALS_HIDDEN in text_of(outputs["concentration"])
    assert FINANCIALS_HIDDEN in text_of(outputs["segments"])
    assert FINANCIALS_HIDDEN in text_of(outputs["lifetime_value"])
    assert "Fastest by MRR" not in text_of(outputs["growth"])


@pytest.mark.parametrize("state", [None, "garbage", {"by": ["a"], "month": {"x": 1}}, {"by": "x" * 10_000},
                                   {"by": "product_line", "month": "1999-01"}])
def test_garbage_state_never_raises(session, state):
    for name, panel in _all(session, state).items():
        assert "Traceback" not in _json(panel), name


def test_an_empty_scope_says_why(session):
    outputs = _all(session, None, scope=DataScope.nothing())
    for name in ("retention", "concentration", "segments", "growth", "lifetime_value", "satisfaction", "potential",
                 "churn"):
        assert "Nothing in your data scope" in text_of(outputs[name]), name


def test_the_controls_write_the_url():
    assert write_controls_to_url("segment", "2026-10", {"by": None, "month": None}) == "?by=segment&month=2026-10"
    from dash.exceptions import PreventUpdate

    with pytest.raises(PreventUpdate):
        write_controls_to_url("segment", "2026-10", {"by": "segment", "month": "2026-10"})


@pytest.mark.parametrize("output", [ID.RETENTION, ID.CONCENTRATION, ID.SEGMENTS, ID.LIFETIME_VALUE, ID.SATISFACTION,
                                    ID.POTENTIAL, ID.CHURN])
def test_the_executive_gets_the_panels_and_a_role_without_view_executive_is_refused(login_as, scored, output):
    client = login_as("executive")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("support_lead"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "retention" not in refused.get_data(as_text=True).lower()


def test_every_grid_column_and_panel_has_a_definition():
    from datetime import date

    from dashboard.queries.glossary import definition

    policy = MaskPolicy(view_pii=False, view_financials=True)
    years = tuple(date(2023 + k, 11, 23) for k in range(4))
    columns = list(q.concentration_columns(years, policy)) + list(q.potential_columns(policy))
    keys = [c.field for c in columns] + ["logo_retention", "net_revenue_retention", "revenue_concentration",
                                         "segment_profit", "segment_growth", "clv_usd", "satisfaction_value",
                                         "upsell_potential", "churn_drivers"]
    assert [key for key in keys if not definition(key)] == []

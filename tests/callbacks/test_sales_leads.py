"""Leads and buyers wiring: the build_* functions turn each query's result into its panel, with emails,
phones and amounts masked where the policy says, garbage state handled, the controls writing the
URL, and the page's callbacks refused server-side to a role without view_sales."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.orm import Session

from callbacks.sales_leads import (
    build_decline,
    build_leads,
    build_potential,
    build_renewals,
    build_repeat,
    write_controls_to_url,
)
from dashboard.masking import MaskPolicy
from dashboard.queries import sales_leads as q
from dashboard.queries.sales_leads import LeadsQuery
from dashboard.scope import DataScope
from layouts.sales_leads import LeadsIds as ID
from layouts.sales_leads import auc_text
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)


@pytest.fixture()
def session(rolled_back: Session, leads_scored, insights_ran) -> Session:  # noqa: F811
    return rolled_back


def _json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder)


def _all(session: Session, state: Any, scope: DataScope = EVERYTHING, policy: MaskPolicy = FULL) -> dict[str, Any]:
    return {"leads": build_leads(session, state, scope=scope, policy=policy),
            "repeat": build_repeat(session, state, scope=scope, policy=policy),
            "decline": build_decline(session, state, scope=scope, policy=policy),
            "renewals": build_renewals(session, state, scope=scope, policy=policy),
            "potential": build_potential(session, state, scope=scope, policy=policy)}


def test_every_panel_shows_its_figures(session):
    outputs = _all(session, {})
    leads = q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL)
    text = text_of(outputs["leads"])
    assert f"Model AUC{auc_text(leads.validation_auc)}" in text.replace(" ", "").replace("\n", "") or \
        auc_text(leads.validation_auc) in text
    assert "Open leads" in text and f"{leads.open_leads:,}" in text
    repeat = q.repeat_buyers(session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert f"r={repeat.parameters['r']:.3f}" in text_of(outputs["repeat"])
    decline = text_of(outputs["decline"])
    assert "Churned" in decline and "MRR lost" in decline
    renewals = q.renewals(session, LeadsQuery(), EVERYTHING, policy=FULL)
    renewal_text = text_of(outputs["renewals"])
    assert "Renewals due" in renewal_text and f"{renewals.renewals:,}" in renewal_text
    assert "in the next 6 months" in renewal_text and "High churn risk" in renewal_text
    potential = q.potential(session, LeadsQuery(), EVERYTHING, policy=FULL)
    assert f"{potential.candidates:,}" in text_of(outputs["potential"])
    for name, panel in outputs.items():
        assert "Something went wrong" not in _json(panel), name


def test_without_pii_or_financials_nothing_leaks(session):
    outputs = _all(session, None, policy=MASKED)
    full = q.leads(session, LeadsQuery(), EVERYTHING, policy=FULL)
    serialised = _json(outputs["leads"])
    emails = [row["email"] for row in full.grid.rows if row["email"]]
    assert emails and not any(email in serialised for email in emails)
    assert "MRR lost" not in text_of(outputs["decline"])
    renewals = q.renewals(session, LeadsQuery(), EVERYTHING, policy=FULL)
    exact = [f"{row['mrr_usd']:,.2f}" for row in renewals.grid.rows[:20] if row["mrr_usd"]]
    masked_renewals = _json(outputs["renewals"])
    assert exact and not any(value in masked_renewals for value in exact)
    assert "needs the financials permission" in text_of(outputs["potential"])


@pytest.mark.parametrize("state", [None, "garbage", {"source": ["a"], "kind": {"x": 1}}, {"source": "x" * 10_000},
                                   {"source": "referral", "kind": "churned"}, {"months": "-1"},
                                   {"months": ["3"]}, {"months": "3"}])
def test_garbage_state_never_raises(session, state):
    for name, panel in _all(session, state).items():
        assert "Traceback" not in _json(panel), name


def test_an_empty_scope_says_why(session):
    outputs = _all(session, None, scope=DataScope.nothing())
    for name in ("leads", "repeat", "decline", "renewals", "potential"):
        assert "Nothing in your data scope" in text_of(outputs[name]), name


def test_the_controls_write_the_url():
    assert write_controls_to_url("referral", "all", "6", {"source": None, "kind": None}) == "?source=referral"
    assert write_controls_to_url("all", "churned", "6", {"source": "referral", "kind": None}) == "?kind=churned"
    assert write_controls_to_url("all", "all", "3", {}) == "?months=3"
    assert write_controls_to_url("all", "all", "6", {"months": "3"}) == ""
    with pytest.raises(PreventUpdate):
        write_controls_to_url("referral", "all", "6", {"source": "referral", "kind": None})


@pytest.mark.parametrize("output", [ID.LEADS, ID.REPEAT, ID.DECLINE, ID.RENEWALS, ID.POTENTIAL])
def test_a_sales_manager_gets_the_panels_and_a_role_without_view_sales_is_refused(login_as, leads_scored, output):
    client = login_as("sales_manager")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("support_lead"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "lead" not in refused.get_data(as_text=True).lower()


def test_every_grid_column_and_panel_has_a_definition():
    from dashboard.queries.glossary import definition

    columns = [*q.lead_columns(), *q.repeat_columns(FULL), *q.decline_columns(FULL)]
    # The renewals and cross-sell grids are My accounts' and Strategy's, defined with them.
    generic = {"rank", "lead_name", "company", "reason", "lead_source", "status", "engagement_tier", "owner_name",
               "territory", "email", "phone", "created_day", "lead_id", "account_name", "purchases", "last_purchase",
               "last_expansion", "last_expansion_kind", "days_since_expansion", "region", "mrr_usd", "decline_kind",
               "reasons", "mrr_before_usd", "mrr_now_usd", "mrr_change_usd", "churn_risk_score", "price_rises",
               "tickets"}
    keys = [c.field for c in columns if c.field not in generic] + [
        "open_leads", "lead_score", "lead_model_auc", "repeat_purchase", "p_alive", "expected_purchases",
        "buying_decline", "renewals_due", "upsell_potential", "churn_risk", "health_score"]
    assert [key for key in keys if not definition(key)] == []

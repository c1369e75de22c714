"""Customer 360 overview callbacks: the panels render the query results, money is banded without
financials, and acting on an action goes through the callback route only with execute_actions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from callbacks.customer360 import build_actions, build_alerts, build_kpis, build_risk
from dashboard.extensions import db
from dashboard.formatting import format_usd
from dashboard.masking import MaskPolicy, amount_band
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.gold import Customer360
from dashboard.tables.intelligence import NextBestAction
from layouts.customer360 import ID
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.queries.test_customer360 import PICK_ACCOUNT, risky_account, scored_session  # noqa: F401

EVERYTHING = DataScope.everything()


def test_panels_render_the_figures(scored_session: Session, risky_account: str) -> None:  # noqa: F811
    customer = scored_session.get(Customer360, risky_account)
    cards = build_kpis(scored_session, risky_account, scope=EVERYTHING, policy=MaskPolicy(True, True))
    assert format_usd(float(customer.mrr_usd)) in text_of(cards[ID.KPI_MRR])
    assert str(customer.open_tickets) in text_of(cards[ID.KPI_TICKETS])
    assert "BG/NBD" in json.dumps(cards[ID.KPI_CLV].to_plotly_json(), default=str)
    risk = text_of(build_risk(scored_session, risky_account, scope=EVERYTHING))
    assert "Top factors" in risk and "Payment (30 %)" in risk and "Usage" in risk
    alerts = text_of(build_alerts(scored_session, risky_account, scope=EVERYTHING, may_change=True))
    assert "Acknowledge" in alerts or "Resolve" in alerts
    actions = build_actions(scored_session, risky_account, scope=EVERYTHING, policy=MaskPolicy(True, True), may_act=True)
    assert "Execute" in text_of(actions) and "Schedule" in text_of(actions)
    assert "Execute" not in text_of(build_actions(scored_session, risky_account, scope=EVERYTHING,
                                                  policy=MaskPolicy(True, True), may_act=False))


def test_money_is_banded_without_financials(scored_session: Session, risky_account: str) -> None:  # noqa: F811
    customer = scored_session.get(Customer360, risky_account)
    cards = build_kpis(scored_session, risky_account, scope=EVERYTHING, policy=MaskPolicy(True, False))
    mrr = text_of(cards[ID.KPI_MRR])
    assert f"Band {amount_band(customer.mrr_usd)}" in mrr and format_usd(float(customer.mrr_usd)) not in mrr
    assert "$" not in text_of(cards[ID.KPI_GROWTH])


def test_out_of_scope_panels_say_so(scored_session: Session, risky_account: str) -> None:  # noqa: F811
    elsewhere = DataScope.restricted_to(account_ids=["no-such-account"])
    cards = build_kpis(scored_session, risky_account, scope=elsewhere, policy=MaskPolicy(True, True))
    assert all("not in your data scope" in text_of(card) for card in cards.values())
    assert "not in your data scope" in text_of(build_risk(scored_session, risky_account, scope=elsewhere))


# --- Through the callback route -------------------------------------------------------------


def _dash_app(app):
    return app.extensions["dash_app"]


def _callback_key(app, part: str) -> str:
    return next(k for k in _dash_app(app).callback_map if part in k)


def _outputs(key: str) -> list[dict[str, str]]:
    return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@", 1)[0]}
            for p in key.strip(".").split("...")]


def _kpi_payload(app, account_id: str) -> dict[str, Any]:
    key = _callback_key(app, f"{ID.KPI_MRR}.children")
    return {"output": key, "outputs": _outputs(key),
            "inputs": [{"id": ID.STATE, "property": "data", "value": {"account_id": account_id}}],
            "changedPropIds": [f"{ID.STATE}.data"], "state": []}


def _execute_payload(app, action_id: str) -> dict[str, Any]:
    key = next(k for k, v in _dash_app(app).callback_map.items()
               if f"{ID.CHANGED}.data" in k and any(ID.EXECUTE in str(i["id"]) for i in v["inputs"]))
    button = {"action_id": action_id, "type": ID.EXECUTE}
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in key.strip(".").split("...")]
    return {"output": key, "outputs": outputs,
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
            "changedPropIds": [json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
            "state": [{"id": ID.CHANGED, "property": "data", "value": 0}]}


def _response(response) -> dict[str, Any]:
    body = response.get_json()
    return {f"{cid}.{prop}": value for cid, props in body["response"].items() for prop, value in props.items()}


@pytest.fixture()
def open_action(insights_ran) -> Any:  # noqa: F811
    """An open action, put back as it was afterwards for the rest of the session."""
    with db.session() as session:
        account_id = session.scalar(text(PICK_ACCOUNT))
        action_id = session.scalar(select(NextBestAction.recommendation_id).where(
            NextBestAction.customer_id == account_id, NextBestAction.status == "open").limit(1))
    assert action_id
    yield account_id, action_id
    with db.begin() as session:
        session.execute(text("UPDATE gold.next_best_action SET status = 'open', acted_by = NULL, acted_at = NULL, "
                             "outcome_status = NULL WHERE recommendation_id = :id"), {"id": action_id})


def test_kpis_through_the_route_follow_the_scope(login_as, open_action) -> None:
    account_id, _ = open_action
    client = login_as("support_lead")
    response = client.post("/_dash-update-component", json=_kpi_payload(client.application, account_id))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Band " in json.dumps(_response(response)[f"{ID.KPI_MRR}.children"])
    assert login_as("marketing_manager").post("/_dash-update-component", json=_kpi_payload(
        client.application, account_id)).status_code == 403


def test_executing_needs_execute_actions_on_the_server(login_as, open_action) -> None:
    _, action_id = open_action
    refused = login_as("executive").post("/_dash-update-component",
                                         json=_execute_payload(login_as("executive").application, action_id))
    assert refused.status_code == 403
    with db.session() as session:
        assert session.get(NextBestAction, action_id).status == "open"
    client = login_as("support_lead")
    done = client.post("/_dash-update-component", json=_execute_payload(client.application, action_id))
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    assert "Executed" in json.dumps(_response(done)[f"{ID.MESSAGE}.children"])
    with db.session() as session:
        assert session.get(NextBestAction, action_id).status == "executed"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "action_execution")
                               .order_by(AuditEvent.id.desc()).limit(1))
    assert event.actor == "support_lead@test.client360.dev" and event.detail["recommendation_id"] == action_id

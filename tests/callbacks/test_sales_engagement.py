"""Engagement radar wiring: the build_* functions turn each query's result into its panel, emails and
phones masked where the policy says, garbage state handled, the tier rules shown from the model's
constants, and the page's callbacks refused server-side to a role without view_sales and scoped for a
sales manager."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash.exceptions import PreventUpdate
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import text
from sqlalchemy.orm import Session

from callbacks.sales_engagement import (
    build_accounts,
    build_contacts,
    build_distribution,
    build_drops,
    build_peers,
    build_tiers,
    compare_clicked_account,
    write_controls_to_url,
)
from dashboard.masking import MaskPolicy
from dashboard.queries import engagement as q
from dashboard.queries.engagement import EngagementQuery
from dashboard.scope import DataScope
from layouts.sales_engagement import EngagementIds as ID
from layouts.sales_engagement import distribution_figure, peers_figure
from models.engagement import TIER_THRESHOLDS, WEIGHTS
from tests.callbacks.test_morning_coffee import text_of
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401
from tests.dashboard.security.dash_requests import post_callback, response_outputs

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
NO_PII = MaskPolicy(view_pii=False, view_financials=True)
PANELS = (ID.TIERS, ID.DISTRIBUTION, ID.DROPS, ID.PEERS, ID.ACCOUNTS, ID.CONTACTS)


@pytest.fixture()
def session(rolled_back: Session, scored) -> Session:  # noqa: F811
    return rolled_back


def _json(component: Any) -> str:
    return json.dumps(component, cls=PlotlyJSONEncoder)


def _all(session: Session, state: Any, scope: DataScope = EVERYTHING, policy: MaskPolicy = FULL) -> dict[str, Any]:
    return {"tiers": build_tiers(session, state, scope=scope, policy=policy),
            "distribution": build_distribution(session, state, scope=scope, policy=policy),
            "drops": build_drops(session, state, scope=scope, policy=policy),
            "peers": build_peers(session, state, scope=scope, policy=policy),
            "accounts": build_accounts(session, state, scope=scope, policy=policy),
            "contacts": build_contacts(session, state, scope=scope, policy=policy)}


def test_every_panel_shows_its_figures(session):
    outputs = _all(session, {"tier": "Potential"})
    tiers = q.tiers(session, EngagementQuery(), EVERYTHING, policy=FULL)
    assert "How tiers are defined" in text_of(outputs["tiers"])
    assert f"{tiers.accounts:,}" in text_of(outputs["tiers"])
    assert "Median customer" in text_of(outputs["distribution"])
    drops = q.drops(session, EngagementQuery(), EVERYTHING, policy=FULL)
    assert f"{drops.count:,} customers fell sharply" in text_of(outputs["drops"])
    peers = q.peers(session, EngagementQuery(), EVERYTHING, policy=FULL)
    assert f"of its {peers.peers:,} peers" in text_of(outputs["peers"])
    accounts = q.accounts(session, EngagementQuery(tier="Potential"), EVERYTHING, policy=FULL)
    assert f"{accounts.total:,} customers of Potential" in text_of(outputs["accounts"])
    contacts = q.contacts(session, EngagementQuery(tier="Potential"), EVERYTHING, policy=FULL)
    assert f"{contacts.total:,} contacts of Potential" in text_of(outputs["contacts"])
    assert "Campaign list" in text_of(outputs["contacts"])
    for name, panel in outputs.items():
        assert "Something went wrong" not in _json(panel), name


def test_the_tier_rules_come_from_the_model_constants(session):
    body = text_of(build_tiers(session, None, scope=EVERYTHING, policy=FULL))
    for threshold in TIER_THRESHOLDS.values():
        assert f"{threshold:.2f}" in body
    for weight in WEIGHTS.values():
        assert f"{weight:.0%}" in body


def test_the_figures_draw_the_query_results(session):
    distribution = q.distribution(session, EngagementQuery(), EVERYTHING, policy=FULL)
    figure = distribution_figure(distribution)
    assert list(figure.data[0].y) == distribution.bins["accounts"].tolist()
    assert list(figure.data[1].y) == distribution.bins["contacts"].tolist()
    assert len(figure.layout.shapes) == len(TIER_THRESHOLDS)
    peers = q.peers(session, EngagementQuery(), EVERYTHING, policy=FULL)
    drawn = peers_figure(peers)
    assert list(drawn.data[0].y) == [peers.account[k] for k in ("engagement_score", "recency", "frequency", "depth")]
    assert list(drawn.data[1].y) == [peers.peer_medians[k]
                                     for k in ("engagement_score", "recency", "frequency", "depth")]


def test_without_view_pii_no_email_or_phone_reaches_the_page(session):
    rows = session.execute(text("SELECT email, phone FROM gold.contact_engagement WHERE tier = 'Potential' "
                                "AND email IS NOT NULL")).all()
    assert rows
    panel = _json(build_contacts(session, {"tier": "Potential"}, scope=EVERYTHING, policy=NO_PII))
    assert not [email for email, _ in rows if email in panel]
    assert not [phone for _, phone in rows if phone and phone in panel]
    assert "***@" in panel
    unmasked = _json(build_contacts(session, {"tier": "Potential"}, scope=EVERYTHING, policy=FULL))
    assert any(email in unmasked for email, _ in rows)


@pytest.mark.parametrize("state", [None, "garbage", {"tier": ["a"], "account": {"x": 1}}, {"tier": "x" * 10_000},
                                   {"tier": "Alert", "account": "no-such-account"}])
def test_garbage_state_never_raises(session, state):
    for name, panel in _all(session, state).items():
        assert "Traceback" not in _json(panel), name


def test_an_empty_scope_says_why(session):
    outputs = _all(session, None, scope=DataScope.nothing())
    for name in ("tiers", "distribution", "drops", "peers", "accounts", "contacts"):
        assert "Nothing in your data scope" in text_of(outputs[name]), name


def test_the_controls_and_a_drop_click_write_the_url():
    assert write_controls_to_url("Potential", None, {"tier": None, "account": None}) == "?tier=Potential"
    assert write_controls_to_url("all", "ACC-1", {"tier": "Potential"}) == "?account=ACC-1"
    with pytest.raises(PreventUpdate):
        write_controls_to_url("all", None, {"tier": None, "account": None})
    click = {"colId": "engagement_score", "rowId": "ACC-9"}
    assert compare_clicked_account(click, {"tier": "Alert"}) == "?tier=Alert&account=ACC-9"
    for ignored in ({"colId": "engagement_tier", "rowId": "ACC-9"}, {"colId": "account_name", "rowId": "ACC-9"},
                    None, {"colId": "x"}):
        with pytest.raises(PreventUpdate):
            compare_clicked_account(ignored, {})


@pytest.mark.parametrize("output", PANELS)
def test_the_sales_manager_gets_the_panels_and_a_role_without_view_sales_is_refused(login_as, scored, output):
    client = login_as("sales_manager")
    response = post_callback(client, client.application, f"{output}.children", {f"{ID.STATE}.data": {}})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Something went wrong" not in json.dumps(response_outputs(response))
    refused = post_callback(login_as("support_lead"), client.application, f"{output}.children",
                            {f"{ID.STATE}.data": {}})
    assert refused.status_code == 403
    assert "engagement" not in refused.get_data(as_text=True).lower()


def test_a_scoped_sales_manager_sees_only_their_territory(login_email, scoped_users, scope_facts, app):
    """The contacts, the drops and the compared account are all of the manager's territory."""
    from dashboard.extensions import db

    client = login_email(scoped_users["sales"])
    with db.session() as session:
        names = dict(session.execute(text("SELECT account_id, account_name FROM gold.account_book")).all())
        outside = sorted(set(names) - set(scope_facts.territory_accounts))[0]
    allowed = {names[a] for a in scope_facts.territory_accounts}
    contacts = response_outputs(post_callback(client, app, f"{ID.CONTACTS}.children", {f"{ID.STATE}.data": {}}))
    body = json.dumps(contacts)
    shown = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("rowData"), list):
                shown.update(row["account_name"] for row in node["rowData"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(contacts)
    assert shown and shown <= allowed, body[:300]
    # An account of another territory asked for by hand is not compared.
    peers = response_outputs(post_callback(client, app, f"{ID.PEERS}.children",
                                           {f"{ID.STATE}.data": {"account": outside}}))
    assert names[outside] not in json.dumps(peers) or names[outside] in allowed


def test_every_grid_column_and_panel_has_a_definition():
    from dashboard.queries.glossary import definition

    columns = list(q.drops_columns()) + list(q.account_columns()) + list(q.contact_columns())
    keys = [c.field for c in columns] + ["engagement_tiers", "engagement_distribution", "engagement_drops",
                                         "engagement_peers", "engagement_accounts", "engagement_contacts"]
    assert [key for key in keys if not definition(key)] == []

"""The Journey and People & feedback pages' callbacks, called directly and posted as each role
would: panels from the queries, 404 outside the scope, masking, and link/unlink permissions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, text

from callbacks import account_journey as journey
from callbacks import account_people as people
from dashboard.extensions import db
from dashboard.masking import MaskPolicy
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.identity import AccountLinkOverride
from layouts.account_journey import JourneyIds, JourneyQuery
from layouts.account_people import PeopleIds
from tests.dashboard.security.dash_requests import page_layout, post_callback, response_outputs

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)


def _one(sql: str) -> str:
    with db.session() as session:
        value = session.scalar(text(sql))
    assert value is not None, "the demo data has no row for this check"
    return value


@pytest.fixture(autouse=True)
def bound(app, insights_ran):  # noqa: F811
    """`db` is bound by the app; every panel needs the scored and insight-run data."""
    return app


@pytest.fixture()
def busy_account(bound) -> str:
    return _one("""SELECT e.customer_id FROM gold.timeline_events e JOIN silver.tickets t
                   ON e.event_id = 'ticket:' || t.ticket_id GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")


def _figures(tree: object) -> list[dict]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("data"), list) and "layout" in node:
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def test_journey_query_round_trips_through_the_url():
    query = JourneyQuery.from_args("A-1", {"type": ["support", "bogus", "billing"], "start": "2026-01-01",
                                           "end": "2026-03-31T00:00", "page": "3", "period": "365"})
    assert query.types == ("support", "billing") and query.end == "2026-03-31" and query.page == 3
    assert JourneyQuery.from_args("A-1", dict(_pairs(query.search))) == query
    assert JourneyQuery.from_state(query.as_state()) == query
    assert JourneyQuery.from_args("A-1", {"page": "x", "period": "7", "start": "nope"}) == JourneyQuery("A-1")


def _pairs(search: str) -> list[tuple[str, list[str]]]:
    from dashboard.url_state import parse_search

    return list(parse_search(search).items())


def test_build_timeline_and_mrr(busy_account):
    with db.session() as session:
        timeline = journey.build_timeline(session, JourneyQuery(busy_account), scope=EVERYTHING, policy=FULL)
        mrr = journey.build_mrr(session, JourneyQuery(busy_account, period=365), scope=EVERYTHING, policy=FULL)
        gone = journey.build_timeline(session, JourneyQuery("no-such-account"), scope=EVERYTHING, policy=FULL)
    rendered = json.dumps(timeline.to_plotly_json(), default=lambda o: o.to_plotly_json())
    assert "c360-event" in rendered and "Open ticket" in rendered
    assert "not-found-page" in json.dumps(gone.to_plotly_json(), default=lambda o: o.to_plotly_json())
    figures = _figures(json.loads(json.dumps(mrr.to_plotly_json(), default=lambda o: o.to_plotly_json())))
    if figures:  # the customer had MRR in the year
        waterfall = figures[0]["data"][0]
        assert waterfall["type"] == "waterfall"
        assert sum(waterfall["y"][:-1]) == pytest.approx(waterfall["y"][-1], abs=1e-6)


def test_ticket_side_panel(busy_account):
    ticket_id = _one(f"""SELECT substr(event_id, 8) FROM gold.timeline_events
                         WHERE customer_id = '{busy_account}' AND event_id LIKE 'ticket:%' LIMIT 1""")
    with db.session() as session:
        title, body = journey.build_detail(session, busy_account, "ticket", ticket_id, scope=EVERYTHING, policy=FULL)
        _, missing = journey.build_detail(session, busy_account, "ticket", "nope", scope=EVERYTHING, policy=FULL)
    assert title == f"Ticket {ticket_id}" and body.id == "aj-ticket-detail"
    assert journey.GONE in json.dumps(missing.to_plotly_json(), default=lambda o: o.to_plotly_json())


def test_pages_answer_404_outside_the_scope(app, login_as, busy_account):
    executive = login_as("executive")  # unrestricted
    assert JourneyIds.PAGE in page_layout(executive, app, f"/accounts/{busy_account}/journey").get_data(as_text=True)
    assert PeopleIds.PAGE in page_layout(executive, app, f"/accounts/{busy_account}/people").get_data(as_text=True)
    unknown = page_layout(executive, app, "/accounts/no-such-account/journey").get_data(as_text=True)
    assert "not-found-page" in unknown and JourneyIds.PAGE not in unknown
    manager = login_as("account_manager")  # no book and nothing assigned: sees nothing
    for suffix in ("journey", "people"):
        body = page_layout(manager, app, f"/accounts/{busy_account}/{suffix}").get_data(as_text=True)
        assert "not-found-page" in body


def test_contacts_masked_for_a_role_without_view_pii(app, login_as, insights_ran):  # noqa: F811
    account_id = _one("""SELECT c.account_id FROM gold.contact_engagement c GROUP BY 1
                         ORDER BY count(*) DESC, 1 LIMIT 1""")
    state = {f"{PeopleIds.STATE}.data": {"account_id": account_id}}
    masked = post_callback(login_as("executive"), app, f"{PeopleIds.CONTACTS}.children", state)
    plain = post_callback(login_as("billing"), app, f"{PeopleIds.CONTACTS}.children", state)
    assert masked.status_code == plain.status_code == 200
    masked_text = json.dumps(response_outputs(masked))
    plain_text = json.dumps(response_outputs(plain))
    assert "***@" in masked_text and "***@" not in plain_text
    with db.session() as session:
        email = session.scalar(text("""SELECT c.email FROM silver.contacts c JOIN silver.account_master a
                                       ON a.account_id = c.account_id WHERE a.master_account_id = :a
                                       AND c.email IS NOT NULL LIMIT 1"""), {"a": account_id})
    assert email and email not in masked_text


def test_link_needs_manage_users_and_is_recorded_and_audited(app, login_as, insights_ran):  # noqa: F811
    master, other = (_one(sql) for sql in (
        "SELECT master_account_id FROM silver.account_master WHERE account_id = master_account_id ORDER BY 1 LIMIT 1",
        """SELECT b.account_id FROM silver.account_master b WHERE b.master_account_id <> (
               SELECT master_account_id FROM silver.account_master WHERE account_id = master_account_id
               ORDER BY 1 LIMIT 1) ORDER BY 1 LIMIT 1"""))
    values = {f"{PeopleIds.LINK_BUTTON}.n_clicks": 1, f"{PeopleIds.LINK_INPUT}.value": other,
              f"{PeopleIds.STATE}.data": {"account_id": master}, f"{PeopleIds.LINK_CHANGED}.data": 0}
    try:
        refused = post_callback(login_as("account_manager"), app, f"{PeopleIds.LINK_MESSAGE}.children", values,
                                changed=f"{PeopleIds.LINK_BUTTON}.n_clicks")
        assert refused.status_code == 403
        with db.session() as session:
            assert session.scalar(select(AccountLinkOverride.id).where(AccountLinkOverride.account_id_a.in_(
                (master, other)))) is None
        done = post_callback(login_as("admin"), app, f"{PeopleIds.LINK_MESSAGE}.children", values,
                             changed=f"{PeopleIds.LINK_BUTTON}.n_clicks")
        assert done.status_code == 200
        outputs = response_outputs(done)
        assert outputs[f"{PeopleIds.LINK_CHANGED}.data"] == 1
        assert "next data refresh" in json.dumps(outputs)
        with db.session() as session:
            stored = session.execute(select(AccountLinkOverride.action, AccountLinkOverride.created_by).where(
                AccountLinkOverride.account_id_a == min(master, other),
                AccountLinkOverride.account_id_b == max(master, other))).all()
            audited = session.scalar(select(AuditEvent.detail).where(
                AuditEvent.action == "account_link_override", AuditEvent.target == f"account:{master}")
                .order_by(AuditEvent.id.desc()).limit(1))
        assert [tuple(r) for r in stored] == [("link", "admin@test.client360.dev")]
        assert audited == {"action": "link", "other_account_id": other}
    finally:
        with db.begin() as session:  # the next identity run must not apply the test's link
            session.execute(delete(AccountLinkOverride).where(AccountLinkOverride.account_id_a.in_((master, other))))


def test_people_panels_built_directly(insights_ran):  # noqa: F811
    account_id = _one("""SELECT master_account_id FROM silver.account_master GROUP BY 1
                         ORDER BY count(*) DESC, 1 LIMIT 1""")
    with db.session() as session:
        admin = people.build_linked(session, account_id, scope=EVERYTHING, may_link=True)
        viewer = people.build_linked(session, account_id, scope=EVERYTHING, may_link=False)
        panels = people.build_feedback(session, account_id, scope=EVERYTHING, policy=FULL)

    def rendered(component: object) -> str:
        return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json())

    assert PeopleIds.UNLINK in rendered(admin) and PeopleIds.UNLINK not in rendered(viewer)
    assert set(panels) == {"summary", "sentiment", "feedback", "topics"}
